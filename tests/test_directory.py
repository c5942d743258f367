"""Directory rules: structures, services, merge, proposals, import and export (no web)."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from survey import directory as d
from survey.models import (
    DeclaredLink,
    LinkTag,
    Organisation,
    Professional,
    Response,
    Service,
)
from survey.tabular import read_table, write_csv, write_xlsx
from tests.factories import build_world

VALID_SIRET = "73282932000074"
OTHER_SIRET = "13000000000013"


def _count(session, model, *where) -> int:
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


# --- SIRET and types -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "siret, ok",
    [
        (VALID_SIRET, True),
        (OTHER_SIRET, True),
        ("73282932000075", False),
        ("7328293200007", False),
        ("7328293200007a", False),
        ("35600000000048", False),
        ("35600000049837", True),  # La Poste: sum of digits divisible by 5
    ],
)
def test_siret_luhn_check(siret, ok):
    assert d.siret_is_valid(siret) is ok


def test_type_accepts_code_or_label():
    assert d.org_type_code("caf") == "caf"
    assert d.org_type_code("CAF") == "caf"
    assert d.org_type_code("MSA") == "mutualite-sociale-agricole"
    assert d.org_type_code("ccas / cias") == "ccas-cias"
    assert d.org_type_code("Boulangerie") is None


# --- create, edit, archive -----------------------------------------------------------------


def test_create_structure_cleans_and_checks(session):
    w = build_world(session)
    org = d.create_structure(
        session,
        w.territory.id,
        d.StructureData(
            name="  Mission   locale ", type="mission-locale", siret="732 829 320 00074"
        ),
    )
    session.commit()
    assert (org.name, org.siret, org.status) == ("Mission locale", VALID_SIRET, "active")

    with pytest.raises(d.Invalid) as exc:
        d.create_structure(
            session,
            w.territory.id,
            d.StructureData(name="ccas de gueret", type="boulangerie", siret="73282932000075"),
        )
    assert "CCAS de Guéret" in exc.value.errors["name"]
    assert exc.value.errors["type"] == "Choisissez un type de structure dans la liste."
    assert "pas valide" in exc.value.errors["siret"]

    with pytest.raises(d.Invalid) as exc:
        d.create_structure(
            session, w.territory.id, d.StructureData(name="", type="caf", siret="12")
        )
    assert exc.value.errors["name"] == "Indiquez le nom de la structure."
    assert "14 chiffres" in exc.value.errors["siret"]

    with pytest.raises(d.Invalid) as exc:
        d.create_structure(
            session, w.territory.id, d.StructureData(name="Autre", type="caf", siret=VALID_SIRET)
        )
    assert "Mission locale" in exc.value.errors["siret"]


def test_same_name_allowed_in_another_territory(session):
    w = build_world(session)
    org = d.create_structure(
        session, w.other_territory.id, d.StructureData(name="CCAS de Guéret", type="ccas-cias")
    )
    assert org.territory_id == w.other_territory.id


def test_update_keeps_own_name_and_siret(session):
    w = build_world(session)
    caf = w.orgs["caf"]
    caf.siret = VALID_SIRET
    session.commit()
    d.update_structure(
        session,
        caf,
        d.StructureData(
            name="CAF de la Creuse", type="caf", siret=VALID_SIRET, missions="Prestations"
        ),
    )
    session.commit()
    assert session.get(Organisation, caf.id).missions == "Prestations"


def test_archive_refused_while_active_professionals_then_restore(session):
    w = build_world(session)
    with pytest.raises(d.Refused) as exc:
        d.archive_structure(session, w.orgs["caf"])
    assert "1 professionnel" in exc.value.message
    d.archive_structure(session, w.orgs["msa"])
    session.commit()
    assert session.get(Organisation, w.orgs["msa"].id).status == "archived"
    assert "MSA du Limousin" not in [
        c.organisation.name for g in d.partner_groups(session, w.territory.id) for c in g.choices
    ]
    d.restore_structure(session, w.orgs["msa"])
    assert w.orgs["msa"].status == "active"
    with pytest.raises(d.Refused):
        d.restore_structure(session, w.orgs["msa"])


def test_list_structures_search_is_accent_insensitive_and_counts(session):
    w = build_world(session)
    rows = d.list_structures(session, w.territory.id, q="gueret ccas")
    assert [r.organisation.name for r in rows] == ["CCAS de Guéret"]
    assert rows[0].professionals == 1
    rows = d.list_structures(session, w.territory.id, type="siao")
    assert rows[0].services == 2 and rows[0].mentions == 1
    names = [r.organisation.name for r in d.list_structures(session, w.territory.id)]
    assert "Ancienne association" not in names and "CAF de la Corrèze" not in names
    assert len(names) == 4


def test_services_add_edit_archive(session):
    w = build_world(session)
    siao = w.orgs["siao"]
    svc = d.add_service(
        session,
        siao,
        d.ServiceData(name="Accueil de nuit", contact_name="Eva", contact_email="eva@siao.fr",
                      contact_consent=True),
    )  # fmt: skip
    with pytest.raises(d.Invalid) as exc:
        d.add_service(
            session, siao, d.ServiceData(name="centre de JOUR", contact_email="pas-un-mail")
        )
    assert exc.value.errors["name"] == "Cette structure a déjà un service de ce nom."
    assert "n'est pas valide" in exc.value.errors["contact_email"]
    with pytest.raises(d.Invalid) as exc:
        d.update_service(session, svc, d.ServiceData(name="Accueil de nuit", contact_consent=True))
    assert "contact_consent" in exc.value.errors
    d.archive_service(session, svc)
    session.commit()
    assert session.get(Service, svc.id).active is False


# --- merge ---------------------------------------------------------------------------------


def _duplicate_caf(session, w):
    """A second CAF entry with a service of the same name, a professional, a response and
    links — including a response (Alice 2025) that named both CAFs."""
    caf = w.orgs["caf"]
    dup = Organisation(territory_id=w.territory.id, name="CAF Creuse", type="caf",
                       missions="Prestations familiales", status="proposed")  # fmt: skip
    session.add(dup)
    session.flush()
    caf_accueil = Service(organisation_id=caf.id, name="Accueil")
    dup_accueil = Service(organisation_id=dup.id, name="accueil", contact_name="Fanny",
                          contact_phone="05 55 00 00 00", contact_consent=True)  # fmt: skip
    dup_presta = Service(organisation_id=dup.id, name="Prestations")
    session.add_all([caf_accueil, dup_accueil, dup_presta])
    session.flush()
    denis = Professional(territory_id=w.territory.id, full_name="Denis Roy", email="denis@caf.fr",
                         organisation_id=dup.id, service_id=dup_accueil.id)  # fmt: skip
    session.add(denis)
    session.flush()
    denis_resp = Response(campaign_id=w.this_year.id, professional_id=denis.id,
                          organisation_id=dup.id, service_id=dup_accueil.id,
                          questionnaire_version="2026.1")  # fmt: skip
    session.add(denis_resp)
    session.flush()
    alice_2025 = session.exec(
        select(Response).where(Response.professional_id == w.pros["alice"].id)
    ).one()
    dup_link = DeclaredLink(response_id=alice_2025.id, position=3, partner_organisation_id=dup.id,
                            status="new", nature="informal", frequency="weekly",
                            practice_other="permanence commune")  # fmt: skip
    presta_link = DeclaredLink(response_id=denis_resp.id, position=0,
                               partner_organisation_id=dup.id, partner_service_id=dup_presta.id,
                               nature="formal")  # fmt: skip
    accueil_link = DeclaredLink(response_id=denis_resp.id, position=1,
                                partner_organisation_id=w.orgs["siao"].id)  # fmt: skip
    session.add_all([dup_link, presta_link, accueil_link])
    session.flush()
    session.add_all([
        LinkTag(link_id=dup_link.id, kind="channel", code="phone"),
        LinkTag(link_id=dup_link.id, kind="practice", code="referral"),
        LinkTag(link_id=dup_link.id, kind="practice", code="rights_access"),
    ])  # fmt: skip
    # A 2026 draft carried forward from the link that will be dropped.
    alice_2026 = Response(campaign_id=w.this_year.id, professional_id=w.pros["alice"].id,
                          organisation_id=w.orgs["ccas"].id, questionnaire_version="2026.1")  # fmt: skip
    session.add(alice_2026)
    session.flush()
    carried = DeclaredLink(response_id=alice_2026.id, partner_organisation_id=dup.id,
                           status="pending", carried_from_id=dup_link.id)  # fmt: skip
    session.add(carried)
    session.commit()
    return dup, caf_accueil, dup_accueil, dup_presta, denis, alice_2025, carried


def test_merge_repoints_everything_and_loses_nothing(session):
    w = build_world(session)
    caf = w.orgs["caf"]
    dup, caf_accueil, dup_accueil, dup_presta, denis, alice_2025, carried = _duplicate_caf(
        session, w
    )
    links_before = _count(session, DeclaredLink)
    naming_before = _count(
        session, DeclaredLink, DeclaredLink.partner_organisation_id.in_([caf.id, dup.id])
    )
    pros_before = _count(session, Professional, Professional.organisation_id.in_([caf.id, dup.id]))
    resp_before = _count(session, Response, Response.organisation_id.in_([caf.id, dup.id]))
    tags_caf_link = {
        (t.kind, t.code)
        for t in session.exec(
            select(LinkTag)
            .join(DeclaredLink, DeclaredLink.id == LinkTag.link_id)
            .where(DeclaredLink.response_id == alice_2025.id)
            .where(DeclaredLink.partner_organisation_id.in_([caf.id, dup.id]))
        )
    }

    report = d.merge_structures(session, dup, caf)
    session.commit()

    assert report.links_collapsed == 1
    assert report.services_mapped == 1 and report.services_moved == 1
    # Nothing points at the absorbed structure any more.
    for model, column in (
        (Professional, Professional.organisation_id),
        (Response, Response.organisation_id),
        (DeclaredLink, DeclaredLink.partner_organisation_id),
    ):
        assert _count(session, model, column == dup.id) == 0
    assert _count(session, DeclaredLink) == links_before - 1
    assert _count(session, DeclaredLink, DeclaredLink.partner_organisation_id == caf.id) == (
        naming_before - 1
    )
    assert _count(session, Professional, Professional.organisation_id == caf.id) == pros_before
    assert _count(session, Response, Response.organisation_id == caf.id) == resp_before

    # Alice's 2025 response names the CAF once, with everything both links said.
    kept = session.exec(
        select(DeclaredLink).where(
            DeclaredLink.response_id == alice_2025.id,
            DeclaredLink.partner_organisation_id == caf.id,
        )
    ).one()
    assert kept.nature == "both"
    assert (kept.frequency, kept.quality) == ("monthly", 3)  # the richer (formal) link was kept
    assert kept.practice_other == "permanence commune"
    kept_tags = {
        (t.kind, t.code) for t in session.exec(select(LinkTag).where(LinkTag.link_id == kept.id))
    }
    assert kept_tags == tags_caf_link
    assert {("frame", "agreement"), ("channel", "phone"), ("practice", "referral")} <= kept_tags
    assert session.get(DeclaredLink, carried.id).carried_from_id == kept.id

    # Services: same name mapped (contact handed over), the other moved.
    denis = session.get(Professional, denis.id)
    assert (denis.organisation_id, denis.service_id) == (caf.id, caf_accueil.id)
    assert session.get(Service, caf_accueil.id).contact_name == "Fanny"
    assert session.get(Service, dup_accueil.id).active is False
    assert session.get(Service, dup_presta.id).organisation_id == caf.id
    presta_link = session.exec(
        select(DeclaredLink).where(DeclaredLink.partner_service_id == dup_presta.id)
    ).one()
    assert presta_link.partner_organisation_id == caf.id
    assert (
        session.exec(select(Response).where(Response.professional_id == denis.id)).one().service_id
        == caf_accueil.id
    )

    dup = session.get(Organisation, dup.id)
    caf = session.get(Organisation, caf.id)
    assert (dup.status, dup.merged_into_id) == ("merged", caf.id)
    assert caf.missions == "Prestations familiales"

    # No response names the same (partner, service) twice.
    dupes = session.exec(
        select(DeclaredLink.response_id, DeclaredLink.partner_organisation_id,
               DeclaredLink.partner_service_id, func.count())
        .group_by(DeclaredLink.response_id, DeclaredLink.partner_organisation_id,
                  DeclaredLink.partner_service_id)
        .having(func.count() > 1)
    ).all()  # fmt: skip
    assert dupes == []


def test_merge_keeps_the_active_link_over_an_ended_one(session):
    w = build_world(session)
    msa, alice_2025 = w.orgs["msa"], None
    dup = Organisation(
        territory_id=w.territory.id, name="MSA Limousin (Guéret)", type="mutualite-sociale-agricole"
    )
    session.add(dup)
    session.flush()
    alice_2025 = session.exec(
        select(Response).where(Response.professional_id == w.pros["alice"].id)
    ).one()
    link = DeclaredLink(response_id=alice_2025.id, position=5, partner_organisation_id=dup.id,
                        status="confirmed", nature="informal")  # fmt: skip
    session.add(link)
    session.commit()
    d.merge_structures(session, dup, msa)
    session.commit()
    kept = session.exec(
        select(DeclaredLink).where(
            DeclaredLink.response_id == alice_2025.id,
            DeclaredLink.partner_organisation_id == msa.id,
        )
    ).one()
    assert kept.id == link.id and kept.status == "confirmed"
    assert kept.frequency == "occasional"  # filled from the dropped, ended link


def test_merge_across_territories_and_other_misuses_refused(session):
    w = build_world(session)
    with pytest.raises(d.Refused) as exc:
        d.merge_structures(session, w.foreign_org, w.orgs["caf"])
    assert "même territoire" in exc.value.message
    with pytest.raises(d.Refused):
        d.merge_structures(session, w.orgs["caf"], w.orgs["caf"])
    with pytest.raises(d.Refused) as exc:
        d.merge_structures(session, w.orgs["caf"], w.orgs["old"])
    assert "active" in exc.value.message
    session.rollback()
    assert session.get(Organisation, w.foreign_org.id).status == "active"


def test_merge_chain_points_earlier_merges_at_the_final_target(session):
    w = build_world(session)
    a = d.create_structure(session, w.territory.id, d.StructureData(name="SIAO 23", type="siao"))
    b = d.create_structure(
        session, w.territory.id, d.StructureData(name="SIAO Creuse", type="siao")
    )
    d.merge_structures(session, a, b)
    d.merge_structures(session, b, w.orgs["siao"])
    session.commit()
    assert session.get(Organisation, a.id).merged_into_id == w.orgs["siao"].id


# --- proposals -----------------------------------------------------------------------------


def test_confirm_or_merge_proposed_structures(session):
    w = build_world(session)
    p1 = Organisation(territory_id=w.territory.id, name="Secours pop Gueret", type="autre",
                      status="proposed", proposed_by_id=w.pros["alice"].id)  # fmt: skip
    p2 = Organisation(territory_id=w.territory.id, name="Caf 23", type="caf", status="proposed")
    session.add_all([p1, p2])
    session.commit()
    assert [r.organisation.name for r in d.proposed_structures(session, w.territory.id)] == [
        "Caf 23",
        "Secours pop Gueret",
    ]
    d.confirm_structure(
        session, p1, d.StructureData(name="Secours populaire de Guéret", type="secours-populaire")
    )
    assert (p1.status, p1.name) == ("active", "Secours populaire de Guéret")
    candidates = d.merge_candidates(session, p2)
    assert candidates[0].name == "CAF de la Creuse"
    d.merge_structures(session, p2, candidates[0])
    session.commit()
    assert d.proposed_structures(session, w.territory.id) == []
    with pytest.raises(d.Refused):
        d.confirm_structure(session, p1, d.StructureData(name="X", type="caf"))


# --- import and export ---------------------------------------------------------------------


def _snapshot(session):
    return (
        sorted((o.name, o.type, o.commune, o.siret or "", o.missions, o.status)
               for o in session.exec(select(Organisation))),
        sorted((s.organisation_id, s.name) for s in session.exec(select(Service))),
    )  # fmt: skip


def test_import_with_one_bad_line_writes_nothing_then_fixed_file_is_written(session):
    w = build_world(session)
    before = _snapshot(session)
    csv_text = (
        "nom;type;commune;siret;missions;services\n"
        "Mission locale de la Creuse;mission-locale;Guéret;;Insertion des 16-25 ans;Accueil | Logement\n"
        "UDAF de la Creuse;UDAF;Guéret;73282932000075;Tutelles;\n"
        "SIAO de la Creuse;siao;Guéret;;Veille sociale;115 | Accueil de nuit\n"
    )
    table = read_table(csv_text.encode("cp1252"), "import.csv")
    preview = d.preview_structure_import(session, w.territory.id, table)
    assert not preview.ok
    assert [(line.line, line.errors) for line in preview.error_lines] == [
        (3, ["Ce SIRET n'est pas valide : vérifiez les chiffres."])
    ]
    assert [line.action for line in preview.lines] == ["create", "create", "update"]
    with pytest.raises(d.Refused):
        d.apply_structure_import(session, w.territory.id, table)
    session.rollback()
    assert _snapshot(session) == before

    fixed = read_table(
        csv_text.replace("73282932000075", VALID_SIRET).encode("cp1252"), "import.csv"
    )
    preview = d.apply_structure_import(session, w.territory.id, fixed)
    session.commit()
    assert (preview.count("create"), preview.count("update")) == (2, 1)
    ml = session.exec(
        select(Organisation).where(Organisation.name == "Mission locale de la Creuse")
    ).one()
    assert (ml.type, ml.missions) == ("mission-locale", "Insertion des 16-25 ans")
    udaf = session.exec(select(Organisation).where(Organisation.name == "UDAF de la Creuse")).one()
    assert (udaf.type, udaf.siret) == ("udaf", VALID_SIRET)
    siao_services = sorted(
        s.name
        for s in session.exec(select(Service).where(Service.organisation_id == w.orgs["siao"].id))
    )
    assert siao_services == ["115", "Accueil de nuit", "Centre de jour"]  # added, none removed
    assert session.get(Organisation, w.orgs["siao"].id).missions == "Veille sociale"


def test_import_reports_every_kind_of_line_error(session):
    w = build_world(session)
    table = read_table(
        (
            b"Nom,Type,SIRET\n"
            b",caf,\n"
            b"Boulangerie,boulangerie,\n"
            b"Nouvelle structure,caf,\n"
            b"nouvelle  STRUCTURE,caf,\n"
            b"A,caf,13000000000013\n"
            b"B,caf,130 000 000 000 13\n"
        ),
        "x.csv",
    )
    preview = d.preview_structure_import(session, w.territory.id, table)
    errors = {line.line: line.errors for line in preview.lines}
    assert errors[2] == ["Indiquez le nom de la structure."]
    assert errors[3] == ["Type « boulangerie » inconnu : voir la liste des types."]
    assert errors[4] == []
    assert errors[5] == ["Cette structure figure déjà ligne 4."]
    assert errors[6] == []
    assert errors[7] == ["Ce SIRET figure déjà ligne 6."]


def test_import_without_name_column_is_a_file_error(session):
    w = build_world(session)
    preview = d.preview_structure_import(
        session, w.territory.id, read_table(b"a;b\n1;2\n", "x.csv")
    )
    assert not preview.ok and "nom" in preview.file_errors[0]


@pytest.mark.parametrize("fmt", ["csv", "csv_fr", "xlsx"])
def test_export_then_import_round_trip_changes_nothing(session, fmt):
    w = build_world(session)
    w.orgs["caf"].siret = VALID_SIRET
    w.orgs["caf"].missions = "=Prestations ; accès aux droits\nLigne 2"
    session.commit()
    headers, rows = d.export_structures(session, w.territory.id)
    assert headers == ["nom", "type", "commune", "siret", "missions", "services"]
    assert ["SIAO de la Creuse", "siao", "Guéret", "", "", "115 | Centre de jour"] in rows
    assert "Ancienne association" not in [r[0] for r in rows]
    if fmt == "xlsx":
        data, name = write_xlsx(headers, rows), "repertoire.xlsx"
    else:
        data, name = write_csv(headers, rows, excel_fr=fmt == "csv_fr"), "repertoire.csv"
    before = _snapshot(session)
    preview = d.apply_structure_import(session, w.territory.id, read_table(data, name))
    session.commit()
    assert preview.count("update") == 4 and preview.count("create") == 0
    assert _snapshot(session) == before

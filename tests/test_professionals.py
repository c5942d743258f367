"""Professionals: add, edit, leave the post, succession, import with preview, export."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from survey import professionals as p
from survey.directory import Invalid, Refused
from survey.models import Professional, Response
from survey.questionnaire import load_respondent, previous_response
from survey.tabular import read_table, write_csv, write_xlsx
from tests.factories import build_world


def _pros(session) -> list[tuple]:
    return sorted(
        (x.full_name, x.email, x.organisation_id, x.service_id, x.function, x.active)
        for x in session.exec(select(Professional))
    )


def test_add_and_edit_with_french_messages(session):
    w = build_world(session)
    pro = p.add_professional(
        session,
        w.territory.id,
        p.ProfessionalData(full_name=" Eva  Durand ", email="eva@siao.fr", function="Écoutante",
                           organisation_id=w.orgs["siao"].id, service_id=w.services["siao115"].id),
    )  # fmt: skip
    session.commit()
    assert pro.full_name == "Eva Durand" and pro.territory_id == w.territory.id

    with pytest.raises(Invalid) as exc:
        p.add_professional(
            session,
            w.territory.id,
            p.ProfessionalData(full_name="", email="EVA@siao.fr", organisation_id=w.foreign_org.id),
        )
    assert exc.value.errors == {
        "full_name": "Indiquez le nom de la personne.",
        "email": "Cette adresse est déjà celle de Eva Durand.",
        "organisation_id": "Choisissez la structure dans le répertoire.",
    }
    with pytest.raises(Invalid) as exc:
        p.update_professional(
            session,
            pro,
            p.ProfessionalData(full_name="Eva Durand", email="eva@", organisation_id=w.orgs["caf"].id,
                               service_id=w.services["siao115"].id),
        )  # fmt: skip
    assert set(exc.value.errors) == {"email", "service_id"}
    p.update_professional(
        session,
        pro,
        p.ProfessionalData(
            full_name="Eva Durand", email="eva@caf.fr", organisation_id=w.orgs["caf"].id
        ),
    )
    session.commit()
    assert (pro.organisation_id, pro.service_id) == (w.orgs["caf"].id, None)


def test_leaving_keeps_past_answers_and_successor_inherits_partners(session):
    w = build_world(session)
    alice = w.pros["alice"]
    from survey import links

    assert links.find(session, w.tokens["alice"]) is not None
    p.deactivate(session, alice)
    session.commit()
    # The link of the open campaign stops working once the person has left the post.
    assert links.find(session, w.tokens["alice"]) is None
    with pytest.raises(Refused):
        p.deactivate(session, alice)
    eva = p.add_professional(
        session,
        w.territory.id,
        p.ProfessionalData(full_name="Eva Durand", email="eva@ccas.fr",
                           organisation_id=w.orgs["ccas"].id, took_over_from_id=alice.id),
    )  # fmt: skip
    session.commit()
    # Alice's 2025 answer is still there and still hers.
    assert (
        session.exec(
            select(func.count()).select_from(Response).where(Response.professional_id == alice.id)
        ).one()
        == 1
    )
    assert [r.professional.full_name for r in p.list_professionals(session, w.territory.id)] == [
        "Bruno Petit",
        "Eva Durand",
    ]
    rows = p.list_professionals(session, w.territory.id, active=False)
    assert [r.professional.full_name for r in rows] == ["Alice Martin"]
    # The newcomer's questionnaire starts from the predecessor's partners.
    from tests.conftest import TEST_SECRET

    token = links.issue(session, TEST_SECRET, w.this_year, eva)
    session.commit()
    r = load_respondent(session, links.find(session, token))
    assert previous_response(session, r).professional_id == alice.id

    p.reactivate(session, alice)
    assert alice.active


def test_succession_rules(session):
    w = build_world(session)
    alice, bruno, chloe = w.pros["alice"], w.pros["bruno"], w.pros["chloe"]
    p.set_took_over_from(session, bruno, alice.id)
    with pytest.raises(Invalid) as exc:
        p.set_took_over_from(session, alice, bruno.id)
    assert "boucle" in exc.value.errors["took_over_from_id"]
    with pytest.raises(Invalid) as exc:
        p.set_took_over_from(session, alice, alice.id)
    assert "elle-même" in exc.value.errors["took_over_from_id"]
    with pytest.raises(Invalid) as exc:
        p.set_took_over_from(session, alice, chloe.id)  # another territory
    assert "territoire" in exc.value.errors["took_over_from_id"]
    p.set_took_over_from(session, bruno, None)
    assert bruno.took_over_from_id is None


def test_search_is_accent_insensitive(session):
    w = build_world(session)
    rows = p.list_professionals(session, w.territory.id, q="gueret conseillere")
    assert [r.professional.full_name for r in rows] == ["Alice Martin"]
    assert p.list_professionals(session, w.territory.id, q="chloe") == []  # other territory


IMPORT_HEADER = "Nom;E-mail;Structure;Service;Fonction\r\n"


def test_import_with_errors_lists_them_line_by_line_and_writes_nothing(session):
    w = build_world(session)
    before = _pros(session)
    text = IMPORT_HEADER + (
        "Eva Durand;eva@siao.fr;SIAO de la Creuse;115;Écoutante\r\n"
        "Franck Morel;franck@caf;CAF de la Creuse;;Technicien\r\n"
        "Gaëlle Faure;gaelle@ccas.fr;CCAS Gueret;;CESF\r\n"
        ";sans-nom@ccas.fr;CCAS de Guéret;;\r\n"
        "Hugo Blanc;EVA@siao.fr;MSA du Limousin;;\r\n"
        "Inès Roy;alice@example.org;CCAS de Guéret;;\r\n"
        "Jules Noir;jules@siao.fr;SIAO de la Creuse;Accueil de jour;\r\n"
        "Karim Aït;karim@x.fr;Préfecture;;\r\n"
        "Léa Vert;lea@x.fr;CAF de la Corrèze;;\r\n"
    )
    table = read_table(text.encode("cp1252"), "pros.csv", aliases=p.PRO_ALIASES)
    preview = p.preview_professional_import(session, w.territory.id, table)
    errors = {line.line: line.errors for line in preview.lines}
    assert errors[2] == []
    assert errors[3] == ["Adresse e-mail « franck@caf » non valide."]
    assert errors[4] == [
        "Structure « CCAS Gueret » inconnue : vouliez-vous dire « CCAS de Guéret » ?"
    ]
    assert errors[5] == ["Nom manquant."]
    assert errors[6] == ["Adresse e-mail déjà présente ligne 2."]
    assert errors[7] == ["Adresse e-mail déjà enregistrée pour Alice Martin."]
    assert errors[8] == [
        "Service « Accueil de jour » inconnu : vouliez-vous dire « Centre de jour » ?"
    ]
    assert errors[9] == ["Structure « Préfecture » inconnue : ajoutez-la d'abord au répertoire."]
    # Another territory's structure is unknown here (and not suggested).
    assert errors[10][0].startswith("Structure « CAF de la Corrèze » inconnue")
    assert "Corrèze" not in errors[10][0].split(":", 1)[1]
    assert not preview.ok
    with pytest.raises(Refused):
        p.apply_professional_import(session, w.territory.id, table)
    session.rollback()
    assert _pros(session) == before


def test_fixed_import_is_written_in_one_go(session):
    w = build_world(session)
    text = IMPORT_HEADER + (
        "Eva Durand;eva@siao.fr;siao de la creuse;115;Écoutante\r\n"
        "Franck Morel;franck@caf.fr;CAF de la Creuse;;Technicien\r\n"
    )
    table = read_table(text.encode("cp1252"), "pros.csv", aliases=p.PRO_ALIASES)
    preview = p.apply_professional_import(session, w.territory.id, table)
    session.commit()
    assert preview.count("create") == 2
    eva = session.exec(select(Professional).where(Professional.email == "eva@siao.fr")).one()
    assert (eva.organisation_id, eva.service_id, eva.function, eva.territory_id) == (
        w.orgs["siao"].id,
        w.services["siao115"].id,
        "Écoutante",
        w.territory.id,
    )


def test_import_missing_columns(session):
    w = build_world(session)
    table = read_table(b"nom;fonction\nA;B\n", "x.csv", aliases=p.PRO_ALIASES)
    preview = p.preview_professional_import(session, w.territory.id, table)
    assert preview.file_errors and "« email », « structure »" in preview.file_errors[0]


@pytest.mark.parametrize("fmt", ["csv_fr", "xlsx"])
def test_export_reads_back(session, fmt):
    w = build_world(session)
    p.set_took_over_from(session, w.pros["bruno"], w.pros["alice"].id)
    p.deactivate(session, w.pros["alice"])
    session.commit()
    headers, rows = p.export_professionals(session, w.territory.id)
    assert rows == [
        ["Alice Martin", "alice@example.org", "CCAS de Guéret", "", "Conseillère", "non", ""],
        ["Bruno Petit", "bruno@example.org", "CAF de la Creuse", "", "Assistant social", "oui",
         "Alice Martin"],
    ]  # fmt: skip
    data = write_xlsx(headers, rows) if fmt == "xlsx" else write_csv(headers, rows, excel_fr=True)
    table = read_table(data, f"x.{'xlsx' if fmt == 'xlsx' else 'csv'}", aliases=p.PRO_ALIASES)
    assert [r["nom"] for r in table.rows] == ["Alice Martin", "Bruno Petit"]
    # Importing the export again: everyone is already known, nothing would be added.
    preview = p.preview_professional_import(session, w.territory.id, table)
    assert all("déjà enregistrée" in line.errors[0] for line in preview.lines)

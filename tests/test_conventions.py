"""Official partnerships (conventions): the rules, the pages, the import and export.

The territory is tests.factories' Creuse miniature: CAF de la Creuse, CCAS de Guéret, SIAO
de la Creuse, MSA du Limousin (active), « Ancienne association » (archived), and the
Corrèze next door with its own CAF.
"""

from __future__ import annotations

import html
import io
import re
from datetime import date

import pytest
from sqlmodel import Session, col, select

from survey import conventions as cv
from survey.directory import Invalid, Refused
from survey.models import Convention, ConventionParty, Organisation
from survey.tabular import Table, read_table
from tests.accounts_helpers import audit_details, login_as, post_form
from tests.factories import build_world


def T(response) -> str:
    """The page text with HTML entities decoded."""
    return html.unescape(response.text)


def _table(text: str) -> Table:
    return read_table(text.encode(), "conventions.csv", cv.CONVENTION_ALIASES)


def _conventions(
    session: Session, territory_id: int
) -> list[tuple[str, str, date, date | None, set[str]]]:
    """(kind, title, start, end, party names) of every convention of the territory."""
    session.expire_all()
    out = []
    for c in session.exec(select(Convention).where(Convention.territory_id == territory_id)):
        names = {o.name for o in cv.parties_of(session, c)}
        out.append((c.kind, c.title, c.starts_on, c.ends_on, names))
    return sorted(out, key=lambda r: (r[2], r[1]))


# --- the rules -----------------------------------------------------------------------------


@pytest.fixture
def w(session):
    world = build_world(session)
    session.commit()
    return world


def _data(w, *keys: str, **fields) -> cv.ConventionData:
    return cv.ConventionData(parties=[w.orgs[k].id for k in keys], **fields)


def test_dates_are_read_the_french_way_or_iso():
    assert cv.parse_date("01/09/2025") == date(2025, 9, 1)
    assert cv.parse_date("1/9/2025") == date(2025, 9, 1)
    assert cv.parse_date("2025-09-01") == date(2025, 9, 1)
    assert cv.parse_date("2025-09-01T00:00:00") == date(2025, 9, 1)  # an .xlsx date cell
    for bad in ("31/02/2025", "2025/09/01", "septembre 2025", "", "01-09-2025"):
        assert cv.parse_date(bad) is None, bad
    assert cv.format_date(date(2025, 9, 1)) == "01/09/2025"


def test_create_stores_kind_dates_and_parties(session, w):
    data = _data(w, "caf", "ccas", kind="protocole", title="  Accès  aux droits ",
                 reference="P-12", starts_on="01/09/2025", ends_on="2027-08-31")  # fmt: skip
    created = cv.create_convention(session, w.territory.id, data)
    session.commit()
    assert (created.kind, created.title, created.reference) == (
        "protocole",
        "Accès aux droits",
        "P-12",
    )
    assert (created.starts_on, created.ends_on, created.active) == (
        date(2025, 9, 1),
        date(2027, 8, 31),
        True,
    )
    assert [o.name for o in cv.parties_of(session, created)] == [
        "CAF de la Creuse",
        "CCAS de Guéret",
    ]
    rows = cv.list_conventions(session, w.territory.id)
    assert [(r.kind_label, len(r.parties)) for r in rows] == [("Protocole", 2)]
    assert cv.list_conventions(session, w.other_territory.id) == []


@pytest.mark.parametrize(
    "fields, keys, field, message",
    [
        ({"starts_on": "01/09/2025", "ends_on": "31/08/2025"}, ("caf", "ccas"), "ends_on",
         "La date de fin est avant la date de début."),
        ({"starts_on": ""}, ("caf", "ccas"), "starts_on", "Indiquez la date de début"),
        ({"starts_on": "32/01/2025"}, ("caf", "ccas"), "starts_on", "n'est pas une date"),
        ({"starts_on": "01/01/2025", "ends_on": "bientôt"}, ("caf", "ccas"), "ends_on",
         "La date de fin n'est pas une date"),
        ({"starts_on": "01/01/2025"}, ("caf",), "parties", "au moins deux structures"),
        ({"starts_on": "01/01/2025"}, ("caf", "old"), "parties",
         "« Ancienne association » n'est pas active"),
        ({"starts_on": "01/01/2025", "kind": "contrat"}, ("caf", "ccas"), "kind",
         "Choisissez le type d'accord"),
        ({"starts_on": "01/01/2025", "title": "x" * 201}, ("caf", "ccas"), "title", "trop long"),
    ],
)  # fmt: skip
def test_invalid_conventions_are_refused_in_french(session, w, fields, keys, field, message):
    with pytest.raises(Invalid) as caught:
        cv.create_convention(session, w.territory.id, _data(w, *keys, **fields))
    assert message in caught.value.errors[field]
    session.rollback()
    assert _conventions(session, w.territory.id) == []


def test_parties_of_another_territory_are_refused(session, w):
    data = cv.ConventionData(starts_on="01/01/2025", parties=[w.orgs["caf"].id, w.foreign_org.id])
    with pytest.raises(Invalid) as caught:
        cv.create_convention(session, w.territory.id, data)
    assert caught.value.errors == {
        "parties": "Une des structures choisies n'existe pas dans ce territoire."
    }


def test_a_merged_party_stands_for_its_absorber(session, w):
    twin = Organisation(territory_id=w.territory.id, name="C.A.F. 23", type="caf",
                        status="merged", merged_into_id=w.orgs["caf"].id)  # fmt: skip
    session.add(twin)
    session.commit()
    data = cv.ConventionData(starts_on="01/01/2025", parties=[twin.id, w.orgs["ccas"].id])
    created = cv.create_convention(session, w.territory.id, data)
    assert [o.name for o in cv.parties_of(session, created)] == [
        "CAF de la Creuse",
        "CCAS de Guéret",
    ]
    # Choosing both the merged one and its absorber names the same party twice.
    data.parties = [twin.id, w.orgs["caf"].id, w.orgs["ccas"].id]
    with pytest.raises(Invalid) as caught:
        cv.create_convention(session, w.territory.id, data)
    assert (
        caught.value.errors["parties"] == "« CAF de la Creuse » figure deux fois parmi les parties."
    )


def test_update_archive_and_restore(session, w):
    created = cv.create_convention(
        session, w.territory.id, _data(w, "caf", "ccas", starts_on="01/01/2025")
    )
    cv.update_convention(session, created, _data(w, "siao", "msa", "caf", kind="charte",
                                                 title="Charte", starts_on="2024-01-01"))  # fmt: skip
    session.commit()
    assert _conventions(session, w.territory.id) == [
        ("charte", "Charte", date(2024, 1, 1), None,
         {"CAF de la Creuse", "SIAO de la Creuse", "MSA du Limousin"}),
    ]  # fmt: skip
    form = cv.form_data(session, created)
    assert (form.starts_on, form.ends_on, len(form.parties)) == ("01/01/2024", "", 3)
    cv.archive_convention(session, created)
    assert cv.list_conventions(session, w.territory.id) == []
    assert len(cv.list_conventions(session, w.territory.id, active=False)) == 1
    with pytest.raises(Refused):
        cv.archive_convention(session, created)
    cv.restore_convention(session, created)
    assert created.active
    with pytest.raises(Refused):
        cv.restore_convention(session, created)


# --- import and export (domain) ------------------------------------------------------------

GOOD = (
    "type;intitulé;référence;début;fin;parties\n"
    "Convention;Accès aux droits;C-1;01/09/2025;;caf de la creuse | CCAS DE GUERET\n"
    "protocole;Hébergement d'urgence;;2024-01-01;31/12/2026;SIAO de la Creuse|CCAS de Guéret|MSA du Limousin\n"
)


def test_good_file_creates_then_updates(session, w):
    preview = cv.preview_convention_import(session, w.territory.id, _table(GOOD))
    assert preview.ok, [line.errors for line in preview.lines]
    assert [line.action for line in preview.lines] == ["create", "create"]
    assert cv.import_summary(preview) == "2 convention(s) à créer, 0 à mettre à jour."
    assert _conventions(session, w.territory.id) == []  # the preview writes nothing
    cv.apply_convention_import(session, w.territory.id, _table(GOOD))
    session.commit()
    assert _conventions(session, w.territory.id) == [
        ("protocole", "Hébergement d'urgence", date(2024, 1, 1), date(2026, 12, 31),
         {"SIAO de la Creuse", "CCAS de Guéret", "MSA du Limousin"}),
        ("convention", "Accès aux droits", date(2025, 9, 1), None,
         {"CAF de la Creuse", "CCAS de Guéret"}),
    ]  # fmt: skip
    # Same kind, parties (in another order) and start: the line updates the stored one.
    again = GOOD.replace("Accès aux droits;C-1", "Accès aux droits 2;C-2").replace(
        "caf de la creuse | CCAS DE GUERET", "CCAS de Guéret|CAF de la Creuse"
    )
    preview = cv.preview_convention_import(session, w.territory.id, _table(again))
    assert [line.action for line in preview.lines] == ["update", "update"]
    cv.apply_convention_import(session, w.territory.id, _table(again))
    session.commit()
    titles = [r[1] for r in _conventions(session, w.territory.id)]
    assert titles == ["Hébergement d'urgence", "Accès aux droits 2"]
    # The export imports back as two updates.
    headers, rows = cv.export_conventions(session, w.territory.id)
    assert headers == cv.CONVENTION_COLUMNS
    assert rows[0] == ["convention", "Accès aux droits 2", "C-2", "01/09/2025", "",
                       "CAF de la Creuse | CCAS de Guéret"]  # fmt: skip
    back = Table(headers=headers, rows=[dict(zip(headers, r, strict=True)) for r in rows],
                 line_numbers=[2, 3])  # fmt: skip
    assert [line.action for line in cv.preview_convention_import(session, w.territory.id, back).lines] == [
        "update", "update"]  # fmt: skip


@pytest.mark.parametrize(
    "line, message",
    [
        ("convention;;;01/01/2025;;CAF de la Creuse|CCAS de Gueret|Mission locale",
         "Structure inconnue : « Mission locale »."),
        ("convention;;;01/01/2025;;CAF de la Creuze|CCAS de Guéret",
         "Structure inconnue : « CAF de la Creuze ». Vouliez-vous dire « CAF de la Creuse » ?"),
        ("convention;;;01/01/2025;;CAF de la Creuse",
         "Une convention lie au moins deux structures"),
        ("convention;;;01/01/2025;;CAF de la Creuse|caf de la creuse",
         "« CAF de la Creuse » figure deux fois parmi les parties."),
        ("convention;;;2025-13-01;;CAF de la Creuse|CCAS de Guéret",
         "La date de début n'est pas une date"),
        ("convention;;;;;CAF de la Creuse|CCAS de Guéret", "Indiquez la date de début"),
        ("convention;;;01/09/2025;31/08/2025;CAF de la Creuse|CCAS de Guéret",
         "La date de fin est avant la date de début."),
        ("contrat;;;01/01/2025;;CAF de la Creuse|CCAS de Guéret", "Type « contrat » inconnu"),
        ("convention;;;01/01/2025;;CAF de la Creuse|Ancienne association",
         "« Ancienne association » n'est pas active"),
    ],
)  # fmt: skip
def test_each_bad_line_is_named_and_nothing_is_written(session, w, line, message):
    text = GOOD + line + "\n"
    preview = cv.preview_convention_import(session, w.territory.id, _table(text))
    assert not preview.ok
    assert [e.line for e in preview.error_lines] == [4]
    assert any(message in e for e in preview.error_lines[0].errors), preview.error_lines[0].errors
    with pytest.raises(Refused):
        cv.apply_convention_import(session, w.territory.id, _table(text))
    session.rollback()
    assert _conventions(session, w.territory.id) == []


def test_a_line_twice_in_the_file_is_named(session, w):
    text = GOOD + "Convention;Autre titre;;01/09/2025;;CCAS de Guéret|CAF de la Creuse\n"
    preview = cv.preview_convention_import(session, w.territory.id, _table(text))
    assert preview.error_lines[0].errors == ["Cette convention figure déjà ligne 2."]


def test_missing_columns_and_empty_files(session, w):
    preview = cv.preview_convention_import(session, w.territory.id, _table("intitule;fin\nx;y\n"))
    assert "« type », « debut », « parties »" in preview.file_errors[0]
    preview = cv.preview_convention_import(session, w.territory.id, _table("type;debut;parties\n"))
    assert preview.file_errors == ["Le fichier ne contient aucune ligne de données."]


# --- pages ---------------------------------------------------------------------------------

USERS = {
    "coord@creuse.fr": ("coordinator", "23"),
    "lecteur@creuse.fr": ("viewer", "23"),
    "coord@correze.fr": ("coordinator", "19"),
}


@pytest.fixture
def world(engine):
    with Session(engine) as s:
        built = build_world(s)
        ids = {k: o.id for k, o in built.orgs.items()}
        ids["territory"] = built.territory.id
        ids["foreign"] = built.foreign_org.id
        s.commit()
    return ids


def _login(client, engine, email: str) -> None:
    login_as(client, engine, email, *USERS[email])


def _post(client, url, data=None, files=None, token_page="/t/23/conventions"):
    return post_form(client, url, token_page, data, files)


def _stored(engine, territory_id: int):
    with Session(engine) as s:
        return _conventions(s, territory_id)


def _audits(engine, action: str) -> list[str]:
    return audit_details(engine, action)


def test_coordinator_creates_edits_and_archives(client, world, engine):
    _login(client, engine, "coord@creuse.fr")
    page = client.get("/t/23/conventions/nouvelle")
    assert page.status_code == 200
    text = T(page)
    # The parties are checkboxes grouped by family, only active structures of Creuse.
    assert "Caisses de protection sociale" in text and "CAF de la Creuse" in text
    assert "CAF de la Corrèze" not in text and "Ancienne association" not in text
    form = {"kind": "convention", "title": "Accès aux droits", "reference": "",
            "starts_on": "01/09/2025", "ends_on": "31/08/2025",
            "parties": [str(world["caf"]), str(world["ccas"])]}  # fmt: skip
    bad = _post(client, "/t/23/conventions/nouvelle", form)
    assert bad.status_code == 400
    assert "La date de fin est avant la date de début." in T(bad)
    assert 'value="Accès aux droits"' in T(bad) and re.search(
        rf'value="{world["caf"]}" checked', T(bad)
    )  # what was typed and ticked is kept
    assert _stored(engine, world["territory"]) == []
    form["ends_on"] = ""
    ok = _post(client, "/t/23/conventions/nouvelle", form)
    assert ok.status_code == 303
    convention_id = int(ok.headers["location"].split("/")[-1].split("?")[0])
    detail = T(client.get(ok.headers["location"]))
    assert "La convention a été enregistrée." in detail
    assert "01/09/2025" in detail and "CCAS de Guéret" in detail and "sans date de fin" in detail
    assert _audits(engine, "convention.create") == ["Convention « Accès aux droits »"]

    edit = client.get(f"/t/23/conventions/{convention_id}/modifier")
    assert 'value="01/09/2025"' in T(edit)
    form.update(kind="charte", parties=[str(world["caf"]), str(world["siao"]), str(world["msa"])])
    assert _post(client, f"/t/23/conventions/{convention_id}/modifier", form).status_code == 303
    assert _stored(engine, world["territory"])[0][0] == "charte"
    assert _stored(engine, world["territory"])[0][4] == {
        "CAF de la Creuse", "SIAO de la Creuse", "MSA du Limousin"}  # fmt: skip

    archived = _post(client, f"/t/23/conventions/{convention_id}/archiver")
    assert archived.status_code == 303
    assert "Accès aux droits" not in T(client.get("/t/23/conventions"))
    assert "Accès aux droits" in T(client.get("/t/23/conventions?statut=archivees"))
    assert _post(client, f"/t/23/conventions/{convention_id}/reactiver").status_code == 303
    assert "Accès aux droits" in T(client.get("/t/23/conventions"))
    assert len(_audits(engine, "convention.archive")) == 1
    assert len(_audits(engine, "convention.restore")) == 1


def test_forged_party_ids_are_a_french_400(client, world, engine):
    _login(client, engine, "coord@creuse.fr")
    for parties in (["abc", str(world["caf"])], [str(world["foreign"]), str(world["caf"])]):
        form = {"kind": "convention", "starts_on": "01/01/2025", "parties": parties}
        bad = _post(client, "/t/23/conventions/nouvelle", form)
        assert bad.status_code == 400
        assert "structures choisies" in T(bad)
    assert _stored(engine, world["territory"]) == []


def _one_convention(engine, world) -> int:
    with Session(engine) as s:
        data = cv.ConventionData(starts_on="01/01/2025", title="Protocole SIAO",
                                 parties=[world["siao"], world["ccas"]])  # fmt: skip
        created = cv.create_convention(s, world["territory"], data)
        s.commit()
        return created.id


def test_viewer_reads_but_cannot_write(client, world, engine):
    convention_id = _one_convention(engine, world)
    _login(client, engine, "lecteur@creuse.fr")
    assert "Protocole SIAO" in T(client.get("/t/23/conventions"))
    assert "Protocole SIAO" in T(client.get(f"/t/23/conventions/{convention_id}"))
    assert "Ajouter une convention" not in T(client.get("/t/23/conventions"))
    export = client.get("/t/23/conventions/export")
    assert export.status_code == 200 and "Protocole SIAO" in export.text
    assert client.get("/t/23/conventions/nouvelle").status_code == 403
    assert client.get(f"/t/23/conventions/{convention_id}/modifier").status_code == 403
    for url in (f"/t/23/conventions/{convention_id}/archiver", "/t/23/conventions/nouvelle"):
        assert _post(client, url, {"starts_on": "01/01/2025"}).status_code == 403
    with Session(engine) as s:
        assert s.get(Convention, convention_id).active


def test_another_territorys_conventions_are_404(client, world, engine):
    convention_id = _one_convention(engine, world)
    _login(client, engine, "coord@correze.fr")
    page = "/t/19/conventions"
    assert "Protocole SIAO" not in T(client.get(page))
    assert client.get(f"/t/19/conventions/{convention_id}").status_code == 404
    assert client.get(f"/t/19/conventions/{convention_id}/modifier").status_code == 404
    for action in ("archiver", "modifier"):
        r = _post(client, f"/t/19/conventions/{convention_id}/{action}", {}, token_page=page)
        assert r.status_code == 404
    assert client.get(f"/t/23/conventions/{convention_id}").status_code in (403, 404)
    with Session(engine) as s:
        assert s.get(Convention, convention_id).active
    assert "Protocole SIAO" not in client.get("/t/19/conventions/export").text


def test_import_preview_then_confirm(client, world, engine):
    _login(client, engine, "coord@creuse.fr")
    page = "/t/23/conventions/import"
    bad = GOOD + "convention;;;01/09/2025;31/08/2025;CAF de la Creuse|Mission locale\n"
    r = _post(client, page, files={"fichier": ("c.csv", bad.encode("cp1252"), "text/csv")},
              token_page=page)  # fmt: skip
    assert r.status_code == 422
    text = T(r)
    assert "Ligne 4 : La date de fin est avant la date de début." in text
    assert "Structure inconnue : « Mission locale »." in text
    assert "Confirmer l" not in text
    assert _stored(engine, world["territory"]) == []
    r = _post(
        client, page, files={"fichier": ("c.csv", GOOD.encode(), "text/csv")}, token_page=page
    )
    assert r.status_code == 200
    assert "2 convention(s) à créer, 0 à mettre à jour." in T(r)
    assert _stored(engine, world["territory"]) == []
    payload = re.search(r'name="payload" value="([^"]+)"', T(r)).group(1)
    ok = _post(
        client, f"{page}/confirmer", {"payload": payload, "filename": "c.csv"}, token_page=page
    )
    assert ok.status_code == 303
    assert len(_stored(engine, world["territory"])) == 2
    assert _audits(engine, "convention.import") == ["2 créée(s), 0 mise(s) à jour"]
    # The same payload cannot be confirmed as a zones or structures import.
    for url in ("/t/23/zones/import/confirmer", "/t/23/repertoire/import/confirmer"):
        assert _post(client, url, {"payload": payload}, token_page=page).status_code == 400
    export = client.get("/t/23/conventions/export?format=csv")
    rows = read_table(export.content, "x.csv").rows
    assert {r["intitule"] for r in rows} == {"Accès aux droits", "Hébergement d'urgence"}
    xlsx = client.get("/t/23/conventions/export?format=xlsx")
    assert xlsx.status_code == 200 and io.BytesIO(xlsx.content).read(2) == b"PK"


def test_stored_party_rows_point_at_the_territory_only(session, w):
    cv.apply_convention_import(session, w.territory.id, _table(GOOD))
    session.commit()
    org_ids = set(session.exec(select(ConventionParty.organisation_id)))
    territories = set(
        session.exec(select(Organisation.territory_id).where(col(Organisation.id).in_(org_ids)))
    )
    assert territories == {w.territory.id}

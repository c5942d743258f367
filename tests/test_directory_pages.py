"""Directory and professionals pages through HTTP, logged in with real accounts."""

from __future__ import annotations

import html
import io
import re

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from survey.accounts import AuditEvent
from survey.models import Organisation, Professional, Service
from survey.tabular import read_table
from tests.accounts_helpers import csrf_token, login, make_user
from tests.factories import build_world
from tests.test_isolation import creuse_rows, snapshot

VALID_SIRET = "73282932000074"


def T(response) -> str:
    """The page text with HTML entities decoded (apostrophes come escaped)."""
    return html.unescape(response.text)


@pytest.fixture
def world(engine):
    with Session(engine) as s:
        w = build_world(s)
        ids = {
            "territory": w.territory.id,
            **{k: o.id for k, o in w.orgs.items()},
            **{f"svc_{k}": v.id for k, v in w.services.items()},
            **{f"pro_{k}": v.id for k, v in w.pros.items()},
            "foreign": w.foreign_org.id,
            "token_alice": w.tokens["alice"],
        }
    return ids


USERS = {
    "coord@creuse.fr": ("coordinator", "territory"),
    "lecteur@creuse.fr": ("viewer", "territory"),
    "coord@correze.fr": ("coordinator", "other_territory"),
}


def _login(client, engine, email: str) -> None:
    """Create the account on first use (hashing is slow: only the accounts a test needs)."""
    from survey.models import Territory

    role, which = USERS[email]
    with Session(engine) as s:
        code = "23" if which == "territory" else "19"
        territory = s.exec(select(Territory).where(Territory.code == code)).one()
        make_user(s, email, role=role, territory=territory)
    login(client, email)


def _post(client, url, data=None, files=None, token_page=None, **kw):
    token = csrf_token(client, token_page or "/t/23/repertoire/nouvelle")
    return client.post(
        url, data={**(data or {}), "csrf_token": token}, files=files, follow_redirects=False, **kw
    )


class Unchanged:
    """The rows of the given territories, to check that a refused write changed nothing
    (`tests.test_isolation.snapshot`: every row they own or that points at one)."""

    def __init__(self, engine, *territory_ids: int) -> None:
        self.engine = engine
        with Session(engine) as s:
            self.owned = [creuse_rows(s, t) for t in territory_ids]
            self.before = [snapshot(s, owned) for owned in self.owned]

    def check(self) -> None:
        with Session(self.engine) as s:
            assert [snapshot(s, owned) for owned in self.owned] == self.before


def _other_territory(engine) -> int:
    from survey.models import Territory

    with Session(engine) as s:
        return s.exec(select(Territory).where(Territory.code == "19")).one().id


def _audits(engine, action) -> list[AuditEvent]:
    with Session(engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action)))


def test_list_search_and_type_filter(client, world, engine):
    _login(client, engine, "coord@creuse.fr")
    page = client.get("/t/23/repertoire")
    assert page.status_code == 200
    assert "CAF de la Creuse" in T(page) and "CAF de la Corrèze" not in T(page)
    assert "Ancienne association" not in T(page)
    page = client.get("/t/23/repertoire", params={"q": "gueret ccas"})
    assert "CCAS de Guéret" in T(page) and "CAF de la Creuse" not in T(page)
    page = client.get("/t/23/repertoire", params={"type": "siao"})
    assert "SIAO de la Creuse" in T(page) and "CCAS de Guéret" not in T(page)
    page = client.get("/t/23/repertoire", params={"statut": "archived"})
    assert "Ancienne association" in T(page)


def test_create_keeps_typed_values_and_shows_french_errors(client, world, engine):
    _login(client, engine, "coord@creuse.fr")
    bad = _post(
        client,
        "/t/23/repertoire/nouvelle",
        {"name": "Mission locale", "type": "nimporte", "commune": "Guéret", "siret": "123",
         "missions": "Jeunes 16-25 ans"},
    )  # fmt: skip
    assert bad.status_code == 400
    assert "Choisissez un type de structure dans la liste." in T(bad)
    assert "Le SIRET compte 14 chiffres" in T(bad)
    assert 'href="#siret"' in T(bad)  # error summary links to the field
    assert 'value="Mission locale"' in T(bad) and "Jeunes 16-25 ans" in T(bad)
    ok = _post(
        client,
        "/t/23/repertoire/nouvelle",
        {"name": "Mission locale", "type": "mission-locale", "siret": "732 829 320 00074"},
    )
    assert ok.status_code == 303
    page = client.get(ok.headers["location"])
    assert "La structure a été ajoutée au répertoire." in T(page)
    assert VALID_SIRET in T(page)
    assert [e.detail for e in _audits(engine, "organisation.create")] == ["Mission locale"]


def test_edit_archive_and_services(client, world, engine):
    _login(client, engine, "coord@creuse.fr")
    msa = world["msa"]
    page = client.get(f"/t/23/repertoire/{msa}/modifier")
    assert 'value="MSA du Limousin"' in T(page)
    r = _post(
        client,
        f"/t/23/repertoire/{msa}/modifier",
        {
            "name": "MSA du Limousin",
            "type": "mutualite-sociale-agricole",
            "missions": "Régime agricole",
        },
    )
    assert r.status_code == 303
    r = _post(
        client,
        f"/t/23/repertoire/{msa}/services",
        {"service_name": "Action sanitaire et sociale", "contact_email": "faux"},
    )
    assert r.status_code == 400 and "n'est pas valide" in T(r)
    assert 'value="Action sanitaire et sociale"' in T(r)
    r = _post(
        client,
        f"/t/23/repertoire/{msa}/services",
        {"service_name": "Action sanitaire et sociale", "contact_name": "Gilles",
         "contact_email": "gilles@msa.fr", "contact_consent": "1"},
    )  # fmt: skip
    assert r.status_code == 303
    page = client.get(f"/t/23/repertoire/{msa}")
    assert "Régime agricole" in T(page) and "gilles@msa.fr" in T(page)
    with Session(engine) as s:
        svc_id = s.exec(select(Service).where(Service.organisation_id == msa)).one().id
    page = client.get(f"/t/23/repertoire/{msa}/services/{svc_id}")
    assert page.status_code == 200 and 'value="gilles@msa.fr"' in T(page)
    r = _post(
        client,
        f"/t/23/repertoire/{msa}/services/{svc_id}",
        {"service_name": "Action sociale", "contact_consent": "1"},
    )
    assert r.status_code == 400 and "Indiquez le contact avant de cocher son accord." in T(r)
    # CAF still has an active professional: archiving is refused with a French message.
    r = _post(client, f"/t/23/repertoire/{world['caf']}/archiver")
    assert r.status_code == 409 and "professionnel" in T(r)
    r = _post(client, f"/t/23/repertoire/{msa}/archiver")
    assert r.status_code == 303
    with Session(engine) as s:
        assert s.get(Organisation, msa).status == "archived"
    assert len(_audits(engine, "organisation.archive")) == 1
    assert len(_audits(engine, "service.create")) == 1


def test_merge_form_confirmation_then_merge(client, world, engine):
    with Session(engine) as s:
        dup = Organisation(
            territory_id=world["territory"], name="Caf 23", type="caf", status="proposed"
        )
        s.add(dup)
        s.flush()
        s.add(Professional(territory_id=world["territory"], full_name="Denis Roy",
                           email="denis@caf.fr", organisation_id=dup.id))  # fmt: skip
        s.commit()
        dup_id = dup.id
    _login(client, engine, "coord@creuse.fr")
    page = client.get("/t/23/repertoire/propositions")
    assert "Caf 23" in T(page) and "CAF de la Creuse" in T(page)
    form = client.get(f"/t/23/repertoire/{dup_id}/fusionner")
    # Closest names first.
    options = re.findall(r'<option value="(\d+)"', T(form))
    assert options[0] == str(world["caf"])
    r = _post(client, f"/t/23/repertoire/{dup_id}/fusionner", {"cible": ""})
    assert r.status_code == 400 and "Choisissez la structure qui absorbe" in T(r)
    # Another territory's structure cannot be chosen (treated as unknown): nothing changes
    # on either side.
    unchanged = Unchanged(engine, world["territory"], _other_territory(engine))
    r = _post(client, f"/t/23/repertoire/{dup_id}/fusionner", {"cible": str(world["foreign"]),
                                                              "confirmer": "1"})  # fmt: skip
    assert r.status_code == 400
    unchanged.check()
    r = _post(client, f"/t/23/repertoire/{dup_id}/fusionner", {"cible": str(world["caf"])})
    assert r.status_code == 200 and "va être absorbée" in T(r)
    with Session(engine) as s:
        assert s.get(Organisation, dup_id).status == "proposed"  # nothing done yet
    r = _post(
        client,
        f"/t/23/repertoire/{dup_id}/fusionner",
        {"cible": str(world["caf"]), "confirmer": "1"},
    )
    assert r.status_code == 303 and r.headers["location"].startswith(
        f"/t/23/repertoire/{world['caf']}"
    )
    with Session(engine) as s:
        assert s.get(Organisation, dup_id).status == "merged"
        denis = s.exec(select(Professional).where(Professional.email == "denis@caf.fr")).one()
        assert denis.organisation_id == world["caf"]
    assert "fusionnée" in _audits(engine, "organisation.merge")[0].detail


def test_confirm_proposed_structure(client, world, engine):
    with Session(engine) as s:
        prop = Organisation(
            territory_id=world["territory"], name="secours pop", type="autre", status="proposed"
        )
        s.add(prop)
        s.commit()
        prop_id = prop.id
    _login(client, engine, "coord@creuse.fr")
    page = client.get(f"/t/23/repertoire/{prop_id}/modifier")
    assert "Vérifier la structure proposée" in T(page)
    r = _post(
        client,
        f"/t/23/repertoire/{prop_id}/modifier",
        {"name": "Secours populaire", "type": "secours-populaire", "confirmer": "1"},
    )
    assert r.status_code == 303
    with Session(engine) as s:
        assert s.get(Organisation, prop_id).status == "active"
    assert len(_audits(engine, "organisation.confirm")) == 1


CSV_BAD = (
    "nom;type;commune;siret;missions;services\r\n"
    "Mission locale;mission-locale;Guéret;;Jeunes;Accueil | Logement\r\n"
    "UDAF de la Creuse;udaf;Guéret;73282932000075;Tutelles;\r\n"
)


def _snapshot(engine):
    with Session(engine) as s:
        return sorted((o.name, o.status) for o in s.exec(select(Organisation))), sorted(
            s.name for s in s.exec(select(Service))
        )


def test_structure_import_preview_then_confirm(client, world, engine):
    _login(client, engine, "coord@creuse.fr")
    before = _snapshot(engine)
    token_page = "/t/23/repertoire/import"
    r = _post(
        client,
        "/t/23/repertoire/import",
        files={"fichier": ("liste.csv", CSV_BAD.encode("cp1252"), "text/csv")},
        token_page=token_page,
    )
    assert r.status_code == 422
    assert "Ligne 3 : Ce SIRET n'est pas valide" in T(r)
    assert "Confirmer l" not in T(r)
    assert _snapshot(engine) == before

    fixed = CSV_BAD.replace("73282932000075", VALID_SIRET).encode("cp1252")
    r = _post(
        client,
        "/t/23/repertoire/import",
        files={"fichier": ("liste.csv", fixed, "text/csv")},
        token_page=token_page,
    )
    assert r.status_code == 200 and "2 structure(s) à créer" in T(r)
    assert _snapshot(engine) == before  # preview writes nothing
    payload = re.search(r'name="payload" value="([^"]+)"', T(r)).group(1)
    # A tampered payload is refused in French, nothing written.
    bad = _post(
        client,
        "/t/23/repertoire/import/confirmer",
        {"payload": payload[:-4] + "AAAA"},
        token_page=token_page,
    )
    assert bad.status_code == 400 and "envoyez le fichier à nouveau" in T(bad)
    # A signature that is not ASCII is a wrong one, not a server error (issue 11).
    for odd in ("é" + payload, "é" * 10_000 + payload):
        bad = _post(
            client, "/t/23/repertoire/import/confirmer", {"payload": odd}, token_page=token_page
        )
        assert bad.status_code == 400 and "envoyez le fichier à nouveau" in T(bad)
    ok = _post(
        client,
        "/t/23/repertoire/import/confirmer",
        {"payload": payload, "filename": "liste.csv"},
        token_page=token_page,
    )
    assert ok.status_code == 303
    names = [n for n, _ in _snapshot(engine)[0]]
    assert "Mission locale" in names and "UDAF de la Creuse" in names
    assert "Accueil" in _snapshot(engine)[1]
    assert _audits(engine, "organisation.import")[0].detail == "2 créée(s), 0 mise(s) à jour"
    # The payload cannot be replayed as professionals, nor on another territory's import:
    # refused, and nothing changes on either side.
    unchanged = Unchanged(engine, world["territory"], _other_territory(engine))
    other = _post(
        client, "/t/23/professionnels/import/confirmer", {"payload": payload}, token_page=token_page
    )
    assert other.status_code == 400
    unchanged.check()
    _login(client, engine, "coord@correze.fr")
    unchanged = Unchanged(engine, world["territory"], _other_territory(engine))  # after login
    for url in ("/t/19/repertoire/import/confirmer", "/t/19/professionnels/import/confirmer"):
        replayed = _post(client, url, {"payload": payload}, token_page="/t/19/repertoire/import")
        assert replayed.status_code == 400, url
        unchanged.check()


@pytest.mark.parametrize(
    "filename, data, status, message",
    [
        ("liste.xlsx", b"PK\x03\x04abimee", 400, "illisible"),
        ("liste.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 50, 400, ".xls"),
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00", 400, "pas un fichier texte"),
        ("gros.csv", b"nom\n" + b"x" * (2 * 1024 * 1024), 413, "trop volumineux"),
        ("vide.csv", b"", 400, "Le fichier est vide."),
    ],
)
def test_bad_uploads_give_french_4xx(client, world, engine, filename, data, status, message):
    _login(client, engine, "coord@creuse.fr")
    r = _post(
        client,
        "/t/23/repertoire/import",
        files={"fichier": (filename, data, "application/octet-stream")},
        token_page="/t/23/repertoire/import",
    )
    assert r.status_code == status
    assert message in T(r)


@pytest.mark.parametrize("fmt", ["csv", "csv-excel", "xlsx"])
def test_exports(client, world, engine, fmt):
    _login(client, engine, "lecteur@creuse.fr")  # viewers may export the directory
    r = client.get("/t/23/repertoire/export", params={"format": fmt})
    assert r.status_code == 200
    if fmt == "csv-excel":
        assert r.content.startswith(b"\xef\xbb\xbfnom;type")
    if fmt == "xlsx":
        assert load_workbook(io.BytesIO(r.content)).worksheets[0]["A1"].value == "nom"
    table = read_table(r.content, "x.xlsx" if fmt == "xlsx" else "x.csv")
    assert "SIAO de la Creuse" in [row["nom"] for row in table.rows]
    assert "CAF de la Corrèze" not in [row["nom"] for row in table.rows]
    assert client.get("/t/23/repertoire/export", params={"format": "pdf"}).status_code == 400


def test_viewer_reads_but_cannot_post(client, world, engine):
    _login(client, engine, "lecteur@creuse.fr")
    assert client.get("/t/23/repertoire").status_code == 200
    page = client.get(f"/t/23/repertoire/{world['siao']}")
    assert page.status_code == 200 and "Centre de jour" in T(page)
    assert "Alice" not in T(page) and "Modifier" not in T(page)
    before = _snapshot(engine)
    token = csrf_token(client, "/t/23/repertoire")
    for url, data in [
        ("/t/23/repertoire/nouvelle", {"name": "X", "type": "caf"}),
        (f"/t/23/repertoire/{world['msa']}/archiver", {}),
        (f"/t/23/repertoire/{world['msa']}/modifier", {"name": "X", "type": "caf"}),
        (
            f"/t/23/repertoire/{world['msa']}/fusionner",
            {"cible": str(world["caf"]), "confirmer": "1"},
        ),
        (f"/t/23/repertoire/{world['msa']}/services", {"service_name": "X"}),
        ("/t/23/professionnels/nouveau", {"full_name": "X", "email": "x@x.fr"}),
        (f"/t/23/professionnels/{world['pro_alice']}/depart", {}),
    ]:
        r = client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)
        assert r.status_code == 403, url
        assert "lecture seule" in T(r)
    assert client.get("/t/23/repertoire/nouvelle").status_code == 403
    assert client.get("/t/23/professionnels").status_code == 403
    assert client.get("/t/23/professionnels/export").status_code == 403
    assert _snapshot(engine) == before


def test_other_territory_gets_404(client, world, engine):
    _login(client, engine, "coord@correze.fr")
    assert client.get("/t/23/repertoire").status_code == 404
    assert client.get(f"/t/19/repertoire/{world['caf']}").status_code == 404
    assert client.get(f"/t/19/professionnels/{world['pro_alice']}").status_code == 404
    # Creuse's rows through Corrèze's URLs: every write is a 404 and changes nothing.
    unchanged = Unchanged(engine, world["territory"])
    caf, siao, alice = world["caf"], world["siao"], world["pro_alice"]
    for url, data in (
        (f"/t/19/repertoire/{caf}/archiver", {}),
        (f"/t/19/repertoire/{world['old']}/reactiver", {}),
        (f"/t/19/repertoire/{caf}/modifier", {"name": "Intrus", "type": "caf"}),
        (f"/t/19/repertoire/{caf}/fusionner", {"cible": str(world["foreign"]), "confirmer": "1"}),
        (f"/t/19/repertoire/{siao}/services", {"name": "Intrus"}),
        (f"/t/19/repertoire/{siao}/services/{world['svc_siao115']}", {"name": "Intrus"}),
        (f"/t/19/professionnels/{alice}", {"full_name": "Intrus", "organisation_id": str(caf)}),
        (f"/t/19/professionnels/{alice}/depart", {}),
    ):
        r = _post(client, url, data, token_page="/t/19/repertoire")
        assert r.status_code == 404, url
        unchanged.check()


def test_post_without_csrf_is_refused(client, world, engine):
    _login(client, engine, "coord@creuse.fr")
    r = client.post("/t/23/repertoire/nouvelle", data={"name": "X", "type": "caf"})
    assert r.status_code == 403
    assert "X" not in [n for n, _ in _snapshot(engine)[0]]


# --- professionals ---------------------------------------------------------------------------

PROS_BAD = (
    "Nom;E-mail;Structure;Service;Fonction\r\n"
    "Eva Durand;eva@siao.fr;SIAO de la Creuse;115;Écoutante\r\n"
    "Franck Morel;franck@caf;CAF de la Creuse;;Technicien\r\n"
    "Gaëlle Faure;gaelle@ccas.fr;CCAS Gueret;;CESF\r\n"
)


def test_professional_import_preview_fix_and_confirm(client, world, engine):
    _login(client, engine, "coord@creuse.fr")
    page = "/t/23/professionnels/import"
    r = _post(
        client,
        page,
        files={"fichier": ("pros.csv", PROS_BAD.encode("cp1252"), "text/csv")},
        token_page=page,
    )
    assert r.status_code == 422
    assert "Ligne 3 : Adresse e-mail « franck@caf » non valide." in T(r)
    assert "vouliez-vous dire « CCAS de Guéret »" in T(r)
    with Session(engine) as s:
        assert (
            s.exec(select(Professional).where(Professional.email == "eva@siao.fr")).first() is None
        )
    fixed = PROS_BAD.replace("franck@caf;", "franck@caf.fr;").replace(
        "CCAS Gueret", "CCAS de Guéret"
    )
    r = _post(
        client,
        page,
        files={"fichier": ("pros.csv", fixed.encode("cp1252"), "text/csv")},
        token_page=page,
    )
    assert r.status_code == 200 and "3 professionnel(s) à ajouter" in T(r)
    payload = re.search(r'name="payload" value="([^"]+)"', T(r)).group(1)
    r = _post(
        client, page + "/confirmer", {"payload": payload, "filename": "pros.csv"}, token_page=page
    )
    assert r.status_code == 303
    with Session(engine) as s:
        eva = s.exec(select(Professional).where(Professional.email == "eva@siao.fr")).one()
        assert (eva.service_id, eva.function) == (world["svc_siao115"], "Écoutante")
    # Confirming twice adds no duplicate: the e-mails are now known.
    r = _post(client, page + "/confirmer", {"payload": payload}, token_page=page)
    assert r.status_code == 409 and "déjà enregistrée" in T(r)
    assert len(_audits(engine, "professional.import")) == 1


def test_professional_add_edit_leave_and_took_over(client, world, engine):
    _login(client, engine, "coord@creuse.fr")
    page = "/t/23/professionnels/nouveau"
    r = _post(client, page, {"full_name": "Eva Durand", "email": "alice@example.org",
                             "organisation_id": str(world["ccas"])}, token_page=page)  # fmt: skip
    assert r.status_code == 400 and "déjà celle de Alice Martin" in T(r)
    assert 'value="Eva Durand"' in T(r)
    r = _post(client, page, {"full_name": "Eva Durand", "email": "eva@ccas.fr", "function": "CESF",
                             "organisation_id": str(world["ccas"]),
                             "took_over_from_id": str(world["pro_alice"])}, token_page=page)  # fmt: skip
    assert r.status_code == 303
    with Session(engine) as s:
        eva = s.exec(select(Professional).where(Professional.email == "eva@ccas.fr")).one()
        assert eva.took_over_from_id == world["pro_alice"]
        eva_id = eva.id
    r = _post(client, f"/t/23/professionnels/{world['pro_alice']}/depart", token_page=page)
    assert r.status_code == 303
    listing = client.get("/t/23/professionnels")
    assert "Eva Durand" in T(listing) and "succède à Alice Martin" in T(listing)
    assert "Alice Martin</a>" not in T(listing)  # Alice left: not among people in post
    assert "Alice Martin" in T(client.get("/t/23/professionnels", params={"etat": "partis"}))
    # Edit: a service of another structure is refused next to the field.
    r = _post(client, f"/t/23/professionnels/{eva_id}",
              {"full_name": "Eva Durand", "email": "eva@ccas.fr", "organisation_id": str(world["ccas"]),
               "service_id": str(world["svc_siao115"])}, token_page=page)  # fmt: skip
    assert r.status_code == 400 and "n'appartient pas à la structure choisie" in T(r)
    page = client.get(f"/t/23/professionnels/{eva_id}")
    assert page.status_code == 200 and 'value="eva@ccas.fr"' in T(page)
    assert f'<option value="{world["pro_alice"]}" selected>' in T(page)
    with Session(engine) as s:
        assert not s.get(Professional, world["pro_alice"]).active
    assert len(_audits(engine, "professional.deactivate")) == 1


@pytest.mark.parametrize("fmt", ["csv-excel", "xlsx"])
def test_professional_export(client, world, engine, fmt):
    _login(client, engine, "coord@creuse.fr")
    r = client.get("/t/23/professionnels/export", params={"format": fmt})
    assert r.status_code == 200
    table = read_table(r.content, "x.xlsx" if fmt == "xlsx" else "x.csv")
    assert [row["nom"] for row in table.rows] == ["Alice Martin", "Bruno Petit"]

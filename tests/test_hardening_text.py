"""One rule for free text at every entry (survey/text.py), issue 11 items 2 and 3.

Every free-text field × {NUL, U+0001, U+001F, U+FFFE, a lone surrogate} through the HTML
form, the JSON API, the imports and the `carte` command: a 4xx (exit code 2) with the French
message naming the field, and nothing written; on both databases (NUL was a 500 on
PostgreSQL). The exports of a database holding such characters anyway are in
tests/reports/test_export_schemas.py.
"""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from urllib.parse import urlencode

import pytest
from lxml import etree
from openpyxl import Workbook
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select
from typer.testing import CliRunner

from app.cli import cli
from app.settings import get_settings
from survey import directory, text
from survey.accounts import LoginAttempt, User
from survey.mailing import EmailTemplate
from survey.models import (
    Campaign,
    Organisation,
    Professional,
    Response,
    Service,
    Territory,
)
from survey.tabular import Table
from tests.accounts_helpers import TEST_PASSWORD, csrf_token, login, make_user
from tests.conftest import TEST_SECRET
from tests.factories import build_world

REFUSED = "caractère invisible non autorisé"
# The characters every test sends: the list. U+001F is also a "space" to Python's
# str.strip() and str.split(), which used to drop or fold it silently.
CHARS = {"NUL": "\x00", "U+0001": "\x01", "U+001F": "\x1f", "U+FFFE": "\ufffe",
         "surrogate": "\ud800"}  # fmt: skip
# A lone surrogate has no UTF-8 form: a form can only carry it as these invalid bytes.
SURROGATE_IN_A_FORM = "%ED%A0%80"


def _count(engine, model: type[SQLModel], *where) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def _page(response) -> str:
    return html.unescape(response.text)


def _refusal(char: str, label: str) -> str:
    return text.message(label, char)


# --- the rule itself -------------------------------------------------------------------------


def test_the_rule_is_exactly_what_xml_forbids():
    """Checked against an independent XML implementation: lxml refuses exactly these."""
    samples = [*range(0x20), 0x7F, 0x85, 0xA0, 0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0xE000, 0xFFFD,
               0xFFFE, 0xFFFF, 0x10000, 0x10FFFF]  # fmt: skip
    for cp in samples:
        char = chr(cp)
        try:
            etree.Element("a").text = f"x{char}x"
            xml_allows = True
        except ValueError:
            xml_allows = False
        assert (text.forbidden_character(f"x{char}x") is None) == xml_allows, hex(cp)
    for kept in "\t\n\r":
        assert text.problem(f"deux{kept}lignes", "Commentaire") is None
    assert text.strip_forbidden("C\x00A\x1fF\ufffe\ud800") == "CAF"


# --- the questionnaire: JSON API and HTML form ------------------------------------------------

# (JSON path of the error, label on the page, answers holding `value`, form fields holding it)
QUESTIONNAIRE_FIELDS = [
    ("function", "Votre fonction",
     lambda v, caf: {"function": v}, lambda v, caf: {"function": v}),
    ("obstacle_other", "Autre difficulté",
     lambda v, caf: {"obstacle_other": v}, lambda v, caf: {"obstacle_other": v}),
    ("body_other", "Autres instances",
     lambda v, caf: {"body_other": v}, lambda v, caf: {"body_other": v}),
    ("comment", "Votre commentaire",
     lambda v, caf: {"comment": v}, lambda v, caf: {"comment": v}),
    ("links.0.practice_other", "Autre chose construite ensemble",
     lambda v, caf: {"links": [{"partner_organisation_id": caf, "practice_other": v}]},
     lambda v, caf: {"l0-partner": str(caf), "l0-practice_other": v}),
    ("links.0.contact_name", "Nom du contact",
     lambda v, caf: {"links": [{"partner_organisation_id": caf, "contact_name": v}]},
     lambda v, caf: {"l0-partner": str(caf), "l0-contact_name": v}),
    ("links.0.write_in.name", "Nom de la structure",
     lambda v, caf: {"links": [{"write_in": {"name": f"Asso{v}"}}]},
     lambda v, caf: {"l0-write_in_name": f"Asso{v}"}),
    ("links.0.write_in.commune", "Commune",
     lambda v, caf: {"links": [{"write_in": {"name": "Asso", "commune": v}}]},
     lambda v, caf: {"l0-write_in_name": "Asso", "l0-write_in_commune": v}),
]  # fmt: skip
FIELD_IDS = [f[0] for f in QUESTIONNAIRE_FIELDS]


@pytest.fixture
def world(session):
    return build_world(session)


def _nothing_written(engine, world) -> None:
    pro = world.pros["bruno"].id
    assert _count(engine, Response, Response.professional_id == pro) == 0
    assert _count(engine, Organisation, Organisation.status == "proposed") == 0


@pytest.mark.parametrize("char_name", CHARS)
@pytest.mark.parametrize(
    ("path", "label", "answers", "fields"), QUESTIONNAIRE_FIELDS, ids=FIELD_IDS
)
def test_api_refuses_the_character(client, engine, world, char_name, path, label, answers, fields):
    char = CHARS[char_name]
    token = world.tokens["bruno"]
    # json.dumps escapes as JSON does on the wire ("\\u0000", "\\ud800"): the raw request a
    # client or a fuzzer sends.
    body = json.dumps(answers(f"a{char}b", world.orgs["caf"].id))
    for method, url in (("PUT", f"/api/v1/questionnaire/{token}"),
                        ("POST", f"/api/v1/questionnaire/{token}/submit")):  # fmt: skip
        r = client.request(method, url, content=body, headers={"content-type": "application/json"})
        assert r.status_code == 422, (method, r.status_code, r.text)
        errors = r.json()["errors"]
        assert {"field": path, "message": _refusal(char, label)} in errors, errors
    _nothing_written(engine, world)


@pytest.mark.parametrize("char_name", [c for c in CHARS if c != "surrogate"])
@pytest.mark.parametrize(
    ("path", "label", "answers", "fields"), QUESTIONNAIRE_FIELDS, ids=FIELD_IDS
)
def test_form_refuses_the_character_with_the_api_message(
    client, engine, world, char_name, path, label, answers, fields
):
    char = CHARS[char_name]
    pairs = {**fields(f"a{char}b", world.orgs["caf"].id), "action": "save",
             "formulaire_complet": "1"}  # fmt: skip
    r = client.post(f"/q/{world.tokens['bruno']}", data=pairs, follow_redirects=False)
    assert r.status_code == 422, r.status_code
    assert _refusal(char, label) in _page(r)  # the same sentence as the API's
    # At the edge of the text too: strip() used to drop U+001F silently.
    edge = {**fields(f"ab{char}", world.orgs["caf"].id), "action": "save",
            "formulaire_complet": "1"}  # fmt: skip
    r = client.post(f"/q/{world.tokens['bruno']}", data=edge, follow_redirects=False)
    assert r.status_code == 422 and REFUSED in _page(r)
    _nothing_written(engine, world)


@pytest.mark.parametrize("name", ["function", "comment", "l0-write_in_name"])
def test_form_refuses_a_lone_surrogate(client, engine, world, name):
    """Browsers never send one (no UTF-8 form): its bytes are refused as unreadable."""
    body = f"{name}=a{SURROGATE_IN_A_FORM}b&action=save&formulaire_complet=1"
    r = client.post(
        f"/q/{world.tokens['bruno']}",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert r.status_code == 400 and "illisible" in _page(r)
    _nothing_written(engine, world)


def test_tab_newline_and_carriage_return_are_text(client, engine, world):
    token = world.tokens["bruno"]
    body = {"comment": "ligne 1\r\nligne 2\tfin", "function": "Conseillère\tsociale"}
    r = client.put(f"/api/v1/questionnaire/{token}", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["comment"] == "ligne 1\r\nligne 2\tfin"


# --- accounts: login, passwords, territories, users ----------------------------------------


@pytest.mark.parametrize("char_name", CHARS)
@pytest.mark.parametrize("field", ["email", "password"])
def test_login_refuses_the_character(client, session, engine, world, field, char_name):
    char = CHARS[char_name]
    make_user(session, "coord@creuse.fr", territory=world.territory)
    token = csrf_token(client, "/login")
    values = {"email": "coord@creuse.fr", "password": TEST_PASSWORD, "csrf_token": token}
    if char_name == "surrogate":
        # A form cannot carry one: Starlette decodes its bytes as U+FFFD, a wrong login.
        body = urlencode({**values, field: "x"}).replace(
            f"{field}=x", f"{field}=coord{SURROGATE_IN_A_FORM}"
        )
        r = client.post("/login", content=body, follow_redirects=False,
                        headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
        assert r.status_code == 400
        return
    values[field] = values[field][:4] + char + values[field][4:]
    r = client.post("/login", data=values, follow_redirects=False)
    label = "Adresse e-mail" if field == "email" else "Mot de passe"
    assert r.status_code == 400 and _refusal(char, label) in _page(r)
    assert _count(engine, LoginAttempt) == 0  # refused before any query or record


@pytest.fixture
def admin(client, session, world):
    make_user(session, "admin@carte.fr", role="admin")
    login(client, "admin@carte.fr")
    return client


def _post(client, url: str, data: dict, token_page: str = "/admin/territoires"):
    token = csrf_token(client, token_page)
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)


FORM_CHARS = [c for c in CHARS if c != "surrogate"]


@pytest.mark.parametrize("char_name", FORM_CHARS)
def test_admin_forms_refuse_the_character(admin, engine, char_name):
    char = CHARS[char_name]
    territories, users = _count(engine, Territory), _count(engine, User)
    for data, label in (({"code": "87", "name": f"Haute{char}Vienne"}, "Nom"),
                        ({"code": f"8{char}7", "name": "Haute-Vienne"}, "Code du département"),
                        ({"code": f"87{char}", "name": "Haute-Vienne"}, "Code du département")):  # fmt: skip
        r = _post(admin, "/admin/territoires", data)
        assert r.status_code == 400 and _refusal(char, label) in _page(r)
    base = {"email": "new@carte.fr", "full_name": "Nouvelle Personne", "role": "viewer",
            "territory": "23", "password": "un mot de passe long"}  # fmt: skip
    for field, label in (("email", "Adresse e-mail"), ("full_name", "Nom"),
                         ("password", "Mot de passe")):  # fmt: skip
        value = base[field][:3] + char + base[field][3:]
        r = _post(admin, "/admin/comptes", {**base, field: value}, "/admin/comptes")
        assert r.status_code == 400 and _refusal(char, label) in _page(r), field
    assert (_count(engine, Territory), _count(engine, User)) == (territories, users)


@pytest.mark.parametrize("char_name", ["NUL", "U+0001"])
def test_a_character_reaching_the_database_is_a_4xx_on_both(admin, engine, char_name):
    """Defence in depth (app/main.py): the account form's territory is a <select>, looked up
    before any text check; a forged NUL there reached PostgreSQL and was a 500."""
    base = {"email": "new@carte.fr", "full_name": "", "role": "viewer",
            "territory": f"2{CHARS[char_name]}3", "password": "un mot de passe long"}  # fmt: skip
    r = _post(admin, "/admin/comptes", base, "/admin/comptes")
    assert r.status_code == 400, r.status_code
    assert "Ce territoire n'existe pas" in _page(r) or REFUSED in _page(r)
    assert _count(engine, User, User.email == "new@carte.fr") == 0


def test_a_nul_refused_by_postgresql_is_a_400_with_the_french_message(app, client, engine):
    """Whatever route lets a NUL through one day: PostgreSQL's refusal is the sender's
    data, a 400 (JSON under /api/), as SQLite answers, not a 500."""

    @app.get("/api/v1/essai-nul")
    def nul_query():
        with Session(engine) as s:
            s.exec(select(Territory).where(Territory.name == "a\x00b")).all()
        return {"ok": True}

    r = client.get("/api/v1/essai-nul")
    if engine.dialect.name == "postgresql":
        assert r.status_code == 400 and r.json() == {"detail": text.UNSTORABLE}
    else:
        assert r.status_code == 200  # SQLite stores NUL; the entries refuse it (above)


@pytest.mark.parametrize("char_name", FORM_CHARS)
def test_password_change_refuses_the_character(client, session, world, char_name):
    char = CHARS[char_name]
    make_user(session, "coord@creuse.fr", territory=world.territory)
    login(client, "coord@creuse.fr")
    new = f"un nouveau{char} mot de passe"
    r = _post(client, "/compte/mot-de-passe",
              {"current_password": TEST_PASSWORD, "new_password": new, "confirm": new},
              "/compte/mot-de-passe")  # fmt: skip
    assert r.status_code == 400 and _refusal(char, "Mot de passe") in _page(r)
    login(client, "coord@creuse.fr")  # the old password still works


# --- coordinator forms --------------------------------------------------------------------


@pytest.fixture
def coordinator(client, session, world):
    make_user(session, "coord@creuse.fr", territory=world.territory)
    login(client, "coord@creuse.fr")
    return client


def _table_counts(engine) -> tuple[int, ...]:
    models = (Organisation, Service, Professional, Campaign, EmailTemplate, User)
    return tuple(_count(engine, m) for m in models)


def _snapshot(engine) -> list:
    with Session(engine) as s:
        orgs = s.exec(select(Organisation.name, Organisation.commune, Organisation.missions)).all()
        campaigns = s.exec(select(Campaign.year, Campaign.introduction)).all()
        return [sorted(orgs), sorted(campaigns), _table_counts(engine)]


def _coordinator_forms(world) -> list[tuple[str, str, dict, str, str]]:
    """(url, page with its CSRF token, valid fields, field to poison, its label)."""
    caf, new_org = world.orgs["caf"].id, "/t/23/repertoire/nouvelle"
    structure = {"name": "Nouvelle asso", "type": "association", "commune": "Guéret",
                 "siret": "", "missions": "Accueil"}  # fmt: skip
    service = {"service_name": "Accueil", "contact_role": "Accueil", "contact_name": "Lou",
               "contact_phone": "05 55 00 00 00", "contact_email": "lou@caf.fr"}  # fmt: skip
    pro = {"full_name": "Lou Martin", "email": "lou@caf.fr", "function": "Conseillère",
           "organisation_id": str(caf)}  # fmt: skip
    template = {"subject": "Questionnaire", "body": "Bonjour, {lien}"}
    forms = []
    for field, label in directory.STRUCTURE_LABELS.items():
        forms.append((new_org, new_org, structure, field, label))
        forms.append((f"/t/23/repertoire/{caf}/modifier", new_org, structure, field, label))
    for field, label in directory.SERVICE_LABELS.items():
        name = "service_name" if field == "name" else field
        forms.append((f"/t/23/repertoire/{caf}/services", new_org, service, name, label))
    for field, label in (("full_name", "Prénom et nom"), ("email", "Adresse e-mail"),
                         ("function", "Fonction")):  # fmt: skip
        forms.append(("/t/23/professionnels/nouveau", new_org, pro, field, label))
    forms.append(("/t/23/lecteurs", new_org, {"email": "lecteur@creuse.fr", "full_name": "Al"},
                  "email", "Adresse e-mail"))  # fmt: skip
    forms.append(("/t/23/lecteurs", new_org, {"email": "lecteur@creuse.fr", "full_name": "Al"},
                  "full_name", "Nom"))  # fmt: skip
    forms.append(("/t/23/campagnes", new_org, {"year": "2027", "introduction": "Bonjour"},
                  "introduction", "Texte d'introduction"))  # fmt: skip
    forms.append(("/t/23/campagnes/2026/modifier", new_org, {"introduction": "Bonjour"},
                  "introduction", "Texte d'introduction"))  # fmt: skip
    for field, label in (("subject", "Objet"), ("body", "Message")):
        forms.append(("/t/23/campagnes/messages/invitation", new_org, template, field, label))
    return forms


@pytest.mark.parametrize("char_name", FORM_CHARS)
def test_coordinator_forms_refuse_the_character(coordinator, engine, world, char_name):
    char = CHARS[char_name]
    before = _snapshot(engine)
    for url, page, valid, field, label in _coordinator_forms(world):
        for value in (f"{valid[field][:2]}{char}{valid[field][2:]}", f"{valid[field]}{char}"):
            r = _post(coordinator, url, {**valid, field: value}, page)
            assert r.status_code in (400, 422), (url, field, r.status_code)
            assert _refusal(char, label) in _page(r), (url, field)
    assert _snapshot(engine) == before


def test_coordinator_forms_never_store_a_lone_surrogate(coordinator, engine, world):
    """A form cannot carry one (no UTF-8 form): Starlette decodes its bytes as U+FFFD, which
    is ordinary text. Whatever is stored holds no refused character."""
    token = csrf_token(coordinator, "/t/23/repertoire/nouvelle")
    body = urlencode({"name": "Asso X", "type": "association", "csrf_token": token})
    body = body.replace("Asso+X", f"Asso{SURROGATE_IN_A_FORM}X")
    r = coordinator.post("/t/23/repertoire/nouvelle", content=body, follow_redirects=False,
                         headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert r.status_code in (303, 400, 422)
    with Session(engine) as s:
        for name in s.exec(select(Organisation.name)).all():
            assert text.forbidden_character(name) is None


# --- imports ------------------------------------------------------------------------------


def _upload(client, url: str, filename: str, data: bytes):
    token = csrf_token(client, url)
    return client.post(url, files={"fichier": (filename, data, "text/csv")},
                       headers={"x-csrf-token": token}, follow_redirects=False)  # fmt: skip


@pytest.mark.parametrize("char_name", [c for c in CHARS if c != "surrogate"])
def test_imports_make_an_error_line_and_write_nothing(coordinator, engine, world, char_name):
    char = CHARS[char_name]
    before = _snapshot(engine)
    structures = ("nom;type;commune\r\nMission locale;mission-locale;Guéret\r\n"
                  f"UDAF{char} de la Creuse;udaf;Guéret\r\n"
                  f"Secours populaire;association;Au{char}busson\r\n")  # fmt: skip
    for encoding in ("utf-8", "utf-16") + (("cp1252",) if char != "\ufffe" else ()):
        r = _upload(coordinator, "/t/23/repertoire/import", "liste.csv",
                    structures.encode(encoding))  # fmt: skip
        assert r.status_code == 422, (encoding, r.status_code)
        page = _page(r)
        assert f"Ligne 3 : {_refusal(char, 'colonne nom')}" in page
        assert f"Ligne 4 : {_refusal(char, 'colonne commune')}" in page
        assert "Ligne 2" not in page and 'name="payload"' not in page
    pros = ("nom;email;structure;fonction\r\n"
            f"Lou{char} Martin;lou@caf.fr;CAF de la Creuse;Conseillère\r\n"
            f"Al Petit;al@caf.fr;CAF de la Creuse;Accueil{char}\r\n")  # fmt: skip
    r = _upload(coordinator, "/t/23/professionnels/import", "pros.csv", pros.encode())
    assert r.status_code == 422
    assert f"Ligne 2 : {_refusal(char, 'colonne nom')}" in _page(r)
    assert f"Ligne 3 : {_refusal(char, 'colonne fonction')}" in _page(r)
    assert _snapshot(engine) == before


def test_a_table_holding_the_character_is_never_written(session, world):
    """The write re-checks the whole table (the confirmation carries it back signed)."""
    table = Table(headers=["nom", "type"], rows=[{"nom": "Asso\x01", "type": "association"}],
                  line_numbers=[2])  # fmt: skip
    with pytest.raises(directory.Refused):
        directory.apply_structure_import(session, world.territory.id, table)
    session.rollback()
    assert session.exec(select(Organisation).where(Organisation.name == "Asso\x01")).first() is None


def test_xlsx_holding_the_character_is_refused(coordinator, engine, world):
    """Inside an .xlsx (XML) such a character makes the sheet unreadable: the whole file is
    refused in French, nothing written."""
    workbook = Workbook()
    workbook.active.append(["nom", "type"])
    workbook.active.append(["EMPOISONNE", "association"])
    raw = io.BytesIO()
    workbook.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            zout.writestr(item, zin.read(item).replace(b"EMPOISONNE", b"Asso\x01\x1f"))
    before = _snapshot(engine)
    r = _upload(coordinator, "/t/23/repertoire/import", "liste.xlsx", out.getvalue())
    assert r.status_code == 400 and "illisible" in _page(r)
    assert _snapshot(engine) == before


def test_import_file_name_is_refused_too(coordinator, engine, world):
    """The file's name goes to the audit log: same rule, at upload and at confirmation."""
    good = b"nom;type\r\nMission locale;mission-locale\r\n"
    # Raw bytes: httpx would percent-encode the control character in the file name.
    boundary = "limite"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="fichier"; '
            f'filename="liste\x01.csv"\r\nContent-Type: text/csv\r\n\r\n'
        ).encode()
        + good
        + f"\r\n--{boundary}--\r\n".encode()
    )
    r = coordinator.post(
        "/t/23/repertoire/import",
        content=body,
        headers={"content-type": f"multipart/form-data; boundary={boundary}",
                 "x-csrf-token": csrf_token(coordinator, "/t/23/repertoire/import")},
    )  # fmt: skip
    assert r.status_code == 400 and _refusal("\x01", "nom du fichier") in _page(r)
    r = _upload(coordinator, "/t/23/repertoire/import", "liste.csv", good)
    assert r.status_code == 200
    payload = re.search(r'name="payload" value="([^"]+)"', r.text).group(1)
    before = _snapshot(engine)
    r = _post(coordinator, "/t/23/repertoire/import/confirmer",
              {"payload": payload, "filename": "liste\x00.csv"}, "/t/23/repertoire/import")  # fmt: skip
    assert r.status_code == 400 and _refusal("\x00", "nom du fichier") in _page(r)
    assert _snapshot(engine) == before


# --- the `carte` command ------------------------------------------------------------------


@pytest.fixture
def carte(database_url, engine, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET)
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(cli, list(args))
    get_settings.cache_clear()


@pytest.mark.parametrize("char_name", CHARS)
def test_command_line_refuses_the_character(carte, engine, world, char_name):
    char = CHARS[char_name]
    # A lone surrogate is what Python makes of invalid UTF-8 bytes on the command line.
    char = "\udcff" if char_name == "surrogate" else char
    before = (_count(engine, Territory), _count(engine, User))
    for args, label in (
        (("territory", "create", "87", f"Haute{char}Vienne"), "argument n° 4"),
        (("territory", "create", f"8{char}", "Haute-Vienne"), "argument n° 3"),
        (("user", "create", "--email", f"a{char}@b.fr", "--role", "admin",
          "--password", "un mot de passe long"), "--email"),
        (("user", "create", f"--email=a{char}@b.fr", "--role", "admin",
          "--password", "un mot de passe long"), "--email"),
        (("user", "create", "--email", "a@b.fr", "--role", "admin",
          "--password", f"un mot de passe{char} long"), "--password"),
        (("user", "create", "--email", "a@b.fr", "--role", "admin", "--name", f"Al{char}",
          "--password", "un mot de passe long"), "--name"),
        (("export", "--territory", f"2{char}3", "--year", "2026", "--format", "json"),
         "--territory"),
    ):  # fmt: skip
        result = carte(*args)
        assert result.exit_code == 2, (args, result.output)
        assert _refusal(char, label) in result.output, result.output
    assert (_count(engine, Territory), _count(engine, User)) == before


def test_a_prompted_password_follows_the_rule(carte, engine, world):
    result = CliRunner().invoke(
        cli, ["user", "create", "--email", "a@b.fr", "--role", "admin"],
        input="un mot de passe\x01 long\nun mot de passe\x01 long\n",
    )  # fmt: skip
    assert result.exit_code == 2 and _refusal("\x01", "Mot de passe") in result.output
    assert _count(engine, User) == 0

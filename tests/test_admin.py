"""Administrator pages, the audit log and the `carte territory` / `carte user` commands."""

from __future__ import annotations

import pytest
import typer
from sqlmodel import Session, select
from typer.testing import CliRunner

from app import cli_admin
from app.settings import get_settings
from survey import accounts
from survey.accounts import AuditEvent, User
from survey.models import Territory
from tests.accounts_helpers import csrf_token, login, make_user


@pytest.fixture
def creuse(session) -> Territory:
    territory = Territory(code="23", name="Creuse")
    session.add(territory)
    session.commit()
    return territory


@pytest.fixture
def admin(session) -> User:
    return make_user(session, "root@example.org", role="admin")


@pytest.fixture
def admin_client(client, admin):
    login(client, admin.email)
    return client


def _post(client, path, data, page=None):
    token = csrf_token(client, page or path)
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def _events(session) -> list[AuditEvent]:
    session.expire_all()
    return list(session.exec(select(AuditEvent).order_by(AuditEvent.id)).all())


def test_admin_pages_are_hidden_from_others(client, session, creuse):
    make_user(session, "coord@example.org", territory=creuse)
    for path in ("/admin/territoires", "/admin/comptes", "/admin/journal"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    login(client, "coord@example.org")
    for path in ("/admin/territoires", "/admin/comptes", "/admin/journal"):
        assert client.get(path).status_code == 404
    token = csrf_token(client, "/t/23/")
    response = client.post(
        "/admin/territoires", data={"csrf_token": token, "code": "87", "name": "X"}
    )
    assert response.status_code == 404
    assert session.exec(select(Territory).where(Territory.code == "87")).first() is None


def test_admin_creates_a_territory(admin_client, session):
    response = _post(admin_client, "/admin/territoires", {"code": "87", "name": "Haute-Vienne"})
    assert response.status_code == 303
    page = admin_client.get("/admin/territoires")
    assert "Territoire 87 — Haute-Vienne créé." in page.text
    assert '<a href="/t/87/">87</a>' in page.text
    assert (
        session.exec(select(Territory).where(Territory.code == "87")).one().name == "Haute-Vienne"
    )
    event = _events(session)[-1]
    assert (event.action, event.user_email, event.target) == (
        "territory.create",
        "root@example.org",
        "87 — Haute-Vienne",
    )


def test_duplicate_or_bad_territory_keeps_the_input(admin_client, session, creuse):
    response = _post(admin_client, "/admin/territoires", {"code": "23", "name": "Creuse bis"})
    assert response.status_code == 400
    assert "Le territoire 23 existe déjà." in response.text
    assert 'value="Creuse bis"' in response.text
    response = _post(admin_client, "/admin/territoires", {"code": "2 3", "name": ""})
    assert response.status_code == 400 and "lettres et chiffres seulement" in response.text
    assert len(session.exec(select(Territory)).all()) == 1


def test_admin_creates_accounts(admin_client, session, creuse):
    data = {"email": "Nouvelle@Example.org", "full_name": "Nadia Nouvelle", "role": "viewer",
            "territory": "23", "password": "une phrase de passe"}  # fmt: skip
    assert _post(admin_client, "/admin/comptes", data).status_code == 303
    user = accounts.user_by_email(session, "nouvelle@example.org")
    assert (user.role, user.territory_id, user.full_name) == ("viewer", creuse.id, "Nadia Nouvelle")
    page = admin_client.get("/admin/comptes")
    assert "Compte nouvelle@example.org créé." in page.text
    assert "Lecteur (lecture seule)" in page.text
    assert "pas encore choisi" not in page.text  # the admin gave a password
    accounts.create_viewer(session, creuse, "attente@example.org")
    session.commit()
    page = admin_client.get("/admin/comptes").text
    row = page[
        page.index("attente@example.org") : page.index("</tr>", page.index("attente@example.org"))
    ]
    assert "mot de passe pas encore choisi" in row
    assert _events(session)[-1].action == "user.create"
    assert _events(session)[-1].territory_id == creuse.id


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"password": "court"}, "au moins 12 caractères"),
        ({"territory": "99"}, "Ce territoire n&#39;existe pas."),
        ({"territory": ""}, "rattaché à un territoire"),
        ({"email": "root@example.org"}, "Un compte existe déjà"),
    ],
)
def test_account_creation_errors_keep_the_input(admin_client, session, creuse, changes, message):
    data = {"email": "x@example.org", "full_name": "Xavier", "role": "coordinator",
            "territory": "23", "password": "une phrase de passe", **changes}  # fmt: skip
    response = _post(admin_client, "/admin/comptes", data)
    assert response.status_code == 400
    assert message in response.text
    assert 'value="Xavier"' in response.text
    assert 'value="une phrase de passe"' not in response.text  # never echo a password
    assert accounts.user_by_email(session, "x@example.org") is None


def test_deactivate_and_reactivate(admin_client, app, session, creuse):
    from fastapi.testclient import TestClient

    coord = make_user(session, "coord@example.org", territory=creuse)
    toggle = f'action="/admin/comptes/{coord.id}/actif"'
    page = admin_client.get("/admin/comptes").text
    form = page[page.index(toggle) : page.index("</form>", page.index(toggle))]
    assert "Désactiver" in form and "Réactiver" not in form and "csrf" in form
    with TestClient(app) as other:
        login(other, coord.email)
        assert (
            _post(
                admin_client, f"/admin/comptes/{coord.id}/actif", {}, "/admin/comptes"
            ).status_code
            == 303
        )
        assert other.get("/t/23/", follow_redirects=False).status_code == 303
        session.refresh(coord)
        assert not coord.active
        page = admin_client.get("/admin/comptes").text
        assert "désactivé" in page
        form = page[page.index(toggle) : page.index("</form>", page.index(toggle))]
        assert "Réactiver" in form and 'name="active" value="true"' in form
        _post(
            admin_client, f"/admin/comptes/{coord.id}/actif", {"active": "true"}, "/admin/comptes"
        )
        login(other, coord.email)
    assert [e.action for e in _events(session)][-3:-1] == ["user.deactivate", "user.activate"]


def test_admin_cannot_deactivate_themself(admin_client, session, admin):
    _post(admin_client, f"/admin/comptes/{admin.id}/actif", {}, "/admin/comptes")
    session.refresh(admin)
    assert admin.active
    assert admin_client.get("/admin/territoires").status_code == 200


def test_reset_password(admin_client, app, session, creuse):
    from fastapi.testclient import TestClient

    coord = make_user(session, "coord@example.org", territory=creuse)
    toggle = f'action="/admin/comptes/{coord.id}/actif"'
    page = admin_client.get("/admin/comptes").text
    form = page[page.index(toggle) : page.index("</form>", page.index(toggle))]
    assert "Désactiver" in form and "Réactiver" not in form and "csrf" in form
    with TestClient(app) as other:
        login(other, coord.email)
        short = _post(
            admin_client,
            f"/admin/comptes/{coord.id}/mot-de-passe",
            {"new_password": "court"},
            "/admin/comptes",
        )
        assert short.status_code == 400 and "au moins 12 caractères" in short.text
        assert other.get("/t/23/").status_code == 200
        ok = _post(admin_client, f"/admin/comptes/{coord.id}/mot-de-passe",
                   {"new_password": "réinitialisé-par-admin"}, "/admin/comptes")  # fmt: skip
        assert ok.status_code == 303
        assert other.get("/t/23/", follow_redirects=False).status_code == 303
        login(other, coord.email, "réinitialisé-par-admin")
    assert _events(session)[-2].action == "user.password_reset"
    assert admin_client.post("/admin/comptes/9999/mot-de-passe",
                             data={"csrf_token": csrf_token(admin_client, "/admin/comptes"),
                                   "new_password": "réinitialisé-par-admin"}).status_code == 404  # fmt: skip


def test_journal_lists_newest_first_with_pages(admin_client, session, creuse):
    for i in range(60):
        accounts.audit(
            session, None, "test.action", target=f"objet {i:02d}", territory_id=creuse.id
        )
    session.commit()
    first = admin_client.get("/admin/journal")
    assert first.status_code == 200
    assert "objet 59" in first.text and "objet 00" not in first.text
    assert first.text.index("objet 59") < first.text.index("objet 58")
    assert 'href="/admin/journal?page=2"' in first.text
    second = admin_client.get("/admin/journal?page=2")
    assert "objet 00" in second.text and "objet 59" not in second.text
    assert admin_client.get("/admin/journal?page=0").status_code == 400
    assert "Page 2 sur 2" in admin_client.get("/admin/journal?page=99").text
    assert "root@example.org" in first.text  # the admin's own login is logged too


# --- command line --------------------------------------------------------------------------


@pytest.fixture
def carte(settings, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    app = typer.Typer()
    app.command("noop")(lambda: None)
    cli_admin.register(app)
    runner = CliRunner()
    yield lambda *args, **kw: runner.invoke(app, list(args), **kw)
    get_settings.cache_clear()


def test_cli_bootstraps_an_instance(carte, engine):
    result = carte("territory", "create", "23", "Creuse")
    assert result.exit_code == 0, result.output
    assert "Territoire 23 — Creuse créé." in result.output
    result = carte("user", "create", "--email", "root@example.org", "--role", "admin",
                   "--password", "une phrase de passe")  # fmt: skip
    assert result.exit_code == 0, result.output
    result = carte("user", "create", "--email", "coord@example.org", "--role", "coordinator",
                   "--territory", "23", input="une phrase de passe\nune phrase de passe\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "une phrase de passe" not in result.output  # hidden input
    with Session(engine) as session:  # a viewer added by a coordinator, no password chosen yet
        creuse = accounts.territory_by_code(session, "23")
        accounts.create_viewer(session, creuse, "lecteur@example.org")
        session.commit()
    listing = carte("user", "list")
    assert "coord@example.org\tcoordinator\t23\n" in listing.output
    assert "root@example.org\tadmin\ttous\n" in listing.output
    assert "lecteur@example.org\tviewer\t23 (mot de passe pas encore choisi)" in listing.output
    with Session(engine) as session:
        user = accounts.user_by_email(session, "coord@example.org")
        assert accounts.verify_password("une phrase de passe", user.password_hash)
        assert {e.action for e in session.exec(select(AuditEvent)).all()} == {
            "territory.create",
            "user.create",
        }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "chef", "--territory", "23"], "Rôle inconnu « chef »"),
        (["--role", "coordinator", "--territory", "99"], "Territoire inconnu « 99 »"),
        (["--role", "coordinator"], "rattaché à un territoire"),
        (
            ["--role", "viewer", "--territory", "23", "--password", "court"],
            "au moins 12 caractères",
        ),
    ],
)
def test_cli_refuses_bad_input_with_exit_code_2(carte, engine, args, message):
    assert carte("territory", "create", "23", "Creuse").exit_code == 0
    result = carte(
        "user",
        "create",
        "--email",
        "x@example.org",
        *args,
        input="une phrase de passe\nune phrase de passe\n",
    )
    assert result.exit_code == 2
    assert message in result.output
    with Session(engine) as session:
        assert accounts.user_by_email(session, "x@example.org") is None


def test_cli_refuses_a_duplicate_territory(carte, engine):
    assert carte("territory", "create", "23", "Creuse").exit_code == 0
    result = carte("territory", "create", "23", "Autre")
    assert result.exit_code == 2 and "Le territoire 23 existe déjà." in result.output

"""Coordinators manage the viewer accounts of their own territory (`/t/{code}/lecteurs`), and a
new viewer chooses a password through a one-time link (`/compte/choisir-mot-de-passe/...`)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, func, select

from app.main import create_app
from app.security import READ_ONLY
from app.settings import Settings
from survey import accounts
from survey.accounts import AuditEvent, User
from survey.models import Campaign
from tests.accounts_helpers import TEST_PASSWORD, csrf_token, login, make_user
from tests.conftest import TEST_SECRET
from tests.factories import build_world
from tests.test_mailing import Recorder, free_port

LINK = re.compile(r"http://testserver(/compte/choisir-mot-de-passe/([A-Za-z0-9._-]+))")
NEW_PASSWORD = "une phrase de passe solide"


@pytest.fixture
def world(session):
    world = build_world(session)
    make_user(session, "coord23@example.org", territory=world.territory)
    make_user(session, "adjointe23@example.org", territory=world.territory)  # 2nd coordinator
    make_user(session, "lecteur23@example.org", role="viewer", territory=world.territory)
    make_user(session, "coord19@example.org", territory=world.other_territory)
    make_user(session, "lecteur19@example.org", role="viewer", territory=world.other_territory)
    make_user(session, "root@example.org", role="admin")
    return world


def _user(session: Session, email: str) -> User | None:
    session.expire_all()
    return session.exec(select(User).where(User.email == email)).first()


def _events(session: Session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(
        session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )


def _count(session: Session, model) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def _post(client, path: str, data: dict, page: str = "/t/23/lecteurs"):
    token = csrf_token(client, page)
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def _text(response) -> str:
    return html.unescape(response.text)


def _main(response) -> str:
    """The page's <main> (the header names the signed-in user)."""
    return response.text.split("<main", 1)[1].split("</main>", 1)[0]


def _add_viewer(client, email: str, full_name: str = "") -> tuple[str, str]:
    """The coordinator signed in on `client` adds a viewer; returns (link path, token)."""
    response = _post(client, "/t/23/lecteurs", {"email": email, "full_name": full_name})
    assert response.status_code == 200, response.text
    match = LINK.search(response.text)
    assert match, "no one-time link on the page"
    return match.group(1), match.group(2)


def _choose(client, path: str, new: str = NEW_PASSWORD, confirm: str | None = None, page: str = ""):
    """Post the "choose your password" form (CSRF token read on `page`, the link by default)."""
    token = csrf_token(client, page or path)
    return client.post(
        path,
        data={"new_password": new, "confirm": new if confirm is None else confirm,
              "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip


# --- the whole journey ---------------------------------------------------------------------


def test_coordinator_adds_a_viewer_who_chooses_a_password_then_reads_only(
    app, client, session, world
):
    login(client, "coord23@example.org")
    dashboard = client.get("/t/23/")
    assert '<a href="/t/23/lecteurs"' in dashboard.text
    page = client.get("/t/23/lecteurs")
    assert page.status_code == 200
    assert "lecteur23@example.org" in _main(page)
    # Never coordinators, administrators, or another territory's accounts.
    for other in ("coord23@example.org", "adjointe23@example.org", "root@example.org",
                  "coord19@example.org", "lecteur19@example.org"):  # fmt: skip
        assert other not in _main(page)

    response = _post(
        client, "/t/23/lecteurs", {"email": " Directrice@Example.org ", "full_name": "Inès Roy"}
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    text = _text(response)
    assert "Compte lecteur créé" in text
    assert "L'envoi d'e-mails n'est pas configuré" in text
    path, token = LINK.search(response.text).groups()

    viewer = _user(session, "directrice@example.org")
    assert viewer is not None
    assert (viewer.role, viewer.territory_id, viewer.full_name) == (
        "viewer", world.territory.id, "Inès Roy",
    )  # fmt: skip
    assert viewer.active and viewer.password_pending
    created = _events(session, "viewer.create")
    assert [(e.user_email, e.target, e.territory_id) for e in created] == [
        ("coord23@example.org", "directrice@example.org", world.territory.id)
    ]
    listing = _text(client.get("/t/23/lecteurs"))
    assert "directrice@example.org" in listing and "Inès Roy" in listing
    assert "mot de passe pas encore choisi" in listing

    # Nothing in the database yields the link.
    mac = token.rsplit(".", 1)[1]
    with session.get_bind().connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in conn.execute(sa_select(table)):
                assert mac not in repr(tuple(row)), f"link stored in {table.name}"

    # No password works before the person chooses one.
    viewer_client = TestClient(app)
    with viewer_client:
        for guess in (accounts.PENDING_PASSWORD, NEW_PASSWORD):
            refused = viewer_client.post(
                "/login",
                data={"email": "directrice@example.org", "password": guess,
                      "csrf_token": csrf_token(viewer_client)},
            )  # fmt: skip
            assert refused.status_code == 400
            assert "Adresse e-mail ou mot de passe incorrect." in _text(refused)

        form = viewer_client.get(path)
        assert form.status_code == 200
        assert form.headers["cache-control"] == "no-store"
        assert "directrice@example.org" in form.text and "23 — Creuse" in form.text
        mismatch = _choose(viewer_client, path, confirm="une autre phrase de passe")
        assert mismatch.status_code == 400
        assert "Les deux mots de passe ne sont pas identiques." in _text(mismatch)
        short = _choose(viewer_client, path, new="court")
        assert short.status_code == 400
        assert "au moins 12 caractères" in _text(short)
        assert _user(session, "directrice@example.org").password_pending  # nothing written

        done = _choose(viewer_client, path)
        assert done.status_code == 200
        assert "Votre mot de passe est enregistré." in _text(done)
        chosen = _events(session, "password.set_by_link")
        assert [(e.user_email, e.territory_id) for e in chosen] == [
            ("directrice@example.org", world.territory.id)
        ]

        login(viewer_client, "directrice@example.org", NEW_PASSWORD)
        home = viewer_client.get("/t/23/")
        assert home.status_code == 200 and "Votre compte est en lecture seule" in _text(home)
        assert "/t/23/lecteurs" not in home.text  # the page is not offered to viewers
        assert viewer_client.get("/t/23/carte").status_code == 200
        # Reads, never writes.
        assert viewer_client.get("/t/23/lecteurs").status_code == 403
        token_v = csrf_token(viewer_client, "/t/23/")
        denied = viewer_client.post(
            "/t/23/campagnes",
            data={"year": "2030", "csrf_token": token_v},
            follow_redirects=False,
        )
        assert denied.status_code == 403
        assert session.exec(select(Campaign).where(Campaign.year == 2030)).first() is None
        denied = viewer_client.post(
            "/t/23/lecteurs",
            data={"email": "ami@example.org", "csrf_token": token_v},
            follow_redirects=False,
        )
        assert denied.status_code == 403 and _user(session, "ami@example.org") is None

    listing = _text(client.get("/t/23/lecteurs"))
    row = listing.split("directrice@example.org", 1)[1].split("</tr>", 1)[0]
    assert "jamais" not in row and "pas encore choisi" not in row


# --- the one-time link ---------------------------------------------------------------------


def test_the_link_works_only_once(app, client, session, world):
    login(client, "coord23@example.org")
    path, _ = _add_viewer(client, "once@example.org")
    client.cookies.clear()
    assert _choose(client, path).status_code == 200
    stored = _user(session, "once@example.org").password_hash

    again = client.get(path)
    assert again.status_code == 404
    assert "Ce lien n'est pas ou plus valable" in _text(again)
    reused = _choose(client, path, new="la phrase de l'intrus", page="/login")
    assert reused.status_code == 404
    assert _user(session, "once@example.org").password_hash == stored
    login(client, "once@example.org", NEW_PASSWORD)


def test_the_link_expires_after_seven_days(app, client, session, world):
    viewer = accounts.create_viewer(session, world.territory, "late@example.org")
    session.commit()
    issued = datetime.now(UTC) - timedelta(days=7, minutes=1)
    token, expires = accounts.issue_password_link(TEST_SECRET, viewer, now=issued)
    assert expires - issued <= timedelta(days=7)
    path = f"/compte/choisir-mot-de-passe/{token}"
    response = client.get(path)
    assert response.status_code == 410
    assert "Ce lien a expiré." in _text(response)
    assert _choose(client, path, page="/login").status_code == 410
    assert _user(session, "late@example.org").password_pending
    # Just before the end it still opens.
    assert accounts.password_link_user(
        session, TEST_SECRET, token, now=expires - timedelta(seconds=1)
    )
    with pytest.raises(accounts.PasswordLinkInvalid):
        accounts.password_link_user(session, TEST_SECRET, token, now=expires + timedelta(seconds=1))


def test_tampered_or_foreign_links_are_refused(client, session, world):
    viewer = accounts.create_viewer(session, world.territory, "tamper@example.org")
    session.commit()
    token, _ = accounts.issue_password_link(TEST_SECRET, viewer)
    uid, expires, mac = token.split(".")
    other = _user(session, "lecteur23@example.org")
    forged = [
        f"{other.id}.{expires}.{mac}",  # another account
        f"{uid}.{int(expires) + 86400}.{mac}",  # a later expiry
        f"{uid}.{expires}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",
        accounts.issue_password_link("another-secret", viewer)[0],  # signed by another server
        "jeton-inconnu-0000000000000000000000000000",
        f"{uid}.{expires}",
        "9" * 60 + ".1.x",
    ]
    for bad in forged:
        response = client.get(f"/compte/choisir-mot-de-passe/{bad}")
        assert response.status_code == 404, bad
        assert "Ce lien n'est pas ou plus valable" in _text(response)
    assert client.get(f"/compte/choisir-mot-de-passe/{token}").status_code == 200


def test_two_simultaneous_uses_cannot_both_succeed(engine, session, world):
    viewer = accounts.create_viewer(session, world.territory, "race@example.org")
    session.commit()
    token, _ = accounts.issue_password_link(TEST_SECRET, viewer)
    with Session(engine) as first, Session(engine) as second:
        # The first request has checked the link (and holds the account as it was then)...
        checked = accounts.password_link_user(first, TEST_SECRET, token)
        # ... when the second one uses it.
        accounts.set_password_with_link(second, TEST_SECRET, token, NEW_PASSWORD, NEW_PASSWORD)
        second.commit()
        with pytest.raises(accounts.PasswordLinkInvalid):
            accounts.set_password_with_link(
                first, TEST_SECRET, token, "la phrase de l'autre", "la phrase de l'autre"
            )
        assert checked.password_pending  # the stale copy the first request relied on
    stored = _user(session, "race@example.org")
    assert accounts.verify_password(NEW_PASSWORD, stored.password_hash)


def test_a_new_link_replaces_the_previous_one(app, client, session, world):
    login(client, "coord23@example.org")
    old_path, _ = _add_viewer(client, "lost@example.org")
    viewer = _user(session, "lost@example.org")
    response = _post(client, f"/t/23/lecteurs/{viewer.id}/lien", {})
    assert response.status_code == 200
    assert "Les liens donnés auparavant ne fonctionnent plus." in _text(response)
    new_path = LINK.search(response.text).group(1)
    assert new_path != old_path
    assert [e.target for e in _events(session, "viewer.link")] == ["lost@example.org"]

    client.cookies.clear()
    assert client.get(old_path).status_code == 404
    assert _choose(client, new_path).status_code == 200
    login(client, "lost@example.org", NEW_PASSWORD)


def test_an_admin_password_reset_cancels_a_pending_link(client, session, world):
    login(client, "coord23@example.org")
    path, _ = _add_viewer(client, "reset@example.org")
    viewer = _user(session, "reset@example.org")
    login(client, "root@example.org")
    admin_page = client.get("/admin/comptes")
    assert admin_page.status_code == 200 and "reset@example.org" in admin_page.text
    reset = _post(
        client,
        f"/admin/comptes/{viewer.id}/mot-de-passe",
        {"new_password": "mot-de-passe-admin-42"},
        page="/admin/comptes",
    )
    assert reset.status_code == 303
    client.cookies.clear()
    assert client.get(path).status_code == 404
    login(client, "reset@example.org", "mot-de-passe-admin-42")


# --- who may do what -----------------------------------------------------------------------


def test_coordinator_cannot_touch_coordinators_admins_or_another_territory(client, session, world):
    login(client, "coord23@example.org")
    targets = {
        email: _user(session, email).id
        for email in ("adjointe23@example.org", "root@example.org", "lecteur19@example.org",
                      "coord19@example.org", "coord23@example.org")
    }  # fmt: skip
    for email, user_id in targets.items():
        for action, data in (("actif", {}), ("actif", {"active": "true"}), ("lien", {})):
            response = _post(client, f"/t/23/lecteurs/{user_id}/{action}", data)
            assert response.status_code == 404, (email, action)
        user = _user(session, email)
        assert user.active and user.session_version == 1, email
    assert client.get("/t/19/lecteurs").status_code == 404
    token = csrf_token(client, "/t/23/lecteurs")
    response = client.post(
        "/t/19/lecteurs", data={"email": "intrus@example.org", "csrf_token": token}
    )
    assert response.status_code == 404 and _user(session, "intrus@example.org") is None

    # The form creates viewers of the coordinator's own territory only, whatever is posted.
    response = _post(
        client,
        "/t/23/lecteurs",
        {"email": "chef@example.org", "role": "coordinator", "territory": "19"},
    )
    assert response.status_code == 200
    chef = _user(session, "chef@example.org")
    assert (chef.role, chef.territory_id) == ("viewer", world.territory.id)
    assert not _events(session, "viewer.deactivate") and not _events(session, "viewer.link")


def test_viewer_cannot_use_the_pages(client, session, world):
    login(client, "lecteur23@example.org")
    nav = client.get("/t/23/")
    assert "/t/23/lecteurs" not in nav.text
    page = client.get("/t/23/lecteurs")
    assert page.status_code == 403
    assert html.unescape(READ_ONLY) in _text(page)
    assert "lecteur23@example.org</th>" not in page.text
    me = _user(session, "lecteur23@example.org")
    accounts_before = _count(session, User)
    token = csrf_token(client, "/t/23/")
    for path, data in (
        ("/t/23/lecteurs", {"email": "ami@example.org"}),
        (f"/t/23/lecteurs/{me.id}/actif", {}),
        (f"/t/23/lecteurs/{me.id}/lien", {}),
    ):
        response = client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)
        assert response.status_code == 403, path
    assert _count(session, User) == accounts_before
    assert _user(session, "lecteur23@example.org").active


def test_every_action_needs_the_csrf_token(client, session, world):
    login(client, "coord23@example.org")
    viewer = _user(session, "lecteur23@example.org")
    for path in ("/t/23/lecteurs", f"/t/23/lecteurs/{viewer.id}/actif",
                 f"/t/23/lecteurs/{viewer.id}/lien"):  # fmt: skip
        response = client.post(path, data={"email": "sans-jeton@example.org"})
        assert response.status_code == 403, path
        assert "Le formulaire a expiré" in _text(response)
    assert _user(session, "sans-jeton@example.org") is None
    assert _user(session, "lecteur23@example.org").active


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("COORD19@example.org ", "Un compte existe déjà pour coord19@example.org."),
        ("lecteur23@example.org", "Un compte existe déjà pour lecteur23@example.org."),
        ("pas-une-adresse", "Indiquez une adresse e-mail valide (nom@domaine.fr)."),
        ("", "Indiquez une adresse e-mail valide (nom@domaine.fr)."),
    ],
)
def test_bad_input_shows_the_form_again_and_writes_nothing(client, session, world, email, message):
    login(client, "coord23@example.org")
    accounts_before, events_before = _count(session, User), _count(session, AuditEvent)
    response = _post(client, "/t/23/lecteurs", {"email": email, "full_name": "Jeanne Test"})
    assert response.status_code == 400
    text = _text(response)
    assert 'class="error-summary"' in text and message in text
    assert 'value="Jeanne Test"' in text  # the input is kept
    assert LINK.search(response.text) is None
    assert _count(session, User) == accounts_before
    assert _count(session, AuditEvent) == events_before


def test_a_duplicate_caught_by_the_database_is_a_400(client, session, world, monkeypatch):
    """Two coordinators adding the same address at the same moment: the unique index answers."""
    login(client, "coord23@example.org")
    monkeypatch.setattr(accounts, "user_by_email", lambda *_args: None)
    accounts_before = _count(session, User)
    response = _post(client, "/t/23/lecteurs", {"email": "coord19@example.org"})
    assert response.status_code == 400
    assert "Un compte existe déjà pour coord19@example.org." in _text(response)
    assert _count(session, User) == accounts_before


def test_a_too_long_name_is_refused_in_french(client, session, world):
    login(client, "coord23@example.org")
    response = _post(
        client, "/t/23/lecteurs", {"email": "long@example.org", "full_name": "x" * 200}
    )
    assert response.status_code == 400
    assert "Le nom est trop long" in _text(response)
    assert _user(session, "long@example.org") is None


# --- deactivation --------------------------------------------------------------------------


def test_deactivated_viewer_cannot_log_in_and_loses_session(app, client, session, world):
    viewer = _user(session, "lecteur23@example.org")
    with TestClient(app) as viewer_client:
        login(viewer_client, "lecteur23@example.org")
        assert viewer_client.get("/t/23/").status_code == 200

        login(client, "coord23@example.org")
        response = _post(client, f"/t/23/lecteurs/{viewer.id}/actif", {})
        assert response.status_code == 303
        assert response.headers["location"] == f"/t/23/lecteurs?fait=desactive#compte-{viewer.id}"
        listing = _text(client.get(response.headers["location"]))
        assert "Le compte est désactivé" in listing and "désactivé</span>" in listing
        toggle = listing.index(f'action="/t/23/lecteurs/{viewer.id}/actif"')
        assert "Réactiver" in listing[toggle : listing.index("</form>", toggle)]
        assert not _user(session, "lecteur23@example.org").active
        events = _events(session, "viewer.deactivate")
        assert [(e.user_email, e.target) for e in events] == [
            ("coord23@example.org", "lecteur23@example.org")
        ]

        gone = viewer_client.get("/t/23/", follow_redirects=False)
        assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
        refused = viewer_client.post(
            "/login",
            data={"email": "lecteur23@example.org", "password": TEST_PASSWORD,
                  "csrf_token": csrf_token(viewer_client)},
            follow_redirects=False,
        )  # fmt: skip
        assert refused.status_code == 400
        assert "Adresse e-mail ou mot de passe incorrect." in _text(refused)

        # No new link for a deactivated account.
        blocked = _post(client, f"/t/23/lecteurs/{viewer.id}/lien", {})
        assert blocked.status_code == 409 and "réactivez-le" in _text(blocked)

        back = _post(client, f"/t/23/lecteurs/{viewer.id}/actif", {"active": "true"})
        assert back.status_code == 303 and "fait=reactive" in back.headers["location"]
        assert [e.target for e in _events(session, "viewer.activate")] == ["lecteur23@example.org"]
        login(viewer_client, "lecteur23@example.org")


def test_deactivation_cancels_a_pending_link(client, session, world):
    login(client, "coord23@example.org")
    path, _ = _add_viewer(client, "pending@example.org")
    viewer = _user(session, "pending@example.org")
    assert _post(client, f"/t/23/lecteurs/{viewer.id}/actif", {}).status_code == 303
    assert _post(client, f"/t/23/lecteurs/{viewer.id}/actif", {"active": "true"}).status_code == 303
    client.cookies.clear()
    assert client.get(path).status_code == 404
    assert _user(session, "pending@example.org").password_pending


# --- e-mail --------------------------------------------------------------------------------


@pytest.fixture
def smtp_recorder():
    from aiosmtpd.controller import Controller

    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield recorder, controller.port
    controller.stop()


def _client_with_smtp(database_url, engine, tmp_path, port: int) -> TestClient:
    settings = Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        var_dir=tmp_path / "var",
        base_url="http://testserver",
        smtp_host="127.0.0.1",
        smtp_port=port,
        mail_from="carte@example.org",
    )
    return TestClient(create_app(settings, engine=engine))


def test_the_link_is_emailed_when_smtp_is_configured(
    database_url, engine, tmp_path, session, world, smtp_recorder
):
    recorder, port = smtp_recorder
    with _client_with_smtp(database_url, engine, tmp_path, port) as client:
        login(client, "coord23@example.org")
        assert "il lui est aussi envoyé par e-mail" in _text(client.get("/t/23/lecteurs"))
        path, _ = _add_viewer(client, "elu@example.org", "Paul Élu")
        page = client.get("/t/23/lecteurs")
        assert page.status_code == 200
    messages = recorder.to("elu@example.org")
    assert len(messages) == 1
    body = messages[0].get_content()
    assert messages[0]["Subject"] == "Carte partenariale 23 : votre accès en lecture"
    assert f"http://testserver{path}" in body
    assert "Bonjour Paul Élu," in body and "http://testserver/login" in body
    assert [e.detail for e in _events(session, "viewer.link_email")] == ["envoyé"]


def test_a_failed_email_still_shows_the_link(database_url, engine, tmp_path, session, world):
    with _client_with_smtp(database_url, engine, tmp_path, free_port()) as client:  # nobody listens
        login(client, "coord23@example.org")
        response = _post(client, "/t/23/lecteurs", {"email": "injoignable@example.org"})
    assert response.status_code == 200
    text = _text(response)
    assert "L'e-mail n'a pas pu être envoyé" in text and "Transmettez le lien vous-même" in text
    assert LINK.search(response.text)
    assert _user(session, "injoignable@example.org").password_pending
    [event] = _events(session, "viewer.link_email")
    assert event.detail.startswith("échec : connexion au serveur d'envoi impossible")


# --- in a real browser ---------------------------------------------------------------------


@pytest.mark.browser
def test_in_a_browser_the_pages_work_without_script_and_pass_axe(
    live_server, page, browser, session, world
):
    from playwright.sync_api import expect

    from tests.test_browser_accessibility import problems, sign_in

    base = live_server
    found: list[str] = []
    sign_in(page, base, "coord23@example.org", TEST_PASSWORD)
    page.get_by_role("navigation", name="Espace du territoire").get_by_role(
        "link", name="Lecteurs"
    ).click()
    expect(page.locator("h1")).to_have_text("Lecteurs")
    found += problems(page, "viewers-list")
    page.get_by_label("Adresse e-mail").fill("lecteur23@example.org")
    page.get_by_role("button", name="Ajouter le lecteur").click()
    expect(page.locator(".error-summary")).to_contain_text("Un compte existe déjà")
    found += problems(page, "viewers-error")
    page.get_by_label("Adresse e-mail").fill("direction@example.org")
    page.get_by_label("Prénom et nom (facultatif)").fill("Direction de l'action sociale")
    page.get_by_role("button", name="Ajouter le lecteur").click()
    expect(page.locator("h1")).to_have_text("Compte lecteur créé")
    found += problems(page, "viewers-link")
    link = page.get_by_label("Lien pour choisir son mot de passe").input_value()
    assert link.startswith("http://testserver/compte/choisir-mot-de-passe/")

    other = browser.new_context(locale="fr-FR")
    try:
        newcomer = other.new_page()
        newcomer.goto(link.replace("http://testserver", base))
        expect(newcomer.locator("h1")).to_have_text("Choisir votre mot de passe")
        found += problems(newcomer, "viewers-choose")
        newcomer.get_by_label("Mot de passe", exact=True).fill(NEW_PASSWORD)
        newcomer.get_by_label("Mot de passe, une seconde fois").fill(NEW_PASSWORD)
        newcomer.get_by_role("button", name="Enregistrer mon mot de passe").click()
        expect(newcomer.locator("main")).to_contain_text("Votre mot de passe est enregistré.")
        newcomer.get_by_role("link", name="Se connecter").click()
        sign_in(newcomer, base, "direction@example.org", NEW_PASSWORD)
        expect(newcomer.locator("main")).to_contain_text("Votre compte est en lecture seule")
        nav = newcomer.get_by_role("navigation", name="Espace du territoire")
        expect(nav.get_by_role("link", name="Lecteurs")).to_have_count(0)
    finally:
        other.close()
    assert not found, "\n".join(found)

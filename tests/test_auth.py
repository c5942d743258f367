"""Sign-in, sessions, CSRF, throttling and password change."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import itsdangerous
import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlmodel import select

from app.security import SESSION_COOKIE, ViewerScope
from survey import accounts
from survey.accounts import AuditEvent, LoginAttempt, User
from survey.models import Territory
from tests.accounts_helpers import TEST_PASSWORD, csrf_token, login, make_user
from tests.conftest import TEST_SECRET


@pytest.fixture
def creuse(session) -> Territory:
    territory = Territory(code="23", name="Creuse")
    session.add(territory)
    session.commit()
    return territory


@pytest.fixture
def coordinator(session, creuse) -> User:
    return make_user(session, "coord@example.org", territory=creuse)


def _post_login(client, email, password, **extra):
    data = {"email": email, "password": password, "csrf_token": csrf_token(client), **extra}
    return client.post("/login", data=data, follow_redirects=False)


def _actions(session) -> list[str]:
    session.expire_all()
    return [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]


# --- domain --------------------------------------------------------------------------------


def test_password_is_hashed_with_argon2_and_checked(session, creuse):
    user = accounts.create_user(
        session, "A@Example.org ", "une phrase assez longue", "viewer", creuse
    )
    assert user.email == "a@example.org"
    assert user.password_hash.startswith("$argon2id$")
    assert "une phrase" not in user.password_hash
    assert accounts.verify_password("une phrase assez longue", user.password_hash)
    assert not accounts.verify_password("une autre phrase", user.password_hash)


@pytest.mark.parametrize(
    ("email", "password", "role", "with_territory", "field", "message"),
    [
        ("x@example.org", "court", "coordinator", True, "password", "au moins 12 caractères"),
        (
            "pas-une-adresse",
            "assez-long-123",
            "coordinator",
            True,
            "email",
            "adresse e-mail valide",
        ),
        ("x@example.org", "assez-long-123", "chef", True, "role", "Le rôle doit être"),
        (
            "x@example.org",
            "assez-long-123",
            "viewer",
            False,
            "territory",
            "rattaché à un territoire",
        ),
        (
            "x@example.org",
            "assez-long-123",
            "admin",
            True,
            "territory",
            "n'indiquez pas de territoire",
        ),
    ],
)
def test_create_user_rejects_bad_input_in_french(
    session, creuse, email, password, role, with_territory, field, message
):
    with pytest.raises(accounts.AccountError) as exc:
        accounts.create_user(session, email, password, role, creuse if with_territory else None)
    assert exc.value.field == field
    assert message in exc.value.message


def test_duplicate_email_is_refused(session, creuse):
    make_user(session, "dup@example.org", territory=creuse)
    with pytest.raises(accounts.AccountError, match="existe déjà"):
        accounts.create_user(session, "DUP@example.org", TEST_PASSWORD, "viewer", creuse)


def test_throttle_locks_for_fifteen_minutes_after_five_failures(session):
    start = datetime.now(UTC) - timedelta(minutes=40)
    for minute in range(5):
        session.add(
            LoginAttempt(email="a@example.org", ip="10.0.0.1", at=start + timedelta(minutes=minute))
        )
    session.commit()
    last = start + timedelta(minutes=4)
    with pytest.raises(accounts.Throttled) as exc:
        accounts.throttle_check(
            session, "a@example.org", "10.9.9.9", now=last + timedelta(minutes=14)
        )
    assert "réessayez dans 2 minutes" in exc.value.message
    # Same address, another e-mail: a colleague behind the same NAT is not locked.
    accounts.throttle_check(session, "b@example.org", "10.0.0.1", now=last + timedelta(minutes=10))
    # Fifteen minutes after the fifth failure, the lock is over.
    accounts.throttle_check(
        session, "a@example.org", "10.0.0.1", now=last + timedelta(minutes=15, seconds=1)
    )
    # Five failures spread over more than fifteen minutes do not lock.
    session.add_all(
        LoginAttempt(email="c@example.org", ip="", at=start + timedelta(minutes=5 * i))
        for i in range(5)
    )
    session.commit()
    accounts.throttle_check(session, "c@example.org", "", now=start + timedelta(minutes=21))


def test_fifty_failures_from_one_address_lock_every_account_there(session):
    start = datetime.now(UTC) - timedelta(minutes=40)
    per_address = accounts.THROTTLE_FAILURES_PER_ADDRESS
    assert (accounts.THROTTLE_FAILURES_PER_ACCOUNT, per_address) == (5, 50)
    # 50 failures over 10 minutes, never more than 4 for one e-mail.
    session.add_all(
        LoginAttempt(
            email=f"p{i % 13}@example.org", ip="10.0.0.2", at=start + timedelta(seconds=12 * i)
        )
        for i in range(per_address - 1)
    )
    session.commit()
    last = start + timedelta(seconds=12 * (per_address - 1))
    accounts.throttle_check(session, "z@example.org", "10.0.0.2", now=last)
    session.add(LoginAttempt(email="p0@example.org", ip="10.0.0.2", at=last))
    session.commit()
    with pytest.raises(accounts.Throttled) as exc:
        accounts.throttle_check(
            session, "z@example.org", "10.0.0.2", now=last + timedelta(minutes=1)
        )
    assert "réessayez dans 15 minutes" in exc.value.message
    # Another address is not concerned, and the lock ends fifteen minutes after the last one.
    accounts.throttle_check(session, "z@example.org", "10.0.0.3", now=last + timedelta(minutes=1))
    accounts.throttle_check(
        session, "z@example.org", "10.0.0.2", now=last + timedelta(minutes=15, seconds=1)
    )


def test_a_success_resets_the_count_for_the_email(session):
    now = datetime.now(UTC)
    for seconds in range(4):
        session.add(
            LoginAttempt(
                email="a@example.org", ip="1.1.1.1", at=now - timedelta(seconds=60 - seconds)
            )
        )
    session.add(
        LoginAttempt(
            email="a@example.org", ip="2.2.2.2", at=now - timedelta(seconds=30), success=True
        )
    )
    session.add(LoginAttempt(email="a@example.org", ip="3.3.3.3", at=now - timedelta(seconds=10)))
    session.commit()
    accounts.throttle_check(session, "a@example.org", "3.3.3.3", now=now)


def test_demo_accounts_are_idempotent_and_documented(session, creuse):
    first = accounts.ensure_demo_accounts(session, creuse)
    second = accounts.ensure_demo_accounts(session, creuse)
    session.commit()
    assert (
        first
        == second
        == [
            ("coordinateur@example.org", "demo-coordination-2026", "coordinator"),
            ("lecteur@example.org", "demo-lecture-2026", "viewer"),
        ]
    )
    assert len(session.exec(select(User)).all()) == 2
    viewer = accounts.user_by_email(session, "lecteur@example.org")
    assert viewer.role == "viewer" and viewer.territory_id == creuse.id


# --- login page ----------------------------------------------------------------------------


def test_login_page_is_french_and_accessible(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert '<label for="email">Adresse e-mail</label>' in page.text
    assert '<label for="password">Mot de passe</label>' in page.text
    assert 'name="csrf_token"' in page.text
    assert 'autocomplete="current-password"' in page.text


def test_login_success_redirects_to_the_territory_and_is_audited(client, session, coordinator):
    response = _post_login(client, "Coord@Example.org", TEST_PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/t/23/"
    cookie = response.headers["set-cookie"]
    assert SESSION_COOKIE in cookie and "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower() and "secure" not in cookie.lower()
    assert client.get("/t/23/").status_code == 200
    session.refresh(coordinator)
    assert coordinator.last_login_at is not None
    assert _actions(session) == ["login"]


def test_login_follows_a_local_next_but_never_an_external_one(client, coordinator):
    assert (
        _post_login(client, coordinator.email, TEST_PASSWORD, next="/t/23/?a=1").headers["location"]
        == "/t/23/?a=1"
    )
    for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        client.cookies.clear()
        response = _post_login(client, coordinator.email, TEST_PASSWORD, next=evil)
        assert response.headers["location"] == "/t/23/"


def test_admin_lands_on_the_territories(client, session):
    make_user(session, "root@example.org", role="admin")
    assert (
        _post_login(client, "root@example.org", TEST_PASSWORD).headers["location"]
        == "/admin/territoires"
    )


def test_a_protected_page_sends_to_login_and_back(client, coordinator):
    response = client.get("/t/23/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/t/23/"
    page = client.get(response.headers["location"])
    assert 'name="next" value="/t/23/"' in page.text


def test_login_failure_keeps_the_email_and_says_why(client, session, coordinator):
    response = _post_login(client, coordinator.email, "mauvais mot de passe")
    assert response.status_code == 400
    assert "Adresse e-mail ou mot de passe incorrect." in response.text
    assert 'class="error-summary"' in response.text
    assert 'value="coord@example.org"' in response.text
    assert client.get("/t/23/", follow_redirects=False).status_code == 303
    assert _actions(session) == ["login.failed"]
    unknown = _post_login(client, "personne@example.org", "mauvais mot de passe")
    assert (
        "Adresse e-mail ou mot de passe incorrect." in unknown.text
    )  # same message: no disclosure


def test_empty_login_form_names_each_missing_field(client):
    response = _post_login(client, "", "")
    assert response.status_code == 400
    assert "Indiquez votre adresse e-mail." in response.text
    assert "Indiquez votre mot de passe." in response.text


def test_throttling_after_five_failures_even_with_the_right_password(
    client, app, session, coordinator
):
    for _ in range(5):
        assert _post_login(client, coordinator.email, "mauvais mot de passe").status_code == 400
    response = _post_login(client, coordinator.email, TEST_PASSWORD)
    assert response.status_code == 429
    assert "Trop de tentatives de connexion" in response.text
    assert int(response.headers["retry-after"]) > 800
    # Stored in the database: another process (another client) agrees.
    with TestClient(app) as other:
        assert _post_login(other, coordinator.email, TEST_PASSWORD).status_code == 429
    assert session.exec(select(LoginAttempt)).all()


def test_one_persons_failures_do_not_lock_a_colleague_at_the_same_address(
    client, app, session, creuse
):
    """A shared office behind one NAT: the TestClient's address is the same for everyone."""
    emails = [f"{name}@creuse.example.org" for name in ("ana", "bob", "cleo", "dan")]
    for email in emails:
        make_user(session, email, territory=creuse)
    ana, bob, cleo, dan = emails
    for _ in range(accounts.THROTTLE_FAILURES_PER_ACCOUNT):
        assert _post_login(client, ana, "mauvais mot de passe").status_code == 400
    assert _post_login(client, ana, TEST_PASSWORD).status_code == 429  # her account is locked
    with TestClient(app) as colleague:
        assert _post_login(colleague, bob, TEST_PASSWORD).status_code == 303
    # Up to 49 failures from the address (none more than 4 per account): still open.
    failures = accounts.THROTTLE_FAILURES_PER_ACCOUNT  # ana's (a refused try is not one)
    while failures < accounts.THROTTLE_FAILURES_PER_ADDRESS - 1:
        typo = f"inconnu{failures % 11}@creuse.example.org"
        assert _post_login(client, typo, "mauvais mot de passe").status_code == 400
        failures += 1
    with TestClient(app) as colleague:
        assert _post_login(colleague, cleo, TEST_PASSWORD).status_code == 303
    # The 50th failure locks the address: even a right password is refused, in French.
    assert _post_login(client, "inconnu@creuse.example.org", "mauvais").status_code == 400
    with TestClient(app) as colleague:
        response = _post_login(colleague, dan, TEST_PASSWORD)
        assert response.status_code == 429
        assert "Trop de tentatives de connexion" in response.text


def test_deactivated_account_cannot_log_in_and_loses_its_session(client, session, coordinator):
    login(client, coordinator.email)
    user = session.get(User, coordinator.id)
    accounts.set_active(user, False)
    session.commit()
    assert client.get("/t/23/", follow_redirects=False).status_code == 303
    assert _post_login(client, coordinator.email, TEST_PASSWORD).status_code == 400


# --- sessions ------------------------------------------------------------------------------


def test_logout_ends_the_session(client, session, coordinator):
    login(client, coordinator.email)
    token = csrf_token(client, "/t/23/")
    assert "Se déconnecter" in client.get("/t/23/").text
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?deconnecte=1"
    assert "Vous êtes déconnecté." in client.get("/login?deconnecte=1").text
    assert client.get("/t/23/", follow_redirects=False).status_code == 303
    assert "logout" in _actions(session)


def test_logout_without_csrf_is_refused(client, coordinator):
    login(client, coordinator.email)
    response = client.post("/logout", data={}, follow_redirects=False)
    assert response.status_code == 403
    assert "Le formulaire a expiré, rechargez la page." in response.text
    assert client.get("/t/23/").status_code == 200


def _decode(cookie: str) -> dict:
    payload = cookie.rsplit(".", 2)[0]
    return json.loads(base64.b64decode(payload))


def _use_cookie(client, value: str) -> None:
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, value, domain="testserver.local")


def _forge(data: dict, secret: str, age: int = 0) -> str:
    signer = itsdangerous.TimestampSigner(secret)
    if age:
        signer.get_timestamp = lambda: int(datetime.now(UTC).timestamp()) - age  # type: ignore[method-assign]
    return signer.sign(base64.b64encode(json.dumps(data).encode())).decode()


def test_tampered_or_foreign_session_is_rejected(client, session, coordinator):
    admin = make_user(session, "root@example.org", role="admin")
    login(client, coordinator.email)
    data = _decode(client.cookies[SESSION_COOKIE])
    assert data["uid"] == coordinator.id
    assert client.get("/admin/territoires", follow_redirects=False).status_code == 404
    # Rewrite the user id without the secret: the signature no longer matches.
    forged = dict(data, uid=admin.id, sv=admin.session_version)
    original = client.cookies[SESSION_COOKIE]
    payload, timestamp, signature = original.rsplit(".", 2)
    tampered = base64.b64encode(json.dumps(forged).encode()).decode() + f".{timestamp}.{signature}"
    _use_cookie(client, tampered)
    assert (
        client.get("/admin/territoires", follow_redirects=False)
        .headers["location"]
        .startswith("/login")
    )
    # Signed with another secret: rejected too.
    _use_cookie(client, _forge(forged, "another-secret"))
    assert client.get("/admin/territoires", follow_redirects=False).status_code == 303
    # Signed with the right secret: accepted (proves the two refusals above are real).
    _use_cookie(client, _forge(forged, TEST_SECRET))
    assert client.get("/admin/territoires", follow_redirects=False).status_code == 200


def test_session_expires_after_eight_idle_hours(client, coordinator):
    data = {"uid": coordinator.id, "sv": coordinator.session_version, "csrf": "t", "seen": 0}
    _use_cookie(client, _forge(data, TEST_SECRET, age=7 * 3600))
    assert client.get("/t/23/", follow_redirects=False).status_code == 200
    _use_cookie(client, _forge(data, TEST_SECRET, age=8 * 3600 + 60))
    assert client.get("/t/23/", follow_redirects=False).status_code == 303


def test_cookie_is_secure_over_https(app, coordinator):
    with TestClient(app, base_url="https://testserver") as client:
        client.get("/login")
        response = _post_login(client, coordinator.email, TEST_PASSWORD)
        assert "secure" in response.headers["set-cookie"].lower()


def test_api_answers_401_json_without_a_session(client, app):
    probe = APIRouter()

    @probe.get("/api/v1/t/{code}/probe")
    def _probe(scope: ViewerScope):
        return {"territory": scope.territory.code}

    app.include_router(probe)
    response = client.get("/api/v1/t/23/probe")
    assert response.status_code == 401
    assert response.json() == {"detail": "Connexion requise."}


# --- CSRF and password change ----------------------------------------------------------------


def test_password_change_without_csrf_changes_nothing(client, session, coordinator):
    login(client, coordinator.email)
    before = coordinator.password_hash
    data = {
        "current_password": TEST_PASSWORD,
        "new_password": "un tout nouveau mot",
        "confirm": "un tout nouveau mot",
    }
    for token in (None, "faux-jeton"):
        sent = dict(data, csrf_token=token) if token else data
        response = client.post("/compte/mot-de-passe", data=sent)
        assert response.status_code == 403
        assert "Le formulaire a expiré, rechargez la page." in response.text
    session.refresh(coordinator)
    assert coordinator.password_hash == before
    assert "password.change" not in _actions(session)


def test_password_change_logs_out_other_sessions(client, app, session, coordinator):
    new = "un tout nouveau mot de passe"
    with TestClient(app) as other:
        login(other, coordinator.email)
        login(client, coordinator.email)
        token = csrf_token(client, "/compte/mot-de-passe")
        response = client.post(
            "/compte/mot-de-passe",
            data={
                "csrf_token": token,
                "current_password": TEST_PASSWORD,
                "new_password": new,
                "confirm": new,
            },
        )
        assert response.status_code == 200
        assert "Votre mot de passe a été changé." in response.text
        assert client.get("/t/23/").status_code == 200  # this session stays
        assert other.get("/t/23/", follow_redirects=False).status_code == 303  # the other one ends
    client.cookies.clear()
    assert _post_login(client, coordinator.email, TEST_PASSWORD).status_code == 400
    assert _post_login(client, coordinator.email, new).status_code == 303
    assert "password.change" in _actions(session)


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        (
            "pas le bon mot de passe",
            "un tout nouveau mot",
            "un tout nouveau mot",
            "Le mot de passe actuel est incorrect.",
        ),
        (TEST_PASSWORD, "court", "court", "au moins 12 caractères"),
        (TEST_PASSWORD, "un tout nouveau mot", "un autre mot encore", "ne sont pas identiques"),
    ],
)
def test_password_change_errors(client, session, coordinator, current, new, confirm, message):
    login(client, coordinator.email)
    token = csrf_token(client, "/compte/mot-de-passe")
    response = client.post(
        "/compte/mot-de-passe",
        data={
            "csrf_token": token,
            "current_password": current,
            "new_password": new,
            "confirm": confirm,
        },
    )
    assert response.status_code == 400
    assert message in response.text
    assert 'class="error-summary"' in response.text
    session.refresh(coordinator)
    assert accounts.verify_password(TEST_PASSWORD, coordinator.password_hash)

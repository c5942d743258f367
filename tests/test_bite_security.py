"""Sessions and CSRF (app/security.py): what mutation testing (docs/testing.md) found unchecked.

A password change keeps the session it was made in (docs/security.md) and gives it a new CSRF
token; the token is 43 characters (the comment beside CSRF_MAX_LENGTH)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from app import security
from survey.accounts import User
from survey.models import Territory
from tests.accounts_helpers import TEST_PASSWORD, csrf_token, login, make_user

NEW_PASSWORD = "un tout nouveau mot de passe"


@pytest.fixture
def coordinator(session) -> User:
    territory = Territory(code="23", name="Creuse")
    session.add(territory)
    session.commit()
    return make_user(session, "coord@example.org", territory=territory)


def test_a_password_change_keeps_this_session_with_a_new_csrf_token(client, coordinator):
    login(client, coordinator.email)
    old = csrf_token(client, "/compte/mot-de-passe")
    assert len(old) == 43  # token_urlsafe(32): 256 bits in 43 base64url characters
    response = client.post(
        "/compte/mot-de-passe",
        data={
            "csrf_token": old,
            "current_password": TEST_PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert "Votre mot de passe a été changé." in response.text
    # Still signed in: the page itself, not a redirect to the login form.
    page = client.get("/t/23/", follow_redirects=False)
    assert page.status_code == 200 and "Se déconnecter" in page.text
    new = csrf_token(client, "/t/23/")
    assert new != old and len(new) == 43
    # The token from before the change no longer works; the new one does.
    refused = client.post("/logout", data={"csrf_token": old}, follow_redirects=False)
    assert refused.status_code == 403 and "Le formulaire a expiré" in refused.text
    done = client.post("/logout", data={"csrf_token": new}, follow_redirects=False)
    assert done.headers["location"] == "/login?deconnecte=1"


# --- without a database: the helpers, on stand-ins for the request and the session ---------


class _Request:
    """What app.security reads from a request: the signed session dict and `state`."""

    def __init__(self, session: dict | None = None, client_host: str | None = "192.0.2.7"):
        self.session = session if session is not None else {}
        self.state = SimpleNamespace()
        self.client = SimpleNamespace(host=client_host) if client_host else None


class _Db:
    def __init__(self, *rows):
        self.rows = {(type(r), r.id): r for r in rows}

    def get(self, model, key):
        return self.rows.get((model, key))


NOW = 1_800_000_000


@pytest.fixture
def frozen_time(monkeypatch):
    monkeypatch.setattr(security.time, "time", lambda: NOW)


def _user(**kw) -> User:
    values = {"id": 7, "email": "u@example.org", "password_hash": "x", "role": "coordinator"}
    return User(**{**values, **kw})


@pytest.mark.parametrize(
    ("idle", "seen_after"),
    [
        (0, NOW),
        (security._TOUCH_EVERY, NOW - security._TOUCH_EVERY),  # exactly 5 minutes: left as is
        (security._TOUCH_EVERY + 1, NOW),  # beyond: the idle clock restarts
    ],
)
def test_activity_is_written_back_at_most_every_five_minutes(frozen_time, idle, seen_after):
    user = _user(session_version=3)
    request = _Request({"uid": 7, "sv": 3, "seen": NOW - idle})
    assert security.session_user(request, _Db(user)) is user
    assert request.session["seen"] == seen_after
    assert request.state.user is user


def test_a_session_without_activity_time_gets_one(frozen_time):
    request = _Request({"uid": 7, "sv": 1})
    assert security.session_user(request, _Db(_user())) is not None
    assert request.session["seen"] == NOW


@pytest.mark.parametrize(
    "user",
    [_user(active=False), _user(session_version=2)],
    ids=["deactivated", "password changed elsewhere"],
)
def test_a_refused_session_is_emptied(frozen_time, user):
    request = _Request({"uid": 7, "sv": 1, "csrf": "t", "seen": NOW})
    assert security.session_user(request, _Db(user)) is None
    assert request.session == {}
    assert request.state.user is None


def test_an_unknown_account_empties_the_session_but_no_uid_leaves_it(frozen_time):
    unknown = _Request({"uid": 8, "sv": 1, "csrf": "t"})
    assert security.session_user(unknown, _Db(_user())) is None and unknown.session == {}
    anonymous = _Request({"csrf": "t"})
    assert security.session_user(anonymous, _Db(_user())) is None
    assert anonymous.session == {"csrf": "t"}  # the login form's token survives


def test_the_user_is_looked_up_once_per_request(frozen_time):
    request = _Request({"uid": 7, "sv": 1, "seen": NOW})
    user = security.session_user(request, _Db(_user()))
    assert user is not None
    assert security.session_user(request, _Db()) is user  # no second lookup


def test_a_new_session_holds_the_user_its_version_a_fresh_token_and_the_time(frozen_time):
    request = _Request({"uid": 1, "csrf": "old", "other": "x"})
    security.start_session(request, _user(session_version=4))
    assert set(request.session) == {"uid", "sv", "csrf", "seen"}
    assert request.session["uid"] == 7 and request.session["sv"] == 4
    assert request.session["seen"] == NOW
    assert len(request.session["csrf"]) == 43 and request.session["csrf"] != "old"
    security.end_session(request)
    assert request.session == {}


def test_the_csrf_token_is_made_once_then_kept():
    request = _Request()
    token = security.csrf_token(request)
    assert len(token) == 43 and request.session["csrf"] == token
    assert security.csrf_token(request) == token
    assert security.csrf_token(_Request({"csrf": ""})) != ""


def test_secrets_compare_as_bytes_up_to_128_characters():
    long = "a" * security.CSRF_MAX_LENGTH
    assert security.same_secret(long, long)
    assert not security.same_secret(long + "a", long + "a")
    assert security.same_secret("é", "é")
    assert not security.same_secret("é", "e")
    assert not security.same_secret("t", None) and not security.same_secret("t", "")
    # A lone surrogate (a JSON escape) is a wrong token, not an error; the same one matches.
    assert not security.same_secret("t", "\ud800")
    assert security.same_secret("\ud800", "\ud800")


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("/t/23/", True),
        ("/t/23/eXport?X=1", True),  # capitals are fine
        ("/" + "a" * 499, True),  # 500 characters
        ("/" + "a" * 500, False),
        ("//evil.example", False),
        ("/\\evil.example", False),
        ("/t/23/\\x", False),
        ("/t/23/\rx", False),
        ("/t/23/\nx", False),
        ("https://evil.example/", False),
        ("", False),
        (None, False),
    ],
)
def test_only_local_paths_are_followed_after_login(target, kept):
    assert security.safe_next(target) == (target if kept else None)


def test_the_client_address_or_nothing():
    assert security.client_ip(_Request()) == "192.0.2.7"
    assert security.client_ip(_Request(client_host=None)) == ""


def test_landing_page_after_login():
    db = _Db(Territory(id=5, code="23", name="Creuse"))
    assert security.home_for(_user(role="admin", territory_id=5), db) == "/admin/territoires"
    assert security.home_for(_user(territory_id=None), db) == "/admin/territoires"
    assert security.home_for(_user(territory_id=5), db) == "/t/23/"
    assert security.home_for(_user(territory_id=6), db) == "/"


# --- over HTTP -------------------------------------------------------------------------------


def test_the_csrf_token_is_read_from_the_header_or_the_form_only(client, coordinator):
    login(client, coordinator.email)
    token = csrf_token(client, "/t/23/")

    def logout(**kw):
        return client.post("/logout", follow_redirects=False, **kw).status_code

    assert logout(data={"csrf_token": "faux"}) == 403
    assert logout(headers={"X-CSRF-Token": "faux"}, data={"csrf_token": token}) == 403
    assert logout(json={"csrf_token": token}) == 403  # JSON bodies are not read for it
    assert (
        logout(content=b"csrf_token=" + token.encode(), headers={"content-type": "text/plain"})
        == 403
    )
    # An unreadable multipart body counts as a missing token: 403, not 500.
    broken = {"content-type": "multipart/form-data; boundary=x"}
    assert logout(content=b"--y\r\nnonsense", headers=broken) == 403
    # The token sent as a file instead of a field: a wrong token, not an error.
    assert logout(files={"csrf_token": ("jeton.txt", token.encode(), "text/plain")}) == 403
    assert logout(files={"csrf_token": (None, token)}) == 303  # multipart form field


def test_the_csrf_header_alone_is_enough(client, coordinator):
    login(client, coordinator.email)
    token = csrf_token(client, "/t/23/")
    response = client.post("/logout", headers={"X-CSRF-Token": token}, follow_redirects=False)
    assert response.status_code == 303


def test_the_login_redirect_keeps_the_query(client, coordinator):
    response = client.get("/t/23/?annee=2025&tri=nom", follow_redirects=False)
    # quote(…, safe="/"): the query travels inside next= without breaking the login URL.
    assert response.headers["location"] == "/login?next=/t/23/%3Fannee%3D2025%26tri%3Dnom"


def test_the_api_asks_for_the_session_cookie(client, app):
    probe = APIRouter()

    @probe.get("/api/v1/t/{code}/sonde")
    def _probe(scope: security.ViewerScope):
        return {"territory": scope.territory.code}

    app.include_router(probe)
    response = client.get("/api/v1/t/23/sonde")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Cookie realm="carte"'


def test_the_session_cookie_flags(app, coordinator):
    for base, secure in (("http://testserver", False), ("https://testserver", True)):
        with TestClient(app, base_url=base) as client:
            form = {"email": coordinator.email, "password": TEST_PASSWORD}
            form["csrf_token"] = csrf_token(client)
            cookie = client.post("/login", data=form, follow_redirects=False).headers["set-cookie"]
            assert cookie.startswith("carte_session=")
            flags = cookie.lower()
            assert "max-age=28800" in flags  # 8 hours
            assert "samesite=lax" in flags and "httponly" in flags
            assert ("secure" in flags.replace("samesite", "")) is secure


def test_who_may_read_and_write_a_territory(session, coordinator):
    from fastapi import HTTPException

    other = Territory(code="87", name="Haute-Vienne")
    session.add(other)
    session.commit()
    admin = make_user(session, "root@example.org", role="admin")
    creuse = session.get(Territory, coordinator.territory_id)
    viewer = make_user(session, "lecteur@example.org", role="viewer", territory=creuse)
    for user, can_write in ((admin, True), (coordinator, True), (viewer, False)):
        request = _Request()
        scope = security.viewer_scope("23", request, user, session)
        assert scope.territory.code == "23" and scope.can_write is can_write
        assert request.state.scope is scope  # read by the templates and the audit
    with pytest.raises(HTTPException) as refused:
        security.coordinator_scope(security.viewer_scope("23", _Request(), viewer, session))
    assert refused.value.status_code == 403 and refused.value.detail == security.READ_ONLY
    assert security.viewer_scope("87", _Request(), admin, session).territory.code == "87"
    for code in ("87", "99"):  # another territory, or none: not disclosed
        with pytest.raises(HTTPException) as hidden:
            security.viewer_scope(code, _Request(), coordinator, session)
        assert hidden.value.status_code == 404


def test_an_https_site_marks_its_cookie_secure_even_behind_a_plain_http_proxy(settings, engine):
    """base_url in https (TLS ended at a reverse proxy that talks plain HTTP to the app)."""
    from app.main import create_app

    app = create_app(
        settings.model_copy(update={"base_url": "https://carte.example"}), engine=engine
    )
    with TestClient(app, base_url="http://testserver") as client:
        # The login form's CSRF token starts the session: its cookie is already Secure.
        cookie = client.get("/login").headers["set-cookie"]
    assert "secure" in cookie.lower().replace("samesite", "")

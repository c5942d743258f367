"""Accounts for tests: create a user, sign in through the real login form."""

from __future__ import annotations

import re

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlmodel import Session, select

from survey import accounts
from survey.accounts import AuditEvent, User
from survey.models import Territory

TEST_PASSWORD = "motdepasse-test-123"

# Tests sign in hundreds of times: argon2id with a small cost keeps them fast. Production
# keeps pwdlib's recommended parameters (survey.accounts._hasher).
_FAST = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
accounts._hasher = lambda: _FAST  # type: ignore[method-assign]
accounts._dummy_hash.cache_clear()
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_user(
    session: Session,
    email: str,
    password: str = TEST_PASSWORD,
    role: str = "coordinator",
    territory: Territory | None = None,
) -> User:
    """A committed account (admins get no territory)."""
    user = accounts.create_user(
        session, email, password, role, None if role == "admin" else territory
    )
    session.commit()
    session.refresh(user)
    return user


def csrf_token(client, path: str = "/login") -> str:
    """Read `path` with the client's session and return the CSRF token of its first form."""
    response = client.get(path)
    match = _CSRF.search(response.text)
    assert match, f"no CSRF token on {path} (status {response.status_code})"
    return match.group(1)


def login(client, email: str, password: str = TEST_PASSWORD) -> None:
    """Sign in through the login form; fails the test if the login is refused."""
    client.cookies.clear()
    token = csrf_token(client, "/login")
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, f"login refused for {email}: {response.status_code}"


def login_as(client, engine, email: str, role: str, territory_code: str) -> None:
    """Create the account (role, territory by code) and sign in with it."""
    with Session(engine) as s:
        territory = s.exec(select(Territory).where(Territory.code == territory_code)).one()
        make_user(s, email, role=role, territory=territory)
    login(client, email)


def post_form(client, url: str, token_page: str, data=None, files=None, **kw):
    """POST `data` to `url` with the CSRF token read on `token_page`, no redirect followed."""
    token = csrf_token(client, token_page)
    return client.post(
        url, data={**(data or {}), "csrf_token": token}, files=files, follow_redirects=False, **kw
    )


def audit_details(engine, action: str) -> list[str]:
    """The detail of every audit event of `action`."""
    with Session(engine) as s:
        return [e.detail for e in s.exec(select(AuditEvent).where(AuditEvent.action == action))]

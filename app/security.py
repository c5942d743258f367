"""Sessions, CSRF, the current user and territory scopes.

A session is a signed cookie (HttpOnly, SameSite=Lax, Secure over HTTPS) holding the user id,
the user's session version (bumped by a password change, which logs out other sessions), a
CSRF token and the time of the last activity. It expires after SESSION_IDLE without a request.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse
from jinja2 import pass_context
from markupsafe import Markup
from sqlmodel import Session
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Send
from starlette.types import Scope as AsgiScope

from app.db import SessionDep
from app.templating import templates
from survey import accounts
from survey.accounts import User
from survey.models import Territory

SESSION_COOKIE = "carte_session"
SESSION_IDLE = 8 * 3600  # seconds without a request before the session expires
_TOUCH_EVERY = 300  # re-sign the cookie at most every 5 minutes to slide the idle expiry
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
CSRF_EXPIRED = "Le formulaire a expiré, rechargez la page."
# Our tokens are 43 characters (token_urlsafe(32)): anything much longer is refused unread.
CSRF_MAX_LENGTH = 128
READ_ONLY = (
    "Votre compte est en lecture seule : cette action est réservée aux coordinateurs du territoire."
)


class LoginRequired(Exception):
    """Raised by `current_user` when nobody (valid) is signed in."""


@dataclass
class Scope:
    """Who is acting on which territory."""

    user: User
    territory: Territory
    can_write: bool  # False for viewers


# --- setup ---------------------------------------------------------------------------------


class _SessionCookies:
    """SessionMiddleware that adds the Secure flag on HTTPS requests (or always if forced)."""

    def __init__(self, app: ASGIApp, secret: str, force_secure: bool) -> None:
        options = {
            "secret_key": secret,
            "session_cookie": SESSION_COOKIE,
            "max_age": SESSION_IDLE,
            "same_site": "lax",
        }
        self.plain = SessionMiddleware(app, https_only=force_secure, **options)
        self.secure = SessionMiddleware(app, https_only=True, **options)

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        middleware = self.secure if scope.get("scheme") in ("https", "wss") else self.plain
        await middleware(scope, receive, send)


def install(app: FastAPI) -> None:
    """Session cookies, the login redirect and the `csrf_field()` template global."""
    settings = app.state.settings
    app.add_middleware(
        _SessionCookies,
        secret=app.state.secret,
        force_secure=settings.base_url.startswith("https://"),
    )

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired):
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {"detail": "Connexion requise."},
                status_code=401,
                headers={"WWW-Authenticate": 'Cookie realm="carte"'},
            )
        target = request.url.path
        if request.url.query and request.method == "GET":
            target += "?" + request.url.query
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)


# --- CSRF ----------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


@pass_context
def csrf_field(context) -> Markup:
    """`{{ csrf_field() }}`: the hidden input every POST form carries."""
    token = csrf_token(context["request"])
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(token)


templates.env.globals["csrf_field"] = csrf_field


async def verify_csrf(request: Request) -> None:
    """403 unless the form field `csrf_token` (or header X-CSRF-Token) matches the session."""
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            try:
                form = await request.form()
            except Exception:  # unreadable body: treat as a missing token
                form = {}
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not expected or not same_secret(str(expected), sent):
        raise HTTPException(status_code=403, detail=CSRF_EXPIRED)


def same_secret(expected: str, sent: str | None, max_length: int = CSRF_MAX_LENGTH) -> bool:
    """Constant-time comparison of a secret with what a client sent, as UTF-8 bytes:
    `compare_digest` raises on str with non-ASCII characters (a 500 for a token like « é »)."""
    if not sent or len(sent) > max_length:
        return False
    # surrogatepass: a lone surrogate (from a JSON escape) is a wrong token, not an error.
    return secrets.compare_digest(
        expected.encode("utf-8", "surrogatepass"), sent.encode("utf-8", "surrogatepass")
    )


CsrfChecked = Depends(verify_csrf)


# --- session and current user --------------------------------------------------------------


def start_session(request: Request, user: User) -> None:
    """Sign `user` in: a fresh session (new CSRF token) bound to the user's session version."""
    request.session.clear()
    request.session.update(
        {
            "uid": user.id,
            "sv": user.session_version,
            "csrf": secrets.token_urlsafe(32),
            "seen": int(time.time()),
        }
    )


def end_session(request: Request) -> None:
    request.session.clear()


def refresh_session_version(request: Request, user: User) -> None:
    """After the user changed their own password: keep this session, drop the others."""
    request.session["sv"] = user.session_version
    request.session["csrf"] = secrets.token_urlsafe(32)


def session_user(request: Request, session: Session) -> User | None:
    """The signed-in user, or None (unknown, deactivated, or logged out elsewhere)."""
    if hasattr(request.state, "user"):
        return request.state.user
    user = None
    uid = request.session.get("uid")
    if isinstance(uid, int):
        candidate = session.get(User, uid)
        if (
            candidate is not None
            and candidate.active
            and request.session.get("sv") == candidate.session_version
        ):
            user = candidate
            now = int(time.time())
            if now - int(request.session.get("seen", 0)) > _TOUCH_EVERY:
                request.session["seen"] = now
        else:
            request.session.clear()
    request.state.user = user
    return user


def current_user(request: Request, session: SessionDep) -> User:
    user = session_user(request, session)
    if user is None:
        raise LoginRequired()
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def admin_user(user: CurrentUser) -> User:
    if not user.is_admin:
        raise HTTPException(status_code=404)
    return user


AdminUser = Annotated[User, Depends(admin_user)]


def viewer_scope(code: str, request: Request, user: CurrentUser, session: SessionDep) -> Scope:
    """The territory `code` if the user may see it; 404 otherwise (existence not disclosed)."""
    territory = accounts.territory_by_code(session, code)
    if territory is None or not (user.is_admin or user.territory_id == territory.id):
        raise HTTPException(status_code=404)
    scope = Scope(user=user, territory=territory, can_write=user.role in ("admin", "coordinator"))
    request.state.scope = scope
    return scope


ViewerScope = Annotated[Scope, Depends(viewer_scope)]


def coordinator_scope(scope: ViewerScope) -> Scope:
    if not scope.can_write:
        raise HTTPException(status_code=403, detail=READ_ONLY)
    return scope


CoordinatorScope = Annotated[Scope, Depends(coordinator_scope)]


def home_for(user: User, session: Session) -> str:
    """Where a user lands after login."""
    if user.is_admin or user.territory_id is None:
        return "/admin/territoires"
    territory = session.get(Territory, user.territory_id)
    return f"/t/{territory.code}/" if territory else "/"


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site (no open redirect), else None."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(c in target for c in "\r\n\\") or len(target) > 500:
        return None
    return target


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""

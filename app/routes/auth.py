"""Sign in, sign out, change one's password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from app.deps import CsrfChecked, CurrentUser, SessionDep, see_other
from app.security import (
    client_ip,
    end_session,
    home_for,
    refresh_session_version,
    safe_next,
    session_user,
    start_session,
    verify_csrf,
)
from app.templating import templates
from survey import accounts

router = APIRouter(include_in_schema=False)


def _login_page(request: Request, status: int = 200, **context) -> HTMLResponse:
    context.setdefault("email", "")
    context.setdefault("errors", {})
    context.setdefault("next", "")
    return templates.TemplateResponse(request, "auth/login.html", context, status_code=status)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, session: SessionDep, next: str = "", deconnecte: str = ""):
    user = session_user(request, session)
    if user is not None:
        return see_other(safe_next(next) or home_for(user, session))
    return _login_page(request, next=safe_next(next) or "", logged_out=bool(deconnecte))


@router.post("/login", response_class=HTMLResponse, dependencies=[CsrfChecked])
def login(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=300)] = "",
    password: Annotated[str, Form(max_length=300)] = "",
    next: Annotated[str, Form(max_length=600)] = "",
):
    target = safe_next(next)
    errors: dict[str, str] = {}
    if not email.strip():
        errors["email"] = "Indiquez votre adresse e-mail."
    if not password:
        errors["password"] = "Indiquez votre mot de passe."
    if errors:
        return _login_page(request, 400, email=email, errors=errors, next=target or "")
    try:
        user = accounts.authenticate(session, email, password, client_ip(request))
    except accounts.Throttled as exc:
        response = _login_page(
            request, 429, email=email, errors={"email": exc.message}, next=target or ""
        )
        response.headers["Retry-After"] = str(int(exc.retry_after.total_seconds()) + 1)
        return response
    except accounts.AccountError as exc:
        return _login_page(
            request, 400, email=email, errors={"email": exc.message}, next=target or ""
        )
    start_session(request, user)
    return see_other(target or home_for(user, session))


@router.post("/logout")
async def logout(request: Request, session: SessionDep):
    user = session_user(request, session)
    if user is not None:
        # Only a signed-in session needs protecting; an expired one just goes to the login.
        await verify_csrf(request)
        accounts.commit_audited(session, user, "logout", target=user.email)
    end_session(request)
    return see_other("/login?deconnecte=1")


def _password_page(request: Request, user, status: int = 200, **context) -> HTMLResponse:
    context.setdefault("errors", {})
    context["user"] = user
    return templates.TemplateResponse(request, "auth/password.html", context, status_code=status)


@router.get("/compte/mot-de-passe", response_class=HTMLResponse)
def password_form(request: Request, user: CurrentUser, session: SessionDep):
    return _password_page(request, user, back=home_for(user, session))


@router.post("/compte/mot-de-passe", response_class=HTMLResponse, dependencies=[CsrfChecked])
def password_change(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    current_password: Annotated[str, Form(max_length=300)] = "",
    new_password: Annotated[str, Form(max_length=300)] = "",
    confirm: Annotated[str, Form(max_length=300)] = "",
):
    back = home_for(user, session)
    try:
        accounts.change_password(user, current_password, new_password, confirm)
    except accounts.AccountError as exc:
        session.rollback()
        return _password_page(request, user, 400, errors={exc.field: exc.message}, back=back)
    accounts.commit_audited(session, user, "password.change", target=user.email)
    refresh_session_version(request, user)
    return _password_page(request, user, done=True, back=back)

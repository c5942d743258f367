"""Viewer accounts of a territory, managed by its coordinators: `/t/{code}/lecteurs...`.

A coordinator lists, adds, deactivates and reactivates the viewers (read-only accounts) of
their own territory, and never sees or changes coordinators, administrators or accounts of
another territory (404). A new viewer has no password: the coordinator gets a one-time
"choose your password" link to pass on (also e-mailed when SMTP is configured), which the
person opens at `/compte/choisir-mot-de-passe/{token}` (survey.accounts explains the link).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.deps import (
    CoordinatorScope,
    CsrfChecked,
    Scope,
    SessionDep,
    commit_audited,
    or_404,
    see_other,
    workspace_url,
)
from app.mail import smtp_config
from app.templating import templates
from survey import accounts
from survey.accounts import User
from survey.models import Territory

router = APIRouter(include_in_schema=False)

SET_PASSWORD_PATH = "/compte/choisir-mot-de-passe"
Text = Annotated[str, Form(max_length=300)]
UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]
NOTICES = {
    "desactive": "Le compte est désactivé : la personne ne peut plus se connecter, et ses "
    "liens pour choisir un mot de passe ne fonctionnent plus.",
    "reactive": "Le compte est réactivé : la personne peut de nouveau se connecter.",
}
NO_STORE = {"Cache-Control": "no-store"}


def _viewer_or_404(session: Session, scope: Scope, user_id: int) -> User:
    return or_404(
        accounts.viewer_of(session, scope.territory.id, user_id),
        "Ce compte de lecteur n'existe pas dans ce territoire.",
    )


def _list_page(
    request: Request, scope: Scope, session: Session, status: int = 200, **context
) -> HTMLResponse:
    context.setdefault("errors", {})
    context.setdefault("values", {})
    context.setdefault("notice", "")
    return templates.TemplateResponse(
        request,
        "viewers/list.html",
        {
            "scope": scope,
            "section": "lecteurs",
            "rows": accounts.list_viewers(session, scope.territory.id),
            "smtp": smtp_config(request.app.state.settings) is not None,
            **context,
        },
        status_code=status,
    )


def _link_url(request: Request, token: str) -> str:
    return f"{request.app.state.settings.base_url.rstrip('/')}{SET_PASSWORD_PATH}/{token}"


def _hand_over(
    request: Request,
    scope: Scope,
    session: Session,
    user: User,
    token: str,
    expires: datetime,
    created: bool,
) -> HTMLResponse:
    """E-mail the link when SMTP is configured, then show it to the coordinator (once)."""
    link = _link_url(request, token)
    smtp = smtp_config(request.app.state.settings)
    mail_error = ""
    if smtp is not None:
        base_url = request.app.state.settings.base_url.rstrip("/")
        message = accounts.password_link_message(
            smtp.mail_from, user, link, scope.territory, expires, scope.user, f"{base_url}/login"
        )
        mail_error = accounts.send_password_link(smtp, message)
        commit_audited(
            session,
            scope,
            "viewer.link_email",
            user.email,
            f"échec : {mail_error}" if mail_error else "envoyé",
        )
    response = templates.TemplateResponse(
        request,
        "viewers/link.html",
        {
            "scope": scope,
            "section": "lecteurs",
            "viewer": user,
            "link": link,
            "expires": expires,
            "created": created,
            "smtp": smtp is not None,
            "mail_error": mail_error,
        },
    )
    response.headers.update(NO_STORE)
    return response


# --- coordinator pages ---------------------------------------------------------------------


@router.get("/t/{code}/lecteurs", response_class=HTMLResponse)
def viewer_list(request: Request, scope: CoordinatorScope, session: SessionDep, fait: str = ""):
    return _list_page(request, scope, session, notice=NOTICES.get(fait, ""))


@router.post("/t/{code}/lecteurs", response_class=HTMLResponse, dependencies=[CsrfChecked])
def viewer_create(
    request: Request,
    scope: CoordinatorScope,
    session: SessionDep,
    email: Text = "",
    full_name: Text = "",
):
    values = {"email": email, "full_name": full_name}
    try:
        user = accounts.create_viewer(session, scope.territory, email, full_name)
    except accounts.AccountError as exc:
        session.rollback()
        return _list_page(
            request, scope, session, 400, errors={exc.field or "email": exc.message}, values=values
        )
    except IntegrityError:  # the same e-mail added at the same moment by someone else
        session.rollback()
        message = f"Un compte existe déjà pour {accounts.normalise_email(email)}."
        return _list_page(request, scope, session, 400, errors={"email": message}, values=values)
    token, expires = accounts.issue_password_link(request.app.state.secret, user)
    commit_audited(
        session, scope, "viewer.create", user.email, "lecteur ; lien pour choisir un mot de passe"
    )
    return _hand_over(request, scope, session, user, token, expires, created=True)


@router.post(
    "/t/{code}/lecteurs/{user_id}/lien", response_class=HTMLResponse, dependencies=[CsrfChecked]
)
def viewer_new_link(
    request: Request, user_id: UserId, scope: CoordinatorScope, session: SessionDep
):
    user = _viewer_or_404(session, scope, user_id)
    if not user.active:
        raise HTTPException(
            status_code=409,
            detail="Ce compte est désactivé : réactivez-le avant de lui donner un nouveau lien.",
        )
    token, expires = accounts.issue_password_link(request.app.state.secret, user, replace=True)
    commit_audited(
        session, scope, "viewer.link", user.email, "nouveau lien ; les précédents sont annulés"
    )
    return _hand_over(request, scope, session, user, token, expires, created=False)


@router.post("/t/{code}/lecteurs/{user_id}/actif", dependencies=[CsrfChecked])
def viewer_active(user_id: UserId, scope: CoordinatorScope, session: SessionDep, active: Text = ""):
    user = _viewer_or_404(session, scope, user_id)
    activate = active == "true"
    accounts.set_active(user, activate)
    commit_audited(
        session, scope, "viewer.activate" if activate else "viewer.deactivate", user.email
    )
    notice = "reactive" if activate else "desactive"
    return see_other(f"{workspace_url(scope, 'lecteurs')}?fait={notice}#compte-{user.id}")


# --- the one-time link, opened by the viewer (no session needed) ---------------------------


def _link_user(request: Request, session: Session, token: str) -> User:
    try:
        return accounts.password_link_user(session, request.app.state.secret, token)
    except accounts.PasswordLinkInvalid as exc:
        raise HTTPException(status_code=exc.status, detail=exc.message) from None


def _choose_page(
    request: Request, session: Session, user: User, token: str, status: int = 200, **context
) -> HTMLResponse:
    context.setdefault("errors", {})
    territory = session.get(Territory, user.territory_id) if user.territory_id else None
    response = templates.TemplateResponse(
        request,
        "auth/choose_password.html",
        {
            "account": user,
            "territory": territory,
            "action": f"{SET_PASSWORD_PATH}/{token}",
            **context,
        },
        status_code=status,
    )
    response.headers.update(NO_STORE)
    return response


@router.get(SET_PASSWORD_PATH + "/{token}", response_class=HTMLResponse)
def choose_password_form(request: Request, token: str, session: SessionDep):
    user = _link_user(request, session, token)
    return _choose_page(request, session, user, token)


@router.post(
    SET_PASSWORD_PATH + "/{token}", response_class=HTMLResponse, dependencies=[CsrfChecked]
)
def choose_password(
    request: Request,
    token: str,
    session: SessionDep,
    new_password: Text = "",
    confirm: Text = "",
):
    user = _link_user(request, session, token)
    try:
        accounts.set_password_with_link(
            session, request.app.state.secret, token, new_password, confirm
        )
    except accounts.PasswordLinkInvalid as exc:
        session.rollback()
        raise HTTPException(status_code=exc.status, detail=exc.message) from None
    except accounts.AccountError as exc:
        session.rollback()
        return _choose_page(request, session, user, token, 400, errors={exc.field: exc.message})
    accounts.commit_audited(
        session,
        user,
        "password.set_by_link",
        target=user.email,
        detail="mot de passe choisi avec un lien à usage unique",
        territory_id=user.territory_id,
    )
    return _choose_page(request, session, user, token, done=True)

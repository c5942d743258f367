"""What the route modules share: the dependencies they declare and the few steps every
workspace page repeats (its address, its audited commit, the 404 of a row from another
territory).

The named dependency types are defined next to their machinery — the session in app.db,
users and scopes in app.security — and gathered here so that a route imports them from one
place.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session

from app.db import SessionDep
from app.params import small_int
from app.security import (
    AdminUser,
    CoordinatorScope,
    CsrfChecked,
    CurrentUser,
    Scope,
    ViewerScope,
)
from app.templating import templates
from survey import accounts
from survey import professionals as pros
from survey.models import Professional

T = TypeVar("T")

__all__ = [
    "AdminUser",
    "CoordinatorScope",
    "CsrfChecked",
    "CurrentUser",
    "Scope",
    "SessionDep",
    "ViewerScope",
    "commit_audited",
    "or_404",
    "professional_or_404",
    "see_other",
    "workspace_page",
    "workspace_url",
]


def workspace_url(scope: Scope, *parts: str) -> str:
    """The address of a workspace page: `workspace_url(scope, "repertoire")` →
    `/t/23/repertoire`."""
    return "/".join((f"/t/{scope.territory.code}", *parts))


def commit_audited(
    session: Session, scope: Scope, action: str, target: str, detail: str = ""
) -> None:
    """Commit the changes of a workspace action with its audit event (signed-in user, the
    scope's territory)."""
    accounts.commit_audited(
        session, scope.user, action, target, detail, territory_id=scope.territory.id
    )


def commit_audited_each(
    session: Session, scope: Scope, action: str, events: list[tuple[str, str]]
) -> None:
    """Commit a bulk action with one audit event per (target, detail), as the single action
    writes them: the changes and their traces together."""
    for target, detail in events:
        accounts.audit(session, scope.user, action, target, detail, territory_id=scope.territory.id)
    session.commit()


def or_404(row: T | None, detail: str) -> T:
    """`row`, or a 404 with a French `detail` when there is none. Lookups in a territory
    answer None for another territory's rows too, so both look the same from outside."""
    if row is None:
        raise HTTPException(status_code=404, detail=detail)
    return row


def professional_or_404(session: Session, scope: Scope, pro_id: int) -> Professional:
    """A professional of the scope's territory."""
    return or_404(
        pros.get_professional(session, scope.territory.id, pro_id),
        "Cette personne n'existe pas dans ce territoire.",
    )


MAX_CHECKED = 2000  # more than a large département's professionals


def checked_people(session: Session, scope: Scope, raw: list[str]) -> list[Professional]:
    """The professionals checked in a list (`p` fields) for a bulk action, of the scope's
    territory: 400 when none is checked or an id is not a number, 404 when one is not of
    this territory (nothing is done then)."""
    ids = [small_int(v) for v in raw[: MAX_CHECKED + 1]]
    if not ids:
        raise HTTPException(
            status_code=400,
            detail="Cochez au moins une personne dans la liste, puis recommencez.",
        )
    if len(ids) > MAX_CHECKED or any(i is None for i in ids):
        raise HTTPException(status_code=400, detail="La liste des personnes cochées est illisible.")
    return or_404(
        pros.professionals_by_ids(session, scope.territory.id, [i for i in ids if i is not None]),
        "Une des personnes cochées n'existe pas dans ce territoire : rien n'a été fait.",
    )


def see_other(url: str) -> RedirectResponse:
    """The redirect after a successful POST (303: the browser follows it with a GET)."""
    return RedirectResponse(url, status_code=303)


def workspace_page(
    section: str,
    request: Request,
    template: str,
    scope: Scope,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page of a workspace section (`section` marks it in the navigation); `errors` is
    empty unless given. A module binds its section once:
    `_render = partial(workspace_page, "repertoire")`."""
    context.setdefault("errors", {})
    return templates.TemplateResponse(
        request, template, {"scope": scope, "section": section, **context}, status_code=status
    )

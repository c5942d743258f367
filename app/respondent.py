"""Resolving a personal link to its respondent, shared by the page and the API.

Unknown links are throttled per client address (survey/link_throttle.py). The address comes
from a context variable set by `ClientAddress`, a small ASGI middleware, so that every caller
(questionnaire page and API, directory, own map, RGPD pages) gets the throttle without
passing the request along.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import NoReturn

from fastapi import HTTPException
from sqlmodel import Session
from starlette.types import ASGIApp, Receive, Send
from starlette.types import Scope as AsgiScope

from survey import link_throttle
from survey.questionnaire import Respondent, respondent_for_token

UNKNOWN_LINK = (
    "Ce lien n'est pas (ou plus) valable. Il a peut-être été remplacé par un nouveau lien : "
    "demandez-le à la personne qui coordonne l'enquête."
)
TOO_MANY_UNKNOWN = (
    "Trop de liens inconnus ont été essayés depuis votre adresse. Par sécurité, réessayez "
    "dans {minutes} minute{s}. Si votre lien ne fonctionne pas, demandez-en un nouveau à la "
    "personne qui coordonne l'enquête."
)

# The address of the client of the current request ("" outside a request).
client_address: ContextVar[str] = ContextVar("client_address", default="")


class ClientAddress:
    """Publishes the client address (after uvicorn's proxy-header rewrite) to the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        reset = client_address.set(str(client[0]) if client else "")
        try:
            await self.app(scope, receive, send)
        finally:
            client_address.reset(reset)


def respondent_or_404(session: Session, token: str) -> Respondent:
    respondent = respondent_for_token(session, token)
    if respondent is None:
        _unknown_link(session)
    return respondent


def _unknown_link(session: Session) -> NoReturn:
    """Raise 404, or 429 when this address tried too many unknown links recently."""
    ip = client_address.get()
    if ip:
        # A session of its own: the failure is committed whatever the caller does next.
        with Session(session.get_bind()) as own:
            wait = link_throttle.blocked_for(own, ip)
            if wait is not None:
                minutes = max(1, -(-int(wait.total_seconds()) // 60))
                raise HTTPException(
                    status_code=429,
                    detail=TOO_MANY_UNKNOWN.format(minutes=minutes, s="s" if minutes > 1 else ""),
                    headers={"Retry-After": str(int(wait.total_seconds()) + 1)},
                )
            link_throttle.record_failure(own, ip)
            own.commit()
    raise HTTPException(status_code=404, detail=UNKNOWN_LINK)

"""A size cap on every request body: 413 in French before the body is read into memory.

A pure ASGI middleware. A request whose `Content-Length` exceeds the cap of its route is
refused without reading a byte of its body. Without `Content-Length` (chunked), the bytes
are counted as the application reads them: past the cap it gets an exception instead of
more body, so no handler ever runs on a cut-short body, and whatever it would have answered
is replaced by the 413. Only what fits under the cap is ever held in memory.

Before this, the JSON API had no cap: a 100 MB draft was accepted, and four anonymous 50 MB
PUTs to an unknown link took the server from 230 to 663 MB (issue 11; bench/body_cap.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.routing import APIRoute, iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import get_route_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import forms
from app.templating import templates
from survey.tabular import MAX_BYTES as UPLOAD_FILE_BYTES

MB = 1024 * 1024
# The largest valid answer (200 partners, every text at its maximum length, every list full)
# measures 382 KB in ASCII, 575 KB in French accented text and 961 KB in 4-byte characters
# as UTF-8 (what browsers and httpx send), but 1.36 MB (accents) and 2.52 MB (4-byte
# characters) with \uXXXX escapes (Python's json.dumps default): 3 MB refuses no valid
# answer however it is encoded, and stays 30 times below the 100 MB draft once accepted.
JSON_MAX_BYTES = 3 * MB
FORM_MAX_BYTES = forms.MAX_BODY_BYTES  # 4 MB: the questionnaire page with 200 partners
# The file (2 MB) plus the multipart envelope and the form's other fields.
UPLOAD_MAX_BYTES = UPLOAD_FILE_BYTES + 64 * 1024
SMALLEST_CAP = min(JSON_MAX_BYTES, FORM_MAX_BYTES, UPLOAD_MAX_BYTES)

TITLE = "Envoi trop volumineux"
JSON_TOO_LARGE = (
    f"Cet envoi est trop volumineux ({JSON_MAX_BYTES // MB} Mo au maximum) : "
    "rien n'a été enregistré."
)
FORM_TOO_LARGE = (
    f"Votre envoi est trop volumineux ({FORM_MAX_BYTES // MB} Mo au maximum) : "
    "rien n'a été enregistré."
)
UPLOAD_TOO_LARGE = (
    f"Le fichier est trop volumineux : {UPLOAD_FILE_BYTES // MB} Mo au maximum. "
    "Rien n'a été enregistré."
)


@dataclass(frozen=True)
class Cap:
    max_bytes: int
    message: str


JSON_CAP = Cap(JSON_MAX_BYTES, JSON_TOO_LARGE)
FORM_CAP = Cap(FORM_MAX_BYTES, FORM_TOO_LARGE)
UPLOAD_CAP = Cap(UPLOAD_MAX_BYTES, UPLOAD_TOO_LARGE)


class BodyTooLarge(HTTPException):
    """Raised to the application instead of the body beyond the cap. An HTTPException, so
    that FastAPI's body parsing passes it on rather than calling the body unreadable."""

    def __init__(self, cap: Cap) -> None:
        super().__init__(status_code=413, detail=cap.message)


def _upload_paths(app) -> list[re.Pattern[str]]:
    """Paths of the routes that receive a file: those checking `upload_size_cap`."""
    from app.tabular_io import upload_size_cap

    def dependants(dependant):
        yield dependant
        for sub in dependant.dependencies:
            yield from dependants(sub)

    return [
        route.path_regex
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute)
        and any(d.call is upload_size_cap for d in dependants(route.original_route.dependant))
    ]


class BodySizeLimit:
    """Refuses a request body over the cap of its route (JSON API, upload, other form)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._uploads: list[re.Pattern[str]] | None = None

    def cap_for(self, scope: Scope) -> Cap:
        path = get_route_path(scope)
        if path.startswith("/api/"):
            return JSON_CAP
        if self._uploads is None:  # the routes are all there once requests arrive
            self._uploads = _upload_paths(scope["app"])
        if any(regex.match(path) for regex in self._uploads):
            return UPLOAD_CAP
        return FORM_CAP

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        if length is not None:
            # The server never delivers more than Content-Length: no need to count.
            if length > SMALLEST_CAP and length > (cap := self.cap_for(scope)).max_bytes:
                await too_large(scope, cap)(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        await _Counted(self, scope, receive, send).run()


class _Counted:
    """One request without Content-Length: its body counted as the application reads it."""

    def __init__(self, limit: BodySizeLimit, scope: Scope, receive: Receive, send: Send) -> None:
        self.limit, self.scope, self.receive, self.send = limit, scope, receive, send
        self.received = 0
        self.cap: Cap | None = None  # found once the body passes the smallest cap
        self.exceeded = False
        self.started = False  # the application began its response
        self.answered = False  # our 413 is sent

    async def run(self) -> None:
        try:
            await self.limit.app(self.scope, self.counted_receive, self.guarded_send)
        except Exception:
            if not self.exceeded or self.started:
                raise
        if self.exceeded and not self.answered and not self.started:
            await self.answer()

    async def counted_receive(self) -> Message:
        if self.exceeded:
            raise BodyTooLarge(self.cap or FORM_CAP)
        message = await self.receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > SMALLEST_CAP:
                self.cap = self.cap or self.limit.cap_for(self.scope)
                if self.received > self.cap.max_bytes:
                    self.exceeded = True
                    raise BodyTooLarge(self.cap)
        return message

    async def guarded_send(self, message: Message) -> None:
        if self.exceeded and not self.started:
            # Whatever the application answers to the refused body (its 413, or a 400/403 from
            # code that treats an unreadable body as missing fields), the answer is ours.
            if not self.answered:
                await self.answer()
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)

    async def answer(self) -> None:
        self.answered = True
        assert self.cap is not None
        await too_large(self.scope, self.cap)(self.scope, self.receive, self.send)


def too_large(scope: Scope, cap: Cap) -> Response:
    """The 413: JSON under /api/, the HTML error page elsewhere. The connection is closed
    rather than kept alive: the rest of the body is never read."""
    headers = {"Connection": "close"}
    if get_route_path(scope).startswith("/api/"):
        return JSONResponse({"detail": cap.message}, status_code=413, headers=headers)
    return templates.TemplateResponse(
        Request(scope),
        "error.html",
        {"status": 413, "title": TITLE, "message": cap.message},
        status_code=413,
        headers=headers,
    )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None  # bytes: ASCII digits only
    return None

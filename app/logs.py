"""What the server's logs may say of a request: its path without the secret it may carry.

A personal link's token (`/q/…`, `/api/v1/questionnaire/…`) opens a professional's answers and
a password link's token (`/compte/choisir-mot-de-passe/…`) sets a password: the database keeps
only their hashes, and a log line must not hand them over either. uvicorn's access log writes
every request's path, and the app's own warnings name the path of the request that failed."""

from __future__ import annotations

import logging
import re

HIDDEN = "…"
_SECRET_IN_PATH = re.compile(r"(/q/|/api/v1/questionnaire/|/compte/choisir-mot-de-passe/)[^/?#\s]+")


def redacted(path: str) -> str:
    """`path` with the token of a personal or password link replaced by « … »."""
    return _SECRET_IN_PATH.sub(r"\g<1>" + HIDDEN, path)


class HideLinkTokens(logging.Filter):
    """uvicorn's access log (`uvicorn.access`: client, method, path, HTTP version, status)
    with the path `redacted`."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redacted(args[2]), *args[3:])
        return True


def hide_link_tokens() -> None:
    """Install `HideLinkTokens` on uvicorn's access log, once per process (each worker builds
    the app after uvicorn has configured its logging)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, HideLinkTokens) for f in access.filters):
        access.addFilter(HideLinkTokens())

"""The server's logs never carry a personal link's or a password link's token."""

from __future__ import annotations

import logging
import socket
import threading
import time

import uvicorn

from app.logs import HIDDEN, redacted
from app.routes.viewers import SET_PASSWORD_PATH
from app.serving import HttpToolsOneSend

TOKEN = "Kc4EStZUdY6gMnFWPjqlIzCRaQgDmmMt"


def test_every_path_carrying_a_token_is_redacted():
    for path in (
        f"/q/{TOKEN}",
        f"/q/{TOKEN}/ma-carte",
        f"/q/{TOKEN}?envoye=1",
        f"/api/v1/questionnaire/{TOKEN}",
        f"/api/v1/questionnaire/{TOKEN}/submit",
        f"{SET_PASSWORD_PATH}/{TOKEN}",
    ):
        hidden = redacted(path)
        assert TOKEN not in hidden and HIDDEN in hidden, path
        assert hidden == path.replace(TOKEN, HIDDEN)
    for path in ("/t/creuse/graphe", "/static/carte.css", "/api/v1/t/creuse/graph/2026", "/q/"):
        assert redacted(path) == path


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_access_log_of_a_served_app_hides_tokens(app):
    """The app served by uvicorn with its access log on, as `carte serve` does: the line of a
    request to a personal link names the path without its token."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, http=HttpToolsOneSend, log_level="info")
    )
    lines = _Lines()
    access = logging.getLogger("uvicorn.access")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    access.addHandler(lines)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
            for path in (f"/q/{TOKEN}", f"/api/v1/questionnaire/{TOKEN}/submit"):
                c.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
                seen = b""
                while b"\r\n\r\n" not in seen:
                    seen += c.recv(65536)
        deadline = time.monotonic() + 5
        while len(lines.lines) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        access.removeHandler(lines)
        server.should_exit = True
        thread.join(timeout=10)
    assert len(lines.lines) >= 2
    assert not any(TOKEN in line for line in lines.lines)
    assert any(f"/q/{HIDDEN}" in line for line in lines.lines)
    assert any(f"/api/v1/questionnaire/{HIDDEN}/submit" in line for line in lines.lines)

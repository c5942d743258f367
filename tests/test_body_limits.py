"""Every request body is capped for its route: 413 in French, before the body is read, and
nothing written (app/limits.py, issue 11).

The JSON API had no cap (a 100 MB draft was accepted). Covered: a body announced too large
(Content-Length), a body streamed without Content-Length (chunked), every route of the app,
the upload routes' smaller cap, and the largest valid answer, which must still pass. The
server's memory under 4 × 50 MB PUTs is measured by bench/body_cap.py (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import SQLModel

from app import limits
from bench.body_cap import push
from survey import vocab
from survey.questionnaire import LONG_TEXT, MAX_LINKS, SHORT_TEXT
from tests.accounts_helpers import csrf_token, login, make_user
from tests.factories import build_world
from tests.test_isolation import BOGUS_TOKEN, endpoints

API = "/api/v1/questionnaire/{}"
_PARAM = re.compile(r"{(\w+)(?::\w+)?}")
CHUNK = 256 * 1024


@pytest.fixture
def world(session):
    world = build_world(session)
    make_user(session, "coord23@example.org", territory=world.territory)
    return world


@pytest.fixture
def walker(app):
    """A client that reports server errors as 500 responses."""
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def row_counts(session) -> dict[str, int]:
    session.expire_all()
    return {
        t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
        for t in SQLModel.metadata.sorted_tables
    }


def chunks(total: int, fill: bytes = b" ") -> Iterator[bytes]:
    """A body without Content-Length (sent chunked), `total` bytes of `fill`."""
    block = fill * CHUNK
    sent = 0
    while sent < total:
        part = block[: min(CHUNK, total - sent)]
        sent += len(part)
        yield part


def _json_draft(size: int) -> bytes:
    """A syntactically valid draft of `size` bytes (a comment padded with spaces)."""
    head = b'{"comment": "x"'
    return head + b" " * (size - len(head) - 1) + b"}"


# --- the JSON API ---------------------------------------------------------------------------


def test_oversized_json_put_is_refused_with_content_length(walker, session, world):
    before = row_counts(session)
    for token in (world.tokens["alice"], BOGUS_TOKEN):
        response = walker.put(API.format(token), content=_json_draft(limits.JSON_MAX_BYTES + 1))
        assert response.status_code == 413
        assert response.json() == {"detail": limits.JSON_TOO_LARGE}
        assert "trop volumineux" in response.json()["detail"]
        assert response.headers["connection"] == "close"
    assert row_counts(session) == before


def test_oversized_chunked_json_put_is_refused(walker, session, world):
    before = row_counts(session)
    for token in (world.tokens["alice"], BOGUS_TOKEN):
        response = walker.put(
            API.format(token),
            content=chunks(limits.JSON_MAX_BYTES + CHUNK),
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 413
        assert response.json() == {"detail": limits.JSON_TOO_LARGE}
    # The same body under the cap is read as usual (here: not JSON, so a French 400).
    small = walker.put(
        API.format(world.tokens["alice"]),
        content=chunks(3 * CHUNK),
        headers={"content-type": "application/json"},
    )
    assert small.status_code in (400, 422), small.text
    assert row_counts(session) == before


def largest_answer(world, ch: str = "\U0001d49c") -> dict:
    """The largest valid answer: 200 write-in partners, every text at its maximum length,
    every list full; `ch` (a 4-byte character by default) fills the texts."""

    def text(n: int, i: int = 0) -> str:
        return (f"{i} " + ch * n)[:n]

    longest_type = max(vocab.ORG_TYPES, key=len)
    links = [
        {
            "write_in": {"name": text(200, i), "type": longest_type, "commune": text(120)},
            "status": "confirmed",
            "nature": "informal",
            "frames": list(vocab.FRAMES),
            "channels": list(vocab.CHANNELS),
            "frequency": "occasional",
            "practices": list(vocab.PRACTICES),
            "practice_other": text(SHORT_TEXT),
            "thematiques": list(vocab.THEMATIQUES)[:40],
            "has_named_contact": True,
            "contact_name": text(120),
            "contact_consent": True,
            "quality": 4,
        }
        for i in range(MAX_LINKS)
    ]
    return {
        "function": text(160),
        "years_in_post": "3to10",
        "declared_partner_count": 1000,
        "links": links,
        "obstacles": list(vocab.OBSTACLES),
        "obstacle_other": text(SHORT_TEXT),
        "body_ids": sorted(b.id for b in world.bodies.values()),
        "body_other": text(SHORT_TEXT),
        "comment": text(LONG_TEXT),
    }


def test_the_largest_valid_answer_still_passes(client, session, world):
    answer = largest_answer(world)
    # \uXXXX escapes (json.dumps' default) make the largest body: it must fit under the cap.
    body = json.dumps(answer).encode()
    assert 2 * limits.MB < len(body) <= limits.JSON_MAX_BYTES
    response = client.put(
        API.format(world.tokens["alice"]),
        content=body,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200, response.text[:500]
    stored = client.get(API.format(world.tokens["alice"])).json()
    assert len(stored["links"]) == MAX_LINKS
    assert stored["comment"] == answer["comment"]


def test_a_real_server_answers_413_long_before_the_end_of_the_body(live_server, session, world):
    """Through uvicorn, 40 MB sent in 64 KB pieces, announced or chunked: the 413 arrives
    while the client is still sending (what it managed to send is mostly socket buffers)."""
    before = row_counts(session)
    size = 40 * limits.MB
    for chunked in (False, True):
        for token in (world.tokens["alice"], BOGUS_TOKEN):
            out = push(live_server, API.format(token), size, chunked, timeout=30)
            assert out.status == 413, out
            assert out.detail == limits.JSON_TOO_LARGE
            assert out.sent < size / 2, out
    assert row_counts(session) == before


# --- forms, uploads, every route ------------------------------------------------------------


def test_oversized_form_gets_the_french_error_page(walker, session, world):
    before = row_counts(session)
    token = world.tokens["alice"]
    form = {"content-type": "application/x-www-form-urlencoded"}
    announced = walker.post(
        f"/q/{token}", content=b"a=" + b"x" * limits.FORM_MAX_BYTES, headers=form
    )
    streamed = walker.post(
        "/login", content=chunks(limits.FORM_MAX_BYTES + CHUNK, b"x"), headers=form
    )
    for response in (announced, streamed):
        assert response.status_code == 413
        assert response.headers["content-type"].startswith("text/html")
        assert "Envoi trop volumineux" in response.text
        assert "rien n&#39;a été enregistré" in response.text
        assert "Content-Security-Policy".lower() in response.headers  # still our headers
    assert row_counts(session) == before


def test_uploads_have_the_smaller_cap_streamed_or_announced(walker, session, world):
    login(walker, "coord23@example.org")
    token = csrf_token(walker, "/t/23/repertoire/import")
    before = row_counts(session)
    boundary = "limite"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="fichier"; filename="a.csv"\r\n'
        "Content-Type: text/csv\r\n\r\nnom\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = limits.UPLOAD_MAX_BYTES + CHUNK  # over the upload cap, under the form cap

    def streamed() -> Iterator[bytes]:
        yield head
        yield from chunks(size, b"x")
        yield tail

    headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
    for body in (head + b"x" * size + tail, streamed()):
        response = walker.post("/t/23/repertoire/import", content=body, headers=headers)
        assert response.status_code == 413
        assert "Le fichier est trop volumineux : 2 Mo au maximum." in response.text
    assert row_counts(session) == before
    # The same route still takes a file under the cap.
    ok = walker.post(
        "/t/23/repertoire/import",
        data={"csrf_token": token},
        files={"fichier": ("a.csv", b"nom;type\nCAF de la Creuse;caf\n", "text/csv")},
    )
    assert ok.status_code in (200, 422)


def test_every_route_refuses_a_body_over_the_largest_cap(app, walker, session, world):
    """Every path and method, even those that read no body: 413, never read, never a 500."""
    login(walker, "coord23@example.org")
    before = row_counts(session)
    body = b"x" * (max(limits.FORM_MAX_BYTES, limits.JSON_MAX_BYTES) + 1)
    problems, walked = [], 0
    for ep in endpoints(app):
        values = {"code": "23", "token": world.tokens["alice"], "year": "2026"}
        url = _PARAM.sub(lambda m, v=values: v.get(m.group(1), "1"), ep.path)
        response = walker.request(ep.method, url, content=body, follow_redirects=False)
        walked += 1
        if response.status_code != 413 or "trop volumineux" not in response.text:
            problems.append(f"{ep.method} {url} -> {response.status_code}")
    assert walked > 80
    assert not problems, "\n".join(problems)
    assert row_counts(session) == before


def test_the_body_is_never_read_when_content_length_is_over_the_cap():
    """The middleware answers from the headers alone: neither the application nor the body
    is touched."""

    async def application(scope, receive, send):  # pragma: no cover - must not run
        raise AssertionError("the application was called")

    async def receive():  # pragma: no cover - must not run
        raise AssertionError("the body was read")

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    from app.main import create_app  # noqa: F401 - templates' globals are set by the app

    scope = {
        "type": "http",
        "method": "PUT",
        "path": "/api/v1/questionnaire/x",
        "root_path": "",
        "headers": [(b"content-length", str(50 * limits.MB).encode())],
        "query_string": b"",
    }
    # In a thread of its own: the browser tests may leave an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, limits.BodySizeLimit(application)(scope, receive, send)).result(
            timeout=30
        )
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"]) == {"detail": limits.JSON_TOO_LARGE}

"""The service compresses its own responses (GZipMiddleware in app/main.py), no proxy needed.

Every check reads the bytes as they travel (`iter_raw`), so that httpx's transparent
decoding cannot hide a response that went out uncompressed.
"""

from __future__ import annotations

import gzip

import pytest

from tests.accounts_helpers import login, make_user
from tests.factories import build_world

GZIP = {"accept-encoding": "gzip"}
IDENTITY = {"accept-encoding": "identity"}


@pytest.fixture
def world(session):
    return build_world(session)


def fetch(client, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and the body exactly as sent (not decoded)."""
    with client.stream("GET", path, headers=headers) as response:
        raw = b"".join(response.iter_raw())
        return response.status_code, dict(response.headers), raw


def assert_gzipped_same_as_plain(client, path: str) -> bytes:
    """`path` comes back gzip-compressed and decompresses to what a client without
    Accept-Encoding gets; returns the plain body."""
    status, plain_headers, plain = fetch(client, path, IDENTITY)
    assert status == 200, path
    assert "content-encoding" not in plain_headers, path
    status, headers, raw = fetch(client, path, GZIP)
    assert status == 200, path
    assert headers.get("content-encoding") == "gzip", path
    assert "accept-encoding" in headers.get("vary", "").lower(), path
    assert raw[:2] == b"\x1f\x8b", path  # the gzip magic number: really compressed bytes
    assert gzip.decompress(raw) == plain, path
    assert len(raw) < len(plain) / 2, path
    assert int(headers["content-length"]) == len(raw), path
    assert headers["content-type"] == plain_headers["content-type"], path
    # The security headers (app/headers.py) still wrap the compressed response.
    assert "default-src 'self'" in headers["content-security-policy"], path
    assert headers["referrer-policy"] == "no-referrer", path
    return plain


def test_questionnaire_page_is_gzipped(client, world):
    plain = assert_gzipped_same_as_plain(client, f"/q/{world.tokens['alice']}")
    assert "CAF de la Creuse" in plain.decode()


def test_questionnaire_api_answer_is_gzipped(client, world):
    token = world.tokens["alice"]
    plain = assert_gzipped_same_as_plain(client, f"/api/v1/questionnaire/{token}")
    assert b'"links"' in plain


def test_coordinator_map_svg_is_gzipped(client, session, world):
    make_user(session, "coord@example.org", territory=world.territory)
    login(client, "coord@example.org")
    plain = assert_gzipped_same_as_plain(client, "/t/23/carte?annee=2025").decode()
    assert "<svg" in plain and 'class="node ' in plain


def test_static_files_are_gzipped(client):
    assert_gzipped_same_as_plain(client, "/static/carte.css")


def test_a_tiny_response_is_not_compressed(client, world):
    status, headers, raw = fetch(client, "/api/v1/questionnaire/" + "x" * 32, GZIP)
    assert status == 404
    assert len(raw) < 500
    assert "content-encoding" not in headers
    assert raw.startswith(b'{"detail"')


def test_a_range_of_a_static_file_is_not_compressed(client):
    status, headers, raw = fetch(client, "/static/carte.css", {**GZIP, "range": "bytes=0-999"})
    assert status == 206
    assert "content-encoding" not in headers
    assert len(raw) == 1000


def test_downloads_still_work(client, session, world):
    """The PDF report (already compressed) goes out as it is; a CSV download is compressed
    and decodes to the same file."""
    make_user(session, "coord@example.org", territory=world.territory)
    login(client, "coord@example.org")
    status, headers, raw = fetch(client, "/t/23/rapport/2026.pdf", GZIP)
    assert status == 200
    assert "content-encoding" not in headers
    assert raw.startswith(b"%PDF-") and int(headers["content-length"]) == len(raw)
    assert "rapport-23-2026.pdf" in headers["content-disposition"]

    path = "/t/23/campagnes/2026/liens.csv?format=excel"
    status, plain_headers, plain = fetch(client, path, IDENTITY)
    status, headers, raw = fetch(client, path, GZIP)
    assert status == 200
    assert headers.get("content-disposition") == plain_headers["content-disposition"]
    # Each export writes an audit line but the file is the same: the links are stable.
    body = gzip.decompress(raw) if headers.get("content-encoding") == "gzip" else raw
    assert body == plain and "Alice Martin" in body.decode("cp1252")

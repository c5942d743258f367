"""Throttling of personal-link guessing (app/respondent.py, survey/link_throttle.py).

Many unknown links from one address within the window -> 429 with a French message, on every
route a personal link opens; valid links are never refused; the count lives in the database
so several app processes agree.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from survey import link_throttle
from survey.link_throttle import WINDOW, LinkFailure
from tests.factories import build_world
from tests.test_security_numbers import link_guessing_limit

# The limit docs/security.md promises, read from the document and never from the constant:
# a wrong constant (20 -> 200) fails these tests (issue 19).
FAILURES_ALLOWED = link_guessing_limit()

UNKNOWN = "x" * 32  # the length of a real link: reaches the database lookup


def unknown(i: int) -> str:
    return f"{i:032d}"


@pytest.fixture
def world(session):
    return build_world(session)


def guess(client, n: int, start: int = 0) -> list[int]:
    return [
        client.get(f"/api/v1/questionnaire/{unknown(i)}").status_code
        for i in range(start, start + n)
    ]


def test_unknown_links_are_refused_after_the_limit(client, world):
    statuses = guess(client, FAILURES_ALLOWED)
    assert statuses == [404] * FAILURES_ALLOWED
    response = client.get(f"/api/v1/questionnaire/{UNKNOWN}")
    assert response.status_code == 429
    assert "Trop de liens inconnus" in response.json()["detail"]
    assert "réessayez dans 10 minutes" in response.json()["detail"]
    assert 0 < int(response.headers["retry-after"]) <= WINDOW.total_seconds() + 1


def test_every_personal_link_route_is_throttled(client, world):
    guess(client, FAILURES_ALLOWED)
    for path in (
        f"/q/{UNKNOWN}",
        f"/q/{UNKNOWN}/repertoire",
        f"/q/{UNKNOWN}/ma-carte",
        f"/q/{UNKNOWN}/mes-donnees",
        f"/q/{UNKNOWN}/accueil",
        f"/q/{UNKNOWN}/accueil.pdf",
        f"/api/v1/questionnaire/{UNKNOWN}",
        "/q/court",  # malformed links count too
    ):
        response = client.get(path)
        assert response.status_code == 429, path
        assert "Trop de liens inconnus" in response.text, path
    page = client.get(f"/q/{UNKNOWN}")
    assert "<h1>Trop de tentatives</h1>" in page.text
    assert "Traceback" not in page.text


def test_valid_links_are_never_throttled(client, world):
    guess(client, FAILURES_ALLOWED + 5)
    token = world.tokens["alice"]
    page = client.get(f"/q/{token}")
    assert page.status_code == 200
    assert "Alice Martin" in page.text
    api = client.get(f"/api/v1/questionnaire/{token}")
    assert api.status_code == 200
    assert api.json()["respondent"]["full_name"] == "Alice Martin"
    # ... and saving works too.
    answers = api.json()
    saved = client.put(f"/api/v1/questionnaire/{token}", json={"comment": "Toujours là."})
    assert saved.status_code == 200, saved.text
    assert saved.json()["comment"] == "Toujours là."
    assert answers["respondent"] == saved.json()["respondent"]
    # The unknown ones are still refused.
    assert client.get(f"/q/{UNKNOWN}").status_code == 429


def test_other_addresses_are_not_affected(app, client, world):
    guess(client, FAILURES_ALLOWED)
    assert client.get(f"/q/{UNKNOWN}").status_code == 429
    with TestClient(app, client=("192.0.2.7", 40000)) as neighbour:
        response = neighbour.get(f"/q/{UNKNOWN}")
    assert response.status_code == 404
    assert "pas (ou plus) valable" in response.text


def test_processes_share_the_count(settings, engine, world):
    """Two app instances on one database (two processes behind a load balancer) agree."""
    first = TestClient(create_app(settings, engine=engine))
    second = TestClient(create_app(settings, engine=engine))
    assert guess(first, FAILURES_ALLOWED // 2) == [404] * (FAILURES_ALLOWED // 2)
    rest = FAILURES_ALLOWED - FAILURES_ALLOWED // 2
    assert guess(second, rest, start=100) == [404] * rest
    assert first.get(f"/q/{UNKNOWN}").status_code == 429
    assert second.get(f"/q/{UNKNOWN}").status_code == 429


def test_the_block_ends_with_the_window(session):
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    for i in range(FAILURES_ALLOWED):
        link_throttle.record_failure(session, "198.51.100.1", now + timedelta(seconds=i))
    session.commit()
    last = now + timedelta(seconds=FAILURES_ALLOWED - 1)
    wait = link_throttle.blocked_for(session, "198.51.100.1", last)
    # Sliding window: free again when the oldest failure leaves it.
    assert wait == WINDOW - timedelta(seconds=FAILURES_ALLOWED - 1)
    assert link_throttle.blocked_for(session, "198.51.100.1", now + WINDOW - timedelta(seconds=1))
    assert link_throttle.blocked_for(session, "198.51.100.1", now + WINDOW) is None
    assert link_throttle.blocked_for(session, "198.51.100.2", last) is None


def test_one_failure_short_of_the_limit_is_not_blocked(session):
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    for i in range(FAILURES_ALLOWED - 1):
        link_throttle.record_failure(session, "198.51.100.3", now + timedelta(seconds=i))
    session.commit()
    assert link_throttle.blocked_for(session, "198.51.100.3", now + timedelta(minutes=1)) is None


def test_the_table_stays_small_under_a_scan(client, session, world):
    guess(client, FAILURES_ALLOWED * 3)
    # Blocked requests are not stored: at most FAILURES_ALLOWED rows per address and window.
    assert link_throttle.failures_count(session, "testclient") == FAILURES_ALLOWED
    old = datetime.now(UTC) - WINDOW - timedelta(minutes=1)
    session.add(LinkFailure(ip="203.0.113.9", at=old))
    session.add(LinkFailure(ip="testclient", at=old))
    session.commit()
    assert link_throttle.purge(session) == 2
    session.commit()
    assert link_throttle.failures_count(session, "203.0.113.9") == 0
    assert link_throttle.failures_count(session, "testclient") == FAILURES_ALLOWED

"""Edges of the link-guessing throttle (survey/link_throttle.py) that mutation testing
(docs/testing.md) found unchecked: the exact ends of the window, the « last N failures » rule
and addresses longer than the column."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from survey import link_throttle
from survey.link_throttle import WINDOW
from tests.test_security_numbers import link_guessing_limit

# The limit docs/security.md promises, read from the document (as tests/test_link_guessing.py).
LIMIT = link_guessing_limit()
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _fail(session, ip: str, seconds: list[int]) -> None:
    for s in seconds:
        link_throttle.record_failure(session, ip, T0 + timedelta(seconds=s))
    session.commit()


def test_a_failure_exactly_one_window_old_no_longer_counts(session):
    ip = "198.51.100.20"
    _fail(session, ip, list(range(LIMIT)))  # T0 … T0 + LIMIT-1 s
    # At T0 + WINDOW the first failure has just left: LIMIT - 1 remain, the address is free.
    assert link_throttle.blocked_for(session, ip, T0 + WINDOW) is None
    # One microsecond earlier it still counts.
    assert link_throttle.blocked_for(session, ip, T0 + WINDOW - timedelta(microseconds=1))


def test_the_wait_follows_the_oldest_of_the_last_failures_only(session):
    ip = "198.51.100.21"
    _fail(session, ip, list(range(LIMIT + 5)))  # five more than the limit, one per second
    now = T0 + timedelta(seconds=LIMIT + 10)
    # The last LIMIT failures start at T0 + 5 s: free at T0 + 5 s + WINDOW.
    expected = T0 + timedelta(seconds=5) + WINDOW - now
    assert link_throttle.blocked_for(session, ip, now) == expected


def test_a_nearly_free_address_waits_one_second(session):
    ip = "198.51.100.22"
    _fail(session, ip, list(range(LIMIT)))
    # Half a second before the oldest failure leaves, the wait is rounded up to one second.
    now = T0 + WINDOW - timedelta(milliseconds=500)
    assert link_throttle.blocked_for(session, ip, now) == timedelta(seconds=1)


def test_recording_forgets_failures_one_window_old(session):
    ip = "198.51.100.23"
    _fail(session, ip, [0, 1])
    # A failure at T0 + WINDOW removes the one from T0 (exactly one window old), not T0 + 1 s.
    _fail(session, ip, [int(WINDOW.total_seconds())])
    assert link_throttle.failures_count(session, ip) == 2
    # The purge uses the same edge: at T0 + 1 s + WINDOW the second one goes too.
    assert link_throttle.purge(session, T0 + timedelta(seconds=1) + WINDOW) == 1
    session.commit()
    assert link_throttle.failures_count(session, ip) == 1


def test_a_long_address_is_counted_and_blocked_under_its_first_64_characters(session):
    ip = "2001:db8:" + "a" * 70  # longer than the column (64)
    _fail(session, ip, list(range(LIMIT)))
    assert link_throttle.failures_count(session, ip) == LIMIT
    assert link_throttle.blocked_for(session, ip, T0 + timedelta(seconds=LIMIT))
    # The same 64 first characters are the same address for the throttle.
    assert link_throttle.blocked_for(session, ip[:64] + "zz", T0 + timedelta(seconds=LIMIT))


def test_recording_forgets_the_old_failures_of_this_address_only(session):
    """« forget its failures older than the window »: the purge (`carte purge`) handles the
    others, so that one request never deletes rows of every address."""
    other, long_ip = "198.51.100.24", "2001:db8:" + "b" * 70
    _fail(session, other, [0])
    _fail(session, long_ip, [0])
    _fail(session, long_ip, [int(WINDOW.total_seconds())])
    assert link_throttle.failures_count(session, long_ip) == 1  # its own old one went
    assert link_throttle.failures_count(session, other) == 1  # the other address's stayed

"""Throttling of personal-link guessing: too many unknown links from one address -> refused.

Failures are stored in the database (not in process memory) so that several app processes
behind a load balancer agree. Only failures are stored, at most FAILURES_ALLOWED per address
and window, and an address's rows older than the window are deleted as new ones come: the
table stays small even under a scan. A valid link is never refused (a whole office behind one
address must not be locked out by one colleague's typos); guessing itself is defeated by the
192 bits of a link (survey/links.py), the throttle limits scanning noise and load.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Index, delete, func
from sqlmodel import Field, Session, SQLModel, col, select

from survey.db import changed_rows
from survey.models import utcnow

FAILURES_ALLOWED = 20  # unknown links per address within WINDOW; the next one is refused
WINDOW = timedelta(minutes=10)


class LinkFailure(SQLModel, table=True):
    """One request for a personal link that does not exist (or no longer), by address."""

    __table_args__ = (Index("ix_linkfailure_ip_at", "ip", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    ip: str = Field(max_length=64)


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def blocked_for(session: Session, ip: str, now: datetime | None = None) -> timedelta | None:
    """How long `ip` must still wait, or None when it may try an unknown link again."""
    now = now or datetime.now(UTC)
    times = session.exec(
        select(LinkFailure.at)
        .where(LinkFailure.ip == ip[:64], col(LinkFailure.at) > now - WINDOW)
        .order_by(col(LinkFailure.at).desc())
        .limit(FAILURES_ALLOWED)
    ).all()
    if len(times) < FAILURES_ALLOWED:
        return None
    # Free again when the oldest of the last FAILURES_ALLOWED failures leaves the window.
    return max(timedelta(seconds=1), _aware(min(times)) + WINDOW - now)


def record_failure(session: Session, ip: str, now: datetime | None = None) -> None:
    """Count one unknown link for `ip` and forget its failures older than the window.

    The caller commits."""
    now = now or datetime.now(UTC)
    session.execute(
        delete(LinkFailure).where(
            col(LinkFailure.ip) == ip[:64], col(LinkFailure.at) <= now - WINDOW
        )
    )
    session.add(LinkFailure(ip=ip[:64], at=now))


def expired(now: datetime):
    """The failures that have left the window at `now` (a WHERE condition)."""
    return col(LinkFailure.at) <= now - WINDOW


def purge(session: Session, now: datetime | None = None) -> int:
    """Delete every failure older than the window (addresses are personal data). Returns the
    number removed; the caller commits."""
    result = session.execute(delete(LinkFailure).where(expired(now or datetime.now(UTC))))
    return changed_rows(result)


def failures_count(session: Session, ip: str) -> int:
    return session.exec(
        select(func.count()).select_from(LinkFailure).where(LinkFailure.ip == ip[:64])
    ).one()

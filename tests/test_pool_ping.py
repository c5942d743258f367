"""PostgreSQL connections are pinged on checkout only after sitting idle in the pool
(survey.db.ping_idle_connections): a connection whose server side went away while it was idle
is replaced before a request uses it, and a connection given back a moment ago costs no
extra round trip."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from survey import db

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def pings(engine, monkeypatch) -> list[object]:
    """Every ping the engine's dialect makes."""
    seen: list[object] = []
    real = engine.dialect.do_ping

    def counting(dbapi_conn):
        seen.append(dbapi_conn)
        return real(dbapi_conn)

    monkeypatch.setattr(engine.dialect, "do_ping", counting)
    return seen


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_given_back_just_now_is_not_pinged(engine, pings):
    first = _backend_pid(engine)
    second = _backend_pid(engine)
    assert second == first  # the same pooled connection, handed out twice
    assert pings == []


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced(engine, pings, monkeypatch):
    first = _backend_pid(engine)
    # Its backend goes away while the connection sits in the pool (a server restart, an
    # idle timeout of a proxy…).
    other = db.make_engine(engine.url.render_as_string(hide_password=False))
    with other.begin() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first}).scalar()
    other.dispose()

    monkeypatch.setattr(db, "PING_IDLE_S", 0.0)  # as if it had sat there long enough
    second = _backend_pid(engine)  # no error: the dead connection was replaced on checkout

    assert len(pings) == 1
    assert second != first
    # The live replacement, given back and idle again, passes its ping and is kept.
    assert _backend_pid(engine) == second
    assert len(pings) == 2

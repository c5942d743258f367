"""A database that will not wait any longer gives a French 503 « réessayez », never a 500,
and nothing is half-written (both databases)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, select

from app.main import BUSY, create_app
from survey.db import make_engine
from survey.models import Response
from tests.factories import build_world


@pytest.fixture
def world(session):
    return build_world(session)


@pytest.fixture
def impatient_client(settings, database_url, world):
    """The real app on an engine that gives up waiting for a lock after 0.3 s."""
    engine = make_engine(database_url, lock_timeout_ms=300, sqlite_busy_timeout_s=0.3)
    with TestClient(create_app(settings, engine=engine), raise_server_exceptions=False) as c:
        yield c
    engine.dispose()


def hold_write_lock(engine):
    """Another connection holding what the questionnaire writes, as a long job would."""
    conn = engine.connect()
    if engine.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # SQLite's single writer lock
    else:
        conn.execute(text("LOCK TABLE response IN EXCLUSIVE MODE"))
    return conn


@pytest.mark.parametrize("kind", ["api", "page"])
def test_a_locked_database_answers_503_and_writes_nothing(impatient_client, engine, world, kind):
    bruno = world.pros["bruno"]
    token = world.tokens["bruno"]
    blocker = hold_write_lock(engine)
    try:
        if kind == "api":
            r = impatient_client.put(
                f"/api/v1/questionnaire/{token}", json={"declared_partner_count": 0}
            )
        else:
            r = impatient_client.post(
                f"/q/{token}",
                data={"declared_partner_count": "0", "action": "save", "formulaire_complet": "1"},
            )
    finally:
        blocker.rollback()
        blocker.close()
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "5"
    if kind == "api":
        assert r.json() == {"detail": BUSY}
    else:
        assert "Réessayez dans quelques secondes" in r.text and "Traceback" not in r.text
    with Session(engine) as s:
        assert s.exec(select(Response).where(Response.professional_id == bruno.id)).all() == []
    # Once the lock is gone the same request goes through.
    again = impatient_client.put(
        f"/api/v1/questionnaire/{token}", json={"declared_partner_count": 0}
    )
    assert again.status_code == 200 and again.json()["status"] == "draft"

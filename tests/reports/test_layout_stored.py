"""Map positions kept in the database (`CampaignLayout`): a process with nothing in memory
(a restart, the other worker) reads them, updates them after a change exactly as a process
that had them in memory, and the first positions stored for a data version win."""

from __future__ import annotations

import pytest
from sqlmodel import select

from reports import cache, layout, snapshot
from survey.models import CampaignLayout
from tests.reports.builders import Builder


def _world(session):
    """2025 closed and frozen, 2026 open; six structures, answers both years."""
    b = Builder.start(session)
    y1, y2 = b.campaign(2025), b.campaign(2026, "open")
    for k in ("a", "b", "c", "d", "e", "f"):
        b.org(k)
        b.pro(k + "1", k)
    inf = {"nature": "informal"}
    b.respond(y1, "a1", [{"org": "b", **inf}, {"org": "c", **inf}])
    b.respond(y1, "b1", [{"org": "c", **inf}, {"org": "d", **inf}])
    b.respond(y1, "d1", [{"org": "e", **inf}])
    snapshot.freeze(session, y1)
    b.respond(y2, "a1", [{"org": "b", **inf}, {"org": "c", **inf}, {"org": "f", **inf}])
    b.respond(y2, "b1", [{"org": "c", **inf}])
    session.commit()
    return b, y1, y2


def _no_layout_computed(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("laid out again")

    monkeypatch.setattr(layout, "positions", refuse)
    monkeypatch.setattr(layout, "update_positions", refuse)


def _fresh_worker(session) -> None:
    layout.forget()
    cache.cache_for(session).clear()


def test_a_fresh_worker_reads_the_stored_positions(session, monkeypatch):
    b, y1, y2 = _world(session)
    shown = layout.map_positions(session, y2)
    rows = session.exec(select(CampaignLayout)).all()
    assert sorted(r.campaign_id for r in rows) == sorted([y1.id, y2.id])
    _fresh_worker(session)
    _no_layout_computed(monkeypatch)
    built = cache.cache_for(session).builds
    assert layout.map_positions(session, y2) == shown
    assert cache.cache_for(session).builds == built  # no graph built: the rows were enough


def test_after_a_change_a_fresh_worker_agrees_with_a_warm_one(session):
    b, y1, y2 = _world(session)
    layout.map_positions(session, y2)  # stored at the version before the change
    b.respond(y2, "d1", [{"org": "e", "nature": "formal"}, {"org": "f", "nature": "formal"}])
    session.commit()
    warm = layout.map_positions(session, y2)
    # The warm process stored first: a fresh one reads what it stored.
    _fresh_worker(session)
    assert layout.map_positions(session, y2) == warm
    # A change no process has seen: a fresh worker updates the stored row (not a full
    # layout), exactly as the update of those positions gives.
    row = session.exec(select(CampaignLayout).where(CampaignLayout.campaign_id == y2.id)).one()
    start = layout._decode(row.version, row.ties, row.positions)
    b.respond(y2, "e1", [{"org": "a", "nature": "both"}])
    session.commit()
    _fresh_worker(session)
    g = cache.graph(session, y2)
    expected = layout.update_positions(g, start.positions, start.ties, layout.ties_of(g))
    assert expected != start.positions
    assert layout.map_positions(session, y2) == expected
    session.expire_all()
    row = session.exec(select(CampaignLayout).where(CampaignLayout.campaign_id == y2.id)).one()
    assert row.version == cache.data_version(session, y2)
    # E gained a link to A: E and A moved, B (ties unchanged) stayed where it was.
    o = {k: v.id for k, v in b.orgs.items()}
    assert expected[o["b"]] == start.positions[o["b"]]
    assert expected[o["e"]] != start.positions[o["e"]]


def test_the_first_positions_stored_for_a_version_win(session):
    b, y1, y2 = _world(session)
    layout.map_positions(session, y2)
    row = session.exec(select(CampaignLayout).where(CampaignLayout.campaign_id == y2.id)).one()
    version, anchor = row.version, row.anchor
    ours = layout._Drawn("v-next", {(1, 2): 1}, {1: (0.1, 0.1), 2: (0.9, 0.9)})
    theirs = layout._Drawn("v-next", {(1, 2): 1}, {1: (0.2, 0.2), 2: (0.8, 0.8)})
    # Another worker updated the row from `version` first; ours started from there too.
    assert layout._store(session, y2.id, anchor, version, theirs) == theirs
    assert layout._store(session, y2.id, anchor, version, ours) == theirs
    session.expire_all()
    assert (
        session.get(CampaignLayout, (y2.id, anchor)).positions == "[[1, 0.2, 0.2], [2, 0.8, 0.8]]"
    )


# SQLite's rule (one writer at a time): this test only runs there (no skip on PostgreSQL).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_uncommitted_sqlite_writes_are_not_waited_for(session):
    """The caller's own uncommitted writes: nothing stored (another connection would wait
    for them), the positions are still computed."""
    assert session.get_bind().dialect.name == "sqlite"
    b, y1, y2 = _world(session)
    b.respond(y2, "c1", [{"org": "d", "nature": "informal"}])  # flushed, not committed
    pos = layout.map_positions(session, y2)
    assert len(pos) == 6
    session.rollback()
    assert session.exec(select(CampaignLayout)).all() == []

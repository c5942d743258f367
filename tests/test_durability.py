"""Durability: the real server is SIGKILLed while respondents submit, then restarted.

No acknowledged answer may be lost and no response may be half-written: every stored
response holds wholly the draft or wholly the final answers that were sent (same partners,
attributes and tags), a submitted response has its submission date and a draft has none,
no tag or link hangs on nothing. Then the run finishes on the restarted server.

Runs per backend (SQLite file; PostgreSQL when TEST_DATABASE_URL is set), with two server
processes, as deployed (`carte serve --workers 2`). Nothing here asserts a timing.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter

import httpx
from sqlalchemy import text
from sqlmodel import Session

from bench.load import (
    PARTNERS,
    LoadWorld,
    Outcome,
    Run,
    answers_for,
    check_database,
    drive,
    prepare,
    start_server,
    stored_responses,
)
from survey.links import find
from survey.questionnaire import Answers, load_respondent, save
from tests.conftest import TEST_SECRET

RESPONDENTS = 40
CONCURRENCY = 8
KILL_AFTER = 6  # acknowledged submissions before the kill


def _drive_in_thread(base_url: str, world: LoadWorld, jobs, progress: Counter):
    """Start `drive` in a thread of its own (the main thread may already run an event loop,
    e.g. Playwright's); returns the thread and a one-slot result list."""
    result: list[Run] = []

    def target() -> None:
        result.append(
            asyncio.run(
                drive(base_url, jobs, world.organisation_ids, CONCURRENCY, 60, "full", progress)
            )
        )

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, result


def _workers(database_url: str) -> int:
    # As deployed: several processes on PostgreSQL; `carte serve` allows one on SQLite.
    return 1 if database_url.startswith("sqlite") else 2


def test_sigkill_mid_run_loses_no_acknowledged_answer(database_url, engine, tmp_path):
    world = prepare(engine, TEST_SECRET, respondents=RESPONDENTS, structures=20)
    probe = world.jobs[0].token
    server = start_server(
        database_url,
        TEST_SECRET,
        workers=_workers(database_url),
        log_path=tmp_path / "server.log",
        probe_token=probe,
    )
    try:
        progress: Counter = Counter()
        thread, result = _drive_in_thread(server.base_url, world, world.jobs, progress)
        deadline = time.monotonic() + 25
        while progress["submit"] < KILL_AFTER and thread.is_alive():
            assert time.monotonic() < deadline, f"no progress:\n{server.log_tail()}"
            time.sleep(0.01)
        server.kill()  # the whole process group, mid-run, no chance to clean up
        thread.join(timeout=30)
        assert not thread.is_alive()
        first = result[0]
    finally:
        server.kill()

    acked = {o.job.professional_id for o in first.outcomes if "submit" in o.acked}
    assert len(acked) >= KILL_AFTER
    assert len(acked) < RESPONDENTS, "the kill came after the run: it proves nothing"
    # Right after the kill, before any restart: nothing acknowledged is missing, nothing
    # stored is partial, nothing hangs on nothing.
    assert check_database(engine, world, first.outcomes) == []
    stored = stored_responses(engine, world.campaign_id)
    assert acked <= {p for p, st in stored.items() if st.status == "submitted"}
    assert all(len(st.links) == PARTNERS for st in stored.values())

    # Restart and finish: every respondent not acknowledged yet does the whole round again.
    server = start_server(
        database_url,
        TEST_SECRET,
        workers=_workers(database_url),
        log_path=tmp_path / "server2.log",
        probe_token=probe,
    )
    try:
        # An answer acknowledged before the kill reads back identical through the API.
        before = next(o.job for o in first.outcomes if "submit" in o.acked)
        data = httpx.get(f"{server.base_url}/api/v1/questionnaire/{before.token}").json()
        sent = answers_for(before, world.organisation_ids, "final")
        assert data["status"] == "submitted"
        assert [lk["partner_organisation_id"] for lk in data["links"]] == [
            lk["partner_organisation_id"] for lk in sent["links"]
        ]
        assert [lk["practices"] for lk in data["links"]] == [
            sorted(lk["practices"]) for lk in sent["links"]
        ]

        rest = [j for j in world.jobs if j.professional_id not in acked]
        thread, result = _drive_in_thread(server.base_url, world, rest, Counter())
        thread.join(timeout=90)
        assert not thread.is_alive()
        second = result[0]
    finally:
        server.stop()
    assert second.errors == Counter(), server.log_tail()
    assert {o.job.professional_id for o in second.outcomes if "submit" in o.acked} == {
        j.professional_id for j in rest
    }
    assert check_database(engine, world, first.outcomes + second.outcomes) == []
    stored = stored_responses(engine, world.campaign_id)
    assert len(stored) == RESPONDENTS
    assert {st.status for st in stored.values()} == {"submitted"}


def test_the_check_sees_a_half_written_response(engine):
    """The durability check is not vacuous: a response missing one link's tags, one link, or
    acknowledged as submitted but stored as a draft is reported."""
    world = prepare(engine, TEST_SECRET, respondents=3, structures=20)
    with Session(engine) as s:
        for job in world.jobs:
            r = load_respondent(s, find(s, job.token))
            answers = Answers.model_validate(answers_for(job, world.organisation_ids, "final"))
            assert save(s, r, answers, submit=True).ok
    outcomes = [Outcome(j, ["get", "put", "submit"]) for j in world.jobs]
    assert check_database(engine, world, outcomes) == []

    a, b, c = (j.professional_id for j in world.jobs)
    link_of = text(
        "SELECT min(l.id) FROM declaredlink l JOIN response r ON r.id = l.response_id "
        "WHERE r.professional_id = :p"
    )
    with engine.begin() as conn:
        link_a = conn.execute(link_of, {"p": a}).scalar_one()
        conn.execute(text("DELETE FROM linktag WHERE link_id = :l"), {"l": link_a})
        link_b = conn.execute(link_of, {"p": b}).scalar_one()
        conn.execute(text("DELETE FROM linktag WHERE link_id = :l"), {"l": link_b})
        conn.execute(text("DELETE FROM declaredlink WHERE id = :l"), {"l": link_b})
        conn.execute(
            text("UPDATE response SET status = 'draft' WHERE professional_id = :p"), {"p": c}
        )
    problems = check_database(engine, world, outcomes)
    assert any(f"professional {a}: submitted but not the final" in p for p in problems), problems
    assert any(f"professional {b}: submitted but not the final" in p for p in problems), problems
    assert any(f"professional {c}: acknowledged submit lost" in p for p in problems), problems

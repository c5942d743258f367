"""Parallel first saves against a live server never give a 500 (issue 11, item 5).

Twenty requests at once, each a different complete version, on a link never saved before:
through the JSON API (PUT, then POST submit) and through the HTML form (« Enregistrer »,
« Envoyer »). Every answer is a success (200, or 303 for the form), or a 503 « réessayez »
with Retry-After; the response stored is exactly one of the versions acknowledged, never a
mix, and there is only one. A few rounds, each on fresh links.

The server is the real one (uvicorn in its own process, `bench.load.start_server`): on
SQLite one process, on PostgreSQL two, as deployed (`carte serve --workers`).
"""

from __future__ import annotations

import threading
from collections import Counter
from urllib.parse import urlencode

import httpx
from sqlmodel import Session, select

from bench.load import (
    answers_for,
    form_pairs,
    orphans,
    prepare,
    signature,
    start_server,
    stored_responses,
)
from survey.models import Response, ResponseObstacle
from tests.conftest import TEST_SECRET

ROUNDS = 3
PARALLEL = 20
PARTNERS = 4
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# (how the version is sent, the success status, the status stored)
PATHS = {
    "api-put": (200, "draft"),
    "api-submit": (200, "submitted"),
    "form-save": (303, "draft"),
    "form-submit": (303, "submitted"),
}


def _send(client: httpx.Client, path: str, token: str, version: dict) -> httpx.Response:
    if path == "api-put":
        return client.put(f"/api/v1/questionnaire/{token}", json=version)
    if path == "api-submit":
        return client.post(f"/api/v1/questionnaire/{token}/submit", json=version)
    action = "save" if path == "form-save" else "submit"
    body = urlencode(form_pairs(version, action))
    return client.post(f"/q/{token}", content=body, headers=FORM)


def _burst(base_url: str, path: str, token: str, versions: list[dict]) -> list[httpx.Response]:
    """Send every version at the same moment, one thread and one connection each."""
    barrier = threading.Barrier(len(versions))
    answers: list[httpx.Response | BaseException | None] = [None] * len(versions)

    def one(i: int) -> None:
        with httpx.Client(base_url=base_url, timeout=60, follow_redirects=False) as client:
            client.get("/")  # connection open before the start
            barrier.wait(timeout=30)
            try:
                answers[i] = _send(client, path, token, versions[i])
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                answers[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(versions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    failed = [a for a in answers if not isinstance(a, httpx.Response)]
    assert not failed, failed
    return answers  # type: ignore[return-value]


def test_parallel_first_saves_answer_success_and_store_one_version(database_url, engine, tmp_path):
    world = prepare(
        engine, TEST_SECRET, respondents=1 + ROUNDS * len(PATHS), structures=2 * PARTNERS
    )
    probe, *jobs = world.jobs
    server = start_server(
        database_url,
        TEST_SECRET,
        workers=1 if database_url.startswith("sqlite") else 2,
        kind="uvicorn",
        log_path=tmp_path / "server.log",
        probe_token=probe.token,
    )
    statuses: Counter = Counter()
    problems: list[str] = []
    try:
        for round_ in range(ROUNDS):
            for path, (success, stored_status) in PATHS.items():
                job = jobs.pop()
                versions = [
                    answers_for(job, world.organisation_ids, f"{path}-{round_}-{i}", PARTNERS)
                    for i in range(PARALLEL)
                ]
                answers = _burst(server.base_url, path, job.token, versions)
                acked = []
                for version, answer in zip(versions, answers, strict=True):
                    statuses[(path, answer.status_code)] += 1
                    if answer.status_code == success:
                        acked.append(version)
                    elif answer.status_code != 503 or "Retry-After" not in answer.headers:
                        problems.append(f"{path}: HTTP {answer.status_code} {answer.text[:300]}")
                problems += _stored_problems(engine, world, job, path, acked, stored_status)
    finally:
        server.stop()
    log = server.log_path.read_text(errors="replace")
    assert not problems, (problems, dict(statuses), server.log_tail())
    assert "Traceback" not in log, server.log_tail()
    assert orphans(engine) == dict.fromkeys(orphans(engine), 0)
    # Most of the burst was served, not turned away.
    served = sum(n for (path, code), n in statuses.items() if code == PATHS[path][0])
    assert served >= ROUNDS * len(PATHS) * PARALLEL // 2, dict(statuses)


def _stored_problems(engine, world, job, path, acked, stored_status) -> list[str]:
    """The one response of `job` is wholly one of the acknowledged versions."""
    if not acked:
        return [f"{path}: no request succeeded"]
    with Session(engine) as s:
        rows = s.exec(
            select(Response).where(
                Response.campaign_id == world.campaign_id,
                Response.professional_id == job.professional_id,
            )
        ).all()
        if len(rows) != 1:
            return [f"{path}: {len(rows)} responses stored"]
        response = rows[0]
        obstacles = set(
            s.exec(
                select(ResponseObstacle.code).where(ResponseObstacle.response_id == response.id)
            ).all()
        )
    links = stored_responses(engine, world.campaign_id)[job.professional_id].links
    matching = [v for v in acked if tuple(sorted(signature(v))) == links]
    if not matching:
        return [f"{path}: the links stored are none of the acknowledged versions"]
    version = matching[0]
    if (response.comment, response.years_in_post, obstacles) != (
        version["comment"],
        version["years_in_post"],
        set(version["obstacles"]),
    ):
        return [f"{path}: links of one version, other answers of another (a mix)"]
    if response.status != stored_status:
        return [f"{path}: stored as {response.status}, expected {stored_status}"]
    return []

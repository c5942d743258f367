"""CPU of one API submission in the server process, without HTTP, client or other processes.

`bench/limit.sh` gives the rates, which need a machine left to the bench; this gives the
server's own CPU per submission (the ASGI app called directly, as uvicorn calls it, on the
same world and answers as `bench.load --flow submit --answers limit`, `bench/limit.sh`), which holds better on a shared
machine and tells two versions of the code apart minutes apart:

    .venv/bin/python -m bench.submit_cpu --url postgresql+psycopg://postgres@127.0.0.1/carte_cpu
    .venv/bin/python -m bench.submit_cpu --url ... --profile 40   # cProfile, top 40 functions

The database is emptied and migrated (as `bench.load` does). Each round submits `--chunk`
respondents' answers one after the other and reports the process CPU per submission; the
best and the median of the rounds are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import secrets
import statistics
import time
from pathlib import Path

from bench.load import ANSWER_SHAPES, answers_for, prepare, reset_database
from survey.db import make_engine


def _asgi_post(app, path: str, body: bytes):
    """One POST through the whole ASGI stack (middlewares, routing, validation, the route)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    async def call():
        await app(scope, receive, send)
        return sent[0]["status"]

    return call()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--url", required=True, help="database dedicated to the bench (emptied)")
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--chunk", type=int, default=50, help="submissions per round")
    p.add_argument("--profile", type=int, default=0, help="cProfile: print this many functions")
    p.add_argument("--answers", choices=ANSWER_SHAPES, default="limit", help="bench.load --answers")
    args = p.parse_args(argv)

    from app.main import create_app
    from app.settings import Settings

    secret = secrets.token_urlsafe(32)
    reset_database(args.url)
    engine = make_engine(args.url)
    n = args.rounds * args.chunk + 20
    world = prepare(engine, secret, n, 60)
    engine.dispose()
    app = create_app(Settings(database_url=args.url, secret_key=secret))
    bodies = [
        (
            f"/api/v1/questionnaire/{job.token}/submit",
            json.dumps(
                answers_for(job, world.organisation_ids, "final", shape=args.answers)
            ).encode(),
        )
        for job in world.jobs
    ]

    async def submit_all(batch) -> None:
        for path, body in batch:
            status = await _asgi_post(app, path, body)
            if status != 200:
                raise SystemExit(f"HTTP {status} on {path}")

    async def run() -> list[float]:
        await submit_all(bodies[:20])  # imports, pool, prepared statements
        per: list[float] = []
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        for i in range(args.rounds):
            batch = bodies[20 + i * args.chunk : 20 + (i + 1) * args.chunk]
            if profiler:
                profiler.enable()
            started = time.process_time()
            await submit_all(batch)
            per.append((time.process_time() - started) / len(batch) * 1000)
            if profiler:
                profiler.disable()
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)
        return per

    per = asyncio.run(run())
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(
        f"server CPU per submission: best {min(per):.2f} ms, median {statistics.median(per):.2f}"
        f" ms ({args.rounds} rounds of {args.chunk}; load average {' '.join(load)})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""In-process CPU of the review page of a returning respondent (`/q/{token}`).

    .venv/bin/python -m bench.review_page --url sqlite:////tmp/carte_bench/review.sqlite3
    .venv/bin/python -m bench.review_page --url postgresql+psycopg://postgres@127.0.0.1/carte_load
    .venv/bin/python -m bench.review_page --profile      # where a page's CPU goes (cProfile)

It prepares a territory as bench/load.py does with `--carried N` (the database is emptied
first: give it one dedicated to the bench), then renders the page of one respondent who
carries N partners from the 2025 campaign (nothing answered yet in 2026: every partner is a
line to review) through the real app with `fastapi.testclient.TestClient`, and prints:
- the page's size in bytes, uncompressed and gzip-compressed (what the server sends);
- the CPU of this process (`time.process_time()`: the app, TestClient and, on SQLite, the
  database engine; not PostgreSQL's server processes) per GET, median of several batches of
  `--n` GETs, without and with `Accept-Encoding: gzip`, and for a small page (the home page)
  as the floor of TestClient and the middlewares;
- the CPU of the page's handler alone (`app.routes.questionnaire.questionnaire_page` called
  in this thread with a session of its own: the queries and the template, no HTTP, no
  middleware), same batches. `--profile` runs cProfile on that (TestClient runs the app in
  other threads, out of cProfile's sight).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session
from starlette.requests import Request

from app.main import create_app
from app.routes.questionnaire import questionnaire_page
from app.settings import Settings
from bench.load import prepare, reset_database
from survey.db import make_engine

SECRET = "bench-review-secret"


def cpu_per_get(client: TestClient, path: str, headers: dict, n: int, batches: int) -> list[float]:
    """CPU milliseconds per GET of each batch of `n` GETs."""
    out = []
    for _ in range(batches):
        started = time.process_time()
        for _ in range(n):
            response = client.get(path, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"GET {path}: HTTP {response.status_code}")
        out.append((time.process_time() - started) / n * 1000)
    return out


def handler_cpu(app: FastAPI, token: str, n: int, batches: int) -> list[float]:
    """CPU milliseconds per call of the page's handler, each batch of `n` calls."""
    path = f"/q/{token}"
    scope = {
        "type": "http", "method": "GET", "path": path, "raw_path": path.encode(),
        "query_string": b"", "headers": [(b"host", b"testserver")], "scheme": "http",
        "server": ("testserver", 80), "root_path": "", "app": app, "router": app.router,
        "path_params": {"token": token},
    }  # fmt: skip
    out = []
    for _ in range(batches):
        started = time.process_time()
        for _ in range(n):
            with Session(app.state.engine) as session:
                response = questionnaire_page(token, Request(scope), session)
            if response.status_code != 200:
                raise SystemExit(f"handler: HTTP {response.status_code}")
        out.append((time.process_time() - started) / n * 1000)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--url", default="sqlite:////tmp/carte_bench/review.sqlite3",
                   help="database dedicated to the bench (emptied)")  # fmt: skip
    p.add_argument("--carried", type=int, default=15, help="partners carried from 2025")
    p.add_argument("--structures", type=int, default=60)
    p.add_argument("--respondents", type=int, default=20)
    p.add_argument("--n", type=int, default=200, help="GETs per batch")
    p.add_argument("--batches", type=int, default=5)
    p.add_argument("--profile", action="store_true", help="cProfile one batch of --n GETs")
    args = p.parse_args(argv)

    reset_database(args.url)
    engine = make_engine(args.url)
    world = prepare(engine, SECRET, args.respondents, args.structures, carried=args.carried)
    engine.dispose()
    path = f"/q/{world.jobs[0].token}"
    plain = {"Accept-Encoding": "identity"}
    gzip = {"Accept-Encoding": "gzip"}
    with tempfile.TemporaryDirectory() as var:
        settings = Settings(database_url=args.url, secret_key=SECRET, var_dir=Path(var))
        with TestClient(create_app(settings)) as client:
            page = client.get(path, headers=plain)
            rows = page.text.count('class="partner review-row pending')
            if page.status_code != 200 or rows != args.carried:
                raise SystemExit(f"not the review page: HTTP {page.status_code}, {rows} lines")
            packed = client.get(path, headers=gzip)
            if packed.headers.get("content-encoding") != "gzip":
                raise SystemExit("the page is not gzip-compressed when asked")
            gzip_bytes = int(packed.headers["content-length"])
            cpu_per_get(client, path, plain, 20, 1)  # warm: templates, pool, caches
            cpu_per_get(client, "/", plain, 20, 1)
            backend = engine.dialect.name
            print(f"{backend}, review page of {args.carried} carried partners, "
                  f"{args.structures} structures in the directory")  # fmt: skip
            print(f"page: {len(page.content):,} bytes, {gzip_bytes:,} gzip-compressed "
                  f"({gzip_bytes / len(page.content):.0%})")  # fmt: skip
            app = client.app
            token = world.jobs[0].token
            handler_cpu(app, token, 20, 1)
            if args.profile:
                profiler = cProfile.Profile(time.process_time)
                profiler.enable()
                handler_cpu(app, token, args.n, 1)
                profiler.disable()
                for order, lines in (("tottime", 35), ("cumulative", 60)):
                    out = io.StringIO()
                    stats = pstats.Stats(profiler, stream=out)
                    stats.sort_stats(order).print_stats(lines)
                    print(out.getvalue())
                return 0
            for label, target, headers in (
                ("review page, uncompressed", path, plain),
                ("review page, gzip", path, gzip),
                ("home page (floor: TestClient, middlewares)", "/", plain),
            ):
                values = cpu_per_get(client, target, headers, args.n, args.batches)
                report(f"CPU per GET, {label}", values, args.n)
            values = handler_cpu(app, token, args.n, args.batches)
            report("CPU per call of the page's handler alone (no HTTP)", values, args.n)
    return 0


def report(label: str, values: list[float], n: int) -> None:
    print(f"{label}: median {statistics.median(values):.2f} ms "
          f"(batches of {n}: {', '.join(f'{v:.2f}' for v in values)})")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())

"""Time and peak memory of the annual PDF report on synthetic territories (bench/synth.py).

    .venv/bin/python -m bench.synth --scale large --url sqlite:////tmp/carte_bench/large.sqlite3
    .venv/bin/python -m bench.bench_report --url sqlite:////tmp/carte_bench/large.sqlite3

Measures reports.pdf.build_report for the latest campaign of a territory compared with the
one before: wall time per step (the progress callback), total, PDF size and pages, Python's
peak memory (tracemalloc, in a second run) and the process's maximum resident size. The
imports' objects are set aside from the collector first (app.serving.settle), as `carte
report` and a web worker do.

    .venv/bin/python -m bench.bench_report --url ... --command --repeat 3

times the whole `carte report` command instead, each run a new process (Python's start and
imports included): wall, CPU and maximum resident size of each. Not a test: numbers for
docs/performance.md.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from pypdf import PdfReader
from sqlmodel import Session, col, select

from app.serving import settle
from reports import pdf
from survey import campaigns
from survey.db import make_engine
from survey.models import Campaign, Territory


def _campaign(session: Session, code: str | None) -> Campaign:
    q = select(Territory).order_by(Territory.id)
    territory = session.exec(q.where(Territory.code == code) if code else q).first()
    if territory is None:
        raise SystemExit("Aucun territoire dans cette base : lancez d'abord bench.synth.")
    return session.exec(
        select(Campaign)
        .where(Campaign.territory_id == territory.id)
        .order_by(col(Campaign.year).desc())
    ).first()


def run(url: str, code: str | None = None, repeat: int = 1) -> dict:
    """The best of `repeat` reports (the first one also computes the layout, which later
    ones of the same process reuse, as a web server would: see reports.layout)."""
    engine = make_engine(url)
    pdf.register_fonts()  # one-off, not part of a report
    settle()
    with Session(engine) as session:
        campaign = _campaign(session, code)
        previous = campaigns.previous_campaign(session, campaign)
        best = None
        for i in range(repeat):
            run_steps: list[tuple[str, float]] = []
            t0, c0 = time.perf_counter(), time.process_time()
            data = pdf.build_report(
                session,
                campaign,
                previous,
                progress=lambda s, out=run_steps: out.append((s, time.perf_counter())),
            )
            elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
            if best is None or elapsed < best[0]:
                best = (elapsed, cpu, run_steps, t0, i == 0)
        total, cpu, steps, t0, cold = best
        tracemalloc.start()
        pdf.build_report(session, campaign, previous)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    ends = [t for _, t in steps[1:]] + [t0 + total]
    return {
        "structures_and_year": f"{campaign.year} vs {previous.year if previous else '—'}",
        "steps": {name: end - start for (name, start), end in zip(steps, ends, strict=True)},
        "total_s": total,
        "total_cpu_s": cpu,
        "best_run_was_first": cold,
        "runs": repeat,
        "pdf_kb": len(data) // 1024,
        "pages": len(PdfReader(io.BytesIO(data)).pages),
        "python_peak_mb": peak / 1e6,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "loadavg": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


def command(url: str, code: str | None = None, repeat: int = 1) -> dict:
    """`carte report` run `repeat` times as an operator runs it, each a new process."""
    with Session(make_engine(url)) as session:
        campaign = _campaign(session, code)
        territory = session.get(Territory, campaign.territory_id).code
    carte = Path(sys.executable).with_name("carte")
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(
                [
                    carte,
                    "report",
                    "--territory",
                    territory,
                    "--year",
                    str(campaign.year),
                    "--output",
                    f"{tmp}/rapport.pdf",
                ],
                env={**os.environ, "DATABASE_URL": url},
                check=True,
                capture_output=True,
            )
            wall = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            runs.append((wall, cpu, after.ru_maxrss / 1024))
    best = min(runs)
    return {
        "command": f"carte report --territory {territory} --year {campaign.year}",
        "runs_wall_s": " ".join(f"{w:.2f}" for w, _, _ in runs),
        "best_wall_s": best[0],
        "best_cpu_s": best[1],
        "max_rss_mb_of_all": max(rss for _, _, rss in runs),
        "loadavg": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


def main() -> None:
    p = argparse.ArgumentParser(description="Mesurer la production du rapport PDF.")
    p.add_argument("--url", required=True)
    p.add_argument("--territory", help="code du territoire (défaut : le premier)")
    p.add_argument("--repeat", type=int, default=1, help="rapports produits (meilleur temps)")
    p.add_argument(
        "--command",
        action="store_true",
        help="chronométrer la commande `carte report` entière, un processus neuf par rapport",
    )
    args = p.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {platform.python_version()}")
    measure = command if args.command else run
    out = measure(args.url, args.territory, args.repeat)
    for key, value in out.items():
        if isinstance(value, dict):
            for name, seconds in value.items():
                print(f"  {name:40} {seconds:.2f} s")
        else:
            print(f"{key:26} {value:.2f}" if isinstance(value, float) else f"{key:26} {value}")


if __name__ == "__main__":
    main()

"""The map's positions after one answer changed, on a synthetic territory (bench/synth.py).

    .venv/bin/python -m bench.bench_first_map --url sqlite:////tmp/carte_bench/large.sqlite3

Builds the latest campaign's graph and last year's positions, then changes one answer in
memory (a structure drops three partners and names a new structure) and times, best of
--repeat with CPU time: the full layout from last year's positions (what every change cost
before) and `reports.layout.update_positions` from the positions of the previous version
(what the first map after a change costs now). The database is not modified. Not a test:
numbers for docs/performance.md.

`--fresh-worker` measures instead the first map of a process that has nothing in memory
(a restart, the other uvicorn worker), in a new process each time, best of --repeat: the
graph, its figures and `reports.layout.map_positions`. Twice: with the positions stored in
`campaignlayout` for the version before one answer changed (the table's rows of the open
campaign are rewritten to say so), and with no stored positions at all (every year laid out
in full, what a fresh worker did before the table). Only `campaignlayout` is written. The
new process first builds the application as a `carte serve` worker does
(`app.serving.served_app`: every route imported, then `settle`), outside the timing;
`--no-settle` leaves `settle` out, to measure what it saves.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import networkx as nx
from sqlmodel import Session, col, select

from reports import cache, layout
from reports.graph import build_graph
from survey.db import make_engine, table_of
from survey.models import Campaign, CampaignLayout


def _best(fn, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    best = (float("inf"), 0.0)
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        best = min(best, (time.perf_counter() - t0, time.process_time() - c0))
    return best


def _child(url: str, settle: bool) -> None:
    """One fresh worker's first map: graph, figures and positions, timed in this process,
    after building the application as a worker does."""
    os.environ["DATABASE_URL"] = url
    from app import serving
    from app.main import create_app

    if settle:
        serving.served_app()
    else:
        create_app()
    with Session(make_engine(url)) as session:
        campaign = session.exec(select(Campaign).order_by(col(Campaign.year).desc())).first()
        assert campaign is not None
        t0, c0 = time.perf_counter(), time.process_time()
        e = cache.entry(session, campaign)
        e.all_figures()
        layout.map_positions(session, campaign, e.graph, e.version)
        print(json.dumps([time.perf_counter() - t0, time.process_time() - c0]))


def _changed_one_answer(g: nx.DiGraph) -> nx.DiGraph:
    """g with one answer changed: a structure drops three partners, names a new structure."""
    h = nx.DiGraph(g)
    who = sorted(h.nodes)[5]
    dropped = sorted(h.successors(who))[:3]
    h.remove_edges_from((who, v) for v in dropped)
    new = max(h.nodes) + 1
    h.add_node(new, **dict(g.nodes[who]))
    h.add_edge(new, dropped[0], **dict(g.edges[who, dropped[0]]))
    return h


def _fresh_worker(url: str, repeat: int, settle: bool) -> None:
    engine = make_engine(url)
    t = table_of(CampaignLayout)

    def first_map() -> tuple[float, float]:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.bench_first_map",
                "--url",
                url,
                "--child",
                *([] if settle else ["--no-settle"]),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        wall, cpu = json.loads(out.strip().splitlines()[-1])
        return wall, cpu

    with Session(engine) as session:
        campaign = session.exec(select(Campaign).order_by(col(Campaign.year).desc())).first()
        assert campaign is not None
        h = _changed_one_answer(nx.DiGraph(build_graph(session, campaign)))
        stale = json.dumps([[a, b, c] for (a, b), c in layout.ties_of(h).items()])
    first_map()  # every year's positions stored at the current version
    best_stored = best_none = (float("inf"), 0.0)
    for _ in range(repeat):
        with engine.begin() as conn:  # the open campaign's rows: the version before the change
            conn.execute(
                t.update()
                .where(t.c.campaign_id == campaign.id)
                .values(version="bench:before-the-change", ties=stale)
            )
        best_stored = min(best_stored, first_map())
    for _ in range(repeat):
        with engine.begin() as conn:
            conn.execute(t.delete())
        best_none = min(best_none, first_map())
    print("fresh worker, graph + figures + map positions:")
    print(f"  from stored positions   {best_stored[0]:.3f} s  cpu {best_stored[1]:.3f} s")
    print(f"  nothing stored (before) {best_none[0]:.3f} s  cpu {best_none[1]:.3f} s")
    print("loadavg", " ".join(Path("/proc/loadavg").read_text().split()[:3]))


def main() -> None:
    p = argparse.ArgumentParser(description="Mesurer la carte après une réponse modifiée.")
    p.add_argument("--url", required=True)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--fresh-worker", action="store_true", help="première carte d'un processus neuf")
    p.add_argument(
        "--no-settle",
        action="store_true",
        help="processus neuf sans gc.freeze après l'import (app.serving.settle)",
    )
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return _child(args.url, not args.no_settle)
    if args.fresh_worker:
        return _fresh_worker(args.url, args.repeat, not args.no_settle)
    with Session(make_engine(args.url)) as session:
        years = list(session.exec(select(Campaign).order_by(col(Campaign.year).desc())).all())
        g = nx.DiGraph(build_graph(session, years[0]))
        before = nx.DiGraph(build_graph(session, years[1])) if len(years) > 1 else None
    last_year = layout.positions(before) if before is not None else None
    old = layout.positions(g, last_year)
    h = _changed_one_answer(g)
    ties = layout.ties_of(g)
    full = _best(lambda: layout.positions(h, last_year), args.repeat)
    update = _best(lambda: layout.update_positions(h, old, ties), args.repeat)
    moved = layout.changed_structures(ties, layout.ties_of(h))
    print(f"structures {h.number_of_nodes()}, ties {h.number_of_edges()}, moved {len(moved)}")
    print(f"full layout from last year   {full[0]:.3f} s  cpu {full[1]:.3f} s")
    print(f"update from previous version {update[0]:.3f} s  cpu {update[1]:.3f} s")
    print("loadavg", " ".join(Path("/proc/loadavg").read_text().split()[:3]))


if __name__ == "__main__":
    main()

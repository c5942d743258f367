"""The map's positions after one answer changed, on a synthetic territory (bench/synth.py).

    .venv/bin/python -m bench.bench_first_map --url sqlite:////tmp/carte_bench/large.sqlite3

Builds the latest campaign's graph and last year's positions, then changes one answer in
memory (a structure drops three partners and names a new structure) and times, best of
--repeat with CPU time: the full layout from last year's positions (what every change cost
before) and `reports.layout.update_positions` from the positions of the previous version
(what the first map after a change costs now). The database is not modified. Not a test:
numbers for docs/performance.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import networkx as nx
from sqlmodel import Session, col, select

from reports import layout
from reports.graph import build_graph
from survey.db import make_engine
from survey.models import Campaign


def _best(fn, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    best = (float("inf"), 0.0)
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        best = min(best, (time.perf_counter() - t0, time.process_time() - c0))
    return best


def main() -> None:
    p = argparse.ArgumentParser(description="Mesurer la carte après une réponse modifiée.")
    p.add_argument("--url", required=True)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    with Session(make_engine(args.url)) as session:
        years = list(session.exec(select(Campaign).order_by(col(Campaign.year).desc())).all())
        g = nx.DiGraph(build_graph(session, years[0]))
        before = nx.DiGraph(build_graph(session, years[1])) if len(years) > 1 else None
    last_year = layout.positions(before) if before is not None else None
    old = layout.positions(g, last_year)
    h = nx.DiGraph(g)
    who = sorted(h.nodes)[5]
    dropped = sorted(h.successors(who))[:3]
    h.remove_edges_from((who, v) for v in dropped)
    new = max(h.nodes) + 1
    h.add_node(new, **dict(g.nodes[who]))
    h.add_edge(new, dropped[0], **dict(g.edges[who, dropped[0]]))
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

"""Time and peak memory of graph building + figures on synthetic territories.

    .venv/bin/python -m bench.bench_graph --url sqlite:////tmp/carte_bench/large.sqlite3
    .venv/bin/python -m bench.bench_graph --url postgresql+psycopg://postgres@127.0.0.1/carte_bench --all-territories

Per campaign measured (latest year of the first territory unless told): build_graph (and,
for a live campaign, the same graph with its tags counted from the tag rows), every
graph figure (all_figures), obstacles (SQL), the coordination figures, the year-over-year
comparison and the layout.
Time is the best of --repeat runs without tracing (with that run's CPU time); peak memory is Python's (tracemalloc) in
one more run, plus the process's maximum resident size. Not a test: numbers for
docs/performance.md.
"""

from __future__ import annotations

import argparse
import platform
import resource
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from reports import compare, coordination, figures, layout
from reports.graph import build_graph, build_graph_from_tag_rows, is_frozen
from survey.db import make_engine
from survey.models import Campaign, DeclaredLink, Territory

# CPU seconds of this process (Python + SQLite; not the PostgreSQL server) of the best run of
# each step, by step name: on a shared, loaded machine wall time is mostly waiting for a CPU.
_cpu: dict[str, float] = {}


def _best(fn: Callable[[], object], repeat: int, name: str = "") -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        elapsed = time.perf_counter() - t0
        if elapsed < best:
            best = elapsed
            _cpu[name] = time.process_time() - c0
    return best, out


def _peak_mb(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def _campaigns(session: Session, code: str | None) -> tuple[Campaign, Campaign | None]:
    q = select(Territory)
    territory = session.exec(
        q.where(Territory.code == code) if code else q.order_by(Territory.id)
    ).first()
    years = list(
        session.exec(
            select(Campaign).where(Campaign.territory_id == territory.id).order_by(Campaign.year)
        )
    )
    return years[-1], (years[-2] if len(years) > 1 else None)


def bench_one(
    session: Session, campaign: Campaign, previous: Campaign | None, repeat: int, k: int | None
) -> dict:
    out: dict[str, object] = {}
    links = session.scalar(select(func.count()).select_from(DeclaredLink))
    out["links_in_database"] = links
    t, g = _best(lambda: build_graph(session, campaign), repeat, "graph")
    out["graph_s"] = t
    if not is_frozen(session, campaign):  # the same graph, its tags counted from the tag rows
        out["graph_tag_rows_s"], _ = _best(
            lambda: build_graph_from_tag_rows(session, campaign), repeat, "graph_tag_rows"
        )
    out["structures"] = g.number_of_nodes()
    out["ties"] = g.number_of_edges()
    out["figures_s"], _ = _best(lambda: figures.all_figures(g, betweenness_k=k), repeat, "figures")
    out["betweenness_s"], _ = _best(
        lambda: figures.centrality(g, betweenness_k=k), repeat, "betweenness"
    )
    out["obstacles_s"], _ = _best(lambda: figures.obstacles(session, campaign), repeat, "obstacles")
    # The coordination page's figures (instances, conventions, zones, quality), given the
    # graph as the page gives it from the cache.
    out["coordination_s"], _ = _best(
        lambda: coordination.coordination(session, campaign, g), repeat, "coordination"
    )
    out["coordination_cpu_s"] = _cpu["coordination"]
    out["graph_plus_figures_s"] = out["graph_s"] + out["figures_s"] + out["obstacles_s"]
    out["graph_plus_figures_cpu_s"] = _cpu["graph"] + _cpu["figures"] + _cpu["obstacles"]
    out["peak_mb"] = _peak_mb(
        lambda: (
            figures.all_figures(build_graph(session, campaign), betweenness_k=k),
            figures.obstacles(session, campaign),
        )
    )
    if previous is not None:
        out["compare_s"], _ = _best(
            lambda: compare.compare(session, previous, campaign), repeat, "compare"
        )
        p1 = layout.positions(build_graph(session, previous))
        out["layout_s"], _ = _best(lambda: layout.positions(g, p1), repeat, "layout")
    return out


def bench_all_territories(session: Session, k: int | None) -> dict:
    """Graph + figures for the latest campaign of every territory, one after the other."""
    campaigns = list(
        session.exec(
            select(Campaign).where(Campaign.status == "open").order_by(Campaign.territory_id)
        )
    )
    tracemalloc.start()
    t0 = time.perf_counter()
    for c in campaigns:
        figures.all_figures(build_graph(session, c), betweenness_k=k)
        figures.obstacles(session, c)
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "territories": len(campaigns),
        "all_territories_s": elapsed,
        "all_territories_peak_mb": peak / 1e6,
    }


def main() -> None:
    p = argparse.ArgumentParser(description="Mesurer graphe + figures sur une base synthétique.")
    p.add_argument("--url", required=True)
    p.add_argument("--territory", help="code du territoire mesuré (défaut : le premier)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--betweenness-k", type=int, help="approximation de l'intermédiarité (k pivots)")
    p.add_argument(
        "--all-territories", action="store_true", help="aussi : tous les territoires à la suite"
    )
    args = p.parse_args()
    engine = make_engine(args.url)
    with Session(engine) as session:
        campaign, previous = _campaigns(session, args.territory)
        result = {
            "backend": engine.dialect.name,
            "python": platform.python_version(),
            "year": campaign.year,
        }
        result |= bench_one(session, campaign, previous, args.repeat, args.betweenness_k)
        if args.all_territories:
            result |= bench_all_territories(session, args.betweenness_k)
    result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result |= {f"{name}_cpu_s": seconds for name, seconds in _cpu.items()}
    result["loadavg"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    for key, value in result.items():
        print(f"{key:26} {value:.3f}" if isinstance(value, float) else f"{key:26} {value}")


if __name__ == "__main__":
    main()

"""Frozen campaigns (issue 13): freezing cost, `carte figures --all`, cold year over year.

    # after bench/synth.py (its campaigns are written "closed" without a snapshot):
    .venv/bin/python -m bench.figures_all freeze --url URL       # freeze_missing, per campaign
    .venv/bin/python -m bench.figures_all list --url URL         # carte figures --all
    .venv/bin/python -m bench.figures_all freeze-one --url URL   # freeze one campaign again
    .venv/bin/python -m bench.figures_all compare --url URL      # closes the latest year, then
                                                                 # cold reports.cache.compare

`freeze` freezes every closed campaign without a snapshot one by one, each in its own
transaction (what `reports.snapshot.freeze_missing` does in one), and prints each one's time:
it is the cost a coordinator's « Clore » pays. `list` runs the real command in a child process
(`carte figures --all --format csv`), best of --repeat, with the child's peak RSS, plus the
same rows computed in this process (`reports.overview.rows`). `freeze-one` freezes the first
territory's latest closed campaign again (the previous snapshot is discarded first, as a
reopen + close does). `compare` closes the first territory's open campaign if there is one
(`reports.snapshot.close`: it is frozen) and times `reports.cache.compare` of its two latest
closed campaigns with a cold cache: a new engine per run, so nothing is cached in the process
(the database's own cache stays warm); `--profile` prints where one cold run spends its time.
Not a test: numbers for docs/performance.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import event, func, select
from sqlmodel import Session

from reports import cache, overview, snapshot
from reports.compare import carrier_departures, compare_graphs
from survey.db import make_engine, table_of
from survey.models import Campaign, Territory
from survey.snapshots import CampaignSnapshot


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_before": _load(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def _timed(fn: Callable[[], object]) -> tuple[float, float, object]:
    """(wall s, CPU s of this process, result)."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


def _first_territory(session: Session) -> Territory:
    t = session.scalars(select(Territory).order_by(Territory.id)).first()
    if t is None:
        raise SystemExit("base vide : lancez d'abord bench.synth")
    return t


def _campaigns(session: Session, territory: Territory, status: str | None = None) -> list[Campaign]:
    q = select(Campaign).where(Campaign.territory_id == territory.id).order_by(Campaign.year)
    if status:
        q = q.where(Campaign.status == status)
    return list(session.scalars(q))


# --- freeze at close -----------------------------------------------------------------------


def bench_freeze(url: str) -> dict:
    """Freeze every closed campaign without a snapshot, one transaction each, timed."""
    engine = make_engine(url)
    snap, camp = table_of(CampaignSnapshot), table_of(Campaign)
    with Session(engine) as session:
        ids = session.scalars(
            select(camp.c.id)
            .where(camp.c.status == "closed", camp.c.id.not_in(select(snap.c.campaign_id)))
            .order_by(camp.c.territory_id, camp.c.year)
        ).all()
    times, cpus = [], []
    t_all = time.perf_counter()
    for n, cid in enumerate(ids, 1):
        with Session(engine) as session:
            c = session.get(Campaign, cid)
            assert c is not None
            year = c.year
            wall, cpu, _ = _timed(lambda c=c, s=session: (snapshot.freeze(s, c), s.commit()))
        times.append(wall)
        cpus.append(cpu)
        print(f"  campagne {cid} ({year}) figée en {wall:.2f} s (CPU {cpu:.2f} s)", flush=True)
        if n % 10 == 0:
            print(f"  {n}/{len(ids)}, charge {_load()}", flush=True)
    engine.dispose()
    if not times:
        return {"campaigns_frozen": 0}
    return {
        "campaigns_frozen": len(times),
        "total_s": round(time.perf_counter() - t_all, 1),
        "per_campaign_s": {
            "min": round(min(times), 2),
            "median": round(statistics.median(times), 2),
            "max": round(max(times), 2),
        },
        "per_campaign_cpu_s_median": round(statistics.median(cpus), 2),
    }


def _statement_timer(engine) -> list[tuple[float, str]]:
    """Every statement's wall time on `engine` (the database's share of a freeze)."""
    spent: list[tuple[float, str]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn, cursor, statement, params, context, executemany):
        conn.info["t0"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _end(conn, cursor, statement, params, context, executemany):
        spent.append((time.perf_counter() - conn.info.pop("t0"), " ".join(statement.split())))

    return spent


def bench_freeze_one(url: str, repeat: int) -> dict:
    """The first territory's latest closed campaign frozen again, --repeat times; the
    slowest statements of the best run."""
    engine = make_engine(url)
    spent = _statement_timer(engine)
    best_statements: list[tuple[float, str]] = []
    runs = []
    for _ in range(repeat):
        with Session(engine) as session:
            closed = _campaigns(session, _first_territory(session), "closed")
            c = closed[-1]
            year = c.year
            spent.clear()
            wall, cpu, _ = _timed(lambda c=c, s=session: (snapshot.freeze(s, c), s.commit()))
            if not runs or wall < min(runs)[0]:
                best_statements = sorted(spent, reverse=True)
            runs.append((wall, cpu))
            print(f"  {year} figée en {wall:.2f} s (CPU {cpu:.2f} s)", flush=True)
    engine.dispose()
    best = min(runs)
    print("  requêtes les plus lentes du meilleur passage :")
    for t, sql in best_statements[:8]:
        print(f"    {t:6.2f} s  {sql[:150]}")
    return {
        "campaign_year": year,
        "best_s": round(best[0], 2),
        "best_cpu_s": round(best[1], 2),
        "best_sql_s": round(sum(t for t, _ in best_statements), 2),
        "runs_s": [round(w, 2) for w, _ in runs],
    }


# --- carte figures --all -------------------------------------------------------------------


def _carte() -> str:
    return str(Path(sys.executable).with_name("carte"))


def bench_list(url: str, repeat: int) -> dict:
    env = os.environ | {"DATABASE_URL": url}
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                [_carte(), "figures", "--all", "--format", "csv"], env=env, stdout=out, stderr=err
            )
            # wait4 rather than wait: the child's own peak RSS, not the max over children.
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            wall = time.perf_counter() - t0
            out.seek(0)
            err.seek(0)
            if proc.returncode:
                raise SystemExit(err.read().decode())
            lines = out.read().count(b"\n") - 1
        runs.append((wall, usage.ru_maxrss / 1024, lines))
        print(f"  carte figures --all : {wall:.2f} s, {lines} territoires", flush=True)
    engine = make_engine(url)
    with Session(engine) as session:
        in_process, cpu, rows = _timed(lambda: overview.csv_text(overview.rows(session)))
        n_snap = session.scalar(select(func.count()).select_from(table_of(CampaignSnapshot)))
        json_mb = session.scalar(
            select(func.sum(func.length(table_of(CampaignSnapshot).c.figures)))
        )
    engine.dispose()
    return {
        "command_best_s": round(min(r[0] for r in runs), 2),
        "command_runs_s": [round(r[0], 2) for r in runs],
        "child_peak_rss_mb": round(max(r[1] for r in runs)),
        "territories_listed": runs[-1][2],
        "in_process_rows_and_csv_s": round(in_process, 3),
        "in_process_cpu_s": round(cpu, 3),
        "snapshots": n_snap,
        "figures_json_total_mb": round((json_mb or 0) / 1e6, 1),
    }


# --- year over year, cold ------------------------------------------------------------------


def _close_latest(url: str) -> dict:
    engine = make_engine(url)
    with Session(engine) as session:
        opened = _campaigns(session, _first_territory(session), "open")
        if not opened:
            return {}
        c = opened[-1]
        wall, cpu, _ = _timed(lambda: (snapshot.close(session, c), session.commit()))
        print(f"  campagne {c.year} close et figée en {wall:.2f} s", flush=True)
    engine.dispose()
    return {"closed_year": c.year, "close_and_freeze_s": round(wall, 2)}


def _cold_compare(url: str) -> tuple[float, float, dict, dict]:
    engine = make_engine(url)  # a new engine: a new, empty graph cache
    spent = _statement_timer(engine)
    with Session(engine) as session:
        closed = _campaigns(session, _first_territory(session), "closed")
        before, after = closed[-2], closed[-1]
        assert snapshot.is_frozen(session, before) and snapshot.is_frozen(session, after)
        cache.cache_for(session).clear()
        spent.clear()
        wall, cpu, result = _timed(lambda: cache.compare(session, before, after))
    engine.dispose()
    slow = sorted(spent, reverse=True)[:3]
    print(f"    SQL {sum(t for t, _ in spent):.2f} s ; les plus lentes :", flush=True)
    for t, sql in slow:
        print(f"      {t:6.2f} s  {sql[:140]}", flush=True)
    # The parts, cold again (one more engine), one after the other: where the time goes, in
    # CPU seconds of this process (wall time on a loaded machine is mostly waiting). The
    # last one is what cache.compare would cost if it passed the figures frozen with both
    # campaigns to compare_graphs instead of letting it compute their headlines again.
    parts: dict[str, float] = {}
    engine = make_engine(url)
    with Session(engine) as session:
        closed = _campaigns(session, _first_territory(session), "closed")
        before, after = closed[-2], closed[-1]
        parts["data_version_x2"] = _timed(
            lambda: (cache.data_version(session, before), cache.data_version(session, after))
        )[1]
        c, (b, a) = _timed(lambda: (cache.entry(session, before), cache.entry(session, after)))[1:]
        parts["stored_graphs_x2"] = c
        c, left = _timed(lambda: carrier_departures(session, before, after))[1:]
        parts["carrier_departures"] = c
        parts["compare_graphs"] = _timed(lambda: compare_graphs(b.graph, a.graph, left))[1]
        parts["compare_graphs_given_stored_figures"] = _timed(
            lambda: compare_graphs(
                b.graph,
                a.graph,
                left,
                figures_before=b.stored_figures,
                figures_after=a.stored_figures,
            )
        )[1]
        cache.compare(session, before, after)
        parts["warm_again"] = _timed(lambda: cache.compare(session, before, after))[1]
    engine.dispose()
    return wall, cpu, result, {k: round(v, 3) for k, v in parts.items()}


def bench_compare(url: str, repeat: int, profile: bool) -> dict:
    out = _close_latest(url)
    runs = [_cold_compare(url) for _ in range(repeat)]
    for wall, cpu, _, parts in runs:
        print(
            f"  compare à froid : {wall:.3f} s (CPU {cpu:.3f} s), CPU par partie {parts}",
            flush=True,
        )
    best = min(runs, key=lambda r: r[0])
    result = best[2]
    out |= {
        "cold_best_s": round(best[0], 3),
        "cold_best_cpu_s": round(best[1], 3),
        "cold_runs_s": [round(r[0], 3) for r in runs],
        "cpu_parts_of_best_s": best[3],
        "target_met": best[0] <= 0.2,
        "result_keys": sorted(result)[:12],
    }
    if profile:
        engine = make_engine(url)
        with Session(engine) as session:
            closed = _campaigns(session, _first_territory(session), "closed")
            before, after = closed[-2], closed[-1]
            prof = cProfile.Profile()
            prof.enable()
            cache.compare(session, before, after)
            prof.disable()
        engine.dispose()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(30)
        print(buf.getvalue())
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(15)
        print(buf.getvalue())
    return out


def main() -> None:
    p = argparse.ArgumentParser(description="Mesures des campagnes figées (issue 13).")
    p.add_argument("step", choices=["freeze", "list", "freeze-one", "compare"])
    p.add_argument("--url", required=True)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--profile", action="store_true", help="compare : profil cProfile")
    args = p.parse_args()
    result = {"step": args.step, "url": args.url.split("@")[-1]} | _machine()
    if args.step == "freeze":
        result |= bench_freeze(args.url)
    elif args.step == "list":
        result |= bench_list(args.url, args.repeat)
    elif args.step == "freeze-one":
        result |= bench_freeze_one(args.url, args.repeat)
    else:
        result |= bench_compare(args.url, args.repeat, args.profile)
    result["load_after"] = _load()
    result["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(result)


if __name__ == "__main__":
    main()

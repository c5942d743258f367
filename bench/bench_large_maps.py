"""Time of the large report's maps and of the whole large report (issue 18).

    .venv/bin/python -m bench.synth --scale large --url sqlite:////tmp/carte_bench/large.sqlite3
    .venv/bin/python -m bench.bench_large_maps --url sqlite:////tmp/carte_bench/large.sqlite3

Measures, best of `--repeat` runs, on the latest campaign of a territory: the family map
drawing (reports.groupdraw), the zone map drawing when the territory has zones, the backbone
computation and its map drawing (reports.backbone, reports.mapdraw.draw_named_map), the ten
ego maps of the annex, and the whole report (bench.bench_report: time, pages, memory).
Wall and CPU time are both given: on a shared machine the CPU time moves less with the load.
Not a test: numbers for docs/performance.md.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlmodel import Session

from bench import bench_report
from reports import backbone, figures, groupdraw, groups, mapdraw, pdf
from reports.pdf.large import most_connected
from survey import campaigns
from survey.db import make_engine


def best_of(repeat: int, work: Callable[[], Any]) -> tuple[float, float]:
    """The best wall time and the best CPU time of `repeat` runs of `work`, in seconds."""
    wall, cpu = float("inf"), float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        work()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu


def run(url: str, code: str | None = None, repeat: int = 3) -> dict:
    engine = make_engine(url)
    pdf.register_fonts()
    with Session(engine) as session:
        campaign = bench_report._campaign(session, code)
        previous = campaigns.previous_campaign(session, campaign)
        data = pdf.collect(session, campaign, previous)
    g, pos = data.graph, data.positions
    pairs = figures.links(g)
    family = groups.by_family(g, pairs)
    zones = groups.by_zone(g, pairs)
    bb = backbone.backbone(g, pairs)
    named = backbone.named(g, bb)
    drawing = mapdraw.draw_named_map(g, pos, bb.kept, named, 16)
    out: dict[str, Any] = {
        "structures": g.number_of_nodes(),
        "links": len(pairs),
        "families": len(family.groups),
        "zones": len(zones.groups) if zones else 0,
        "backbone_links": len(bb.kept),
        "backbone_named": len(drawing.named),
    }
    timings = {
        "family map (aggregate + draw)": lambda: groupdraw.draw_group_map(
            groups.by_family(g, pairs), groups.group_positions(family)
        ),
        "backbone (rule)": lambda: backbone.backbone(g, pairs),
        "backbone map (draw)": lambda: mapdraw.draw_named_map(g, pos, bb.kept, named, 16),
        "ten ego maps": lambda: mapdraw.draw_egos(g, most_connected(g), pairs, bb.keys()),
    }
    if zones is not None:
        timings["zone map (aggregate + draw)"] = lambda: groupdraw.draw_group_map(
            groups.by_zone(g, pairs),  # type: ignore[arg-type]  # zones exist here
            groups.group_positions(zones),
        )
    for name, work in timings.items():
        wall, cpu = best_of(repeat, work)
        out[name] = f"{wall:.2f} s wall, {cpu:.2f} s CPU"
    report = bench_report.run(url, code, repeat)
    out["report"] = (
        f"{report['total_s']:.2f} s wall, {report['total_cpu_s']:.2f} s CPU, "
        f"{report['pages']} pages, {report['pdf_kb']} kB"
    )
    out["report steps"] = ", ".join(f"{k} {v:.2f} s" for k, v in report["steps"].items())
    out["report memory"] = (
        f"Python peak {report['python_peak_mb']:.0f} MB, max RSS {report['max_rss_mb']:.0f} MB"
    )
    out["loadavg"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return out


def main() -> None:
    p = argparse.ArgumentParser(description="Mesurer les cartes du rapport d'un grand territoire.")
    p.add_argument("--url", required=True)
    p.add_argument("--territory", help="code du territoire (défaut : le premier)")
    p.add_argument("--repeat", type=int, default=3, help="mesures par chiffre (meilleur temps)")
    args = p.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {platform.python_version()}")
    print(f"loadavg before: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    for key, value in run(args.url, args.territory, args.repeat).items():
        print(f"{key:32} {value}")


if __name__ == "__main__":
    main()

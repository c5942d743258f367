"""Time of the coordination figures (`reports.coordination`) on a synthetic territory.

    .venv/bin/python -m bench.synth --scale large --url sqlite:////tmp/carte_bench/large.sqlite3
    .venv/bin/python -m bench.coordination --url sqlite:////tmp/carte_bench/large.sqlite3

`bench/synth.py` writes answers only: this adds, once, what a coordinator of a large
département would record — zones covering every commune (`--zones`), instances of 6 to 12
members (`--instances`), conventions between two to five structures (`--conventions`) —
drawn from a fixed seed, then times `coordination` for the territory's latest campaign given
its graph, best of --repeat, with that run's CPU time; then what a page pays once they are
cached (`reports.cache.coordination_figures`: the data versions only).
Not a test: numbers for docs/performance.md.
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from datetime import date

from sqlmodel import Session, col, select

from reports import cache, coordination
from reports.graph import build_graph
from survey.db import make_engine
from survey.models import (
    Body,
    BodyMember,
    Campaign,
    Convention,
    ConventionParty,
    Organisation,
    Territory,
    Zone,
    ZoneCommune,
)
from survey.zones import commune_key


def add_rows(
    session: Session, territory: Territory, zones: int, instances: int, conventions: int
) -> None:
    """Zones, instances and conventions for `territory`, unless it has some already."""
    if session.exec(select(Zone).where(Zone.territory_id == territory.id)).first() is not None:
        return
    rng = random.Random(15)
    orgs = list(session.exec(select(Organisation).where(Organisation.territory_id == territory.id)))
    communes = sorted({o.commune for o in orgs if o.commune})
    made = [
        Zone(territory_id=territory.id, name=f"Zone {i + 1}", kind="utas") for i in range(zones)
    ]
    bodies = [
        Body(territory_id=territory.id, name=f"Instance {i + 1}", kind="commission")
        for i in range(instances)
    ]
    signed = [
        Convention(
            territory_id=territory.id, title=f"Convention {i + 1}", starts_on=date(2024, 1, 1)
        )
        for i in range(conventions)
    ]
    session.add_all([*made, *bodies, *signed])
    session.flush()
    for i, commune in enumerate(communes):
        session.add(
            ZoneCommune(zone_id=made[i % zones].id, key=commune_key(commune), commune=commune)
        )
    for body in bodies:
        for org in rng.sample(orgs, rng.randint(6, 12)):
            session.add(BodyMember(body_id=body.id, organisation_id=org.id))
    for c in signed:
        for org in rng.sample(orgs, rng.randint(2, 5)):
            session.add(ConventionParty(convention_id=c.id, organisation_id=org.id))
    session.commit()


def main() -> None:
    p = argparse.ArgumentParser(description="Mesurer les chiffres de coordination.")
    p.add_argument("--url", required=True)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--zones", type=int, default=12)
    p.add_argument("--instances", type=int, default=40)
    p.add_argument("--conventions", type=int, default=150)
    args = p.parse_args()
    engine = make_engine(args.url)
    with Session(engine) as session:
        territory = session.exec(select(Territory).order_by(col(Territory.id))).first()
        assert territory is not None, "générez d'abord un territoire (bench.synth)"
        add_rows(session, territory, args.zones, args.instances, args.conventions)
        campaign = session.exec(
            select(Campaign)
            .where(Campaign.territory_id == territory.id)
            .order_by(col(Campaign.year).desc())
        ).first()
        assert campaign is not None
        g = build_graph(session, campaign)
        best, cpu, d = float("inf"), 0.0, {}
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            d = coordination.coordination(session, campaign, g)
            if (elapsed := time.perf_counter() - t0) < best:
                best, cpu = elapsed, time.process_time() - c0
        cache.coordination_figures(session, campaign)  # fills the cache
        cached = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            cache.coordination_figures(session, campaign)
            cached = min(cached, time.perf_counter() - t0)
        result = {
            "backend": engine.dialect.name,
            "python": platform.python_version(),
            "structures": g.number_of_nodes(),
            "ties": g.number_of_edges(),
            "instances": len(d["instances"]["items"]),
            "absent_listed": sum(len(i["absent"]) for i in d["instances"]["items"]),
            "conventions_in_force": len(d["official"]["in_force"]),
            "without_frame": len(d["official"]["without_frame"]),
            "zones": len(d["zones"]["items"]),
            "white_zones": len(d["zones"]["white"]),
            "coordination_s": round(best, 3),
            "coordination_cpu_s": round(cpu, 3),
            # Again, unchanged: the two data versions read, the figures from the cache.
            "cached_s": round(cached, 3),
        }
    engine.dispose()
    for key, value in result.items():
        print(f"{key:<22} {value}")


if __name__ == "__main__":
    main()

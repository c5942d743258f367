"""Year over year: what changed in the partnership between two campaigns of a territory.

Links are unordered pairs of structures (see reports.figures.links). A pair that disappears
while neither of its structures answered the later campaign is "not observed", not lost; a
pair that appears while neither answered the earlier one is "newly observed", not new:
non-response is never read as a change of partnership.
"""

from __future__ import annotations

import json
from collections.abc import Hashable

import networkx as nx
from sqlalchemy import case, func, select
from sqlmodel import Session

from reports import figures
from reports.graph import (
    NO_FILTER,
    GraphFilter,
    build_graph,
    canonical_cte,
    is_frozen,
    source_of,
)
from survey.db import table_of
from survey.models import Campaign, Professional, Response
from survey.snapshots import CampaignSnapshot, SnapshotPerson

Pair = tuple[Hashable, Hashable]

# Figures whose change is reported (the headline, then the size of the network).
CHANGED_FIGURES = (
    "response_rate",
    "links",
    "reciprocity",
    "formal_share",
    "fragile_share",
    "structures",
    "ties",
    "density",
    "components",
    "isolated_count",
    "degree_centralisation",
)


def _figures(g: nx.DiGraph, computed: dict | None = None) -> dict:
    """The CHANGED_FIGURES of g, taken from `computed` (figures.all_figures(g)) when given."""
    if computed is not None:
        s, headline = computed["size"], computed["headline"]
        centralisation = computed["centrality"]["degree_centralisation"]
    else:
        pairs = figures.links(g)
        s, headline = figures.size(g, pairs), figures.headline(g, pairs)
        centralisation = figures.degree_centralisation(figures.undirected(g, pairs))
    return {
        **headline,
        **{k: s[k] for k in ("structures", "ties", "density", "components", "isolated_count")},
        "degree_centralisation": centralisation,
    }


def _answered(g: nx.DiGraph, n: Hashable) -> bool:
    return n in g and bool(g.nodes[n].get("answered"))


def _row(g1: nx.DiGraph, g2: nx.DiGraph, pair: Pair, **extra) -> dict:
    a, b = pair
    name = lambda n: (g2.nodes[n] if n in g2 else g1.nodes[n]).get("name", str(n))  # noqa: E731
    return {"a": a, "b": b, "a_name": name(a), "b_name": name(b), **extra}


def compare_graphs(
    before: nx.DiGraph,
    after: nx.DiGraph,
    carriers_left: dict[Pair, bool] | None = None,
    figures_before: dict | None = None,
    figures_after: dict | None = None,
) -> dict:
    """Pure comparison of two graphs. `carriers_left` maps an earlier pair to True when every
    professional who carried it has left (see `carrier_departures`). `figures_before` and
    `figures_after` are figures.all_figures of each graph when the caller already has them
    (they are not computed again)."""
    p1 = {(x.a, x.b): x for x in figures.links(before)}
    p2 = {(x.a, x.b): x for x in figures.links(after)}
    kept: list[dict] = []
    new: list[dict] = []
    newly_observed: list[dict] = []
    lost: list[dict] = []
    not_observed: list[dict] = []
    strengthened: list[dict] = []
    weakened: list[dict] = []
    for pair in sorted(p2.keys() - p1.keys(), key=str):
        seen_before = any(_answered(before, n) for n in pair)
        (new if seen_before else newly_observed).append(
            _row(before, after, pair, carriers=p2[pair].carriers, formal=p2[pair].formal)
        )
    for pair in sorted(p1.keys() - p2.keys(), key=str):
        seen_after = any(_answered(after, n) for n in pair)
        (lost if seen_after else not_observed).append(
            _row(before, after, pair, carriers=p1[pair].carriers, formal=p1[pair].formal)
        )
    for pair in sorted(p1.keys() & p2.keys(), key=str):
        x1, x2 = p1[pair], p2[pair]
        row = _row(
            before,
            after,
            pair,
            carriers_before=x1.carriers,
            carriers_after=x2.carriers,
            formal_before=x1.formal,
            formal_after=x2.formal,
            became_formal=x2.formal and not x1.formal,
            more_carriers=x2.carriers > x1.carriers,
        )
        kept.append(row)
        if row["became_formal"] or row["more_carriers"]:
            strengthened.append(row)
        if (x1.formal and not x2.formal) or x2.carriers < x1.carriers:
            weakened.append(row)
    survived: list[dict] = []
    lost_with_carriers: list[dict] = []
    for pair, all_left in sorted((carriers_left or {}).items(), key=lambda x: str(x[0])):
        if all_left and pair in p1:
            row = _row(before, after, pair, carriers_before=p1[pair].carriers)
            (survived if pair in p2 else lost_with_carriers).append(row)
    f1, f2 = _figures(before, figures_before), _figures(after, figures_after)
    changes = {
        k: {
            "before": f1[k],
            "after": f2[k],
            "change": None if f1[k] is None or f2[k] is None else f2[k] - f1[k],
        }
        for k in CHANGED_FIGURES
    }
    return {
        "years": (before.graph.get("year"), after.graph.get("year")),
        "kept": kept,
        "new": new,
        "newly_observed": newly_observed,
        "lost": lost,
        "not_observed": not_observed,
        "strengthened": strengthened,
        "weakened": weakened,
        "survived_carrier_leaving": survived,
        "lost_with_carriers": lost_with_carriers,
        "counts": {
            k: len(v)
            for k, v in (
                ("kept", kept),
                ("new", new),
                ("newly_observed", newly_observed),
                ("lost", lost),
                ("not_observed", not_observed),
                ("strengthened", strengthened),
                ("became_formal", [r for r in kept if r["became_formal"]]),
                ("more_carriers", [r for r in kept if r["more_carriers"]]),
                ("weakened", weakened),
                ("survived_carrier_leaving", survived),
                ("lost_with_carriers", lost_with_carriers),
            )
        },
        "figures": changes,
    }


def carrier_departures(
    session: Session, before: Campaign, after: Campaign, flt: GraphFilter = NO_FILTER
) -> dict[Pair, bool]:
    """For every pair of the earlier campaign: True when all its carriers have left, i.e.
    none of them is still active AND answered the later campaign from the same structure.
    Aggregated in SQL (one row per pair)."""
    source = source_of(session, before)
    canon = source.canon()
    d = source.declarations(flt, canon)
    # (professional, structure) pairs that stayed: active and answered the later campaign
    # from that structure. Joined once (a correlated EXISTS per declaration took seconds on
    # PostgreSQL at the scale of a large département). A frozen later campaign says who
    # answered it as it stood at its close; a professional leaving since changes nothing.
    if is_frozen(session, after):
        sp = table_of(SnapshotPerson)
        stayed = (
            select(sp.c.professional_id.label("pro"), sp.c.organisation_id.label("root"))
            .where(sp.c.campaign_id == after.id, sp.c.responded == 1)
            .subquery("stayed")
        )
    else:
        later = table_of(Response).alias("later")
        pro = table_of(Professional)
        live_canon = canonical_cte(after.territory_id) if source.frozen else canon
        c2 = live_canon.alias("c2")
        stayed = (
            select(later.c.professional_id.label("pro"), c2.c.root.label("root"))
            .select_from(
                later.join(c2, c2.c.id == later.c.organisation_id).join(
                    pro, pro.c.id == later.c.professional_id
                )
            )
            .where(
                later.c.campaign_id == after.id,
                later.c.status == "submitted",
                pro.c.active.is_(True),
            )
            .distinct()
            .subquery("stayed")
        )
    stayed_expr = case((stayed.c.pro.is_not(None), 1), else_=0)
    a = case((d.c.src < d.c.dst, d.c.src), else_=d.c.dst).label("a")
    b = case((d.c.src < d.c.dst, d.c.dst), else_=d.c.src).label("b")
    per_carrier = (
        select(a, b, d.c.pro, func.max(stayed_expr).label("stayed"))
        .select_from(d.outerjoin(stayed, (stayed.c.pro == d.c.pro) & (stayed.c.root == d.c.src)))
        .group_by(a, b, d.c.pro)
        .subquery()
    )
    rows = session.execute(
        select(per_carrier.c.a, per_carrier.c.b, func.sum(per_carrier.c.stayed)).group_by(
            per_carrier.c.a, per_carrier.c.b
        )
    ).all()
    return {(r[0], r[1]): int(r[2] or 0) == 0 for r in rows}


def compare(
    session: Session, before: Campaign, after: Campaign, flt: GraphFilter = NO_FILTER
) -> dict:
    """Everything that changed between two campaigns of the same territory."""
    if before.territory_id != after.territory_id:
        raise ValueError("campaigns of different territories")
    return compare_graphs(
        build_graph(session, before, flt),
        build_graph(session, after, flt),
        carrier_departures(session, before, after, flt),
        # A frozen campaign's figures were stored at close: read, not computed again.
        figures_before=_stored_figures(session, before) if flt == NO_FILTER else None,
        figures_after=_stored_figures(session, after) if flt == NO_FILTER else None,
    )


def _stored_figures(session: Session, campaign: Campaign) -> dict | None:
    raw = session.execute(
        select(table_of(CampaignSnapshot).c.figures).where(
            table_of(CampaignSnapshot).c.campaign_id == campaign.id
        )
    ).scalar()
    return None if raw is None else json.loads(raw)

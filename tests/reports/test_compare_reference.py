"""Year over year read from sides (stored or light aggregates) against the reference: the
comparison of the two graphs built in full, as `reports.compare` computed it before it read
frozen campaigns from their snapshot and live ones from three aggregates. Same output, to the
last row and figure, on random campaigns and on the demo."""

from __future__ import annotations

import random
from collections.abc import Hashable

import networkx as nx
import pytest
from sqlmodel import Session, col, select

from reports import compare, figures, snapshot
from reports.graph import build_graph, is_frozen
from survey import demo
from survey.models import Campaign
from tests.conftest import TEST_SECRET
from tests.reports.builders import Builder

# --- the reference: the comparison of two graphs built in full ---------------------------


def _ref_figures(g: nx.DiGraph, computed: dict | None) -> dict:
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


def _ref_answered(g: nx.DiGraph, n: Hashable) -> bool:
    return n in g and bool(g.nodes[n].get("answered"))


def _ref_row(g1: nx.DiGraph, g2: nx.DiGraph, pair: tuple, **extra: object) -> dict:
    a, b = pair

    def name(n: Hashable) -> object:
        return (g2.nodes[n] if n in g2 else g1.nodes[n]).get("name", str(n))

    return {"a": a, "b": b, "a_name": name(a), "b_name": name(b), **extra}


def reference(
    before: nx.DiGraph,
    after: nx.DiGraph,
    carriers_left: dict | None = None,
    figures_before: dict | None = None,
    figures_after: dict | None = None,
) -> dict:
    p1 = {(x.a, x.b): x for x in figures.links(before)}
    p2 = {(x.a, x.b): x for x in figures.links(after)}
    out: dict[str, list[dict]] = {
        k: []
        for k in ("kept", "new", "newly_observed", "lost", "not_observed")
        + ("strengthened", "weakened", "survived_carrier_leaving", "lost_with_carriers")
    }
    for pair in sorted(p2.keys() - p1.keys(), key=str):
        seen = any(_ref_answered(before, n) for n in pair)
        out["new" if seen else "newly_observed"].append(
            _ref_row(before, after, pair, carriers=p2[pair].carriers, formal=p2[pair].formal)
        )
    for pair in sorted(p1.keys() - p2.keys(), key=str):
        seen = any(_ref_answered(after, n) for n in pair)
        out["lost" if seen else "not_observed"].append(
            _ref_row(before, after, pair, carriers=p1[pair].carriers, formal=p1[pair].formal)
        )
    for pair in sorted(p1.keys() & p2.keys(), key=str):
        x1, x2 = p1[pair], p2[pair]
        row = _ref_row(
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
        out["kept"].append(row)
        if row["became_formal"] or row["more_carriers"]:
            out["strengthened"].append(row)
        if (x1.formal and not x2.formal) or x2.carriers < x1.carriers:
            out["weakened"].append(row)
    for pair, all_left in sorted((carriers_left or {}).items(), key=lambda x: str(x[0])):
        if all_left and pair in p1:
            row = _ref_row(before, after, pair, carriers_before=p1[pair].carriers)
            out["survived_carrier_leaving" if pair in p2 else "lost_with_carriers"].append(row)
    f1, f2 = _ref_figures(before, figures_before), _ref_figures(after, figures_after)
    counts = {k: len(v) for k, v in out.items() if k not in ("strengthened", "weakened")}
    counts |= {
        "strengthened": len(out["strengthened"]),
        "became_formal": sum(1 for r in out["kept"] if r["became_formal"]),
        "more_carriers": sum(1 for r in out["kept"] if r["more_carriers"]),
        "weakened": len(out["weakened"]),
    }
    return {
        "years": (before.graph.get("year"), after.graph.get("year")),
        **out,
        "counts": counts,
        "figures": {
            k: {
                "before": f1[k],
                "after": f2[k],
                "change": None if f1[k] is None or f2[k] is None else f2[k] - f1[k],
            }
            for k in compare.CHANGED_FIGURES
        },
    }


def reference_compare(session: Session, before: Campaign, after: Campaign) -> dict:
    """Both graphs built in full, the figures of a frozen campaign read from its snapshot."""
    return reference(
        build_graph(session, before),
        build_graph(session, after),
        compare.carrier_departures(session, before, after),
        snapshot.stored_figures(session, before),
        snapshot.stored_figures(session, after),
    )


# --- random campaigns ---------------------------------------------------------------------


def _random_territory(session: Session, seed: int) -> tuple[Campaign, Campaign]:
    """Two campaigns (2025 closed, 2026 open) of a random territory: structures proposed,
    archived or merged, people who leave or move, drafts, self-declarations, every nature."""
    rng = random.Random(seed)
    b = Builder.start(session, code=f"9{seed}", name=f"Aléa {seed}")
    y1, y2 = b.campaign(2025), b.campaign(2026, "open")
    keys = [f"o{i}" for i in range(14)]
    for i, k in enumerate(keys):
        status = rng.choice(["active"] * 6 + ["proposed", "archived"])
        merged = keys[rng.randrange(i)] if i > 3 and rng.random() < 0.1 else None
        b.org(k, rng.choice(["caf", "ccas-cias", "siao", "association"]), status, merged)
    pros = [f"p{i}" for i in range(30)]
    for p in pros:
        b.pro(p, rng.choice(keys))
    natures = ["formal", "informal", "both", None]
    for year in (y1, y2):
        if year is y2:  # between the years: some leave, some move
            for p in rng.sample(pros, 6):
                b.pros[p].active = False
            for p in rng.sample(pros, 4):
                b.pros[p].organisation_id = b.orgs[rng.choice(keys)].id
            session.flush()
        for p in rng.sample(pros, rng.randrange(8, 24)):
            partners = [
                {
                    "org": rng.choice(keys),
                    "nature": rng.choice(natures),
                    "status": rng.choice(["new", "confirmed"]),
                }
                for _ in range(rng.randrange(0, 6))
            ]
            b.respond(year, p, partners, status=rng.choice(["submitted"] * 5 + ["draft"]))
        b.invite(year, *rng.sample(pros, 10))
    session.commit()
    return y1, y2


@pytest.mark.parametrize("seed", range(4))
def test_random_campaigns_same_as_reference(session, seed):
    y1, y2 = _random_territory(session, seed)
    # Both live (the earlier one closed but not frozen): sides from the light aggregates.
    assert not is_frozen(session, y1)
    assert compare.compare(session, y1, y2) == reference_compare(session, y1, y2)
    assert compare.compare(session, y2, y1) == reference_compare(session, y2, y1)
    live = compare.live_side(session, y2)
    full = compare.side_of_graph(build_graph(session, y2))
    assert (live.names, live.answered, live.links) == (full.names, full.answered, full.links)
    assert live.figures == full.figures
    # 2025 frozen, as a close does: its side is read from the snapshot.
    snapshot.freeze(session, y1)
    session.commit()
    stored = compare.stored_side(session, y1)
    assert stored is not None
    built = compare.side_of_graph(build_graph(session, y1))
    assert (stored.names, stored.answered, stored.links) == (
        built.names,
        built.answered,
        built.links,
    )
    assert compare.compare(session, y1, y2) == reference_compare(session, y1, y2)
    assert compare.compare(session, y2, y1) == reference_compare(session, y2, y1)


def test_figures_of_links_match_figures_on_random_graphs():
    """The figures computed from the links alone equal figures' on random graphs (isolated
    structures, several components, nobody invited)."""
    rng = random.Random(7)
    for _ in range(30):
        g = nx.DiGraph(year=2026)
        n = rng.randrange(1, 25)
        for v in range(n):
            invited = rng.randrange(0, 4)
            responded = rng.randrange(0, invited + 1)
            g.add_node(v, name=f"S{v}", invited=invited, responded=responded)
            g.nodes[v]["answered"] = responded > 0
        for _ in range(rng.randrange(0, 3 * n)):
            u, v = rng.randrange(n), rng.randrange(n)
            if u != v:
                nat = rng.choice(["formal", "informal", "both"])
                g.add_edge(u, v, carriers=rng.randrange(1, 4), **{nat: 1})
        pairs: dict = {}
        for x in figures.links(g):
            pairs[(x.a, x.b)] = [x.carriers, x.formal, 2 if x.mutual else 1]
        answered = frozenset(v for v in g if g.nodes[v]["answered"])
        invited = sum(g.nodes[v]["invited"] for v in g)
        rate = None if not invited else sum(g.nodes[v]["responded"] for v in g) / invited
        quick = compare._figures_of_links(set(g), answered, g.number_of_edges(), pairs, rate)
        assert quick == compare.side_of_graph(g).figures


def test_demo_same_as_reference(session):
    assert demo.load(session, TEST_SECRET) is True
    session.commit()
    years = list(session.exec(select(Campaign).order_by(col(Campaign.year))).all())
    assert len(years) >= 2
    for before, after in zip(years, years[1:], strict=False):
        assert compare.compare(session, before, after) == reference_compare(session, before, after)
    frozen = [c for c in years if is_frozen(session, c)]
    if not frozen:  # the demo's closed years frozen, as `carte db upgrade` does
        snapshot.freeze_missing(session)
        session.commit()
    assert any(is_frozen(session, c) for c in years)
    for before, after in zip(years, years[1:], strict=False):
        out = compare.compare(session, before, after)
        assert out == reference_compare(session, before, after)
        assert out["counts"]["kept"] > 0  # the demo's years share most of their links

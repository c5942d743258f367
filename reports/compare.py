"""Year over year: what changed in the partnership between two campaigns of a territory.

Links are unordered pairs of structures (see reports.figures.links). A pair that disappears
while neither of its structures answered the later campaign is "not observed", not lost; a
pair that appears while neither answered the earlier one is "newly observed", not new:
non-response is never read as a change of partnership.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, replace

import networkx as nx
from sqlalchemy import case, distinct, func, select
from sqlmodel import Session

from reports import figures
from reports.graph import (
    NO_FILTER,
    GraphFilter,
    Source,
    build_graph,
    canonical_cte,
    is_frozen,
    merge_roots,
    source_of,
)
from survey import french
from survey.db import table_of
from survey.models import Campaign, Professional, Response
from survey.snapshots import (
    CampaignSnapshot,
    SnapshotDeclaration,
    SnapshotPerson,
    SnapshotStructure,
    SnapshotTie,
)

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


def shown_points(before: object, after: object) -> int | None:
    """The change between two shares in percentage points as a reader computes it from the
    two percentages printed beside it: each share rounded to a whole percent first, as
    survey.french.percent prints it (« 40 % → 45 % » is +5 whatever the unrounded shares).
    None when either share is missing or withheld (not a number)."""
    if not isinstance(before, int | float) or not isinstance(after, int | float):
        return None
    if isinstance(before, bool) or isinstance(after, bool):
        return None
    return round(after * 100) - round(before * 100)


def points_text(before: object, after: object) -> str:
    """`shown_points` printed by `survey.french.points`: « +5 pts », « −1 pt », « stable »,
    « — »."""
    change = shown_points(before, after)
    return french.points(None if change is None else change / 100)


@dataclass(frozen=True)
class Side:
    """What the comparison reads of one campaign's graph: each structure's name, who
    answered, each link's carriers and whether it is formal, and the CHANGED_FIGURES.
    Built from a graph (`side_of_graph`) or, for a frozen campaign, read from its snapshot
    without building the graph (`stored_side`)."""

    year: int | None
    names: dict[Hashable, object]
    answered: frozenset[Hashable]
    links: dict[Pair, tuple[int, bool]]  # {(a, b): (carriers, formal)}, a sorted before b
    figures: dict


def side_of_graph(g: nx.DiGraph, computed: dict | None = None) -> Side:
    """The `Side` of a graph; `computed` as in `_figures`."""
    pairs = figures.links(g)
    return Side(
        year=g.graph.get("year"),
        names={n: a.get("name", str(n)) for n, a in g.nodes(data=True)},
        answered=frozenset(n for n, a in g.nodes(data=True) if a.get("answered")),
        links={(x.a, x.b): (x.carriers, x.formal) for x in pairs},
        figures=_figures(g, computed, pairs),
    )


def _figures(g: nx.DiGraph, computed: dict | None = None, pairs: list | None = None) -> dict:
    """The CHANGED_FIGURES of g, taken from `computed` (figures.all_figures(g)) when given.
    `pairs` is figures.links(g) when the caller already has it."""
    if computed is not None:
        return _figures_of(computed)
    pairs = figures.links(g) if pairs is None else pairs
    return _changed(
        figures.size(g, pairs),
        figures.headline(g, pairs),
        figures.degree_centralisation(figures.undirected(g, pairs)),
    )


def _figures_of(computed: dict) -> dict:
    """The CHANGED_FIGURES of figures.all_figures' output (computed or stored at close)."""
    return _changed(
        computed["size"], computed["headline"], computed["centrality"]["degree_centralisation"]
    )


def _changed(s: dict, headline: dict, centralisation: float | None) -> dict:
    return {
        **headline,
        **{k: s[k] for k in ("structures", "ties", "density", "components", "isolated_count")},
        "degree_centralisation": centralisation,
    }


def current_roots(session: Session, territory_id: int) -> dict[Hashable, Hashable]:
    """Every structure of the territory merged into another -> the one it is part of now."""
    return {i: r for i, r in merge_roots(session, territory_id).items() if i != r}


def _now(roots: Mapping[Hashable, Hashable], a: Hashable, b: Hashable) -> Pair | None:
    """The pair {a, b} with each structure as it is now, sorted; None when both are now one."""
    x, y = roots.get(a, a), roots.get(b, b)
    if x == y:
        return None
    return (x, y) if x < y else (y, x)  # type: ignore[operator]


def merged_now(s: Side, roots: Mapping[Hashable, Hashable]) -> Side:
    """`s` with its structures read as the directory has them now: a frozen year's links to a
    structure merged since are its absorber's (carriers added up, formal if one was), and a
    link between the two is gone. Comparing that year with today's map otherwise listed
    every such link as lost and its absorber's as new, the very merge the coordinator was
    asked to make. The year's own figures stay as they were published."""
    if not any(n in roots for n in s.names):
        return s
    links: dict[Pair, tuple[int, bool]] = {}
    for (a, b), (carriers, formal) in s.links.items():
        pair = _now(roots, a, b)
        if pair is not None:
            before = links.get(pair, (0, False))
            links[pair] = (before[0] + carriers, before[1] or formal)
    names: dict[Hashable, object] = {}
    for n, name in s.names.items():
        root = roots.get(n, n)
        names.setdefault(root, s.names.get(root, name))
    answered = frozenset(roots.get(n, n) for n in s.answered)
    return replace(s, names=names, answered=answered, links=links)


def merged_departures(
    departures: Mapping[Pair, bool], roots: Mapping[Hashable, Hashable]
) -> dict[Pair, bool]:
    """`carrier_departures` with its pairs as `merged_now` reads them: a merged pair lost all
    its carriers when each of its former pairs did."""
    out: dict[Pair, bool] = {}
    for (a, b), all_left in departures.items():
        pair = _now(roots, a, b)
        if pair is not None:
            out[pair] = out.get(pair, True) and all_left
    return out


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
    return compare_sides(
        side_of_graph(before, figures_before), side_of_graph(after, figures_after), carriers_left
    )


def _by_str(pairs) -> list[Pair]:  # type: ignore[no-untyped-def]
    """Pairs in the order of their text, the order every list of the comparison keeps."""
    return sorted(pairs, key=str)


def compare_sides(before: Side, after: Side, carriers_left: dict[Pair, bool] | None = None) -> dict:
    """`compare_graphs` on the sides of two graphs."""
    p1, p2 = before.links, after.links
    n1, n2 = before.names, after.names

    def row(pair: Pair, **extra: object) -> dict:
        a, b = pair
        return {
            "a": a,
            "b": b,
            "a_name": n2[a] if a in n2 else n1[a],
            "b_name": n2[b] if b in n2 else n1[b],
            **extra,
        }

    kept: list[dict] = []
    new: list[dict] = []
    newly_observed: list[dict] = []
    lost: list[dict] = []
    not_observed: list[dict] = []
    strengthened: list[dict] = []
    weakened: list[dict] = []
    seen_before, seen_after = before.answered, after.answered
    for pair in _by_str(p2.keys() - p1.keys()):
        carriers, formal = p2[pair]
        target = new if pair[0] in seen_before or pair[1] in seen_before else newly_observed
        target.append(row(pair, carriers=carriers, formal=formal))
    for pair in _by_str(p1.keys() - p2.keys()):
        carriers, formal = p1[pair]
        target = lost if pair[0] in seen_after or pair[1] in seen_after else not_observed
        target.append(row(pair, carriers=carriers, formal=formal))
    became_formal = more_carriers = 0
    for pair in _by_str(p1.keys() & p2.keys()):
        (c1, f1), (c2, f2) = p1[pair], p2[pair]
        r = row(
            pair,
            carriers_before=c1,
            carriers_after=c2,
            formal_before=f1,
            formal_after=f2,
            became_formal=f2 and not f1,
            more_carriers=c2 > c1,
        )
        kept.append(r)
        became_formal += bool(r["became_formal"])
        more_carriers += c2 > c1
        if r["became_formal"] or c2 > c1:
            strengthened.append(r)
        if (f1 and not f2) or c2 < c1:
            weakened.append(r)
    survived: list[dict] = []
    lost_with_carriers: list[dict] = []
    left = [pair for pair, all_left in (carriers_left or {}).items() if all_left and pair in p1]
    for pair in _by_str(left):
        r = row(pair, carriers_before=p1[pair][0])
        (survived if pair in p2 else lost_with_carriers).append(r)
    fb, fa = before.figures, after.figures
    changes = {
        k: {
            "before": fb[k],
            "after": fa[k],
            "change": None if fb[k] is None or fa[k] is None else fa[k] - fb[k],
        }
        for k in CHANGED_FIGURES
    }
    return {
        "years": (before.year, after.year),
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
            "kept": len(kept),
            "new": len(new),
            "newly_observed": len(newly_observed),
            "lost": len(lost),
            "not_observed": len(not_observed),
            "strengthened": len(strengthened),
            "became_formal": became_formal,
            "more_carriers": more_carriers,
            "weakened": len(weakened),
            "survived_carrier_leaving": len(survived),
            "lost_with_carriers": len(lost_with_carriers),
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
    # One GROUP BY per pair: a carrier who stayed matches at least one of the pair's
    # declarations, so the pair's carriers all left when none of them matched.
    stayed_expr = case((stayed.c.pro.is_not(None), 1), else_=0)
    a = case((d.c.src < d.c.dst, d.c.src), else_=d.c.dst).label("a")
    b = case((d.c.src < d.c.dst, d.c.dst), else_=d.c.src).label("b")
    rows = session.execute(
        select(a, b, func.max(stayed_expr))
        .select_from(d.outerjoin(stayed, (stayed.c.pro == d.c.pro) & (stayed.c.root == d.c.src)))
        .group_by(a, b)
    ).all()
    return {(r[0], r[1]): not r[2] for r in rows}


def stored_side(session: Session, campaign: Campaign) -> Side | None:
    """The `Side` of a frozen campaign's unfiltered graph, read from its snapshot (its
    structures, its ties paired in SQL, its stored figures) without building the graph;
    None when the campaign is not frozen. The same as `side_of_graph` of its graph."""
    computed = _stored_figures(session, campaign)
    if computed is None:
        return None
    so, st = table_of(SnapshotStructure), table_of(SnapshotTie)
    nodes = session.execute(
        select(so.c.organisation_id, so.c.name, so.c.responded).where(
            so.c.campaign_id == campaign.id
        )
    ).all()
    # A tie is formal when one of its declarations is "formal" or "both" (figures.Link):
    # read from the frozen declarations (parsing every tie's stored JSON took 0.3 s on
    # PostgreSQL).
    sd = table_of(SnapshotDeclaration)
    formal = (
        select(
            sd.c.src,
            sd.c.dst,
            func.max(case((sd.c.nature.in_(("formal", "both")), 1), else_=0)).label("formal"),
        )
        .where(sd.c.campaign_id == campaign.id)
        .group_by(sd.c.src, sd.c.dst)
        .subquery("formal")
    )
    a = case((st.c.src < st.c.dst, st.c.src), else_=st.c.dst)
    b = case((st.c.src < st.c.dst, st.c.dst), else_=st.c.src)
    ties = session.execute(
        select(a, b, func.sum(st.c.carriers), func.max(func.coalesce(formal.c.formal, 0)))
        .select_from(st.outerjoin(formal, (formal.c.src == st.c.src) & (formal.c.dst == st.c.dst)))
        .where(st.c.campaign_id == campaign.id)
        .group_by(a, b)
    ).all()
    return Side(
        year=campaign.year,
        names={n: name for n, name, _ in nodes},
        answered=frozenset(n for n, _, responded in nodes if responded > 0),
        links={(x, y): (int(c), int(f) > 0) for x, y, c, f in ties},
        figures=_figures_of(computed),
    )


def _ratio(num: float, den: float) -> float | None:
    return None if not den else num / den


def live_side(session: Session, campaign: Campaign) -> Side:
    """The `Side` of a live campaign's unfiltered graph from three aggregates (structures,
    participation, ties with carriers and natures), without the tag counts, frequencies and
    qualities `build_graph` adds to every tie: its nodes and links are `build_graph`'s (same
    rules as `reports.graph._aggregated_graph`) and its figures `figures`' (tests compare
    both on random campaigns)."""
    source = Source(campaign, frozen=False, session=session)
    canon = source.canon()
    d = source.declarations(NO_FILTER, canon)
    structures = source.structures(session)
    people = source.people().subquery()
    participation = {
        root: (int(invited), int(responded))
        for root, invited, responded in session.execute(
            select(
                canon.c.root,
                func.count(distinct(people.c.pro)),
                func.coalesce(func.sum(people.c.responded), 0),
            )
            .select_from(people.join(canon, canon.c.id == people.c.org))
            .group_by(canon.c.root)
        ).all()
    }
    formal = func.sum(case((d.c.nature.in_(("formal", "both")), 1), else_=0))
    ties = session.execute(
        select(d.c.src, d.c.dst, func.count(distinct(d.c.pro)), formal).group_by(d.c.src, d.c.dst)
    ).all()
    named = {t[0] for t in ties} | {t[1] for t in ties}
    shown = {
        oid
        for oid, s in structures.items()
        if s["status"] == "active" or oid in participation or oid in named
    }
    links: dict[Pair, list] = {}  # (a, b) -> [carriers, formal, directions]
    n_ties = 0
    for src, dst, carriers, n_formal in ties:
        if src not in shown or dst not in shown:
            continue
        n_ties += 1
        x = links.setdefault((src, dst) if src < dst else (dst, src), [0, False, 0])
        x[0] += int(carriers)
        x[1] = x[1] or int(n_formal or 0) > 0
        x[2] += 1
    invited = sum(participation.get(n, (0, 0))[0] for n in shown)
    responded = sum(participation.get(n, (0, 0))[1] for n in shown)
    answered = frozenset(n for n in shown if participation.get(n, (0, 0))[1] > 0)
    return Side(
        year=campaign.year,
        names={n: structures[n]["name"] for n in sorted(shown)},
        answered=answered,
        links={pair: (x[0], x[1]) for pair, x in links.items()},
        figures=_figures_of_links(shown, answered, n_ties, links, _ratio(responded, invited)),
    )


def _figures_of_links(
    nodes: set, answered: frozenset, n_ties: int, links: dict[Pair, list], response_rate
) -> dict:
    """The CHANGED_FIGURES from the links ([carriers, formal, directions] per pair): what
    `figures.headline`, `figures.size` and `figures.degree_centralisation` give."""
    n, n_links = len(nodes), len(links)
    observable = [x for (a, b), x in links.items() if a in answered and b in answered]
    parent = {v: v for v in nodes}

    def root(v: Hashable) -> Hashable:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    degree = dict.fromkeys(nodes, 0)
    for a, b in links:
        degree[a] += 1
        degree[b] += 1
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[ra] = rb
    top = max(degree.values(), default=0)
    return {
        "response_rate": response_rate,
        "links": n_links,
        "reciprocity": _ratio(sum(x[2] == 2 for x in observable), len(observable)),
        "formal_share": _ratio(sum(1 for x in links.values() if x[1]), n_links),
        "fragile_share": _ratio(sum(1 for x in links.values() if x[0] == 1), n_links),
        "structures": n,
        "ties": n_ties,
        "density": _ratio(n_ties, n * (n - 1)),
        "components": sum(1 for v in nodes if root(v) == v),
        "isolated_count": sum(1 for v in nodes if not degree[v]),
        "degree_centralisation": (
            None if n < 3 else sum(top - d for d in degree.values()) / ((n - 1) * (n - 2))
        ),
    }


def side(session: Session, campaign: Campaign, flt: GraphFilter = NO_FILTER) -> Side:
    """The `Side` of `campaign`'s graph for `flt`: read from the snapshot for a frozen
    campaign unfiltered, else from the graph built."""
    if flt == NO_FILTER:
        stored = stored_side(session, campaign)
        if stored is not None:
            return stored
        if not is_frozen(session, campaign):
            return live_side(session, campaign)
    return side_of_graph(build_graph(session, campaign, flt))


def compare(
    session: Session, before: Campaign, after: Campaign, flt: GraphFilter = NO_FILTER
) -> dict:
    """Everything that changed between two campaigns of the same territory."""
    if before.territory_id != after.territory_id:
        raise ValueError("campaigns of different territories")
    roots = current_roots(session, before.territory_id)
    return compare_sides(
        merged_now(side(session, before, flt), roots),
        merged_now(side(session, after, flt), roots),
        merged_departures(carrier_departures(session, before, after, flt), roots),
    )


def _stored_figures(session: Session, campaign: Campaign) -> dict | None:
    raw = session.execute(
        select(table_of(CampaignSnapshot).c.figures).where(
            table_of(CampaignSnapshot).c.campaign_id == campaign.id
        )
    ).scalar()
    return None if raw is None else json.loads(raw)

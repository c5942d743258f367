"""The figures of docs/metrics.md, one pure function of the graph each.

Every function takes the DiGraph built by `reports.graph` (or a hand-made one with the same
attributes) and returns plain dicts and lists, ready for JSON, templates and the PDF.
Vocabulary: a *tie* is a directed edge A→B; a *link* is an unordered pair {A, B} with a tie
in at least one direction. Only `obstacles` reads the database (obstacles are answers of
respondents, not attributes of ties).
"""

from __future__ import annotations

import functools
import math
import random
import threading
from collections.abc import Hashable
from typing import Any, Protocol

import igraph
import networkx as nx
from sqlalchemy import distinct, func, select
from sqlmodel import Session

from reports.graph import canonical_cte, is_frozen
from survey import vocab
from survey.db import table_of
from survey.models import Campaign, Organisation, Response, ResponseObstacle
from survey.snapshots import SnapshotObstacle, SnapshotPerson, SnapshotStructure

LOUVAIN_SEED = 42
BETWEENNESS_SEED = 42


def _ratio(num: float, den: float) -> float | None:
    return None if not den else num / den


def _name(g: nx.DiGraph, n: Hashable) -> str:
    return str(g.nodes[n].get("name", n))


class Link:
    """An unordered pair {a, b} (a sorted before b) and its ties in both directions."""

    __slots__ = ("a", "b", "ab", "ba")

    def __init__(self, a: Hashable, b: Hashable, ab: dict | None, ba: dict | None):
        self.a, self.b = a, b
        self.ab = ab  # attributes of the tie a→b, None when a does not name b
        self.ba = ba

    @property
    def carriers(self) -> int:
        return (self.ab["carriers"] if self.ab else 0) + (self.ba["carriers"] if self.ba else 0)

    @property
    def mutual(self) -> bool:
        return self.ab is not None and self.ba is not None

    @property
    def formal(self) -> bool:
        return any(t.get("formal", 0) + t.get("both", 0) > 0 for t in (self.ab, self.ba) if t)


def links(g: nx.DiGraph) -> list[Link]:
    """The unordered pairs of the graph, sorted (node keys of one graph are comparable)."""
    # The plain dicts behind g.succ: the views' get() goes through Mapping.get and an
    # exception for every one-sided tie, a third of this function's time on 12,000 ties.
    succ = g._succ
    out = []
    for u, nbrs in succ.items():
        for v, d in nbrs.items():
            back = succ[v].get(u)
            if back is None:
                out.append(Link(u, v, d, None) if u < v else Link(v, u, None, d))
            elif u < v:
                out.append(Link(u, v, d, back))
    out.sort(key=lambda x: (x.a, x.b))
    return out


def undirected(g: nx.DiGraph, pairs: list[Link] | None = None) -> nx.Graph:
    """One edge per link, weighted by its carriers (both directions). `pairs` is links(g)
    when the caller already has it."""
    u = nx.Graph()
    u.add_nodes_from(g.nodes(data=True))
    pairs = links(g) if pairs is None else pairs
    u.add_edges_from((x.a, x.b, {"weight": x.carriers}) for x in pairs)
    return u


def _pair_row(g: nx.DiGraph, a: Hashable, b: Hashable) -> dict:
    return {"source": a, "target": b, "source_name": _name(g, a), "target_name": _name(g, b)}


# --- participation -------------------------------------------------------------------------


def participation(g: nx.DiGraph) -> dict:
    """Invited, responded and response rate per structure, per type and in total."""
    rows = []
    by_type: dict[str, dict] = {}
    for n, a in sorted(g.nodes(data=True), key=lambda x: _name(g, x[0]).lower()):
        invited, responded = a.get("invited", 0), a.get("responded", 0)
        rows.append(
            {
                "id": n,
                "name": _name(g, n),
                "type": a.get("type"),
                "type_label": a.get("type_label"),
                "invited": invited,
                "responded": responded,
                "rate": _ratio(responded, invited),
                "answered": bool(a.get("answered")),
            }
        )
        t = by_type.setdefault(
            a.get("type"),
            {
                "type": a.get("type"),
                "type_label": a.get("type_label"),
                "structures": 0,
                "structures_answered": 0,
                "invited": 0,
                "responded": 0,
            },
        )
        t["structures"] += 1
        t["structures_answered"] += bool(a.get("answered"))
        t["invited"] += invited
        t["responded"] += responded
    for t in by_type.values():
        t["rate"] = _ratio(t["responded"], t["invited"])
    invited = sum(r["invited"] for r in rows)
    responded = sum(r["responded"] for r in rows)
    return {
        "structures": rows,
        "by_type": sorted(by_type.values(), key=lambda t: str(t["type_label"]).lower()),
        "invited": invited,
        "responded": responded,
        "rate": _ratio(responded, invited),
        "structures_total": len(rows),
        "structures_answered": sum(r["answered"] for r in rows),
    }


# --- size ----------------------------------------------------------------------------------


def size(g: nx.DiGraph, pairs: list[Link] | None = None) -> dict:
    """Structures, links, ties, densities, components and isolated structures."""
    n = g.number_of_nodes()
    ties = g.number_of_edges()
    n_links = len(links(g) if pairs is None else pairs)
    succ, pred = g.succ, g.pred
    isolated = sorted(
        (x for x in g if not succ[x] and not pred[x]), key=lambda x: _name(g, x).lower()
    )
    components = list(nx.weakly_connected_components(g)) if n else []
    return {
        "structures": n,
        "links": n_links,
        "ties": ties,
        "density": _ratio(ties, n * (n - 1)),
        "link_density": _ratio(n_links, n * (n - 1) / 2),
        "components": len(components),
        "components_with_links": sum(1 for c in components if len(c) > 1),
        "largest_component": max((len(c) for c in components), default=0),
        "isolated": [
            {"id": x, "name": _name(g, x), "answered": bool(g.nodes[x].get("answered"))}
            for x in isolated
        ],
        "isolated_count": len(isolated),
        "isolated_answered": sum(1 for x in isolated if g.nodes[x].get("answered")),
        "isolated_not_answered": sum(1 for x in isolated if not g.nodes[x].get("answered")),
    }


# --- reciprocity ---------------------------------------------------------------------------


def reciprocity(g: nx.DiGraph, pairs: list[Link] | None = None) -> dict:
    """Share of links named from both sides, among links whose two structures answered.
    Links with a structure that did not answer are counted apart: silence is not "no"."""
    mutual = 0
    one_sided = []
    undetermined = []
    for x in links(g) if pairs is None else pairs:
        both_answered = g.nodes[x.a].get("answered") and g.nodes[x.b].get("answered")
        if not both_answered:
            src, dst = (x.a, x.b) if x.ab else (x.b, x.a)
            undetermined.append(_pair_row(g, src, dst) | {"mutual": x.mutual})
        elif x.mutual:
            mutual += 1
        else:
            src, dst = (x.a, x.b) if x.ab else (x.b, x.a)
            one_sided.append(_pair_row(g, src, dst))
    return {
        "rate": _ratio(mutual, mutual + len(one_sided)),
        "observable_links": mutual + len(one_sided),
        "mutual": mutual,
        "one_sided_count": len(one_sided),
        "one_sided": one_sided,
        "with_non_respondent_count": len(undetermined),
        "with_non_respondent": undetermined,
    }


# --- formal share --------------------------------------------------------------------------


def formal_share(g: nx.DiGraph, pairs: list[Link] | None = None) -> dict:
    """Share of links with at least one declaration "formal" or "both" (either direction),
    and declarations by nature."""
    all_links = links(g) if pairs is None else pairs
    formal = sum(1 for x in all_links if x.formal)
    ties = [d for nbrs in g._succ.values() for d in nbrs.values()]  # see links()
    decl = {c: sum(d.get(c, 0) for d in ties) for c in vocab.NATURES}
    total = sum(d.get("declarations", 0) for d in ties)
    return {
        "links": len(all_links),
        "formal_links": formal,
        "share": _ratio(formal, len(all_links)),
        "declarations": total,
        "declarations_by_nature": decl | {"unknown": total - sum(decl.values())},
    }


# --- what is built together ----------------------------------------------------------------


def _tag_table(g: nx.DiGraph, attr: str, labels: dict[str, str]) -> list[dict]:
    decl: dict[str, int] = {}
    pairs: dict[str, int] = {}
    nodes: dict[str, set] = {}
    succ = g._succ  # plain dicts: see links()
    for u, nbrs in succ.items():
        for v, d in nbrs.items():
            tags = d.get(attr)
            if not tags:
                continue
            # A link named both ways is counted once per code: from its tie u→v (u < v)
            # when both ties cite the code, else from the one that does.
            back = succ[v].get(u) if u > v else None
            back_tags = back.get(attr) if back else None
            for code, n in tags.items():
                if n:
                    decl[code] = decl.get(code, 0) + n
                    if not (back_tags and back_tags.get(code)):
                        pairs[code] = pairs.get(code, 0) + 1
                    seen = nodes.get(code)
                    if seen is None:
                        nodes[code] = {u, v}
                    else:
                        seen.add(u)
                        seen.add(v)
    rows = [
        {
            "code": code,
            "label": labels.get(code, code),
            "declarations": decl[code],
            "links": pairs[code],
            "structures": len(nodes[code]),
        }
        for code in decl
    ]
    return sorted(rows, key=lambda r: (-r["declarations"], r["label"].lower()))


def built_together(g: nx.DiGraph) -> dict:
    """Per practice and per thématique: declarations citing it, links and structures of its
    sub-graph (the links where at least one declaration cites it)."""
    return {
        "practices": _tag_table(g, "practices", vocab.PRACTICES),
        "thematiques": _tag_table(g, "thematiques", vocab.THEMATIQUES),
    }


# --- centrality ----------------------------------------------------------------------------


def degree_centralisation(u: nx.Graph) -> float | None:
    """Freeman: sum over nodes of (max degree - degree) / ((n-1)(n-2)); 1 for a star."""
    n = u.number_of_nodes()
    if n < 3:
        return None
    degrees = [d for _, d in u.degree()]
    top = max(degrees)
    return sum(top - d for d in degrees) / ((n - 1) * (n - 2))


class Engine(Protocol):
    """The graph algorithms behind centrality and communities, on the undirected link
    graph `u` (undirected(g))."""

    u: nx.Graph

    def __init__(self, u: nx.Graph) -> None: ...

    def betweenness(self, k: int | None) -> dict[Hashable, float]:
        """Normalised betweenness (networkx's); from k sampled sources (seeded) when k is
        given."""
        ...

    def louvain(self) -> tuple[list[set], float | None]:
        """Louvain communities (weight = carriers, seeded) of the linked structures and their
        modularity; ([], None) without links."""
        ...


class NetworkxEngine:
    """The reference algorithms, in pure networkx, on the undirected link graph `u`: the
    tests compare every figure of all_figures against them (all_figures_networkx)."""

    def __init__(self, u: nx.Graph):
        self.u = u

    def betweenness(self, k: int | None) -> dict[Hashable, float]:
        return nx.betweenness_centrality(self.u, k=k, normalized=True, seed=BETWEENNESS_SEED)

    def louvain(self) -> tuple[list[set], float | None]:
        u = self.u
        # A plain graph, not a subgraph view, so Louvain's many neighbour walks do not go
        # through the view's filters. Built in the order networkx's copy of the view would
        # have (the view's node order; a linked node's neighbours are all linked, in u's
        # order), so the seeded result is the same.
        order = list(u.subgraph([n for n in u if u.degree(n) > 0]))
        linked = nx.Graph()
        linked.add_nodes_from((n, u.nodes[n]) for n in order)
        adj = u.adj
        linked.add_edges_from((a, b, d) for a in order for b, d in adj[a].items())
        if linked.number_of_edges() == 0:
            return [], None
        parts = nx.community.louvain_communities(linked, weight="weight", seed=LOUVAIN_SEED)
        return parts, nx.community.modularity(linked, parts, weight="weight")


# igraph draws its random numbers from one process-wide generator; seeding it is a swap of
# that global, so concurrent figure computations (the web serves from a thread pool) take
# turns, or one would draw from the other's generator and lose determinism.
_IGRAPH_RNG = threading.Lock()


class IgraphEngine:
    """The same figures computed by igraph (compiled): `u` is converted once, on first use,
    and reused by every figure of an all_figures call. Betweenness equals networkx's (same
    sampled sources, same normalisation); communities come from igraph's Louvain, seeded,
    and can differ from networkx's (both are local optima of the modularity)."""

    def __init__(self, u: nx.Graph):
        self.u = u

    @functools.cached_property
    def _graph(self) -> tuple[list[Hashable], igraph.Graph]:
        nodes = list(self.u)
        index = {n: i for i, n in enumerate(nodes)}
        edges = [(index[a], index[b], d.get("weight", 1)) for a, b, d in self.u.edges(data=True)]
        graph = igraph.Graph(n=len(nodes), edges=[(a, b) for a, b, _ in edges])
        graph.es["weight"] = [w for _, _, w in edges]
        return nodes, graph

    def betweenness(self, k: int | None) -> dict[Hashable, float]:
        nodes, graph = self._graph
        n = len(nodes)
        if n < 3:
            return dict.fromkeys(nodes, 0.0)
        if k is None or k >= n:
            # igraph counts each unordered pair {s, t} once; networkx normalises the count
            # over ordered pairs by (n-1)(n-2), i.e. the unordered one by (n-1)(n-2)/2.
            raw = graph.betweenness(directed=False)
            return {v: 2 * raw[i] / ((n - 1) * (n - 2)) for i, v in enumerate(nodes)}
        # networkx's estimate: the sources it draws with the same seed, its paths from them
        # (igraph's subset count is half networkx's sum over ordered (s, t)), and its scale,
        # which divides a sampled source by k - 1 as it never counts itself (NaN for k = 1).
        sources = set(random.Random(BETWEENNESS_SEED).sample(nodes, k))
        index = {v: i for i, v in enumerate(nodes)}
        raw = graph.betweenness(directed=False, sources=sorted(index[s] for s in sources))
        scale_source = 2 / ((k - 1) * (n - 2)) if k > 1 else math.nan
        scale_other = 2 / (k * (n - 2))
        return {
            v: raw[i] * (scale_source if v in sources else scale_other) for i, v in enumerate(nodes)
        }

    def louvain(self) -> tuple[list[set], float | None]:
        nodes, graph = self._graph
        if graph.ecount() == 0:
            return [], None
        if graph.vcount() <= LOUVAIN_SMALL:
            # On a few dozen structures one Louvain pass can stop far from the best partition
            # (7 structures: modularity 0.15 where networkx finds 0.24), and networkx costs
            # milliseconds there: its result, the tests' reference, is kept.
            return NetworkxEngine(self.u).louvain()
        with _IGRAPH_RNG:
            igraph.set_random_number_generator(random.Random(LOUVAIN_SEED))
            try:
                membership = graph.community_multilevel(weights="weight").membership
            finally:
                igraph.set_random_number_generator(random)
        # Isolated structures are singletons igraph leaves alone: they weigh nothing in the
        # modularity and are listed apart, so only groups of linked structures are kept.
        degree = graph.degree()
        groups: dict[int, set] = {}
        for i, c in enumerate(membership):
            if degree[i]:
                groups.setdefault(c, set()).add(nodes[i])
        return list(groups.values()), graph.modularity(membership, weights="weight")


LOUVAIN_SMALL = 200  # up to this many structures, communities come from networkx's Louvain
EXACT_MAX = 1500  # above this many structures, betweenness may be estimated (betweenness_k)


def centrality(
    g: nx.DiGraph,
    top: int = 10,
    betweenness_k: int | None = None,
    engine: Engine | None = None,
) -> dict:
    """Degree (distinct partners), names given and received, betweenness (normalised, on the
    undirected graph of links) and Freeman degree centralisation.

    Betweenness is exact up to EXACT_MAX structures; above, it is estimated from
    betweenness_k sampled sources (seeded) when betweenness_k is given. `engine` computes it
    (an IgraphEngine of undirected(g) unless the caller has one)."""
    engine = IgraphEngine(undirected(g)) if engine is None else engine
    u = engine.u
    n = u.number_of_nodes()
    k = None
    if n > EXACT_MAX and betweenness_k and betweenness_k < n:
        k = betweenness_k
    btw = engine.betweenness(k)
    rows = [
        {
            "id": n,
            "name": _name(g, n),
            "degree": u.degree(n),
            "out_degree": g.out_degree(n),
            "in_degree": g.in_degree(n),
            "betweenness": btw.get(n, 0.0),
        }
        for n in g.nodes
    ]
    by_degree = sorted(rows, key=lambda r: (-r["degree"], -r["in_degree"], r["name"].lower()))
    # Equal betweenness computed in another order can differ in the last bits: rounded, such
    # ties are broken by name whatever the engine.
    brokers = sorted(
        (r for r in rows if r["betweenness"] > 0),
        key=lambda r: (-round(r["betweenness"], 12), r["name"].lower()),
    )
    return {
        "structures": by_degree,
        "most_connected": by_degree[:top],
        "brokers": brokers[:top],
        "degree_centralisation": degree_centralisation(u),
        "betweenness_exact": k is None,
    }


# --- communities ---------------------------------------------------------------------------


def communities(g: nx.DiGraph, engine: Engine | None = None) -> dict:
    """Louvain communities (seed 42, weight = carriers) of structures having at least one
    link, numbered from the largest; isolated structures are listed apart. `engine` finds
    them (an IgraphEngine of undirected(g) unless the caller has one)."""
    engine = IgraphEngine(undirected(g)) if engine is None else engine
    u = engine.u
    parts, modularity = engine.louvain()
    groups: list[dict[str, Any]] = [
        {
            "size": len(p),
            "members": sorted(p, key=lambda n: _name(g, n).lower()),
            "names": sorted(_name(g, n) for n in p),
        }
        for p in parts
    ]
    groups.sort(key=lambda c: (-c["size"], c["names"][0].lower()))
    for i, c in enumerate(groups, start=1):
        c["number"] = i
    return {
        "count": len(groups),
        "modularity": modularity,
        "communities": groups,
        "isolated": sorted((n for n in u if u.degree(n) == 0), key=lambda n: _name(g, n).lower()),
    }


def community_of(g: nx.DiGraph) -> dict[Hashable, int]:
    """Node → community number (1 = largest), for colouring a map."""
    return {n: c["number"] for c in communities(g)["communities"] for n in c["members"]}


# --- fragility -----------------------------------------------------------------------------


def fragility(g: nx.DiGraph, pairs: list[Link] | None = None) -> dict:
    """Links carried by a single professional (both directions counted), the share of each
    structure's links in that case, and structures whose links all hang on one person
    (one single professional carries every tie they are part of)."""
    all_links = links(g) if pairs is None else pairs
    fragile = [x for x in all_links if x.carriers == 1]
    per: dict[Hashable, list[int]] = {n: [0, 0] for n in g.nodes}
    for x in all_links:
        for n in (x.a, x.b):
            per[n][0] += 1
            per[n][1] += x.carriers == 1
    fragile_rows = []
    for x in fragile:
        src, dst = (x.a, x.b) if x.ab else (x.b, x.a)
        fragile_rows.append(
            _pair_row(g, src, dst) | {"partner_answered": bool(g.nodes[dst].get("answered"))}
        )
    structures: list[dict[str, Any]] = sorted(
        (
            {
                "id": n,
                "name": _name(g, n),
                "links": total,
                "fragile_links": weak,
                "share": _ratio(weak, total),
            }
            for n, (total, weak) in per.items()
            if total
        ),
        key=lambda r: (-(r["share"] or 0), -r["links"], r["name"].lower()),
    )
    one_person = sorted(
        (n for n in g.nodes if per[n][0] and g.nodes[n].get("link_carriers") == 1),
        key=lambda n: _name(g, n).lower(),
    )
    return {
        "links": len(all_links),
        "fragile_count": len(fragile),
        "share": _ratio(len(fragile), len(all_links)),
        "fragile": fragile_rows,
        "fragile_with_non_respondent": sum(1 for r in fragile_rows if not r["partner_answered"]),
        "structures": structures,
        "all_links_fragile": [r["id"] for r in structures if r["share"] == 1],
        "hanging_on_one_person": [
            {"id": n, "name": _name(g, n), "links": per[n][0]} for n in one_person
        ],
    }


# --- obstacles (database) ------------------------------------------------------------------


def obstacles(
    session: Session, campaign: Campaign, org_types: frozenset[str] = frozenset()
) -> dict:
    """Obstacles cited in submitted responses, per type of the respondent's structure (as
    frozen at close for a closed campaign)."""
    if is_frozen(session, campaign):
        person, org = table_of(SnapshotPerson), table_of(SnapshotStructure)
        obs = table_of(SnapshotObstacle)
        who = person.c.professional_id
        base = person.join(
            org,
            (org.c.campaign_id == person.c.campaign_id)
            & (org.c.organisation_id == person.c.organisation_id),
        )
        with_obs = base.join(
            obs, (obs.c.campaign_id == person.c.campaign_id) & (obs.c.professional_id == who)
        )
        where = [person.c.campaign_id == campaign.id, person.c.responded == 1]
    else:
        canon = canonical_cte(campaign.territory_id)
        org, resp = table_of(Organisation), table_of(Response)
        obs = table_of(ResponseObstacle)
        who = resp.c.id
        base = resp.join(canon, canon.c.id == resp.c.organisation_id).join(
            org, org.c.id == canon.c.root
        )
        with_obs = base.join(obs, obs.c.response_id == resp.c.id)
        where = [resp.c.campaign_id == campaign.id, resp.c.status == "submitted"]
    if org_types:
        where.append(org.c.type.in_(sorted(org_types)))
    respondents = dict(
        session.execute(
            select(org.c.type, func.count(distinct(who)))
            .select_from(base)
            .where(*where)
            .group_by(org.c.type)
        ).all()
    )
    counts = session.execute(
        select(org.c.type, obs.c.code, func.count(distinct(who)))
        .select_from(with_obs)
        .where(*where)
        .group_by(org.c.type, obs.c.code)
    ).all()
    by_type: dict[str, dict] = {
        t: {
            "type": t,
            "type_label": vocab.org_type_label(t),
            "respondents": int(n),
            "obstacles": {},
        }
        for t, n in respondents.items()
    }
    totals: dict[str, int] = {}
    for t, code, n in counts:
        by_type[t]["obstacles"][code] = int(n)
        totals[code] = totals.get(code, 0) + int(n)
    return {
        "respondents": sum(respondents.values()),
        "totals": [
            {"code": c, "label": vocab.OBSTACLES.get(c, c), "responses": n}
            for c, n in sorted(totals.items(), key=lambda x: (-x[1], x[0]))
        ],
        "by_type": sorted(by_type.values(), key=lambda t: t["type_label"].lower()),
    }


# --- headline ------------------------------------------------------------------------------


def headline(g: nx.DiGraph, pairs: list[Link] | None = None) -> dict:
    """The five numbers that matter: response rate, links, reciprocity, formal share and
    share of links carried by a single professional."""
    pairs = links(g) if pairs is None else pairs
    return {
        "response_rate": participation(g)["rate"],
        "links": len(pairs),
        "reciprocity": reciprocity(g, pairs)["rate"],
        "formal_share": formal_share(g, pairs)["share"],
        "fragile_share": fragility(g, pairs)["share"],
    }


def all_figures(
    g: nx.DiGraph, betweenness_k: int | None = None, engine: type[Engine] | None = None
) -> dict:
    """Every graph figure at once (what a figures page or the API serves); the headline is
    taken from the figures computed here rather than computed twice, and the links, the
    undirected graph and its igraph conversion are built once for all the figures.
    `engine` is IgraphEngine unless told (all_figures_networkx)."""
    pairs = links(g)
    algorithms = (engine or IgraphEngine)(undirected(g, pairs))
    out = {
        "participation": participation(g),
        "size": size(g, pairs),
        "reciprocity": reciprocity(g, pairs),
        "formal_share": formal_share(g, pairs),
        "built_together": built_together(g),
        "centrality": centrality(g, betweenness_k=betweenness_k, engine=algorithms),
        "communities": communities(g, algorithms),
        "fragility": fragility(g, pairs),
    }
    out["headline"] = {
        "response_rate": out["participation"]["rate"],
        "links": out["size"]["links"],
        "reciprocity": out["reciprocity"]["rate"],
        "formal_share": out["formal_share"]["share"],
        "fragile_share": out["fragility"]["share"],
    }
    return out


def all_figures_networkx(g: nx.DiGraph, betweenness_k: int | None = None) -> dict:
    """all_figures computed by networkx alone: the tests' reference. Equal to all_figures
    except for the communities (another Louvain, another local optimum of the modularity)."""
    return all_figures(g, betweenness_k, NetworkxEngine)

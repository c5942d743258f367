"""The structure graph seen by group: one node per family of structures or per zone.

For a large département (hundreds of structures, thousands of links) the structure map is a
disc of lines; the same links counted between families of structures (caisses, communes,
Département et État…) or between zones (UTAS, EPCI…) fit on one readable page. Pure
functions of a graph built by reports.graph: the map pages, the PDF and the tests call them
on the graph they already hold, filtered or not. Definitions in docs/metrics.md
(« Carte par famille, carte par zone »).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import networkx as nx

from reports import figures
from survey import vocab
from survey.similarity import fold

NO_ZONE = ""
NO_ZONE_LABEL = "Hors zone"


@dataclass(frozen=True)
class Group:
    """A family of structures or a zone, with what its structures add up to."""

    key: str  # the family's code, or the zone's name ("" for the structures in no zone)
    label: str
    structures: int
    invited: int  # professionals invited, summed over its structures
    responded: int
    answered: int  # structures with at least one answer
    links_inside: int  # links whose two structures are in the group
    family: vocab.Family | None = None  # None for a zone

    @property
    def response_rate(self) -> float | None:
        """Respondents over invited professionals (None when nobody was invited)."""
        return self.responded / self.invited if self.invited else None


@dataclass(frozen=True)
class GroupTie:
    """The links between two groups (`a == b`: the links inside one group)."""

    a: str
    b: str
    links: int  # pairs of structures, one in each group, with at least one declaration
    formal: int  # of which with a formal frame declared by either side (figures.Link.formal)
    fragile: int  # of which carried by a single professional
    mutual: int  # of which declared by both sides
    carriers: int  # professionals carrying them, summed over the links

    @property
    def loop(self) -> bool:
        return self.a == self.b

    @property
    def share_formal(self) -> float | None:
        return self.formal / self.links if self.links else None

    @property
    def share_fragile(self) -> float | None:
        return self.fragile / self.links if self.links else None


@dataclass(frozen=True)
class GroupMap:
    """The groups of one level ("famille" or "zone") and the ties between them."""

    level: str
    groups: list[Group]
    ties: list[GroupTie]  # loops included, heaviest first

    def group(self, key: str) -> Group | None:
        return next((gr for gr in self.groups if gr.key == key), None)

    def tie(self, a: str, b: str) -> GroupTie | None:
        """The tie between `a` and `b` in either order (None when they share no link)."""
        return next((t for t in self.ties if {t.a, t.b} == {a, b}), None)

    def matrix(self) -> list[list[int]]:
        """Links between groups i and j, in `groups` order: symmetric, the diagonal holds
        the links inside each group. Every link of the graph is counted exactly once in
        the upper triangle with the diagonal."""
        index = {gr.key: i for i, gr in enumerate(self.groups)}
        m = [[0] * len(self.groups) for _ in self.groups]
        for t in self.ties:
            i, j = index[t.a], index[t.b]
            m[i][j] = m[j][i] = t.links
        return m

    @property
    def links(self) -> int:
        return sum(t.links for t in self.ties)


def _aggregate(
    g: nx.DiGraph,
    pairs: list[figures.Link] | None,
    level: str,
    key_of: Callable[[dict], str],
    describe: Callable[[str], tuple[str, vocab.Family | None]],
    order: Callable[[str], tuple],
) -> GroupMap:
    key = {n: key_of(a) for n, a in g.nodes(data=True)}
    members: dict[str, list[Hashable]] = {}
    for n, k in key.items():
        members.setdefault(k, []).append(n)
    # [links, formal, fragile, mutual, carriers] per unordered pair of group keys.
    sums: dict[tuple[str, str], list[int]] = {}
    for x in figures.links(g) if pairs is None else pairs:
        ka, kb = key[x.a], key[x.b]
        pair = (ka, kb) if order(ka) <= order(kb) else (kb, ka)
        c = x.carriers
        s = sums.setdefault(pair, [0, 0, 0, 0, 0])
        s[0] += 1
        s[1] += x.formal
        s[2] += c == 1
        s[3] += x.mutual
        s[4] += c
    groups = []
    for k in sorted(members, key=order):
        label, family = describe(k)
        nodes = [g.nodes[n] for n in members[k]]
        groups.append(
            Group(
                key=k,
                label=label,
                structures=len(nodes),
                invited=sum(int(a.get("invited", 0)) for a in nodes),
                responded=sum(int(a.get("responded", 0)) for a in nodes),
                answered=sum(1 for a in nodes if a.get("answered")),
                links_inside=sums.get((k, k), [0])[0],
                family=family,
            )
        )
    ties = [GroupTie(a, b, *s) for (a, b), s in sums.items()]
    ties.sort(key=lambda t: (-t.links, order(t.a), order(t.b)))
    return GroupMap(level, groups, ties)


_FAMILY_RANK = {f.code: i for i, f in enumerate(vocab.FAMILIES)}
_FAMILY = {f.code: f for f in vocab.FAMILIES}


def by_family(g: nx.DiGraph, pairs: list[figures.Link] | None = None) -> GroupMap:
    """One group per family of structure types (survey.vocab.FAMILIES, in that order; only
    the families present in `g`). `pairs` is figures.links(g) when the caller has it."""
    return _aggregate(
        g,
        pairs,
        "famille",
        key_of=lambda a: vocab.family_of(a.get("type")).code,
        describe=lambda k: (_FAMILY[k].label, _FAMILY[k]),
        order=lambda k: (_FAMILY_RANK[k], k),
    )


def by_zone(g: nx.DiGraph, pairs: list[figures.Link] | None = None) -> GroupMap | None:
    """One group per zone (node attribute "zone", a zone's name), by name, and « Hors zone »
    last for the structures in none. None when no structure of `g` is in a zone."""
    if not any(a.get("zone") for _, a in g.nodes(data=True)):
        return None
    return _aggregate(
        g,
        pairs,
        "zone",
        key_of=lambda a: str(a.get("zone") or NO_ZONE),
        describe=lambda k: (k or NO_ZONE_LABEL, None),
        order=lambda k: (k == NO_ZONE, fold(k), k),
    )


def _circle(keys: list[str]) -> dict[str, tuple[float, float]]:
    """Keys around a circle from the top, clockwise; one key in the middle, two side by side."""
    if len(keys) == 1:
        return {keys[0]: (0.5, 0.5)}
    out = {}
    for i, k in enumerate(keys):
        angle = math.pi / 2 - 2 * math.pi * i / len(keys)
        if len(keys) == 2:
            angle = math.pi * i  # left and right, the names read below each
        out[k] = (0.5 + 0.38 * math.cos(angle), 0.5 - 0.38 * math.sin(angle))
    return out


def group_positions(gm: GroupMap) -> dict[str, tuple[float, float]]:
    """Positions in [0, 1]² (y down, as on a page). Families sit on a circle in
    vocab.FAMILIES order, so each keeps its place from year to year and from one filter to
    another. Zones are laid out by a seeded spring layout weighted by their links (zones
    that work together sit close), started from the circle: the same data give the same
    map. Communes carry no coordinates in the directory, so no zone is placed on a map of
    the département."""
    keys = [gr.key for gr in gm.groups]
    start = _circle(keys)
    if gm.level == "famille" or len(keys) < 3:
        return start
    u = nx.Graph()
    u.add_nodes_from(keys)
    u.add_weighted_edges_from((t.a, t.b, t.links) for t in gm.ties if not t.loop)
    pos = nx.spring_layout(u, pos=start, weight="weight", seed=42, iterations=100)
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]

    def scale(v: float, lo: float, hi: float) -> float:
        return 0.5 if hi - lo < 1e-9 else 0.12 + 0.76 * (v - lo) / (hi - lo)

    return {
        k: (scale(float(pos[k][0]), min(xs), max(xs)), scale(float(pos[k][1]), min(ys), max(ys)))
        for k in keys
    }

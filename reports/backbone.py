"""The backbone of a large structure map: the links that matter, the others hidden.

Above BACKBONE_FROM structures a map of every link is a disc of lines. The backbone keeps,
for each structure, the links that weigh clearly more than its others — the disparity filter
of Serrano, Boguñá and Vespignani (2009) on the number of professionals carrying each link —
and its most carried link, so that no structure with partners is left alone on the map; at
most MAX_TIES links, the most significant first. Every figure is still computed on all the
links: only the drawing leaves some out, and says how many. Rule and worked example in
docs/metrics.md (« L'ossature de la carte »).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import networkx as nx

from reports import figures
from reports.structure import partner_count
from survey import french as t

BACKBONE_FROM = 80  # structures: at or above, the maps show the backbone
MAX_TIES = 1500
LABELS_NAMED = 25  # structures named on the backbone map, most connected first
ALPHA = 0.05  # significance level of the disparity filter

Key = tuple[Hashable, Hashable]


@dataclass(frozen=True)
class Backbone:
    """The kept links (strongest first), and how many of the graph's links are hidden."""

    kept: list[figures.Link]
    hidden: int
    total: int
    # Why each kept link is there, by its first reason: "disparite" (it weighs clearly more
    # than the other links of one of its structures), "plus_porte" (the most carried link of
    # a structure none of whose links passed the filter).
    reasons: dict[str, int]

    def keys(self) -> set[Key]:
        return {(x.a, x.b) for x in self.kept}

    def sentence(self) -> str:
        """What the map shows, in French, for the line above it."""
        shown = len(self.kept)
        if not self.hidden:
            return (
                "Le lien est dessiné." if shown == 1 else f"Les {shown} liens sont tous dessinés."
            )
        return (
            f"{t.integer(shown)} liens sur {t.integer(self.total)} sont dessinés : pour chaque "
            "structure, ceux qui pèsent nettement plus que ses autres liens (portés par plus "
            "de professionnel·les), et son lien le plus porté. Les "
            f"{t.integer(self.hidden)} autres sont cachés pour que la carte reste lisible ; "
            "ils comptent dans tous les chiffres et figurent dans le tableau des liens."
        )


def _alphas(pairs: list[figures.Link]) -> list[float]:
    """The disparity filter's p-value of each link: for each end i with k_i > 1 links of
    total weight s_i, a link of weight w is as heavy as it is with probability
    (1 − w / s_i)^(k_i − 1) if i's weight were spread at random over its links; the link
    takes the smaller of its two ends (1.0 at an end with a single link)."""
    strength: dict[Hashable, int] = {}
    degree: dict[Hashable, int] = {}
    for x in pairs:
        for n in (x.a, x.b):
            strength[n] = strength.get(n, 0) + x.carriers
            degree[n] = degree.get(n, 0) + 1
    out = []
    for x in pairs:
        p = 1.0
        for n in (x.a, x.b):
            if degree[n] > 1:
                p = min(p, (1 - x.carriers / strength[n]) ** (degree[n] - 1))
        out.append(p)
    return out


def backbone(
    g: nx.DiGraph, pairs: list[figures.Link] | None = None, max_ties: int = MAX_TIES
) -> Backbone:
    """The backbone of `g` (see the module's docstring). `pairs` is figures.links(g) when
    the caller has it. Deterministic: ties in weight are broken by the structures' keys."""
    pairs = figures.links(g) if pairs is None else pairs
    alpha = _alphas(pairs)
    reason: dict[int, str] = {i: "disparite" for i, a in enumerate(alpha) if a < ALPHA}
    # Each structure's most carried link (fewest keys first among equals), for the
    # structures none of whose links passed the filter.
    best: dict[Hashable, int] = {}
    for i, x in enumerate(pairs):
        for n in (x.a, x.b):
            j = best.get(n)
            if j is None or x.carriers > pairs[j].carriers:
                best[n] = i
    covered = {n for i in reason for n in (pairs[i].a, pairs[i].b)}
    for n, i in sorted(best.items(), key=lambda kv: kv[1]):
        if n not in covered and i not in reason:
            reason[i] = "plus_porte"
    order = sorted(reason, key=lambda i: (alpha[i], -pairs[i].carriers, i))[:max_ties]
    kept = [pairs[i] for i in order]
    counts: dict[str, int] = {}
    for i in order:
        counts[reason[i]] = counts.get(reason[i], 0) + 1
    return Backbone(kept=kept, hidden=len(pairs) - len(kept), total=len(pairs), reasons=counts)


def named(g: nx.DiGraph, bb: Backbone, n: int = LABELS_NAMED) -> list[Hashable]:
    """The structures named on the backbone map: the `n` with most partners (all links, not
    only the backbone's) among those the backbone draws a link to, ties broken by name."""
    drawn = {v for x in bb.kept for v in (x.a, x.b)}
    return sorted(
        drawn, key=lambda v: (-partner_count(g, v), str(g.nodes[v].get("name", v)).lower())
    )[:n]

"""The partnership map drawn for the PDF, at the positions of the web map (reports.layout).

Reading it without colour: a structure's SIZE says how many partners it has, its SHAPE its
family of structure (legend), a FILLED shape that it answered, an empty one that it did not;
a THICK line a link carried by several professionals, a DASHED line a link carried by one
only (fragile), a small ARROWHEAD a link named from one side only, pointing to the
structure that was named. The most connected structures are named on the map.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass

import networkx as nx
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.lines import Line2D
from matplotlib.patheffects import withStroke

from reports import figures
from reports.charts import CM, GREY, INK, Chart, plt, save
from reports.structure import partner_count
from survey.vocab import FAMILIES, family_of

# The web map's families (survey.vocab): same shape per family, and its colour where printed
# in colour; the shape alone tells them apart on a black-and-white copy.
MARKERS = {
    "circle": "o",
    "square": "s",
    "diamond": "D",
    "triangle": "^",
    "hexagon": "h",
    "pentagon": "p",
    "cross": "P",
    "triangle-down": "v",
}
LABELLED_MAX = 40  # structures numbered on the map; the others are in the tables


@dataclass(frozen=True)
class MapDrawing:
    chart: Chart
    key: list[tuple[int, str]]  # (number on the map, structure name)


def _arrowhead(x0, y0, x1, y1, r_end: float, size: float) -> list[tuple[float, float]]:
    """A small triangle pointing at (x1, y1), stopping at the border of its marker."""
    dx, dy = x1 - x0, y1 - y0
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    tip = (x1 - ux * r_end, y1 - uy * r_end)
    base = (tip[0] - ux * size, tip[1] - uy * size)
    px, py = -uy * size * 0.45, ux * size * 0.45
    return [tip, (base[0] + px, base[1] + py), (base[0] - px, base[1] - py)]


def draw_map(
    g: nx.DiGraph,
    pos: dict[Hashable, tuple[float, float]],
    formal_only: bool = False,
    width_cm: float = 17.0,
    all_links: list[figures.Link] | None = None,
) -> MapDrawing:
    """The map as an image sized for the page. formal_only keeps the links with at least one
    formal declaration (either direction); nodes stay where they are on the full map."""
    all_links = all_links if all_links is not None else figures.links(g)
    shown = [x for x in all_links if x.formal] if formal_only else all_links
    degree = {n: partner_count(g, n) for n in g.nodes}
    top = max(degree.values(), default=1) or 1
    n_nodes = g.number_of_nodes()
    base = 26 if n_nodes <= 80 else 10  # marker area (pt²) of a structure with no link
    scale = (320 if n_nodes <= 80 else 140) / top

    def area(n) -> float:
        return base + scale * degree[n]

    def radius(n) -> float:  # in data units: the page is width_cm wide for [0, 1]
        return math.sqrt(area(n) / math.pi) / (width_cm * CM * 72) * 1.15

    fig = plt.figure(figsize=(width_cm * CM, (width_cm + 3.4) * CM))
    ax = fig.add_axes((0.0, 3.4 / (width_cm + 3.4), 1.0, width_cm / (width_cm + 3.4)))
    ax.set_xlim(-0.03, 1.03)
    ax.set_ylim(-0.03, 1.05)
    ax.set_aspect("equal")
    ax.axis("off")

    many = len(shown) > 600
    styles = {  # (carriers at least, line width)
        "thin": 0.3 if many else 0.5,
        "mid": 0.7 if many else 1.0,
        "thick": 1.2 if many else 1.8,
    }
    groups: dict[tuple[str, bool], list] = {}
    heads = []
    for x in shown:
        p, q = pos[x.a], pos[x.b]
        weight = "thin" if x.carriers <= 1 else "mid" if x.carriers == 2 else "thick"
        groups.setdefault((weight, x.carriers <= 1), []).append((p, q))
        both_answered = g.nodes[x.a].get("answered") and g.nodes[x.b].get("answered")
        if not x.mutual and both_answered:
            src, dst = (x.a, x.b) if x.ab else (x.b, x.a)
            (sx, sy), (tx, ty) = pos[src], pos[dst]
            heads.append(_arrowhead(sx, sy, tx, ty, radius(dst), 0.013 if not many else 0.008))
    colour = INK if formal_only else "#4a5d70"
    for (weight, fragile), segments in sorted(groups.items()):
        ax.add_collection(
            LineCollection(
                segments,
                linewidths=styles[weight],
                colors=colour,
                alpha=0.45 if many else 0.7,
                linestyles=(0, (3, 2)) if fragile else "solid",
                zorder=1,
            )
        )
    if heads:
        ax.add_collection(PolyCollection(heads, facecolors=INK, edgecolors="none", zorder=2))

    by_family: dict[str, list] = {}
    for n in g.nodes:
        by_family.setdefault(family_of(g.nodes[n].get("type")).code, []).append(n)
    for fam in FAMILIES:
        nodes = by_family.get(fam.code, [])
        for answered in (True, False):
            sel = [n for n in nodes if bool(g.nodes[n].get("answered")) == answered]
            if not sel:
                continue
            ax.scatter(
                [pos[n][0] for n in sel],
                [pos[n][1] for n in sel],
                s=[area(n) for n in sel],
                marker=MARKERS.get(fam.shape, "o"),
                facecolors=fam.colour if answered else "white",
                edgecolors=fam.colour if answered else INK,
                linewidths=0.9,
                zorder=3,
            )

    # Names would pile up in the dense centre: each named structure gets a number (1 = the
    # most connected) written next to it, and the key is printed as a table under the map.
    ranked = sorted(g.nodes, key=lambda n: (-degree[n], str(g.nodes[n].get("name", n)).lower()))
    numbered = ranked[:LABELLED_MAX]
    halo = [withStroke(linewidth=2.2, foreground="white")]
    for number, n in enumerate(numbered, start=1):
        x, y = pos[n]  # type: ignore[assignment]  # x was a Link in the loop above
        offset = math.sqrt(area(n) / math.pi) * 0.75 + 1.0
        ax.annotate(
            str(number),
            (x, y),
            xytext=(offset, offset),
            textcoords="offset points",
            ha="left",
            va="bottom",
            fontsize=7,
            fontweight="bold",
            color="black",
            path_effects=halo,
            zorder=4,
        )
    key = [(i, str(g.nodes[n].get("name", n))) for i, n in enumerate(numbered, start=1)]

    _legend(fig, g, width_cm, formal_only)
    return MapDrawing(save(fig), key)


def _legend(fig, g: nx.DiGraph, width_cm: float, formal_only: bool) -> None:
    used = {family_of(g.nodes[n].get("type")).code for n in g.nodes}
    shapes = [
        Line2D([], [], marker=MARKERS.get(f.shape, "o"), linestyle="", markersize=7,
               markerfacecolor=f.colour, markeredgecolor=f.colour, label=f.label)
        for f in FAMILIES
        if f.code in used
    ]  # fmt: skip
    states = [
        Line2D([], [], marker="o", linestyle="", markersize=7, markerfacecolor=INK,
               markeredgecolor=INK, label="a répondu"),
        Line2D([], [], marker="o", linestyle="", markersize=7, markerfacecolor="white",
               markeredgecolor=INK, label="n'a pas répondu"),
        Line2D([], [], color=INK, linewidth=2.4, label="lien porté par 3 personnes ou plus"),
        Line2D([], [], color=INK, linewidth=0.8, linestyle=(0, (3, 2)),
               label="lien porté par une seule personne"),
        Line2D([], [], color=GREY, marker=">", markersize=5, markerfacecolor=INK,
               markeredgecolor=INK, linewidth=0.8, label="cité d'un seul côté (pointe vers le cité)"),
    ]  # fmt: skip
    box = (0.0, 0.0, 1.0, 3.3 / (width_cm + 3.4))
    leg_ax = fig.add_axes(box)
    leg_ax.axis("off")
    kw = {"frameon": False, "fontsize": 7, "handlelength": 2.2, "borderaxespad": 0.2}
    first = leg_ax.legend(handles=shapes, loc="upper left", title="Famille de structure", **kw)
    first.get_title().set_fontsize(7.5)
    leg_ax.add_artist(first)
    title = "Lecture (liens formels seulement)" if formal_only else "Lecture"
    second = leg_ax.legend(handles=states, loc="upper right", title=title, **kw)
    second.get_title().set_fontsize(7.5)

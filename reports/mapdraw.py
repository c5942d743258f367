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
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
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


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in points


@dataclass(frozen=True)
class MapDrawing:
    chart: Chart
    key: list[tuple[int, str]]  # (number on the map, structure name)
    labels: list[Box] = field(default_factory=list)  # the numbers' boxes, in points


LABEL_SIZE = 7  # points


def label_box(x: float, y: float, text: str, size: float) -> Box:
    """The box of a bold number of `size` points centred on (x, y)."""
    w, h = 0.62 * size * len(text) + 1.5, size + 1
    return (x - w / 2, y - h / 2, x + w / 2, y + h / 2)


def _overlap(a: Box, b: Box) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def place_labels(
    points: list[tuple[float, float, float]],
    texts: list[str],
    marks: list[tuple[float, float, float]],
    size: float,
) -> list[tuple[float, float]]:
    """An offset (points) for each label around its marker (x, y, radius), chosen in order
    among twelve places at two distances so that it covers no label placed before it and
    as little of the markers as possible: the numbers no longer pile up in the dense centre."""
    placed: list[Box] = []
    mark_boxes = [(x - r, y - r, x + r, y + r) for x, y, r in marks]
    out = []
    for (x, y, r), text in zip(points, texts, strict=True):
        w = 0.62 * size * len(text) + 1.5
        best: tuple[float, float, float] | None = None
        for reach in (1.0, 2.2):
            gap_x, gap_y = (r + w / 2 + 1) * reach, (r + size / 2 + 1) * reach
            for dx, dy in (
                (gap_x * 0.8, gap_y * 0.8), (-gap_x * 0.8, gap_y * 0.8),
                (gap_x * 0.8, -gap_y * 0.8), (-gap_x * 0.8, -gap_y * 0.8),
                (gap_x, 0), (-gap_x, 0), (0, gap_y), (0, -gap_y),
            ):  # fmt: skip
                box = label_box(x + dx, y + dy, text, size)
                labels = sum(_overlap(box, p) for p in placed)
                covered = sum(_overlap(box, m) for m in mark_boxes)
                cost = labels * 100 + covered + (reach - 1) * 5
                if best is None or cost < best[0]:
                    best = (cost, dx, dy)
            if best is not None and best[0] == 0:
                break
        assert best is not None
        placed.append(label_box(x + best[1], y + best[2], text, size))
        out.append((best[1], best[2]))
    return out


def _numbered(g: nx.DiGraph, degree: dict[Hashable, int]) -> list[Hashable]:
    """The structures numbered on the map, most connected first (1 = the most connected)."""
    ranked = sorted(g.nodes, key=lambda n: (-degree[n], str(g.nodes[n].get("name", n)).lower()))
    return ranked[:LABELLED_MAX]


def numbered_names(g: nx.DiGraph) -> list[tuple[int, str]]:
    """The map's key: (number, structure name) for every numbered structure."""
    degree = {n: partner_count(g, n) for n in g.nodes}
    return [(i, str(g.nodes[n].get("name", n))) for i, n in enumerate(_numbered(g, degree), 1)]


def _arrowhead(x0, y0, x1, y1, r_end: float, size: float) -> list[tuple[float, float]]:
    """A small triangle pointing at (x1, y1), stopping at the border of its marker."""
    dx, dy = x1 - x0, y1 - y0
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    tip = (x1 - ux * r_end, y1 - uy * r_end)
    base = (tip[0] - ux * size, tip[1] - uy * size)
    px, py = -uy * size * 0.45, ux * size * 0.45
    return [tip, (base[0] + px, base[1] + py), (base[0] - px, base[1] - py)]


class _MapFigure:
    """One matplotlib figure holding the structures, the legend and one set of links; the
    links can be swapped and the page width changed, so both maps of the report are drawn
    from the same figure (the structures and the legend are laid out once)."""

    def __init__(self, g: nx.DiGraph, pos: dict[Hashable, tuple[float, float]]) -> None:
        self.g, self.pos = g, pos
        self.degree = {n: partner_count(g, n) for n in g.nodes}
        top = max(self.degree.values(), default=1) or 1
        n_nodes = g.number_of_nodes()
        self._base = 26 if n_nodes <= 80 else 10  # marker area (pt²) of a structure with no link
        self._scale = (320 if n_nodes <= 80 else 140) / top
        self.width_cm = 0.0
        self.fig = plt.figure()
        self.ax = self.fig.add_axes((0.0, 0.0, 1.0, 1.0))
        self.ax.set_xlim(-0.03, 1.03)
        self.ax.set_ylim(-0.03, 1.05)
        self.ax.set_aspect("equal")
        self.ax.axis("off")
        self.leg_ax = self.fig.add_axes((0.0, 0.0, 1.0, 1.0))
        self.leg_ax.axis("off")
        self._links: list = []  # the artists of the links shown
        self._labels: list = []  # the numbers' annotations
        self._legend_title = None
        self._structures()
        self.numbered = _numbered(g, self.degree)
        self._legend_title = _legend(self.leg_ax, g)

    def area(self, n: Hashable) -> float:
        return self._base + self._scale * self.degree[n]

    def radius(self, n: Hashable) -> float:  # in data units: the page is width_cm wide for [0, 1]
        return math.sqrt(self.area(n) / math.pi) / (self.width_cm * CM * 72) * 1.15

    def set_width(self, width_cm: float) -> None:
        """Size the figure for a page `width_cm` wide (sizes in points do not change)."""
        self.width_cm = width_cm
        self.fig.set_size_inches(width_cm * CM, (width_cm + 3.4) * CM)
        self.ax.set_position((0.0, 3.4 / (width_cm + 3.4), 1.0, width_cm / (width_cm + 3.4)))
        self.leg_ax.set_position((0.0, 0.0, 1.0, 3.3 / (width_cm + 3.4)))

    def _structures(self) -> None:
        g, pos = self.g, self.pos
        by_family: dict[str, list] = {}
        for n in g.nodes:
            by_family.setdefault(family_of(g.nodes[n].get("type")).code, []).append(n)
        for fam in FAMILIES:
            nodes = by_family.get(fam.code, [])
            for answered in (True, False):
                sel = [n for n in nodes if bool(g.nodes[n].get("answered")) == answered]
                if not sel:
                    continue
                self.ax.scatter(
                    [pos[n][0] for n in sel],
                    [pos[n][1] for n in sel],
                    s=[self.area(n) for n in sel],
                    marker=MARKERS.get(fam.shape, "o"),
                    facecolors=fam.colour if answered else "white",
                    edgecolors=fam.colour if answered else INK,
                    linewidths=0.9,
                    zorder=3,
                )

    def show_links(self, shown: list[figures.Link], formal_only: bool) -> None:
        """Replace the links drawn by `shown` (after `set_width`: arrowheads stop at the
        border of the markers, whose size in data units depends on the width)."""
        for artist in self._links:
            artist.remove()
        self._links = []
        g, pos = self.g, self.pos
        many = len(shown) > 600
        styles = {  # (carriers at least, line width)
            "thin": 0.3 if many else 0.5,
            "mid": 0.7 if many else 1.0,
            "thick": 1.2 if many else 1.8,
        }
        groups: dict[tuple[str, bool], list] = {}
        heads = []
        size = 0.013 if not many else 0.008
        for x in shown:
            p, q = pos[x.a], pos[x.b]
            weight = "thin" if x.carriers <= 1 else "mid" if x.carriers == 2 else "thick"
            groups.setdefault((weight, x.carriers <= 1), []).append((p, q))
            both_answered = g.nodes[x.a].get("answered") and g.nodes[x.b].get("answered")
            if not x.mutual and both_answered:
                src, dst = (x.a, x.b) if x.ab else (x.b, x.a)
                (sx, sy), (tx, ty) = pos[src], pos[dst]
                heads.append(_arrowhead(sx, sy, tx, ty, self.radius(dst), size))
        colour = INK if formal_only else "#4a5d70"
        for (weight, fragile), segments in sorted(groups.items()):
            self._links.append(
                self.ax.add_collection(
                    LineCollection(
                        segments,
                        linewidths=styles[weight],
                        colors=colour,
                        alpha=0.45 if many else 0.7,
                        linestyles=(0, (3, 2)) if fragile else "solid",
                        zorder=1,
                    )
                )
            )
        if heads:
            # One (n, 3, 2) array: matplotlib then builds every triangle's path from one template.
            self._links.append(
                self.ax.add_collection(
                    PolyCollection(
                        np.array(heads),  # type: ignore[arg-type]  # an (n, 3, 2) array is accepted
                        facecolors=INK,
                        edgecolors="none",
                        zorder=2,
                    )
                )
            )
        if self._legend_title is not None:
            self._legend_title.set_text(
                "Lecture (liens formels seulement)" if formal_only else "Lecture"
            )

    def number(self) -> list[Box]:
        """Write the numbers next to the numbered structures for the current width; their
        boxes in points."""
        for artist in self._labels:
            artist.remove()
        self._labels = []
        pos, numbered = self.pos, self.numbered
        halo = [withStroke(linewidth=2.2, foreground="white")]
        unit = self.width_cm * CM * 72 / 1.08  # points per data unit (the y range, aspect equal)

        def mark(n: Hashable) -> tuple[float, float, float]:
            return (pos[n][0] * unit, pos[n][1] * unit, math.sqrt(self.area(n) / math.pi))

        spots = place_labels(
            [mark(n) for n in numbered],
            [str(i) for i in range(1, len(numbered) + 1)],
            [mark(n) for n in self.g.nodes],
            LABEL_SIZE,
        )
        for number, (n, (dx, dy)) in enumerate(zip(numbered, spots, strict=True), start=1):
            self._labels.append(
                self.ax.annotate(
                    str(number),
                    pos[n],
                    xytext=(dx, dy),
                    textcoords="offset points",
                    ha="center",
                    va="center",
                    fontsize=LABEL_SIZE,
                    fontweight="bold",
                    color="black",
                    path_effects=halo,
                    zorder=4,
                )
            )
        return [
            label_box(pos[n][0] * unit + dx, pos[n][1] * unit + dy, str(i), LABEL_SIZE)
            for i, (n, (dx, dy)) in enumerate(zip(numbered, spots, strict=True), start=1)
        ]

    def draw(self, shown: list[figures.Link], formal_only: bool, width_cm: float) -> MapDrawing:
        """The map with the links `shown`, as an image `width_cm` wide."""
        self.set_width(width_cm)
        self.show_links(shown, formal_only)
        boxes = self.number()
        # Names would pile up in the dense centre: each named structure gets a number (1 = the
        # most connected) written next to it, and the key is printed as a table under the map.
        key = [(i, str(self.g.nodes[n].get("name", n))) for i, n in enumerate(self.numbered, 1)]
        # Not closed: the figure is saved again with other links.
        return MapDrawing(save(self.fig, close=False), key, boxes)

    def close(self) -> None:
        plt.close(self.fig)


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
    drawing = _MapFigure(g, pos)
    try:
        return drawing.draw(shown, formal_only, width_cm)
    finally:
        drawing.close()


def draw_maps(
    g: nx.DiGraph,
    pos: dict[Hashable, tuple[float, float]],
    width_cm: float,
    formal_width_cm: float,
    all_links: list[figures.Link] | None = None,
) -> tuple[MapDrawing, MapDrawing]:
    """The full map and the formal-only map, each as `draw_map` draws it, from one figure:
    the structures and the legend are drawn once, then the links are swapped (same places,
    same numbers, only the links and the width differ)."""
    all_links = all_links if all_links is not None else figures.links(g)
    drawing = _MapFigure(g, pos)
    try:
        full = drawing.draw(all_links, False, width_cm)
        formal = drawing.draw([x for x in all_links if x.formal], True, formal_width_cm)
    finally:
        drawing.close()
    return full, formal


def _legend(leg_ax, g: nx.DiGraph):
    """The legend in `leg_ax`; returns the title of the reading key (it names the formal map)."""
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
    kw = {"frameon": False, "fontsize": 7, "handlelength": 2.2, "borderaxespad": 0.2}
    first = leg_ax.legend(handles=shapes, loc="upper left", title="Famille de structure", **kw)
    first.get_title().set_fontsize(7.5)
    leg_ax.add_artist(first)
    second = leg_ax.legend(handles=states, loc="upper right", title="Lecture", **kw)
    title = second.get_title()
    title.set_fontsize(7.5)
    return title

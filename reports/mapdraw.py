"""The partnership map drawn for the PDF, at the positions of the web map (reports.layout).

Reading it without colour: a structure's SIZE says how many partners it has, its SHAPE its
family of structure (legend), a FILLED shape that it answered, an empty one that it did not;
a THICK line a link carried by several professionals, a DASHED line a link carried by one
only (fragile), a small ARROWHEAD a link named from one side only, pointing to the
structure that was named. The most connected structures are numbered on the map.

A large territory's map (draw_named_map) draws only some links (the backbone,
reports.backbone) and writes the most connected structures' names in full, placed by
reports.labels so that no two overlap. The annex's ego maps (draw_egos) put a structure in
the middle and its partners on a circle, their names in two columns beside it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.patheffects import withStroke

from reports import figures, labels
from reports.charts import CM, GREY, INK, Chart, plt, save
from reports.labels import overlap_area
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
    labels: list[Box] = field(default_factory=list)  # the numbers' (or names') boxes, in points
    named: list[Hashable] = field(default_factory=list)  # structures named in full on the map
    # Names the PDF writes over the image as text (cheaper than matplotlib's, and searchable):
    # (line, x, baseline y, anchor "start" or "end"), in points from the image's lower left.
    overlay: list[tuple[str, float, float, str]] = field(default_factory=list)


LABEL_SIZE = 7  # points
NAME_SIZE = 6.5  # points: the names written in full on a large map


def label_box(x: float, y: float, text: str, size: float) -> Box:
    """The box of a bold number of `size` points centred on (x, y)."""
    w, h = 0.62 * size * len(text) + 1.5, size + 1
    return (x - w / 2, y - h / 2, x + w / 2, y + h / 2)


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
                labels = sum(overlap_area(box, p) for p in placed)
                covered = sum(overlap_area(box, m) for m in mark_boxes)
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
        families = len({family_of(g.nodes[n].get("type")).code for n in g.nodes})
        # Room for the legend: one line per family present, at least the reading key's five.
        self.legend_cm = max(3.4, 0.42 * families + 0.7)
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
        leg = self.legend_cm
        self.fig.set_size_inches(width_cm * CM, (width_cm + leg) * CM)
        self.ax.set_position((0.0, leg / (width_cm + leg), 1.0, width_cm / (width_cm + leg)))
        self.leg_ax.set_position((0.0, 0.0, 1.0, (leg - 0.1) / (width_cm + leg)))

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

    def name(self, nodes: list[Hashable]) -> tuple[list[Hashable], list[Box]]:
        """Write the names of `nodes` (most important first) next to their structures, where
        they cover no other name and no structure (reports.labels); the structures named and
        their names' boxes in points (y downwards). A structure with no free place is left
        unnamed: it is in the annex's list."""
        for artist in self._labels:
            artist.remove()
        self._labels = []
        unit = self.width_cm * CM * 72 / 1.08  # points per data unit (the y range)
        x0, y1 = -0.03, 1.05  # the axes' left and top, in data units

        def to_page(p: tuple[float, float]) -> tuple[float, float]:
            return ((p[0] - x0) * unit, (y1 - p[1]) * unit)

        xy = {n: to_page(self.pos[n]) for n in self.g.nodes}
        radius = {n: math.sqrt(self.area(n) / math.pi) for n in self.g.nodes}
        texts = {n: str(self.g.nodes[n].get("name", n)) for n in nodes}
        placed = labels.place(
            nodes, xy, radius, texts, NAME_SIZE, (0.0, 0.0, 1.06 * unit, 1.08 * unit)
        )
        if len(placed) < len(nodes):
            # The centre of a large map is full of small structures: names may then cover
            # unnamed structures (they are in the annex's list), never another name or a
            # named structure; the placement that names more structures wins.
            fewer_obstacles = labels.place(
                nodes, xy, radius, texts, NAME_SIZE, (0.0, 0.0, 1.06 * unit, 1.08 * unit),
                obstacles=nodes,
            )  # fmt: skip
            if len(fewer_obstacles) > len(placed):
                placed = fewer_obstacles
        align = {"start": "left", "middle": "center", "end": "right"}
        for n, lab in placed.items():
            bx0, by0, bx1, by1 = lab.box
            self._labels.append(
                self.ax.add_patch(
                    Rectangle((bx0 / unit + x0, y1 - by1 / unit), (bx1 - bx0) / unit,
                              (by1 - by0) / unit, facecolor="white", edgecolor="none",
                              alpha=0.85, zorder=4)
                )
            )  # fmt: skip
            if lab.far:
                # A thin line from the structure to the nearest point of its name.
                px, py = xy[n]
                qx, qy = min(max(px, bx0), bx1), min(max(py, by0), by1)
                (line,) = self.ax.plot(
                    [self.pos[n][0], qx / unit + x0], [self.pos[n][1], y1 - qy / unit],
                    color=INK, linewidth=0.5, zorder=4,
                )  # fmt: skip
                self._labels.append(line)
            for i, text in enumerate(lab.lines):
                base = lab.y + i * labels.LINE_HEIGHT * NAME_SIZE
                self._labels.append(
                    self.ax.text(lab.x / unit + x0, y1 - base / unit, text, fontsize=NAME_SIZE,
                                 fontweight="bold", ha=align[lab.anchor], va="baseline",
                                 color="black", zorder=5)
                )  # fmt: skip
        named = [n for n in nodes if n in placed]
        return named, [placed[n].box for n in named]

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


def draw_named_map(
    g: nx.DiGraph,
    pos: dict[Hashable, tuple[float, float]],
    shown: list[figures.Link],
    named: list[Hashable],
    width_cm: float = 17.0,
) -> MapDrawing:
    """The map of a large territory: every structure, only the links `shown` (the
    backbone, reports.backbone), and the structures of `named` written in full next to
    their mark instead of numbers (those that find a free place; most important first)."""
    drawing = _MapFigure(g, pos)
    try:
        drawing.set_width(width_cm)
        drawing.show_links(shown, False)
        if drawing._legend_title is not None:
            drawing._legend_title.set_text("Lecture (liens de l'ossature)")
        written, boxes = drawing.name(named)
        return MapDrawing(save(drawing.fig, close=False), [], boxes, written)
    finally:
        drawing.close()


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


EGO_NAMED = 25  # partners named on an ego map, most connected first
EGO_GAP = 14.0  # points between the partners' circle and the columns of names
LABEL_AIR = 0.6  # points between two names of a column
EGO_DPI = 130


def _side_labels(
    order: list[Hashable],
    xy: dict[Hashable, tuple[float, float]],
    name: Callable[[Hashable], str],
    cx: float,
    ring: float,
    width: float,
    height: float,
) -> tuple[list[Box], list[tuple[str, float, float, str]], list, list[Hashable]]:
    """Names of the partners of `order` in two columns beside the circle (right half on the
    right, left half on the left), each at the height of its partner when it can, pushed up
    or down just enough not to touch its neighbours, joined to its mark by a thin line.
    Returns their boxes (points, y up), the lines of text to write, the leader lines and the
    partners named (a column that cannot hold every name keeps the most connected)."""
    line_h = NAME_SIZE * labels.LINE_HEIGHT
    column = width / 2 - ring - EGO_GAP - 4  # the room for a name beside the circle
    margin = 3.0
    sides: dict[int, list[tuple[Hashable, tuple[str, ...]]]] = {1: [], -1: []}
    for n in order:
        text = name(n)
        lines: tuple[str, ...] = (text,)
        if labels.text_width(text, NAME_SIZE) > column:
            lines = labels.wrap(text, 2)
            if max(labels.text_width(x, NAME_SIZE) for x in lines) > column:
                # Still too wide: cut the lines too long (the full name is in the annex list).
                lines = tuple(_cut(x, column) for x in lines)
        sides[1 if xy[n][0] >= cx else -1].append((n, lines))
    boxes: list[Box] = []
    overlay: list[tuple[str, float, float, str]] = []
    leaders = []
    written: list[Hashable] = []
    for side, items in sides.items():
        # The most connected first while there is room, then top to bottom.
        room = height - 2 * margin
        kept = []
        for n, parts in items:
            if room >= len(parts) * line_h + LABEL_AIR:
                kept.append((n, parts))
                room -= len(parts) * line_h + LABEL_AIR
        kept.sort(key=lambda item: -xy[item[0]][1])
        tops = []
        limit = height - margin
        for n, lines in kept:  # downwards: each below the one above it
            top = min(xy[n][1] + len(lines) * line_h / 2, limit)
            tops.append(top)
            limit = top - len(lines) * line_h - LABEL_AIR
        floor = margin
        for i in range(len(kept) - 1, -1, -1):  # upwards: none below the bottom margin
            size = len(kept[i][1]) * line_h
            tops[i] = max(tops[i], floor + size)
            floor = tops[i] + LABEL_AIR
        x_text = cx + side * (ring + EGO_GAP)
        for (n, lines), top in zip(kept, tops, strict=True):
            w = max(labels.text_width(x, NAME_SIZE) for x in lines)
            bottom = top - len(lines) * line_h
            x0, x1 = (x_text, x_text + w) if side > 0 else (x_text - w, x_text)
            boxes.append((x0, bottom, x1, top))
            for i, text in enumerate(lines):
                base = top - (i + 0.8) * line_h
                overlay.append((text, x_text, base, "start" if side > 0 else "end"))
            leaders.append((xy[n], (x_text - side * 2, (top + bottom) / 2)))
            written.append(n)
    written.sort(key=order.index)
    return boxes, overlay, leaders, written


def _cut(text: str, width: float) -> str:
    """`text` shortened with « … » to fit in `width` points (unchanged when it fits)."""
    if labels.text_width(text, NAME_SIZE) <= width:
        return text
    while len(text) > 1 and labels.text_width(text + "…", NAME_SIZE) > width:
        text = text[:-1]
    return text.rstrip() + "…"


class _EgoFigure:
    """One small figure reused for every ego map of the annex: a structure in the middle,
    its partners on a circle around it grouped by family (most connected first within a
    family), its links to them as spokes and the links among them as faint chords."""

    def __init__(self, width_cm: float, height_cm: float) -> None:
        self.width_cm, self.height_cm = width_cm, height_cm
        self.fig = plt.figure(figsize=(width_cm * CM, height_cm * CM))
        self.ax = self.fig.add_axes((0.0, 0.0, 1.0, 1.0))

    def draw(
        self,
        g: nx.DiGraph,
        centre: Hashable,
        pairs: list[figures.Link],
        chords: set[tuple[Hashable, Hashable]] | None,
        named_max: int = EGO_NAMED,
    ) -> MapDrawing:
        members = {centre} | set(g.successors(centre)) | set(g.predecessors(centre))
        ax = self.ax
        ax.cla()
        ax.axis("off")
        # Points on both axes: labels are placed in points (reports.labels).
        w, h = self.width_cm * CM * 72, self.height_cm * CM * 72
        ax.set_xlim(0, w)
        ax.set_ylim(0, h)
        rank = {f.code: i for i, f in enumerate(FAMILIES)}
        degree = {n: partner_count(g, n) for n in members}

        def name(n: Hashable) -> str:
            return str(g.nodes[n].get("name", n))

        partners = sorted(
            (n for n in members if n != centre),
            key=lambda n: (rank[family_of(g.nodes[n].get("type")).code], -degree[n],
                           name(n).lower()),
        )  # fmt: skip
        cx, cy = w / 2, h / 2
        ring = h / 2 - 14  # the partners' circle, the names outside it on the sides
        xy: dict[Hashable, tuple[float, float]] = {centre: (cx, cy)}
        for i, n in enumerate(partners):
            angle = math.pi / 2 - 2 * math.pi * i / max(1, len(partners))
            xy[n] = (cx + ring * math.cos(angle), cy + ring * math.sin(angle))
        spokes, among = [], []
        for x in pairs:
            if x.a == centre or x.b == centre:
                spokes.append((xy[x.a], xy[x.b]))
            elif x.a in members and x.b in members and (chords is None or (x.a, x.b) in chords):
                among.append((xy[x.a], xy[x.b]))
        # Plain pale colours, no transparency: thousands of translucent lines cost seconds.
        ax.add_collection(LineCollection(among, linewidths=0.3, colors="#c9d1d9", zorder=1))
        ax.add_collection(LineCollection(spokes, linewidths=0.6, colors="#4a5d70", zorder=2))
        size = {n: 9.0 + 30.0 * degree[n] / max(1, max(degree.values())) for n in partners}
        for fam in FAMILIES:
            for answered in (True, False):
                sel = [n for n in partners if family_of(g.nodes[n].get("type")).code == fam.code
                       and bool(g.nodes[n].get("answered")) == answered]  # fmt: skip
                if sel:
                    ax.scatter([xy[n][0] for n in sel], [xy[n][1] for n in sel],
                               s=[size[n] for n in sel], marker=MARKERS.get(fam.shape, "o"),
                               facecolors=fam.colour if answered else "white",
                               edgecolors=fam.colour if answered else INK, linewidths=0.7,
                               zorder=3)  # fmt: skip
        ax.scatter([cx], [cy], s=140, marker="o", facecolors=INK, edgecolors="black", zorder=4)
        order = sorted(partners, key=lambda n: (-degree[n], name(n).lower()))[:named_max]
        boxes, overlay, leaders, written = _side_labels(order, xy, name, cx, ring, w, h)
        ax.add_collection(LineCollection(leaders, linewidths=0.4, colors=INK, zorder=5))
        # Names are written by the PDF over the image: the image needs less resolution.
        return MapDrawing(save(self.fig, close=False, dpi=EGO_DPI), [], boxes, written, overlay)

    def close(self) -> None:
        plt.close(self.fig)


def draw_egos(
    g: nx.DiGraph,
    centres: list[Hashable],
    pairs: list[figures.Link] | None = None,
    chords: set[tuple[Hashable, Hashable]] | None = None,
    width_cm: float = 17.0,
    height_cm: float = 8.5,
    named_max: int = EGO_NAMED,
) -> list[MapDrawing]:
    """The ego map of each of `centres` (reports.structure.ego: the structure, its partners
    and the links among them), its `named_max` most connected partners named. `pairs` is
    figures.links(g); with `chords` (keys (a, b) of figures.Link, e.g. the backbone's), only
    those links among the partners are drawn: the partners of a hub are most of a large
    map. One figure drawn again for each, so ten maps cost little more than their images."""
    pairs = figures.links(g) if pairs is None else pairs
    drawing = _EgoFigure(width_cm, height_cm)
    try:
        return [drawing.draw(g, n, pairs, chords, named_max) for n in centres]
    finally:
        drawing.close()

"""A map of groups of structures (families or zones) drawn for the PDF with matplotlib.

The encoding is the one of the web map (reports.svg), readable in black and white:
- a group is a circle whose AREA is proportional to its structures, filled in dark grey from
  the bottom up to its response rate (white above), with a black outline;
- its name is written in full next to it (on two lines when long), with a second line
  « 42 structures · 63 % de réponse »;
- a tie between two groups is a straight line whose width grows with the square root of its
  links, SOLID when at least half of them are formal, DASHED otherwise; the count of links is
  written at the middle of the heaviest ties;
- the links inside a group are a ring around its circle, same width scale, same dashes.
Every group is named (at most about twenty groups, by construction of reports.groups).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from matplotlib.patches import Circle, Rectangle

from reports import labels
from reports.charts import CM, Chart, plt, save
from reports.labels import overlap_area
from survey import french as t

if TYPE_CHECKING:
    from reports.groups import Group, GroupMap, GroupTie

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in points, y upwards

FILL = "#3d3d3d"  # the answered share of a group
TIE = "#7a7a7a"  # ties and loops: lighter than the outlines, so circles stand out
NAME_SIZE = 8.0  # points
STATS_SIZE = 7.0
COUNT_SIZE = 7.0
COUNTED_TIES = 8  # ties whose count of links is written on the map
R_MAX = 26.0  # points: the radius of the largest group
R_MIN = 4.0
W_MAX = 11.0  # points (about 4 mm): the width of the heaviest tie
W_MIN = 1.0


@dataclass(frozen=True)
class GroupDrawing:
    chart: Chart
    names: dict[str, Box] = field(default_factory=dict)  # group key -> its label's box
    counts: list[Box] = field(default_factory=list)  # the written counts of links


def stats_line(g: Group) -> str:
    """« 42 structures · 63 % de réponse » (« réponse inconnue » when nobody was invited)."""
    rate = g.response_rate
    answer = "réponse inconnue" if rate is None else f"{t.percent(rate)} de réponse"
    return t.text(f"{t.plural(g.structures, 'structure')} · {answer}")


def tie_width(links: int, heaviest: int, widest: float = W_MAX) -> float:
    """Line width (points) of a tie of `links`: proportional to the square root of the links,
    the heaviest tie `widest` wide, never thinner than W_MIN."""
    if links <= 0 or heaviest <= 0:
        return 0.0
    return max(W_MIN, widest * math.sqrt(links / heaviest))


def _apart(
    xy: dict[str, tuple[float, float]], reach: dict[str, float], bounds: Box, gap: float
) -> dict[str, tuple[float, float]]:
    """The positions moved just enough that no two groups' drawings (circle and ring) come
    closer than `gap`, staying inside `bounds` (a spring layout of zones may pile some up).
    Deterministic: pairs are visited in a fixed order."""
    pts = {k: list(p) for k, p in xy.items()}
    keys = sorted(pts)
    for _ in range(60):
        moved = False
        for i, a in enumerate(keys):
            for b in keys[i + 1 :]:
                (xa, ya), (xb, yb) = pts[a], pts[b]
                need = reach[a] + reach[b] + gap
                dx, dy = xb - xa, yb - ya
                dist = math.hypot(dx, dy)
                if dist >= need:
                    continue
                if dist < 1e-6:
                    dx, dy, dist = 1.0, 0.0, 1.0
                push = (need - dist) / 2 + 0.1
                ux, uy = dx / dist, dy / dist
                pts[a] = [xa - ux * push, ya - uy * push]
                pts[b] = [xb + ux * push, yb + uy * push]
                moved = True
        for k in keys:
            r = reach[k]
            pts[k][0] = min(max(pts[k][0], bounds[0] + r), bounds[2] - r)
            pts[k][1] = min(max(pts[k][1], bounds[1] + r), bounds[3] - r)
        if not moved:
            break
    return {k: (p[0], p[1]) for k, p in pts.items()}


def _dashes(tie: GroupTie) -> str | tuple:
    formal = tie.share_formal
    return "solid" if formal is not None and formal >= 0.5 else (0, (4, 2.5))


def _circle_box(x: float, y: float, r: float) -> Box:
    return (x - r, y - r, x + r, y + r)


Shape = tuple[tuple[str, ...], tuple[str, ...], float, float]  # name, stats, width, height


def _shapes(g: Group) -> list[Shape]:
    """The ways to write a group's label, widest first: its name on one or two lines and
    « 42 structures · 63 % de réponse » below; or, narrower for the sides of the map, the
    name on up to three lines and the figures on two."""
    name = t.text(g.label)
    rate = g.response_rate
    answer = "réponse inconnue" if rate is None else f"{t.percent(rate)} de réponse"
    count = t.text(t.plural(g.structures, "structure"))
    options = [
        (labels.wrap(name, 2) if len(name) > 22 else (name,), (stats_line(g),)),
        (
            labels.wrap(name, 3 if len(name) > 24 else 2) if len(name) > 12 else (name,),
            (count, t.text(answer)),
        ),
    ]
    out = []
    for lines, stats in options:
        width = max(
            max(labels.text_width(line, NAME_SIZE) for line in lines),
            max(labels.text_width(line, STATS_SIZE) for line in stats) * 0.92,  # regular
        )
        height = len(lines) * NAME_SIZE * 1.15 + len(stats) * STATS_SIZE * 1.2
        out.append((lines, stats, width + 2, height + 2))
    return out


def _place_name(
    x: float,
    y: float,
    reach: float,
    shapes: list[Shape],
    taken: Iterable[Box],
    bounds: Box,
    outward: tuple[float, float] = (0.0, 0.0),
) -> tuple[Box, Shape]:
    """The box of a label next to a circle at (x, y) whose rings end at `reach`, and the
    shape it takes: the first free place around it, close first and away from the middle of
    the map (the ties run towards the middle), else the least covered one."""
    taken = list(taken)
    best: tuple[float, Box, Shape] | None = None
    ox, oy = outward
    directions = sorted(
        ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1)),
        key=lambda d: -(d[0] * ox + d[1] * oy) / math.hypot(*d),
    )
    for extra in (3.0, 10.0, 20.0, 34.0, 52.0, 75.0):
        d = reach + extra
        for dx, dy in directions:
            for shape in shapes:
                w, h = shape[2], shape[3]
                cx = x + dx * (d + w / 2) if dx else x
                cy = y + dy * (d + h / 2) if dy else y
                if dx and dy:  # diagonals start at the corner of the circle's square
                    cx, cy = x + dx * (d * 0.72 + w / 2), y + dy * (d * 0.72 + h / 2)
                box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
                outside = (
                    max(0.0, bounds[0] - box[0]) + max(0.0, box[2] - bounds[2])
                    + max(0.0, bounds[1] - box[1]) + max(0.0, box[3] - bounds[3])
                )  # fmt: skip
                cost = sum(overlap_area(box, b) for b in taken) + outside * 1000 + extra
                if best is None or cost < best[0]:
                    best = (cost, box, shape)
                if cost == extra:
                    return box, shape
    # Crowded around it: the free place nearest to it anywhere in the drawing (joined to
    # its circle by a thin line), else the least covered place found above.
    shape = shapes[-1]
    w, h = shape[2], shape[3]
    spots = [
        (bounds[0] + i * 6.0, bounds[1] + j * 6.0)
        for i in range(int((bounds[2] - bounds[0] - w) / 6.0) + 1)
        for j in range(int((bounds[3] - bounds[1] - h) / 6.0) + 1)
    ]
    spots.sort(key=lambda p: (p[0] + w / 2 - x) ** 2 + (p[1] + h / 2 - y) ** 2)
    for sx, sy in spots:
        box = (sx, sy, sx + w, sy + h)
        if not any(overlap_area(box, b) for b in taken):
            return box, shape
    assert best is not None
    return best[1], best[2]


def _layout(
    gm: GroupMap, pos: dict[str, tuple[float, float]], width: float, height: float
) -> tuple[dict[str, tuple[float, float]], float]:
    """Positions in points inside the drawing, leaving room for the names on the sides; and
    the scale of the radii (points for one structure's worth of area)."""
    xs = [pos[g.key][0] for g in gm.groups]
    ys = [pos[g.key][1] for g in gm.groups]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    mx, my = min(120.0, width * 0.26), 56.0
    span_x = (x1 - x0) or 1.0
    span_y = (y1 - y0) or 1.0
    # Same scale on both axes: a circle layout stays a circle.
    k = min((width - 2 * mx) / span_x, (height - 2 * my) / span_y)
    cx, cy = (width - k * (x1 + x0)) / 2, (height - k * (y1 + y0)) / 2
    # reports.groups gives y downwards (as on a page); matplotlib's y goes up.
    out = {g.key: (cx + k * pos[g.key][0], height - (cy + k * pos[g.key][1])) for g in gm.groups}
    return out, k


def draw_group_map(
    gm: GroupMap,
    pos: dict[str, tuple[float, float]],
    width_cm: float = 16.0,
    height_cm: float | None = None,
) -> GroupDrawing:
    """The group map as an image `width_cm` wide; `pos` gives each group's place in [0, 1]²
    (reports.groups.group_positions)."""
    height_cm = height_cm or width_cm * 0.8
    width, height = width_cm * CM * 72, height_cm * CM * 72
    fig = plt.figure(figsize=(width_cm * CM, height_cm * CM))
    try:
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_xlim(0, width)
        ax.set_ylim(0, height)
        ax.set_aspect("equal")
        ax.axis("off")
        xy, _ = _layout(gm, pos, width, height)
        biggest = max((g.structures for g in gm.groups), default=1) or 1
        # Beyond eight groups (zones), smaller circles and rings so that they all fit.
        shrink = min(1.0, math.sqrt(8 / max(1, len(gm.groups))))
        radius = {
            g.key: max(R_MIN, R_MAX * shrink * math.sqrt(g.structures / biggest)) for g in gm.groups
        }
        heaviest = max((x.links for x in gm.ties), default=0)
        reach = dict(radius)  # where each group's drawing ends (its ring included)
        ring_of: dict[str, tuple[float, float]] = {}
        loops = [x for x in gm.ties if x.a == x.b and x.a in xy and x.links > 0]
        for tie in loops:
            w = tie_width(tie.links, heaviest, W_MAX * shrink)
            r = radius[tie.a] + 2.0 + w / 2
            ring_of[tie.a] = (r, w)
            reach[tie.a] = r + w / 2
        xy = _apart(xy, reach, (30.0, 24.0, width - 30, height - 24), 10.0)
        for tie in loops:
            r, w = ring_of[tie.a]
            ax.add_patch(
                Circle(xy[tie.a], r, fill=False, edgecolor=TIE, linewidth=w,
                       linestyle=_dashes(tie), zorder=2)
            )  # fmt: skip
        for tie in reversed(gm.ties):  # the heaviest drawn last, on top
            if tie.a == tie.b or tie.a not in xy or tie.b not in xy or tie.links <= 0:
                continue
            (xa, ya), (xb, yb) = xy[tie.a], xy[tie.b]
            ax.plot(
                [xa, xb], [ya, yb], color=TIE, linewidth=tie_width(tie.links, heaviest, W_MAX * shrink),
                linestyle=_dashes(tie), solid_capstyle="butt", dash_capstyle="butt", zorder=1,
            )  # fmt: skip
        for g in gm.groups:
            x, y = xy[g.key]
            r = radius[g.key]
            ax.add_patch(Circle((x, y), r, facecolor="white", edgecolor="none", zorder=3))
            rate = g.response_rate
            if rate:
                clip = Circle((x, y), r, transform=ax.transData)
                fill = Rectangle((x - r, y - r), 2 * r, 2 * r * min(rate, 1.0),
                                 facecolor=FILL, edgecolor="none", zorder=4)  # fmt: skip
                ax.add_patch(fill)
                fill.set_clip_path(clip)
            ax.add_patch(Circle((x, y), r, fill=False, edgecolor="black", linewidth=1.5, zorder=5))
        bounds = (2.0, 2.0, width - 2, height - 2)
        taken: list[Box] = [
            _circle_box(*xy[g.key], reach[g.key]) for g in gm.groups
        ]  # circles and rings stay free of names
        names: dict[str, Box] = {}
        mid_x = sum(p[0] for p in xy.values()) / max(1, len(xy))
        mid_y = sum(p[1] for p in xy.values()) / max(1, len(xy))
        for g in sorted(gm.groups, key=lambda g: -g.structures):
            x, y = xy[g.key]
            box, (lines, stats, _, _) = _place_name(
                x, y, reach[g.key], _shapes(g), taken, bounds, (x - mid_x, y - mid_y)
            )
            names[g.key] = box
            taken.append(box)
            # Set apart from its circle: a thin line joins them.
            qx, qy = min(max(x, box[0]), box[2]), min(max(y, box[1]), box[3])
            if math.hypot(qx - x, qy - y) > reach[g.key] + 14:
                ux, uy = (qx - x), (qy - y)
                d = math.hypot(ux, uy)
                ax.plot([x + ux / d * radius[g.key], qx], [y + uy / d * radius[g.key], qy],
                        color="black", linewidth=0.5, zorder=6)  # fmt: skip
            # A white card under the label: far cheaper to draw than a halo around each glyph.
            ax.add_patch(Rectangle((box[0], box[1]), box[2] - box[0], box[3] - box[1],
                                   facecolor="white", edgecolor="none", alpha=0.85, zorder=6))  # fmt: skip
            base = box[3] - 1 - NAME_SIZE * 0.93
            for line in lines:
                ax.text(box[0] + 1, base, line, fontsize=NAME_SIZE, fontweight="bold",
                        va="baseline", ha="left", zorder=7)  # fmt: skip
                base -= NAME_SIZE * 1.15
            base -= 0.6
            for line in stats:
                ax.text(box[0] + 1, base, line, fontsize=STATS_SIZE, va="baseline",
                        ha="left", color="#222222", zorder=7)  # fmt: skip
                base -= STATS_SIZE * 1.2
        counts: list[Box] = []
        for tie in gm.ties[:COUNTED_TIES]:
            if tie.a not in xy or tie.b not in xy or tie.links <= 0:
                continue
            text = t.integer(tie.links)
            w = labels.text_width(text, COUNT_SIZE) + 3
            h = COUNT_SIZE + 2
            if tie.a == tie.b:  # on the ring, where it is free
                r, _ = ring_of.get(tie.a, (radius[tie.a], 0.0))
                (x, y) = xy[tie.a]
                spots = [(x + r * c, y + r * s) for c, s in
                         ((0.0, 1.0), (0.0, -1.0), (0.71, 0.71), (-0.71, 0.71),
                          (0.71, -0.71), (-0.71, -0.71), (1.0, 0.0), (-1.0, 0.0))]  # fmt: skip
            else:
                (xa, ya), (xb, yb) = xy[tie.a], xy[tie.b]
                spots = [(xa + (xb - xa) * f, ya + (yb - ya) * f)
                         for f in (0.5, 0.42, 0.58, 0.34, 0.66)]  # fmt: skip
            # The first free spot along the tie; none: the count is only in the table.
            free = ((sx - w / 2, sy - h / 2, sx + w / 2, sy + h / 2) for sx, sy in spots)
            box_or_none = next(
                (b for b in free if not any(overlap_area(b, other) for other in taken)), None
            )
            if box_or_none is None:
                continue
            box = box_or_none
            counts.append(box)
            taken.append(box)
            ax.text((box[0] + box[2]) / 2, (box[1] + box[3]) / 2, text, fontsize=COUNT_SIZE,
                    ha="center", va="center", zorder=6,
                    bbox={"boxstyle": "round,pad=0.18", "facecolor": "white",
                          "edgecolor": "#555555", "linewidth": 0.5})  # fmt: skip
        return GroupDrawing(save(fig, close=False), names, counts)
    finally:
        plt.close(fig)


def key_sentences() -> list[str]:
    """The reading key of a group map, in words (the same encoding as the web map)."""
    return [
        "Chaque cercle est un groupe de structures : sa surface est proportionnelle au "
        "nombre de structures, et il est rempli de gris foncé, depuis le bas, à hauteur de "
        "son taux de réponse (un cercle plein : tout le monde a répondu ; vide : personne).",
        "Chaque trait relie deux groupes : plus il est épais, plus il y a de liens entre "
        "leurs structures (le nombre est écrit sur les plus épais). Un trait plein : au moins "
        "la moitié de ces liens sont formels ; en pointillés : surtout informels.",
        "L'anneau autour d'un cercle représente les liens entre structures du même groupe, "
        "avec la même épaisseur et les mêmes pointillés.",
    ]

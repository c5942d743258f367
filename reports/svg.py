"""The partnership map drawn as SVG on the server, at the positions of reports.layout.

The SVG is complete without JavaScript: every structure is a focusable link (or a focusable
group) with a <title>, so the map can be read by keyboard and screen reader, and
app/static/map.js only adds zoom, pan, highlighting and the side panel on top of it.

Visual cues, none carried by colour alone:
- family of structure type: colour AND shape (survey.vocab.FAMILIES), repeated in the <title>;
- size: number of partners (degree);
- hollow shape: the structure did not answer (its links are only known from the others);
- dashed link: carried by a single professional (fragile);
- arrow: the link is named from one side only (arrow towards the structure named);
- thicker link: more professionals carry it.

Names: up to LABELS_MAX structures, each gets its name next to its mark, placed by
reports.labels so that no two names overlap and no name covers a mark (a thin line joins a
name set a little apart); beyond, the LABELS_MANY most connected do, the others show their
name on hover, keyboard focus and selection.

A large map may draw only some links (`MapOptions.links`, a backbone: reports.backbone) and
name only chosen structures (`MapOptions.named`), drawn last so no mark hides their names.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import networkx as nx
from markupsafe import Markup, escape

from reports import figures, labels, layout, privacy
from reports.layout import Position
from reports.structure import partner_count
from survey.vocab import FAMILIES, Family, family_of

SIZE = 1000  # user units of the drawing (positions in [0, 1]² are scaled to it)
MARGIN = 40  # room for labels at the border
# Up to this many structures, every one gets a permanent label (when there is room for it);
# beyond, only the most connected do and the others show their name on hover and focus.
LABELS_MAX = 60
SPREAD_RANK = 0.7  # see layout.spread
LABELS_MANY = 15  # how many permanent labels a map of more than LABELS_MAX structures gets


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def shape_path(shape: str, x: float, y: float, r: float) -> str:
    """SVG path data of `shape` centred on (x, y), of about the area of a circle of radius r."""
    if shape == "circle":
        return (
            f"M{_fmt(x - r)},{_fmt(y)}a{_fmt(r)},{_fmt(r)} 0 1,0 {_fmt(2 * r)},0"
            f"a{_fmt(r)},{_fmt(r)} 0 1,0 {_fmt(-2 * r)},0z"
        )
    if shape == "square":
        s = r * 0.89
        return f"M{_fmt(x - s)},{_fmt(y - s)}h{_fmt(2 * s)}v{_fmt(2 * s)}h{_fmt(-2 * s)}z"
    if shape == "cross":
        a, b = r * 1.05, r * 0.38
        pts = [(-b, -a), (b, -a), (b, -b), (a, -b), (a, b), (b, b), (b, a), (-b, a), (-b, b),
               (-a, b), (-a, -b), (-b, -b)]  # fmt: skip
        return "M" + "L".join(f"{_fmt(x + px)},{_fmt(y + py)}" for px, py in pts) + "z"
    sides, radius, turn = {
        "diamond": (4, r * 1.25, -90),
        "triangle": (3, r * 1.35, -90),
        "triangle-down": (3, r * 1.35, 90),
        "hexagon": (6, r * 1.1, 0),
        "pentagon": (5, r * 1.15, -90),
    }[shape]
    pts = [
        (
            x + radius * math.cos(math.radians(turn + 360 * i / sides)),
            y + radius * math.sin(math.radians(turn + 360 * i / sides)),
        )
        for i in range(sides)
    ]
    return "M" + "L".join(f"{_fmt(px)},{_fmt(py)}" for px, py in pts) + "z"


# The farthest point of each shape from its centre, in radii (see shape_path).
_REACH = {"circle": 1.0, "square": 0.89, "cross": 1.05, "diamond": 1.25, "triangle": 1.35,
          "triangle-down": 1.35, "hexagon": 1.1, "pentagon": 1.15}  # fmt: skip


def swatch(family: Family, hollow: bool = False, size: int = 18) -> Markup:
    """A small standalone SVG of a family's mark, for legends (decorative)."""
    r = size / 2 - 3
    c = size / 2
    fill = "#fff" if hollow else family.colour
    return Markup(
        f'<svg class="swatch" width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
        f'aria-hidden="true" focusable="false"><path d="{shape_path(family.shape, c, c, r)}" '
        f'fill="{fill}" stroke="{family.colour}" stroke-width="2"/></svg>'
    )


def line_swatch(kind: str) -> Markup:
    """Legend mark of a link: "plain", "fragile" (dashed) or "one-sided" (arrow)."""
    dash = ' stroke-dasharray="5 4"' if kind == "fragile" else ""
    arrow = '<path d="M30,7 L22,2.5 L22,11.5z" fill="#3b4350"/>' if kind == "one-sided" else ""
    end = 22 if kind == "one-sided" else 32
    return Markup(
        f'<svg class="swatch" width="34" height="14" viewBox="0 0 34 14" aria-hidden="true" '
        f'focusable="false"><line x1="2" y1="7" x2="{end}" y2="7" stroke="#3b4350" '
        f'stroke-width="2"{dash}/>{arrow}</svg>'
    )


LABEL_FONT = 15  # user units; keep in step with .map-svg .label in carte.css
EGO_LABEL_FONT = 20  # the small maps of a structure page and « ma carte » (.ego-map)


@dataclass(frozen=True)
class MapOptions:
    """How a map is drawn. `href(node)` gives the link of a structure (None: a focusable
    group instead); `id_prefix` keeps ids unique when a page holds several maps."""

    href: Callable[[Hashable], str] | None = None
    id_prefix: str = "carte"
    labels_max: int = LABELS_MAX
    highlight: frozenset = frozenset()
    title: str = "Carte des partenariats"
    # False for a reader outside the coordination: counts of 1 or 2 people (a link's
    # carriers, a structure's invited and respondents) are written « < 3 » and the width of
    # a link does not tell 1 from 2 (reports.privacy).
    people_counts: bool = True
    # The names' font size in user units: what the page's CSS gives them (.ego-map: 20).
    label_font: float = LABEL_FONT
    # The links to draw, as (a, b) keys of figures.Link (a backbone's `keys()`); None: all.
    links: frozenset | None = None
    # Structures named on the map, in this order and only them (a backbone's `named`); their
    # names may cover the marks of the others. Empty: the most connected, up to `labels_max`.
    named: tuple = ()


def _radius(degree: int, top: int) -> float:
    return 6 + 14 * math.sqrt(degree / top) if top else 7.0


def _short(name: str, limit: int = 30) -> str:
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def _label_tspans(lines: tuple[str, ...], x: float) -> str:
    """The lines of a label: the first as text, the next ones as <tspan> one line down."""
    first, *rest = lines
    out = str(escape(first))
    for line in rest:
        out += f'<tspan x="{_fmt(x)}" dy="{labels.LINE_HEIGHT}em">{escape(line)}</tspan>'
    return out


def _leader(x: float, y: float, r: float, spot: labels.Label) -> str:
    """A thin line from the mark to a label set apart from it (empty for a close label)."""
    if not spot.far:
        return ""
    x0, y0, x1, y1 = spot.box
    # The point of the label's rectangle nearest to the centre of the mark.
    px, py = min(max(x, x0), x1), min(max(y, y0), y1)
    d = math.hypot(px - x, py - y) or 1.0
    sx, sy = x + (px - x) * r / d, y + (py - y) * r / d
    return f'<line class="leader" x1="{_fmt(sx)}" y1="{_fmt(sy)}" x2="{_fmt(px)}" y2="{_fmt(py)}"/>'


def _hit(spot: labels.Label, font: float) -> str:
    """An invisible rectangle under a placed name, so that the whole name (not only its
    strokes) opens the structure. Grown by the air `labels.place` keeps around each name,
    so it never reaches another mark or name."""
    x0, y0, x1, y1 = spot.box
    m = font * labels.PAD
    return (
        f'<rect class="hit" x="{_fmt(x0 - m)}" y="{_fmt(y0 - m)}" width="{_fmt(x1 - x0 + 2 * m)}" '
        f'height="{_fmt(y1 - y0 + 2 * m)}" fill="none" pointer-events="all"/>'
    )


def _node_title(a: dict, degree: int, fam: Family) -> str:
    answer = "a répondu" if a.get("answered") else "n'a pas répondu"
    partners = f"{degree} partenaire" + ("s" if degree != 1 else "")
    return f"{a.get('name', '')} — {a.get('type_label') or fam.label} — {partners}, {answer}"


def render(
    g: nx.DiGraph,
    pos: dict[Hashable, Position],
    options: MapOptions = MapOptions(),  # noqa: B008 - frozen dataclass, never mutated
    stats: dict[Hashable, dict] | None = None,
) -> Markup:
    """The map of `g` as an inline <svg>. Nodes missing from `pos` are not drawn.

    `stats` adds data-* attributes per node (e.g. betweenness) for the side panel."""
    p = options.id_prefix
    nodes = [n for n in g.nodes if n in pos]
    partners = {n: partner_count(g, n) for n in nodes}
    top = max(partners.values(), default=0)
    radius = {n: _radius(partners[n], top) for n in nodes}
    span = SIZE - 2 * MARGIN
    # On every position given, so a filter never moves a structure; the rank blend opens up
    # the core so that every name finds room around its mark.
    shown = layout.spread(pos, rank=SPREAD_RANK)
    xy = {n: (MARGIN + shown[n][0] * span, MARGIN + shown[n][1] * span) for n in nodes}
    order = sorted(nodes, key=lambda n: (-partners[n], str(g.nodes[n].get("name", n)).lower()))
    texts = {n: _short(str(g.nodes[n].get("name", n)), 48) for n in nodes}
    many = len(nodes) > LABELS_MAX
    limit = min(options.labels_max, LABELS_MANY) if many else options.labels_max
    # How far each mark reaches from its centre (a triangle's tip goes past its circle),
    # with its outline: the names must stay off it.
    reach = {n: radius[n] * _REACH[family_of(g.nodes[n].get("type")).shape] + 2 for n in nodes}
    obstacles = None  # every mark
    if options.named:
        candidates = [n for n in options.named if n in xy]
        limit = len(candidates)
        # A backbone's hundreds of marks leave no room around its hubs: the names keep off
        # each other and off the named marks, and may cover a mark only named on hover.
        obstacles = candidates
    else:
        candidates = order[: limit * 3] if many else order
    placed = labels.place(
        candidates,
        xy,
        reach,
        texts,
        options.label_font,
        (0, 0, SIZE, SIZE),
        limit=limit,
        obstacles=obstacles,
    )
    labelled = set(placed)

    pairs = figures.links(g)
    if options.links is not None:
        kept = options.links
        pairs = [x for x in pairs if (x.a, x.b) in kept]
    n_links = len(pairs)
    # Many links: fainter lines, so structures stay readable; hovering brings them back.
    link_opacity = max(0.08, min(0.5, 150 / max(1, n_links)))
    # Zoom level from which map.js shows every label (room enough between structures).
    labels_zoom = max(2.5, math.sqrt(len(nodes)) / 3)
    out: list[str] = [
        f'<svg class="map-svg" id="{p}-svg" viewBox="0 0 {SIZE} {SIZE}" '
        f'xmlns="http://www.w3.org/2000/svg" role="group" aria-label="{escape(options.title)}" '
        f'data-size="{SIZE}" data-labels-zoom="{labels_zoom:.1f}" '
        f'style="--lo:{link_opacity:.2f}">',
        f'<defs><marker id="{p}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
        f'markerHeight="8" markerUnits="userSpaceOnUse" orient="auto">'
        f'<path d="M0,1L10,5L0,9z" fill="#5b6370"/></marker></defs>',
        f'<g class="map-viewport" id="{p}-viewport">',
        '<g class="links" aria-hidden="true">',
    ]
    for x in pairs:
        if x.a not in xy or x.b not in xy:
            continue
        mutual = x.mutual
        src, dst = (x.a, x.b) if (x.ab or mutual) else (x.b, x.a)
        (x1, y1), (x2, y2) = xy[src], xy[dst]
        classes = ["link"]
        if x.carriers == 1:
            classes.append("fragile")
        if x.formal:
            classes.append("formal")
        marker = ""
        if not mutual:
            classes.append("one-sided")
            # Stop at the border of the named structure so the arrow head stays visible.
            d = math.hypot(x2 - x1, y2 - y1) or 1.0
            k = (radius[dst] + 2) / d
            x2, y2 = x2 - (x2 - x1) * k, y2 - (y2 - y1) * k
            marker = f' marker-end="url(#{p}-arrow)"'
        carriers: object = x.carriers
        width = 1 + 0.6 * min(x.carriers - 1, 5)
        if not options.people_counts and privacy.is_small(x.carriers):
            carriers, width = privacy.SMALL_DATA, 1.0
        out.append(
            f'<line class="{" ".join(classes)}" x1="{_fmt(x1)}" y1="{_fmt(y1)}" '
            f'x2="{_fmt(x2)}" y2="{_fmt(y2)}" stroke-width="{_fmt(width)}" '
            f'data-s="{escape(str(src))}" data-t="{escape(str(dst))}" '
            f'data-mutual="{int(mutual)}" data-carriers="{escape(str(carriers))}"{marker}/>'
        )
    out.append("</g>")
    out.append('<g class="nodes">')
    # Named structures last, so that no other mark is drawn over their names.
    drawn = [n for n in order if n not in labelled] + [n for n in order if n in labelled]
    for n in drawn if options.named else order:
        a = g.nodes[n]
        fam = family_of(a.get("type"))
        x, y = xy[n]  # type: ignore[assignment]  # x was a Link in the loop above
        r = radius[n]
        classes = ["node", f"fam-{fam.code}"]
        classes.append("answered" if a.get("answered") else "silent")
        if n in labelled:
            classes.append("labelled")
        if n in options.highlight:
            classes.append("highlight")
        data = {
            "id": n,
            "name": a.get("name", ""),
            "type": a.get("type_label") or "",
            "family": fam.label,
            "degree": partners[n],
            "out": g.out_degree(n),
            "in": g.in_degree(n),
            "answered": int(bool(a.get("answered"))),
            "invited": a.get("invited", 0),
            "responded": a.get("responded", 0),
            **(stats or {}).get(n, {}),
        }
        if not options.people_counts:
            data = privacy.node_people(data)
        attrs = " ".join(f'data-{k}="{escape(str(v))}"' for k, v in data.items())
        title = escape(_node_title(a, partners[n], fam))
        if options.href:
            open_tag = f'<a class="{" ".join(classes)}" href="{escape(options.href(n))}" {attrs}>'
            close_tag = "</a>"
        else:
            open_tag = f'<g class="{" ".join(classes)}" tabindex="0" {attrs}>'
            close_tag = "</g>"
        spot = placed.get(n)
        if spot is None:
            # Shown only on hover, focus or selection: one line under the mark.
            spot = labels.Label(
                x,  # type: ignore[arg-type]  # x was a Link in the loop above
                y + r + options.label_font,
                "middle",
                (texts[n],),
                (0, 0, 0, 0),
            )
        out.append(
            f"{open_tag}<title>{title}</title>"
            f'<path class="mark" d="{shape_path(fam.shape, x, y, r)}" '  # type: ignore[arg-type]
            f'style="--c:{fam.colour}"/>'
            f"{_leader(x, y, reach[n], spot)}{_hit(spot, options.label_font) if n in placed else ''}"  # type: ignore[arg-type]
            f'<text class="label" x="{_fmt(spot.x)}" y="{_fmt(spot.y)}" '
            f'text-anchor="{spot.anchor}">{_label_tspans(spot.lines, spot.x)}</text>'
            f"{close_tag}"
        )
    out.append("</g></g></svg>")
    return Markup("".join(out))


def families_present(g: nx.DiGraph) -> list[Family]:
    """The families of the structures in `g`, in legend order."""
    present = {family_of(a.get("type")).code for _, a in g.nodes(data=True)}
    return [f for f in FAMILIES if f.code in present]

"""The map by family or by zone (reports.groups) drawn as inline SVG for the web.

The encoding is the one of the PDF (reports.mapdraw), readable in black and white:
- a group is a circle whose area follows its structures, filled in dark grey from the
  bottom up to its response rate (white above; hatched when the rate is unknown or withheld);
  a family's colour only draws a thin ring around it, never the only carrier of meaning;
- its name is written in full next to it, with « 42 structures · 63 % de réponse » below;
- a tie between two groups is a straight line whose width follows sqrt(links), solid when at
  least half of its links are formal, dashed otherwise; the number of links is written on
  the TIE_COUNTS heaviest;
- the links inside a group are a ring around its circle, same width scale and same dashes.

Every group is focusable, with a <title> giving its figures; every tie has a <title>. For a
reader outside the coordination (`people_counts` False) the counts of 1 or 2 people read
« < 3 » and a response rate built on them is not given (reports.privacy).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from markupsafe import Markup, escape

from reports import privacy
from reports.groups import Group, GroupMap, GroupTie
from reports.labels import overlap_area
from survey import french

WIDTH = 1200  # user units of the drawing
HEIGHT = 820
# The groups' positions in [0, 1]² are scaled into this square, centred; the room on both
# sides is for the names.
SPAN = 600
LEFT = (WIDTH - SPAN) / 2
TOP = 110
R_MAX = 54.0  # radius of the largest group
R_MIN = 7.0
W_MIN, W_MAX = 1.0, 14.0  # tie widths (user units ≈ px at 1200 px wide)
TIE_COUNTS = 8  # ties whose number of links is written on the drawing
NAME_WRAP = 26  # characters of a name's first line before it wraps
FONT = 16
SMALL_FONT = 13.5
LINE = 1.2  # line height, in fonts
FILL = "#3d3d3d"
INK = "#000"
TIE_INK = "#4a4a4a"


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def wrap(name: str, width: int = NAME_WRAP) -> list[str]:
    """A name on one line, or on two cut at the last space before `width` characters."""
    if len(name) <= width:
        return [name]
    cut = name.rfind(" ", 0, width + 1)
    if cut <= 0:
        cut = name.find(" ")
    if cut <= 0:
        return [name]
    return [name[:cut].rstrip(), name[cut + 1 :].strip()]


def _rate_withheld(g: Group, people_counts: bool) -> bool:
    return not people_counts and (privacy.is_small(g.invited) or privacy.is_small(g.responded))


def group_figures(g: Group, people_counts: bool) -> dict[str, Any]:
    """What is printed of one group: counts of people as this reader may read them, the
    response rate (None: nobody invited; « withheld »: built on 1 or 2 people, hidden)."""
    count: Callable[[int], str] = (
        french.integer if people_counts else lambda n: privacy.people(n)  # « < 3 »
    )
    rate = g.response_rate
    withheld = rate is not None and _rate_withheld(g, people_counts)
    if rate is None:
        rate_text, answer = "réponse inconnue", "réponse inconnue (personne d'invité)"
    elif withheld:
        rate_text = "taux non donné"
        answer = (
            "taux de réponse non donné (moins de 3 personnes) : "
            f"{count(g.responded)} sur {count(g.invited)} invité·es"
        )
    else:
        rate_text = f"{french.percent(rate)} de réponse"
        answer = f"{rate_text} ({count(g.responded)} sur {count(g.invited)} invité·es)"
    return {
        "key": g.key,
        "label": g.label,
        "structures": g.structures,
        "answered": g.answered,
        "invited": count(g.invited),
        "responded": count(g.responded),
        "rate": None if rate is None else ("withheld" if withheld else rate),
        "rate_text": rate_text,
        "answer": answer,
        "links_inside": g.links_inside,
        "summary": f"{french.plural(g.structures, 'structure')} · {rate_text}",
    }


def group_title(g: Group, people_counts: bool) -> str:
    f = group_figures(g, people_counts)
    inside = french.plural(g.links_inside, "lien")
    return (
        f"{g.label} : {french.plural(g.structures, 'structure')} "
        f"(dont {g.answered} ayant répondu), {f['answer']}, {inside} entre elles"
    )


def tie_title(t: GroupTie, labels: dict[str, str]) -> str:
    """« Caisses ↔ Communes : 120 liens, 40 % formels, 30 % fragiles »."""
    head = f"{labels[t.a]}, entre elles" if t.a == t.b else f"{labels[t.a]} ↔ {labels[t.b]}"
    return (
        f"{head} : {french.plural(t.links, 'lien')}, {french.percent(t.share_formal)} formels, "
        f"{french.percent(t.share_fragile)} fragiles"
    )


def tie_rows(gm: GroupMap) -> list[dict[str, Any]]:
    """The ties (loops included) as rows of a table, heaviest first."""
    labels = {g.key: g.label for g in gm.groups}
    return [
        {
            "a": labels[t.a],
            "b": labels[t.b],
            "loop": t.a == t.b,
            "links": t.links,
            "formal": t.share_formal,
            "fragile": t.share_fragile,
            "mutual": t.mutual,
            "title": tie_title(t, labels),
        }
        for t in gm.ties
    ]


def tie_width(links: int, top: int) -> float:
    """1 for the thinnest, W_MAX for the heaviest tie, by the square root of links."""
    if top <= 0:
        return W_MIN
    return W_MIN + (W_MAX - W_MIN) * math.sqrt(links / top)


def _dash(t: GroupTie, width: float) -> str:
    """Dashed when fewer than half of the tie's links are formal."""
    if 2 * t.formal >= t.links:
        return ""
    return f' stroke-dasharray="{_fmt(max(7.0, 2.2 * width))} {_fmt(max(5.0, 1.3 * width))}"'


def render(
    gm: GroupMap,
    positions: dict[str, tuple[float, float]],
    title: str,
    people_counts: bool = True,
    href: Callable[[Group], str | None] | None = None,
    id_prefix: str = "groupes",
) -> Markup:
    """The group map as an inline <svg>. `href(group)` makes a group a link (to the structure
    map filtered on it); without it, or when it gives None, a focusable group."""
    p = id_prefix
    groups = [g for g in gm.groups if g.key in positions]
    top_size = max((g.structures for g in groups), default=0)
    radius = {
        g.key: max(R_MIN, R_MAX * math.sqrt(g.structures / top_size)) if top_size else R_MIN
        for g in groups
    }
    xy = {
        g.key: (LEFT + positions[g.key][0] * SPAN, TOP + positions[g.key][1] * SPAN) for g in groups
    }
    labels = {g.key: g.label for g in gm.groups}
    ties = [t for t in gm.ties if t.a in xy and t.b in xy and t.links > 0]
    top_links = max((t.links for t in ties), default=0)
    loops = {t.a: t for t in ties if t.a == t.b}
    between = [t for t in ties if t.a != t.b]
    counted = {(t.a, t.b) for t in sorted(between, key=lambda t: -t.links)[:TIE_COUNTS]}
    total_links = sum(t.links for t in ties)
    # Room taken around each circle: its colour ring, then its loop when it has one.
    ring = {k: radius[k] + 2.5 for k in xy}
    outer = {
        k: ring[k] + 4 + (tie_width(loops[k].links, top_links) if k in loops else 0) for k in xy
    }

    spots = _place_names(groups, xy, outer, people_counts)
    desc = _description(gm, groups, between, labels)
    out: list[str] = [
        f'<svg class="group-svg" id="{p}-svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg" role="group" '
        f'aria-labelledby="{p}-title" aria-describedby="{p}-desc">',
        f'<title id="{p}-title">{escape(title)}</title>',
        f'<desc id="{p}-desc">{escape(desc)}</desc>',
        f'<defs><pattern id="{p}-unknown" width="8" height="8" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="8" height="8" fill="#fff"/>'
        f'<line x1="0" y1="0" x2="0" y2="8" stroke="#9a9a9a" stroke-width="2"/></pattern>',
    ]
    for i, g in enumerate(groups):
        x, y = xy[g.key]
        out.append(
            f'<clipPath id="{p}-clip-{i}"><circle cx="{_fmt(x)}" cy="{_fmt(y)}" '
            f'r="{_fmt(radius[g.key])}"/></clipPath>'
        )
    out.append("</defs>")

    out.append('<g class="ties">')
    for t in between:
        (x1, y1), (x2, y2) = xy[t.a], xy[t.b]
        w = tie_width(t.links, top_links)
        out.append(
            f'<g class="tie"><title>{escape(tie_title(t, labels))}</title>'
            f'<line x1="{_fmt(x1)}" y1="{_fmt(y1)}" x2="{_fmt(x2)}" y2="{_fmt(y2)}" '
            f'stroke="{TIE_INK}" stroke-width="{_fmt(w)}" stroke-opacity="0.8"'
            f"{_dash(t, w)}/></g>"
        )
    out.append("</g>")

    out.append('<g class="loops">')
    for k, t in loops.items():
        x, y = xy[k]
        w = tie_width(t.links, top_links)
        out.append(
            f'<g class="tie loop"><title>{escape(tie_title(t, labels))}</title>'
            f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="{_fmt(ring[k] + 3 + w / 2)}" fill="none" '
            f'stroke="{TIE_INK}" stroke-width="{_fmt(w)}" stroke-opacity="0.8"{_dash(t, w)}/>'
            "</g>"
        )
    out.append("</g>")

    # The counts on the heaviest ties, above the lines and under the groups.
    out.append('<g class="tie-counts" aria-hidden="true">')
    for t in between:
        if (t.a, t.b) not in counted:
            continue
        (x1, y1), (x2, y2) = xy[t.a], xy[t.b]
        out.append(
            f'<text class="tie-count" x="{_fmt((x1 + x2) / 2)}" y="{_fmt((y1 + y2) / 2 + 5)}" '
            f'text-anchor="middle">{french.integer(t.links)}</text>'
        )
    out.append("</g>")

    out.append('<g class="groups">')
    for i, g in enumerate(groups):
        out.append(_group(g, xy[g.key], radius[g.key], ring[g.key], spots[g.key],
                          p, i, people_counts, href(g) if href else None))  # fmt: skip
    out.append("</g>")
    out.append(
        f'<text class="total" x="{WIDTH - 12}" y="{HEIGHT - 12}" text-anchor="end">'
        f"{french.plural(total_links, 'lien')} entre structures</text>"
    )
    out.append("</svg>")
    return Markup("".join(out))


def _group(
    g: Group,
    centre: tuple[float, float],
    r: float,
    ring: float,
    spot: tuple[float, float, str],
    p: str,
    i: int,
    people_counts: bool,
    link: str | None,
) -> str:
    x, y = centre
    f = group_figures(g, people_counts)
    rate = f["rate"]
    parts = [f"<title>{escape(group_title(g, people_counts))}</title>"]
    if isinstance(rate, float):
        h = 2 * r * rate
        parts.append(
            f'<circle class="back" cx="{_fmt(x)}" cy="{_fmt(y)}" r="{_fmt(r)}" fill="#fff"/>'
            f'<rect class="answered" x="{_fmt(x - r)}" y="{_fmt(y + r - h)}" '
            f'width="{_fmt(2 * r)}" height="{_fmt(h)}" fill="{FILL}" '
            f'clip-path="url(#{p}-clip-{i})"/>'
        )
    else:
        parts.append(
            f'<circle class="back unknown" cx="{_fmt(x)}" cy="{_fmt(y)}" r="{_fmt(r)}" '
            f'fill="url(#{p}-unknown)"/>'
        )
    colour = g.family.colour if g.family is not None else None
    if colour:
        parts.append(
            f'<circle class="colour" cx="{_fmt(x)}" cy="{_fmt(y)}" r="{_fmt(ring)}" '
            f'fill="none" stroke="{colour}" stroke-width="3"/>'
        )
    parts.append(
        f'<circle class="outline" cx="{_fmt(x)}" cy="{_fmt(y)}" r="{_fmt(r)}" fill="none" '
        f'stroke="{INK}" stroke-width="1.5"/>'
    )
    tx, ty, anchor = spot
    lines = wrap(g.label)
    text = f'<text class="group-name" x="{_fmt(tx)}" y="{_fmt(ty)}" text-anchor="{anchor}">'
    for i, line in enumerate(lines):
        dy = "" if i == 0 else f' dy="{_fmt(FONT * LINE)}"'
        text += f'<tspan x="{_fmt(tx)}"{dy}>{escape(line)}</tspan>'
    text += (
        f'<tspan class="group-figures" x="{_fmt(tx)}" dy="{_fmt(FONT * LINE)}">'
        f"{escape(f['summary'])}</tspan></text>"
    )
    parts.append(text)
    body = "".join(parts)
    data = f'data-key="{escape(g.key)}" data-structures="{g.structures}"'
    if link:
        return f'<a class="group" href="{escape(link)}" {data}>{body}</a>'
    return f'<g class="group" tabindex="0" {data}>{body}</g>'


Box = tuple[float, float, float, float]


def _place_names(
    groups: list[Group],
    xy: dict[str, tuple[float, float]],
    outer: dict[str, float],
    people_counts: bool,
) -> dict[str, tuple[float, float, str]]:
    """Where each group's name goes: (x, first baseline, text-anchor). Beside its circle on
    the side away from the middle of the drawing, else on the other side, below, above, or
    beside a little higher or lower: the first place that covers no circle and no name
    already placed (the biggest groups choose first), else the least covered one."""
    circles = {
        k: (x - outer[k], y - outer[k], x + outer[k], y + outer[k]) for k, (x, y) in xy.items()
    }
    taken: list[Box] = []
    out: dict[str, tuple[float, float, str]] = {}
    for g in sorted(groups, key=lambda g: (-g.structures, g.key)):
        x, y = xy[g.key]
        r = outer[g.key]
        lines = wrap(g.label)
        summary = group_figures(g, people_counts)["summary"]
        w = max(max(len(line) for line in lines) * FONT * 0.56, len(summary) * SMALL_FONT * 0.53)
        h = (len(lines) + 1) * FONT * LINE
        mid = y - h / 2  # top of a name centred on the circle
        right = x >= WIDTH / 2
        sides: list[tuple[str, float, float]] = [
            ("start", x + r + 6, mid),
            ("end", x - r - 6, mid),
        ]
        if not right:
            sides.reverse()
        shifted = [(anchor, tx, top + dy) for anchor, tx, top in sides for dy in (-r, r)]
        places = [*sides, ("middle", x, y + r + 4), ("middle", x, y - r - 4 - h), *shifted]
        best: tuple[float, Box, tuple[float, float, str]] | None = None
        for anchor, tx, top in places:
            x0 = tx if anchor == "start" else tx - w if anchor == "end" else tx - w / 2
            box = (x0, top, x0 + w, top + h)
            # Outside the drawing is never chosen; otherwise the least covered place.
            if box[0] < 0 or box[1] < 0 or box[2] > WIDTH or box[3] > HEIGHT:
                continue
            cost = sum(overlap_area(box, c) for c in circles.values()) + 2 * sum(
                overlap_area(box, t) for t in taken
            )
            if best is None or cost < best[0]:
                best = (cost, box, (tx, top + FONT * 0.9, anchor))
            if cost == 0:
                break
        if best is None:  # too big for the drawing anywhere: beside, as preferred
            anchor, tx, top = sides[0]
            x0 = tx if anchor == "start" else tx - w
            best = (0.0, (x0, top, x0 + w, top + h), (tx, top + FONT * 0.9, anchor))
        chosen = best[1], best[2]
        taken.append(chosen[0])
        out[g.key] = chosen[1]
    return out


def _description(
    gm: GroupMap, groups: list[Group], between: list[GroupTie], labels: dict[str, str]
) -> str:
    what = "familles de structures" if gm.level == "famille" else "zones"
    parts = [f"{len(groups)} {what}"]
    if groups:
        big = max(groups, key=lambda g: g.structures)
        parts.append(f"la plus grande : {big.label} ({french.plural(big.structures, 'structure')})")
    if between:
        t = between[0]
        parts.append(
            f"le lien le plus épais : {labels[t.a]} ↔ {labels[t.b]} "
            f"({french.plural(t.links, 'lien')})"
        )
    return (
        "; ".join(parts)
        + ". Chaque groupe et chaque lien a son titre ; les mêmes chiffres sont dans les "
        "tableaux sous la carte."
    )

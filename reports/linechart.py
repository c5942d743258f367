"""A small line chart drawn as SVG on the server: figures over the years (reports.trends).

Readable in black and white and without colour: every line has its own dash pattern AND
marker shape (hollow or filled), and is labelled directly at its end with its name and
last value, a sample of the line (dash and marker) in front of the label. Accessible:
role="img" with a <title> and a <desc> that says every value in words; each point has its
own <title>. The page puts
the same values in a table next to it (the text alternative for anyone who prefers it).
A missing or withheld value (« — ») breaks the line: no point is drawn for it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

from reports.svg import shape_path
from reports.trends import Figure, Line, printed

# Dark colours, each with a contrast of at least 7:1 on white; never the only cue.
COLOURS = ("#1f3b57", "#8c2d04", "#2e5e1f", "#5b2a86")
FONT = 'font-family="system-ui, sans-serif"'


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _line(f: Figure) -> Line:
    if f.line is None:
        raise ValueError(f"{f.key} is not a charted figure")
    return f.line


def _nice_top(top: float) -> tuple[float, float]:
    """An axis top at or above `top` and a tick step giving 2 to 5 ticks (counts)."""
    if top <= 0:
        return 4.0, 1.0
    magnitude = 10 ** math.floor(math.log10(top))
    for step in (0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10):
        s = max(1.0, step * magnitude)
        if math.ceil(top / s) <= 4:
            return math.ceil(top / s) * s, s
    return top, top  # pragma: no cover - the loop always ends


def line_chart(
    years: Sequence[int],
    series: Sequence[tuple[Figure, Sequence[Any]]],
    title: str,
    id_prefix: str = "trend",
    width: int = 720,
    height: int = 300,
    label_width: int = 250,
) -> Markup:
    """An SVG of one line per (figure, values per year). The figures of a chart are all of
    one kind: shares (axis 0 to 100 %) or counts (axis 0 to a round top)."""
    share = all(f.kind == "share" for f, _ in series)
    left, right, top, bottom = 52, width - label_width, 16, height - 36
    values = [v for _, vs in series for v in vs if v is not None]
    if share:
        y_top, step = 1.0, 0.25
    else:
        y_top, step = _nice_top(max(values, default=0))
    n = len(years)

    def x(i: int) -> float:
        return (left + right) / 2 if n == 1 else left + 20 + i * (right - left - 40) / (n - 1)

    def y(v: float) -> float:
        return bottom - (bottom - top) * (v / y_top if y_top else 0)

    def fmt_tick(v: float) -> str:
        return f"{round(v * 100)}\u202f%" if share else f"{v:g}".replace(".", ",")

    words = []
    for f, vs in series:
        said = ", ".join(f"{printed(f, v)} en {yr}" for yr, v in zip(years, vs, strict=True))
        words.append(f"{f.label} : {said}.")
    desc = " ".join(words) + " Les mêmes valeurs sont dans le tableau qui suit."
    tid, did = f"{id_prefix}-title", f"{id_prefix}-desc"
    out = [
        f'<svg class="trend-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} '
        f'{height}" width="100%" style="max-width:{width}px;height:auto" role="img" '
        f'aria-labelledby="{tid} {did}" {FONT} font-size="13">',
        f'<title id="{tid}">{escape(title)}</title>',
        f'<desc id="{did}">{escape(desc)}</desc>',
        '<g class="axes" aria-hidden="true">',
    ]
    tick = 0.0
    while tick <= y_top + 1e-9:
        yy = _f(y(tick))
        out.append(
            f'<line x1="{left}" x2="{right}" y1="{yy}" y2="{yy}" stroke="#d5dbe1" '
            f'stroke-width="1"/><text x="{left - 8}" y="{yy}" text-anchor="end" '
            f'dominant-baseline="middle" fill="#333">{escape(fmt_tick(tick))}</text>'
        )
        tick += step
    for i, yr in enumerate(years):
        out.append(
            f'<text x="{_f(x(i))}" y="{bottom + 22}" text-anchor="middle" fill="#333">{yr}</text>'
        )
    out.append("</g>")
    ends: list[tuple[float, int, Figure, Any]] = []
    for k, (f, vs) in enumerate(series):
        line = _line(f)
        colour = COLOURS[k % len(COLOURS)]
        fill = "#fff" if line.hollow else colour
        dash = f' stroke-dasharray="{line.dash}"' if line.dash else ""
        out.append(
            f'<g class="series" data-key="{f.key}" data-dash="{line.dash or "plein"}" '
            f'data-marker="{line.marker}{"-vide" if line.hollow else ""}">'
        )
        d, pen_down = [], False
        for i, v in enumerate(vs):
            if v is None:
                pen_down = False
                continue
            d.append(f"{'L' if pen_down else 'M'}{_f(x(i))},{_f(y(v))}")
            pen_down = True
        if d:
            out.append(
                f'<path d="{"".join(d)}" fill="none" stroke="{colour}" stroke-width="2.2"'
                f'{dash} stroke-linejoin="round" aria-hidden="true"/>'
            )
        for i, (yr, v) in enumerate(zip(years, vs, strict=True)):
            if v is None:
                continue
            out.append(
                f'<path class="point" d="{shape_path(line.marker, x(i), y(v), 5)}" fill="{fill}" '
                f'stroke="{colour}" stroke-width="2"><title>{escape(f.label)} en {yr} : '
                f"{escape(printed(f, v))}</title></path>"
            )
        last = next((i for i in range(len(vs) - 1, -1, -1) if vs[i] is not None), None)
        if last is not None:
            ends.append((y(vs[last]), k, f, vs[last]))
        out.append("</g>")
    # Direct labels at the right, moved apart so that none overlaps another.
    ends.sort(key=lambda e: e[0])
    placed: list[float] = []
    for end in ends:
        placed.append(max(end[0], placed[-1] + 17) if placed else end[0])
    overflow = (placed[-1] - (bottom + 4)) if placed else 0
    if overflow > 0:
        placed = [max(top, p - overflow) for p in placed]
    out.append('<g class="labels">')
    for (_, k, f, v), ly in zip(ends, placed, strict=True):
        line = _line(f)
        colour = COLOURS[k % len(COLOURS)]
        fill = "#fff" if line.hollow else colour
        lx, yy = right + 10, _f(ly)
        dash = f' stroke-dasharray="{line.dash}"' if line.dash else ""
        # A sample of the line (dash pattern and marker) in front of its name.
        out.append(
            f'<g aria-hidden="true"><line x1="{lx}" x2="{lx + 26}" y1="{yy}" y2="{yy}" '
            f'stroke="{colour}" stroke-width="2.2"{dash}/><path d="'
            f'{shape_path(line.marker, lx + 13, ly, 4.5)}" fill="{fill}" stroke="{colour}" '
            f'stroke-width="2"/></g><text x="{lx + 32}" y="{yy}" dominant-baseline="middle" '
            f'fill="{colour}" data-key="{f.key}">{escape(f.label)} : {escape(printed(f, v))}'
            "</text>"
        )
    out.append("</g></svg>")
    return Markup("".join(out))

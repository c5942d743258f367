"""Collision-free placement of the names of structures around their marks on a map.

Generic (no SVG in here): any drawing that has node centres, mark radii and a font size in
the same units can use it, the web map (reports.svg) as well as a printed one.

Greedy by importance: each structure, most important first, tries candidate places around
its mark — right, left, below, above, then the diagonals, close first and a little farther
after, on one line then wrapped on two — and takes the first whose rectangle overlaps no
label already placed, no mark and stays inside the drawing. A structure with no free place
gets no permanent label (its name still shows on hover and keyboard focus). Deterministic:
the same input always gives the same placement.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 (y grows downwards)

PAD = 0.12  # of the font size: the air kept free around each label
LINE_HEIGHT = 1.15  # of the font size, between the baselines of a wrapped label
# Of the font size, above and below the baseline: the line box a browser gives a text
# (DejaVu Sans), so the rectangles here are those a browser measures.
_ASCENT = 0.93
_DESCENT = 0.24
_FALLBACK_ADVANCE = 0.7  # of the font size, for a character the font does not have


@functools.cache
def _advances() -> dict[str, float]:
    """Advance widths of DejaVu Sans Bold, per character, for a font size of 1.

    The bold face of the widest common sans-serif: the fonts a browser picks instead
    (Segoe UI, Roboto, Arial…) are narrower, so a label measured with it never runs longer
    on screen than the place kept for it."""
    try:
        import matplotlib
        from matplotlib import ft2font

        # The copy matplotlib ships: no font manager (slow to start), same on every machine.
        path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
        font = ft2font.FT2Font(str(path))
        font.set_size(100, 72)
        table: dict[str, float] = {}
        for code in range(32, 0x17F + 1):
            if font.get_char_index(code):
                glyph = font.load_char(code)
                table[chr(code)] = glyph.linearHoriAdvance / 65536 / 100
        for ch in "«»’–—…·":
            if font.get_char_index(ord(ch)):
                table[ch] = font.load_char(ord(ch)).linearHoriAdvance / 65536 / 100
        return table
    except Exception:  # noqa: BLE001 - no font file: fall back to a safe average
        return {}


def text_width(text: str, size: float) -> float:
    """Width of `text` in bold sans-serif at font size `size` (same units as `size`)."""
    table = _advances()
    return size * sum(table.get(ch, _FALLBACK_ADVANCE) for ch in text)


def wrap(text: str, lines: int = 2) -> tuple[str, ...]:
    """`text` cut at spaces into at most `lines` lines, the longest line as short as can be.
    Fewer lines when there are not enough words."""
    words = text.split()
    if lines < 2 or len(words) < 2:
        return (text,)
    best: tuple[str, ...] = (text,)
    for i in range(1, len(words)):
        head = " ".join(words[:i])
        rest = wrap(" ".join(words[i:]), lines - 1)
        option = (head, *rest)
        if max(map(len, option)) < max(map(len, best)):
            best = option
    return best


@dataclass(frozen=True)
class Label:
    """Where a label goes: the anchor point of its first line (SVG `text-anchor` semantics:
    "start", "middle" or "end"), its lines, and the rectangle it covers."""

    x: float
    y: float  # baseline of the first line
    anchor: str
    lines: tuple[str, ...]
    box: Box
    far: bool = False  # set apart from its mark: draw a thin line between them


def overlaps(a: Box, b: Box) -> bool:
    """True when the two rectangles share some area (touching edges do not count)."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def overlap_area(a: Box, b: Box) -> float:
    """The area the two rectangles share (0 when they do not overlap)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


# Directions tried around a mark, in order of preference: unit offsets (dx, dy).
_DIRECTIONS = [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1)]
# Gaps between a mark and its label, tried in this order (in fifteenths of the font size);
# from _FAR on, the label is set apart and joined to its mark by a thin line.
_RINGS = (2.0, 8.0, 16.0, 26.0, 38.0, 55.0, 75.0)
_FAR = 16.0


def _candidate(
    x: float, y: float, r: float, gap: float, d: tuple[int, int], w: float, n: int, size: float
) -> Label:
    h = size * (LINE_HEIGHT * (n - 1) + _ASCENT + _DESCENT)
    dx, dy = d
    # Diagonal places start at the corner of the mark's square, not its side.
    reach = r + gap
    if dx and dy:
        reach = r * 0.75 + gap
    if dx > 0:
        x0 = x + reach
    elif dx < 0:
        x0 = x - reach - w
    else:
        x0 = x - w / 2
    if dy > 0:
        y0 = y + reach
    elif dy < 0:
        y0 = y - reach - h
    else:
        y0 = y - h / 2
    anchor = "start" if dx > 0 else "end" if dx < 0 else "middle"
    ax = x0 if dx > 0 else x0 + w if dx < 0 else x
    return Label(ax, y0 + _ASCENT * size, anchor, (), (x0, y0, x0 + w, y0 + h))


class _Placer:
    """The state of one placement: the marks, the labels placed so far, their rectangles."""

    def __init__(
        self,
        xy: dict[Hashable, tuple[float, float]],
        radius: dict[Hashable, float],
        texts: dict[Hashable, str],
        size: float,
        bounds: Box,
        measure: Callable[[str, float], float],
        obstacles: Sequence[Hashable] | None,
    ) -> None:
        self.xy, self.radius, self.texts, self.size = xy, radius, texts, size
        self.bounds, self.measure = bounds, measure
        self.pad = size * PAD  # a little air between two labels
        self.marks = [
            (xy[n][0] - radius[n], xy[n][1] - radius[n], xy[n][0] + radius[n], xy[n][1] + radius[n])
            for n in (xy if obstacles is None else obstacles)
        ]
        self.placed: dict[Hashable, Label] = {}
        self._candidates: dict[Hashable, list[Label]] = {}

    def _shapes(self, n: Hashable) -> list[tuple[tuple[str, ...], float]]:
        text = self.texts[n]
        shapes: list[tuple[str, ...]] = [(text,)]
        # Three lines only for a long name: a short one on three lines reads badly.
        for k in (2, 3) if len(text) > 24 else (2,):
            lines = wrap(text, k)
            if len(lines) == k:
                shapes.append(lines)
        return [(s, max(self.measure(line, self.size) for line in s)) for s in shapes]

    def _generate(self, n: Hashable) -> Iterator[Label]:
        """The places of `n`'s label that stay inside the drawing and off every mark, in
        order of preference (lazily: most labels take one of the first)."""
        shapes = self._shapes(n)
        x, y = self.xy[n]
        r = self.radius[n]
        bx0, by0, bx1, by1 = self.bounds
        reach = r + _RINGS[-1] * self.size / 15 + max(w for _, w in shapes) + 4 * self.size
        near = [
            m for m in self.marks
            if m[2] > x - reach and m[0] < x + reach and m[3] > y - reach and m[1] < y + reach
        ]  # fmt: skip
        for ring in _RINGS:
            for d in _DIRECTIONS:
                for s, w in shapes:
                    c = _candidate(x, y, r, ring * self.size / 15, d, w, len(s), self.size)
                    box = c.box
                    if box[0] < bx0 or box[1] < by0 or box[2] > bx1 or box[3] > by1:
                        continue
                    grown = self._grown(box)
                    if any(overlaps(grown, m) for m in near):
                        continue
                    yield Label(c.x, c.y, c.anchor, s, box, ring >= _FAR)

    def candidates(self, n: Hashable) -> list[Label]:
        if n not in self._candidates:
            self._candidates[n] = list(self._generate(n))
        return self._candidates[n]

    def _grown(self, box: Box) -> Box:
        p = self.pad
        return (box[0] - p, box[1] - p, box[2] + p, box[3] + p)

    def blockers(self, box: Box, ignore: Hashable = None) -> list[Hashable]:
        grown = self._grown(box)
        return [m for m, lab in self.placed.items() if m != ignore and overlaps(grown, lab.box)]

    def first_free(self, n: Hashable) -> Label | None:
        return next((c for c in self._generate(n) if not self.blockers(c.box)), None)

    def repair(self, n: Hashable) -> bool:
        """Place `n` by moving one label that is in the way to another of its places."""
        for c in self.candidates(n):
            blocking = self.blockers(c.box)
            if len(blocking) != 1:
                continue
            m = blocking[0]
            grown = self._grown(c.box)
            for other in self.candidates(m):
                if not overlaps(grown, other.box) and not self.blockers(other.box, ignore=m):
                    self.placed[m] = other
                    self.placed[n] = c
                    return True
        return False


def place(
    order: Sequence[Hashable],
    xy: dict[Hashable, tuple[float, float]],
    radius: dict[Hashable, float],
    texts: dict[Hashable, str],
    size: float,
    bounds: Box,
    limit: int | None = None,
    measure: Callable[[str, float], float] = text_width,
    obstacles: Sequence[Hashable] | None = None,
    rounds: int = 3,
) -> dict[Hashable, Label]:
    """Labels for the structures of `order` (most important first), at most `limit` of them.

    `xy` and `radius` give every mark's centre and radius (same units as the font `size`
    and the `bounds` of the drawing); the marks of `obstacles` (default: every key of
    `xy`) are kept free of labels. Returns {node: Label} for the structures that got a
    place; the others have none (hover and focus show their name).

    A structure that finds no free place may take the place of one label in its way when
    that label can move to another of its own places. If some are still left without a
    label, the placement starts again with them first (they are the hemmed-in ones), up to
    `rounds` times, and the round that labels the most structures wins."""
    best = _round(order, xy, radius, texts, size, bounds, limit, measure, obstacles)
    if limit is not None and limit < len(order):
        return best  # only some are wanted: the most important that fit, in order
    current = list(order)
    for _ in range(rounds - 1):
        missing = [n for n in current if n not in best]
        if not missing:
            break
        current = missing + [n for n in current if n in best]
        attempt = _round(current, xy, radius, texts, size, bounds, limit, measure, obstacles)
        if len(attempt) > len(best):
            best = attempt
    return best


def _round(
    order: Sequence[Hashable],
    xy: dict[Hashable, tuple[float, float]],
    radius: dict[Hashable, float],
    texts: dict[Hashable, str],
    size: float,
    bounds: Box,
    limit: int | None,
    measure: Callable[[str, float], float],
    obstacles: Sequence[Hashable] | None,
) -> dict[Hashable, Label]:
    placer = _Placer(xy, radius, texts, size, bounds, measure, obstacles)
    missing = []
    for n in order:
        if limit is not None and len(placer.placed) >= limit:
            break
        spot = placer.first_free(n)
        if spot is not None:
            placer.placed[n] = spot
        else:
            missing.append(n)
    for n in missing:
        if limit is not None and len(placer.placed) >= limit:
            break
        placer.repair(n)
    return placer.placed

"""Stable positions for the map: a seeded force layout started from last year's positions.

Structures that stay start where they were last year and only drift; a new structure starts
at the centre of its already placed partners (or at a seeded random place). The result is
scaled into [0, 1]² with the same factor on both axes, so shapes are not distorted.

`map_positions` chains the years (each campaign's layout starts from the one before) and is
what both maps read: the web map (reports.svg) and the PDF's (reports.mapdraw), each drawing
`spread` of it.
"""

from __future__ import annotations

import hashlib
import math
import random
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

import networkx as nx
from sqlmodel import Session, col, select

from reports import cache, figures
from survey.models import Campaign

LAYOUT_SEED = 42
INERTIA = 0.5  # share of the way a staying structure moves towards its new place
HISTORY = 3  # how many earlier campaigns the stable layout starts from

Position = tuple[float, float]


def _initial(u: nx.Graph, previous: dict[Hashable, Position], seed: int) -> dict:
    rng = random.Random(seed)
    init: dict[Hashable, Position] = {n: previous[n] for n in u if n in previous}
    for n in sorted((n for n in u if n not in init), key=str):
        placed = [init[m] for m in u.neighbors(n) if m in init]
        if placed:
            x = sum(p[0] for p in placed) / len(placed) + rng.uniform(-0.02, 0.02)
            y = sum(p[1] for p in placed) / len(placed) + rng.uniform(-0.02, 0.02)
            init[n] = (x, y)
        else:
            init[n] = (rng.random(), rng.random())
    return init


def _unit_square(pos: dict[Hashable, Position], margin: float = 0.03) -> dict:
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
    scale = (1 - 2 * margin) / span
    # Centre the drawing on the axis that does not fill the square.
    ox = margin + (1 - 2 * margin - (max(xs) - min(xs)) * scale) / 2
    oy = margin + (1 - 2 * margin - (max(ys) - min(ys)) * scale) / 2
    return {
        n: (round(ox + (x - min(xs)) * scale, 5), round(oy + (y - min(ys)) * scale, 5))
        for n, (x, y) in pos.items()
    }


def positions(
    g: nx.DiGraph,
    previous: dict[Hashable, Position] | None = None,
    seed: int = LAYOUT_SEED,
) -> dict[Hashable, Position]:
    """{node: (x, y)} in [0, 1]². Same graph, same previous positions → same result.

    With previous positions the layout starts from them, runs fewer iterations, is turned
    back to last year's orientation, and each staying structure moves only INERTIA of the
    way to its new place, so the map stays recognisable from one year to the next."""
    u = figures.undirected(g)
    if u.number_of_nodes() == 0:
        return {}
    if u.number_of_nodes() == 1:
        return {next(iter(u)): (0.5, 0.5)}
    previous = previous or {}
    kept = [n for n in u if n in previous]
    init = _initial(u, previous, seed) if kept else None
    pos = nx.spring_layout(
        u,
        pos=init,
        seed=seed,
        weight="weight",
        iterations=15 if kept else 100,
    )
    pos = {n: (float(p[0]), float(p[1])) for n, p in pos.items()}
    if len(kept) >= 3:
        pos = _align(pos, {n: previous[n] for n in kept})
        # Inertia: a staying structure goes only part of the way to its new best place.
        pos.update(
            {
                n: (
                    previous[n][0] + INERTIA * (pos[n][0] - previous[n][0]),
                    previous[n][1] + INERTIA * (pos[n][1] - previous[n][1]),
                )
                for n in kept
            }
        )
        # Keep last year's frame: a structure pushed out (often one that lost its links) is
        # brought back to the border rather than rescaling everybody.
        return {n: (_clip(x), _clip(y)) for n, (x, y) in pos.items()}
    return _unit_square(pos)


def _clip(v: float, margin: float = 0.03) -> float:
    return round(min(1 - margin, max(margin, v)), 5)


def _align(pos: dict[Hashable, Position], target: dict[Hashable, Position]) -> dict:
    """Rotate, reflect, scale and move `pos` to best match `target` on their common nodes
    (orthogonal Procrustes): a force layout has no preferred orientation, so without this a
    map could turn over from one year to the next while no link changed."""
    import numpy as np

    common = list(target)
    a = np.array([pos[n] for n in common])
    b = np.array([target[n] for n in common])
    ma, mb = a.mean(axis=0), b.mean(axis=0)
    a0, b0 = a - ma, b - mb
    norm = np.linalg.norm(a0)
    if norm == 0:
        return pos
    u, s, vt = np.linalg.svd(a0.T @ b0)
    rotation = u @ vt
    scale = s.sum() / norm**2
    return {
        n: tuple(float(v) for v in (np.array(p) - ma) @ rotation * scale + mb)
        for n, p in pos.items()
    }


def spread(
    pos: dict[Hashable, Position], power: float = 0.5, rank: float = 0.0
) -> dict[Hashable, Position]:
    """Display transform of layout positions: distances from the centre are raised to
    `power` (< 1 opens up the dense core and pulls far outliers in), then each axis is
    stretched to fill [0, 1]. Monotonic, so neighbourhoods and year-to-year stability are
    kept; only the drawing uses it (the API serves the layout's own positions).

    `rank` (0 to 1) blends in each distance's rank among all distances: one structure far
    out (often one with a single link) then no longer squeezes all the others into the
    middle, and labels find room around every mark."""
    if len(pos) < 2:
        return {n: (0.5, 0.5) for n in pos}
    xs = sorted(p[0] for p in pos.values())
    ys = sorted(p[1] for p in pos.values())
    cx, cy = xs[len(xs) // 2], ys[len(ys) // 2]
    dist = {n: math.hypot(x - cx, y - cy) for n, (x, y) in pos.items()}
    top = max(dist.values()) or 1.0
    ordered = sorted(set(dist.values()))
    place = {d: i / max(1, len(ordered) - 1) for i, d in enumerate(ordered)}
    moved = {}
    for n, (x, y) in pos.items():
        d = dist[n]
        target = (1 - rank) * (d / top) ** power + rank * place[d]
        k = top * target / d if d else 0.0
        moved[n] = (cx + (x - cx) * k, cy + (y - cy) * k)
    lo_x, hi_x = min(p[0] for p in moved.values()), max(p[0] for p in moved.values())
    lo_y, hi_y = min(p[1] for p in moved.values()), max(p[1] for p in moved.values())
    return {
        n: ((x - lo_x) / ((hi_x - lo_x) or 1.0), (y - lo_y) / ((hi_y - lo_y) or 1.0))
        for n, (x, y) in moved.items()
    }


# --- a campaign's map, year after year ----------------------------------------------------


class _Memo:
    """A small thread-safe LRU of computed values (sync routes run in a thread pool). The
    value is computed outside the lock: two threads may compute it once each, both get a
    correct (deterministic) result."""

    def __init__(self, size: int = 64) -> None:
        self._values: OrderedDict[Hashable, dict] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key: Hashable, compute: Callable[[], dict]) -> dict:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = compute()
        with self._lock:
            self._values[key] = value
            if len(self._values) > self._size:
                self._values.popitem(last=False)
        return value


_by_structure = _Memo()  # layouts by graph fingerprint
_by_version = _Memo()  # layouts by (campaign, data version, previous year's layout)


def positions_digest(pos: dict | None) -> str:
    """A key for a set of positions (for caching what is drawn from them)."""
    return hashlib.sha256(
        repr(sorted((pos or {}).items(), key=lambda kv: str(kv[0]))).encode()
    ).hexdigest()


def _fingerprint(g: nx.DiGraph, previous: dict | None) -> str:
    h = hashlib.sha256()
    h.update(repr(sorted(g.nodes, key=str)).encode())
    h.update(repr([(x.a, x.b, x.carriers) for x in figures.links(g)]).encode())
    h.update(positions_digest(previous).encode())
    return h.hexdigest()


def cached_positions(g: nx.DiGraph, previous: dict | None = None) -> dict[Hashable, Position]:
    """`positions`, memoised on the graph's structure (the layout is deterministic, so
    several processes computing it independently agree)."""
    return _by_structure.get(_fingerprint(g, previous), lambda: positions(g, previous))


def _year_positions(
    session: Session,
    campaign: Campaign,
    previous: dict | None,
    g: nx.DiGraph | None = None,
    version: str | None = None,
) -> dict:
    """`version` (the campaign's data version, reports.cache) may be given when the caller
    just read it."""
    version = version or cache.data_version(session, campaign)

    def compute() -> dict:
        graph = g if g is not None else cache.entry(session, campaign, version=version).graph
        return cached_positions(graph, previous)

    return _by_version.get((campaign.id, version, positions_digest(previous)), compute)


def earlier_campaigns(session: Session, campaign: Campaign) -> list[Campaign]:
    """The campaigns whose layouts the map of `campaign` starts from, latest first."""
    return list(
        session.exec(
            select(Campaign)
            .where(Campaign.territory_id == campaign.territory_id, Campaign.year < campaign.year)
            .order_by(col(Campaign.year).desc())
            .limit(HISTORY)
        ).all()
    )


def map_positions(
    session: Session, campaign: Campaign, g: nx.DiGraph | None = None, version: str | None = None
) -> dict[Hashable, Position]:
    """Positions of the structures of `campaign`, stable across years: the layout of the
    earlier campaigns (up to HISTORY of them, oldest first) is computed first and each year
    starts from the previous one, so a structure that stays keeps its place.

    Always computed on the unfiltered graph (`g` if given must be unfiltered): a filter
    hides links and structures but never moves them. Memoised per campaign data version,
    so earlier years' graphs are only rebuilt when their answers changed. `version` is
    `campaign`'s data version when the caller has just read it (reports.cache)."""
    previous: dict | None = None
    for c in reversed(earlier_campaigns(session, campaign)):
        previous = _year_positions(session, c, previous)
    return _year_positions(session, campaign, previous, g, version)

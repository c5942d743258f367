"""Stable positions for the map: a seeded force layout started from last year's positions.

Structures that stay start where they were last year and only drift; a new structure starts
at the centre of its already placed partners (or at a seeded random place). The result is
scaled into [0, 1]² with the same factor on both axes, so shapes are not distorted.

`map_positions` chains the years (each campaign's layout starts from the one before) and is
what both maps read: the web map (reports.svg) and the PDF's (reports.mapdraw), each drawing
`spread` of it.

An open campaign's answers change all the time, and each change used to lay out the whole map
again. `update_positions` instead starts from the positions of the campaign's previous data
version and moves only the structures whose ties changed (and places the new ones near their
partners), a few dozen numpy iterations: the others stay exactly where they were. A closed
campaign is always laid out in full from the year before (its map and its PDF must not depend
on what a process saw while the campaign was open).

Positions are kept in the database (`CampaignLayout`, one row per campaign and layout of the
years before: the data version, its ties and its positions), so a process that starts (a
restart, the other worker) reads them instead of laying every year out again. The rule that
keeps every process drawing the same map: **the positions of a data version are the first
ones stored for it.** A process that needs a version reads the row; when it holds that
version, it is used as it is. Otherwise the process updates the stored positions (the row's
version, not whatever it has in memory) and stores the result only if the row still holds
the version it started from (compare-and-set); if another process stored first, the stored
positions are used and its own are dropped. So two workers that see the same change start
from the same row and agree, and a worker that saw intermediate versions another did not
still draws what was stored. Only when the database cannot store (a SQLite database the caller's
own uncommitted writes hold, a PostgreSQL lock held longer than half a second) does a process
fall back on what it computed itself, as before. A closed campaign's full layout is stored the same way,
so no process computes it again until it is reopened and closed.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import networkx as nx
from sqlalchemy import Connection, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from reports import cache, figures
from survey.db import stored_id, table_of
from survey.models import Campaign, CampaignLayout, utcnow

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


Ties = dict[tuple[Hashable, Hashable], int]  # {(a, b): carriers}, one entry per link

UPDATE_ITERATIONS = 30  # force steps of an update (a full layout from last year runs 15 on all)
UPDATE_STEP = 0.04  # largest move of a structure in the first step, in [0, 1]² units


def ties_of(g: nx.DiGraph) -> Ties:
    """What the layout reads of a graph: its structures' links and their carriers."""
    return {(x.a, x.b): x.carriers for x in figures.links(g)}


def changed_structures(before: Ties, after: Ties) -> set[Hashable]:
    """The structures with a link added, removed or carried by another number of people."""
    out: set[Hashable] = set()
    for pair in before.keys() | after.keys():
        if before.get(pair) != after.get(pair):
            out.update(pair)
    return out


def _jitter(n: Hashable) -> Position:
    """A small offset of its own for structure `n`, the same in every process and whatever
    the order structures are seen in (a hash, not a shared random generator)."""
    d = hashlib.sha256(f"layout {n!r}".encode()).digest()
    return (
        (int.from_bytes(d[:4], "big") / 2**32 - 0.5) * 0.04,
        (int.from_bytes(d[4:8], "big") / 2**32 - 0.5) * 0.04,
    )


def _forces(np, moving, others, weights, k: float):  # type: ignore[no-untyped-def]
    """Fruchterman–Reingold forces (as networkx's spring_layout computes them) on the
    `moving` points from the `others`: repulsion k²/d from every structure, attraction
    w·d²/k along each link of weight w (`weights`, rows = moving, columns = others)."""
    delta = moving[:, None, :] - others[None, :, :]
    dist = np.maximum(np.sqrt((delta**2).sum(axis=2)), 0.01)
    return np.einsum("ijk,ij->ik", delta, k * k / dist**2 - weights * dist / k)


def update_positions(
    g: nx.DiGraph, old: dict[Hashable, Position], before: Ties, after: Ties | None = None
) -> dict[Hashable, Position]:
    """The positions of `g` moved from `old`, the positions of a graph whose ties were
    `before`: only the structures whose ties changed move, and a new structure starts at
    the centre of its placed partners. Same inputs → same positions.

    `old` is taken as the balance point: a structure moves by the CHANGE of the forces on
    it (the forces of `g` at its current place minus those of the old graph at its old
    place), so a partner that lost one link of forty drifts a little, one that lost its only
    link goes far, and one whose ties did not change does not move at all."""
    import numpy as np

    after = ties_of(g) if after is None else after
    nodes = sorted(g.nodes, key=str)
    if len(nodes) < 2:
        return positions(g)
    moving = sorted(
        (changed_structures(before, after) & set(nodes)) | {n for n in nodes if n not in old},
        key=str,
    )
    pos = {n: old[n] for n in nodes if n in old}
    if not moving:
        return pos
    neighbours: dict[Hashable, list[Hashable]] = {}
    for a, b in after:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    for n in moving:  # new structures, in a fixed order: near those already placed
        if n in pos:
            continue
        placed = [pos[m] for m in sorted(neighbours.get(n, []), key=str) if m in pos]
        cx, cy = (
            (sum(p[0] for p in placed) / len(placed), sum(p[1] for p in placed) / len(placed))
            if placed
            else (0.5, 0.5)
        )
        jx, jy = _jitter(n)
        pos[n] = (cx + jx, cy + jy)

    index = {n: i for i, n in enumerate(nodes)}
    rows = {n: i for i, n in enumerate(moving)}
    xy = np.array([pos[n] for n in nodes], dtype=float)
    weights = np.zeros((len(moving), len(nodes)))
    for (a, b), w in after.items():
        if a in rows and b in index:
            weights[rows[a], index[b]] += w
        if b in rows and a in index:
            weights[rows[b], index[a]] += w
    # The same k as spring_layout's on the unit square, from the size of the old drawing.
    k = math.sqrt(1.0 / len(nodes))
    # What held each staying structure where it was: the old graph's forces at the old places.
    old_nodes = sorted(old, key=str)
    old_index = {n: i for i, n in enumerate(old_nodes)}
    staying = [n for n in moving if n in old]
    residual = np.zeros((len(moving), 2))
    if staying:
        old_xy = np.array([old[n] for n in old_nodes], dtype=float)
        old_w = np.zeros((len(staying), len(old_nodes)))
        srow = {n: i for i, n in enumerate(staying)}
        for (a, b), w in before.items():
            if a in srow and b in old_index:
                old_w[srow[a], old_index[b]] += w
            if b in srow and a in old_index:
                old_w[srow[b], old_index[a]] += w
        here = np.array([old[n] for n in staying], dtype=float)
        residual[[rows[n] for n in staying]] = _forces(np, here, old_xy, old_w, k)

    move_idx = np.array([index[n] for n in moving])
    step = UPDATE_STEP
    for _ in range(UPDATE_ITERATIONS):
        disp = _forces(np, xy[move_idx], xy, weights, k) - residual
        length = np.maximum(np.sqrt((disp**2).sum(axis=1)), 1e-9)
        xy[move_idx] += disp * (np.minimum(length, step) / length)[:, None]
        step -= UPDATE_STEP / (UPDATE_ITERATIONS + 1)
    out = dict(pos)
    for n in moving:
        x, y = xy[index[n]]
        out[n] = (_clip(float(x)), _clip(float(y)))
    return out


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

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


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


@dataclass(frozen=True)
class _Drawn:
    """The positions computed for a campaign at one data version, with the ties they were
    computed for: where the next version's update starts."""

    version: str
    ties: Ties
    positions: dict[Hashable, Position]


class _Latest:
    """The latest `_Drawn` per (campaign, previous year's layout), a small thread-safe LRU."""

    def __init__(self, size: int = 32) -> None:
        self._values: OrderedDict[Hashable, _Drawn] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key: Hashable) -> _Drawn | None:
        with self._lock:
            return self._values.get(key)

    def put(self, key: Hashable, value: _Drawn) -> None:
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            if len(self._values) > self._size:
                self._values.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


_latest = _Latest()


def _updatable(campaign: Campaign, version: str) -> bool:
    """Only an open campaign's map moves by updates. A closed one is laid out in full, from
    the year before only, so its map (and the PDF stored with it) is the same in every
    process whatever that process saw while the campaign was open."""
    return campaign.status == "open" and not version.startswith(cache.FROZEN)


def forget() -> None:
    """Drop every position this process holds in memory: it then starts as a new worker."""
    _by_structure.clear()
    _by_version.clear()
    _latest.clear()


def _decode(version: str, ties: str, positions: str) -> _Drawn:
    return _Drawn(
        version,
        {(a, b): c for a, b, c in json.loads(ties)},
        {n: (x, y) for n, x, y in json.loads(positions)},
    )


def _read_stored(session: Session, campaign_id: int, anchor: str) -> _Drawn | None:
    """The positions stored for the campaign from the layout `anchor`, None when none."""
    t = table_of(CampaignLayout)
    row = session.execute(
        select(t.c.version, t.c.ties, t.c.positions).where(
            t.c.campaign_id == campaign_id, t.c.anchor == anchor
        )
    ).first()
    return None if row is None else _decode(*row)


def _holds_sqlite_writes(session: Session) -> bool:
    """True when `session` has written to SQLite without committing: another connection
    would wait for it (up to the busy timeout), so nothing is stored then."""
    if session.get_bind().dialect.name != "sqlite" or not session.in_transaction():
        return False
    return bool(session.connection().connection.dbapi_connection.in_transaction)  # type: ignore[union-attr]


def _store(
    session: Session, campaign_id: int, anchor: str, start: str | None, drawn: _Drawn
) -> _Drawn:
    """Store `drawn`, computed from the stored row at version `start` (None: no row), in a
    transaction of its own (the caller's session is only read). Compare-and-set: when
    another process stored first, its positions are returned and used (see the module
    docstring). Best effort: a database that cannot store now (locked) leaves
    the positions in memory only."""
    if _holds_sqlite_writes(session):
        return drawn
    t = table_of(CampaignLayout)
    values = {
        "version": drawn.version,
        "ties": json.dumps([[a, b, c] for (a, b), c in drawn.ties.items()]),
        "positions": json.dumps([[n, x, y] for n, (x, y) in drawn.positions.items()]),
        "computed_at": utcnow(),
    }
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":  # never wait on the caller's locks
                conn.execute(text("SET LOCAL lock_timeout = '500ms'"))
            if start is None:
                ins = pg_insert(t) if engine.dialect.name == "postgresql" else sqlite_insert(t)
                done = conn.execute(
                    ins.values(
                        campaign_id=campaign_id, anchor=anchor, **values
                    ).on_conflict_do_nothing()
                ).rowcount
            else:
                done = conn.execute(
                    update(t)
                    .where(t.c.campaign_id == campaign_id, t.c.anchor == anchor)
                    .where(t.c.version == start)
                    .values(**values)
                ).rowcount
            if done:
                return drawn
            row = conn.execute(
                select(t.c.version, t.c.ties, t.c.positions).where(
                    t.c.campaign_id == campaign_id, t.c.anchor == anchor
                )
            ).first()
    except DBAPIError:
        return drawn
    if row is not None and row.version == drawn.version:
        return _decode(*row)
    return drawn


def _year_positions(
    session: Session,
    campaign: Campaign,
    previous: dict | None,
    g: nx.DiGraph | None = None,
    version: str | None = None,
) -> dict:
    """`version` (the campaign's data version, reports.cache) may be given when the caller
    just read it. Positions stored for this version are read as they are; an open campaign
    is otherwise updated from the positions stored (or, failing that, computed by this
    process) at an earlier version (`update_positions`); otherwise laid out in full."""
    version = version or cache.data_version(session, campaign)
    anchor = (campaign.id, positions_digest(previous))

    def graph() -> nx.DiGraph:
        return g if g is not None else cache.entry(session, campaign, version=version).graph

    def compute() -> dict:
        last = _latest.get(anchor)
        if last is not None and last.version == version:
            return last.positions
        stored = _read_stored(session, stored_id(campaign), anchor[1])
        if stored is not None and stored.version == version:
            _latest.put(anchor, stored)
            return stored.positions
        ties = ties_of(graph())
        if not _updatable(campaign, version):
            drawn = _Drawn(version, ties, cached_positions(graph(), previous))
        else:
            start = stored or last
            pos = (
                cached_positions(graph(), previous)
                if start is None or not start.ties
                else update_positions(graph(), start.positions, start.ties, ties)
            )
            drawn = _Drawn(version, ties, pos)
        drawn = _store(
            session, stored_id(campaign), anchor[1], stored.version if stored else None, drawn
        )
        _latest.put(anchor, drawn)
        return drawn.positions

    return _by_version.get((*anchor, version), compute)


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

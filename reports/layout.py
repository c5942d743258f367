"""Stable positions for the map: a seeded force layout started from last year's positions.

Structures that stay start where they were last year and only drift; a new structure starts
at the centre of its already placed partners (or at a seeded random place). The result is
scaled into [0, 1]² with the same factor on both axes, so shapes are not distorted.
"""

from __future__ import annotations

import random
from collections.abc import Hashable

import networkx as nx

from reports.figures import undirected

LAYOUT_SEED = 42
INERTIA = 0.5  # share of the way a staying structure moves towards its new place

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
    u = undirected(g)
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

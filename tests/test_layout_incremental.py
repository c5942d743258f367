"""The open campaign's map after a change: only the structures whose ties changed move
(reports.layout.update_positions), deterministically; both PDF maps from one figure."""

from __future__ import annotations

import math
import random
import subprocess
import sys

import networkx as nx

from reports import figures, layout, mapdraw
from tests.reports.handmade import node, tie


def _clustered(seed: int = 1, n: int = 60) -> nx.DiGraph:
    """n structures in groups of 15, 85 % of ties inside a group."""
    rng = random.Random(seed)
    g = nx.DiGraph()
    for i in range(n):
        g.add_node(i, **node(f"S{i}", "association", 1, 1, 1))
    for _ in range(5 * n):
        u = rng.randrange(n)
        v = (u // 15) * 15 + rng.randrange(15) if rng.random() < 0.85 else rng.randrange(n)
        if u != v:  # some carried by several people, some formal: every style of line
            formal = rng.random() < 0.4
            g.add_edge(u, v, **tie(rng.choice((1, 1, 2, 3)), formal=int(formal), informal=1))
    return g


def _changed(g: nx.DiGraph) -> nx.DiGraph:
    """One answer changed: structure 3 drops two partners and names a new structure."""
    h = nx.DiGraph(g)
    for v in sorted(h.successors(3))[:2]:
        h.remove_edge(3, v)
    h.add_node(100, **node("Nouvelle", "caf", 1, 1, 1))
    h.add_edge(3, 100, **tie(1, informal=1))
    h.add_edge(100, 4, **tie(1, informal=1))
    return h


def test_only_the_structures_whose_ties_changed_move():
    g = _clustered()
    old = layout.positions(g)
    h = _changed(g)
    before, after = layout.ties_of(g), layout.ties_of(h)
    moved = layout.update_positions(h, old, before, after)
    assert set(moved) == set(h.nodes)
    changed = layout.changed_structures(before, after)
    assert 3 in changed and 100 in changed
    for n in g.nodes:
        if n not in changed:
            assert moved[n] == old[n], n
    assert all(0 <= v <= 1 for p in moved.values() for v in p)
    # The new structure lands among its partners, not anywhere on the map.
    centre = ((old[3][0] + old[4][0]) / 2, (old[3][1] + old[4][1]) / 2)
    assert math.dist(moved[100], centre) < 0.2


def test_no_change_moves_nothing_and_one_link_moves_little():
    g = _clustered()
    old = layout.positions(g)
    ties = layout.ties_of(g)
    assert layout.update_positions(g, old, ties, ties) == old
    h = nx.DiGraph(g)
    a, b = sorted(h.edges)[0]
    h.remove_edge(a, b)
    if h.has_edge(b, a):
        h.remove_edge(b, a)
    moved = layout.update_positions(h, old, ties)
    moves = [math.dist(old[n], moved[n]) for n in h.nodes]
    assert max(moves) < 0.15
    assert sum(m > 0 for m in moves) <= 2


def test_update_is_deterministic_across_processes():
    code = (
        "from tests.test_layout_incremental import _clustered, _changed\n"
        "from reports import layout\n"
        "g = _clustered(); h = _changed(g)\n"
        "print(layout.update_positions(h, layout.positions(g), layout.ties_of(g)))\n"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        ).stdout
        for _ in range(2)
    }
    assert len(runs) == 1
    g = _clustered()
    here = layout.update_positions(_changed(g), layout.positions(g), layout.ties_of(g))
    assert repr(here) + "\n" in runs


def test_both_maps_from_one_figure_are_the_maps_drawn_alone():
    g = _clustered(n=45)
    pos = layout.spread(layout.positions(g))
    pairs = figures.links(g)
    full, formal = mapdraw.draw_maps(g, pos, 13.0, 16.0, pairs)
    alone = mapdraw.draw_map(g, pos, width_cm=13.0, all_links=pairs)
    alone_formal = mapdraw.draw_map(g, pos, True, width_cm=16.0, all_links=pairs)
    assert full == alone
    assert formal == alone_formal

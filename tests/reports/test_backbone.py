"""reports.backbone: the disparity filter and the most carried link, checked by hand."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from reports import backbone, figures
from tests.reports.handmade import node, tie


def _hand() -> nx.DiGraph:
    """Links 1–2 (8 people), 1–3, 1–4, 2–3, 3–4, 4–5 (1 person each)."""
    g = nx.DiGraph()
    for i in range(1, 6):
        g.add_node(i, **node(f"S{i}", "association", 1, 1, 1))
    g.add_edge(1, 2, **tie(8, informal=8))
    for a, b in ((1, 3), (1, 4), (2, 3), (3, 4), (4, 5)):
        g.add_edge(a, b, **tie(1, informal=1))
    return g


def test_backbone_by_hand():
    # Structure 1: k = 3 links of total weight s = 10. Link 1–2: (1 − 8/10)^(3−1) = 0.04 <
    # 0.05, significant. 1–3 and 1–4: (1 − 1/10)² = 0.81. Structure 2: k = 2, s = 9; 2–3:
    # (8/9)¹ = 0.89. Structures 3 and 4: k = 3, s = 3, each link (2/3)² = 0.44. Structure 5
    # has one link: nothing significant for it. Only 1–2 passes the filter, covering 1 and 2.
    # Most carried link of 3: 1–3, 2–3, 3–4 are equal, the first by ids is 1–3; of 4: 1–4;
    # of 5: 4–5. Kept: 1–2, then 1–3, 1–4, 4–5 (equal p-value 0.44, in pairs order).
    bb = backbone.backbone(_hand())
    assert [(x.a, x.b) for x in bb.kept] == [(1, 2), (1, 3), (1, 4), (4, 5)]
    assert (bb.hidden, bb.total) == (2, 6)
    assert bb.reasons == {"disparite": 1, "plus_porte": 3}
    assert bb.keys() == {(1, 2), (1, 3), (1, 4), (4, 5)}
    assert "4 liens sur 6 sont dessinés" in bb.sentence()
    assert "Les 2 autres sont cachés" in bb.sentence()


def test_the_cap_keeps_the_most_significant():
    bb = backbone.backbone(_hand(), max_ties=2)
    assert [(x.a, x.b) for x in bb.kept] == [(1, 2), (1, 3)]
    assert bb.hidden == 4


def test_alpha_threshold_is_strict():
    # A structure with two links of weights 19 and 1: (1 − 19/20)¹ = 0.05, not < 0.05.
    g = nx.DiGraph()
    for i in range(1, 4):
        g.add_node(i, **node(f"S{i}", "caf", 1, 1, 1))
    g.add_edge(1, 2, **tie(19, informal=19))
    g.add_edge(1, 3, **tie(1, informal=1))
    bb = backbone.backbone(g)
    assert bb.reasons.get("disparite", 0) == 0
    # 2 and 3 each have one link: each keeps it as its most carried.
    assert bb.keys() == {(1, 2), (1, 3)} and bb.reasons == {"plus_porte": 2}


def test_named_are_the_most_connected_drawn():
    g = _hand()
    bb = backbone.backbone(g)
    # Partners: S1, S3, S4 have 3; S2 has 2; S5 has 1 — ties broken by name.
    assert backbone.named(g, bb, 3) == [1, 3, 4]
    assert backbone.named(g, bb) == [1, 3, 4, 2, 5]


def test_nothing_hidden_says_so():
    g = nx.DiGraph()
    g.add_node(1, **node("S1", "caf", 1, 1, 1))
    g.add_node(2, **node("S2", "caf", 1, 1, 1))
    g.add_edge(1, 2, **tie(1, informal=1))
    bb = backbone.backbone(g)
    assert bb.hidden == 0 and bb.sentence() == "Le lien est dessiné."
    g.add_node(3, **node("S3", "caf", 1, 1, 1))
    g.add_edge(3, 2, **tie(1, informal=1))
    assert backbone.backbone(g).sentence() == "Les 2 liens sont tous dessinés."


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_on_random_graphs_every_structure_with_partners_stays_on_the_map(seed):
    rnd = random.Random(seed)
    u = nx.gnm_random_graph(120, 1500, seed=seed)
    g = nx.DiGraph()
    for n in u.nodes:
        g.add_node(n, **node(f"S{n}", "association", 1, 1, 1))
    for a, b in u.edges:
        g.add_edge(a, b, **tie(rnd.choice([1, 1, 1, 2, 3, 8]), informal=1))
    pairs = figures.links(g)
    bb = backbone.backbone(g, pairs)
    assert bb.total == len(pairs) and bb.hidden == len(pairs) - len(bb.kept)
    assert len(bb.kept) < len(pairs) / 2  # the point: most links hidden
    linked = {n for x in pairs for n in (x.a, x.b)}
    assert {n for x in bb.kept for n in (x.a, x.b)} == linked
    # Deterministic, and capped.
    assert backbone.backbone(g, pairs).keys() == bb.keys()
    assert len(backbone.backbone(g, pairs, max_ties=50).kept) == 50

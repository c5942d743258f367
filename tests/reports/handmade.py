"""Small graphs written by hand, with the attributes `reports.graph` produces.

FIVE: five structures A..E, professionals a1, a2 (A), b1 (B), c1 (C); D and E did not answer.

    A→B  a1 (formal), a2 (informal)      carriers 2   practices referral×2, joint_support×1
    B→A  b1 (informal)                   carriers 1   practices referral×1
    A→C  a1 (both)                       carriers 1   practices case_conference×1
    B→C  b1 (formal)                     carriers 1
    C→D  c1 twice (informal, no nature)  carriers 1   practices referral×1
    E    no tie, did not answer, nobody invited

thématique "logement-hebergement" on A→B (1) and C→D (1).
"""

from __future__ import annotations

import networkx as nx

from survey import vocab


def tie(
    carriers=1,
    formal=0,
    informal=0,
    both=0,
    declarations=None,
    practices=None,
    thematiques=None,
    quality=None,
):
    return {
        "carriers": carriers,
        "declarations": declarations if declarations is not None else formal + informal + both,
        "formal": formal,
        "informal": informal,
        "both": both,
        "frequencies": {c: 0 for c in vocab.FREQUENCIES},
        "practices": practices or {},
        "thematiques": thematiques or {},
        "quality_mean": quality,
    }


def node(name, type_, invited, responded, link_carriers):
    return {
        "name": name,
        "type": type_,
        "type_label": vocab.org_type_label(type_),
        "commune": "Guéret",
        "proposed": False,
        "invited": invited,
        "responded": responded,
        "answered": responded > 0,
        "link_carriers": link_carriers,
    }


def five() -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_node(1, **node("A", "caf", 4, 2, 3))
    g.add_node(2, **node("B", "ccas-cias", 2, 1, 3))
    g.add_node(3, **node("C", "siao", 1, 1, 3))
    g.add_node(4, **node("D", "mutualite-sociale-agricole", 3, 0, 1))
    g.add_node(5, **node("E", "association", 0, 0, 0))
    g.add_edge(
        1,
        2,
        **tie(
            2,
            formal=1,
            informal=1,
            practices={"referral": 2, "joint_support": 1},
            thematiques={"logement-hebergement": 1},
            quality=3.5,
        ),
    )
    g.add_edge(2, 1, **tie(1, informal=1, practices={"referral": 1}))
    g.add_edge(1, 3, **tie(1, both=1, practices={"case_conference": 1}))
    g.add_edge(2, 3, **tie(1, formal=1))
    g.add_edge(
        3,
        4,
        **tie(
            1,
            informal=1,
            declarations=2,
            practices={"referral": 1},
            thematiques={"logement-hebergement": 1},
        ),
    )
    return g


def star(leaves: int = 4) -> nx.DiGraph:
    """A centre named by every leaf, nobody else: the textbook case of centralisation 1."""
    g = nx.DiGraph()
    g.add_node(0, **node("Centre", "caf", 1, 1, leaves))
    for i in range(1, leaves + 1):
        g.add_node(i, **node(f"Feuille {i}", "association", 1, 1, 1))
        g.add_edge(i, 0, **tie(1, informal=1))
    return g


def two_triangles() -> nx.DiGraph:
    """Two mutual triangles {1,2,3} and {4,5,6} joined by one tie 3→4."""
    g = nx.DiGraph()
    for i in range(1, 7):
        g.add_node(i, **node(f"S{i}", "association", 1, 1, 2))
    for group in ((1, 2, 3), (4, 5, 6)):
        for u in group:
            for v in group:
                if u != v:
                    g.add_edge(u, v, **tie(1, informal=1))
    g.add_edge(3, 4, **tie(1, formal=1))
    return g

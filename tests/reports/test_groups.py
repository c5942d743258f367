"""reports.groups: the structure graph by family and by zone, checked by hand on FIVE."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from reports import figures, groups
from tests.reports.handmade import five, node, tie


def test_by_family_on_five_by_hand():
    # A (caf) and D (MSA): « protection »; B (ccas-cias): « communes »; C (siao):
    # « logement »; E (association): « associations ». Links (unordered): A–B carried by
    # 2 + 1 = 3 people, formal, mutual; A–C 1 person, formal (« both »); B–C 1 person,
    # formal; C–D 1 person, informal.
    gm = groups.by_family(five())
    assert gm.level == "famille"
    assert [gr.key for gr in gm.groups] == ["protection", "communes", "logement", "associations"]
    prot = gm.group("protection")
    assert prot is not None and prot.family is not None
    assert prot.label == "Caisses de protection sociale"
    # A invited 4 and 2 answered; D invited 3, nobody answered.
    assert (prot.structures, prot.invited, prot.responded, prot.answered) == (2, 7, 2, 1)
    assert prot.response_rate == pytest.approx(2 / 7)
    assert gm.group("associations").response_rate is None  # E: nobody invited
    assert all(gr.links_inside == 0 for gr in gm.groups)

    pl = gm.tie("logement", "protection")  # either order
    assert pl is not None and (pl.a, pl.b) == ("protection", "logement")
    # A–C and C–D: two links, A–C formal, both carried by one person, neither mutual.
    assert (pl.links, pl.formal, pl.fragile, pl.mutual, pl.carriers) == (2, 1, 2, 0, 2)
    assert pl.share_formal == 0.5 and pl.share_fragile == 1.0
    pc = gm.tie("protection", "communes")
    assert (pc.links, pc.formal, pc.fragile, pc.mutual, pc.carriers) == (1, 1, 0, 1, 3)
    cl = gm.tie("communes", "logement")
    assert (cl.links, cl.formal, cl.fragile, cl.mutual, cl.carriers) == (1, 1, 1, 0, 1)
    assert gm.tie("associations", "protection") is None
    # Heaviest first; among equals, by the families' order.
    assert [(t.a, t.b) for t in gm.ties] == [
        ("protection", "logement"),
        ("protection", "communes"),
        ("communes", "logement"),
    ]
    assert gm.matrix() == [[0, 1, 2, 0], [1, 0, 1, 0], [2, 1, 0, 0], [0, 0, 0, 0]]
    assert gm.links == 4


def test_a_link_inside_a_family_is_a_loop():
    g = five()
    g.add_edge(4, 1, **tie(2, formal=2))  # D → A: both « protection »
    gm = groups.by_family(g)
    loop = gm.tie("protection", "protection")
    assert loop is not None and loop.loop
    assert (loop.links, loop.formal, loop.fragile) == (1, 1, 0)
    assert gm.group("protection").links_inside == 1
    assert gm.matrix()[0][0] == 1


def test_by_zone_groups_by_name_and_keeps_no_zone_last():
    g = five()
    for n, z in {1: "Nord", 2: "Nord", 3: "Sud", 4: "", 5: ""}.items():
        g.nodes[n]["zone"] = z
    gm = groups.by_zone(g)
    assert gm is not None and gm.level == "zone"
    assert [(gr.key, gr.label) for gr in gm.groups] == [
        ("Nord", "Nord"),
        ("Sud", "Sud"),
        ("", "Hors zone"),
    ]
    # Nord–Nord: A–B; Nord–Sud: A–C and B–C; Sud–Hors zone: C–D.
    assert gm.matrix() == [[1, 2, 0], [2, 0, 1], [0, 1, 0]]
    assert gm.group("Nord").links_inside == 1
    assert gm.group("").structures == 2


def test_no_zone_no_zone_map():
    assert groups.by_zone(five()) is None


def _random_graph(seed: int) -> nx.DiGraph:
    rnd = random.Random(seed)
    types = ["caf", "ccas-cias", "siao", "mission-locale", "association", "cmp", "autre"]
    g = nx.DiGraph()
    for i in range(40):
        g.add_node(i, **node(f"S{i}", rnd.choice(types), 3, rnd.randint(0, 3), 1))
        g.nodes[i]["zone"] = rnd.choice(["", "Est", "Ouest", "Centre"])
    for _ in range(150):
        a, b = rnd.sample(range(40), 2)
        g.add_edge(a, b, **tie(rnd.randint(1, 4), formal=rnd.randint(0, 1), informal=1))
    return g


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_link_counted_once_on_random_graphs(seed):
    g = _random_graph(seed)
    pairs = figures.links(g)
    for gm in (groups.by_family(g, pairs), groups.by_zone(g, pairs)):
        assert gm is not None
        m = gm.matrix()
        upper = sum(m[i][j] for i in range(len(m)) for j in range(i, len(m)))
        assert upper == len(pairs) == gm.links
        assert sum(gr.structures for gr in gm.groups) == g.number_of_nodes()
        assert sum(t.carriers for t in gm.ties) == sum(x.carriers for x in pairs)
        assert sum(t.formal for t in gm.ties) == sum(x.formal for x in pairs)


def test_positions_are_stable_and_in_the_unit_square():
    g = _random_graph(4)
    for gm in (groups.by_family(g), groups.by_zone(g)):
        pos = groups.group_positions(gm)
        assert set(pos) == {gr.key for gr in gm.groups}
        assert all(0 <= x <= 1 and 0 <= y <= 1 for x, y in pos.values())
        assert groups.group_positions(gm) == pos  # same data, same map
    # A family keeps its place whatever the others: « protection » (first) at the top.
    fam = groups.group_positions(groups.by_family(g))
    assert fam["protection"] == pytest.approx((0.5, 0.12))

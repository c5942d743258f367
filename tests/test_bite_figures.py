"""The figures of docs/metrics.md (reports/figures.py) on small hand-made graphs, where the
existing tests left a behaviour unpinned (mutation testing, docs/testing.md): the order
lists are shown in (names compared without case), per-type counts, the edge cases of the
formulas (empty graph, 1, 2 and 3 structures, 1,500 structures), which tie a one-sided link
is listed from, the communities' algorithm and seed, and the obstacles read from the
database, live and frozen. Every expected number is worked out by hand in a comment."""

from __future__ import annotations

import random

import igraph
import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports import figures, snapshot
from tests.reports.builders import Builder
from tests.reports.handmade import node, tie


def _graph(nodes: dict, ties: list) -> nx.DiGraph:
    """nodes: id -> node(...) attributes, inserted in the given order; ties: (src, dst,
    tie(...))."""
    g = nx.DiGraph()
    for n, attrs in nodes.items():
        g.add_node(n, **attrs)
    for a, b, attrs in ties:
        g.add_edge(a, b, **attrs)
    return g


# --- participation -------------------------------------------------------------------------


def test_participation_per_structure_per_type_and_in_total():
    g = _graph(
        {
            1: node("beta", "caf", 3, 1, 0),
            2: node("Alpha", "caf", 2, 0, 0),
            3: node("gamma", "association", 0, 0, 0),
            4: node("Delta", "mission-locale", 1, 1, 0),
            5: node("epsilon", "mutualite-sociale-agricole", 2, 2, 0),
            6: node("zulu", "caf", 1, 1, 0),
        },
        [],
    )
    p = figures.participation(g)
    # Structures by name, case ignored (Alpha, beta, Delta…, not Alpha, Delta, beta).
    assert [r["name"] for r in p["structures"]] == [
        "Alpha",
        "beta",
        "Delta",
        "epsilon",
        "gamma",
        "zulu",
    ]
    rows = {r["name"]: r for r in p["structures"]}
    assert rows["beta"] == {
        "id": 1, "name": "beta", "type": "caf", "type_label": "CAF", "invited": 3,
        "responded": 1, "rate": pytest.approx(1 / 3), "answered": True,
    }  # fmt: skip
    assert rows["gamma"]["rate"] is None and rows["gamma"]["answered"] is False
    # Per type, by label, case ignored: « Autre association », « CAF », « Mission locale »,
    # « MSA » (« MSA » would come before « Mission locale » if case counted).
    assert p["by_type"] == [
        {"type": "association", "type_label": "Autre association", "structures": 1,
         "structures_answered": 0, "invited": 0, "responded": 0, "rate": None},
        # CAF: Alpha (2 invited, 0 responded), beta (3, 1), zulu (1, 1): 3 structures,
        # 2 answered, 2 / 6.
        {"type": "caf", "type_label": "CAF", "structures": 3, "structures_answered": 2,
         "invited": 6, "responded": 2, "rate": pytest.approx(1 / 3)},
        {"type": "mission-locale", "type_label": "Mission locale", "structures": 1,
         "structures_answered": 1, "invited": 1, "responded": 1, "rate": 1.0},
        {"type": "mutualite-sociale-agricole", "type_label": "MSA", "structures": 1,
         "structures_answered": 1, "invited": 2, "responded": 2, "rate": 1.0},
    ]  # fmt: skip
    # In total: invited 3+2+0+1+2+1 = 9, responded 1+0+0+1+2+1 = 5 → 5/9; 4 of 6 answered.
    assert (p["invited"], p["responded"]) == (9, 5) and p["rate"] == pytest.approx(5 / 9)
    assert (p["structures_total"], p["structures_answered"]) == (6, 4)


def test_a_structure_without_a_name_is_shown_by_its_key():
    g = nx.DiGraph()
    g.add_node(7, invited=1, responded=1, answered=True)
    assert figures.participation(g)["structures"][0]["name"] == "7"


# --- size ----------------------------------------------------------------------------------


def test_size_lists_isolated_structures_with_their_answer():
    g = _graph(
        {
            1: node("Bob", "caf", 1, 1, 0),  # isolated, answered: isolated by its own answer
            2: node("ann", "caf", 1, 0, 0),  # isolated, did not answer: unknown
            3: node("carl", "caf", 1, 1, 1),
            4: node("Dora", "caf", 1, 1, 2),
            5: node("eve", "caf", 1, 1, 1),
            6: node("fay", "caf", 1, 1, 1),
            7: node("gus", "caf", 1, 0, 1),
        },
        [(3, 4, tie(1, informal=1)), (5, 4, tie(1, informal=1)), (6, 7, tie(1, informal=1))],
    )
    s = figures.size(g)
    # n = 7, m = 3 ties, L = 3 links: density 3 / (7·6) = 1/14, link density 3 / 21 = 1/7.
    assert (s["structures"], s["ties"], s["links"]) == (7, 3, 3)
    assert s["density"] == pytest.approx(1 / 14) and s["link_density"] == pytest.approx(1 / 7)
    # Components {carl, Dora, eve}, {fay, gus}, {Bob}, {ann}: two with links.
    assert (s["components"], s["components_with_links"], s["largest_component"]) == (4, 2, 3)
    # By name, case ignored: ann before Bob.
    assert s["isolated"] == [
        {"id": 2, "name": "ann", "answered": False},
        {"id": 1, "name": "Bob", "answered": True},
    ]
    assert (s["isolated_count"], s["isolated_answered"], s["isolated_not_answered"]) == (2, 1, 1)


def test_size_of_an_empty_map_and_of_a_single_structure():
    empty = figures.size(nx.DiGraph())
    assert empty == {
        "structures": 0, "links": 0, "ties": 0, "density": None, "link_density": None,
        "components": 0, "components_with_links": 0, "largest_component": 0, "isolated": [],
        "isolated_count": 0, "isolated_answered": 0, "isolated_not_answered": 0,
    }  # fmt: skip
    one = figures.size(_graph({1: node("Seule", "caf", 1, 0, 0)}, []))
    # n(n−1) = 0: no density rather than a division by zero; one component of one.
    assert (one["density"], one["link_density"]) == (None, None)
    assert (one["components"], one["components_with_links"], one["largest_component"]) == (
        1,
        0,
        1,
    )


# --- links, reciprocity, fragility: orientation and order ---------------------------------


def _oriented() -> nx.DiGraph:
    """A, C, D, E answered, B did not. D→A one-sided (from the larger id), C→B (B silent),
    C⇄E mutual. Iterating the nodes meets {B,C} and {C,E} before {A,D}."""
    return _graph(
        {
            1: node("A", "caf", 1, 1, 1),
            2: node("B", "caf", 1, 0, 1),
            3: node("C", "caf", 1, 1, 2),
            4: node("D", "caf", 1, 1, 1),
            5: node("E", "caf", 1, 1, 1),
        },
        [
            (3, 2, tie(1, informal=1)),
            (3, 5, tie(1, informal=1)),
            (4, 1, tie(1, informal=1)),
            (5, 3, tie(1, informal=1)),
        ],
    )


def test_links_are_sorted_whatever_the_order_ties_come_in():
    pairs = [(x.a, x.b, x.ab is not None, x.ba is not None) for x in figures.links(_oriented())]
    # {A,D} named by D only (the tie b→a), {B,C} by C only, {C,E} both ways.
    assert pairs == [(1, 4, False, True), (2, 3, False, True), (3, 5, True, True)]


def test_reciprocity_lists_a_one_sided_link_from_the_structure_that_named():
    r = figures.reciprocity(_oriented())
    # Both answered: {A,D} one-sided (D names A), {C,E} mutual → 1 / 2; {B,C}: B silent.
    assert (r["mutual"], r["one_sided_count"], r["observable_links"]) == (1, 1, 2)
    assert r["rate"] == 0.5
    assert [(x["source_name"], x["target_name"]) for x in r["one_sided"]] == [("D", "A")]
    assert r["with_non_respondent"] == [
        {"source": 3, "target": 2, "source_name": "C", "target_name": "B", "mutual": False}
    ]


def test_fragile_links_are_listed_from_the_structure_that_named_in_link_order():
    f = figures.fragility(_oriented())
    # Carriers: {A,D} 1, {B,C} 1, {C,E} 1 + 1 = 2 → 2 fragile of 3, listed in link order.
    assert (f["fragile_count"], f["links"], f["share"]) == (2, 3, pytest.approx(2 / 3))
    assert f["fragile"] == [
        {"source": 4, "target": 1, "source_name": "D", "target_name": "A",
         "partner_answered": True},
        {"source": 3, "target": 2, "source_name": "C", "target_name": "B",
         "partner_answered": False},
    ]  # fmt: skip
    assert f["fragile_with_non_respondent"] == 1


def test_fragility_per_structure_order_and_people():
    g = _graph(
        {
            1: node("alpha", "caf", 1, 1, 1),  # a1 names Bravo and charlie
            2: node("Bravo", "caf", 1, 0, 1),
            3: node("charlie", "caf", 1, 0, 1),
            4: node("Delta", "caf", 1, 1, 1),  # d1 names echo
            5: node("echo", "caf", 1, 0, 3),  # d1, f1, f2
            6: node("Fox", "caf", 2, 2, 2),  # f1 and f2 name echo
        },
        [
            (1, 2, tie(1, informal=1)),
            (1, 3, tie(1, informal=1)),
            (4, 5, tie(1, informal=1)),
            (6, 5, tie(2, informal=2)),
        ],
    )
    f = figures.fragility(g)
    # Links: {alpha,Bravo} 1, {alpha,charlie} 1, {Delta,echo} 1, {echo,Fox} 2 carriers.
    # alpha 2/2 fragile, Bravo 1/1, charlie 1/1, Delta 1/1, echo 1/2, Fox 0/1.
    # Order: share (highest first), then more links, then name without case.
    assert [(r["name"], r["links"], r["fragile_links"], r["share"]) for r in f["structures"]] == [
        ("alpha", 2, 2, 1.0), ("Bravo", 1, 1, 1.0), ("charlie", 1, 1, 1.0),
        ("Delta", 1, 1, 1.0), ("echo", 2, 1, 0.5), ("Fox", 1, 0, 0.0),
    ]  # fmt: skip
    assert f["all_links_fragile"] == [1, 2, 3, 4]
    # One person carries every tie of alpha, Bravo, charlie (a1) and Delta (d1).
    assert f["hanging_on_one_person"] == [
        {"id": 1, "name": "alpha", "links": 2},
        {"id": 2, "name": "Bravo", "links": 1},
        {"id": 3, "name": "charlie", "links": 1},
        {"id": 4, "name": "Delta", "links": 1},
    ]


# --- formal share and what is built together -----------------------------------------------


def test_a_link_is_formal_by_either_side():
    g = _graph(
        {n: node(name, "caf", 1, 1, 1) for n, name in ((1, "A"), (2, "B"), (3, "C"), (4, "D"))},
        [
            (2, 1, tie(1, formal=1)),  # {A,B}: formal, said by B (the tie b→a)
            (3, 4, tie(1, informal=1)),
            (4, 3, tie(1, both=1)),  # {C,D}: "both" said by D (the tie b→a)
            (1, 3, tie(1, informal=1)),  # {A,C}: informal only
        ],
    )
    f = figures.formal_share(g)
    assert (f["formal_links"], f["links"], f["share"]) == (2, 3, pytest.approx(2 / 3))
    # 4 declarations: formal 1, informal 2, both 1, unknown 0.
    assert f["declarations_by_nature"] == {"formal": 1, "informal": 2, "both": 1, "unknown": 0}


def test_built_together_orders_by_declarations_then_label_without_case():
    g = _graph(
        {n: node(name, "caf", 1, 1, 1) for n, name in ((1, "A"), (2, "B"), (3, "C"))},
        [
            (2, 1, tie(1, informal=1, practices={"referral": 1, "acc_retired": 1})),
            (3, 1, tie(1, informal=1, practices={"joint_support": 1})),
        ],
    )
    rows = figures.built_together(g)["practices"]
    # One declaration each. A code no longer in the vocabulary (a frozen year's) is shown by
    # its code. Labels without case, punctuation before letters: « acc_retired » <
    # « accompagnement conjoint » ("_" before "o") < « orientation ».
    assert [(r["code"], r["label"], r["declarations"]) for r in rows] == [
        ("acc_retired", "acc_retired", 1),
        ("joint_support", "Accompagnement conjoint", 1),
        ("referral", "Orientation", 1),
    ]
    # referral: the link {A,B} (named by B), structures A and B.
    assert (rows[2]["links"], rows[2]["structures"]) == (1, 2)
    assert figures.built_together(g)["thematiques"] == []


def _tag_table_by_sets(g: nx.DiGraph, attr: str) -> dict[str, tuple[int, int, int]]:
    """code → (declarations, links, structures) by the definition: the unordered pairs and
    the structures of the ties citing the code, collected in sets."""
    decl: dict[str, int] = {}
    pairs: dict[str, set] = {}
    for u, v, d in g.edges(data=True):
        for code, n in (d.get(attr) or {}).items():
            if n:
                decl[code] = decl.get(code, 0) + n
                pairs.setdefault(code, set()).add(frozenset((u, v)))
    return {code: (decl[code], len(pairs[code]), len(set().union(*pairs[code]))) for code in decl}


_CODES = ["referral", "joint_support", "acc_retired"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 5),
            st.integers(0, 5),
            st.dictionaries(st.sampled_from(_CODES), st.integers(0, 3), max_size=3),
        ),
        max_size=25,
    )
)
def test_built_together_counts_each_link_once_whichever_side_cites_it(ties):
    """Links named both ways, by one side or both, citing a code or with a count of 0."""
    g = nx.DiGraph()
    g.add_nodes_from((n, node(f"S{n}", "caf", 1, 1, 1)) for n in range(6))
    for a, b, practices in ties:
        if a != b:
            g.add_edge(a, b, **tie(1, informal=1, practices=practices))
    rows = figures.built_together(g)["practices"]
    assert {r["code"]: (r["declarations"], r["links"], r["structures"]) for r in rows} == (
        _tag_table_by_sets(g, "practices")
    )


# --- centrality ----------------------------------------------------------------------------


def _path5() -> nx.DiGraph:
    """Alpha – bravo – Charlie – Delta – echo (ids 1..5), ties 1→2, 3→2, 3→4, 4→5, 5→4."""
    return _graph(
        {
            1: node("Alpha", "caf", 1, 1, 1),
            2: node("bravo", "caf", 1, 0, 2),
            3: node("Charlie", "caf", 1, 1, 1),
            4: node("Delta", "caf", 1, 1, 2),
            5: node("echo", "caf", 1, 1, 2),
        },
        [
            (1, 2, tie(1, informal=1)),
            (3, 2, tie(1, informal=1)),
            (3, 4, tie(1, informal=1)),
            (4, 5, tie(1, informal=1)),
            (5, 4, tie(1, informal=1)),
        ],
    )


@pytest.mark.parametrize("engine", [figures.IgraphEngine, figures.NetworkxEngine])
def test_centrality_orders_by_partners_then_names_received_then_name(engine):
    g = _path5()
    c = figures.centrality(g, engine=engine(figures.undirected(g)))
    rows = {r["name"]: r for r in c["structures"]}
    # Degrees 1, 2, 2, 2, 1; names received: bravo 2 (Alpha, Charlie), Delta 2 (Charlie,
    # echo), Charlie 0, echo 1, Alpha 0; names given: Charlie 2.
    assert [(r["degree"], r["in_degree"], r["out_degree"]) for r in c["structures"]] == [
        (2, 2, 0), (2, 2, 1), (2, 0, 2), (1, 1, 1), (1, 0, 1),
    ]  # fmt: skip
    # bravo and Delta tie on both: by name without case (bravo < delta).
    assert [r["name"] for r in c["most_connected"]] == [
        "bravo",
        "Delta",
        "Charlie",
        "echo",
        "Alpha",
    ]
    # Betweenness on the path, over (5−1)(5−2)/2 = 6 pairs: bravo is on Alpha–{Charlie, Delta,
    # echo}: 3/6; Charlie on {Alpha, bravo}–{Delta, echo}: 4/6; Delta on {A, b, C}–echo: 3/6.
    assert rows["Charlie"]["betweenness"] == pytest.approx(2 / 3)
    assert rows["bravo"]["betweenness"] == pytest.approx(0.5)
    assert rows["Alpha"]["betweenness"] == 0
    assert [r["name"] for r in c["brokers"]] == ["Charlie", "bravo", "Delta"]
    # Freeman: d_max 2, Σ(2 − d) = 1 + 0 + 0 + 0 + 1 = 2, over (5−1)(5−2) = 12.
    assert c["degree_centralisation"] == pytest.approx(1 / 6)
    assert c["betweenness_exact"] is True


def test_centrality_shows_the_top_ten():
    # A path S00 → S01 → … → S12: the 11 inner structures have 2 partners and 1 name
    # received each, by name: S01…S10. Betweenness of S_i: i·(12 − i) pairs over 12·11/2 = 66:
    # S06 36, S05 S07 35, S04 S08 32, S03 S09 27, S02 S10 20, S01 S11 11 (S11 is 11th).
    g = _graph(
        {i: node(f"S{i:02}", "caf", 1, 1, 1) for i in range(13)},
        [(i, i + 1, tie(1, informal=1)) for i in range(12)],
    )
    c = figures.centrality(g)
    assert len(c["structures"]) == 13
    assert [r["name"] for r in c["most_connected"]] == [f"S{i:02}" for i in range(1, 11)]
    brokers = [(r["name"], round(r["betweenness"] * 66)) for r in c["brokers"]]
    assert brokers == [
        ("S06", 36), ("S05", 35), ("S07", 35), ("S04", 32), ("S08", 32), ("S03", 27),
        ("S09", 27), ("S02", 20), ("S10", 20), ("S01", 11),
    ]  # fmt: skip
    assert [r["name"] for r in figures.centrality(g, top=2)["brokers"]] == ["S06", "S05"]


@pytest.mark.parametrize("engine", [figures.IgraphEngine, figures.NetworkxEngine])
def test_centrality_of_one_two_and_three_structures(engine):
    def run(g):
        return figures.centrality(g, engine=engine(figures.undirected(g)))

    one = run(_graph({1: node("A", "caf", 1, 1, 0)}, []))
    assert one["structures"][0]["betweenness"] == 0 and one["degree_centralisation"] is None
    two = run(_graph({1: node("A", "caf", 1, 1, 1), 2: node("B", "caf", 1, 0, 1)},
                     [(1, 2, tie(1, informal=1))]))  # fmt: skip
    # Nobody stands between two structures: no broker; centralisation undefined (n < 3).
    assert [r["betweenness"] for r in two["structures"]] == [0, 0]
    assert two["brokers"] == [] and two["degree_centralisation"] is None
    three = run(
        _graph(
            {
                1: node("A", "caf", 1, 1, 1),
                2: node("B", "caf", 1, 1, 2),
                3: node("C", "caf", 1, 0, 1),
            },
            [(1, 2, tie(1, informal=1)), (2, 3, tie(1, informal=1))],
        )
    )
    # A – B – C: B is on the only pair {A, C}, over (3−1)(3−2)/2 = 1: betweenness 1.
    # Freeman: Σ(2 − d) = 1 + 0 + 1 = 2 over (3−1)(3−2) = 2: 1, a star.
    assert [(r["name"], r["betweenness"]) for r in three["brokers"]] == [("B", pytest.approx(1.0))]
    assert three["degree_centralisation"] == pytest.approx(1.0)


def _long_path(n: int) -> nx.DiGraph:
    return _graph(
        {i: node(f"S{i:04}", "caf", 1, 1, 1) for i in range(n)},
        [(i, i + 1, tie(1, informal=1)) for i in range(n - 1)],
    )


def test_betweenness_is_exact_up_to_1500_structures():
    # docs/metrics.md: exact up to 1,500 structures; above, from k sampled sources if asked.
    g = _long_path(1500)
    assert figures.centrality(g, betweenness_k=10)["betweenness_exact"] is True
    g = _long_path(1501)
    assert figures.centrality(g)["betweenness_exact"] is True  # no k asked
    assert figures.centrality(g, betweenness_k=1501)["betweenness_exact"] is True  # k ≥ n
    sampled = figures.centrality(g, betweenness_k=10)
    assert sampled["betweenness_exact"] is False
    # Sources drawn as networkx draws them, seed 42: the same estimate.
    expected = nx.betweenness_centrality(figures.undirected(g), k=10, normalized=True, seed=42)
    got = {r["id"]: r["betweenness"] for r in sampled["structures"]}
    assert got == pytest.approx(expected, abs=1e-9)


# --- communities ---------------------------------------------------------------------------


def test_communities_numbered_from_the_largest_then_by_first_name():
    g = _graph(
        {
            1: node("echo", "caf", 1, 1, 2),
            2: node("Foxtrot", "caf", 1, 1, 2),
            3: node("golf", "caf", 1, 1, 2),
            4: node("bravo", "caf", 1, 1, 1),
            5: node("xray", "caf", 1, 1, 1),
            6: node("Charlie", "caf", 1, 1, 1),
            7: node("Delta", "caf", 1, 1, 1),
            8: node("hotel", "caf", 1, 0, 0),
            9: node("India", "caf", 1, 0, 0),
        },
        [
            (1, 2, tie(1, informal=1)),
            (2, 3, tie(1, informal=1)),
            (3, 1, tie(1, informal=1)),
            (4, 5, tie(1, informal=1)),
            (6, 7, tie(1, informal=1)),
        ],
    )
    c = figures.communities(g)
    # Three separate groups: the triangle (3), then the two pairs by first name, case
    # ignored: « bravo » (names bravo, xray) before « Charlie » (Charlie, Delta).
    assert [(x["number"], x["size"], x["members"]) for x in c["communities"]] == [
        (1, 3, [1, 2, 3]), (2, 2, [4, 5]), (3, 2, [6, 7]),
    ]  # fmt: skip
    assert c["communities"][0]["names"] == ["Foxtrot", "echo", "golf"]
    assert c["count"] == 3
    # m = 5 (weights 1): triangle 3/5 − (6/10)² = 0.24; each pair 1/5 − (2/10)² = 0.16.
    assert c["modularity"] == pytest.approx(0.24 + 2 * 0.16)
    assert c["isolated"] == [8, 9]  # hotel, India: by name, case ignored
    assert figures.community_of(g) == {1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 6: 3, 7: 3}


def _random_map(n: int, seed: int) -> nx.DiGraph:
    """n structures, random ties (carriers 1 to 4), a few isolated structures."""
    rng = random.Random(seed)
    g = nx.DiGraph()
    for i in range(n):
        g.add_node(i, **node(f"S{i:03}", "caf", 1, 1, 1))
    for i in range(n - 5):  # the last five stay isolated
        for _ in range(3):
            j = rng.randrange(n - 5)
            if j != i:
                g.add_edge(i, j, **tie(rng.randint(1, 4), informal=1))
    return g


def _partition(c: dict) -> set[frozenset]:
    return {frozenset(x["members"]) for x in c["communities"]}


def _networkx_reference(g: nx.DiGraph) -> set[frozenset]:
    """docs/metrics.md: networkx's Louvain, seed 42, weight = carriers, on the structures
    having at least one link."""
    u = figures.undirected(g)
    linked = u.subgraph([n for n in u if u.degree(n)])
    parts = nx.community.louvain_communities(linked, weight="weight", seed=42)
    return {frozenset(p) for p in parts}


def _igraph_reference(g: nx.DiGraph) -> set[frozenset]:
    """docs/metrics.md: igraph's community_multilevel, seed 42, weight = carriers."""
    u = figures.undirected(g)
    nodes = list(u)
    index = {n: i for i, n in enumerate(nodes)}
    graph = igraph.Graph(n=len(nodes), edges=[(index[a], index[b]) for a, b in u.edges()])
    graph.es["weight"] = [w for _, _, w in u.edges(data="weight")]
    igraph.set_random_number_generator(random.Random(42))
    try:
        membership = graph.community_multilevel(weights="weight").membership
    finally:
        igraph.set_random_number_generator(random)
    groups: dict[int, set] = {}
    for i, c in enumerate(membership):
        if u.degree(nodes[i]):
            groups.setdefault(c, set()).add(nodes[i])
    return {frozenset(p) for p in groups.values()}


def test_communities_up_to_200_structures_are_networkx_louvain_seed_42():
    g = _random_map(200, seed=3)
    assert _networkx_reference(g) != _igraph_reference(g)  # the two differ on this map
    c = figures.communities(g)
    assert _partition(c) == _networkx_reference(g)
    assert c["isolated"] == [195, 196, 197, 198, 199]


def test_communities_above_200_structures_are_igraph_louvain_seed_42():
    g = _random_map(201, seed=3)
    assert _networkx_reference(g) != _igraph_reference(g)  # the two differ on this map
    random.seed(7)  # whatever the process's random state
    c = figures.communities(g)
    assert _partition(c) == _igraph_reference(g)
    u = figures.undirected(g)
    parts = [set(x["members"]) for x in c["communities"]]
    linked = u.subgraph([n for n in u if u.degree(n)])
    assert c["modularity"] == pytest.approx(
        nx.community.modularity(linked, parts, weight="weight"), abs=1e-9
    )
    assert c["isolated"] == [196, 197, 198, 199, 200]
    # The same again, after other draws from igraph's generator.
    igraph.Graph.Erdos_Renyi(n=30, p=0.2)
    assert figures.communities(g) == c
    # The tests' reference (all_figures_networkx) keeps networkx's Louvain at any size.
    assert _partition(figures.all_figures_networkx(g)["communities"]) == _networkx_reference(g)


def test_communities_of_a_large_map_with_no_link_or_one():
    g = _graph({i: node(f"S{i:03}", "caf", 1, 0, 0) for i in range(201)}, [])
    c = figures.communities(g)
    # No link: no community, no modularity (not 0: nothing to measure), all isolated.
    assert (c["count"], c["communities"], c["modularity"]) == (0, [], None)
    assert len(c["isolated"]) == 201
    g.add_edge(0, 1, **tie(1, informal=1))
    c = figures.communities(g)
    # One link: one community {S000, S001}; Q = 1/1 − (2/2)² = 0.
    assert [x["members"] for x in c["communities"]] == [[0, 1]]
    assert c["modularity"] == pytest.approx(0.0)


# --- obstacles (database) ------------------------------------------------------------------


def _obstacle_territory(session):
    """caf1 (lack_of_time, turnover), caf2 (turnover) at CAF; ml1 (turnover) at the mission
    locale and old1 (admin_delays) at OLD, merged into it; msa1 at the MSA cites nothing;
    msa2 (MSA) invited, only a draft citing turnover. Last year caf1 cited unknown_missions."""
    b = Builder.start(session)
    before = b.campaign(2025, "closed")
    c = b.campaign(2026, "open")
    b.org("caf", "caf")
    b.org("ml", "mission-locale")
    b.org("msa", "mutualite-sociale-agricole")
    b.org("old", "association", status="merged", merged_into="ml")
    for key, org in (("caf1", "caf"), ("caf2", "caf"), ("ml1", "ml"), ("old1", "old"),
                     ("msa1", "msa"), ("msa2", "msa")):  # fmt: skip
        b.pro(key, org)
    b.invite(c, "caf1", "caf2", "ml1", "msa1", "msa2")
    b.respond(before, "caf1", [], obstacles=("unknown_missions",))
    b.respond(
        c, "caf1", [{"org": "ml", "nature": "formal"}], obstacles=("lack_of_time", "turnover")
    )
    b.respond(c, "caf2", [], obstacles=("turnover",))
    b.respond(c, "ml1", [{"org": "caf", "nature": "informal"}], obstacles=("turnover",))
    b.respond(c, "old1", [], obstacles=("admin_delays",))
    b.respond(c, "msa1", [])
    b.respond(c, "msa2", [], status="draft", obstacles=("turnover",))
    session.commit()
    return b, c


EXPECTED_OBSTACLES = {
    # Respondents: CAF 2, mission locale 2 (ml1 and old1, merged in), MSA 1 (msa1).
    "respondents": 5,
    # turnover: caf1, caf2, ml1 = 3; then 1 each, by code: admin_delays, lack_of_time.
    "totals": [
        {"code": "turnover", "label": "Turn-over", "responses": 3},
        {"code": "admin_delays", "label": "Délais administratifs", "responses": 1},
        {"code": "lack_of_time", "label": "Manque de temps", "responses": 1},
    ],
    # By label, case ignored: CAF, Mission locale, MSA.
    "by_type": [
        {"type": "caf", "type_label": "CAF", "respondents": 2,
         "obstacles": {"lack_of_time": 1, "turnover": 2}},
        {"type": "mission-locale", "type_label": "Mission locale", "respondents": 2,
         "obstacles": {"admin_delays": 1, "turnover": 1}},
        {"type": "mutualite-sociale-agricole", "type_label": "MSA", "respondents": 1,
         "obstacles": {}},
    ],
}  # fmt: skip

# Only CAF and MSA: caf1, caf2, msa1; turnover 2, lack_of_time 1.
EXPECTED_CAF_MSA = {
    "respondents": 3,
    "totals": [
        {"code": "turnover", "label": "Turn-over", "responses": 2},
        {"code": "lack_of_time", "label": "Manque de temps", "responses": 1},
    ],
    "by_type": [EXPECTED_OBSTACLES["by_type"][0], EXPECTED_OBSTACLES["by_type"][2]],
}
CAF_MSA = frozenset({"caf", "mutualite-sociale-agricole"})


def test_obstacles_of_an_open_campaign(session):
    _, c = _obstacle_territory(session)
    assert figures.obstacles(session, c) == EXPECTED_OBSTACLES
    assert figures.obstacles(session, c, CAF_MSA) == EXPECTED_CAF_MSA


def test_obstacles_of_a_closed_campaign_are_those_frozen_at_close(session):
    b, c = _obstacle_territory(session)
    snapshot.close(session, c)
    session.commit()
    # After the close the CAF changes type and a late answer cites another code: the frozen
    # figures do not move.
    b.orgs["caf"].type = "association"
    session.add(b.orgs["caf"])
    b.pro("late", "msa")
    b.respond(c, "late", [], obstacles=("xx_unknown",))
    session.commit()
    assert figures.obstacles(session, c) == EXPECTED_OBSTACLES
    assert figures.obstacles(session, c, CAF_MSA) == EXPECTED_CAF_MSA


def test_an_obstacle_code_outside_the_vocabulary_is_shown_by_its_code(session):
    b = Builder.start(session)
    c = b.campaign(2026, "open")
    b.org("caf", "caf")
    b.pro("caf1", "caf")
    b.respond(c, "caf1", [], obstacles=("retired_code",))
    session.commit()
    assert figures.obstacles(session, c)["totals"] == [
        {"code": "retired_code", "label": "retired_code", "responses": 1}
    ]


def test_punctuation_comes_before_letters_in_every_list():
    """Names are compared without case, and a name starting with a bracket comes before
    letters, like one starting with a parenthesis or a quote (the order of lower case;
    upper case would put "[" after "Z")."""
    # Two pairs: Alpha → beta and zeta → [Relais] Nord; two paths a1 – [Pivot] Est – a3 and
    # b1 – Pont – b3.
    g = _graph(
        {
            1: node("Alpha", "caf", 1, 1, 1),
            2: node("beta", "caf", 1, 0, 1),
            3: node("zeta", "caf", 1, 1, 1),
            4: node("[Relais] Nord", "caf", 1, 0, 1),
        },
        [(1, 2, tie(1, informal=1)), (3, 4, tie(1, informal=1))],
    )
    names = [r["name"] for r in figures.participation(g)["structures"]]
    assert names == ["[Relais] Nord", "Alpha", "beta", "zeta"]
    # Every structure has one partner; beta and [Relais] Nord are named once.
    most = [r["name"] for r in figures.centrality(g)["most_connected"]]
    assert most == ["[Relais] Nord", "beta", "Alpha", "zeta"]
    # Each link is fragile, each structure's only link: share 1, 1 link, by name.
    f = figures.fragility(g)
    assert [r["name"] for r in f["structures"]] == ["[Relais] Nord", "Alpha", "beta", "zeta"]
    assert [r["name"] for r in f["hanging_on_one_person"]] == names
    # Two communities of two: the first names are « Alpha » and « [Relais] Nord ».
    c = figures.communities(g)
    assert [x["members"] for x in c["communities"]] == [[4, 3], [1, 2]]
    alone = _graph({1: node("Alpha", "caf", 1, 1, 0), 2: node("[Ancien] CCAS", "caf", 1, 0, 0)}, [])
    assert [x["name"] for x in figures.size(alone)["isolated"]] == ["[Ancien] CCAS", "Alpha"]
    assert figures.communities(alone)["isolated"] == [2, 1]
    paths = _graph(
        {
            1: node("a1", "caf", 1, 1, 1),
            2: node("[Pivot] Est", "caf", 1, 1, 2),
            3: node("a3", "caf", 1, 1, 1),
            4: node("b1", "caf", 1, 1, 1),
            5: node("Pont", "caf", 1, 1, 2),
            6: node("b3", "caf", 1, 1, 1),
        },
        [(1, 2, tie(1)), (2, 3, tie(1)), (4, 5, tie(1)), (5, 6, tie(1))],
    )
    # [Pivot] Est and Pont each stand on one pair of 10: 0.1 each, by name.
    brokers = figures.centrality(paths)["brokers"]
    assert [(r["name"], r["betweenness"]) for r in brokers] == [
        ("[Pivot] Est", pytest.approx(0.1)),
        ("Pont", pytest.approx(0.1)),
    ]


# --- all at once ---------------------------------------------------------------------------


def test_all_figures_serves_each_figure_under_its_name():
    """What a figures page and the API read (app/graph_view.py, the JSON API): each section
    of docs/metrics.md under its function's name, equal to that function's own answer."""
    g = _oriented()
    out = figures.all_figures(g)
    assert out == {
        "participation": figures.participation(g),
        "size": figures.size(g),
        "reciprocity": figures.reciprocity(g),
        "formal_share": figures.formal_share(g),
        "built_together": figures.built_together(g),
        "centrality": figures.centrality(g),
        "communities": figures.communities(g),
        "fragility": figures.fragility(g),
        "headline": figures.headline(g),
    }

"""Every figure on hand-made graphs; expected numbers are worked out by hand (see handmade.py
for the graphs and the comments here for the arithmetic)."""

from __future__ import annotations

import networkx as nx
import pytest

from reports import figures
from tests.reports.handmade import five, star, two_triangles

A, B, C, D, E = 1, 2, 3, 4, 5


def test_links_are_unordered_pairs():
    # Ties A→B, B→A, A→C, B→C, C→D: the pair {A,B} is met from both sides but counted once.
    pairs = [(x.a, x.b, x.carriers, x.mutual) for x in figures.links(five())]
    assert pairs == [(A, B, 3, True), (A, C, 1, False), (B, C, 1, False), (C, D, 1, False)]


def test_participation():
    p = figures.participation(five())
    # invited 4+2+1+3+0 = 10, responded 2+1+1+0+0 = 4 → 0.4; A, B and C answered.
    assert (p["invited"], p["responded"], p["rate"]) == (10, 4, 0.4)
    assert p["structures_answered"] == 3
    rows = {r["name"]: r for r in p["structures"]}
    assert rows["A"]["rate"] == 0.5 and rows["D"]["rate"] == 0.0
    assert rows["E"]["rate"] is None  # nobody invited: no rate rather than 0 %
    by_type = {t["type"]: t for t in p["by_type"]}
    assert by_type["caf"]["invited"] == 4 and by_type["caf"]["rate"] == 0.5
    assert len(by_type) == 5


def test_size():
    s = figures.size(five())
    # 5 structures, 5 ties, 4 links; density 5 / (5·4) = 0.25; link density 4 / 10 = 0.4.
    assert (s["structures"], s["ties"], s["links"]) == (5, 5, 4)
    assert s["density"] == pytest.approx(0.25)
    assert s["link_density"] == pytest.approx(0.4)
    # Components {A,B,C,D} and {E}; E is isolated and did not answer (unknown, not "alone").
    assert (s["components"], s["components_with_links"], s["largest_component"]) == (2, 1, 4)
    assert [i["name"] for i in s["isolated"]] == ["E"]
    assert (s["isolated_answered"], s["isolated_not_answered"]) == (0, 1)


def test_reciprocity_counts_non_respondents_apart():
    r = figures.reciprocity(five())
    # Both sides answered: {A,B} mutual, {A,C} and {B,C} one-sided → 1/3.
    # {C,D}: D did not answer, so the pair is set apart, not read as "D does not name C".
    assert r["mutual"] == 1 and r["one_sided_count"] == 2
    assert r["rate"] == pytest.approx(1 / 3)
    assert [(x["source_name"], x["target_name"]) for x in r["one_sided"]] == [
        ("A", "C"),
        ("B", "C"),
    ]
    assert r["with_non_respondent_count"] == 1
    assert r["with_non_respondent"][0]["source_name"] == "C"


def test_formal_share():
    f = figures.formal_share(five())
    # {A,B} (A→B formal), {A,C} (both), {B,C} (formal) are formal; {C,D} informal → 3/4.
    assert (f["formal_links"], f["links"], f["share"]) == (3, 4, 0.75)
    # Declarations: formal 2 (A→B, B→C), informal 3 (A→B, B→A, C→D), both 1 (A→C),
    # C→D has 2 declarations of which one has no nature → unknown 1; total 7.
    assert f["declarations"] == 7
    assert f["declarations_by_nature"] == {"formal": 2, "informal": 3, "both": 1, "unknown": 1}


def test_built_together():
    b = figures.built_together(five())
    practices = {p["code"]: p for p in b["practices"]}
    # referral: 2 (A→B) + 1 (B→A) + 1 (C→D) = 4 declarations on links {A,B} and {C,D}.
    assert practices["referral"] == {
        "code": "referral", "label": "Orientation", "declarations": 4, "links": 2, "structures": 4,
    }  # fmt: skip
    assert (practices["joint_support"]["declarations"], practices["joint_support"]["links"]) == (
        1,
        1,
    )
    assert [p["code"] for p in b["practices"]] == ["referral", "joint_support", "case_conference"]
    (them,) = b["thematiques"]
    assert (them["code"], them["declarations"], them["links"], them["structures"]) == (
        "logement-hebergement", 2, 2, 4,
    )  # fmt: skip


def test_centrality_five():
    c = figures.centrality(five())
    rows = {r["name"]: r for r in c["structures"]}
    # Undirected links A-B, A-C, B-C, C-D: degrees A2 B2 C3 D1 E0.
    assert [rows[n]["degree"] for n in "ABCDE"] == [2, 2, 3, 1, 0]
    assert (rows["C"]["in_degree"], rows["C"]["out_degree"]) == (2, 1)
    assert [r["name"] for r in c["most_connected"]] == ["C", "A", "B", "D", "E"]
    # C is on the only shortest paths A-D and B-D: 2 / ((5-1)(5-2)/2 = 6) = 1/3.
    assert [r["name"] for r in c["brokers"]] == ["C"]
    assert rows["C"]["betweenness"] == pytest.approx(1 / 3)
    # Freeman: Σ(3 - d) = 1+1+0+2+3 = 7, divided by (5-1)(5-2) = 12.
    assert c["degree_centralisation"] == pytest.approx(7 / 12)


def test_centrality_star_and_bridge():
    s = figures.centrality(star(4))
    assert s["degree_centralisation"] == pytest.approx(1.0)  # a perfect star
    assert s["brokers"][0]["name"] == "Centre" and s["brokers"][0]["betweenness"] == pytest.approx(
        1.0
    )
    t = figures.centrality(two_triangles())
    # Degrees 2,2,3,3,2,2 → Σ(3-d) = 4, over 5·4 = 20. S3 and S4 each lie on the 6 paths
    # crossing the bridge ({S1,S2}×{S4,S5,S6} resp. {S1,S2,S3}×{S5,S6}): 6/10.
    assert t["degree_centralisation"] == pytest.approx(0.2)
    assert {r["name"]: round(r["betweenness"], 6) for r in t["brokers"]} == {"S3": 0.6, "S4": 0.6}
    assert figures.degree_centralisation(nx.path_graph(2)) is None  # undefined below 3 nodes


@pytest.mark.parametrize("engine", [figures.IgraphEngine, figures.NetworkxEngine])
def test_betweenness_approximation_is_flagged(monkeypatch, engine):
    monkeypatch.setattr(figures, "EXACT_MAX", 0)  # allow sampling on a small graph
    u = figures.undirected(two_triangles())
    c = figures.centrality(two_triangles(), betweenness_k=3, engine=engine(u))
    assert c["betweenness_exact"] is False
    exact = figures.centrality(two_triangles(), betweenness_k=100, engine=engine(u))
    assert exact["betweenness_exact"] is True
    assert {r["name"]: round(r["betweenness"], 6) for r in exact["brokers"]} == {
        "S3": 0.6,
        "S4": 0.6,
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("k", [None, 1, 2, 7, 41])
def test_igraph_betweenness_matches_networkx(seed, k):
    # igraph against networkx on random graphs, including disconnected ones and multiple
    # shortest paths, exact and from k sampled sources (the same sources, the same scale).
    u = nx.gnp_random_graph(40, 0.08 * seed, seed=seed)
    u.add_nodes_from([100, 101])  # isolated
    expected = nx.betweenness_centrality(u, k=k, normalized=True, seed=figures.BETWEENNESS_SEED)
    got = figures.IgraphEngine(u).betweenness(k)
    assert list(got) == list(u)
    assert got == pytest.approx(expected, abs=1e-9, nan_ok=True)


def test_communities_five():
    c = figures.communities(five())
    # Weights (carriers) A-B 3, A-C 1, B-C 1, C-D 1; m = 6. {A,B},{C,D}: each
    # community L/m - (d/2m)² = 3/6 - (8/12)² = 1/6 - (4/12)² = 1/18, so Q = 1/9, better than
    # one block (0) or {A,B,C},{D} (-1/72).
    assert [g["names"] for g in c["communities"]] == [["A", "B"], ["C", "D"]]
    assert c["modularity"] == pytest.approx(1 / 9)
    assert c["isolated"] == [E]
    assert figures.community_of(five()) == {A: 1, B: 1, C: 2, D: 2}


def test_communities_two_triangles_and_stable():
    c = figures.communities(two_triangles())
    assert [g["members"] for g in c["communities"]] == [[1, 2, 3], [4, 5, 6]]
    # m = 6·2 + 1 = 13; each triangle L = 6, d = 13: 6/13 - 1/4, twice.
    assert c["modularity"] == pytest.approx(2 * (6 / 13 - 0.25))
    assert figures.communities(two_triangles()) == c  # seeded: same answer every time


def test_fragility():
    f = figures.fragility(five())
    # Pair carriers: {A,B} 2+1 = 3, {A,C} 1, {B,C} 1, {C,D} 1 → 3 fragile out of 4.
    assert (f["fragile_count"], f["links"], f["share"]) == (3, 4, 0.75)
    assert [(x["source_name"], x["target_name"]) for x in f["fragile"]] == [
        ("A", "C"), ("B", "C"), ("C", "D"),
    ]  # fmt: skip
    assert f["fragile_with_non_respondent"] == 1  # C→D: D did not answer
    shares = {r["name"]: (r["links"], r["fragile_links"], r["share"]) for r in f["structures"]}
    assert shares == {"A": (2, 1, 0.5), "B": (2, 1, 0.5), "C": (3, 3, 1.0), "D": (1, 1, 1.0)}
    assert f["all_links_fragile"] == [C, D]
    # D's only link rests on c1 alone; C's links rest on a1, b1 and c1 (three people).
    assert f["hanging_on_one_person"] == [{"id": D, "name": "D", "links": 1}]


def test_fragility_threshold_is_exactly_one_carrier():
    """A pair carried by exactly 2 people is not fragile; one carried by 1 is (issue 19: a
    `carriers <= 2` threshold must fail). B→C is made 2 carriers, one-sided; A→C keeps 1."""
    g = five()
    g.edges[2, 3]["carriers"] = 2
    g.nodes[4]["link_carriers"] = 2  # D no longer hangs on one person
    f = figures.fragility(g)
    pairs = {frozenset((x.a, x.b)): x.carriers for x in figures.links(g)}
    assert pairs[frozenset((B, C))] == 2
    assert (f["fragile_count"], f["links"], f["share"]) == (2, 4, 0.5)
    assert [(x["source_name"], x["target_name"]) for x in f["fragile"]] == [
        ("A", "C"), ("C", "D"),
    ]  # fmt: skip
    shares = {r["name"]: (r["links"], r["fragile_links"], r["share"]) for r in f["structures"]}
    assert shares["B"] == (2, 0, 0.0)
    assert shares["C"] == (3, 2, pytest.approx(2 / 3))
    assert f["hanging_on_one_person"] == []


def test_fragility_star_leaves_hang_on_one_person():
    f = figures.fragility(star(3))
    assert [x["name"] for x in f["hanging_on_one_person"]] == [
        "Feuille 1",
        "Feuille 2",
        "Feuille 3",
    ]
    assert f["share"] == 1.0


def test_headline():
    assert figures.headline(five()) == {
        "response_rate": 0.4,
        "links": 4,
        "reciprocity": pytest.approx(1 / 3),
        "formal_share": 0.75,
        "fragile_share": 0.75,
    }
    t = figures.headline(two_triangles())
    # 6 mutual pairs + the one-sided bridge: reciprocity 6/7, formal 1/7, fragile 1/7.
    assert t["reciprocity"] == pytest.approx(6 / 7)
    assert t["formal_share"] == pytest.approx(1 / 7)
    assert t["fragile_share"] == pytest.approx(1 / 7)


def test_empty_graph_gives_no_rate_rather_than_errors():
    g = nx.DiGraph()
    out = figures.all_figures(g)
    assert out["headline"] == {
        "response_rate": None, "links": 0, "reciprocity": None, "formal_share": None,
        "fragile_share": None,
    }  # fmt: skip
    assert out["size"]["density"] is None and out["communities"]["count"] == 0


def test_all_figures_headline_matches_headline():
    for g in (five(), two_triangles(), star(3)):
        assert figures.all_figures(g)["headline"] == figures.headline(g)

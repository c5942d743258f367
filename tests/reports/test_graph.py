"""Graph building from the database: SQL aggregation checked against the scenario by hand."""

from __future__ import annotations

from reports import figures
from reports.graph import GraphFilter, build_graph, build_service_graph
from tests.reports import scenario


def test_nodes_participation_and_merges(session):
    b, c = scenario.build(session)
    g = build_graph(session, c)
    o = {k: v.id for k, v in b.orgs.items()}
    # Active structures + the proposed one that was named; merged, archived and foreign: no.
    assert set(g.nodes) == {o["caf"], o["ccas"], o["siao"], o["msa"], o["prop"]}
    assert g.nodes[o["prop"]]["proposed"] is True
    assert g.nodes[o["caf"]]["type_label"] == "CAF"
    part = {
        k: (g.nodes[o[k]]["invited"], g.nodes[o[k]]["responded"])
        for k in ("caf", "ccas", "siao", "msa", "prop")
    }
    # old1 answered from OLD, merged into CCAS: counted there; draft1 neither invited nor submitted.
    assert part == {"caf": (2, 2), "ccas": (2, 2), "siao": (1, 1), "msa": (1, 0), "prop": (0, 0)}
    assert g.nodes[o["msa"]]["answered"] is False
    carriers = {k: g.nodes[o[k]]["link_carriers"] for k in ("caf", "ccas", "siao", "msa", "prop")}
    # CAF: caf1, caf2, ccas1, old1; CCAS: the same + siao1; SIAO: caf1, siao1; PROP: caf2.
    assert carriers == {"caf": 4, "ccas": 5, "siao": 2, "msa": 0, "prop": 1}


def test_edges_are_aggregated(session):
    b, c = scenario.build(session)
    g = build_graph(session, c)
    o = {k: v.id for k, v in b.orgs.items()}
    assert set(g.edges) == {
        (o["caf"], o["ccas"]),
        (o["caf"], o["siao"]),
        (o["caf"], o["prop"]),
        (o["ccas"], o["caf"]),
        (o["siao"], o["ccas"]),
    }  # fmt: skip  (CAF→MSA ended, CCAS→OLD self after merge, draft: absent)
    e = g.edges[o["caf"], o["ccas"]]
    assert (e["carriers"], e["declarations"], e["formal"], e["informal"], e["both"]) == (
        2,
        2,
        1,
        1,
        0,
    )
    assert e["frequencies"] == {"weekly": 2, "monthly": 0, "quarterly": 0, "occasional": 0}
    assert e["practices"] == {"referral": 2, "rights_access": 1}
    assert e["thematiques"] == {"logement-hebergement": 1}
    assert e["quality_mean"] == 3.0  # (4 + 2) / 2
    back = g.edges[o["ccas"], o["caf"]]
    assert (back["carriers"], back["formal"], back["both"]) == (2, 1, 1)  # ccas1 and old1
    assert back["practices"] == {"rights_access": 1} and back["quality_mean"] is None
    assert "frames" not in e and "channels" not in e


def test_figures_on_the_built_graph(session):
    _, c = scenario.build(session)
    g = build_graph(session, c)
    r = figures.reciprocity(g)
    # CAF⇄CCAS mutual; CAF→SIAO and SIAO→CCAS one-sided; CAF→PROP: PROP did not answer.
    assert (r["mutual"], r["one_sided_count"], r["with_non_respondent_count"]) == (1, 2, 1)
    h = figures.headline(g)
    # invited 6, responded 5; links {CAF,CCAS} {CAF,SIAO} {CAF,PROP} {CCAS,SIAO};
    # formal: {CAF,CCAS} only; fragile (one carrier): the three others.
    assert h == {"response_rate": 5 / 6, "links": 4, "reciprocity": 1 / 3,
                 "formal_share": 0.25, "fragile_share": 0.75}  # fmt: skip


def test_filters_recompute_the_graph(session):
    b, c = scenario.build(session)
    o = {k: v.id for k, v in b.orgs.items()}
    formal = build_graph(session, c, GraphFilter(nature="formal"))
    assert set(formal.edges) == {(o["caf"], o["ccas"]), (o["ccas"], o["caf"])}
    assert formal.edges[o["caf"], o["ccas"]]["carriers"] == 1  # only caf1 answered formal
    assert formal.edges[o["ccas"], o["caf"]]["carriers"] == 2  # both + formal
    assert formal.number_of_nodes() == 5  # structures stay, their ties are filtered
    informal = build_graph(session, c, GraphFilter(nature="informal"))
    assert len(informal.edges) == 5 and informal.edges[o["caf"], o["ccas"]]["carriers"] == 1
    them = build_graph(session, c, GraphFilter(thematique="logement-hebergement"))
    assert list(them.edges(data="carriers")) == [(o["caf"], o["ccas"], 1)]
    weekly = build_graph(session, c, GraphFilter(frequency="weekly"))
    assert list(weekly.edges(data="carriers")) == [(o["caf"], o["ccas"], 2)]
    types = build_graph(session, c, GraphFilter(org_types=frozenset({"caf", "ccas-cias"})))
    assert set(types.nodes) == {o["caf"], o["ccas"]}
    assert set(types.edges) == {(o["caf"], o["ccas"]), (o["ccas"], o["caf"])}
    assert types.nodes[o["ccas"]]["link_carriers"] == 4  # siao1's tie is not shown
    assert figures.size(types)["links"] == 1


def test_service_graph(session):
    b, c = scenario.build(session)
    g = build_service_graph(session, c)
    o = {k: v.id for k, v in b.orgs.items()}
    s115 = f"s{b.services['115'].id}"
    caf, ccas = f"o{o['caf']}", f"o{o['ccas']}"
    assert (caf, s115) in g.edges and (s115, ccas) in g.edges
    assert g.nodes[s115]["name"] == "SIAO — 115"
    assert g.nodes[s115]["organisation_id"] == o["siao"]
    assert (g.nodes[s115]["invited"], g.nodes[s115]["responded"]) == (1, 1)
    assert g.edges[caf, ccas]["carriers"] == 2
    assert g.edges[caf, s115]["practices"] == {"referral": 1}


def test_obstacles_per_type(session):
    _, c = scenario.build(session)
    ob = figures.obstacles(session, c)
    assert ob["respondents"] == 5
    by_type = {t["type"]: (t["respondents"], t["obstacles"]) for t in ob["by_type"]}
    assert by_type == {
        "caf": (2, {"lack_of_time": 1, "turnover": 2}),
        "ccas-cias": (2, {"turnover": 1}),  # ccas1 and old1 (merged into CCAS)
        "siao": (1, {}),
    }
    assert ob["totals"][0] == {"code": "turnover", "label": "Turn-over", "responses": 3}


def test_other_campaign_is_isolated(session):
    b, c = scenario.build(session)
    g = build_graph(session, c)
    assert all(g.nodes[n]["name"] not in ("X", "Y") for n in g.nodes)

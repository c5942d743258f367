"""The « < 3 » rule (reports/privacy.py, docs/rgpd.md « Règle des petits effectifs ») on
hand-made figures: every count of 1 or 2 people hidden, zero and 3 shown, rates built on a
small count withheld, coordinators' copies untouched. Found unchecked by mutation testing
(docs/testing.md)."""

from __future__ import annotations

import networkx as nx
import pytest

from reports import privacy as p

SMALL = "< 3"  # in data: plain space
NBSP_SMALL = "<\u00a03"  # printed: no-break space


@pytest.mark.parametrize(
    ("n", "small"), [(None, False), (-1, False), (0, False), (1, True), (2, True), (3, False)]
)
def test_only_one_and_two_are_small(n, small):
    assert p.is_small(n) is small


def test_printed_counts():
    assert p.people(None) == "—"
    assert p.people(0) == "0"
    assert p.people(1) == NBSP_SMALL and p.people(2) == NBSP_SMALL
    assert p.people(3) == "3"


def test_printed_rates():
    assert p.rate(1, 0) == "—"  # nothing to divide by
    assert p.rate(2, 10) == "—" and p.rate(5, 2) == "—"  # built on 1 or 2 people
    assert p.rate(0, 4) == p.rate(0, 5)  # zero respondents describe nobody: a rate is shown
    assert p.rate(0, 4) != "—" and p.rate(3, 6) != "—"
    assert p.rate(3, 6) == p.rate(5, 10)  # 50 % either way


def test_data_counts_and_rates():
    assert [p.small_count(n) for n in (0, 1, 2, 3, None, "x")] == [0, SMALL, SMALL, 3, None, "x"]
    assert p.small_count(True) is True  # a flag is not a count
    assert p.small_count(SMALL) == SMALL
    assert p.small_rate(0.5, 4, 3) == 0.5
    assert p.small_rate(0.5, 4, 2) == "—" and p.small_rate(0.5, SMALL) == "—"
    assert p.small_rate(0.5) == 0.5


def test_small_groups_are_pooled_and_summed():
    rows = [
        {"type": "A", "n": 5, "by": {"x": 1}, "links": 4},
        {"type": "B", "n": 1, "by": {"x": 2, "y": 1}, "links": 3},
        {"type": "C", "n": 2, "by": {"x": 1}, "links": None},
        {"type": "D", "n": 1, "by": None, "links": 2},
    ]
    pooled = p.pool_small_groups(rows, "n", "type", "Autres", ("by", "links"))
    assert pooled[0] == rows[0]
    # B + C + D: 1 + 2 + 1 people, {x: 2 + 1, y: 1}, 3 + 0 + 2 links (by hand).
    assert pooled[1] == {"type": "Autres", "pooled": 3, "n": 4, "by": {"x": 3, "y": 1}, "links": 5}
    assert p.pool_small_groups(rows[:1], "n", "type", "Autres", ("by",)) == rows[:1]


def test_a_tie_hides_small_counts_and_its_mean_quality():
    tie = {"carriers": 2, "declarations": 4, "natures": {"a": 1, "b": 3}, "quality_mean": 2.5}
    assert p.tie_people(tie) == {
        "carriers": SMALL,
        "declarations": 4,
        "natures": {"a": SMALL, "b": 3},
        "quality_mean": None,
    }
    by_declarations = p.tie_people({"carriers": 3, "declarations": 1, "quality_mean": 2.0})
    assert by_declarations["quality_mean"] is None
    kept = p.tie_people({"carriers": 3, "declarations": 3, "quality_mean": 2.0})
    assert kept["quality_mean"] == 2.0


def test_the_graph_copy_hides_people_but_keeps_structures_and_ties():
    g = nx.DiGraph(title="t")
    g.add_node(1, name="CCAS", invited=2, responded=0, link_carriers=5, degree=1)
    g.add_edge(1, 2, carriers=1)
    h = p.suppress_graph(g)
    assert h.graph == {"title": "t"}
    assert h.nodes[1] == {
        "name": "CCAS",
        "invited": SMALL,
        "responded": 0,
        "link_carriers": 5,
        "degree": 1,
    }
    assert h.edges[1, 2] == {"carriers": SMALL, "quality_mean": None}
    assert g.nodes[1]["invited"] == 2  # the original is left as it is


def _figures() -> dict:
    row = {"invited": 2, "responded": 1, "rate": 0.5}
    return {
        "participation": row
        | {
            "structures": [
                dict(row),
                {"invited": 2, "responded": 0, "rate": 0.0},  # only the invited are few
                {"invited": 10, "responded": 1, "rate": 0.1},  # only the respondents are few
            ],
            "by_type": [{"invited": 4, "responded": 3, "rate": 0.75}],
        },
        "headline": {"response_rate": 0.5, "structures": 9},
        "response_rate": 0.5,
        "obstacles": {
            "respondents": 2,
            "totals": [{"code": "x", "responses": 1}],
            "by_type": [{"type": "A", "respondents": 1, "obstacles": {"x": 2, "y": 4}}],
        },
        "formal_share": {
            "declarations": 2,
            "declarations_by_nature": {"c": 1, "d": 5},
            "share": 0.3,
        },
        "built_together": {"practices": [{"code": "p", "declarations": 2}]},
    }


def test_public_figures_hide_every_small_count_and_its_rates():
    figs = _figures()
    out = p.suppress_figures(figs, p.PUBLIC)
    part = out["participation"]
    assert (part["invited"], part["responded"], part["rate"]) == (SMALL, SMALL, "—")
    assert [r["rate"] for r in part["structures"]] == ["—", "—", "—"]
    assert part["by_type"][0] == {"invited": 4, "responded": 3, "rate": 0.75}
    assert out["headline"] == {"response_rate": "—", "structures": 9}
    assert out["response_rate"] == "—"
    ob = out["obstacles"]
    assert ob["respondents"] == SMALL and ob["totals"][0]["responses"] == SMALL
    assert ob["by_type"][0]["respondents"] == SMALL
    assert ob["by_type"][0]["obstacles"] == {"x": SMALL, "y": 4}
    fs = out["formal_share"]
    assert fs["declarations"] == SMALL and fs["declarations_by_nature"] == {"c": SMALL, "d": 5}
    assert fs["share"] == 0.3
    assert out["built_together"] == {"practices": [{"code": "p", "declarations": SMALL}]}
    assert figs == _figures()  # the cached original is unchanged
    # Parts may be missing: nothing to hide there, and no error.
    bare = {"participation": {"invited": 3, "responded": 3, "rate": 1.0}, "obstacles": {}}
    out = p.suppress_figures(bare, p.PUBLIC)
    assert out["participation"] == bare["participation"] | {"structures": [], "by_type": []}
    assert out["obstacles"] == {"respondents": None, "totals": [], "by_type": []}
    assert p.suppress_figures(figs, p.COORDINATOR) is figs


def test_public_comparison_structure_and_table_row():
    cmp = {"kept": [{"carriers_before": 1, "carriers_after": 4, "gained": True}], "n": 2}
    assert p.suppress_comparison(cmp, p.PUBLIC) == {
        "kept": [{"carriers_before": SMALL, "carriers_after": 4, "gained": True}],
        "n": 2,
    }
    assert p.suppress_comparison(cmp, p.COORDINATOR) is cmp
    summary = {
        "invited": 1,
        "name": "CCAS",
        "partners": [
            {
                "carriers_here": 2,
                "carriers_there": 1,
                "carriers": 2,
                "natures": {"a": 1},
                "practices": [{"code": "x", "count": 2}],
                "thematiques": [{"code": "t", "count": 1}],
            },
            {"carriers_here": 3, "carriers_there": 4, "carriers": 5},
        ],
        "practices": [{"code": "y", "count": 1}],
        "thematiques": [{"code": "u", "count": 2}, {"code": "v", "count": 6}],
    }
    out = p.suppress_structure(summary, p.PUBLIC)
    assert out["invited"] == SMALL and out["name"] == "CCAS"
    partner = out["partners"][0]
    assert [partner[k] for k in ("carriers_here", "carriers_there", "carriers")] == [SMALL] * 3
    assert partner["natures"] == {"a": SMALL}
    assert partner["practices"] == [{"code": "x", "count": SMALL}]
    assert partner["thematiques"] == [{"code": "t", "count": SMALL}]
    assert out["partners"][1] == {
        "carriers_here": 3,
        "carriers_there": 4,
        "carriers": 5,
        "natures": {},
        "practices": [],
        "thematiques": [],
    }
    assert out["practices"] == [{"code": "y", "count": SMALL}]
    assert out["thematiques"] == [{"code": "u", "count": SMALL}, {"code": "v", "count": 6}]
    # A structure no one named as a partner: no partners, nothing to hide.
    assert p.suppress_structure({"invited": 4}, p.PUBLIC) == {
        "invited": 4,
        "partners": [],
        "practices": [],
        "thematiques": [],
    }
    assert p.suppress_structure(summary, p.COORDINATOR) is summary
    row = {"carriers": 2, "natures": {"a": 2}, "frequencies": [("souvent", 1), ("rarement", 7)]}
    assert p.suppress_table_row(row, p.PUBLIC) == {
        "carriers": SMALL,
        "natures": {"a": SMALL},
        "frequencies": [("souvent", SMALL), ("rarement", 7)],
    }
    assert p.suppress_table_row(row, p.COORDINATOR) is row
    assert p.audience_of(True) == p.COORDINATOR and p.audience_of(False) == p.PUBLIC


def test_public_coordination_hides_people_and_withholds_their_rates():
    d = {
        "instances": {
            "items": [{"participants": [{"respondents": 2}], "absent": [{"carriers": 1}]}]
        },
        "official": {"without_frame": [{"carriers": 2, "declarations": 2, "frequent": 1}]},
        "zones": {
            "items": [
                {"invited": 2, "responded": 2, "participation": 1.0},
                {"invited": 5, "responded": 0, "participation": 0.0},
                {"invited": 5, "responded": 4, "participation": 0.8},
                {"invited": 2, "responded": 0, "participation": 0.0},
                {"invited": 5, "responded": 1, "participation": 0.2},
            ],
            "unzoned": {"invited": 1, "responded": 2},
            "white": [{"respondents": 2}],
        },
        "quality": {
            "pairs": [
                {"answers": 2, "difficult": 0, "share": 0.0},
                {"answers": 3, "difficult": 0, "share": 0.0},
                {"answers": 5, "difficult": 1, "share": 0.2},
                {"answers": 5, "difficult": 3, "share": 0.6},
            ],
            "frames": [{"declarations": 1}],
            "formal_declarations": 2,
        },
    }
    out = p.suppress_coordination(d)
    item = out["instances"]["items"][0]
    assert item["participants"] == [{"respondents": SMALL}] and item["absent"] == [
        {"carriers": SMALL}
    ]
    assert out["official"]["without_frame"] == [
        {"carriers": SMALL, "declarations": SMALL, "frequent": SMALL}
    ]
    zones = out["zones"]["items"]
    assert zones[0] == {"invited": SMALL, "responded": SMALL, "participation": None}
    assert zones[1]["participation"] == 0.0 and zones[2]["participation"] == 0.8
    # Either side small is enough to withhold the rate.
    assert zones[3]["participation"] is None and zones[4]["participation"] is None
    assert out["zones"]["unzoned"] == {"invited": SMALL, "responded": SMALL}
    assert out["zones"]["white"] == [{"respondents": SMALL}]
    shares = [q["share"] for q in out["quality"]["pairs"]]
    assert shares == [None, 0.0, None, 0.6]  # < 3 answers, or 1–2 difficult: withheld
    assert out["quality"]["pairs"][0]["answers"] == SMALL
    assert out["quality"]["pairs"][2]["difficult"] == SMALL
    assert out["quality"]["frames"] == [{"declarations": SMALL}]
    assert out["quality"]["formal_declarations"] == SMALL
    assert d["zones"]["items"][0]["invited"] == 2  # a deep copy: the original is unchanged
    assert p.suppress_coordination({}) == {}

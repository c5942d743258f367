"""Year over year, on hand-made graphs and on two stored campaigns."""

from __future__ import annotations

import pytest

from reports import compare
from tests.reports.builders import Builder
from tests.reports.handmade import five, tie


def test_compare_graphs_by_hand():
    before = five()
    after = five()
    after.graph["year"] = 2026
    # After: A→C becomes formal, C→D gains a carrier, B→C disappears, A→D appears
    # (A answered before, so it is new), E (never answered) now names... nobody: unchanged.
    after.edges[1, 3].update(formal=1, both=0)
    after.edges[3, 4].update(carriers=2)
    after.remove_edge(2, 3)
    after.add_edge(1, 4, **tie(1, informal=1))
    out = compare.compare_graphs(before, after)
    c = out["counts"]
    assert (c["kept"], c["new"], c["lost"], c["newly_observed"], c["not_observed"]) == (
        3,
        1,
        1,
        0,
        0,
    )
    # {A,C}: both → formal, still formal (not "became formal"); {C,D}: 1 → 2 carriers.
    assert [(r["a_name"], r["b_name"]) for r in out["strengthened"]] == [("C", "D")]
    assert (c["became_formal"], c["more_carriers"], c["weakened"]) == (0, 1, 0)
    assert [(r["a_name"], r["b_name"]) for r in out["new"]] == [("A", "D")]
    assert [(r["a_name"], r["b_name"]) for r in out["lost"]] == [("B", "C")]
    # links 4 → 4; formal {A,B},{A,C},{B,C} 3/4 → {A,B},{A,C} 2/4; fragile 3/4 → {A,C},{A,D} 2/4.
    f = out["figures"]
    assert (f["links"]["before"], f["links"]["after"], f["links"]["change"]) == (4, 4, 0)
    assert f["formal_share"]["change"] == pytest.approx(-0.25)
    assert f["fragile_share"]["after"] == pytest.approx(0.5)
    assert set(f) == set(compare.CHANGED_FIGURES)


def test_non_response_is_not_a_loss():
    before = five()
    after = five()
    for n in (1, 2, 3):  # nobody answers the later year
        after.nodes[n].update(answered=False, responded=0)
    after.remove_edge(3, 4)
    after.remove_edge(2, 3)
    out = compare.compare_graphs(before, after)
    # {C,D}: C and D silent in the later year: not observed. {B,C}: same.
    assert out["counts"]["lost"] == 0 and out["counts"]["not_observed"] == 2
    out = compare.compare_graphs(after, before)
    # Reversed: those pairs appear while C and D and B were silent: newly observed.
    assert out["counts"]["new"] == 0 and out["counts"]["newly_observed"] == 2


def _two_years(session):
    """2025: caf1→CCAS informal, caf1→SIAO informal, ccas1→SIAO informal, siao1→MSA informal.
    2026: caf1 has left (inactive); caf2→CCAS formal; ccas1→SIAO, ccas1→MSA; siao1 and siao2→MSA."""
    b = Builder.start(session)
    y1, y2 = b.campaign(2025), b.campaign(2026, "open")
    for key, type_ in (
        ("caf", "caf"),
        ("ccas", "ccas-cias"),
        ("siao", "siao"),
        ("msa", "mutualite-sociale-agricole"),
    ):
        b.org(key, type_)
    for key, org in (
        ("caf1", "caf"),
        ("caf2", "caf"),
        ("ccas1", "ccas"),
        ("siao1", "siao"),
        ("siao2", "siao"),
    ):
        b.pro(key, org)
    inf = {"nature": "informal"}
    b.respond(y1, "caf1", [{"org": "ccas", **inf}, {"org": "siao", **inf}])
    b.respond(y1, "ccas1", [{"org": "siao", **inf}])
    b.respond(y1, "siao1", [{"org": "msa", **inf}])
    b.pros["caf1"].active = False
    b.respond(y2, "caf2", [{"org": "ccas", "nature": "formal"}])
    b.respond(y2, "ccas1", [{"org": "siao", **inf, "status": "confirmed"}, {"org": "msa", **inf}])
    b.respond(y2, "siao1", [{"org": "msa", **inf, "status": "confirmed"}])
    b.respond(y2, "siao2", [{"org": "msa", **inf}])
    session.commit()
    return b, y1, y2


def test_compare_two_campaigns(session):
    b, y1, y2 = _two_years(session)
    o = {k: v.id for k, v in b.orgs.items()}
    left = compare.carrier_departures(session, y1, y2)
    pair = lambda x, y: tuple(sorted((o[x], o[y])))  # noqa: E731
    # caf1 carried {CAF,CCAS} and {CAF,SIAO} alone and left; ccas1 and siao1 stayed.
    assert left == {pair("caf", "ccas"): True, pair("caf", "siao"): True,
                    pair("ccas", "siao"): False, pair("siao", "msa"): False}  # fmt: skip
    out = compare.compare(session, y1, y2)
    names = lambda rows: [{r["a_name"], r["b_name"]} for r in rows]  # noqa: E731
    assert names(out["survived_carrier_leaving"]) == [{"CAF", "CCAS"}]  # caf2 took it over
    assert names(out["lost_with_carriers"]) == [{"CAF", "SIAO"}]
    assert names(out["new"]) == [{"CCAS", "MSA"}]  # CCAS answered in 2025: a real novelty
    assert names(out["lost"]) == [{"CAF", "SIAO"}]
    strengthened = {frozenset((r["a_name"], r["b_name"])): r for r in out["strengthened"]}
    assert strengthened[frozenset(("CAF", "CCAS"))]["became_formal"] is True
    assert strengthened[frozenset(("SIAO", "MSA"))]["carriers_after"] == 2
    assert out["counts"]["kept"] == 3
    assert out["years"] == (2025, 2026)

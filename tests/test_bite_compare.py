"""Edges of year-over-year comparison (reports/compare.py) that mutation testing
(docs/testing.md) found unchecked: every class of pair and its row, the figures' changes when
one year has no value, the carriers who stayed (same structure, sent, still in post), and
the sides read from aggregates or from a snapshot, counted by hand."""

from __future__ import annotations

import pytest

from reports import compare, figures, snapshot
from reports.graph import GraphFilter, build_graph
from tests.reports.builders import Builder
from tests.reports.handmade import five

FIGS = compare.CHANGED_FIGURES


def _figs(**values: object) -> dict:
    return {**dict.fromkeys(FIGS, 0), **values}


# --- compare_sides: pure ----------------------------------------------------------------------


def test_every_kind_of_pair_with_its_row_in_text_order():
    # Before: 9 exists and goes; after: 5, 6 and 8 appear and 10 is renamed.
    names_before = {n: f"S{n}" for n in (1, 2, 3, 4, 7, 9, 10, 11, 12, 13, 14)}
    names_after = {n: f"S{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14)}
    names_after[10] = "S10 (nouveau nom)"
    before = compare.Side(
        year=2025,
        names=names_before,
        answered=frozenset({1, 4, 7}),
        links={
            (2, 7): (1, False),  # gone; 2 answered later: lost
            (7, 8): (2, True),  # gone; 8 answered later: lost
            (9, 10): (1, False),  # gone, neither answered later: not observed
            (10, 11): (1, False),  # one more carrier
            (11, 12): (2, True),  # one carrier fewer
            (12, 13): (1, False),  # became formal
            (13, 14): (2, True),  # more carriers but no longer formal
            (9, 12): (1, True),  # unchanged
        },
        figures=_figs(response_rate=0.5, links=8, reciprocity=None, degree_centralisation=0.25),
    )
    after = compare.Side(
        year=2026,
        names=names_after,
        answered=frozenset({2, 8}),
        links={
            (1, 2): (1, False),  # new: 1 answered before
            (3, 4): (2, True),  # new: 4 answered before
            (5, 6): (1, False),  # neither answered before: newly observed
            (10, 11): (2, False),
            (11, 12): (1, True),
            (12, 13): (1, True),
            (13, 14): (3, False),
            (9, 12): (1, True),
        },
        figures=_figs(response_rate=0.75, links=10, reciprocity=0.5, degree_centralisation=None),
    )
    left = {(2, 7): True, (9, 12): True, (13, 14): True, (10, 11): False, (5, 6): True}

    out = compare.compare_sides(before, after, left)

    def pair(a, b, **extra):
        return {"a": a, "b": b, "a_name": names_after.get(a, names_before.get(a)),
                "b_name": names_after.get(b, names_before.get(b)), **extra}  # fmt: skip

    def kept(a, b, c1, c2, f1, f2):
        return pair(a, b, carriers_before=c1, carriers_after=c2, formal_before=f1,
                    formal_after=f2, became_formal=f2 and not f1, more_carriers=c2 > c1)  # fmt: skip

    assert out["years"] == (2025, 2026)
    assert out["new"] == [pair(1, 2, carriers=1, formal=False), pair(3, 4, carriers=2, formal=True)]
    assert out["newly_observed"] == [pair(5, 6, carriers=1, formal=False)]
    assert out["lost"] == [
        pair(2, 7, carriers=1, formal=False),
        pair(7, 8, carriers=2, formal=True),
    ]
    assert out["not_observed"] == [pair(9, 10, carriers=1, formal=False)]
    assert out["not_observed"][0]["a_name"] == "S9"  # gone: its earlier name
    assert out["not_observed"][0]["b_name"] == "S10 (nouveau nom)"  # the later name
    # Text order: "(10, 11)" < "(11, 12)" < … < "(9, 12)".
    rows = {
        (10, 11): kept(10, 11, 1, 2, False, False),
        (11, 12): kept(11, 12, 2, 1, True, True),
        (12, 13): kept(12, 13, 1, 1, False, True),
        (13, 14): kept(13, 14, 2, 3, True, False),
        (9, 12): kept(9, 12, 1, 1, True, True),
    }
    assert out["kept"] == list(rows.values())
    assert out["strengthened"] == [rows[10, 11], rows[12, 13], rows[13, 14]]
    assert out["weakened"] == [rows[11, 12], rows[13, 14]]
    # Every carrier left: (5, 6) is not an earlier pair, (10, 11) kept one.
    assert out["survived_carrier_leaving"] == [
        pair(13, 14, carriers_before=2), pair(9, 12, carriers_before=1)
    ]  # fmt: skip
    assert out["lost_with_carriers"] == [pair(2, 7, carriers_before=1)]
    assert out["counts"] == {
        "kept": 5, "new": 2, "newly_observed": 1, "lost": 2, "not_observed": 1,
        "strengthened": 3, "became_formal": 1, "more_carriers": 2, "weakened": 2,
        "survived_carrier_leaving": 2, "lost_with_carriers": 1,
    }  # fmt: skip
    f = out["figures"]
    assert list(f) == list(FIGS)
    assert f["response_rate"] == {"before": 0.5, "after": 0.75, "change": 0.25}
    assert f["links"] == {"before": 8, "after": 10, "change": 2}
    # No value on one side: no change either way.
    assert f["reciprocity"] == {"before": None, "after": 0.5, "change": None}
    assert f["degree_centralisation"] == {"before": 0.25, "after": None, "change": None}
    assert f["density"] == {"before": 0, "after": 0, "change": 0}


def test_without_departures_nobody_left():
    side = compare.side_of_graph(five())
    out = compare.compare_sides(side, side)
    assert out["survived_carrier_leaving"] == out["lost_with_carriers"] == []
    assert out["counts"]["kept"] == 4 and out["counts"]["strengthened"] == 0


# --- the side of a graph ----------------------------------------------------------------------


def test_side_of_a_hand_made_graph():
    g = five()
    g.graph["year"] = 2024
    side = compare.side_of_graph(g)
    assert side.year == 2024
    assert side.names == {1: "A", 2: "B", 3: "C", 4: "D", 5: "E"}
    assert side.answered == {1, 2, 3}
    # {A,B} 2 + 1 carriers, formal; {A,C} « both »; {B,C} formal; {C,D} informal.
    assert side.links == {(1, 2): (3, True), (1, 3): (1, True), (2, 3): (1, True),
                          (3, 4): (1, False)}  # fmt: skip
    # Responded 4 of 10 invited; reciprocity among answered pairs: {A,B} of {A,B},{A,C},{B,C};
    # formal 3 of 4 links; one carrier: {A,C},{B,C},{C,D}; 5 ties among 5 structures: 5/20;
    # components {A,B,C,D} and {E}; E isolated; degrees 2,2,3,1,0: (1+1+0+2+3)/(4·3).
    expected = {
        "response_rate": 0.4, "links": 4, "reciprocity": pytest.approx(1 / 3),
        "formal_share": 0.75, "fragile_share": 0.75, "structures": 5, "ties": 5,
        "density": 0.25, "components": 2, "isolated_count": 1,
        "degree_centralisation": pytest.approx(7 / 12),
    }  # fmt: skip
    assert side.figures == expected
    # The same figures taken from all_figures' output (stored at close).
    assert compare.side_of_graph(g, figures.all_figures(g)).figures == expected


def test_compare_graphs_reads_given_figures_instead_of_computing_them():
    g = five()
    computed = figures.all_figures(g)
    computed["headline"] = {**computed["headline"], "links": 40}  # as stored, say
    out = compare.compare_graphs(g, g, figures_before=computed)
    assert out["figures"]["links"] == {"before": 40, "after": 4, "change": -36}
    out = compare.compare_graphs(g, g, figures_after=computed)
    assert out["figures"]["links"]["after"] == 40


def test_compare_graphs_reports_pairs_whose_carriers_all_left():
    before, after = five(), five()
    after.remove_edge(1, 3)
    out = compare.compare_graphs(before, after, {(1, 2): True, (1, 3): True, (3, 4): False})
    assert [(r["a_name"], r["b_name"]) for r in out["survived_carrier_leaving"]] == [("A", "B")]
    assert [(r["a_name"], r["b_name"]) for r in out["lost_with_carriers"]] == [("A", "C")]


def test_a_territory_without_structures_yet(session):
    y = Builder.start(session).campaign(2026, "open")
    session.commit()
    side = compare.live_side(session, y)
    assert (side.names, side.links, side.answered) == ({}, {}, frozenset())
    assert side.figures == {**dict.fromkeys(FIGS, None), "links": 0, "structures": 0,
                            "ties": 0, "components": 0, "isolated_count": 0}  # fmt: skip


def test_centralisation_from_three_structures(session):
    b = Builder.start(session)
    y = b.campaign(2026, "open")
    for key in ("caf", "ccas", "siao"):
        b.org(key)
    b.pro("caf1", "caf")
    b.respond(y, "caf1", [{"org": "ccas"}, {"org": "siao"}])
    session.commit()
    # A path CCAS - CAF - SIAO: degrees 1, 2, 1; (1 + 0 + 1) / (2 · 1) = 1, a star.
    assert compare.live_side(session, y).figures["degree_centralisation"] == 1.0


def test_a_year_without_invitations_or_links_has_no_ratios(session):
    b = Builder.start(session)
    y = b.campaign(2026, "open")
    b.org("caf", "caf")
    session.commit()
    side = compare.live_side(session, y)
    # One structure, nobody invited, no link: every ratio is undefined, not zero.
    assert side.figures == {
        "response_rate": None, "links": 0, "reciprocity": None, "formal_share": None,
        "fragile_share": None, "structures": 1, "ties": 0, "density": None, "components": 1,
        "isolated_count": 1, "degree_centralisation": None,
    }  # fmt: skip
    assert compare.side_of_graph(build_graph(session, y)).figures == side.figures


# --- two stored campaigns ---------------------------------------------------------------------


def _territory(session):
    """2025 (closed) and 2026 (open) of a small territory; every professional invited.

    2025: caf1 → CCAS informal, → SIAO both, → ARCH (archived) informal; ccas1 → CAF formal,
    → SIAO formal twice (its 115 and its day centre: one carrier); msa1 → CCAS formal, → CAF
    informal; mob (at SIAO) → MSA informal; nobody else. (The SIAO and the CCAS are each
    named formal by two structures.)
    2026: caf1 answers again from the CAF; ccas1 only starts a draft; msa1 answers, then
    leaves; mob moved to the CCAS and answers from there."""
    b = Builder.start(session)
    y1, y2 = b.campaign(2025), b.campaign(2026, "open")
    for key, type_ in (("caf", "caf"), ("ccas", "ccas-cias"), ("siao", "siao"),
                       ("msa", "mutualite-sociale-agricole")):  # fmt: skip
        b.org(key, type_)
    b.org("arch", status="archived")  # named in 2025: shown
    b.org("old", status="archived")  # named by nobody: not shown
    b.org("prop", status="proposed")  # idem
    b.service("115", "siao")
    b.service("jour", "siao")
    for key, org in (("caf1", "caf"), ("ccas1", "ccas"), ("msa1", "msa"), ("mob", "siao")):
        b.pro(key, org)
    b.invite(y1, "caf1", "ccas1", "msa1", "mob")
    b.respond(y1, "caf1", [{"org": "ccas", "nature": "informal"}, {"org": "siao", "nature": "both"},
                           {"org": "arch", "nature": "informal"}])  # fmt: skip
    b.respond(y1, "ccas1", [{"org": "caf", "nature": "formal"},
                            {"org": "siao", "service": "115", "nature": "formal"},
                            {"org": "siao", "service": "jour", "nature": "formal"}])  # fmt: skip
    b.respond(
        y1, "msa1", [{"org": "ccas", "nature": "formal"}, {"org": "caf", "nature": "informal"}]
    )
    b.respond(y1, "mob", [{"org": "msa", "nature": "informal"}])
    b.pros["mob"].organisation_id = b.orgs["ccas"].id
    session.flush()
    b.invite(y2, "caf1", "ccas1", "msa1", "mob")
    b.respond(y2, "caf1", [{"org": "ccas", "nature": "formal", "status": "confirmed"}])
    b.respond(y2, "ccas1", [{"org": "caf", "nature": "informal"}], status="draft")
    b.respond(y2, "msa1", [{"org": "ccas", "nature": "informal", "status": "confirmed"}])
    b.respond(y2, "mob", [{"org": "msa", "nature": "informal"}])
    b.pros["msa1"].active = False
    session.commit()
    return b, y1, y2


def test_carriers_stay_only_if_still_in_post_and_answering_from_the_same_structure(session):
    b, y1, y2 = _territory(session)
    o = {k: v.id for k, v in b.orgs.items()}

    def pair(x, y):
        return tuple(sorted((o[x], o[y])))

    # {CAF,*}: caf1 answered 2026 from the CAF. {CCAS,SIAO}: ccas1 only drafted.
    # {CCAS,MSA}: msa1 answered but has left. {SIAO,MSA}: mob answered from the CCAS now.
    live = {pair("caf", "ccas"): False, pair("caf", "siao"): False, pair("caf", "arch"): False,
            pair("ccas", "siao"): True, pair("ccas", "msa"): True, pair("siao", "msa"): True,
            pair("caf", "msa"): True}  # fmt: skip
    assert compare.carrier_departures(session, y1, y2) == live
    snapshot.freeze(session, y1)
    session.commit()
    assert compare.carrier_departures(session, y1, y2) == live  # the earlier year frozen
    # The later year frozen too: who answered it as it stood at its close; msa1 left since.
    y2.status = "closed"
    session.add(y2)
    snapshot.freeze(session, y2)
    session.commit()
    assert compare.carrier_departures(session, y1, y2) == {
        **live, pair("ccas", "msa"): False, pair("caf", "msa"): False
    }  # fmt: skip


def test_live_and_stored_sides_counted_by_hand(session):
    b, y1, _ = _territory(session)
    o = {k: v.id for k, v in b.orgs.items()}

    def pair(x, y):
        return tuple(sorted((o[x], o[y])))

    shown = ("caf", "ccas", "siao", "msa", "arch")  # active, or named (ARCH)
    names = {o[k]: k.upper() for k in shown}
    links = {pair("caf", "ccas"): (2, True), pair("caf", "siao"): (1, True),
             pair("caf", "arch"): (1, False), pair("ccas", "siao"): (1, True),
             pair("ccas", "msa"): (1, True), pair("siao", "msa"): (1, False),
             pair("caf", "msa"): (1, False)}  # fmt: skip
    # 4 answered of 4 invited (mob counted at the SIAO, where he answered). Observable links
    # (both ends answered): all but {CAF,ARCH}; mutual: {CAF,CCAS} only: 1/6. Formal:
    # {CAF,CCAS}, {CAF,SIAO}, {CCAS,SIAO}, {CCAS,MSA}: 4/7. One carrier: 6/7. 8 ties among 5
    # structures: 8/20. One component, no isolated structure. Degrees: CAF 4, CCAS 3, SIAO 3,
    # MSA 3, ARCH 1: (0+1+1+1+3)/(4·3).
    expected = {
        "response_rate": 1.0, "links": 7, "reciprocity": pytest.approx(1 / 6),
        "formal_share": pytest.approx(4 / 7), "fragile_share": pytest.approx(6 / 7),
        "structures": 5, "ties": 8, "density": 0.4, "components": 1, "isolated_count": 0,
        "degree_centralisation": 0.5,
    }  # fmt: skip
    answered = {o["caf"], o["ccas"], o["msa"], o["siao"]}

    live = compare.live_side(session, y1)  # closed but not frozen: read live
    assert (live.year, live.names, live.answered, live.links) == (2025, names, answered, links)
    assert live.figures == expected
    assert compare.stored_side(session, y1) is None  # not frozen
    assert compare.side(session, y1) == live

    snapshot.freeze(session, y1)
    session.commit()
    stored = compare.stored_side(session, y1)
    assert (stored.year, stored.names, stored.answered, stored.links) == (
        2025, names, answered, links
    )  # fmt: skip
    assert stored.figures == expected
    assert compare.side(session, y1) == stored


def test_a_small_live_year_with_silent_structures(session):
    b, _, y2 = _territory(session)
    o = {k: v.id for k, v in b.orgs.items()}
    side = compare.live_side(session, y2)
    # ARCH is named by nobody in 2026: gone. caf1 (CAF), msa1 (MSA), mob (CCAS) answered;
    # ccas1's draft does not count: 3 of 4. Links {CAF,CCAS} formal, {CCAS,MSA} (msa1),
    # {CCAS,MSA} again from mob at the CCAS: one pair, two directions, two carriers.
    assert set(side.names) == {o[k] for k in ("caf", "ccas", "siao", "msa")}
    assert side.answered == {o["caf"], o["ccas"], o["msa"]}
    ccas_msa = tuple(sorted((o["ccas"], o["msa"])))
    assert side.links == {(o["caf"], o["ccas"]): (1, True), ccas_msa: (2, False)}
    f = side.figures
    assert (f["response_rate"], f["links"], f["ties"]) == (0.75, 2, 3)
    # {CCAS,MSA} is mutual and both answered; {CAF,CCAS} is not: 1/2.
    assert (f["reciprocity"], f["formal_share"], f["fragile_share"]) == (0.5, 0.5, 0.5)
    # Degrees CAF 1, CCAS 2, SIAO 0, MSA 1: components {CAF,CCAS,MSA} and {SIAO}.
    assert (f["components"], f["isolated_count"]) == (2, 1)
    assert f["density"] == pytest.approx(3 / 12)
    assert f["degree_centralisation"] == pytest.approx((1 + 0 + 2 + 1) / (3 * 2))
    built = compare.side_of_graph(build_graph(session, y2))
    assert (built.names, built.answered, built.links) == (side.names, side.answered, side.links)
    assert built.figures == f


def test_compare_two_years_filtered_and_refuses_another_territory(session):
    b, y1, y2 = _territory(session)
    o = {k: v.id for k, v in b.orgs.items()}
    formal = GraphFilter(nature="formal")  # formal or both
    assert compare.side(session, y1, formal).links == {
        (o["caf"], o["ccas"]): (1, True), (o["caf"], o["siao"]): (1, True),
        (o["ccas"], o["siao"]): (1, True), (o["ccas"], o["msa"]): (1, True),
    }  # fmt: skip
    out = compare.compare(session, y1, y2, formal)
    # Only {CAF,CCAS} is formal in 2026; CAF and the CCAS answered: the three others are lost.
    assert (out["counts"]["kept"], out["counts"]["lost"]) == (1, 3)
    assert out["figures"]["links"] == {"before": 4, "after": 1, "change": -3}
    # Carriers counted under the filter: {CAF,CCAS} was formal through ccas1 alone, who left
    # (caf1, who stayed, called it informal); {CCAS,SIAO} through ccas1 too, {CCAS,MSA}
    # through msa1, who left as well.
    names = [{r["a_name"], r["b_name"]} for r in out["survived_carrier_leaving"]]
    assert names == [{"CAF", "CCAS"}]
    lost = {frozenset((r["a_name"], r["b_name"])) for r in out["lost_with_carriers"]}
    assert lost == {frozenset({"CCAS", "SIAO"}), frozenset({"CCAS", "MSA"})}
    other = Builder.start(session, code="19", name="Corrèze").campaign(2026, "open")
    with pytest.raises(ValueError):
        compare.compare(session, y1, other)

"""Building the graph from the answers (reports/graph.py, docs/metrics.md « Vocabulaire »),
where the existing tests left a behaviour unpinned (mutation testing, docs/testing.md): who
counts as invited, merge chains, structures created after a closed year, the filters (what
they keep, and that structures stay), the zone filter, tags without a bit, and above all a
closed campaign read from its frozen rows: the same graph, filter for filter, as the live
answers gave at close, whatever changes afterwards. Numbers are worked out by hand.

The territory (2026, open; D = Guéret for every structure):

    caf1 (CAF)        → CCAS formal weekly quality 4 [referral; logement-hebergement]
                      → SIAO service 115 informal monthly quality 1 [referral, joint_support]
                      → ML, status "ended" (not a tie)
    caf2 (CAF)        → CCAS informal weekly quality 2 [sante]
                      → PROP (proposed) informal
    ccas1 (CCAS)      → CAF both monthly
                      → OLD (merged into CCAS): a self-tie, dropped
                      → SIAO (no service) informal
    mover (CCAS)      → CAF formal, status "confirmed"; has since moved to ML
    siao1 (SIAO, 115) → CCAS informal occasional; has since left the service
    siao2 (SIAO, 115) invited, did not answer
    siao3 (SIAO)      invited (no service), did not answer
    ml1 (ML)          invited, did not answer
    revoked (ML)      invited, then the link revoked
    draft1 (ML)       a draft naming CAF formal: not counted
    gone (ML)         invited in 2025 only, answered then (ML → CAF, ML → SIAO 115): not 2026
The zone « Nord » holds CAF and SIAO (placed by hand).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import col, select

from reports import snapshot
from reports.graph import (
    NO_FILTER,
    GraphFilter,
    Source,
    build_graph,
    build_graph_from_tag_rows,
    build_service_graph,
)
from survey import links, zones
from survey.models import Campaign, DeclaredLink, LinkTag, Response
from tests.reports.builders import Builder

NATURES = ("formal", "informal", "both")


def _world(session):
    b = Builder.start(session)
    before = b.campaign(2025, "closed")
    c = b.campaign(2026, "open")
    for key, type_ in (("caf", "caf"), ("ccas", "ccas-cias"), ("siao", "siao"),
                       ("ml", "mission-locale")):  # fmt: skip
        b.org(key, type_)
    b.org("prop", "association", status="proposed")
    b.org("old", "association", status="merged", merged_into="ccas")
    b.service("115", "siao")
    for key, org in (("caf1", "caf"), ("caf2", "caf"), ("ccas1", "ccas"), ("mover", "ccas"),
                     ("ml1", "ml"), ("revoked", "ml"), ("draft1", "ml"), ("gone", "ml")):  # fmt: skip
        b.pro(key, org)
    b.pro("siao1", "siao", service="115")
    b.pro("siao2", "siao", service="115")
    b.pro("siao3", "siao")
    b.invite(c, "caf1", "caf2", "ccas1", "mover", "siao1", "siao2", "siao3", "ml1", "revoked")
    links.revoke(session, c.id, b.pros["revoked"].id)
    b.invite(before, "gone")
    b.respond(before, "gone", [{"org": "caf", "nature": "formal"},
                               {"org": "siao", "service": "115", "nature": "informal"}])  # fmt: skip
    b.respond(c, "caf1", [
        {"org": "ccas", "nature": "formal", "frequency": "weekly", "quality": 4,
         "practices": ["referral"], "thematiques": ["logement-hebergement"]},
        {"org": "siao", "service": "115", "nature": "informal", "frequency": "monthly",
         "quality": 1, "practices": ["referral", "joint_support"]},
        {"org": "ml", "nature": "formal", "status": "ended"},
    ])  # fmt: skip
    b.respond(c, "caf2", [
        {"org": "ccas", "nature": "informal", "frequency": "weekly", "quality": 2,
         "thematiques": ["sante"]},
        {"org": "prop", "nature": "informal"},
    ])  # fmt: skip
    b.respond(c, "ccas1", [
        {"org": "caf", "nature": "both", "frequency": "monthly"},
        {"org": "old", "nature": "informal"},
        {"org": "siao", "nature": "informal"},
    ])  # fmt: skip
    b.respond(c, "mover", [{"org": "caf", "nature": "formal", "status": "confirmed"}])
    b.respond(c, "siao1", [{"org": "ccas", "nature": "informal", "frequency": "occasional"}])
    b.respond(c, "draft1", [{"org": "caf", "nature": "formal"}], status="draft")
    # Since they answered: mover now works at ML, siao1 in no service.
    b.pros["mover"].organisation_id = b.orgs["ml"].id
    b.pros["siao1"].service_id = None
    session.add_all([b.pros["mover"], b.pros["siao1"]])
    nord = zones.create_zone(session, b.territory.id, "Nord", "utas")
    for key in ("caf", "siao"):
        zones.set_structure_zone(session, b.orgs[key], nord)
    # Another territory, answered the same year: never part of this graph.
    other = Builder.start(session, "19", "Corrèze")
    oc = other.campaign(2026, "open")
    other.org("x", "caf")
    other.org("y", "caf")
    other.pro("x1", "x")
    other.invite(oc, "x1")
    other.respond(oc, "x1", [{"org": "y", "nature": "formal"}])
    session.commit()
    return b, c


def _ids(b):
    return {k: v.id for k, v in b.orgs.items()}


def _edges(g) -> dict:
    return {(a, b): d for a, b, d in g.edges(data=True)}


def _nodes(g) -> dict:
    return dict(g.nodes(data=True))


# --- the live graph ------------------------------------------------------------------------


def test_invited_and_responded_are_counted_where_people_answered(session):
    b, c = _world(session)
    o = _ids(b)
    g = build_graph(session, c)
    # Nodes: the four active structures and PROP (proposed, named); OLD is merged, and the
    # other territory's structures are not there.
    assert set(g.nodes) == {o["caf"], o["ccas"], o["siao"], o["ml"], o["prop"]}
    part = {k: (g.nodes[o[k]]["invited"], g.nodes[o[k]]["responded"], g.nodes[o[k]]["answered"])
            for k in ("caf", "ccas", "siao", "ml", "prop")}  # fmt: skip
    # CAF: caf1, caf2. CCAS: ccas1 and mover (who answered there, then moved to ML).
    # SIAO: siao1 answered, siao2 and siao3 invited. ML: ml1 only (revoked's link was revoked,
    # draft1 neither invited nor submitted, gone only in 2025). PROP: nobody.
    assert part == {
        "caf": (2, 2, True), "ccas": (2, 2, True), "siao": (3, 1, True), "ml": (1, 0, False),
        "prop": (0, 0, False),
    }  # fmt: skip
    # link_carriers: CAF caf1, caf2, ccas1, mover; CCAS the same + siao1; SIAO caf1, siao1,
    # ccas1;
    # PROP caf2; ML nobody (caf1's tie to ML ended, draft1's is a draft).
    assert {k: g.nodes[o[k]]["link_carriers"] for k in ("caf", "ccas", "siao", "ml", "prop")} == {
        "caf": 4, "ccas": 5, "siao": 3, "ml": 0, "prop": 1,
    }  # fmt: skip
    n = g.nodes[o["caf"]]
    assert (n["name"], n["type"], n["type_label"], n["commune"], n["zone"], n["proposed"]) == (
        "CAF", "caf", "CAF", "Guéret", "Nord", False,
    )  # fmt: skip
    assert g.nodes[o["ccas"]]["zone"] == "" and g.nodes[o["prop"]]["proposed"] is True
    assert g.graph == {
        "campaign_id": c.id, "territory_id": b.territory.id, "year": 2026, "level": "structure",
        "filters": {"org_types": [], "nature": None, "thematique": None, "frequency": None,
                    "zone": None},
    }  # fmt: skip


def test_ties_and_their_attributes(session):
    b, c = _world(session)
    o = _ids(b)
    g = build_graph(session, c)
    # The same answers give the same graph, edge for edge: each structure's partners in id
    # order (reports/graph.py, _ties: "the same data give the same graph, edge for edge").
    assert all(list(g.succ[n]) == sorted(g.succ[n]) for n in g)
    e = _edges(g)
    assert set(e) == {(o["caf"], o["ccas"]), (o["caf"], o["siao"]), (o["caf"], o["prop"]),
                      (o["ccas"], o["caf"]), (o["ccas"], o["siao"]),
                      (o["siao"], o["ccas"])}  # fmt: skip
    none = {"weekly": 0, "monthly": 0, "quarterly": 0, "occasional": 0}
    assert e[o["caf"], o["ccas"]] == {
        "carriers": 2, "declarations": 2, "formal": 1, "informal": 1, "both": 0,
        "frequencies": none | {"weekly": 2}, "practices": {"referral": 1},
        "thematiques": {"logement-hebergement": 1, "sante": 1}, "quality_mean": 3.0,  # (4 + 2) / 2
    }  # fmt: skip
    assert e[o["caf"], o["siao"]] == {
        "carriers": 1, "declarations": 1, "formal": 0, "informal": 1, "both": 0,
        "frequencies": none | {"monthly": 1}, "practices": {"referral": 1, "joint_support": 1},
        "thematiques": {}, "quality_mean": 1.0,
    }  # fmt: skip
    # ccas1 (both, monthly) and mover (formal, confirmed): 2 people; no quality given.
    assert e[o["ccas"], o["caf"]] == {
        "carriers": 2, "declarations": 2, "formal": 1, "informal": 0, "both": 1,
        "frequencies": none | {"monthly": 1}, "practices": {}, "thematiques": {},
        "quality_mean": None,
    }  # fmt: skip
    assert e[o["siao"], o["ccas"]]["frequencies"] == none | {"occasional": 1}


def test_quality_mean_is_rounded_to_three_decimals(session):
    b = Builder.start(session)
    c = b.campaign(2026, "open")
    b.org("a", "caf")
    b.org("z", "siao")
    for i, q in enumerate((1, 2, 2)):
        b.pro(f"p{i}", "a")
        b.respond(c, f"p{i}", [{"org": "z", "nature": "formal", "quality": q}])
    session.commit()
    g = build_graph(session, c)
    # (1 + 2 + 2) / 3 = 1.6666…: 1.667.
    assert g.edges[b.orgs["a"].id, b.orgs["z"].id]["quality_mean"] == 1.667


def test_a_merge_chain_is_followed_twenty_merges_deep_and_no_further(session):
    b = Builder.start(session)
    c = b.campaign(2026, "open")
    b.org("root", "ccas-cias")
    b.org("caf", "caf")
    b.org("siao", "siao")
    parent = "root"
    for depth in range(1, 22):  # m1 merged into root, m2 into m1, …, m21 into m20
        b.org(f"m{depth}", "association", status="merged", merged_into=parent)
        parent = f"m{depth}"
    b.pro("deep20", "m20")
    b.pro("deep21", "m21")
    b.respond(c, "deep20", [{"org": "caf", "nature": "formal"}])
    b.respond(c, "deep21", [{"org": "siao", "nature": "formal"}])
    session.commit()
    g = build_graph(session, c)
    root = b.orgs["root"].id
    # 20 merges deep: counted for the root; 21: a data error, not followed.
    assert list(g.edges) == [(root, b.orgs["caf"].id)]
    assert (g.nodes[root]["invited"], g.nodes[root]["responded"]) == (1, 1)


def test_a_closed_year_leaves_out_structures_created_after_it(session):
    b = Builder.start(session)
    c25 = b.campaign(2025, "closed")
    c25.closes_on = date(2025, 6, 30)
    c26 = b.campaign(2026, "open")
    b.org("caf", "caf")
    b.org("ontime", "siao")  # created on the closing day: it existed that year
    b.org("late", "association")  # created the day after: not that year
    b.org("named", "association")  # created after too, but named in that year's answers
    b.org("idle", "association", status="archived")
    created = {"caf": datetime(2024, 1, 1, tzinfo=UTC), "ontime": datetime(2025, 6, 30, 23, 0, tzinfo=UTC),
               "late": datetime(2025, 7, 1, tzinfo=UTC), "named": datetime(2025, 7, 1, tzinfo=UTC)}  # fmt: skip
    for key, when in created.items():
        b.orgs[key].created_at = when
        session.add(b.orgs[key])
    b.pro("caf1", "caf")
    b.respond(c25, "caf1", [{"org": "named", "nature": "formal"}])
    session.commit()
    o = _ids(b)
    assert set(build_graph(session, c25).nodes) == {o["caf"], o["ontime"], o["named"]}
    # An open campaign shows every active structure, whenever it was created.
    assert set(build_graph(session, c26).nodes) == {o["caf"], o["ontime"], o["late"], o["named"]}


# --- filters -------------------------------------------------------------------------------


def test_which_filters_keep_every_structure():
    assert not GraphFilter().filters_links()
    assert not GraphFilter(org_types=frozenset({"caf"})).filters_links()
    for flt in (GraphFilter(nature="formal"), GraphFilter(thematique="sante"),
                GraphFilter(frequency="weekly"), GraphFilter(zone="Nord")):  # fmt: skip
        assert flt.filters_links(), flt


def test_link_filters_recompute_ties_and_keep_structures(session):
    b, c = _world(session)
    o = _ids(b)
    every = {o["caf"], o["ccas"], o["siao"], o["ml"], o["prop"]}
    formal = build_graph(session, c, GraphFilter(nature="formal"))
    # formal or both: caf1→CCAS, ccas1→CAF (both), mover→CAF. PROP, named only informally,
    # stays a structure of the map.
    assert set(formal.nodes) == every
    assert {k: d["carriers"] for k, d in _edges(formal).items()} == {
        (o["caf"], o["ccas"]): 1, (o["ccas"], o["caf"]): 2,
    }  # fmt: skip
    assert formal.nodes[o["ccas"]]["link_carriers"] == 3  # caf1, ccas1, mover
    assert formal.graph["filters"]["nature"] == "formal"
    informal = build_graph(session, c, GraphFilter(nature="informal"))
    # informal or both: caf1→SIAO, caf2→CCAS, caf2→PROP, ccas1→CAF, ccas1→SIAO, siao1→CCAS.
    assert {k: d["carriers"] for k, d in _edges(informal).items()} == {
        (o["caf"], o["siao"]): 1, (o["caf"], o["ccas"]): 1, (o["caf"], o["prop"]): 1,
        (o["ccas"], o["caf"]): 1, (o["ccas"], o["siao"]): 1, (o["siao"], o["ccas"]): 1,
    }  # fmt: skip
    monthly = build_graph(session, c, GraphFilter(frequency="monthly"))
    assert set(_edges(monthly)) == {(o["caf"], o["siao"]), (o["ccas"], o["caf"])}
    assert set(monthly.nodes) == every
    them = build_graph(session, c, GraphFilter(thematique="logement-hebergement"))
    assert set(_edges(them)) == {(o["caf"], o["ccas"])} and set(them.nodes) == every


def test_type_filter_keeps_those_structures_only(session):
    b, c = _world(session)
    o = _ids(b)
    g = build_graph(session, c, GraphFilter(org_types=frozenset({"caf", "siao"})))
    assert set(g.nodes) == {o["caf"], o["siao"]}
    assert set(g.edges) == {(o["caf"], o["siao"])}
    # SIAO's links among these types rest on caf1 alone (siao1 named CCAS).
    assert g.nodes[o["siao"]]["link_carriers"] == 1
    assert g.graph["filters"]["org_types"] == ["caf", "siao"]


def test_zone_filter_keeps_the_answers_of_the_zone(session):
    b, c = _world(session)
    o = _ids(b)
    g = build_graph(session, c, GraphFilter(zone="Nord"))
    # CAF and SIAO are in « Nord »: caf1's and caf2's ties, siao1's; the others are not.
    assert set(g.edges) == {(o["caf"], o["ccas"]), (o["caf"], o["siao"]), (o["caf"], o["prop"]),
                            (o["siao"], o["ccas"])}  # fmt: skip
    assert set(g.nodes) == {o["caf"], o["ccas"], o["siao"], o["ml"], o["prop"]}
    assert list(build_graph(session, c, GraphFilter(zone="Sud")).edges) == []  # no such zone
    services = build_service_graph(session, c, GraphFilter(zone="Sud"))
    assert list(services.edges) == [] and f"o{o['ml']}" in services.nodes
    # A zone filter on live answers needs the session to find the zone's structures.
    with pytest.raises(ValueError):
        Source(c, frozen=False).zone_members("Nord")
    assert Source(c, frozen=False).zone_members(None) is None


def test_a_thematique_outside_the_vocabulary_still_filters(session):
    """A stored tag whose code has no bit (not in today's vocabulary) is found through the tag
    rows: both builds agree, and on tag_bits-less codes too."""
    b, c = _world(session)
    o = _ids(b)
    response = b.respond(c, "ml1", [{"org": "siao", "nature": "informal"}])
    row = session.exec(select(DeclaredLink).where(DeclaredLink.response_id == response.id)).one()
    session.add(LinkTag(link_id=row.id, kind="thematique", code="ancienne-thematique"))
    # The same code under another kind is not that thématique: siao → ccas stays out.
    siao_ccas = session.exec(
        select(DeclaredLink)
        .join(Response, col(Response.id) == DeclaredLink.response_id)
        .where(Response.professional_id == b.pros["siao1"].id, Response.campaign_id == c.id)
    ).one()
    session.add(LinkTag(link_id=siao_ccas.id, kind="practice", code="ancienne-thematique"))
    session.commit()
    flt = GraphFilter(thematique="ancienne-thematique")
    g = build_graph(session, c, flt)
    assert set(g.edges) == {(o["ml"], o["siao"])}
    assert set(build_graph_from_tag_rows(session, c, flt).edges) == {(o["ml"], o["siao"])}


def test_counting_tags_from_the_rows_gives_the_same_graph(session):
    b, c = _world(session)
    for flt in (NO_FILTER, GraphFilter(thematique="logement-hebergement"),
                GraphFilter(zone="Nord"), GraphFilter(org_types=frozenset({"caf", "siao"}))):  # fmt: skip
        live, rows = build_graph(session, c, flt), build_graph_from_tag_rows(session, c, flt)
        assert _nodes(rows) == _nodes(live) and _edges(rows) == _edges(live), flt
        assert rows.graph == live.graph


# --- services ------------------------------------------------------------------------------


def test_service_graph(session):
    b, c = _world(session)
    o = _ids(b)
    s115 = f"s{b.services['115'].id}"
    g = build_service_graph(session, c)
    assert g.graph == {
        "campaign_id": c.id, "territory_id": b.territory.id, "year": 2026, "level": "service",
        "filters": {"org_types": [], "nature": None, "thematique": None, "frequency": None,
                    "zone": None},
    }  # fmt: skip
    n = g.nodes[s115]
    # siao1 answered from service 115 (since left it), siao2 is invited there.
    assert (n["invited"], n["responded"], n["answered"], n["link_carriers"]) == (2, 1, True, 2)
    assert (n["name"], n["organisation_name"], n["service_name"]) == ("SIAO — 115", "SIAO", "115")
    assert (n["organisation_id"], n["service_id"]) == (o["siao"], b.services["115"].id)
    caf = g.nodes[f"o{o['caf']}"]
    assert (caf["name"], caf["service_id"], caf["invited"], caf["responded"]) == ("CAF", None, 2, 2)
    assert "service_name" not in caf
    # CAF's ties rest on caf1, caf2 (who name others) and ccas1, mover (who name CAF).
    assert caf["link_carriers"] == 4
    # siao3 is counted in the SIAO itself (no service), siao1 and siao2 in 115.
    # ML: ml1 invited, no tie; PROP: nobody invited, named by caf2.
    ml, prop = g.nodes[f"o{o['ml']}"], g.nodes[f"o{o['prop']}"]
    assert (ml["invited"], ml["responded"], ml["answered"], ml["link_carriers"]) == (1, 0, False, 0)
    assert (prop["invited"], prop["responded"], prop["answered"], prop["link_carriers"]) == (
        0, 0, False, 1,
    )  # fmt: skip
    # ccas1 named the SIAO itself: its node carries that tie.
    siao = g.nodes[f"o{o['siao']}"]
    assert (siao["invited"], siao["responded"], siao["link_carriers"]) == (1, 0, 1)
    assert caf == {
        "type": "caf", "type_label": "CAF", "commune": "Guéret", "zone": "Nord",
        "proposed": False, "organisation_id": o["caf"], "service_id": None,
        "organisation_name": "CAF", "name": "CAF", "invited": 2, "responded": 2,
        "answered": True, "link_carriers": 4,
    }  # fmt: skip
    e = g.edges[f"o{o['caf']}", s115]
    assert (e["carriers"], e["practices"]) == (1, {"referral": 1, "joint_support": 1})
    assert g.edges[s115, f"o{o['ccas']}"]["carriers"] == 1
    typed = build_service_graph(session, c, GraphFilter(org_types=frozenset({"caf", "siao"})))
    assert set(typed.nodes) == {f"o{o['caf']}", s115, f"o{o['siao']}"}  # o: siao3, invited
    assert list(typed.edges) == [(f"o{o['caf']}", s115)]


# --- a closed campaign is read from its frozen rows -------------------------------------------


FILTERS = (
    NO_FILTER,
    GraphFilter(org_types=frozenset({"caf", "ccas-cias"})),
    GraphFilter(org_types=frozenset({"caf", "siao"})),
    GraphFilter(nature="formal"),
    GraphFilter(nature="informal"),
    GraphFilter(frequency="weekly"),
    GraphFilter(thematique="logement-hebergement"),
    GraphFilter(zone="Nord"),
)


def test_a_frozen_campaign_gives_the_graphs_of_its_close(session):
    b, c = _world(session)
    o = _ids(b)
    live = {flt: build_graph(session, c, flt) for flt in FILTERS}
    live_services = {flt: build_service_graph(session, c, flt) for flt in FILTERS}
    snapshot.close(session, c)
    session.commit()
    # After the close: a rename, a change of type, a zone emptied, a late answer, a service
    # renamed. None of it is that year's map.
    b.orgs["caf"].name = "CAF renommée"
    b.orgs["ccas"].type = "association"
    session.add_all([b.orgs["caf"], b.orgs["ccas"]])
    zones.set_structure_zone(session, b.orgs["siao"], None)
    b.services["115"].name = "SAMU social"
    session.add(b.services["115"])
    b.respond(c, "ml1", [{"org": "caf", "nature": "formal", "frequency": "weekly",
                          "thematiques": ["logement-hebergement"]}])  # fmt: skip
    for row in session.exec(select(LinkTag)).all():  # the live tags go (an erasure, say)
        session.delete(row)
    session.commit()
    for flt in FILTERS:
        g = build_graph(session, c, flt)
        assert _nodes(g) == _nodes(live[flt]), flt
        assert _edges(g) == _edges(live[flt]), flt
        assert list(g.nodes) == list(live[flt].nodes) and g.graph == live[flt].graph
        s = build_service_graph(session, c, flt)
        assert _nodes(s) == _nodes(live_services[flt]), flt
        assert _edges(s) == _edges(live_services[flt]), flt
    # By hand, the frozen zone filter: caf1's, caf2's and siao1's ties.
    assert set(build_graph(session, c, GraphFilter(zone="Nord")).edges) == {
        (o["caf"], o["ccas"]), (o["caf"], o["siao"]), (o["caf"], o["prop"]), (o["siao"], o["ccas"]),
    }  # fmt: skip
    # A frozen campaign has no live tags to count from.
    with pytest.raises(ValueError):
        build_graph_from_tag_rows(session, c)


def test_each_frozen_year_keeps_the_service_names_of_its_close(session):
    b, c = _world(session)
    before = next(x for x in session.exec(select(Campaign)) if x.year == 2025)
    s115 = f"s{b.services['115'].id}"
    snapshot.freeze(session, before)  # 2025: gone named SIAO's service « 115 »
    b.services["115"].name = "SAMU social"
    session.add(b.services["115"])
    snapshot.close(session, c)  # 2026 closes with the new name
    b.services["115"].name = "Veille sociale"
    session.add(b.services["115"])
    session.commit()
    assert build_service_graph(session, before).nodes[s115]["name"] == "SIAO — 115"
    assert build_service_graph(session, c).nodes[s115]["name"] == "SIAO — SAMU social"

"""Partner-side merge following in reports/graph.py (issue 19).

A live structure names a structure that was merged later (the answer still points at the old
row): the tie counts for the structure it was merged into, through a chain of merges too, on
both graphs; the merged rows are never nodes.

    caf1 (CAF)  → OLD (merged into CCAS) formal
    caf2 (CAF)  → CCAS informal
    siao1 (SIAO) → OLDER (merged into OLD, itself merged into CCAS) informal
"""

from __future__ import annotations

from reports.graph import build_graph, build_service_graph
from tests.reports.builders import Builder


def _build(session):
    b = Builder.start(session)
    c = b.campaign(2026, "open")
    b.org("caf", "caf")
    b.org("ccas", "ccas-cias")
    b.org("siao", "siao")
    b.org("old", "association", status="merged", merged_into="ccas")
    b.org("older", "association", status="merged", merged_into="old")
    b.pro("caf1", "caf")
    b.pro("caf2", "caf")
    b.pro("siao1", "siao")
    b.invite(c, "caf1", "caf2", "siao1")
    b.respond(c, "caf1", [{"org": "old", "nature": "formal"}])
    b.respond(c, "caf2", [{"org": "ccas", "nature": "informal"}])
    b.respond(c, "siao1", [{"org": "older", "nature": "informal"}])
    session.commit()
    return {k: v.id for k, v in b.orgs.items()}, c


def test_a_tie_to_a_merged_partner_counts_for_the_structure_it_became(session):
    o, c = _build(session)
    g = build_graph(session, c)
    assert set(g.nodes) == {o["caf"], o["ccas"], o["siao"]}
    assert set(g.edges) == {(o["caf"], o["ccas"]), (o["siao"], o["ccas"])}
    e = g.edges[o["caf"], o["ccas"]]
    # caf1 named OLD, caf2 named CCAS: one tie, two people, one formal and one informal.
    assert (e["carriers"], e["declarations"], e["formal"], e["informal"]) == (2, 2, 1, 1)
    e = g.edges[o["siao"], o["ccas"]]
    assert (e["carriers"], e["declarations"], e["informal"]) == (1, 1, 1)
    # CCAS's links rest on caf1, caf2 and siao1.
    assert g.nodes[o["ccas"]]["link_carriers"] == 3


def test_the_service_graph_follows_the_partner_merge_too(session):
    o, c = _build(session)
    g = build_service_graph(session, c)
    ccas = f"o{o['ccas']}"
    assert set(g.edges) == {(f"o{o['caf']}", ccas), (f"o{o['siao']}", ccas)}
    assert not {f"o{o['old']}", f"o{o['older']}"} & set(g.nodes)
    assert g.edges[f"o{o['caf']}", ccas]["carriers"] == 2

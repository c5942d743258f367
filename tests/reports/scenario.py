"""The territory used by the database tests of the reports, with its expected graph.

2026 campaign of territory 23:
    caf1 (CAF)  → CCAS formal weekly quality 4 [referral, rights_access; logement]
                → SIAO service 115 informal monthly [referral]
                → MSA status "ended" (not a tie)            obstacles: lack_of_time, turnover
    caf2 (CAF)  → CCAS informal weekly quality 2 [referral] → PROP (proposed) informal
                                                            obstacles: turnover
    ccas1 (CCAS)→ CAF both monthly [rights_access]           obstacles: turnover
                → OLD (merged into CCAS: a self-tie, dropped)
    old1 (at OLD, merged into CCAS) → CAF formal, status "confirmed"
    siao1 (SIAO, service 115) → CCAS informal
    draft1 (SIAO) draft response naming MSA: not counted
    msa1 (MSA) invited, did not answer
Invited: caf1, caf2, ccas1, siao1, msa1 (old1 answered without a live invitation).
Also: ARCH (archived, never named: not a node), a foreign territory's structure.
"""

from __future__ import annotations

from sqlmodel import Session

from tests.reports.builders import Builder


def build(session: Session) -> tuple[Builder, object]:
    b = Builder.start(session)
    c = b.campaign(2026, "open")
    b.org("caf", "caf")
    b.org("ccas", "ccas-cias")
    b.org("siao", "siao")
    b.org("msa", "mutualite-sociale-agricole")
    b.org("old", "association", status="merged", merged_into="ccas")
    b.org("prop", "association", status="proposed")
    b.org("arch", "association", status="archived")
    b.service("115", "siao")
    b.pro("caf1", "caf")
    b.pro("caf2", "caf")
    b.pro("ccas1", "ccas")
    b.pro("old1", "old")
    b.pro("siao1", "siao", service="115")
    b.pro("draft1", "siao")
    b.pro("msa1", "msa")
    b.invite(c, "caf1", "caf2", "ccas1", "siao1", "msa1")
    b.respond(c, "caf1", [
        {"org": "ccas", "nature": "formal", "frequency": "weekly", "quality": 4,
         "practices": ["referral", "rights_access"], "thematiques": ["logement-hebergement"],
         "frames": ["agreement"]},
        {"org": "siao", "service": "115", "nature": "informal", "frequency": "monthly",
         "practices": ["referral"], "channels": ["phone"]},
        {"org": "msa", "nature": "informal", "status": "ended"},
    ], obstacles=("lack_of_time", "turnover"))  # fmt: skip
    b.respond(c, "caf2", [
        {"org": "ccas", "nature": "informal", "frequency": "weekly", "quality": 2,
         "practices": ["referral"]},
        {"org": "prop", "nature": "informal"},
    ], obstacles=("turnover",))  # fmt: skip
    b.respond(c, "ccas1", [
        {"org": "caf", "nature": "both", "frequency": "monthly", "practices": ["rights_access"]},
        {"org": "old", "nature": "informal"},
    ], obstacles=("turnover",))  # fmt: skip
    b.respond(c, "old1", [{"org": "caf", "nature": "formal", "status": "confirmed"}])
    b.respond(c, "siao1", [{"org": "ccas", "nature": "informal"}])
    b.respond(c, "draft1", [{"org": "msa", "nature": "formal"}], status="draft")
    # Another territory: must never leak in.
    other = Builder.start(session, "19", "Corrèze")
    oc = other.campaign(2026, "open")
    other.org("x", "caf")
    other.org("y", "caf")
    other.pro("x1", "x")
    other.respond(oc, "x1", [{"org": "y", "nature": "formal"}])
    session.commit()
    return b, c

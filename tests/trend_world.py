"""Three campaigns for the trend tests: 2024 and 2025 closed, 2026 open (few rows, by hand).

2024 (closed) — invited caf1, ccas1 (two people: a viewer reads their rate « — »):
    caf1 → CCAS formal weekly; ccas1 → CAF informal monthly.
  1 link {CAF,CCAS}, mutual, formal, 2 carriers → response rate 2/2, reciprocity 1,
  formal 1, fragile 0; 2 structures on the map.
2025 (closed) — invited caf1, ccas1, siao1, msa1, ml1 (five people):
    caf1 → CCAS formal, caf1 → SIAO informal, ccas1 → CAF informal, siao1 → ML informal.
  3 links → response rate 3/5, reciprocity 1/2, formal 1/3, fragile 2/3.
2026 (open) — invited caf1, caf2, ccas1, siao2, msa1, ml1 (six people):
    caf1 → CCAS formal, caf2 → CCAS informal, ccas1 → CAF formal, siao2 → ML informal,
    msa1 → CAF formal, ml1 → SIAO informal.
  3 links {CAF,CCAS}, {SIAO,ML} mutual, {CAF,MSA} one-sided and fragile → response rate
  6/6, reciprocity 2/3, formal 2/3, fragile 1/3.
A draft 2027 is prepared: it never counts. 2024 and 2025 are frozen as closing does.
"""

from __future__ import annotations

from sqlmodel import Session

from reports import snapshot
from tests.reports.builders import Builder


def build_three_years(session: Session):
    b = Builder.start(session)
    c24 = b.campaign(2024, "closed")
    c25 = b.campaign(2025, "closed")
    c26 = b.campaign(2026, "open")
    b.campaign(2027, "draft")
    for key, type_ in (("caf", "caf"), ("ccas", "ccas-cias"), ("siao", "siao"),
                       ("msa", "mutualite-sociale-agricole"), ("ml", "mission-locale")):  # fmt: skip
        b.org(key, type_)
    b.pro("caf1", "caf")
    b.pro("ccas1", "ccas")
    b.pro("siao1", "siao", active=False)
    b.pro("msa1", "msa")
    b.pro("ml1", "ml")
    b.invite(c24, "caf1", "ccas1")
    b.respond(c24, "caf1", [{"org": "ccas", "nature": "formal", "frequency": "weekly"}])
    b.respond(c24, "ccas1", [{"org": "caf", "nature": "informal", "frequency": "monthly"}])
    b.invite(c25, "caf1", "ccas1", "siao1", "msa1", "ml1")
    b.respond(c25, "caf1", [
        {"org": "ccas", "nature": "formal", "frequency": "weekly"},
        {"org": "siao", "nature": "informal", "frequency": "monthly"},
    ])  # fmt: skip
    b.respond(c25, "ccas1", [{"org": "caf", "nature": "informal", "frequency": "monthly"}])
    b.respond(c25, "siao1", [{"org": "ml", "nature": "informal", "frequency": "occasional"}])
    b.pro("caf2", "caf")
    b.pro("siao2", "siao")
    b.invite(c26, "caf1", "caf2", "ccas1", "siao2", "msa1", "ml1")
    b.respond(c26, "caf1", [{"org": "ccas", "nature": "formal", "frequency": "weekly"}])
    b.respond(c26, "caf2", [{"org": "ccas", "nature": "informal", "frequency": "weekly"}])
    b.respond(c26, "ccas1", [{"org": "caf", "nature": "formal", "frequency": "monthly"}])
    b.respond(c26, "siao2", [{"org": "ml", "nature": "informal"}])
    b.respond(c26, "msa1", [{"org": "caf", "nature": "formal"}])
    b.respond(c26, "ml1", [{"org": "siao", "nature": "informal"}])
    for closed in (c24, c25):
        snapshot.freeze(session, closed)  # what closing does: the figures are kept
    other = Builder.start(session, "19", "Corrèze")
    other.campaign(2026, "open")
    other.org("x", "caf")
    session.commit()
    return b, (c24, c25, c26)

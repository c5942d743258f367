"""A small hand-made territory for tests: few rows, every case the questionnaire knows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlmodel import Session

from survey import links, tagbits
from survey.models import (
    Body,
    Campaign,
    DeclaredLink,
    LinkTag,
    Organisation,
    Professional,
    Response,
    ResponseBody,
    ResponseObstacle,
    Service,
    Territory,
)
from tests.conftest import TEST_SECRET

EARLY = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass
class World:
    territory: Territory
    other_territory: Territory
    last_year: Campaign
    this_year: Campaign
    orgs: dict[str, Organisation]
    services: dict[str, Service]
    pros: dict[str, Professional]
    bodies: dict[str, Body]
    tokens: dict[str, str] = field(default_factory=dict)  # professional key -> 2026 token
    foreign_org: Organisation | None = None


def build_world(session: Session) -> World:
    """Creuse-like miniature: 2025 closed (Alice answered), 2026 open, links for everyone."""
    creuse = Territory(code="23", name="Creuse")
    correze = Territory(code="19", name="Corrèze")
    session.add_all([creuse, correze])
    session.flush()
    orgs = {
        "caf": Organisation(territory_id=creuse.id, name="CAF de la Creuse", type="caf", commune="Guéret"),
        "ccas": Organisation(territory_id=creuse.id, name="CCAS de Guéret", type="ccas-cias", commune="Guéret"),
        "siao": Organisation(territory_id=creuse.id, name="SIAO de la Creuse", type="siao", commune="Guéret"),
        "msa": Organisation(territory_id=creuse.id, name="MSA du Limousin", type="mutualite-sociale-agricole", commune="Guéret"),
        "old": Organisation(territory_id=creuse.id, name="Ancienne association", type="association", status="archived"),
    }  # fmt: skip
    foreign = Organisation(
        territory_id=correze.id, name="CAF de la Corrèze", type="caf", commune="Tulle"
    )
    for org in (*orgs.values(), foreign):
        org.created_at = EARLY  # they existed before the 2025 campaign closed
    session.add_all([*orgs.values(), foreign])
    session.flush()
    services = {
        "siao115": Service(organisation_id=orgs["siao"].id, name="115"),
        "jour": Service(organisation_id=orgs["siao"].id, name="Centre de jour"),
    }
    session.add_all(services.values())
    session.flush()
    pros = {
        "alice": Professional(territory_id=creuse.id, full_name="Alice Martin", email="alice@example.org",
                              function="Conseillère", organisation_id=orgs["ccas"].id),
        "bruno": Professional(territory_id=creuse.id, full_name="Bruno Petit", email="bruno@example.org",
                              function="Assistant social", organisation_id=orgs["caf"].id),
        "chloe": Professional(territory_id=correze.id, full_name="Chloé Roux", email="chloe@example.org",
                              function="Conseillère", organisation_id=foreign.id),
    }  # fmt: skip
    session.add_all(pros.values())
    bodies = {"siao": Body(territory_id=creuse.id, name="Commission SIAO hebdomadaire")}
    session.add_all(bodies.values())
    last = Campaign(
        territory_id=creuse.id,
        year=2025,
        status="closed",
        opens_on=date(2025, 3, 1),
        closes_on=date(2025, 5, 31),
    )
    this = Campaign(
        territory_id=creuse.id,
        year=2026,
        status="open",
        opens_on=date(2026, 3, 1),
        closes_on=date(2026, 12, 31),
    )
    other = Campaign(territory_id=correze.id, year=2026, status="open")  # fmt: skip
    session.add_all([last, this, other])
    session.flush()

    # Alice answered in 2025: CAF formal, SIAO 115 informal, MSA ended ("plus de contact").
    resp = Response(campaign_id=last.id, professional_id=pros["alice"].id,
                    organisation_id=orgs["ccas"].id, status="submitted", questionnaire_version="2026.1",
                    function="Conseillère", years_in_post="1to3", declared_partner_count=2)  # fmt: skip
    session.add(resp)
    session.flush()
    # tag_bits: the practices tagged below (survey.tagbits), as the questionnaire writes them.
    caf_link = DeclaredLink(response_id=resp.id, position=0, partner_organisation_id=orgs["caf"].id,
                            status="new", nature="formal", frequency="monthly", quality=3,
                            tag_bits=tagbits.tag_bits([("practice", "rights_access")]))  # fmt: skip
    siao_link = DeclaredLink(response_id=resp.id, position=1, partner_organisation_id=orgs["siao"].id,
                             partner_service_id=services["siao115"].id, status="new",
                             nature="informal", frequency="weekly",
                             tag_bits=tagbits.tag_bits([("practice", "referral")]))  # fmt: skip
    msa_link = DeclaredLink(response_id=resp.id, position=2, partner_organisation_id=orgs["msa"].id,
                            status="ended", nature="informal", frequency="occasional")  # fmt: skip
    session.add_all([caf_link, siao_link, msa_link])
    session.flush()
    session.add_all([
        LinkTag(link_id=caf_link.id, kind="frame", code="agreement"),
        LinkTag(link_id=caf_link.id, kind="practice", code="rights_access"),
        LinkTag(link_id=siao_link.id, kind="channel", code="phone"),
        LinkTag(link_id=siao_link.id, kind="practice", code="referral"),
    ])  # fmt: skip

    # Her 2025 answer names one body and one obstacle: every carried-forward field has a value
    # (function and years in post above; tests/test_questionnaire_review.py checks each one).
    session.add_all([
        ResponseBody(response_id=resp.id, body_id=bodies["siao"].id),
        ResponseObstacle(response_id=resp.id, code="lack_of_time"),
    ])  # fmt: skip

    world = World(creuse, correze, last, this, orgs, services, pros, bodies, foreign_org=foreign)
    for key in ("alice", "bruno"):
        world.tokens[key] = links.issue(session, TEST_SECRET, this, pros[key])
    world.tokens["chloe"] = links.issue(session, TEST_SECRET, other, pros["chloe"])
    world.tokens["alice_2025"] = links.issue(session, TEST_SECRET, last, pros["alice"])
    session.commit()
    return world

"""The questionnaire's rules, below HTTP: carry-forward, draft/submit, one transaction."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from survey import links
from survey.models import Campaign, DeclaredLink, LinkTag, Professional, Response
from survey.questionnaire import (
    Answers,
    CampaignNotOpen,
    LinkAnswer,
    current_answers,
    load_respondent,
    save,
)
from tests.conftest import TEST_SECRET
from tests.factories import build_world


@pytest.fixture
def world(session):
    return build_world(session)


def respondent(session, token):
    return load_respondent(session, links.find(session, token))


def test_successor_inherits_the_partners_of_the_post(session, world):
    """Turnover: "dès que la personne part, on perd le contact" — not here."""
    alice = world.pros["alice"]
    alice.active = False
    successor = Professional(
        territory_id=world.territory.id,
        full_name="Denise Morel",
        organisation_id=alice.organisation_id,
        took_over_from_id=alice.id,
    )
    session.add_all([alice, successor])
    session.commit()
    token = links.issue(session, TEST_SECRET, world.this_year, successor)
    session.commit()
    answers, source = current_answers(session, respondent(session, token))
    assert source == "carried"
    assert [a.partner_organisation_id for a in answers.links] == [
        world.orgs["caf"].id,
        world.orgs["siao"].id,
    ]


def test_merged_partner_is_carried_as_the_structure_it_became(session, world):
    msa = world.orgs["msa"]
    caf = world.orgs["caf"]
    # Pretend the SIAO was merged into the MSA since last year (any target works).
    siao = world.orgs["siao"]
    siao.status, siao.merged_into_id = "merged", msa.id
    session.add(siao)
    session.commit()
    answers, _ = current_answers(session, respondent(session, world.tokens["alice"]))
    assert [(a.partner_organisation_id, a.partner_service_id) for a in answers.links] == [
        (caf.id, None),
        (msa.id, None),
    ]


def test_failed_save_writes_nothing(session, world):
    r = respondent(session, world.tokens["bruno"])
    ok = Answers(
        declared_partner_count=1,
        links=[LinkAnswer(partner_organisation_id=world.orgs["ccas"].id, practices=["referral"])],
    )
    assert save(session, r, ok).ok
    bad = Answers(
        declared_partner_count=3,
        links=[
            LinkAnswer(write_in={"name": "Nouvelle asso", "type": "association"}),
            # Codes are Literal types: only an unvalidated copy can hold a wrong one, and
            # check() still refuses it.
            LinkAnswer(partner_organisation_id=world.orgs["caf"].id).model_copy(
                update={"frames": ["pas-un-cadre"]}
            ),
        ],
    )
    result = save(session, r, bad)
    assert not result.ok
    assert [p.field for p in result.problems] == ["links.1.frames"]
    session.expire_all()
    stored = session.exec(
        select(Response).where(Response.professional_id == r.professional.id)
    ).one()
    assert stored.declared_partner_count == 1
    partners = session.exec(
        select(DeclaredLink.partner_organisation_id).where(DeclaredLink.response_id == stored.id)
    ).all()
    assert partners == [world.orgs["ccas"].id]


def test_submitted_response_stays_submitted_and_complete(session, world):
    r = respondent(session, world.tokens["bruno"])
    complete = Answers(
        years_in_post="lt1",
        declared_partner_count=1,
        links=[
            LinkAnswer(
                partner_organisation_id=world.orgs["ccas"].id,
                nature="both",
                frames=["commission"],
                channels=["phone", "email"],
                frequency="weekly",
                practices=["shared_assessment"],
                thematiques=["logement-hebergement"],
            )
        ],
    )
    assert save(session, r, complete, submit=True).ok
    # A later incomplete save is refused instead of silently withdrawing the answer (a
    # partner's nature is one of the three questions still required).
    link = complete.links[0].model_copy(update={"nature": None})
    incomplete = complete.model_copy(update={"links": [link]})
    result = save(session, r, incomplete)
    assert not result.ok and [p.field for p in result.problems] == ["links.0.nature"]
    assert r.response.status == "submitted"
    session.expire_all()
    assert r.response.years_in_post == "lt1"
    nature = session.exec(
        select(DeclaredLink.nature).where(DeclaredLink.response_id == r.response.id)
    ).one()
    assert nature == "both"
    this_links = select(DeclaredLink.id).where(DeclaredLink.response_id == r.response.id)
    tags = session.exec(select(LinkTag.kind, LinkTag.code).where(LinkTag.link_id.in_(this_links)))
    assert sorted(tags.all()) == [
        ("channel", "email"),
        ("channel", "phone"),
        ("frame", "commission"),
        ("practice", "shared_assessment"),
        ("thematique", "logement-hebergement"),
    ]


def test_closed_campaign_refuses_any_write(session, world):
    r = respondent(session, world.tokens["alice_2025"])
    with pytest.raises(CampaignNotOpen) as exc:
        save(session, r, Answers())
    assert "close" in exc.value.message


def test_one_open_campaign_per_territory_is_enforced_by_the_database(session, world):
    session.add(Campaign(territory_id=world.territory.id, year=2027, status="open"))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_write_in_matching_an_existing_structure_reuses_it(session, world):
    r = respondent(session, world.tokens["bruno"])
    answers = Answers(links=[LinkAnswer(write_in={"name": "ccas de gueret", "type": "ccas-cias"})])
    assert save(session, r, answers).ok
    link = session.exec(select(DeclaredLink).where(DeclaredLink.response_id == r.response.id)).one()
    assert link.partner_organisation_id == world.orgs["ccas"].id


def test_declared_count_mismatch_is_a_warning_not_an_error(session, world):
    r = respondent(session, world.tokens["bruno"])
    answers = Answers(
        years_in_post="gt10",
        declared_partner_count=12,
        links=[
            LinkAnswer(
                partner_organisation_id=world.orgs["ccas"].id,
                nature="informal",
                frequency="monthly",
                practices=["referral"],
            )
        ],
    )
    result = save(session, r, answers, submit=True)
    assert result.ok
    assert (
        result.warnings
        and "12 partenaires" in result.warnings[0]
        and "décrit 1" in result.warnings[0]
    )

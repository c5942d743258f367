"""Rules of the questionnaire (survey/questionnaire.py) that mutation testing (docs/testing.md)
found unchecked: each French refusal, the carry-forward from last year field by field, the
write path (what is stored, what is replaced, what is kept from a wrong id) and the helpers
the pages use (bodies shown, last year's links, « Tout est comme l'an dernier »).

Every test runs on SQLite and PostgreSQL (the `session` fixture)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event, inspect
from sqlmodel import Session, select

from survey import links, tagbits, vocab
from survey.models import (
    Body,
    Campaign,
    DeclaredLink,
    Invitation,
    LinkTag,
    Organisation,
    Professional,
    Response,
    ResponseBody,
    ResponseObstacle,
    Service,
)
from survey.questionnaire import (
    Answers,
    CampaignNotOpen,
    KnownPartners,
    LinkAnswer,
    NothingCarried,
    PartnerNames,
    PartnerRow,
    Problem,
    answers_of,
    bodies_to_show,
    carried_forward,
    check,
    confirm_all,
    confirm_all_stored,
    current_answers,
    detached_respondent,
    last_year_links,
    listed_partners,
    load_respondent,
    previous_answer,
    respondent_for_token,
    save,
    submit_stored,
    warnings_for,
    years_in_post_later,
)
from tests.conftest import TEST_SECRET
from tests.factories import build_world


@pytest.fixture
def world(session):
    return build_world(session)


def who(session, world, key: str):
    return respondent_for_token(session, world.tokens[key])


def complete_link(org_id: int, **extra) -> LinkAnswer:
    """A partner answering the three questions required at submit."""
    return LinkAnswer(
        **{"partner_organisation_id": org_id, "nature": "formal", "practices": ["referral"]} | extra
    )


def fields_of(problems: list[Problem]) -> list[str]:
    return [p.field for p in problems]


def stored_response(session, r) -> Response:
    session.expire_all()
    return session.exec(
        select(Response).where(
            Response.campaign_id == r.campaign.id, Response.professional_id == r.professional.id
        )
    ).one()


def stored_links(session, response_id: int) -> list[DeclaredLink]:
    return list(
        session.exec(
            select(DeclaredLink)
            .where(DeclaredLink.response_id == response_id)
            .order_by(DeclaredLink.position)
        )
    )


# --- campaigns and look-ups --------------------------------------------------------------


def test_a_closed_or_unopened_campaign_says_which_in_french():
    closed = CampaignNotOpen(Campaign(territory_id=1, year=2025, status="closed"))
    assert closed.message == (
        "La campagne 2025 est close : les réponses ne peuvent plus être modifiées."
    )
    assert str(closed) == closed.message and closed.campaign.year == 2025
    draft = CampaignNotOpen(Campaign(territory_id=1, year=2027, status="draft"))
    assert draft.message == "La campagne 2027 n'est pas encore ouverte."
    assert str(draft) == draft.message


def test_a_draft_campaign_refuses_every_write(session, world):
    draft = Campaign(territory_id=world.territory.id, year=2027, status="draft")
    session.add(draft)
    session.commit()
    token = links.issue(session, TEST_SECRET, draft, world.pros["bruno"])
    session.commit()
    r = respondent_for_token(session, token)
    assert r is not None and not r.can_write
    for write in (
        lambda: save(session, r, Answers()),
        lambda: confirm_all_stored(session, r),
    ):
        with pytest.raises(CampaignNotOpen) as exc:
            write()
        assert "pas encore ouverte" in exc.value.message
    assert session.exec(select(Response).where(Response.campaign_id == draft.id)).all() == []


def test_load_respondent_fails_loudly_on_an_invitation_not_stored(session, world):
    with pytest.raises(LookupError, match="invitation 987654 is not stored"):
        load_respondent(session, Invitation(id=987654, campaign_id=1, professional_id=1))
    invitation = session.exec(
        select(Invitation).where(Invitation.professional_id == world.pros["bruno"].id)
    ).first()
    r = load_respondent(session, invitation)
    assert r.invitation.id == invitation.id and r.professional.full_name == "Bruno Petit"
    assert r.campaign.year == 2026 and r.organisation.name == "CAF de la Creuse"
    assert r.territory.code == "23" and r.response is None


def test_detached_respondent_reads_the_link_without_the_session(session, world):
    assert detached_respondent(session, "trop court") is None
    assert detached_respondent(session, "x" * links.TOKEN_LENGTH) is None
    r = detached_respondent(session, world.tokens["alice"])
    assert r.professional.full_name == "Alice Martin" and r.campaign.year == 2026
    assert r.organisation.name == "CCAS de Guéret" and r.territory.name == "Creuse"
    assert r.invitation.professional_id == world.pros["alice"].id
    # No answer yet this year: no response object (its columns are all NULL in the row).
    assert r.response is None
    # Read, not loaded into the session: nothing there to flush or to expire.
    assert inspect(r.professional).detached and r.professional not in session
    assert save(session, r, Answers(function="CESF")).ok
    again = detached_respondent(session, world.tokens["alice"])
    assert again.response.id == r.response.id and again.response.status == "draft"
    assert again.response.function == "CESF" and inspect(again.response).detached
    # A revoked link is nobody's.
    links.revoke(session, r.campaign.id, r.professional.id)
    session.commit()
    assert detached_respondent(session, world.tokens["alice"]) is None


# --- years in post and carry-forward -------------------------------------------------------


@pytest.mark.parametrize(
    "code, elapsed, expected",
    [
        # Brackets [0, 1), [1, 3), [3, 10), [10, …): the lower bound moves on by `elapsed`.
        ("lt1", 0, "lt1"),
        ("lt1", 1, "1to3"),  # 0 + 1 = 1: « de 1 à 3 ans »
        ("lt1", 2, "1to3"),  # 2
        ("lt1", 3, "3to10"),  # 3: the lower bound of the next bracket is included
        ("1to3", 1, "1to3"),  # 2
        ("1to3", 2, "3to10"),  # 3
        ("3to10", 6, "3to10"),  # 9
        ("3to10", 7, "gt10"),  # 10
        ("gt10", 40, "gt10"),
        ("1to3", -3, "1to3"),  # a later campaign never moves an answer back
        (None, 1, None),
        ("toujours", 1, None),
    ],
)
def test_years_in_post_move_on_with_time(code, elapsed, expected):
    assert years_in_post_later(code, elapsed) == expected


def _add_campaign(session, world, year: int, status: str = "closed") -> Campaign:
    campaign = Campaign(territory_id=world.territory.id, year=year, status=status)
    session.add(campaign)
    session.flush()
    return campaign


def _add_response(session, world, campaign, pro_key: str, status: str = "submitted", **values):
    pro = world.pros[pro_key]
    response = Response(
        campaign_id=campaign.id,
        professional_id=pro.id,
        organisation_id=pro.organisation_id,
        status=status,
        questionnaire_version=vocab.QUESTIONNAIRE_VERSION,
        **values,
    )
    session.add(response)
    session.flush()
    return response


def _add_link(session, response, org, position: int = 0, **values) -> DeclaredLink:
    link = DeclaredLink(
        response_id=response.id, position=position, partner_organisation_id=org.id, **values
    )
    session.add(link)
    session.flush()
    return link


def test_previous_answer_is_the_latest_submitted_one_of_an_earlier_year(session, world):
    last_year = world.last_year  # Alice's 2025 answer is submitted
    older = _add_campaign(session, world, 2023)
    _add_response(session, world, older, "alice", function="2023")
    session.commit()
    r = who(session, world, "alice")
    found, year = previous_answer(session, r)
    assert (found.campaign_id, year) == (last_year.id, 2025)
    # Bruno's 2025 draft is not an answer; of his submitted ones (2023, stored first, and
    # 2024) the latest is.
    _add_response(session, world, older, "bruno", function="2023")
    mid = _add_campaign(session, world, 2024)
    _add_response(session, world, mid, "bruno", function="2024")
    _add_response(session, world, last_year, "bruno", status="draft", function="2025")
    session.commit()
    found, year = previous_answer(session, who(session, world, "bruno"))
    assert (found.function, year) == ("2024", 2024)
    # This year's own answer, once submitted, is not « last year's ».
    assert save(session, r, Answers(links=[complete_link(world.orgs["caf"].id)]), submit=True).ok
    found, year = previous_answer(session, who(session, world, "alice"))
    assert (found.campaign_id, year) == (last_year.id, 2025)


def test_previous_answer_stays_in_the_territory(session, world):
    # Bruno answered in 2025 for the Corrèze (another territory): not carried into the Creuse.
    correze_2025 = Campaign(territory_id=world.other_territory.id, year=2025, status="closed")
    session.add(correze_2025)
    session.flush()
    _add_response(session, world, correze_2025, "bruno")
    session.commit()
    r = who(session, world, "bruno")
    assert previous_answer(session, r) is None
    assert current_answers(session, r)[1] == "empty"


def test_own_answer_wins_over_the_predecessors(session, world):
    # Bruno took over from Alice but answered himself in 2024: his answer is the start.
    bruno = world.pros["bruno"]
    bruno.took_over_from_id = world.pros["alice"].id
    session.add(bruno)
    mid = _add_campaign(session, world, 2024)
    _add_response(session, world, mid, "bruno", function="Bruno 2024")
    session.commit()
    found, year = previous_answer(session, who(session, world, "bruno"))
    assert (found.function, year) == ("Bruno 2024", 2024)


def test_carried_answers_field_by_field(session, world):
    """Alice's 2025 answer, with every carried field set to a value the test can follow."""
    last = session.exec(select(Response).where(Response.campaign_id == world.last_year.id)).one()
    last.function, last.years_in_post = "Conseillère ESF", "lt1"
    last.obstacle_other, last.comment, last.body_other = "Les horaires", "Merci", "Un CLS"
    session.add(last)
    second = Body(territory_id=world.territory.id, name="Atelier logement")
    session.add(second)
    session.flush()
    session.add_all(
        [
            ResponseObstacle(response_id=last.id, code="turnover"),
            ResponseObstacle(response_id=last.id, code="admin_delays"),
            ResponseBody(response_id=last.id, body_id=second.id),
        ]
    )
    alice = world.pros["alice"]
    alice.function = ""  # nothing on her record now: last year's own answer is kept
    session.add(alice)
    session.commit()
    r = who(session, world, "alice")
    answers, source = current_answers(session, r)
    assert source == "carried"
    assert answers.function == "Conseillère ESF"
    # « Moins d'un an » in 2025 is « de 1 à 3 ans » in 2026 (0 + 1 year).
    assert answers.years_in_post == "1to3"
    # The vocabulary's order (lack_of_time, turnover, …, admin_delays), not the database's.
    assert answers.obstacles == ["lack_of_time", "turnover", "admin_delays"]
    assert answers.obstacle_other == "Les horaires"
    assert answers.body_ids == sorted([world.bodies["siao"].id, second.id])
    # Not carried: the count (recomputed), the comment and the other bodies.
    assert answers.declared_partner_count is None
    assert (answers.comment, answers.body_other) == ("", "")
    # The MSA link was « plus de contact »: the two others wait for a confirmation, each
    # pointing at the link it comes from, with last year's answers.
    by_partner = {
        lk.partner_organisation_id: lk
        for lk in session.exec(select(DeclaredLink).where(DeclaredLink.response_id == last.id))
    }
    caf, siao = answers.links
    assert (caf.partner_organisation_id, siao.partner_organisation_id) == (
        world.orgs["caf"].id,
        world.orgs["siao"].id,
    )
    assert [a.status for a in answers.links] == ["pending", "pending"]
    assert caf.carried_from_id == by_partner[world.orgs["caf"].id].id
    assert siao.carried_from_id == by_partner[world.orgs["siao"].id].id
    # Not merged: the service stays.
    assert siao.partner_service_id == world.services["siao115"].id
    assert (caf.nature, caf.frequency, caf.quality) == ("formal", "monthly", 3)
    assert (caf.frames, caf.practices) == (["agreement"], ["rights_access"])
    assert (siao.channels, siao.practices) == (["phone"], ["referral"])


def test_a_successor_keeps_the_partners_not_the_person(session, world):
    alice = world.pros["alice"]
    successor = Professional(
        territory_id=world.territory.id,
        full_name="Denise Morel",
        organisation_id=alice.organisation_id,
        took_over_from_id=alice.id,
    )
    session.add(successor)
    session.commit()
    token = links.issue(session, TEST_SECRET, world.this_year, successor)
    session.commit()
    answers = carried_forward(session, respondent_for_token(session, token))
    # Alice's function and years in post are hers, not the successor's.
    assert answers.function == "" and answers.years_in_post is None
    assert len(answers.links) == 2 and answers.body_ids == [world.bodies["siao"].id]
    # The successor's own function, when known, is shown.
    successor.function = "Travailleuse sociale"
    session.add(successor)
    session.commit()
    answers = carried_forward(session, respondent_for_token(session, token))
    assert answers.function == "Travailleuse sociale"


def test_partners_are_carried_through_merges_and_dropped_when_archived(session, world):
    last = session.exec(select(Response).where(Response.campaign_id == world.last_year.id)).one()
    t = world.territory.id
    a = Organisation(territory_id=t, name="A", type="association")
    b = Organisation(territory_id=t, name="B", type="association")
    c = Organisation(territory_id=t, name="C", type="association")
    gone = Organisation(territory_id=t, name="Fermée", type="association")
    loop1 = Organisation(territory_id=t, name="Boucle 1", type="association")
    loop2 = Organisation(territory_id=t, name="Boucle 2", type="association")
    nowhere = Organisation(territory_id=t, name="Fusion sans cible", type="association")
    into_archived = Organisation(territory_id=t, name="Vers une archivée", type="association")
    proposed = Organisation(territory_id=t, name="Proposée", type="association", status="proposed")
    session.add_all([a, b, c, gone, loop1, loop2, nowhere, into_archived, proposed])
    session.flush()
    # A → B → C (two levels of merging); C active.
    a.status, a.merged_into_id = "merged", b.id
    b.status, b.merged_into_id = "merged", c.id
    gone.status = "archived"
    loop1.status, loop1.merged_into_id = "merged", loop2.id
    loop2.status, loop2.merged_into_id = "merged", loop1.id
    nowhere.status = "merged"
    into_archived.status, into_archived.merged_into_id = "merged", gone.id
    session.add_all([a, b, gone, loop1, loop2, nowhere, into_archived])
    for i, org in enumerate([a, gone, loop1, nowhere, into_archived, proposed], start=3):
        _add_link(session, last, org, position=i, status="confirmed")
    session.commit()
    carried = carried_forward(session, who(session, world, "alice"))
    # CAF and SIAO as before, A as C (two merges followed), the proposed one as itself;
    # the archived one, the loop, the merge without target and the one into an archived
    # structure are not carried.
    assert [lk.partner_organisation_id for lk in carried.links] == [
        world.orgs["caf"].id,
        world.orgs["siao"].id,
        c.id,
        proposed.id,
    ]


def test_a_merged_partner_loses_its_service_an_unmerged_one_keeps_it(session, world):
    siao = world.orgs["siao"]
    msa = world.orgs["msa"]
    siao.status, siao.merged_into_id = "merged", msa.id
    session.add(siao)
    session.commit()
    carried = carried_forward(session, who(session, world, "alice"))
    assert [(lk.partner_organisation_id, lk.partner_service_id) for lk in carried.links] == [
        (world.orgs["caf"].id, None),
        (msa.id, None),
    ]
    assert [lk.status for lk in carried.links] == ["pending", "pending"]


def test_last_year_links_are_the_previous_answers_links_by_id(session, world):
    alice = who(session, world, "alice")
    found = last_year_links(session, alice)
    stored = session.exec(
        select(DeclaredLink).join(Response).where(Response.campaign_id == world.last_year.id)
    ).all()
    assert set(found) == {lk.id for lk in stored}
    # Every link, the one marked « plus de contact » too: the page compares against them.
    assert sorted(a.status for a in found.values()) == ["ended", "new", "new"]
    assert {a.partner_organisation_id for a in found.values()} == {
        world.orgs["caf"].id,
        world.orgs["siao"].id,
        world.orgs["msa"].id,
    }
    assert last_year_links(session, who(session, world, "bruno")) == {}


def test_current_answers_say_where_they_come_from(session, world):
    bruno = who(session, world, "bruno")
    answers, source = current_answers(session, bruno)
    # Nothing stored, nothing from last year: empty, with the function on his record.
    assert source == "empty" and answers == Answers(function="Assistant social")
    assert save(session, bruno, Answers(function="AS", comment="Brouillon")).ok
    answers, source = current_answers(session, who(session, world, "bruno"))
    assert source == "draft" and (answers.function, answers.comment) == ("AS", "Brouillon")
    done = Answers(function="AS", links=[complete_link(world.orgs["ccas"].id)])
    assert save(session, who(session, world, "bruno"), done, submit=True).ok
    answers, source = current_answers(session, who(session, world, "bruno"))
    assert source == "submitted" and answers.declared_partner_count == 1


# --- bodies ---------------------------------------------------------------------------------


def test_bodies_shown_are_the_territorys_active_ones_and_those_already_chosen(session, world):
    t = world.territory.id
    closed = Body(territory_id=t, name="Ancienne commission", active=False)
    atelier = Body(territory_id=t, name="Atelier logement")
    foreign = Body(territory_id=world.other_territory.id, name="Commission de Tulle")
    session.add_all([closed, atelier, foreign])
    session.commit()
    shown = bodies_to_show(session, t)
    # By name; the closed one and the other territory's are not offered.
    assert [b.name for b in shown] == ["Atelier logement", "Commission SIAO hebdomadaire"]
    # A closed body stays shown to whom sits in it; another territory's never.
    shown = bodies_to_show(session, t, [closed.id, foreign.id])
    assert [b.name for b in shown] == [
        "Ancienne commission",
        "Atelier logement",
        "Commission SIAO hebdomadaire",
    ]


def test_a_body_must_be_the_territorys_and_ticked_once(session, world):
    r = who(session, world, "bruno")
    siao = world.bodies["siao"].id
    foreign = Body(territory_id=world.other_territory.id, name="Commission de Tulle")
    session.add(foreign)
    session.commit()
    for body_ids, message in [
        ([siao, foreign.id], "Une instance choisie n'existe pas."),
        ([987654], "Une instance choisie n'existe pas."),
        ([siao, siao], "Une même instance est cochée deux fois."),
    ]:
        problems = check(session, r, Answers(body_ids=body_ids), submitting=False)
        assert [p.as_dict() for p in problems] == [{"field": "body_ids", "message": message}]
    assert check(session, r, Answers(body_ids=[siao]), submitting=False) == []


# --- checking -------------------------------------------------------------------------------


def test_codes_outside_the_vocabulary_are_refused_one_message_per_question(session, world):
    r = who(session, world, "bruno")
    # The API's types refuse these codes already; an unvalidated copy (as a form could build)
    # still meets check().
    bad = Answers().model_copy(
        update={"years_in_post": "toujours", "obstacles": ["lack_of_time", "x1", "x2"]}
    )
    problems = check(session, r, bad, submitting=False)
    assert [p.as_dict() for p in problems] == [
        {"field": "years_in_post", "message": "Choisissez une durée dans la liste."},
        # Only the first unknown code is named.
        {"field": "obstacles", "message": "« x1 » n'est pas une réponse possible."},
    ]
    twice = Answers(obstacles=["turnover", "lack_of_time", "turnover"])
    assert [p.as_dict() for p in check(session, r, twice, submitting=False)] == [
        {"field": "obstacles", "message": "Une même réponse est cochée deux fois."}
    ]
    # An unknown code ticked twice: one message, the unknown code.
    both = Answers().model_copy(update={"obstacles": ["x1", "x1"]})
    assert [p.message for p in check(session, r, both, submitting=False)] == [
        "« x1 » n'est pas une réponse possible."
    ]
    assert check(session, r, Answers(obstacles=["turnover", "other"]), submitting=False) == []


def test_a_partners_codes_are_checked_single_answers_first(session, world):
    r = who(session, world, "bruno")
    ccas = world.orgs["ccas"].id
    link = LinkAnswer(partner_organisation_id=ccas).model_copy(
        update={
            "frames": ["agreement", "agreement"],
            "channels": ["pigeon"],
            "nature": "secret",
            "frequency": "daily",
        }
    )
    # Quality is a plain number in the API: 7 gets through the types and check() refuses it.
    link.quality = 7
    problems = check(session, r, Answers(links=[link]), submitting=False)
    assert [p.as_dict() for p in problems] == [
        {"field": "links.0.nature", "message": "Choisissez formel, informel ou les deux."},
        {"field": "links.0.frequency", "message": "Choisissez une fréquence dans la liste."},
        {"field": "links.0.quality", "message": "Choisissez une appréciation dans la liste."},
        {"field": "links.0.frames", "message": "Une même réponse est cochée deux fois."},
        {"field": "links.0.channels", "message": "« pigeon » n'est pas une réponse possible."},
    ]
    fine = LinkAnswer(partner_organisation_id=ccas, quality=4, nature="both", frequency="weekly")
    assert check(session, r, Answers(links=[fine]), submitting=False) == []


def test_each_partner_must_be_a_structure_of_the_territory(session, world):
    r = who(session, world, "bruno")
    msa = world.orgs["msa"]
    msa.status, msa.merged_into_id = "merged", world.orgs["caf"].id
    session.add(msa)
    session.commit()
    missing = "Ce partenaire n'existe pas dans le répertoire de votre territoire."
    answers = Answers(
        links=[
            LinkAnswer(partner_organisation_id=world.orgs["old"].id),  # archived
            LinkAnswer(partner_organisation_id=msa.id),  # merged
            LinkAnswer(partner_organisation_id=world.foreign_org.id),  # Corrèze
            LinkAnswer(partner_organisation_id=987654),  # nowhere
            LinkAnswer(),  # nothing chosen
            LinkAnswer(write_in={"name": "   ", "type": "association"}),  # a blank name
            LinkAnswer(partner_organisation_id=world.orgs["ccas"].id),  # fine
        ]
    )
    names = PartnerNames()
    problems = check(session, r, answers, submitting=False, names=names)
    assert [p.as_dict() for p in problems] == [
        {"field": "links.0.partner_organisation_id", "message": missing},
        {"field": "links.1.partner_organisation_id", "message": missing},
        {"field": "links.2.partner_organisation_id", "message": missing},
        {"field": "links.3.partner_organisation_id", "message": missing},
        {"field": "links.4.partner_organisation_id", "message": "Choisissez un partenaire."},
        {"field": "links.5.partner_organisation_id", "message": "Choisissez un partenaire."},
    ]
    # The names found are the territory's only (the foreign CAF is not named).
    assert world.foreign_org.id not in names.organisations
    assert names.organisations[world.orgs["ccas"].id] == "CCAS de Guéret"


def test_a_service_must_belong_to_its_partner(session, world):
    r = who(session, world, "bruno")
    siao, ccas = world.orgs["siao"].id, world.orgs["ccas"].id
    jour, s115 = world.services["jour"].id, world.services["siao115"].id
    wrong = "Ce service n'appartient pas à ce partenaire."
    names = PartnerNames()
    answers = Answers(
        links=[
            LinkAnswer(partner_organisation_id=ccas, partner_service_id=jour),
            LinkAnswer(partner_organisation_id=siao, partner_service_id=987654),
            LinkAnswer(partner_organisation_id=siao, partner_service_id=s115),
        ]
    )
    problems = check(session, r, answers, submitting=False, names=names)
    assert [p.as_dict() for p in problems] == [
        {"field": "links.0.partner_service_id", "message": wrong},
        {"field": "links.1.partner_service_id", "message": wrong},
    ]
    assert names.organisations == {ccas: "CCAS de Guéret", siao: "SIAO de la Creuse"}
    assert names.services == {jour: "Centre de jour", s115: "115"}
    # A service whose structure is not among the answers is never named.
    names = PartnerNames()
    check(session, r, Answers(links=[answers.links[0]]), submitting=False, names=names)
    assert names.services == {}


def test_a_partner_named_twice_is_refused_the_same_structure_with_two_services_is_not(
    session, world
):
    r = who(session, world, "bruno")
    siao = world.orgs["siao"].id
    jour, s115 = world.services["jour"].id, world.services["siao115"].id
    twice = "Ce partenaire figure déjà plus haut."
    fine = Answers(
        links=[
            LinkAnswer(partner_organisation_id=siao, partner_service_id=jour),
            LinkAnswer(partner_organisation_id=siao, partner_service_id=s115),
            LinkAnswer(partner_organisation_id=siao),
        ]
    )
    assert check(session, r, fine, submitting=False) == []
    dup = Answers(links=[*fine.links, fine.links[1]])
    assert [p.as_dict() for p in check(session, r, dup, submitting=False)] == [
        {"field": "links.3.partner_organisation_id", "message": twice}
    ]
    # A write-in written twice, whatever the case, accents, hyphens, apostrophes or spaces.
    write_ins = Answers(
        links=[
            LinkAnswer(write_in={"name": "Épicerie d'Aubusson", "type": "association"}),
            LinkAnswer(write_in={"name": "epicerie  D AUBUSSON", "type": "association"}),
            LinkAnswer(write_in={"name": "Épicerie-d'Aubusson", "type": "association"}),
            LinkAnswer(write_in={"name": "Épicerie d'Aubusson 2", "type": "association"}),
        ]
    )
    assert [p.as_dict() for p in check(session, r, write_ins, submitting=False)] == [
        {"field": "links.1.partner_organisation_id", "message": twice},
        {"field": "links.2.partner_organisation_id", "message": twice},
    ]


def test_a_write_in_needs_a_known_type(session, world):
    r = who(session, world, "bruno")
    link = LinkAnswer(write_in={"name": "Asso", "type": "association"})
    link.write_in.type = "club-de-foot"  # an unvalidated copy, as a form could build
    assert [p.as_dict() for p in check(session, r, Answers(links=[link]), submitting=False)] == [
        {"field": "links.0.write_in.type", "message": "Choisissez un type de structure."}
    ]


def test_submitting_asks_the_three_questions_of_each_partner_still_worked_with(session, world):
    r = who(session, world, "bruno")
    orgs = world.orgs
    answers = Answers(
        links=[
            LinkAnswer(partner_organisation_id=orgs["ccas"].id, status="pending"),
            LinkAnswer(partner_organisation_id=orgs["caf"].id),
            # « Plus de contact »: nothing more is asked.
            LinkAnswer(partner_organisation_id=orgs["msa"].id, status="ended"),
            # Something built together written in the « autre » box is enough.
            LinkAnswer(
                partner_organisation_id=orgs["siao"].id,
                status="confirmed",
                nature="informal",
                practice_other="Permanence commune",
            ),
        ]
    )
    assert check(session, r, answers, submitting=False) == []
    assert [p.as_dict() for p in check(session, r, answers, submitting=True)] == [
        {
            "field": "links.0.status",
            "message": "Indiquez si vous travaillez toujours avec ce partenaire "
            "ou s'il n'y a plus de contact.",
        },
        {"field": "links.0.nature", "message": "Indiquez si ce lien est formel ou informel."},
        {
            "field": "links.0.practices",
            "message": "Indiquez au moins une chose construite ensemble.",
        },
        {"field": "links.1.nature", "message": "Indiquez si ce lien est formel ou informel."},
        {
            "field": "links.1.practices",
            "message": "Indiquez au moins une chose construite ensemble.",
        },
    ]


def test_check_uses_the_partners_read_with_the_link(session, world, engine):
    """`detached_respondent` reads the answers' partners with the respondent (on PostgreSQL):
    check() then asks the database nothing more about them."""
    r = who(session, world, "bruno")
    ccas, caf = world.orgs["ccas"], world.orgs["caf"]
    msa_id = world.orgs["msa"].id  # read now: the count below is of check()'s statements
    r.partners = KnownPartners(
        frozenset({ccas.id, caf.id}),
        {
            ccas.id: PartnerRow(ccas.id, "active", ccas.name),
            caf.id: PartnerRow(caf.id, "active", caf.name),
        },
    )
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    answers = Answers(links=[LinkAnswer(partner_organisation_id=ccas.id)])
    event.listen(engine, "before_cursor_execute", count)
    try:
        # Nothing to look up (a written-in partner, no body, no partner read with the link):
        # no statement at all.
        plain = who(session, world, "bruno")
        statements.clear()
        write_in = Answers(links=[LinkAnswer(write_in={"name": "Asso", "type": "association"})])
        assert check(session, plain, write_in, submitting=True) == [
            Problem("links.0.nature", "Indiquez si ce lien est formel ou informel."),
            Problem("links.0.practices", "Indiquez au moins une chose construite ensemble."),
        ]
        assert statements == []
        names = PartnerNames()
        assert check(session, r, answers, submitting=False, names=names) == []
        assert statements == []
        # Only the partners answered are named, not every one read with the link.
        assert names.organisations == {ccas.id: "CCAS de Guéret"}
        # A partner not asked for with the link is looked up in the directory.
        other = Answers(links=[LinkAnswer(partner_organisation_id=msa_id)])
        names = PartnerNames()
        assert check(session, r, other, submitting=False, names=names) == []
        assert len(statements) == 1 and names.organisations == {msa_id: "MSA du Limousin"}
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # What was read with the link is authoritative: a partner archived since reads as gone.
    r.partners = KnownPartners(
        frozenset({ccas.id}), {ccas.id: PartnerRow(ccas.id, "archived", ccas.name)}
    )
    assert fields_of(check(session, r, answers, submitting=False)) == [
        "links.0.partner_organisation_id"
    ]
    # An id asked for but absent from the rows is not a structure of the territory.
    r.partners = KnownPartners(frozenset({ccas.id}), {})
    assert fields_of(check(session, r, answers, submitting=False)) == [
        "links.0.partner_organisation_id"
    ]


# --- warnings -------------------------------------------------------------------------------


def test_the_count_warning_in_french_singular_and_plural():
    ccas, caf, msa = 1, 2, 3  # no database: any ids
    two = [
        LinkAnswer(partner_organisation_id=ccas),
        LinkAnswer(partner_organisation_id=caf),
        LinkAnswer(partner_organisation_id=msa, status="ended"),  # not counted
    ]
    assert listed_partners(Answers(links=two)) == 2
    # Smaller than the list: a draft is told it blocks the submission, which then says it as
    # a problem (`count_problems`), not twice.
    assert warnings_for(Answers(declared_partner_count=1, links=two)) == [
        "Vous avez indiqué travailler avec 1 partenaire et en avez décrit 2 : corrigez le "
        "nombre ou laissez-le vide avant d'envoyer."
    ]
    assert warnings_for(Answers(declared_partner_count=1, links=two), submitting=True) == []
    assert warnings_for(Answers(declared_partner_count=3, links=two)) == [
        "Vous avez indiqué travailler avec 3 partenaires et en avez décrit 2. Ce n'est pas "
        "bloquant : vous pouvez compléter la liste ou corriger le nombre."
    ]
    assert warnings_for(Answers(declared_partner_count=2, links=two[:1])) == [
        "Vous avez indiqué travailler avec 2 partenaires et en avez décrit 1. Ce n'est pas "
        "bloquant : vous pouvez compléter la liste ou corriger le nombre."
    ]
    assert warnings_for(Answers(declared_partner_count=2, links=two)) == []
    assert warnings_for(Answers(links=two)) == []  # left blank
    assert warnings_for(Answers(declared_partner_count=0)) == []


def test_a_refused_save_still_gives_the_warnings(session, world):
    r = who(session, world, "bruno")
    answers = Answers(declared_partner_count=5, links=[LinkAnswer()])
    result = save(session, r, answers)
    assert not result.ok and fields_of(result.problems) == ["links.0.partner_organisation_id"]
    assert len(result.warnings) == 1 and "avec 5 partenaires" in result.warnings[0]
    assert result.response is None and result.stored is None


# --- saving ---------------------------------------------------------------------------------


def test_a_draft_keeps_the_count_blank_a_submission_fills_it(session, world):
    r = who(session, world, "bruno")
    two = [complete_link(world.orgs["ccas"].id), complete_link(world.orgs["msa"].id)]
    assert save(session, r, Answers(links=two)).ok
    assert stored_response(session, r).declared_partner_count is None
    result = save(session, r, Answers(links=two), submit=True)
    assert result.ok and result.stored.declared_partner_count == 2
    assert stored_response(session, r).declared_partner_count == 2
    # Submitted: a later save is a submission too, and the blank count is filled again.
    ended = complete_link(world.orgs["msa"].id, status="ended")
    result = save(session, r, Answers(links=[two[0], ended]))
    assert result.ok and result.stored.declared_partner_count == 1
    row = stored_response(session, r)
    assert (row.status, row.declared_partner_count) == ("submitted", 1)


def test_first_save_records_who_answered_for_which_structure(session, world):
    bruno = world.pros["bruno"]
    accueil = Service(organisation_id=world.orgs["caf"].id, name="Accueil")
    session.add(accueil)
    session.flush()
    bruno.service_id = accueil.id
    session.add(bruno)
    session.commit()
    r = who(session, world, "bruno")
    answers = Answers(
        function="Assistant social",
        years_in_post="3to10",
        obstacles=["turnover"],
        obstacle_other="Trop de dossiers",
        body_ids=[world.bodies["siao"].id],
        body_other="CLS",
        comment="Rien à ajouter.",
        links=[complete_link(world.orgs["ccas"].id)],
    )
    result = save(session, r, answers, submit=True)
    assert result.ok and result.response is r.response
    row = stored_response(session, r)
    assert (row.campaign_id, row.professional_id) == (world.this_year.id, bruno.id)
    # Where he worked when answering: his structure and service.
    assert (row.organisation_id, row.service_id) == (world.orgs["caf"].id, accueil.id)
    assert (row.status, row.questionnaire_version) == ("submitted", vocab.QUESTIONNAIRE_VERSION)
    # Created, updated and submitted by this one save: the same instant.
    assert row.submitted_at is not None
    assert row.created_at == row.updated_at == row.submitted_at
    assert (row.function, row.years_in_post, row.obstacle_other) == (
        "Assistant social",
        "3to10",
        "Trop de dossiers",
    )
    assert (row.body_other, row.comment, row.declared_partner_count) == (
        "CLS",
        "Rien à ajouter.",
        1,
    )
    assert answers_of(session, row) == result.stored


def test_a_draft_then_a_submission_dates_the_submission(session, world):
    r = who(session, world, "bruno")
    assert save(session, r, Answers(links=[complete_link(world.orgs["ccas"].id)])).ok
    row = stored_response(session, r)
    assert (row.status, row.submitted_at) == ("draft", None)
    r = who(session, world, "bruno")
    assert save(session, r, Answers(links=[complete_link(world.orgs["ccas"].id)]), True).ok
    assert r.response.status == "submitted" and r.response.submitted_at is not None
    row = stored_response(session, r)
    assert row.status == "submitted" and row.submitted_at is not None
    assert row.updated_at >= row.created_at


def test_saving_again_replaces_links_tags_obstacles_and_bodies(session, world):
    r = who(session, world, "bruno")
    second = Body(territory_id=world.territory.id, name="Atelier logement")
    session.add(second)
    session.commit()
    first = Answers(
        obstacles=["turnover", "lack_of_time"],
        body_ids=[world.bodies["siao"].id, second.id],
        links=[
            complete_link(world.orgs["ccas"].id, frames=["protocol"]),
            complete_link(world.orgs["msa"].id, channels=["phone", "email"]),
        ],
    )
    assert save(session, r, first).ok
    response_id = r.response.id
    then = Answers(
        obstacles=["admin_delays"],
        body_ids=[second.id],
        links=[complete_link(world.orgs["siao"].id, thematiques=["sante"])],
    )
    r = who(session, world, "bruno")
    assert save(session, r, then).ok and r.response.id == response_id
    session.expire_all()
    stored = stored_links(session, response_id)
    assert [lk.partner_organisation_id for lk in stored] == [world.orgs["siao"].id]
    tags = session.exec(select(LinkTag.link_id, LinkTag.kind, LinkTag.code)).all()
    mine = [(k, c) for link_id, k, c in tags if link_id == stored[0].id]
    assert sorted(mine) == [("practice", "referral"), ("thematique", "sante")]
    # No tag is left without its link.
    link_ids = set(session.exec(select(DeclaredLink.id)).all())
    assert all(link_id in link_ids for link_id, _, _ in tags)
    obstacles = session.exec(
        select(ResponseObstacle.code).where(ResponseObstacle.response_id == response_id)
    ).all()
    bodies = session.exec(
        select(ResponseBody.body_id).where(ResponseBody.response_id == response_id)
    ).all()
    assert (list(obstacles), list(bodies)) == (["admin_delays"], [second.id])


def test_links_are_stored_in_order_with_their_tags_and_tag_bits(session, world):
    r = who(session, world, "bruno")
    answers = Answers(
        links=[
            complete_link(
                world.orgs["msa"].id,
                frames=["protocol", "agreement"],
                practices=["referral", "case_conference"],
                thematiques=["sante"],
            ),
            complete_link(world.orgs["ccas"].id, channels=["meeting"]),
            LinkAnswer(write_in={"name": "Club de prévention", "type": "association"}),
        ]
    )
    result = save(session, r, answers)
    assert result.ok
    stored = stored_links(session, r.response.id)
    assert [lk.position for lk in stored] == [0, 1, 2]
    assert [lk.partner_organisation_id for lk in stored[:2]] == [
        world.orgs["msa"].id,
        world.orgs["ccas"].id,
    ]
    club = session.exec(select(Organisation).where(Organisation.name == "Club de prévention")).one()
    assert stored[2].partner_organisation_id == club.id
    assert result.stored.links[2].partner_organisation_id == club.id
    assert result.stored.links[2].write_in is None
    # The stored answers list the codes sorted (as answers_of reads them).
    assert result.stored.links[0].frames == ["agreement", "protocol"]
    assert result.stored.links[0].practices == ["case_conference", "referral"]
    tags = {
        lk.id: sorted(
            session.exec(select(LinkTag.kind, LinkTag.code).where(LinkTag.link_id == lk.id)).all()
        )
        for lk in stored
    }
    assert tags[stored[0].id] == [
        ("frame", "agreement"),
        ("frame", "protocol"),
        ("practice", "case_conference"),
        ("practice", "referral"),
        ("thematique", "sante"),
    ]
    assert tags[stored[1].id] == [("channel", "meeting"), ("practice", "referral")]
    assert tags[stored[2].id] == []
    # The graph's bits: the practices and thematiques tagged (frames and channels count none).
    assert stored[0].tag_bits == tagbits.tag_bits(
        [("practice", "referral"), ("practice", "case_conference"), ("thematique", "sante")]
    )
    assert stored[0].tag_bits != 0
    assert stored[1].tag_bits == tagbits.tag_bits([("practice", "referral")])
    assert stored[2].tag_bits == 0


def test_a_contact_is_kept_only_when_named_and_consent_only_with_a_name(session, world):
    r = who(session, world, "bruno")
    orgs = world.orgs
    answers = Answers(
        links=[
            # Named, with consent: both kept.
            LinkAnswer(
                partner_organisation_id=orgs["ccas"].id,
                has_named_contact=True,
                contact_name="Mme Durand",
                contact_consent=True,
            ),
            # « No named contact »: a name typed before is dropped, and its consent.
            LinkAnswer(
                partner_organisation_id=orgs["caf"].id,
                has_named_contact=False,
                contact_name="M. Personne",
                contact_consent=True,
            ),
            # Not answered: the same.
            LinkAnswer(
                partner_organisation_id=orgs["msa"].id,
                contact_name="M. Inconnu",
                contact_consent=True,
            ),
            # Named but no name given: no consent to keep.
            LinkAnswer(
                partner_organisation_id=orgs["siao"].id,
                has_named_contact=True,
                contact_consent=True,
            ),
        ]
    )
    result = save(session, r, answers)
    assert result.ok
    stored = stored_links(session, r.response.id)
    expected = [
        ("Mme Durand", True, True),
        ("", False, False),
        ("", False, None),
        ("", False, True),
    ]
    assert [(lk.contact_name, lk.contact_consent, lk.has_named_contact) for lk in stored] == (
        expected
    )
    assert [
        (a.contact_name, a.contact_consent, a.has_named_contact) for a in result.stored.links
    ] == expected


def test_a_carried_link_id_is_kept_only_when_it_is_last_years_own(session, world):
    last_links = {
        lk.partner_organisation_id: lk.id
        for lk in session.exec(select(DeclaredLink).order_by(DeclaredLink.id))
    }
    caf_2025 = last_links[world.orgs["caf"].id]
    # Bruno has no answer last year: Alice's link id means nothing for him.
    bruno = who(session, world, "bruno")
    result = save(
        session,
        bruno,
        Answers(links=[complete_link(world.orgs["caf"].id, carried_from_id=caf_2025)]),
    )
    assert result.ok and result.stored.links[0].carried_from_id is None
    assert stored_links(session, bruno.response.id)[0].carried_from_id is None
    brunos = stored_links(session, bruno.response.id)[0].id
    # Alice: her own 2025 link is kept; an unknown id, or the id of someone else's link
    # (Bruno's, this year), is dropped.
    alice = who(session, world, "alice")
    answers = Answers(
        links=[
            complete_link(world.orgs["caf"].id, carried_from_id=caf_2025),
            complete_link(world.orgs["siao"].id, carried_from_id=987654),
            complete_link(world.orgs["msa"].id, carried_from_id=brunos),
            complete_link(world.orgs["ccas"].id),
        ]
    )
    result = save(session, alice, answers)
    assert [a.carried_from_id for a in result.stored.links] == [caf_2025, None, None, None]
    stored = stored_links(session, alice.response.id)
    assert [lk.carried_from_id for lk in stored] == [caf_2025, None, None, None]


def test_a_write_in_reuses_a_live_structure_of_the_territory_or_proposes_one(session, world):
    r = who(session, world, "bruno")
    answers = Answers(
        links=[
            # The same name as an active structure, written differently: reused.
            LinkAnswer(write_in={"name": "CCAS-de-GUERET", "type": "association"}),
            # The name of an archived structure: not brought back, proposed anew.
            LinkAnswer(write_in={"name": "Ancienne association", "type": "association"}),
            # The name of the other territory's CAF: a structure of this territory is proposed.
            LinkAnswer(
                write_in={"name": "CAF de la Corrèze", "type": "caf", "commune": "Felletin"}
            ),
        ]
    )
    result = save(session, r, answers)
    assert result.ok, result.problems
    reused, anew, local = (lk.partner_organisation_id for lk in result.stored.links)
    assert reused == world.orgs["ccas"].id
    assert result.names.organisations[reused] == "CCAS de Guéret"
    for org_id in (anew, local):
        assert org_id not in (world.orgs["old"].id, world.foreign_org.id)
    proposed = session.get(Organisation, local)
    assert (proposed.name, proposed.type, proposed.commune) == (
        "CAF de la Corrèze",
        "caf",
        "Felletin",
    )
    assert (proposed.status, proposed.territory_id, proposed.proposed_by_id) == (
        "proposed",
        world.territory.id,
        world.pros["bruno"].id,
    )
    assert result.names.organisations[local] == "CAF de la Corrèze"
    assert session.get(Organisation, anew).status == "proposed"
    # A proposed structure is reused by the next write-in of the same name.
    alice = who(session, world, "alice")
    again = save(
        session, alice, Answers(links=[LinkAnswer(write_in={"name": "caf de la correze"})])
    )
    assert again.ok and again.stored.links[0].partner_organisation_id == local


def test_a_first_save_racing_another_replaces_it(engine, session, world):
    """Two tabs saving a first answer at once: the second finds the response the first
    created (the database's unique constraint) and replaces its answers, as a later save
    would; other responses (Alice's this year, Bruno's last year) are left alone."""
    assert save(session, who(session, world, "alice"), Answers(comment="Alice")).ok
    _add_response(session, world, world.last_year, "bruno", comment="Bruno 2025")
    session.commit()
    late = who(session, world, "bruno")  # read before the other tab saved
    with Session(engine) as other:
        early = respondent_for_token(other, world.tokens["bruno"])
        assert save(other, early, Answers(comment="onglet 1", obstacles=["turnover"])).ok
        first_id = early.response.id
    answers = Answers(comment="onglet 2", links=[complete_link(world.orgs["ccas"].id)])
    result = save(session, late, answers, submit=True)
    assert result.ok and late.response.id == first_id
    row = stored_response(session, late)
    assert (row.id, row.comment, row.status) == (first_id, "onglet 2", "submitted")
    assert answers_of(session, row).obstacles == []
    assert len(stored_links(session, first_id)) == 1
    comments = session.exec(select(Response.comment).order_by(Response.id)).all()
    assert comments == ["", "Alice", "Bruno 2025", "onglet 2"]  # Alice's 2025 answer first


def test_a_failing_write_leaves_nothing_behind(session, world, monkeypatch):
    """Any error while writing rolls the transaction back: not even a proposed structure."""
    from survey import questionnaire

    r = who(session, world, "bruno")

    def broken(*args, **kwargs):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(questionnaire, "_write_rows", broken)
    monkeypatch.setattr(questionnaire, "_pg_write", broken)
    answers = Answers(links=[LinkAnswer(write_in={"name": "Nouvelle asso", "type": "association"})])
    with pytest.raises(RuntimeError, match="disque plein"):
        save(session, r, answers)
    session.expire_all()
    assert (
        session.exec(select(Organisation).where(Organisation.name == "Nouvelle asso")).all() == []
    )
    assert (
        session.exec(select(Response).where(Response.campaign_id == world.this_year.id)).all() == []
    )


# --- « Tout est comme l'an dernier » and submitting what is stored --------------------------------


def test_confirm_all_confirms_the_pending_partners_only():
    answers = Answers(
        links=[
            LinkAnswer(partner_organisation_id=1, status="pending"),
            LinkAnswer(partner_organisation_id=2, status="ended"),
            LinkAnswer(partner_organisation_id=3, status="confirmed"),
            LinkAnswer(partner_organisation_id=4, status="new"),
        ],
        comment="gardé",
    )
    confirmed = confirm_all(answers)
    assert [a.status for a in confirmed.links] == ["confirmed", "ended", "confirmed", "new"]
    assert confirmed.comment == "gardé"
    assert [a.status for a in answers.links][0] == "pending"  # the original is left alone
    with pytest.raises(NothingCarried) as exc:
        confirm_all(Answers(links=[answers.links[3]]))
    assert exc.value.message.startswith("Il n'y a aucun partenaire de l'an dernier à confirmer")
    with pytest.raises(NothingCarried):
        confirm_all(Answers())


def test_confirm_all_stored_saves_a_draft_with_last_years_partners_confirmed(session, world):
    r = who(session, world, "alice")
    result = confirm_all_stored(session, r)
    assert result.ok
    row = stored_response(session, r)
    assert row.status == "draft"
    stored = stored_links(session, row.id)
    assert [(lk.partner_organisation_id, lk.status) for lk in stored] == [
        (world.orgs["caf"].id, "confirmed"),
        (world.orgs["siao"].id, "confirmed"),
    ]
    assert all(lk.carried_from_id is not None for lk in stored)
    # Bruno has nothing from last year: refused, nothing written.
    with pytest.raises(NothingCarried):
        confirm_all_stored(session, who(session, world, "bruno"))
    bruno = world.pros["bruno"].id
    assert session.exec(select(Response).where(Response.professional_id == bruno)).all() == []
    with pytest.raises(CampaignNotOpen):
        confirm_all_stored(session, who(session, world, "alice_2025"))


def test_submit_stored_submits_what_is_stored_or_carried(session, world):
    # Alice's carried partners are still to confirm: nothing is submitted.
    alice = who(session, world, "alice")
    result = submit_stored(session, alice)
    assert not result.ok
    assert fields_of(result.problems) == ["links.0.status", "links.1.status"]
    assert alice.response is None
    # Bruno's draft is complete: submitting it needs no body.
    bruno = who(session, world, "bruno")
    assert save(session, bruno, Answers(links=[complete_link(world.orgs["ccas"].id)])).ok
    bruno = who(session, world, "bruno")
    result = submit_stored(session, bruno)
    assert result.ok and stored_response(session, bruno).status == "submitted"
    assert [a.partner_organisation_id for a in result.stored.links] == [world.orgs["ccas"].id]
    with pytest.raises(CampaignNotOpen):
        submit_stored(session, who(session, world, "alice_2025"))


def test_answers_of_reads_the_obstacles_in_the_vocabularys_order(session, world):
    r = who(session, world, "bruno")
    second = Body(territory_id=world.territory.id, name="Atelier logement")
    session.add(second)
    session.commit()
    answers = Answers(
        obstacles=["other", "admin_delays", "lack_of_time"],
        body_ids=[second.id, world.bodies["siao"].id],
    )
    result = save(session, r, answers)
    row = stored_response(session, r)
    read = answers_of(session, row)
    assert read.obstacles == ["lack_of_time", "admin_delays", "other"]
    assert read.body_ids == sorted([second.id, world.bodies["siao"].id])
    assert result.stored == read


def test_stored_links_read_back_in_position_order_with_sorted_codes(session, world):
    r = who(session, world, "bruno")
    orgs = world.orgs
    answers = Answers(
        links=[
            complete_link(orgs["siao"].id, channels=["phone", "email", "meeting"]),
            complete_link(orgs["ccas"].id, thematiques=["sante", "logement-hebergement"]),
            complete_link(orgs["caf"].id),
        ]
    )
    assert save(session, r, answers).ok
    # Positions are not the ids' order once a link moves up: put the CAF first.
    moved = Answers(links=[answers.links[2], answers.links[0], answers.links[1]])
    r = who(session, world, "bruno")
    assert save(session, r, moved).ok
    read = answers_of(session, stored_response(session, r))
    assert [a.partner_organisation_id for a in read.links] == [
        orgs["caf"].id,
        orgs["siao"].id,
        orgs["ccas"].id,
    ]
    assert read.links[1].channels == ["email", "meeting", "phone"]
    assert read.links[2].thematiques == ["logement-hebergement", "sante"]
    assert read.links[0].frames == [] and read.links[0].practices == ["referral"]


def test_a_problem_reads_as_the_apis_error():
    assert Problem("links.0.nature", "Indiquez…").as_dict() == {
        "field": "links.0.nature",
        "message": "Indiquez…",
    }


# --- the driver helpers of the PostgreSQL write path -----------------------------------------


def test_rows_sent_as_json_read_back_as_the_same_values():
    """`_pg_write` sends links, tags, obstacles and bodies as JSON text: what PostgreSQL
    parses back must be the rows themselves (text with accents and quotes, None, booleans)."""
    from survey.questionnaire import _json

    rows = [
        {"position": 0, "practice_other": "Réunion « mensuelle », l'après-midi", "quality": None},
        {"position": 1, "contact_consent": True, "tag_bits": 2**40},
    ]
    assert json.loads(_json(rows)) == rows
    assert json.loads(_json(["turnover"])) == ["turnover"]


def test_driver_sql_uses_the_drivers_named_parameters():
    """`_pg_execute` hands the text to psycopg itself: parameters must be in psycopg's
    `%(name)s` style, with PostgreSQL's SQL."""
    from sqlalchemy import bindparam
    from sqlalchemy import select as sa_select

    from survey.questionnaire import _driver_sql

    sql = _driver_sql(
        sa_select(Response.id).where(Response.id == bindparam("response_id")).limit(1)
    )
    assert "%(response_id)s" in sql and sql.startswith("SELECT response.id")
    assert "LIMIT %(param_1)s" in sql


def test_a_statement_run_by_the_driver_is_in_the_sessions_transaction(session, world):
    """`_pg_execute` runs on the session's own connection: what it writes is seen by the
    session and undone by its rollback; the driver's errors come out as SQLAlchemy's
    (save() retries on IntegrityError), with the statement and its parameters."""
    from sqlalchemy.exc import IntegrityError

    from survey.questionnaire import _pg_execute

    last = session.exec(select(Response).where(Response.campaign_id == world.last_year.id)).one()
    pg = session.get_bind().dialect.name == "postgresql"
    insert_sql = "INSERT INTO responseobstacle (response_id, code) VALUES ({r}, {c})".format(
        **({"r": "%(r)s", "c": "%(c)s"} if pg else {"r": ":r", "c": ":c"})
    )
    select_sql = "SELECT count(*) FROM responseobstacle WHERE response_id = " + (
        "%(r)s" if pg else ":r"
    )
    _pg_execute(session, insert_sql, {"r": last.id, "c": "turnover"})
    assert _pg_execute(session, select_sql, {"r": last.id}).fetchone()[0] == 2
    codes = session.exec(
        select(ResponseObstacle.code).where(ResponseObstacle.response_id == last.id)
    ).all()
    assert sorted(codes) == ["lack_of_time", "turnover"]
    session.rollback()
    assert _pg_execute(session, select_sql, {"r": last.id}).fetchone()[0] == 1
    session.rollback()
    # The same obstacle twice: the primary key refuses it.
    params = {"r": last.id, "c": "lack_of_time"}
    with pytest.raises(IntegrityError) as exc:
        _pg_execute(session, insert_sql, params)
    assert exc.value.statement == insert_sql and exc.value.params == params
    assert exc.value.orig is not None and exc.value.orig is exc.value.__cause__
    session.rollback()

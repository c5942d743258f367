"""The demo territory « 23 — Creuse »: idempotent, plausible, valid, deterministic."""

from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, SQLModel, col, select

from survey import demo, links, migrate, questionnaire, vocab
from survey.db import make_engine
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
    Territory,
)
from survey.questionnaire import years_in_post_later
from tests.conftest import TEST_SECRET


def load(session: Session) -> Territory:
    assert demo.load(session, TEST_SECRET) is True
    return session.exec(select(Territory).where(Territory.code == "23")).one()


def campaign(session: Session, year: int) -> Campaign:
    return session.exec(select(Campaign).where(Campaign.year == year)).one()


def count(session: Session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def row_counts(session: Session) -> dict[str, int]:
    return {
        t.name: session.exec(select(func.count()).select_from(t)).one()
        for t in SQLModel.metadata.sorted_tables
    }


def responses(session: Session, year: int, status: str) -> int:
    return session.exec(
        select(func.count())
        .select_from(Response)
        .join(Campaign, Campaign.id == Response.campaign_id)
        .where(Campaign.year == year, Response.status == status)
    ).one()


def n_invited(session: Session, year: int) -> int:
    """Professionals with a live link for that year's campaign."""
    return session.exec(
        select(func.count())
        .select_from(Invitation)
        .join(Campaign, Campaign.id == Invitation.campaign_id)
        .where(Campaign.year == year, Invitation.revoked_at.is_(None))
    ).one()


def test_load_twice_changes_nothing_the_second_time(session):
    # Load time is measured in bench/, never asserted here (docs/performance.md).
    load(session)
    before = row_counts(session)
    assert demo.load(session, TEST_SECRET) is False
    assert row_counts(session) == before
    assert before["territory"] == 1 and before["declaredlink"] > 500


def test_sizes_are_those_of_a_small_departement(session):
    territory = load(session)
    assert territory.name == "Creuse"
    active = session.exec(select(Organisation).where(Organisation.status == "active")).all()
    assert 25 <= len(active) <= 30
    names = {o.name for o in active}
    for expected in ("CAF de la Creuse", "CARSAT Centre-Ouest", "CCAS de Guéret",
                     "CCAS d'Aubusson", "Mission locale de la Creuse", "MSA du Limousin",
                     "SIAO de la Creuse", "UDAF de la Creuse", "France Travail Guéret",
                     "CPAM de la Creuse", "SPIP de la Creuse", "DDT de la Creuse"):  # fmt: skip
        assert expected in names
    siao = next(o for o in active if o.name == "SIAO de la Creuse")
    assert set(
        session.exec(select(Service.name).where(Service.organisation_id == siao.id)).all()
    ) == {"115", "Centre de jour"}
    utas = session.exec(select(Service.name).where(col(Service.name).startswith("UTAS"))).all()
    assert len(utas) == 4
    assert count(session, Body) == 7  # six instances respondents sit in, and the CCAPEX

    pros = session.exec(select(Professional)).all()
    assert 75 <= len(pros) <= 90
    assert all(p.email.endswith("@example.org") and p.function for p in pros)
    assert len({p.email for p in pros}) == len(pros)
    leavers = {p.id for p in pros if not p.active}
    successors = [p for p in pros if p.took_over_from_id in leavers]
    # Every leaver has a successor, but for the posts nobody filled again.
    assert len(successors) >= 5
    assert len(successors) == len(leavers) - len(demo.LEFT_UNREPLACED)
    assert all(s.active for s in successors)

    # Of the people invited: 2024 about 58 % submitted, 2025 about 70 %; 2026 (open) ~45 %
    # submitted and ~10 % drafts so far.
    assert 0.5 <= responses(session, 2024, "submitted") / n_invited(session, 2024) <= 0.65
    assert 0.6 <= responses(session, 2025, "submitted") / n_invited(session, 2025) <= 0.8
    n_active = len(pros) - len(leavers)
    assert n_invited(session, 2026) == n_active
    assert 0.38 <= responses(session, 2026, "submitted") / n_active <= 0.52
    assert 0.05 <= responses(session, 2026, "draft") / n_active <= 0.15

    # 3 to 15 partners per 2025 respondent.
    per_response = session.exec(
        select(func.count(DeclaredLink.id))
        .join(Response, Response.id == DeclaredLink.response_id)
        .where(Response.campaign_id == campaign(session, 2025).id, Response.status == "submitted")
        .group_by(Response.id)
    ).all()
    assert min(per_response) >= 3 and max(per_response) <= 15
    assert demo.LONG_LIST_PARTNERS in per_response  # the long carried questionnaire

    # A live 2026 link for every active professional, and none for those who left.
    invited = session.exec(
        select(Invitation.professional_id).where(
            Invitation.campaign_id == campaign(session, 2026).id, Invitation.revoked_at.is_(None)
        )
    ).all()
    assert sorted(invited) == sorted(p.id for p in pros if p.active)


def test_2024_and_2025_are_closed_and_2026_open(session):
    load(session)
    statuses = dict(session.exec(select(Campaign.year, Campaign.status)).all())
    assert statuses == {2024: "closed", 2025: "closed", 2026: "open"}
    for year in (2024, 2025):
        last = campaign(session, year)
        assert last.opens_on.year == last.closes_on.year == year
        assert last.opens_on < last.closes_on
    this = campaign(session, 2026)
    assert (this.opens_on, this.closes_on) == (date(2026, 3, 1), date(2026, 12, 15))
    assert "partenaires" in this.introduction
    introductions = session.exec(select(Campaign.introduction)).all()
    assert len(set(introductions)) == 3  # each year says where the territory stands
    # Every answer falls within its own campaign.
    for year in (2024, 2025, 2026):
        c = campaign(session, year)
        days = session.exec(select(Response.updated_at).where(Response.campaign_id == c.id)).all()
        assert days and all(c.opens_on <= d.date() <= c.closes_on for d in days), year


def test_every_stored_code_is_a_vocabulary_code(session):
    load(session)

    def distinct(column, *where) -> set:
        return set(session.exec(select(column).where(*where).distinct()).all())

    assert distinct(Organisation.type) <= set(vocab.ORG_TYPES)
    assert distinct(Organisation.status) == {"active", "proposed"}
    assert distinct(Response.status) == {"draft", "submitted"}
    assert distinct(Response.questionnaire_version) == {vocab.QUESTIONNAIRE_VERSION}
    assert distinct(Response.years_in_post) <= set(vocab.YEARS_IN_POST)
    assert distinct(DeclaredLink.status) == set(vocab.LINK_STATUSES)
    assert distinct(DeclaredLink.nature) - {None} == set(vocab.NATURES)
    assert distinct(DeclaredLink.frequency) - {None} == set(vocab.FREQUENCIES)
    assert distinct(DeclaredLink.quality) - {None} <= set(vocab.QUALITIES)
    assert distinct(ResponseObstacle.code) <= set(vocab.OBSTACLES)
    allowed = {
        "frame": vocab.FRAMES,
        "channel": vocab.CHANNELS,
        "practice": vocab.PRACTICES,
        "thematique": vocab.THEMATIQUES,
    }
    assert distinct(LinkTag.kind) == set(allowed)
    for kind, codes in allowed.items():
        used = distinct(LinkTag.code, LinkTag.kind == kind)
        assert used and used <= set(codes), kind
    # Frames only on formal links, channels only on informal ones.
    framed = session.exec(
        select(DeclaredLink.nature)
        .join(LinkTag, LinkTag.link_id == DeclaredLink.id)
        .where(LinkTag.kind == "frame")
        .distinct()
    ).all()
    assert set(framed) <= {"formal", "both"}


def test_submitted_answers_pass_the_questionnaire_rules(session):
    territory = load(session)
    submitted = session.exec(select(Response).where(Response.status == "submitted")).all()
    assert submitted
    for response in submitted:
        r = questionnaire.Respondent(
            invitation=None,
            campaign=session.get(Campaign, response.campaign_id),
            territory=territory,
            professional=session.get(Professional, response.professional_id),
            organisation=session.get(Organisation, response.organisation_id),
            response=response,
        )
        answers = questionnaire.answers_of(session, response)
        assert questionnaire.check(session, r, answers, submitting=True) == [], response.id


def _org_edges(session: Session, year: int) -> dict[tuple[int, int], int]:
    """(respondent structure, partner structure) -> number of professionals naming it."""
    rows = session.exec(
        select(
            Response.organisation_id,
            DeclaredLink.partner_organisation_id,
            func.count(func.distinct(Response.professional_id)),
        )
        .join(DeclaredLink, DeclaredLink.response_id == Response.id)
        .join(Campaign, Campaign.id == Response.campaign_id)
        .where(
            Campaign.year == year, Response.status == "submitted", DeclaredLink.status != "ended"
        )
        .group_by(Response.organisation_id, DeclaredLink.partner_organisation_id)
    ).all()
    return {(a, b): n for a, b, n in rows}


def test_the_network_has_the_features_the_figures_need(session):
    load(session)
    for year in (2024, 2025, 2026):
        edges = _org_edges(session, year)
        carriers = list(edges.values())
        assert carriers.count(1) >= 10, "links carried by a single professional"
        assert sum(1 for n in carriers if n >= 2) >= 10
        answering = {a for a, _ in edges}
        one_sided = [(a, b) for a, b in edges if b in answering and (b, a) not in edges]
        mutual = [(a, b) for a, b in edges if (b, a) in edges]
        assert len(one_sided) >= 5 and len(mutual) >= 5

    natures = dict(
        session.exec(select(DeclaredLink.nature, func.count()).group_by(DeclaredLink.nature)).all()
    )
    assert natures["formal"] >= 30 and natures["both"] >= 30
    assert natures["informal"] > natures["formal"] + natures["both"]  # many informal

    proposed = session.exec(select(Organisation).where(Organisation.status == "proposed")).all()
    assert "Épicerie solidaire de Bourganeuf" in {o.name for o in proposed}
    for org in proposed:
        assert org.proposed_by_id is not None
        named = session.exec(
            select(func.count()).where(DeclaredLink.partner_organisation_id == org.id)
        ).one()
        assert named >= 1

    # 2026 carries 2025 with changes: confirmed, ended, new, informal -> formal.
    old = aliased(DeclaredLink)
    carried = session.exec(
        select(DeclaredLink.status, old.nature, DeclaredLink.nature).join(
            old, old.id == DeclaredLink.carried_from_id
        )
    ).all()
    statuses = [s for s, _, _ in carried]
    assert statuses.count("confirmed") > 10 * statuses.count("ended") / 2
    assert statuses.count("ended") >= 3 and statuses.count("pending") >= 3
    assert any(a == "informal" and b in ("formal", "both") for _, a, b in carried)
    new_in_carried = session.exec(
        select(func.count())
        .select_from(DeclaredLink)
        .where(
            DeclaredLink.status == "new",
            col(DeclaredLink.response_id).in_(
                select(DeclaredLink.response_id).where(DeclaredLink.carried_from_id.is_not(None))
            ),
        )
    ).one()
    assert new_in_carried >= 5

    assert count(session, ResponseObstacle) > 50 and count(session, ResponseBody) > 30
    comments = session.exec(select(Response.comment).where(Response.comment != "")).all()
    assert 3 <= len(comments) <= 30


# --- three years of change ------------------------------------------------------------------


def _presence(session: Session, org_id: int) -> dict[str, set[int]]:
    """The years a structure was invited (its staff), answered (submitted) and was named."""
    invited_in = session.exec(
        select(Campaign.year)
        .join(Invitation, Invitation.campaign_id == Campaign.id)
        .join(Professional, Professional.id == Invitation.professional_id)
        .where(Professional.organisation_id == org_id)
        .distinct()
    ).all()
    answered_in = session.exec(
        select(Campaign.year)
        .join(Response, Response.campaign_id == Campaign.id)
        .where(Response.organisation_id == org_id, Response.status == "submitted")
        .distinct()
    ).all()
    named_in = session.exec(
        select(Campaign.year)
        .join(Response, Response.campaign_id == Campaign.id)
        .join(DeclaredLink, DeclaredLink.response_id == Response.id)
        .where(DeclaredLink.partner_organisation_id == org_id)
        .distinct()
    ).all()
    return {"invited": set(invited_in), "answered": set(answered_in), "named": set(named_in)}


def test_some_structures_open_after_the_first_campaign(session):
    load(session)
    orgs = session.exec(select(Organisation).where(Organisation.status == "active")).all()
    presence = {o.name: _presence(session, o.id) for o in orgs}
    late = {
        name: set().union(*seen.values())
        for name, seen in presence.items()
        if 2024 not in set().union(*seen.values())
    }
    # Opened in 2025: nothing in 2024, then invited, answering and named both later years.
    mobility = presence["Pôle mobilité de la Creuse"]
    assert mobility["invited"] == {2025, 2026}
    assert mobility["answered"] and mobility["answered"] <= {2025, 2026}
    assert mobility["named"] and mobility["named"] <= {2025, 2026}
    # Opened in 2026: invited this year only.
    assert late["France services d'Aubusson"] == {2026}
    assert presence["France services d'Aubusson"]["invited"] == {2026}
    # Everyone else was there from the first campaign.
    assert set(late) == {"Pôle mobilité de la Creuse", "France services d'Aubusson"}
    # A structure written in for the first time after 2024.
    proposed = session.exec(
        select(Organisation).where(Organisation.name == "Épicerie solidaire de Bourganeuf")
    ).one()
    named = _presence(session, proposed.id)["named"]
    assert named and 2024 not in named


def _natures(session: Session, year: int) -> dict[tuple[int, int], set[str]]:
    """(respondent structure, partner structure) -> natures given that year (links kept)."""
    rows = session.exec(
        select(Response.organisation_id, DeclaredLink.partner_organisation_id, DeclaredLink.nature)
        .join(DeclaredLink, DeclaredLink.response_id == Response.id)
        .join(Campaign, Campaign.id == Response.campaign_id)
        .where(
            Campaign.year == year, Response.status == "submitted", DeclaredLink.status != "ended"
        )
    ).all()
    out: dict[tuple[int, int], set[str]] = {}
    for a, b, nature in rows:
        out.setdefault((a, b), set()).add(nature)
    return out


def test_links_formalise_appear_and_end_from_2024_to_2025(session):
    load(session)
    before, after = _natures(session, 2024), _natures(session, 2025)
    formalised = [
        pair
        for pair in before.keys() & after.keys()
        if before[pair] == {"informal"} and after[pair] & {"formal", "both"}
    ]
    assert len(formalised) >= 3
    assert len(after.keys() - before.keys()) >= 10  # new partnerships
    assert len(before.keys() - after.keys()) >= 10  # partnerships no longer cited
    # Told by the respondents themselves: links carried from 2024 marked « plus de contact ».
    old, old_response, old_campaign = aliased(DeclaredLink), aliased(Response), aliased(Campaign)
    carried = session.exec(
        select(DeclaredLink.status, old.nature, DeclaredLink.nature)
        .join(old, old.id == DeclaredLink.carried_from_id)
        .join(old_response, old_response.id == old.response_id)
        .join(old_campaign, old_campaign.id == old_response.campaign_id)
        .join(Response, Response.id == DeclaredLink.response_id)
        .join(Campaign, Campaign.id == Response.campaign_id)
        .where(Campaign.year == 2025, old_campaign.year == 2024)
    ).all()
    assert sum(1 for s, _, _ in carried if s == "ended") >= 3
    assert sum(1 for _, a, b in carried if a == "informal" and b in ("formal", "both")) >= 3


def test_participation_differs_by_year(session):
    load(session)
    submitted = {y: responses(session, y, "submitted") for y in (2024, 2025, 2026)}
    assert len(set(submitted.values())) == 3, submitted
    rate = {y: submitted[y] / n_invited(session, y) for y in submitted}
    assert rate[2024] + 0.05 < rate[2025]  # the first campaign was answered less
    assert rate[2026] < rate[2025]  # still open
    # People came and went: not the same people invited each year.
    people = {
        year: set(
            session.exec(
                select(Invitation.professional_id)
                .join(Campaign, Campaign.id == Invitation.campaign_id)
                .where(Campaign.year == year)
            ).all()
        )
        for year in (2024, 2025, 2026)
    }
    for earlier, later in ((2024, 2025), (2025, 2026)):
        assert len(people[earlier] - people[later]) >= 3, (earlier, later)  # left
        assert len(people[later] - people[earlier]) >= 3, (earlier, later)  # arrived


def test_2025_answers_are_carried_from_2024(session):
    load(session)
    old, old_response, old_campaign = aliased(DeclaredLink), aliased(Response), aliased(Campaign)
    rows = session.exec(
        select(
            Response.id, Response.status, Response.professional_id, Response.years_in_post,
            old_response.professional_id, old_response.status, old_response.years_in_post,
            old_campaign.year, DeclaredLink.status, DeclaredLink.partner_organisation_id,
            old.partner_organisation_id,
        )
        .join(DeclaredLink, DeclaredLink.response_id == Response.id)
        .join(old, old.id == DeclaredLink.carried_from_id)
        .join(old_response, old_response.id == old.response_id)
        .join(old_campaign, old_campaign.id == old_response.campaign_id)
        .where(Response.campaign_id == campaign(session, 2025).id)
    ).all()  # fmt: skip
    assert len({r[0] for r in rows}) >= 20  # responses starting from a 2024 answer
    took_over = dict(session.exec(select(Professional.id, Professional.took_over_from_id)).all())
    own = via_predecessor = 0
    for (_, status, pro, years, old_pro, old_status, old_years, old_year, link_status,
         partner, old_partner) in rows:  # fmt: skip
        assert old_year == 2024 and old_status == "submitted"
        assert partner == old_partner
        assert link_status in (("confirmed", "ended") if status == "submitted" else
                               ("confirmed", "ended", "pending"))  # fmt: skip
        if pro == old_pro:
            own += 1
            # The bracket moved on a year, as the questionnaire carries it.
            assert years == years_in_post_later(old_years, 1)
        else:
            assert took_over[pro] == old_pro  # the predecessor's answer
            via_predecessor += 1
            assert years == "lt1"
    assert own >= 100 and via_predecessor >= 5


def test_sample_token_opens_a_carried_questionnaire(session, client):
    assert demo.sample_token(session, TEST_SECRET) is None  # no demo yet
    load(session)
    token = demo.sample_token(session, TEST_SECRET)
    assert token and demo.sample_token(session, TEST_SECRET) == token
    invitation = links.find(session, token)
    assert invitation is not None
    r = questionnaire.load_respondent(session, invitation)
    assert r.campaign.year == 2026 and r.professional.active and r.response is None
    answers, source = questionnaire.current_answers(session, r)
    assert source == "carried"
    assert 5 <= len(answers.links) <= 10
    assert {lk.status for lk in answers.links} == {"pending"}
    # The page's API sees the same thing.
    body = client.get(f"/api/v1/questionnaire/{token}").json()
    assert body["source"] == "carried" and body["can_write"] is True
    assert len(body["links"]) == len(answers.links)


def test_sample_token_with_at_least_15_partners(session):
    assert demo.sample_token(session, TEST_SECRET, 15) is None  # no demo yet
    load(session)
    assert demo.sample_token(session, TEST_SECRET, 0) == demo.sample_token(session, TEST_SECRET)
    token = demo.sample_token(session, TEST_SECRET, 15)
    assert token and demo.sample_token(session, TEST_SECRET, 15) == token
    r = questionnaire.load_respondent(session, links.find(session, token))
    assert r.campaign.year == 2026 and r.professional.active and r.response is None
    answers, source = questionnaire.current_answers(session, r)
    assert source == "carried" and len(answers.links) >= 15
    assert {lk.status for lk in answers.links} == {"pending"}
    assert len({lk.partner_organisation_id for lk in answers.links}) == len(answers.links)
    # Their 2025 answers are complete: a function and years in post to carry too.
    assert answers.function
    last = session.exec(
        select(Response).where(
            Response.professional_id == r.professional.id,
            Response.campaign_id == campaign(session, 2025).id,
        )
    ).one()
    assert last.status == "submitted" and last.function and last.years_in_post
    # Nobody carries 500 partners; a smaller minimum still finds someone.
    assert demo.sample_token(session, TEST_SECRET, 500) is None
    assert demo.sample_token(session, TEST_SECRET, 12) is not None


def digest(session: Session) -> str:
    """Content of the demo, by names (never ids or creation times)."""
    proposer, predecessor = aliased(Professional), aliased(Professional)
    old, old_response, old_pro = aliased(DeclaredLink), aliased(Response), aliased(Professional)
    parts: list = []
    parts += session.exec(
        select(Organisation.name, Organisation.type, Organisation.commune, Organisation.status,
               Organisation.missions, proposer.email)
        .select_from(Organisation)
        .outerjoin(proposer, proposer.id == Organisation.proposed_by_id)
    ).all()  # fmt: skip
    parts += session.exec(
        select(Professional.full_name, Professional.email, Professional.function,
               Professional.active, Organisation.name, Service.name, predecessor.email)
        .select_from(Professional)
        .join(Organisation, Organisation.id == Professional.organisation_id)
        .outerjoin(Service, Service.id == Professional.service_id)
        .outerjoin(predecessor, predecessor.id == Professional.took_over_from_id)
    ).all()  # fmt: skip

    parts += session.exec(
        select(Campaign.year, Professional.email, Response.status, Response.years_in_post,
               Response.declared_partner_count, Response.comment, Response.obstacle_other,
               Response.body_other, Response.submitted_at)
        .select_from(Response)
        .join(Campaign, Campaign.id == Response.campaign_id)
        .join(Professional, Professional.id == Response.professional_id)
    ).all()  # fmt: skip
    org = aliased(Organisation)
    parts += session.exec(
        select(Campaign.year, Professional.email, DeclaredLink.position, org.name, Service.name,
               DeclaredLink.status, DeclaredLink.nature, DeclaredLink.frequency,
               DeclaredLink.quality, DeclaredLink.has_named_contact, DeclaredLink.contact_name,
               DeclaredLink.practice_other, old.position, old_pro.email)
        .select_from(DeclaredLink)
        .join(Response, Response.id == DeclaredLink.response_id)
        .join(Campaign, Campaign.id == Response.campaign_id)
        .join(Professional, Professional.id == Response.professional_id)
        .join(org, org.id == DeclaredLink.partner_organisation_id)
        .outerjoin(Service, Service.id == DeclaredLink.partner_service_id)
        .outerjoin(old, old.id == DeclaredLink.carried_from_id)
        .outerjoin(old_response, old_response.id == old.response_id)
        .outerjoin(old_pro, old_pro.id == old_response.professional_id)
    ).all()  # fmt: skip
    parts += session.exec(
        select(Campaign.year, Professional.email, DeclaredLink.position, LinkTag.kind,
               LinkTag.code)
        .select_from(LinkTag)
        .join(DeclaredLink, DeclaredLink.id == LinkTag.link_id)
        .join(Response, Response.id == DeclaredLink.response_id)
        .join(Campaign, Campaign.id == Response.campaign_id)
        .join(Professional, Professional.id == Response.professional_id)
    ).all()  # fmt: skip
    parts += session.exec(
        select(Campaign.year, Professional.email, ResponseObstacle.code)
        .select_from(ResponseObstacle)
        .join(Response, Response.id == ResponseObstacle.response_id)
        .join(Campaign, Campaign.id == Response.campaign_id)
        .join(Professional, Professional.id == Response.professional_id)
    ).all()
    parts += session.exec(
        select(Campaign.year, Professional.email, Body.name)
        .select_from(ResponseBody)
        .join(Body, Body.id == ResponseBody.body_id)
        .join(Response, Response.id == ResponseBody.response_id)
        .join(Campaign, Campaign.id == Response.campaign_id)
        .join(Professional, Professional.id == Response.professional_id)
    ).all()
    normalised = sorted(
        repr(tuple(v.replace(tzinfo=None) if hasattr(v, "tzinfo") else v for v in row))
        for row in parts
    )
    return hashlib.sha256("\n".join(normalised).encode()).hexdigest()


def test_demo_is_deterministic(session, tmp_path):
    load(session)
    here = digest(session)
    # A second, fresh database (SQLite, whatever the backend under test) holds the same answers.
    url = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine) as other:
            assert demo.load(other, "another-secret") is True
            assert digest(other) == here
            assert count(other, DeclaredLink) == count(session, DeclaredLink)
    finally:
        engine.dispose()


def test_the_demo_has_zones_instances_members_and_conventions(session):
    """Zones hold the communes the source names and every structure of the demo falls in
    one; each instance has official members; the conventions include one in force whose
    parties no professional declares a tie between, and one that has ended."""
    from reports.graph import build_graph
    from survey.models import BodyMember, Convention, ConventionParty, Zone
    from survey.zones import structure_zones

    assert demo.load(session, TEST_SECRET) is True
    territory = session.exec(select(Territory)).one()
    zones = structure_zones(session, territory.id)
    orgs = session.exec(select(Organisation)).all()
    assert all(o.id in zones for o in orgs)
    assert {name for _, name in zones.values()} == {name for name, _, _ in demo.ZONES}
    assert count(session, Zone) == 4
    for commune in ("Guéret", "Aubusson", "La Souterraine", "Bourganeuf", "Felletin",
                    "Boussac", "Évaux-les-Bains"):  # fmt: skip
        assert any(commune in communes for _, _, communes in demo.ZONES)
    members = session.exec(select(BodyMember.body_id)).all()
    assert set(members) == set(session.exec(select(Body.id)).all())
    by_name = {o.name: o.id for o in orgs}
    siao = session.exec(select(Body).where(Body.name == "Commission SIAO")).one()
    siao_members = set(
        session.exec(select(BodyMember.organisation_id).where(BodyMember.body_id == siao.id))
    )
    assert by_name["CAF de la Creuse"] not in siao_members
    assert by_name["CPAM de la Creuse"] not in siao_members

    current = session.exec(select(Campaign).where(Campaign.year == demo.CURRENT_YEAR)).one()
    ties = build_graph(session, current).to_undirected()
    lifeless = []
    for c in session.exec(select(Convention)).all():
        parties = session.exec(
            select(ConventionParty.organisation_id).where(ConventionParty.convention_id == c.id)
        ).all()
        in_force = c.ends_on is None or c.ends_on.year >= demo.CURRENT_YEAR
        if in_force and not any(ties.has_edge(a, b) for a in parties for b in parties if a < b):
            lifeless.append(c.title)
    assert lifeless == ["Repérage des violences intrafamiliales à l'hôpital"]
    assert any(c.ends_on and c.ends_on.year < demo.CURRENT_YEAR
               for c in session.exec(select(Convention)).all())  # fmt: skip

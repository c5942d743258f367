"""The yearly update as a returning respondent lives it, in a real browser (Debian's Chromium
driven by Playwright), on the demo's professional with 15 partners carried from last year.

Each test counts the person's actions: opening the link, each click, each field typed, each
choice. The two paths of the issue, at 1280 and 390 px wide, with and without JavaScript:
- nothing changed: open → « Tout est comme l'an dernier » → « Envoyer » = 3 actions;
- one partner made formal, one « Plus de contact », one new partner from the directory:
  at most 15 actions, and no error on the first « Envoyer ».
Screenshots go to test-artifacts/ (gitignored) so a person can look at the pages.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, col, select

from survey import demo, questionnaire
from survey.links import hash_token
from survey.models import DeclaredLink, Invitation, Organisation, Response
from tests.conftest import TEST_SECRET
from tests.test_browser_accessibility import problems, report

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
WIDTHS = {"desktop": 1280, "phone": 390}


class Person:
    """Drives the page and counts what a person does."""

    def __init__(self, page):
        self.page = page
        self.actions = 0

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.actions += 1

    def click(self, locator) -> None:
        locator.click()
        self.actions += 1

    def choose(self, locator) -> None:
        locator.check()
        self.actions += 1

    def type(self, locator, text: str) -> None:
        locator.fill(text)
        self.actions += 1

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"review-{name}.png"))


@pytest.fixture
def returning(session):
    """The demo, and the link of its professional carrying 15 partners (not started)."""
    demo.load(session, TEST_SECRET)
    token = demo.sample_token(session, TEST_SECRET, min_partners=15)
    assert token is not None
    invitation = session.exec(
        select(Invitation).where(Invitation.token_hash == hash_token(token))
    ).one()
    r = questionnaire.load_respondent(session, invitation)
    carried, source = questionnaire.current_answers(session, r)
    assert source == "carried" and len(carried.links) >= 15
    return token, r, carried


@pytest.fixture(params=[(w, js) for w in WIDTHS for js in (True, False)],
                ids=lambda p: f"{p[0]}-{'js' if p[1] else 'nojs'}")  # fmt: skip
def person(request, browser):
    width, js = request.param
    context = browser.new_context(
        locale="fr-FR",
        viewport={"width": WIDTHS[width], "height": 900 if width == "desktop" else 844},
        java_script_enabled=js,
    )
    p = Person(context.new_page())
    p.label = f"{width}-{'js' if js else 'nojs'}"
    p.js = js
    yield p
    context.close()


def _row(page, name: str):
    exact = re.compile(f"^{re.escape(name)}$")
    return page.locator("fieldset.partner", has=page.locator(".partner-name", has_text=exact))


def _stored(engine, r) -> tuple[Response, list[DeclaredLink]]:
    with Session(engine) as s:
        response = s.exec(
            select(Response).where(
                Response.campaign_id == r.campaign.id,
                Response.professional_id == r.professional.id,
            )
        ).one()
        links = list(s.exec(select(DeclaredLink).where(DeclaredLink.response_id == response.id)))
        return response, links


def test_nothing_changed_in_three_actions(live_server, engine, returning, person):
    token, r, carried = returning
    page = person.page
    person.open(f"{live_server}/q/{token}")
    expect(page.locator(".progress").first).to_contain_text("0 partenaire sur 15 vérifié")
    person.shot(f"1-open-{person.label}")
    found = problems(page, f"review-open-{person.label}") if person.js else []

    person.click(page.get_by_role("button", name="Tout est comme l'an dernier"))
    expect(page.locator(".notice.success")).to_contain_text("15 partenaires sur 15 vérifiés")
    person.shot(f"2-confirmed-{person.label}")
    if person.js:
        found += problems(page, f"review-confirmed-{person.label}")

    person.click(page.get_by_role("button", name="Envoyer mes réponses").first)
    expect(page.locator(".notice.success")).to_contain_text("vos réponses ont bien été envoyées")
    assert page.locator("#error-summary").count() == 0
    assert person.actions == 3
    assert not found, report(found)

    response, links = _stored(engine, r)
    assert response.status == "submitted"
    assert response.declared_partner_count == len(carried.links)
    assert response.years_in_post is not None and response.function
    last_year = {(a.partner_organisation_id, a.partner_service_id) for a in carried.links}
    assert {(lk.partner_organisation_id, lk.partner_service_id) for lk in links} == last_year
    assert {lk.status for lk in links} == {"confirmed"}
    assert all(lk.carried_from_id for lk in links)
    # Partners equal last year's, answer for answer.
    before = {a.carried_from_id: a for a in carried.links}
    for lk in links:
        old = before[lk.carried_from_id]
        assert (lk.nature, lk.frequency, lk.quality) == (old.nature, old.frequency, old.quality)


def test_three_changes_in_at_most_fifteen_actions(live_server, engine, session, returning, person):
    token, r, carried = returning
    page = person.page
    names = dict(
        session.exec(
            select(Organisation.id, Organisation.name).where(
                col(Organisation.id).in_([a.partner_organisation_id for a in carried.links])
            )
        ).all()
    )
    plain = [a for a in carried.links if a.partner_service_id is None]
    informal = next(a for a in plain if a.nature == "informal")
    ending = next(a for a in plain if a is not informal)
    kept = {a.partner_organisation_id for a in carried.links} | {r.organisation.id}
    newcomer = session.exec(
        select(Organisation)
        .where(
            Organisation.territory_id == r.territory.id,
            Organisation.status == "active",
            col(Organisation.id).not_in(kept),
        )
        .order_by(Organisation.name)
    ).first()
    label = f"{newcomer.name} ({newcomer.commune})" if newcomer.commune else newcomer.name

    person.open(f"{live_server}/q/{token}")
    made_formal = _row(page, names[informal.partner_organisation_id])
    if person.js:  # the questions open in place
        person.choose(made_formal.get_by_label("À modifier"))
    else:  # the line's button saves and comes back with its questions open
        person.click(made_formal.get_by_role("button", name="Modifier ses réponses"))
    made_formal = _row(page, names[informal.partner_organisation_id])
    person.choose(made_formal.get_by_label("Formel", exact=True))
    person.choose(_row(page, names[ending.partner_organisation_id]).get_by_label("Plus de contact"))

    person.type(page.get_by_label("Nom du partenaire"), label)
    added = page.locator("fieldset.partner.card.new").last
    person.choose(added.get_by_label("Informel", exact=True))
    person.choose(added.get_by_label("Orientation"))
    person.shot(f"3-changes-{person.label}")
    # axe on the page as it stands: a partner's questions open, a new partner being added.
    found = problems(page, f"review-changes-{person.label}") if person.js else []

    person.click(page.get_by_role("button", name="Tout est comme l'an dernier"))
    expect(page.locator(".notice.success")).to_contain_text("15 partenaires sur 15 vérifiés")
    person.click(page.get_by_role("button", name="Envoyer mes réponses").first)
    expect(page.locator(".notice.success")).to_contain_text("vos réponses ont bien été envoyées")
    person.shot(f"4-sent-{person.label}")
    assert person.actions <= 15, person.actions
    assert not found, report(found)

    response, links = _stored(engine, r)
    assert response.status == "submitted"
    by_org = {lk.partner_organisation_id: lk for lk in links if lk.partner_service_id is None}
    assert by_org[informal.partner_organisation_id].nature == "formal"
    assert by_org[informal.partner_organisation_id].status == "confirmed"
    assert by_org[ending.partner_organisation_id].status == "ended"
    new = by_org[newcomer.id]
    assert (new.status, new.nature) == ("new", "informal")
    assert len(links) == len(carried.links) + 1
    others = [lk for lk in links if lk.partner_organisation_id not in
              (informal.partner_organisation_id, ending.partner_organisation_id, newcomer.id)]  # fmt: skip
    assert {lk.status for lk in others} == {"confirmed"}
    assert response.declared_partner_count == len(carried.links)  # 15 - 1 ended + 1 new

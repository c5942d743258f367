"""The respondent flow in a real browser (Debian's Chromium driven by Playwright).

Screenshots go to test-artifacts/ (gitignored) so a person can look at the page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from survey.models import DeclaredLink, LinkTag, Organisation, Response
from tests.factories import build_world

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def shot(page, name: str, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"respondent-{name}.png"), full_page=full_page)


def row(page, partner: str):
    """Last year's partner as shown: one review line, or its open questions."""
    exact = re.compile(f"^{re.escape(partner)}$")
    return page.locator("fieldset.partner", has=page.locator(".partner-name", has_text=exact))


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def _third_partner_last_year(session, world) -> Organisation:
    """Alice's 2025 answer gets a third partner, so that one can stay to check."""
    mission = Organisation(
        territory_id=world.territory.id,
        name="Mission locale de la Creuse",
        type="mission-locale",
        commune="Guéret",
    )
    session.add(mission)
    session.flush()
    last = session.exec(
        select(Response).where(
            Response.campaign_id == world.last_year.id,
            Response.professional_id == world.pros["alice"].id,
        )
    ).one()
    link = DeclaredLink(response_id=last.id, position=3, partner_organisation_id=mission.id,
                        status="new", nature="informal", frequency="quarterly")  # fmt: skip
    session.add(link)
    session.flush()
    session.add(LinkTag(link_id=link.id, kind="practice", code="joint_support"))
    session.commit()
    return mission


def test_respondent_reviews_last_year_saves_reloads_and_submits(live_server, page, session):
    world = build_world(session)
    mission = _third_partner_last_year(session, world)
    page.goto(f"{live_server}/q/{world.tokens['alice']}")
    assert page.locator("h1").inner_text().startswith("Questionnaire 2026")
    expect(page.get_by_role("heading", name="Vos partenaires de l'an dernier")).to_be_visible()
    progress = page.locator("#f-links .progress")
    expect(progress).to_have_text("0 partenaire sur 3 vérifié")
    expect(page.locator("fieldset.partner.review-row")).to_have_count(3)
    shot(page, "1-carried", full_page=False)
    shot(page, "1-carried-full")

    # One partner unchanged, one ended; the progress follows the choices.
    row(page, "CAF de la Creuse").get_by_label("Inchangé").check()
    expect(progress).to_have_text("1 partenaire sur 3 vérifié")
    row(page, "SIAO de la Creuse — 115").get_by_label("Plus de contact").check()
    expect(progress).to_have_text("2 partenaires sur 3 vérifiés")
    page.locator(".actions").get_by_role("button", name="Enregistrer", exact=True).click()

    expect(page.get_by_text("Votre brouillon est enregistré")).to_be_visible()
    page.reload()
    caf = row(page, "CAF de la Creuse")
    siao = row(page, "SIAO de la Creuse — 115")
    ml = row(page, "Mission locale de la Creuse")
    # Each stays one line with its choice; the unchanged one says what it is.
    for line in (caf, siao, ml):
        expect(line).to_have_class(re.compile(r"\breview-row\b"))
    expect(caf.get_by_label("Inchangé")).to_be_checked()
    expect(caf.locator(".recap")).to_contain_text("Formel · chaque mois")
    expect(siao.get_by_label("Plus de contact")).to_be_checked()
    expect(ml.locator("input[name$='-status']:checked")).to_have_count(0)
    expect(page.locator("#f-links .progress")).to_have_text("2 partenaires sur 3 vérifiés")
    shot(page, "2-saved", full_page=False)

    # « À modifier » on a line: its questions come in place (the fragment route), last
    # year's answers checked, the first question focused.
    caf.get_by_label("À modifier").check()
    caf = row(page, "CAF de la Creuse")
    expect(caf).to_have_class(re.compile(r"\bcard edit\b"))
    expect(caf.get_by_label("Formel", exact=True)).to_be_focused()
    expect(caf.get_by_label("Formel", exact=True)).to_be_checked()
    expect(caf.get_by_label("Accès et ouverture des droits")).to_be_checked()
    expect(caf.get_by_label("À modifier")).to_be_checked()
    caf.get_by_label("Les deux", exact=True).check()

    # Sending with a partner still to check: the error summary, then the way to the fix.
    page.get_by_role("button", name="Envoyer mes réponses").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary).to_contain_text(
        "Mission locale de la Creuse : Indiquez si vous travaillez toujours avec ce partenaire"
    )
    expect(summary.get_by_role("link")).to_have_count(1)
    shot(page, "3-errors", full_page=False)
    summary.get_by_role("link").click()
    ml = row(page, "Mission locale de la Creuse")
    first_choice = ml.locator("input[name$='-status']").first
    expect(first_choice).to_be_focused()
    # Choices made before the refusal are all still there.
    expect(row(page, "CAF de la Creuse").get_by_label("Les deux", exact=True)).to_be_checked()
    expect(row(page, "SIAO de la Creuse — 115").get_by_label("Plus de contact")).to_be_checked()

    # « À modifier »: its questions, with last year's answers, then made formal.
    ml.get_by_label("À modifier").check()
    ml = row(page, "Mission locale de la Creuse")
    expect(ml.get_by_label("Informel", exact=True)).to_be_checked()
    expect(ml.get_by_label("Accompagnement conjoint")).to_be_checked()
    ml.get_by_label("Formel", exact=True).check()
    page.get_by_role("button", name="Envoyer mes réponses").click()

    notice = page.locator(".notice.success")
    expect(notice).to_contain_text("Merci, vos réponses ont bien été envoyées.")
    expect(notice).to_contain_text("le 31\u00a0décembre 2026")
    shot(page, "4-sent", full_page=False)

    session.expire_all()
    response = session.exec(
        select(Response).where(Response.campaign_id == world.this_year.id)
    ).one()
    assert response.status == "submitted"
    assert response.years_in_post == "1to3"  # carried from 2025, moved on a year
    assert response.declared_partner_count == 2  # left blank: the partners kept
    links = {
        lk.partner_organisation_id: lk
        for lk in session.exec(select(DeclaredLink).where(DeclaredLink.response_id == response.id))
    }
    assert links[world.orgs["caf"].id].status == "confirmed"
    assert links[world.orgs["caf"].id].nature == "both"
    assert links[world.orgs["caf"].id].frequency == "monthly"
    assert links[world.orgs["siao"].id].status == "ended"
    assert links[mission.id].status == "confirmed"
    assert (links[mission.id].nature, links[mission.id].frequency) == ("formal", "quarterly")
    assert all(lk.carried_from_id for lk in links.values())


def test_keyboard_only_without_javascript(live_server, browser, session):
    """No script at all: Tab reaches the first field, a partner is added by typing its name,
    the error summary takes the focus and its links lead to the fields."""
    world = build_world(session)
    context = browser.new_context(
        locale="fr-FR", viewport={"width": 1100, "height": 900}, java_script_enabled=False
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server}/q/{world.tokens['bruno']}")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        # A first-time respondent starts with the partners: the first search field.
        assert focused_id(page) == "l0-partner"
        expect(page.locator("fieldset.partner.card.new")).to_have_count(3)

        # Add a partner by typing its name as the directory lists it.
        page.keyboard.type("SIAO de la Creuse — Centre de jour")
        page.keyboard.press("Escape")
        expect(page.locator("#l0-partner")).to_have_value("SIAO de la Creuse — Centre de jour")
        # The comment is folded: open it from the keyboard, then type.
        page.get_by_text("Écrire un commentaire (facultatif)").focus()
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        assert focused_id(page) == "f-comment"
        page.keyboard.type("Écrit au clavier")
        # Send: the partner's two required questions are missing.
        page.get_by_role("button", name="Envoyer mes réponses").focus()
        page.keyboard.press("Enter")

        summary = page.locator("#error-summary")
        expect(summary).to_be_focused()
        expect(summary).to_contain_text("SIAO de la Creuse — Centre de jour : Indiquez si ce lien")
        expect(page.locator("#f-comment")).to_have_value("Écrit au clavier")
        shot(page, "5-nojs-errors", full_page=False)
        # Following a link of the summary lands on the field, inside the partner's card.
        page.locator("#error-summary a[href='#l0-nature']").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#l0-nature")).to_be_focused()
        page.keyboard.press("Space")
        expect(page.locator("#l0-nature")).to_be_checked()
        page.locator("#error-summary a[href='#l0-practices']").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#l0-practices")).to_be_focused()
        page.keyboard.press("Space")
        expect(page.locator("#l0-practices")).to_be_checked()
        shot(page, "6-nojs-card", full_page=False)
        page.get_by_role("button", name="Envoyer mes réponses").focus()
        page.keyboard.press("Enter")
        expect(page.locator(".notice.success")).to_contain_text("bien été envoyées")
    finally:
        context.close()

    session.expire_all()
    response = session.exec(
        select(Response).where(Response.professional_id == world.pros["bruno"].id)
    ).one()
    assert response.status == "submitted" and response.comment == "Écrit au clavier"
    assert response.declared_partner_count == 1
    link = session.exec(select(DeclaredLink).where(DeclaredLink.response_id == response.id)).one()
    assert (link.partner_organisation_id, link.partner_service_id) == (
        world.orgs["siao"].id,
        world.services["jour"].id,
    )
    assert (link.status, link.nature) == ("new", "formal")

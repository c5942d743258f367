"""The respondent flow in a real browser (Debian's Chromium driven by Playwright).

Screenshots go to test-artifacts/ (gitignored) so a person can look at the page.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from survey.models import DeclaredLink, Response
from tests.factories import build_world

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def shot(page, name: str, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"respondent-{name}.png"), full_page=full_page)


def card(page, partner: str):
    return page.locator("details.partner", has=page.locator(".partner-name", has_text=partner))


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_respondent_changes_partner_saves_reloads_and_submits(live_server, page, session):
    world = build_world(session)
    page.goto(f"{live_server}/q/{world.tokens['alice']}")
    assert page.locator("h1").inner_text().startswith("Questionnaire 2026")
    assert page.get_by_text("Voici vos partenaires de l'an dernier").is_visible()
    shot(page, "1-carried", full_page=False)
    shot(page, "1-carried-full")

    caf = card(page, "CAF de la Creuse")
    siao = card(page, "SIAO de la Creuse — 115")
    caf.get_by_label("Nous travaillons toujours ensemble").check()
    caf.get_by_role("radio", name="Chaque semaine").check()
    siao.get_by_label("Plus de contact").check()
    page.get_by_role("button", name="Enregistrer le brouillon").click()

    expect(page.get_by_text("Votre brouillon est enregistré")).to_be_visible()
    page.reload()
    caf = card(page, "CAF de la Creuse")
    siao = card(page, "SIAO de la Creuse — 115")
    # A confirmed, complete partner folds away; its summary says what it is.
    expect(caf.locator("> summary")).to_contain_text("Toujours partenaire")
    expect(caf.locator("> summary")).to_contain_text("chaque semaine")
    expect(caf).not_to_have_attribute("open", "")
    expect(caf.locator("input[name$='-status'][value='confirmed']")).to_be_checked()
    expect(caf.locator("input[name$='-frequency'][value='weekly']")).to_be_checked()
    expect(caf.locator("input[name$='-frequency'][value='monthly']")).not_to_be_checked()
    expect(siao.locator("input[name$='-status'][value='ended']")).to_be_checked()
    shot(page, "2-saved", full_page=False)

    # Submitting without the years in post: the error summary, then the fix.
    page.get_by_role("button", name="Envoyer mes réponses").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Indiquez depuis combien de temps vous êtes en poste")
    shot(page, "3-errors", full_page=False)
    summary.get_by_role("link").first.click()
    expect(page.locator("#f-years_in_post")).to_be_focused()
    page.get_by_label("De 3 à 10 ans").check()
    page.get_by_role("button", name="Envoyer mes réponses").click()

    notice = page.locator(".notice.success")
    expect(notice).to_contain_text("Merci, vos réponses ont bien été envoyées.")
    expect(notice).to_contain_text("le 31\u00a0décembre 2026")
    shot(page, "4-sent", full_page=False)

    session.expire_all()
    response = session.exec(
        select(Response).where(Response.campaign_id == world.this_year.id)
    ).one()
    assert response.status == "submitted" and response.years_in_post == "3to10"
    links = {
        lk.partner_organisation_id: lk
        for lk in session.exec(select(DeclaredLink).where(DeclaredLink.response_id == response.id))
    }
    assert links[world.orgs["caf"].id].status == "confirmed"
    assert links[world.orgs["caf"].id].frequency == "weekly"
    assert links[world.orgs["siao"].id].status == "ended"


def test_keyboard_only_without_javascript(live_server, browser, session):
    """No script at all: Tab reaches the first field, the error summary takes the focus."""
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
        assert focused_id(page) == "f-function"

        # Add a partner from the directory with the keyboard, then send: questions missing.
        page.focus("#l0-partner")
        page.select_option("#l0-partner", label="SIAO de la Creuse — Centre de jour")
        page.focus("#f-comment")
        page.keyboard.type("Écrit au clavier")
        page.get_by_role("button", name="Envoyer mes réponses").focus()
        page.keyboard.press("Enter")

        expect(page.locator("#error-summary")).to_be_focused()
        expect(page.locator("#f-comment")).to_have_value("Écrit au clavier")
        shot(page, "5-nojs-errors", full_page=False)
        # Following a link of the summary lands on the field, inside its opened card.
        page.locator("#error-summary a[href='#l0-nature']").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#l0-nature")).to_be_focused()
        page.keyboard.press("Space")
        expect(page.locator("#l0-nature")).to_be_checked()
        shot(page, "6-nojs-card", full_page=False)
    finally:
        context.close()

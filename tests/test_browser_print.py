"""Printing in a real browser: print.css hides what makes no sense on paper, print.js opens
the closed <details> around printing, and the two pages made for paper pass axe.

Screenshots of the print rendering go to test-artifacts/print-*.png.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.factories import build_world
from tests.test_browser_accessibility import problems

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"print-{name}.png"), full_page=True)


def test_my_answers_print_without_buttons_or_navigation(live_server, page, session):
    world = build_world(session)
    token = world.tokens["alice"]
    page.goto(f"{live_server}/q/{token}/imprimer")
    button = page.get_by_role("button", name="Imprimer")
    expect(button).to_be_visible()  # revealed by print.js
    expect(page.locator(".site-header nav")).to_be_visible()
    shot(page, "imprimer-ecran")

    # The button opens the browser's print dialogue (replaced here by a marker).
    page.evaluate("() => { window.print = () => { window.printed = (window.printed || 0) + 1; }; }")
    button.click()
    assert page.evaluate("window.printed") == 1

    page.emulate_media(media="print")
    expect(page.locator("h1")).to_have_text("Mes réponses 2026")
    expect(page.get_by_role("heading", name="CAF de la Creuse")).to_be_visible()
    for hidden in ("button", ".site-header nav", ".site-footer", ".skip-link", ".print-actions"):
        expect(page.locator(hidden).first).to_be_hidden()
    assert page.locator("button:visible").count() == 0
    colours = page.evaluate(
        "[getComputedStyle(document.body).color, getComputedStyle(document.body).backgroundColor,"
        " getComputedStyle(document.querySelector('.site-header')).backgroundColor]"
    )
    assert colours[0] == "rgb(0, 0, 0)"
    assert colours[1] in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")
    assert colours[2] == "rgba(0, 0, 0, 0)"  # the blue header band is gone
    shot(page, "imprimer")


def test_without_javascript_no_dead_print_button(live_server, browser, session):
    world = build_world(session)
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/q/{world.tokens['alice']}/imprimer")
    expect(page.get_by_text("ou Ctrl+P / menu Imprimer de votre navigateur")).to_be_visible()
    assert page.locator("button:visible").count() == 0
    context.close()


def test_closed_details_are_printed_open_then_closed_again(live_server, page, session):
    world = build_world(session)
    page.goto(f"{live_server}/q/{world.tokens['alice']}")
    closed = page.locator("details:not([open])")
    count = closed.count()
    assert count > 0, "the questionnaire has folded questions"
    already_open = page.locator("details[open]").count()
    inside = page.locator("details:not([open]) > :not(summary)").first
    expect(inside).to_be_hidden()

    # print.css alone shows their content on paper (Chromium's ::details-content).
    page.emulate_media(media="print")
    expect(inside).to_be_visible()
    page.emulate_media(media="screen")

    # print.js opens them for browsers without it, and closes only those it opened.
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.locator("details:not([open])").count() == 0
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert page.locator("details:not([open])").count() == count
    assert page.locator("details[open]").count() == already_open


def test_paper_version_prints_and_passes_axe(live_server, page, session):
    world = build_world(session)
    token = world.tokens["alice"]
    found = []
    for name in ("imprimer", "version-papier"):
        response = page.goto(f"{live_server}/q/{token}/{name}")
        assert response is not None and response.status == 200
        found += problems(page, f"print-{name}")
    assert not found, "\n".join(found)

    page.emulate_media(media="print")
    expect(page.get_by_role("table")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(10)
    assert page.locator("button:visible").count() == 0
    shot(page, "version-papier")

    # On A4: three pages, the partners' table whole on the second one. With the browser's
    # own header and footer switched on, the footer is ours (page numbers): the address,
    # which holds the personal link, is not printed.
    reader = PdfReader(io.BytesIO(page.pdf(format="A4", display_header_footer=True)))
    pages = [" ".join(p.extract_text().split()) for p in reader.pages]
    assert len(pages) == 3, [p[:80] for p in pages]
    assert "Chaque partenaire" in pages[1] and "Difficultés" not in pages[1]
    assert pages[1].count("Les deux") == 10
    assert "Rendez ce questionnaire" in pages[2]
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} / 3" in text
        assert token not in text and "/q/" not in text

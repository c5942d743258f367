"""The interactive map in a real browser, on the demo territory.

Screenshots go to test-artifacts/ so a person can look at the map.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from survey import demo
from survey.models import Territory
from tests.accounts_helpers import TEST_PASSWORD, make_user
from tests.conftest import TEST_SECRET

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def shot(page, name: str, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"map-{name}.png"), full_page=full_page)


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def test_map_filter_search_and_side_panel(live_server, page, session):
    demo.load(session, TEST_SECRET)
    territory = session.exec(select(Territory).where(Territory.code == "23")).one()
    make_user(session, "coord-map@example.org", territory=territory)
    page.set_viewport_size({"width": 1400, "height": 1000})
    sign_in(page, live_server, "coord-map@example.org")

    page.goto(f"{live_server}/t/23/carte?annee=2025")
    expect(page.locator("h1")).to_have_text("Carte des partenariats 2025")
    nodes = page.locator("#map-frame .node")
    # The 28 structures open in 2025 (France services d'Aubusson opened in 2026) and the two
    # written-in ones named in 2025.
    assert nodes.count() == 30
    expect(page.locator("#map-tools")).to_be_visible()  # shown by map.js
    shot(page, "1-overview", full_page=True)

    # A filter recomputes the figures: fewer links when only formal ones are shown.
    links_all = int(
        page.locator(".headline div", has_text="Liens").first.locator("dd").first.inner_text()
    )
    page.get_by_label("Nature des liens").select_option("formal")
    page.get_by_role("button", name="Appliquer").click()
    expect(page.locator(".filters-on")).to_contain_text("formel")
    links_formal = int(
        page.locator(".headline div", has_text="Liens").first.locator("dd").first.inner_text()
    )
    assert 0 < links_formal < links_all
    assert "nature=formal" in page.url
    shot(page, "2-filtered")

    # Search a structure: it is selected, centred and its panel opens.
    page.get_by_label("Chercher une structure").fill("CAF de la Creuse")
    page.get_by_role("button", name="Chercher").click()
    expect(page.locator("#panel-title")).to_have_text("CAF de la Creuse")
    expect(page.locator("#search-status")).to_contain_text("Trouvée")
    assert page.url.find("recherche=") == -1  # handled by the script, no reload
    shot(page, "3-search")
    # The script folds names as the server does: a phone's « ’ » finds « ' », case and
    # accents do not count.
    page.get_by_label("Chercher une structure").fill("CCAS d’AUBUSSON")
    page.get_by_role("button", name="Chercher").click()
    expect(page.locator("#panel-title")).to_have_text("CCAS d'Aubusson")
    page.get_by_label("Chercher une structure").fill("centre hospitalier de gueret")
    page.get_by_role("button", name="Chercher").click()
    expect(page.locator("#search-status")).to_contain_text("Trouvée")
    expect(page.locator("#panel-title")).to_contain_text("Guéret")

    # Back to the whole view; click another node: the side panel lists its partners.
    page.get_by_role("button", name="Vue d'ensemble").click()
    siao = page.locator('#map-frame .node[data-name="SIAO de la Creuse"]')
    siao.locator(".mark").click()  # its shape: the middle of shape and label may be empty
    expect(page.locator("#panel-title")).to_have_text("SIAO de la Creuse")
    partners = page.locator("#panel-body ul.partners li")
    assert partners.count() >= 1
    assert "/structures/" in page.locator("#panel-body a").last.get_attribute("href")
    assert page.url.find("/structures/") == -1  # the click opened the panel, not the page
    shot(page, "4-panel")

    # Zoom with the buttons and the keyboard changes the view box.
    before = page.locator("#map-frame svg").get_attribute("viewBox")
    page.get_by_role("button", name="Agrandir").click()
    page.get_by_role("button", name="Agrandir").click()
    after = page.locator("#map-frame svg").get_attribute("viewBox")
    assert before != after
    page.locator("#map-frame").focus()
    page.keyboard.press("ArrowRight")
    assert page.locator("#map-frame svg").get_attribute("viewBox") != after
    shot(page, "5-zoomed")

    # A partner in the panel selects that partner.
    partners.first.locator("button").click()
    expect(page.locator("#panel-title")).not_to_have_text("SIAO de la Creuse")


def test_map_without_javascript_links_to_structure_pages(live_server, browser, session):
    demo.load(session, TEST_SECRET)
    territory = session.exec(select(Territory).where(Territory.code == "23")).one()
    make_user(session, "coord-nojs@example.org", territory=territory)
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1300, "height": 900}
    )
    page = context.new_page()
    try:
        sign_in(page, live_server, "coord-nojs@example.org")
        page.goto(f"{live_server}/t/23/carte?annee=2026&recherche=CCAS")
        expect(page.locator("#map-tools")).to_be_hidden()
        assert page.locator("#map-frame .node.highlight").count() >= 1
        shot(page, "6-nojs")
        page.locator("#panel-body a").first.click()
        expect(page.locator("h1")).to_contain_text("CCAS")
        shot(page, "7-structure", full_page=True)
    finally:
        context.close()

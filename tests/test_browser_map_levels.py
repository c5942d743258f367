"""The map by family and by zone in a real browser, on the demo territory, by keyboard.

Screenshots go to test-artifacts/ so a person can look at the maps.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlmodel import select

from reports import groups
from reports.graph import build_graph
from survey import demo, vocab
from survey.models import Campaign, Territory
from tests.accounts_helpers import TEST_PASSWORD, make_user
from tests.conftest import TEST_SECRET

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def shot(page, name: str, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"map-levels-{name}.png"), full_page=full_page)


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical violations of the page (as in
    tests/test_browser_accessibility.py)."""
    results = Axe().run(
        page,
        context={"exclude": [["tbody > tr:nth-child(n+21)"]]},
        options={"resultTypes": ["violations"]},
    )
    return [
        f"{v['id']}: {v['help']} — {', '.join(map(str, n['target']))}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
        for n in v["nodes"]
    ]


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def test_family_and_zone_maps_by_keyboard(live_server, page, session):
    demo.load(session, TEST_SECRET)
    territory = session.exec(select(Territory).where(Territory.code == "23")).one()
    make_user(session, "coord-levels@example.org", territory=territory)
    campaign = session.exec(
        select(Campaign).where(Campaign.territory_id == territory.id, Campaign.year == 2025)
    ).one()
    g = build_graph(session, campaign)
    # The families present in 2025, counted here from the graph's structure types.
    present = {vocab.family_of(a.get("type")).code for _, a in g.nodes(data=True)}
    families = [f for f in vocab.FAMILIES if f.code in present]
    page.set_viewport_size({"width": 1400, "height": 1000})
    sign_in(page, live_server, "coord-levels@example.org")

    page.goto(f"{live_server}/t/23/carte?annee=2025")
    structure = page.get_by_role("radio", name="Par structure")
    expect(structure).to_be_checked()
    # Keyboard only: focus the level chosen, arrow to the next one, Tab to « Appliquer ».
    structure.focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("radio", name="Par famille")).to_be_checked()
    apply = page.get_by_role("button", name="Appliquer")
    for _ in range(60):
        if apply.evaluate("b => document.activeElement === b"):
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Carte des partenariats 2025 par famille de structures")
    assert "niveau=famille" in page.url

    svg = page.locator("svg.group-svg")
    expect(svg).to_be_visible()
    assert svg.locator(".group").count() == len(families)
    rows = page.locator("#groupes tbody tr")
    assert rows.count() == len(families)
    for i, fam in enumerate(families):
        expect(rows.nth(i).locator("th")).to_have_text(fam.label)
    shot(page, "1-famille", full_page=True)

    # Tab into the drawing: the first family gets the focus; its title says its figures.
    first = svg.locator(".group").first
    first.focus()
    expect(first).to_be_focused()
    title = first.locator("title").first.text_content() or ""
    assert title.startswith(families[0].label + " : ")
    assert "structure" in title and "entre elles" in title
    shot(page, "2-famille-focus")
    assert serious_violations(page) == []

    # The zone level of the demo: one row per zone of the graph (reports.groups).
    zone_map = groups.by_zone(g)
    assert zone_map is not None
    page.get_by_role("radio", name="Par zone").check()
    page.get_by_role("button", name="Appliquer").click()
    expect(page.locator("h1")).to_have_text("Carte des partenariats 2025 par zone")
    zone_rows = page.locator("#groupes tbody tr th")
    assert zone_rows.all_text_contents() == [gr.label for gr in zone_map.groups]
    shot(page, "3-zone", full_page=True)
    assert serious_violations(page) == []

    # A zone leads to the structure map filtered on it.
    page.locator("#groupes tbody tr th a").first.click()
    expect(page.locator("h1")).to_have_text("Carte des partenariats 2025")
    assert "zone=" in page.url

"""Over all years, in a real browser: the evolution page's chart and table, the structure
page's own trend, the « < 3 » rule for a viewer, and axe-core finds nothing serious.

World: tests/trend_world.py (2024 and 2025 closed, 2026 open). Screenshots go to
test-artifacts/ (trends-*.png) so that a person can look at the chart, in colour and in
greyscale.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.accounts_helpers import TEST_PASSWORD, make_user
from tests.trend_world import build_three_years

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
_axe = Axe()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"trends-{name}.png"), full_page=True)


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("form[action='/logout']")).to_have_count(1)


def serious(page) -> list[str]:
    results = _axe.run(page, options={"resultTypes": ["violations"]})
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {n['target']}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
        for n in v["nodes"]
    ]


@pytest.fixture
def world(session):
    b, campaigns = build_three_years(session)
    make_user(session, "coord@example.org", territory=b.territory)
    make_user(session, "lecteur@example.org", role="viewer", territory=b.territory)
    return b, campaigns


def test_coordinator_reads_every_year(page, live_server, world):
    b, _ = world
    sign_in(page, live_server, "coord@example.org")
    page.goto(f"{live_server}/t/23/evolution")
    section = page.get_by_role("region", name="Sur toutes les années")
    expect(section).to_be_visible()
    chart = section.get_by_role("img", name="Chiffres clés de 2024 à 2026")
    expect(chart).to_be_visible()
    # One line per figure, each with its own dash pattern and marker shape.
    series = chart.locator("g.series")
    expect(series).to_have_count(4)
    dashes = {series.nth(i).get_attribute("data-dash") for i in range(4)}
    markers = {series.nth(i).get_attribute("data-marker") for i in range(4)}
    assert len(dashes) == 4 and len(markers) == 4
    # The lines are drawn (a visible box) and labelled at their end.
    box = chart.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 120
    expect(chart.locator("g.labels text")).to_have_count(4)
    table = section.get_by_role("table", name="Chiffres clés par année")
    expect(table.locator("thead th")).to_have_text(
        ["Chiffre", "2024", "2025", "2026 en cours"], use_inner_text=True
    )
    rate = table.get_by_role("row", name="Taux de réponse")
    expect(rate.locator("td")).to_have_text(["100\u202f%", "60\u202f%", "100\u202f%"])
    shot(page, "evolution-coordinator")
    # In greyscale, as on a black-and-white printer.
    chart.evaluate("svg => { svg.style.filter = 'grayscale(1)'; }")
    chart.screenshot(path=str(ARTIFACTS / "trends-chart-greyscale.png"))
    assert serious(page) == []

    page.goto(f"{live_server}/t/23/structures/{b.orgs['caf'].id}?annee=2026")
    own = page.get_by_role("region", name="D'une année à l'autre")
    expect(own.get_by_role("img")).to_be_visible()
    partners = own.locator('tr[data-key="partners"]')
    expect(partners.locator("td")).to_have_text(["1", "2", "2"])
    shot(page, "structure-coordinator")
    assert serious(page) == []


def test_viewer_sees_no_small_count(page, live_server, world):
    b, _ = world
    sign_in(page, live_server, "lecteur@example.org")
    page.goto(f"{live_server}/t/23/evolution")
    table = page.get_by_role("table", name="Chiffres clés par année")
    rate = table.get_by_role("row", name="Taux de réponse")
    expect(rate.locator("td")).to_have_text(["—", "60\u202f%", "100\u202f%"])
    # No point for the withheld 2024 rate: three lines keep three points, this one two.
    first = page.locator('g.series[data-key="response_rate"] path.point')
    expect(first).to_have_count(2)
    shot(page, "evolution-viewer")
    page.goto(f"{live_server}/t/23/structures/{b.orgs['caf'].id}?annee=2026")
    own = page.get_by_role("region", name="D'une année à l'autre")
    invited = own.get_by_role("row", name="Personnes invitées")
    expect(invited.locator("td")).to_have_text(["<\u00a03"] * 3)

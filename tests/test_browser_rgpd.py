"""The « Mes données » page in a real browser: accessible (axe-core), usable with the
keyboard, erasure only after the confirmation box is ticked."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.accounts_helpers import TEST_PASSWORD, make_user
from tests.factories import build_world
from tests.test_browser_accessibility import problems

pytestmark = pytest.mark.browser


def test_my_data_page_is_accessible_and_erases_after_confirmation(session, live_server, page):
    w = build_world(session)
    page.goto(f"{live_server}/q/{w.tokens['alice']}")
    page.get_by_role("link", name="voir, télécharger ou effacer mes données").click()
    assert page.locator("h1").inner_text() == "Mes données personnelles"
    assert problems(page, "rgpd-mes-donnees") == []

    page.get_by_role("button", name="Effacer mes données personnelles").click()
    assert "Rien n'a été effacé" in page.locator(".error-summary").inner_text()
    assert problems(page, "rgpd-mes-donnees-erreur") == []

    page.get_by_label("Je demande l'effacement").focus()
    page.keyboard.press("Space")
    expect(page.get_by_label("Je demande l'effacement")).to_be_checked()
    page.get_by_role("button", name="Effacer mes données personnelles").focus()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Vos données personnelles sont effacées")
    assert problems(page, "rgpd-efface") == []


def test_coordinator_erasure_page_is_accessible(session, live_server, page):
    w = build_world(session)
    make_user(session, "coord@example.org", territory=w.territory)
    page.goto(f"{live_server}/login")
    page.get_by_label("Adresse e-mail").fill("coord@example.org")
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_label("Mot de passe").press("Enter")
    page.goto(f"{live_server}/t/23/professionnels/{w.pros['bruno'].id}")
    page.get_by_role("link", name="Effacer les données personnelles").click()
    expect(page.locator("h1")).to_have_text("Effacer les données personnelles de Bruno Petit")
    assert problems(page, "rgpd-effacer-coordination") == []
    page.get_by_label("J'efface les données personnelles").check()
    page.get_by_role("button", name="Effacer les données personnelles").click()
    expect(page.locator("body")).to_contain_text("Les données personnelles sont effacées")
    assert "Bruno Petit" not in page.content()

"""« À faire maintenant » and the bulk actions in a real browser, on the demo territory:
the block comes first after the title at 1280 and 390 px with the count the database gives,
checking people and pressing the one bulk button reaches a confirmation page that lists them
(no JavaScript needed), the departure is applied, axe finds no serious violation and no page
scrolls sideways at 390 px. Screenshots go to test-artifacts/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from survey import campaigns
from tests.test_browser_accessibility import (  # noqa: F401 (demo_world is a fixture)
    ARTIFACTS,
    COORDINATOR,
    demo_world,
    problems,
    sign_in,
)

pytestmark = pytest.mark.browser

FIRST_AFTER_TITLE = """() => {
  let e = document.querySelector('main h1').nextElementSibling;
  while (e && (e.matches('.notice, .error-summary'))) e = e.nextElementSibling;
  return e ? e.outerHTML.slice(0, 80) : '';
}"""


def test_next_step_first_and_bulk_leave(live_server, page, session, demo_world):  # noqa: F811
    year = 2026
    campaign = campaigns.campaign_of(session, demo_world.id, year)
    overall = campaigns.followup(session, campaign).overall
    pending = overall.invited - overall.submitted
    assert pending > 0
    sign_in(page, live_server, *COORDINATOR)
    found: list[str] = []
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in (("dashboard", "/t/23/"), ("campaign", f"/t/23/campagnes/{year}")):
            page.goto(f"{live_server}{path}")
            assert page.evaluate(FIRST_AFTER_TITLE).startswith('<section class="next-steps"')
            step = page.locator(".next-steps li").first
            expect(step).to_have_attribute("data-count", str(pending))
            expect(step).to_contain_text("qui n'ont pas répondu")
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
            page.screenshot(path=str(ARTIFACTS / f"next-steps-{name}-{width}.png"))
            if width == 1280:
                found += problems(page, f"next-steps-{name}")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Renew: check two people on the follow-up, one button, a confirmation that lists them.
    page.goto(f"{live_server}/t/23/campagnes/{year}")
    # « Tout cocher » (the optional script) checks a whole group, and unchecks it again.
    group = page.locator("#groupe-not_started input[type=checkbox]")
    toggle = page.get_by_role("button", name="Tout cocher : pas encore commencé")
    toggle.click()
    assert group.count() > 2
    assert all(group.nth(i).is_checked() for i in range(group.count()))
    page.get_by_role("button", name="Tout décocher : pas encore commencé").click()
    assert not any(group.nth(i).is_checked() for i in range(group.count()))
    boxes = page.locator("#choix-liens input[type=checkbox]")
    names = []
    for i in range(2):
        box = boxes.nth(i)
        names.append(page.locator(f"label[for='{box.get_attribute('id')}']").inner_text())
        box.check()
    page.get_by_role("button", name="Renouveler le lien des personnes cochées").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Renouveler le lien de 2 personnes")
    for name in names:
        expect(page.locator("main")).to_contain_text(name.removeprefix("Choisir "))
    found += problems(page, "renew-many-confirm")

    # Leave: the same on the professionals list, then apply.
    page.goto(f"{live_server}/t/23/professionnels")
    boxes = page.locator("input[type=checkbox][form=departs]")
    chosen = []
    for i in range(3):
        box = boxes.nth(i)
        chosen.append(page.locator(f"label[for='{box.get_attribute('id')}']").inner_text())
        box.check()
    found += problems(page, "professionals-checked")
    page.get_by_role("button", name="A quitté son poste (personnes cochées)").last.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Enregistrer le départ de 3 personnes"
    )
    found += problems(page, "leave-many-confirm")
    page.get_by_role("button", name="Oui, elles ont quitté leur poste").click()
    expect(page.locator(".notice.success")).to_contain_text("Les départs sont enregistrés")
    for name in chosen:
        expect(page.locator("main table")).not_to_contain_text(name.removeprefix("Choisir "))
    assert not found, "\n".join(found)

"""Accessibility of every main page, checked by axe-core in a real browser.

axe-core comes inside the `axe-playwright-python` wheel (no download). A page passes when
axe reports no "serious" or "critical" violation. Each page is also screenshotted into
test-artifacts/ so a person can look at it.

The module is named test_browser_* on purpose: CI counts the tests whose module name contains
"browser" to make sure the real-browser tests ran.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlmodel import col, select

from survey import demo, links
from survey.accounts import DEMO_ACCOUNTS, ensure_demo_accounts
from survey.models import Campaign, Organisation, Professional, Response, Territory
from tests.accounts_helpers import TEST_PASSWORD, make_user
from tests.conftest import TEST_SECRET

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
BLOCKING = ("serious", "critical")
COORDINATOR = DEMO_ACCOUNTS[0][:2]
VIEWER = DEMO_ACCOUNTS[1][:2]

# Long tables repeat one row template hundreds of times: checking their first rows is
# representative, and keeps axe's colour-contrast pass from taking seconds per page.
REPRESENTATIVE = {"exclude": [["tbody > tr:nth-child(n+21)"]]}
AXE_OPTIONS = {"resultTypes": ["violations"]}
_axe = Axe()


def shot(page, name: str, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"a11y-{name}.png"), full_page=full_page)


def problems(page, name: str) -> list[str]:
    """The serious and critical axe violations of the current page, one line per node."""
    shot(page, name, full_page=page.evaluate("document.body.scrollHeight") < 5000)
    results = _axe.run(page, context=REPRESENTATIVE, options=AXE_OPTIONS)
    out = []
    for v in results.response["violations"]:
        if v["impact"] not in BLOCKING:
            continue
        for node in v["nodes"]:
            out.append(
                f"[{name}] {v['id']} ({v['impact']}): {v['help']} — "
                f"{', '.join(map(str, node['target']))} — {node.get('failureSummary', '')}"
            )
    return out


def check_pages(page, base: str, pages: list[tuple[str, str]]) -> list[str]:
    found: list[str] = []
    for name, path in pages:
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status == 200, f"{name}: {path} -> {response}"
        found += problems(page, name)
    return found


def sign_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("form[action='/logout']")).to_have_count(1)


@pytest.fixture
def demo_world(session):
    """The demo territory with its coordinator and viewer accounts, and an administrator."""
    demo.load(session, TEST_SECRET)
    territory = session.exec(select(Territory).where(Territory.code == "23")).one()
    ensure_demo_accounts(session, territory)
    session.commit()
    make_user(session, "admin-a11y@example.org", role="admin")
    return territory


def test_axe_reports_a_planted_violation(live_server, page):
    """The harness itself can fail: an image without text alternative is critical."""
    page.goto(f"{live_server}/")
    assert problems(page, "home") == []
    page.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/x.png\">')"
    )
    found = problems(page, "planted")
    assert any("image-alt (critical)" in f for f in found), found


def report(found: list[str]) -> str:
    return f"{len(found)} serious/critical axe violation(s):\n" + "\n".join(found)


def test_respondent_pages_have_no_serious_violation(live_server, page, session, demo_world):
    token = demo.sample_token(session, TEST_SECRET)
    assert token
    found = check_pages(
        page,
        live_server,
        [
            ("home", "/"),
            ("login", "/login"),
            ("figures-help", "/aide/chiffres"),
            ("accessibility-statement", "/accessibilite"),
            ("questionnaire-carried", f"/q/{token}"),
        ],
    )
    # Errors shown: sending at once, last year's partners are still to check.
    page.get_by_role("button", name="Envoyer mes réponses").click()
    expect(page.locator("#error-summary")).to_be_visible()
    found += problems(page, "questionnaire-errors")
    # Answer what is required (each carried partner « Inchangé »), then send.
    rows = page.locator(".review-list fieldset.partner").all()
    assert rows
    for row in rows:
        row.locator("input[name$='-status'][value='confirmed']").check()
    page.get_by_role("button", name="Envoyer mes réponses").click()
    expect(page.locator(".notice.success")).to_contain_text("bien été envoyées")
    found += problems(page, "questionnaire-submitted")
    found += check_pages(
        page,
        live_server,
        [
            ("respondent-directory", f"/q/{token}/repertoire"),
            ("own-map", f"/q/{token}/ma-carte"),
        ],
    )
    assert not found, report(found)


def test_coordinator_pages_have_no_serious_violation(live_server, page, session, demo_world):
    tid = demo_world.id
    org = session.exec(
        select(Organisation)
        .where(Organisation.territory_id == tid, Organisation.status == "active")
        .order_by(col(Organisation.name))
    ).first()
    sign_in(page, live_server, *COORDINATOR)
    t = "/t/23"
    found = check_pages(
        page,
        live_server,
        [
            ("dashboard", f"{t}/"),
            ("campaigns", f"{t}/campagnes"),
            ("campaign-2026", f"{t}/campagnes/2026"),
            ("campaign-close-confirm", f"{t}/campagnes/2026/clore"),
            ("campaign-messages", f"{t}/campagnes/messages"),
            ("directory", f"{t}/repertoire"),
            ("directory-structure", f"{t}/repertoire/{org.id}"),
            ("directory-new", f"{t}/repertoire/nouvelle"),
            ("directory-import", f"{t}/repertoire/import"),
            ("professionals", f"{t}/professionnels"),
            ("professionals-new", f"{t}/professionnels/nouveau"),
            ("professionals-import", f"{t}/professionnels/import"),
            ("map", f"{t}/carte"),
            ("map-filtered", f"{t}/carte?annee=2025&nature=formal&recherche=CCAS"),
            ("table", f"{t}/carte/tableau"),
            ("figures", f"{t}/figures/2026"),
            ("graph-structure", f"{t}/structures/{org.id}?annee=2026"),
            ("evolution", f"{t}/evolution"),
            ("exports", f"{t}/exports"),
            ("password", "/compte/mot-de-passe"),
        ],
    )
    # The side panel of the map is written by map.js: check it once a structure is chosen.
    page.goto(f"{live_server}{t}/carte?annee=2025")
    page.locator('#map-frame .node[data-name="CAF de la Creuse"]').click()
    expect(page.locator("#panel-title")).to_have_text("CAF de la Creuse")
    found += problems(page, "map-panel")
    assert not found, report(found)


def test_viewer_and_admin_pages_have_no_serious_violation(live_server, page, session, demo_world):
    sign_in(page, live_server, *VIEWER)
    found = check_pages(
        page,
        live_server,
        [("viewer-dashboard", "/t/23/"), ("viewer-campaign", "/t/23/campagnes/2026")],
    )
    page.context.clear_cookies()
    sign_in(page, live_server, "admin-a11y@example.org", TEST_PASSWORD)
    found += check_pages(
        page,
        live_server,
        [
            ("admin-territories", "/admin/territoires"),
            ("admin-accounts", "/admin/comptes"),
            ("admin-journal", "/admin/journal"),
        ],
    )
    assert not found, report(found)


def test_campaign_form_errors_have_no_serious_violation(live_server, page, session, demo_world):
    """A form sent with errors: the error summary and the marked fields."""
    sign_in(page, live_server, *COORDINATOR)
    page.goto(f"{live_server}/t/23/campagnes")
    page.get_by_label("Année").fill("20x7")
    page.get_by_role("button", name="Préparer la campagne").click()
    expect(page.locator(".error-summary")).to_be_visible()
    found = problems(page, "campaign-form-errors")
    assert session.exec(select(Campaign).where(Campaign.year == 2027)).first() is None
    assert not found, report(found)


# The right edge of an element against the width of its scrolling box: a table wider than
# its box is cut (the reader must find the horizontal scroll) — issue 14, item 7.
OVERFLOW = """(sel) => { const e = document.querySelector(sel); if (!e) return null;
    const box = e.closest('.table-wrap') || document.querySelector('main');
    return {width: Math.round(e.scrollWidth), box: Math.round(box.clientWidth),
            page: document.documentElement.scrollWidth, viewport: innerWidth}; }"""


def test_wide_tables_and_the_erase_checkbox_fit_a_phone(live_server, page, session, demo_world):
    """At 1280 and 390 px: the obstacles per type and « ma carte » tables fit their box, no
    page scrolls sideways, and the erase checkbox sits on its label's first line."""
    c26 = session.exec(
        select(Campaign).where(Campaign.territory_id == demo_world.id, Campaign.year == 2026)
    ).one()
    pro = session.exec(
        select(Professional)
        .join(Response, col(Response.professional_id) == Professional.id)
        .where(Response.campaign_id == c26.id, Response.status == "submitted")
        .order_by(col(Professional.email))
    ).first()
    token = links.ensure(session, TEST_SECRET, c26, pro)
    session.commit()
    caf = session.exec(select(Organisation).where(Organisation.name == "CAF de la Creuse")).one()
    sign_in(page, live_server, *COORDINATOR)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for path, sel in (
            ("/t/23/figures/2025", "table.obstacles-by-type"),
            (f"/q/{token}/ma-carte", ".own-map table"),
            (f"/q/{token}/mes-donnees", "main"),
            ("/aide/chiffres", "main"),
            ("/accessibilite", "main"),
            (f"/t/23/structures/{caf.id}?annee=2026", ".structure-page table.stack"),
        ):
            page.goto(f"{live_server}{path}")
            m = page.evaluate(OVERFLOW, sel)
            assert m is not None, (path, sel)
            assert m["width"] <= m["box"] + 1 and m["page"] <= m["viewport"], (width, path, m)
        page.goto(f"{live_server}/q/{token}/mes-donnees")
        box = page.locator("#confirmation").bounding_box()
        label = page.locator("label[for=confirmation]").bounding_box()
        assert box and label and label["y"] <= box["y"] <= label["y"] + 24, (width, box, label)
        shot(page, f"mes-donnees-{width}")


FOCUS_STYLE = """() => { const s = getComputedStyle(document.activeElement);
    return {tag: document.activeElement.tagName, text: document.activeElement.textContent.trim(),
            in_main: !!document.activeElement.closest('main'), style: s.outlineStyle,
            width: parseFloat(s.outlineWidth), color: s.outlineColor, shadow: s.boxShadow}; }"""


def luminance(css_color: str) -> float:
    """Relative luminance (WCAG) of an `rgb(r, g, b)` computed colour."""
    r, g, b = (int(float(x)) / 255 for x in css_color[css_color.index("(") + 1 : -1].split(",")[:3])
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_on_white(css_color: str) -> float:
    return 1.05 / (luminance(css_color) + 0.05)


def test_keyboard_focus_is_visible(live_server, page, demo_world):
    """Tab onto a link of the page body: a focus ring is drawn, dark enough to be seen on
    white (3:1, WCAG 1.4.11), and the skip link appears on the first Tab."""
    sign_in(page, live_server, *COORDINATOR)
    page.goto(f"{live_server}/t/23/")
    page.keyboard.press("Tab")
    skip = page.evaluate(FOCUS_STYLE)
    assert skip["text"] == "Aller au contenu", skip
    expect(page.get_by_role("link", name="Aller au contenu")).to_be_in_viewport()
    for _ in range(30):  # through the header, to the first link of the page body
        page.keyboard.press("Tab")
        style = page.evaluate(FOCUS_STYLE)
        if style["in_main"]:
            break
    assert style["tag"] == "A" and style["in_main"], style
    shot(page, "focus-link", full_page=False)
    assert style["style"] == "solid" and style["width"] >= 2, style
    # The two-colour ring: one of its colours contrasts with the white page.
    ring = [style["color"]]
    if style["shadow"] != "none":
        ring.append(style["shadow"][: style["shadow"].index(")") + 1])
    assert max(contrast_on_white(c) for c in ring) >= 3, style


ACTIVE = """() => { const e = document.activeElement;
    return {tag: e.tagName.toLowerCase(), name: e.name || '', type: e.type || '',
            value: e.value || '', text: (e.innerText || '').trim(),
            cls: e.getAttribute('class') || '', data: e.getAttribute('data-name') || ''}; }"""


def tab_until(page, pred, limit: int = 300) -> dict:
    for _ in range(limit):
        page.keyboard.press("Tab")
        el = page.evaluate(ACTIVE)
        if pred(el):
            return el
    raise AssertionError(f"not reached in {limit} Tabs; last: {el}")


def test_questionnaire_and_map_work_with_the_keyboard_only(live_server, page, session, demo_world):
    """docs/accessibility.md, « Keyboard-only walkthrough »: no click anywhere. The carried
    partners are answered with Tab, arrows and Space, the answers sent with Enter; on the map
    a structure is reached with Tab and chosen with Enter, and the side panel shows it."""
    token = demo.sample_token(session, TEST_SECRET)
    page.goto(f"{live_server}/q/{token}")
    rows = page.locator(".review-list fieldset.partner").count()
    assert rows
    seen: set[str] = set()
    while len(seen) < rows:
        el = tab_until(
            page,
            lambda e: (
                e["type"] == "radio" and e["name"].endswith("-status") and e["name"] not in seen
            ),
        )
        for _ in range(6):  # arrows move inside the group, to « Inchangé »
            if page.evaluate(ACTIVE)["value"] == "confirmed":
                break
            page.keyboard.press("ArrowDown")
        page.keyboard.press("Space")
        seen.add(el["name"])
    tab_until(page, lambda e: "Envoyer mes réponses" in e["text"])
    page.keyboard.press("Enter")
    expect(page.locator(".notice.success")).to_contain_text("bien été envoyées")

    page.goto(f"{live_server}/login")
    tab_until(page, lambda e: e["type"] == "email")
    page.keyboard.type(COORDINATOR[0])
    page.keyboard.press("Tab")
    page.keyboard.type(COORDINATOR[1])
    page.keyboard.press("Enter")
    expect(page.locator("form[action='/logout']")).to_have_count(1)
    page.goto(f"{live_server}/t/23/carte?annee=2025")
    # « Aller au contenu », then the first Tab of the page is the way to the structures, and
    # the Tab after it is a structure: four keys, not thirty Tabs through menus and filters.
    tab_until(page, lambda e: e["text"] == "Aller au contenu", limit=1)
    page.keyboard.press("Enter")
    tab_until(page, lambda e: "Aller aux structures de la carte" in e["text"], limit=1)
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    node = page.evaluate(ACTIVE)
    assert node["cls"].split(" ")[:1] == ["node"], node
    page.keyboard.press("Enter")
    expect(page.locator("#panel-title")).to_have_text(node["data"])
    assert page.evaluate(ACTIVE)["data"] == node["data"]  # focus stays on the structure
    expect(page.locator("#map-frame .node.selected")).to_have_count(1)
    page.keyboard.press("Escape")  # clears the choice
    expect(page.locator("#map-frame .node.selected")).to_have_count(0)

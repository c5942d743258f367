"""The map's names in a real browser (Chromium), on the demo territory: every structure
named at the normal zoom, no two names overlapping, and the selected structure's partners
named in the side panel with who cites whom, as the graph API says.

Screenshots go to test-artifacts/ so a person can look at the map.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from survey import demo
from survey.models import Territory
from tests.accounts_helpers import make_user
from tests.conftest import TEST_SECRET
from tests.test_browser_map import shot, sign_in

pytestmark = pytest.mark.browser

# Rectangles of the labels shown, as the browser draws them (with the white halo left out).
VISIBLE_LABELS = """() => Array.from(document.querySelectorAll('#map-frame .node .label'))
  .filter(e => getComputedStyle(e).display !== 'none' && getComputedStyle(e).visibility !== 'hidden')
  .map(e => { const r = e.getBoundingClientRect();
              return {id: e.closest('.node').dataset.id, text: e.textContent,
                      x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; })"""


def _overlapping(boxes: list[dict]) -> list[tuple[str, str]]:
    out = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if (
                a["x0"] < b["x1"] - 0.5
                and b["x0"] < a["x1"] - 0.5
                and a["y0"] < b["y1"] - 0.5
                and b["y0"] < a["y1"] - 0.5
            ):
                out.append((a["text"], b["text"]))
    return out


def test_every_structure_named_without_overlap_and_partners_in_the_panel(
    live_server, page, session
):
    demo.load(session, TEST_SECRET)
    territory = session.exec(select(Territory).where(Territory.code == "23")).one()
    make_user(session, "coord-labels@example.org", territory=territory)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, "coord-labels@example.org")

    for year in (2024, 2025, 2026):
        page.goto(f"{live_server}/t/23/carte?annee={year}")
        expect(page.locator("#map-tools")).to_be_visible()  # map.js ran
        nodes = page.locator("#map-frame .node")
        count = nodes.count()
        assert 25 <= count <= 60
        boxes = page.evaluate(VISIBLE_LABELS)
        # Every structure has its name on the map, at the normal zoom, once.
        assert sorted(b["id"] for b in boxes) == sorted(
            nodes.nth(i).get_attribute("data-id") for i in range(count)
        ), year
        assert _overlapping(boxes) == [], year
        # No name runs out of the drawing.
        frame = page.locator("#map-frame svg").bounding_box()
        assert frame is not None
        for b in boxes:
            assert frame["x"] - 0.5 <= b["x0"] and b["x1"] <= frame["x"] + frame["width"] + 0.5
            assert frame["y"] - 0.5 <= b["y0"] and b["y1"] <= frame["y"] + frame["height"] + 0.5
        # No name covers a structure's mark.
        marks = page.evaluate(
            """() => Array.from(document.querySelectorAll('#map-frame .node .mark')).map(e => {
                 const r = e.getBoundingClientRect();
                 return {text: e.closest('.node').dataset.name, x0: r.left + 2, y0: r.top + 2,
                         x1: r.right - 2, y1: r.bottom - 2}; })"""
        )
        assert [p for p in _overlapping(boxes + marks) if p not in _overlapping(marks)] == []
        shot(page, f"labels-{year}")

    # The graph API says who cites whom in 2026.
    graph = page.request.get(f"{live_server}/api/v1/t/23/graph/2026").json()
    names = {n["id"]: n["name"] for n in graph["nodes"]}
    caf = next(n["id"] for n in graph["nodes"] if n["name"] == "CAF de la Creuse")
    cites = {x["target"] for x in graph["links"] if x["source"] == caf}
    cited_by = {x["source"] for x in graph["links"] if x["target"] == caf}
    assert cites and cited_by

    page.locator('#map-frame .node[data-name="CAF de la Creuse"] .mark').click()
    expect(page.locator("#panel-title")).to_have_text("CAF de la Creuse")
    items = page.locator("#panel-body ul.partners li")
    expect(items).to_have_count(len(cites | cited_by))
    shown = {}
    for i in range(items.count()):
        li = items.nth(i)
        shown[li.locator("button").inner_text()] = li.inner_text()
        # Each partner links to its own page too.
        assert "/structures/" in (li.locator("a").get_attribute("href") or "")
    assert set(shown) == {names[p] for p in cites | cited_by}
    # Direction in words, as the API has it.
    for p in cites | cited_by:
        rel = shown[names[p]]
        if p in cites and p in cited_by:
            assert "se citent l'une l'autre" in rel, rel
        elif p in cites:
            assert f"CAF de la Creuse cite {names[p]}" in rel, rel
        else:
            assert f"{names[p]} cite CAF de la Creuse" in rel, rel
    # On the map, the partners keep their names and are in full colour; the others fade.
    near = page.evaluate(
        """() => Array.from(document.querySelectorAll('#map-frame .node.near'))
                 .filter(e => getComputedStyle(e).opacity === '1'
                              && getComputedStyle(e.querySelector('.label')).display !== 'none')
                 .map(e => e.dataset.id)"""
    )
    assert set(near) == {str(p) for p in cites | cited_by} | {str(caf)}
    faded = page.locator("#map-frame .node:not(.near)").first
    assert float(faded.evaluate("e => getComputedStyle(e).opacity")) < 1
    shot(page, "labels-panel", full_page=True)

    # A structure reached by keyboard shows its name, underlined.
    page.locator("#map-frame .node").first.focus()
    first = page.locator("#map-frame .node").first.locator(".label")
    assert first.evaluate("e => getComputedStyle(e).display") != "none"
    assert "underline" in first.evaluate("e => getComputedStyle(e).textDecorationLine")

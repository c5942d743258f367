"""Issue 17 in a real browser, on the demo territory: a coordinator reads the 2025 figures,
takes an engagement from a one-sided link (« Formaliser le lien entre X et Y », one click
pre-fills it), saves it, and the engagements page shows what the 2026 answers say of it:
« le lien est devenu formel ». axe finds no serious violation on the pages walked.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from reports import figures
from reports.graph import build_graph
from survey import campaigns
from survey.models import Engagement, Organisation
from tests.test_browser_accessibility import (  # noqa: F401 (demo_world is a fixture)
    COORDINATOR,
    demo_world,
    problems,
    sign_in,
)

pytestmark = pytest.mark.browser

# Cited by one side only and informal in the demo's 2025 answers, formal in 2026.
PAIR = ("SIAO de la Creuse", "CPAM de la Creuse")


def _link(g, a: int, b: int) -> figures.Link:
    return figures.Link(a, b, g.succ[a].get(b), g.succ[b].get(a))


def test_engagement_from_a_2025_finding_reads_formal_in_2026(
    live_server,
    page,
    session,
    demo_world,  # noqa: F811
):
    orgs = {o.name: o.id for o in session.exec(select(Organisation))}
    a, b = orgs[PAIR[0]], orgs[PAIR[1]]
    g25 = build_graph(session, campaigns.campaign_of(session, demo_world.id, 2025))
    g26 = build_graph(session, campaigns.campaign_of(session, demo_world.id, 2026))
    # The data the test relies on: one-sided and informal in 2025, formal in 2026.
    one_sided = figures.reciprocity(g25)["one_sided"]
    row = next(r for r in one_sided if {r["source"], r["target"]} == {a, b})
    assert not _link(g25, a, b).formal
    assert _link(g26, a, b).formal

    sign_in(page, live_server, *COORDINATOR)
    found: list[str] = []
    page.goto(f"{live_server}/t/23/figures/2025")
    details = page.locator("details", has_text="Liens cités d'un seul côté")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    link = page.get_by_role(
        "link",
        name=f"Prendre un engagement : {row['source_name']} et {row['target_name']}",
    )
    expect(link).to_have_count(1)
    found += problems(page, "engagement-figures")
    link.click()

    expect(page).to_have_url(re.compile(r"/t/23/engagements/nouvelle\?constat=one_sided"))
    title = f"Formaliser le lien entre {row['source_name']} et {row['target_name']}"
    expect(page.get_by_label("Titre", exact=True)).to_have_value(title)
    expect(page.get_by_label(PAIR[0], exact=True)).to_be_checked()
    expect(page.get_by_label(PAIR[1], exact=True)).to_be_checked()
    expect(page.get_by_text("de la carte 2025")).to_be_visible()
    page.get_by_label("Structure pilote (facultatif)").select_option(str(a))
    found += problems(page, "engagement-form")
    page.get_by_role("button", name="Enregistrer l'engagement").click()

    expect(page).to_have_url(re.compile(r"/t/23/engagements/\d+\?fait=creee"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    saved = session.exec(select(Engagement).where(Engagement.title == title)).one()
    assert saved.finding == "one_sided"

    page.goto(f"{live_server}/t/23/engagements")
    line = page.locator(f"tr[data-engagement='{saved.id}']")
    expect(line).to_contain_text(title)
    expect(line).to_contain_text(re.compile("le lien est devenu formel", re.IGNORECASE))
    expect(page.get_by_role("columnheader", name="Ce que montre la carte 2026")).to_be_visible()
    found += problems(page, "engagement-list")
    assert not found, "\n".join(found)

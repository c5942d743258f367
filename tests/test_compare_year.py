"""« The year to compare with »: one rule (survey.campaigns.previous_campaign), the same year
on every page that compares — structure page, evolution page and API, PDF report, a
respondent's own map.

Territory: 2024 closed (CAF and CCAS answered), 2025 prepared but never opened (draft),
2026 open (CAF, CCAS and ML answered). Every comparison of 2026 is with 2024.
"""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlmodel import Session

from survey import campaigns, links
from tests.accounts_helpers import login, make_user
from tests.conftest import TEST_SECRET
from tests.reports.builders import Builder


def build(session: Session):
    b = Builder.start(session)
    c24 = b.campaign(2024, "closed")
    b.campaign(2025, "draft")
    c26 = b.campaign(2026, "open")
    for key, type_ in (("caf", "caf"), ("ccas", "ccas-cias"), ("ml", "mission-locale")):
        b.org(key, type_)
    for key in ("caf", "ccas", "ml"):
        b.pro(f"{key}1", key)
    b.invite(c24, "caf1", "ccas1", "ml1")
    b.respond(c24, "caf1", [{"org": "ccas", "nature": "formal", "frequency": "weekly"}])
    b.respond(c24, "ccas1", [{"org": "ml", "nature": "informal", "frequency": "monthly"}])
    b.invite(c26, "caf1", "ccas1", "ml1")
    b.respond(c26, "caf1", [{"org": "ml", "nature": "formal", "frequency": "weekly"}])
    b.respond(c26, "ccas1", [{"org": "caf", "nature": "informal", "frequency": "monthly"}])
    b.respond(c26, "ml1", [{"org": "ccas", "nature": "informal", "frequency": "monthly"}])
    session.commit()
    return b, c24, c26


@pytest.fixture
def world(session):
    return build(session)


@pytest.fixture
def coordinator(client, session, world):
    make_user(session, "coord@example.org", territory=world[0].territory)
    login(client, "coord@example.org")
    return client


def test_previous_campaign_skips_drafts_only(session):
    b = Builder.start(session)
    c23 = b.campaign(2023, "closed")
    c24 = b.campaign(2024, "open")
    c25 = b.campaign(2025, "draft")
    c26 = b.campaign(2026, "closed")
    c27 = b.campaign(2027, "draft")
    other = Builder.start(session, "19", "Corrèze")
    other.campaign(2026, "closed")
    session.commit()
    assert campaigns.previous_campaign(session, c27) == c26
    assert campaigns.previous_campaign(session, c26) == c24  # the draft 2025 is skipped
    assert campaigns.previous_campaign(session, c25) == c24  # an open one is kept
    assert campaigns.previous_campaign(session, c24) == c23
    assert campaigns.previous_campaign(session, c23) is None


def test_campaign_of_and_list_campaigns(session, world):
    b, c24, c26 = world
    tid = b.territory.id
    assert campaigns.campaign_of(session, tid, 2026) == c26
    assert campaigns.campaign_of(session, tid, 2023) is None
    assert [c.year for c in campaigns.list_campaigns(session, tid)] == [2026, 2025, 2024]


def test_every_page_compares_2026_with_2024(client, coordinator, session, world):
    b, _, c26 = world
    caf = b.orgs["caf"].id
    structure = coordinator.get(f"/t/23/structures/{caf}?annee=2026").text
    assert "Évolution depuis 2024" in structure

    evolution = coordinator.get("/t/23/evolution").text
    assert "de 2024 à 2026" in evolution and "de 2025" not in evolution
    api = coordinator.get("/api/v1/t/23/evolution").json()
    assert api["years"] == [2024, 2026]
    # Asking for 2025 explicitly still compares with it: the rule is for the default only.
    assert coordinator.get("/api/v1/t/23/evolution?de=2025&a=2026").json()["years"] == [
        2025,
        2026,
    ]

    r = coordinator.get("/t/23/rapport/2026.pdf")
    assert r.status_code == 200
    cover = PdfReader(io.BytesIO(r.content)).pages[0].extract_text() or ""
    assert "Comparaison avec la campagne 2024" in re.sub(r"\s+", " ", cover)

    token = links.issue(session, TEST_SECRET, c26, b.pros["ml1"])
    session.commit()
    own = client.get(f"/q/{token}/ma-carte").text
    assert "ML dans la carte 2024" in own


def test_evolution_with_only_a_draft_before_has_nothing_to_compare(client, session):
    b = Builder.start(session)
    b.campaign(2025, "draft")
    b.campaign(2026, "open")
    session.commit()
    make_user(session, "coord@example.org", territory=b.territory)
    login(client, "coord@example.org")
    assert client.get("/t/23/evolution").status_code == 200
    assert client.get("/api/v1/t/23/evolution").status_code == 404
    assert client.get("/t/23/evolution?a=2026").status_code == 400

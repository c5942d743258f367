"""Follow-up figures (SQL GROUP BY) and the status report / CSV export of personal links."""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import select

from survey import campaigns, links
from survey.models import Organisation, Professional
from tests.conftest import TEST_SECRET
from tests.factories import build_world


@pytest.fixture
def world(session):
    return build_world(session)


def as_tuple(c: campaigns.Counts) -> tuple[int, int, int, int]:
    return (c.invited, c.not_started, c.draft, c.submitted)


def submit_alice(client, token: str) -> None:
    """Alice confirms last year's partners and submits, through the public API."""
    url = f"/api/v1/questionnaire/{token}"
    body = client.get(url).json()
    body["years_in_post"] = "3to10"
    body["links"][0]["status"] = "confirmed"
    body["links"][1]["status"] = "ended"
    assert client.put(url, json=body).status_code == 200
    done = client.post(url + "/submit")
    assert done.status_code == 200, done.text


def test_counts_move_when_a_professional_saves_then_submits(client, session, world):
    f = campaigns.followup(session, world.this_year)
    assert as_tuple(f.overall) == (2, 2, 0, 0)
    assert f.overall.rate == 0.0

    url = f"/api/v1/questionnaire/{world.tokens['alice']}"
    assert client.put(url, json=client.get(url).json()).status_code == 200
    session.expire_all()
    assert as_tuple(campaigns.followup(session, world.this_year).overall) == (2, 1, 1, 0)

    submit_alice(client, world.tokens["alice"])
    session.expire_all()
    f = campaigns.followup(session, world.this_year)
    assert as_tuple(f.overall) == (2, 1, 0, 1)
    assert f.overall.rate == 50.0
    by_org = {c.label: as_tuple(c) for c in f.by_organisation}
    assert by_org == {"CAF de la Creuse": (1, 1, 0, 0), "CCAS de Guéret": (1, 0, 0, 1)}
    by_type = {c.key: as_tuple(c) for c in f.by_type}
    assert by_type == {"caf": (1, 1, 0, 0), "ccas-cias": (1, 0, 0, 1)}
    # Corrèze's campaign is untouched by what happens in Creuse.
    corr = campaigns.followup(session, campaigns.get_campaign(session, "19", 2026))
    assert as_tuple(corr.overall) == (1, 1, 0, 0)


def test_population_rules(session, world):
    """Inactive professionals without an answer are not counted; one who answered and then
    left still counts, under the structure where they answered."""
    bruno = world.pros["bruno"]
    bruno.active = False
    session.add(
        Professional(
            territory_id=world.territory.id,
            full_name="Sans Lien",
            organisation_id=world.orgs["msa"].id,
        )
    )
    session.commit()
    f = campaigns.followup(session, world.this_year)
    # Alice only: Bruno left without answering, "Sans Lien" has no link yet.
    assert as_tuple(f.overall) == (1, 1, 0, 0)

    # Last year: Alice answered from the CCAS, then moved to the CAF.
    alice = world.pros["alice"]
    alice.organisation_id = world.orgs["caf"].id
    alice.active = False
    session.commit()
    f = campaigns.followup(session, world.last_year)
    assert as_tuple(f.overall) == (1, 0, 0, 1)
    assert [c.label for c in f.by_organisation] == ["CCAS de Guéret"]


def test_people_lists_status_per_professional(client, session, world):
    submit_alice(client, world.tokens["alice"])
    session.expire_all()
    rows = {p.full_name: p.status for p in campaigns.people(session, world.this_year)}
    assert rows == {"Alice Martin": "submitted", "Bruno Petit": "not_started"}


def test_status_report_and_csv(session, world):
    session.add(
        Professional(
            territory_id=world.territory.id,
            full_name='=HYPERLINK("http://x")',
            email="formule@example.org",
            organisation_id=world.orgs["msa"].id,
        )
    )
    session.commit()
    rows = campaigns.status_report(session, world.this_year, TEST_SECRET, "http://testserver")
    assert [r.full_name for r in rows] == [
        "Bruno Petit",
        "Alice Martin",
        '=HYPERLINK("http://x")',
    ]
    bruno = rows[0]
    assert bruno.link == f"http://testserver/q/{world.tokens['bruno']}"
    # The newcomer got a link that works.
    assert links.find(session, rows[2].link.rsplit("/", 1)[1]) is not None

    plain = campaigns.status_csv(rows).decode("utf-8")
    parsed = list(csv.reader(io.StringIO(plain)))
    assert parsed[0] == ["nom", "email", "structure", "statut", "lien"]
    assert parsed[1] == [
        "Bruno Petit",
        "bruno@example.org",
        "CAF de la Creuse",
        "non commencé",
        f"http://testserver/q/{world.tokens['bruno']}",
    ]
    # A spreadsheet must not evaluate a name as a formula.
    assert parsed[3][0] == '\'=HYPERLINK("http://x")'

    excel = campaigns.status_csv(rows, excel=True)
    assert excel.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(excel.decode("utf-8-sig")), delimiter=";"))
    assert parsed[2][:4] == ["Alice Martin", "alice@example.org", "CCAS de Guéret", "non commencé"]


def test_followup_is_aggregated_in_sql_with_a_few_queries(session, world):
    """Many professionals, constant number of queries: no per-row Python loop."""
    from sqlalchemy import event

    org = session.get(Organisation, world.orgs["caf"].id)
    session.add_all(
        Professional(territory_id=world.territory.id, full_name=f"P{i}", organisation_id=org.id)
        for i in range(200)
    )
    session.commit()
    campaigns.issue_missing_links(session, world.this_year, TEST_SECRET)
    session.commit()
    session.refresh(world.this_year)
    statements: list[str] = []
    engine = session.get_bind()

    def count(*args):
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        f = campaigns.followup(session, world.this_year)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert f.overall.invited == 202
    assert len(statements) == 3


# --- pages ----------------------------------------------------------------------------------


@pytest.fixture
def coordinator(client, session, world):
    from tests.accounts_helpers import login, make_user

    make_user(session, "coord@example.org", territory=world.territory)
    login(client, "coord@example.org")
    return client


def test_followup_page_moves_when_a_professional_submits(coordinator, client, session, world):
    page = coordinator.get("/t/23/campagnes/2026")
    assert "Taux de réponse — Ensemble : 0 %" in page.text
    assert "Pas encore commencé (2)" in page.text and "Réponse envoyée (0)" in page.text
    assert "Alice Martin" in page.text and "bruno@example.org" in page.text

    submit_alice(client, world.tokens["alice"])
    page = coordinator.get("/t/23/campagnes/2026")
    # Overall 1 of 2, and the CCAS row at 100 %, each with its numbers in words.
    assert 'aria-label="Taux de réponse — Ensemble : 50 %"' in page.text
    assert '<progress max="2" value="1"' in page.text
    assert "Taux de réponse — CCAS de Guéret : 100 %" in page.text
    assert "(1 sur 1)" in page.text
    assert "Pas encore commencé (1)" in page.text and "Réponse envoyée (1)" in page.text


def test_links_export_csv_utf8_and_excel(coordinator, session, world):
    page = coordinator.get("/t/23/campagnes/2026")
    assert "Données personnelles." in page.text and "Exporter les liens (CSV)" in page.text
    r = coordinator.get("/t/23/campagnes/2026/liens.csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="liens-23-2026.csv"' in r.headers["content-disposition"]
    assert r.headers["cache-control"] == "no-store"
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8"))))
    assert rows[0] == ["nom", "email", "structure", "statut", "lien"]
    assert {(row[0], row[4]) for row in rows[1:]} == {
        ("Alice Martin", f"http://testserver/q/{world.tokens['alice']}"),
        ("Bruno Petit", f"http://testserver/q/{world.tokens['bruno']}"),
    }
    assert "Chloé" not in r.text  # Corrèze is not exported from Creuse

    excel = coordinator.get("/t/23/campagnes/2026/liens.csv?format=excel")
    assert excel.content.startswith(b"\xef\xbb\xbf")
    first = excel.content.decode("utf-8-sig").splitlines()[1]
    assert first.startswith("Bruno Petit;bruno@example.org;CAF de la Creuse;non commencé;")

    from survey.accounts import AuditEvent

    exports = session.exec(
        select(AuditEvent.detail).where(AuditEvent.action == "campaign.export_links")
    ).all()
    assert exports == ["2 ligne(s), UTF-8", "2 ligne(s), Excel"]

"""The `carte` command against the test database: migrate, demo, demo link, links CSV."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.cli import cli
from app.settings import get_settings
from survey import links, questionnaire
from survey.models import Campaign, Invitation, Organisation, Professional, Response, Territory
from tests.conftest import TEST_SECRET

BASE_URL = "http://carte.example.org"


@pytest.fixture
def carte(database_url, engine, monkeypatch):
    """Invoke `carte …` on the test database (the `engine` fixture empties it afterwards)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("BASE_URL", BASE_URL)
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, list(args))

    yield run
    get_settings.cache_clear()


def test_db_upgrade_is_repeatable(carte):
    for _ in range(2):
        result = carte("db", "upgrade")
        assert result.exit_code == 0, result.output
        assert "Base de données à jour." in result.stdout


def test_demo_twice_then_a_demo_link(carte, engine):
    first = carte("demo")
    assert first.exit_code == 0, first.output
    assert "Territoire de démonstration chargé." in first.stdout
    with Session(engine) as s:
        pros_before = s.exec(select(func.count()).select_from(Professional)).one()
    second = carte("demo")
    assert second.exit_code == 0
    assert "Démonstration déjà présente." in second.stdout
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Territory)).one() == 1
        assert s.exec(select(func.count()).select_from(Professional)).one() == pros_before

    shown = carte("demo-link")
    assert shown.exit_code == 0, shown.output
    url = shown.stdout.strip()
    assert url.startswith(f"{BASE_URL}/q/")
    token = url.rsplit("/", 1)[1]
    assert carte("demo-link").stdout.strip() == url  # the same person each time
    with Session(engine) as s:
        r = questionnaire.load_respondent(s, links.find(s, token))
        answers, source = questionnaire.current_answers(s, r)
    assert r.campaign.year == 2026 and source == "carried" and answers.links


def test_demo_link_with_15_partners(carte, engine):
    assert carte("demo").exit_code == 0
    shown = carte("demo-link", "--partners", "15")
    assert shown.exit_code == 0, shown.output
    url = shown.stdout.strip()
    assert url.startswith(f"{BASE_URL}/q/") and url != carte("demo-link").stdout.strip()
    with Session(engine) as s:
        r = questionnaire.load_respondent(s, links.find(s, url.rsplit("/", 1)[1]))
        answers, source = questionnaire.current_answers(s, r)
    assert r.campaign.year == 2026 and r.response is None
    assert source == "carried" and len(answers.links) >= 15
    assert {lk.status for lk in answers.links} == {"pending"}


def test_demo_link_with_too_many_partners_says_so(carte):
    assert carte("demo").exit_code == 0
    result = carte("demo-link", "--partners", "500")
    assert result.exit_code == 1
    assert "ne reprend 500 partenaires ou plus" in result.stderr
    assert result.stdout == "" and "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    negative = carte("demo-link", "--partners", "-1")
    assert negative.exit_code == 2 and "Traceback" not in negative.output
    assert "--partners" in negative.output


def test_demo_link_without_demo_says_so(carte):
    result = carte("demo-link")
    assert result.exit_code == 2
    assert "carte demo" in result.stderr
    assert "Traceback" not in result.output


def test_links_csv_has_one_row_per_active_professional(carte, engine):
    assert carte("demo").exit_code == 0
    result = carte("links", "--territory", "23", "--year", "2026")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["professionnel", "email", "structure", "statut", "lien"]
    body = rows[1:]

    with Session(engine) as s:
        campaign = s.exec(select(Campaign).where(Campaign.year == 2026)).one()
        expected = {
            email: (name, org, status or "not_started")
            for email, name, org, status in s.exec(
                select(Professional.email, Professional.full_name, Organisation.name,
                       Response.status)
                .join(Organisation, Organisation.id == Professional.organisation_id)
                .outerjoin(Response, (Response.professional_id == Professional.id)
                           & (Response.campaign_id == campaign.id))
                .where(Professional.active)
            ).all()
        }  # fmt: skip
        assert len(body) == len(expected) and len({r[1] for r in body}) == len(body)
        labels = {"not_started": "non commencé", "draft": "brouillon", "submitted": "envoyé"}
        for name, email, org, status, link in body:
            assert expected[email] == (name, org, next(k for k, v in labels.items() if v == status))
            assert link.startswith(f"{BASE_URL}/q/")
            inv = links.find(s, link.rsplit("/", 1)[1])
            assert inv is not None and inv.campaign_id == campaign.id
            assert s.get(Professional, inv.professional_id).email == email
        statuses = {r[3] for r in body}
        assert statuses == set(labels.values())

        # Printing again gives the same links: nothing re-issued, nothing revoked.
        live = s.exec(select(func.count()).select_from(Invitation)).one()
    again = carte("links", "--territory", "23", "--year", "2026")
    assert again.stdout == result.stdout
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Invitation)).one() == live


@pytest.mark.parametrize(
    "territory, year, message",
    [("99", "2026", "Territoire « 99 » inconnu."), ("23", "2031", "Pas de campagne 2031")],
)
def test_links_for_unknown_territory_or_year(carte, territory, year, message):
    assert carte("demo").exit_code == 0
    result = carte("links", "--territory", territory, "--year", year)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a crash

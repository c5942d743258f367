"""Scheduled reminders: their dates on a campaign and `carte remind --due`, sent to a local
SMTP server started by the test (tests/test_mailing.py's)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.cli import cli
from app.settings import get_settings
from survey import campaigns, french, mailing
from survey.campaigns import CampaignInvalid
from survey.mailing import EmailLog
from survey.models import Campaign, Response
from tests import test_mailing
from tests.conftest import TEST_SECRET
from tests.factories import build_world
from tests.test_mailing import logs, mail_client, post

smtp_server = test_mailing.smtp_server  # the fixture: a local SMTP server on loopback

BASE = "http://testserver"
REMINDER1, REMINDER2 = date(2026, 3, 11), date(2026, 12, 26)


@pytest.fixture
def world(session):
    """The test world, Creuse's 2026 campaign with both reminders scheduled; Corrèze's 2026
    campaign schedules its first reminder later in the year."""
    world = build_world(session)
    world.this_year.reminder1_on, world.this_year.reminder2_on = REMINDER1, REMINDER2
    other = session.exec(
        select(Campaign).where(
            Campaign.territory_id == world.other_territory.id, Campaign.year == 2026
        )
    ).one()
    other.reminder1_on = date(2026, 11, 1)
    session.add_all([world.this_year, other])
    session.commit()
    return world


def submitted(session, world, key: str) -> None:
    pro = world.pros[key]
    session.add(
        Response(
            campaign_id=world.this_year.id,
            professional_id=pro.id,
            organisation_id=pro.organisation_id,
            status="submitted",
            questionnaire_version="2026.1",
            function=pro.function,
        )  # fmt: skip
    )
    session.commit()


def count_logs(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(EmailLog)).one()


# --- dates ----------------------------------------------------------------------------------


def test_default_reminder_dates_on_create(session, world):
    made = campaigns.create_campaign(
        session, world.territory, 2027, date(2027, 3, 1), date(2027, 4, 30)
    )
    assert (made.reminder1_on, made.reminder2_on) == (date(2027, 3, 11), date(2027, 4, 25))
    # Only when they fall strictly between opening and closing.
    assert campaigns.default_reminders(date(2027, 3, 1), date(2027, 3, 11)) == (
        None,
        date(2027, 3, 6),
    )
    assert campaigns.default_reminders(date(2027, 3, 1), date(2027, 3, 5)) == (None, None)
    # A short campaign: the second would come before the first, one is enough.
    assert campaigns.default_reminders(date(2027, 3, 1), date(2027, 3, 14)) == (
        date(2027, 3, 11),
        None,
    )
    undated = campaigns.create_campaign(session, world.territory, 2028)
    assert (undated.reminder1_on, undated.reminder2_on) == (None, None)
    half = campaigns.create_campaign(session, world.territory, 2029, date(2029, 3, 1))
    assert (half.reminder1_on, half.reminder2_on) == (None, None)


def test_reminder_dates_are_checked(session, world):
    c = world.this_year
    start, end = c.opens_on, c.closes_on
    with pytest.raises(CampaignInvalid) as outside:
        campaigns.update_campaign(session, c, start, end, "", (date(2026, 2, 20), None))
    assert (
        "entre la date d'ouverture et la date de clôture" in outside.value.problems["reminder1_on"]
    )
    with pytest.raises(CampaignInvalid) as order:
        campaigns.update_campaign(session, c, start, end, "", (date(2026, 5, 1), date(2026, 4, 1)))
    assert order.value.problems == {
        "reminder2_on": "La seconde relance doit être postérieure à la première."
    }
    # Moving the closing date before a stored reminder is refused too.
    with pytest.raises(CampaignInvalid) as moved:
        campaigns.update_campaign(session, c, start, date(2026, 6, 30), "")
    assert set(moved.value.problems) == {"reminder2_on"}
    session.rollback()
    campaigns.update_campaign(session, c, start, end, "", (None, date(2026, 6, 1)))
    assert (c.reminder1_on, c.reminder2_on) == (None, date(2026, 6, 1))


# --- what is due ----------------------------------------------------------------------------


def test_due_today(session, world):
    c = world.this_year
    assert mailing.due_today(session, c, date(2026, 3, 10)) == []
    assert mailing.due_today(session, c, REMINDER1) == ["reminder1"]
    assert mailing.due_today(session, c, REMINDER2) == ["reminder1", "reminder2"]
    assert mailing.due_today(session, c, date(2027, 1, 1)) == []  # past the closing date
    assert mailing.due_today(session, world.last_year, date(2025, 5, 1)) == []  # closed


def test_due_reminders_are_sent_once(session, world, smtp_server):
    recorder, smtp = smtp_server
    submitted(session, world, "alice")
    first = mailing.send_due(session, smtp, TEST_SECRET, BASE, REMINDER1)
    assert [(d.territory_code, d.year, d.kind, d.report.sent) for d in first] == [
        ("23", 2026, "reminder1", 1)
    ]
    # Bruno had not answered: his first reminder, with his own link.
    [msg] = recorder.to("bruno@example.org")
    assert msg["Subject"] == "Rappel : carte partenariale 2026"
    assert f"{BASE}/q/{world.tokens['bruno']}" in msg.get_content()
    # Alice had submitted; Chloé's reminder (Corrèze) is not due before 1 November.
    assert recorder.to("alice@example.org") == [] and recorder.to("chloe@example.org") == []
    assert logs(session, world.this_year.id) == [("Bruno Petit", "reminder1", "sent")]

    again = mailing.send_due(session, smtp, TEST_SECRET, BASE, REMINDER1 + timedelta(days=3))
    assert [(d.kind, d.due, d.report) for d in again] == [("reminder1", 0, None)]
    assert len(recorder.messages) == 1
    assert logs(session, world.this_year.id) == [("Bruno Petit", "reminder1", "sent")]


def test_second_reminder_waits_for_the_first(session, world, smtp_server):
    recorder, smtp = smtp_server
    # Both dates have passed and nothing was sent (the job was not running): the first
    # reminder only; never both in one run.
    mailing.send_due(session, smtp, TEST_SECRET, BASE, REMINDER2)
    assert [m["Subject"] for m in recorder.to("bruno@example.org")] == [
        "Rappel : carte partenariale 2026"
    ]
    mailing.send_due(session, smtp, TEST_SECRET, BASE, REMINDER2 + timedelta(days=1))
    assert [m["Subject"] for m in recorder.to("bruno@example.org")] == [
        "Rappel : carte partenariale 2026",
        "Dernier rappel : carte partenariale 2026",
    ]
    # Chloé's first reminder came due on 1 November; Corrèze schedules no second one.
    assert [m["Subject"] for m in recorder.to("chloe@example.org")] == [
        "Rappel : carte partenariale 2026"
    ]
    mailing.send_due(session, smtp, TEST_SECRET, BASE, REMINDER2 + timedelta(days=2))
    assert len(recorder.messages) == 5  # Alice and Bruno twice each, Chloé once


# --- the command ----------------------------------------------------------------------------


@pytest.fixture
def carte(database_url, engine, monkeypatch):
    """`carte …` on the test database; `smtp` points it at a server or at none."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("BASE_URL", BASE)
    monkeypatch.delenv("SMTP_HOST", raising=False)
    runner = CliRunner()

    def run(*args: str, smtp=None):
        if smtp is not None:
            monkeypatch.setenv("SMTP_HOST", smtp.host)
            monkeypatch.setenv("SMTP_PORT", str(smtp.port))
            monkeypatch.setenv("MAIL_FROM", smtp.mail_from)
        get_settings.cache_clear()
        return runner.invoke(cli, list(args))

    yield run
    get_settings.cache_clear()


def test_remind_due_from_the_command_line(carte, engine, session, world, smtp_server):
    recorder, smtp = smtp_server
    submitted(session, world, "alice")
    first = carte("remind", "--due", "--today", "2026-03-11", smtp=smtp)
    assert first.exit_code == 0, first.output
    assert "23 — Creuse, campagne 2026, première relance : 1 envoyé(s), 0 échec(s)." in (
        first.stdout
    )
    assert [m["To"] for m in recorder.messages] == ["Bruno Petit <bruno@example.org>"]
    second = carte("remind", "--due", "--today", "2026-03-11", smtp=smtp)
    assert second.exit_code == 0, second.output
    assert "23 — Creuse, campagne 2026, première relance : personne à relancer." in second.stdout
    assert len(recorder.messages) == 1 and count_logs(engine) == 1

    dry = carte("remind", "--due", "--today", "2026-12-26", "--dry-run", smtp=smtp)
    assert dry.exit_code == 0, dry.output
    assert "seconde relance : 1 personne(s) à relancer." in dry.stdout
    assert "19 — Corrèze, campagne 2026, première relance : 1 personne(s)" in dry.stdout
    assert "Simulation : aucun message envoyé." in dry.stdout
    assert len(recorder.messages) == 1 and count_logs(engine) == 1

    quiet = carte("remind", "--due", "--today", "2026-03-01", smtp=smtp)
    assert quiet.exit_code == 0 and "Aucune relance programmée à envoyer au 1er mars 2026." in (
        quiet.stdout
    )


def test_remind_without_smtp_fails_and_logs_nothing(carte, engine, world):
    result = carte("remind", "--due", "--today", "2026-03-11")
    assert result.exit_code == 1
    assert "L'envoi d'e-mails n'est pas configuré" in result.stderr
    assert count_logs(engine) == 0
    bad = carte("remind", "--due", "--today", "11/03/2026")
    assert bad.exit_code == 2 and "AAAA-MM-JJ" in bad.stderr
    without_due = carte("remind")
    assert without_due.exit_code == 2 and "--due" in without_due.stderr


# --- the campaign page ----------------------------------------------------------------------


def _shown(day: date) -> str:
    text = french.date_fr(day)
    return text.removesuffix(" 2026") if day.year == 2026 else text


def test_page_shows_next_reminder_and_edits_dates(settings, engine, session, world, smtp_server):
    _recorder, smtp = smtp_server
    today = date.today()
    c = world.this_year
    c.opens_on, c.closes_on = today - timedelta(days=5), today + timedelta(days=60)
    c.reminder1_on, c.reminder2_on = today + timedelta(days=5), today + timedelta(days=50)
    session.add(c)
    session.commit()
    client = mail_client(settings, engine, session, world, smtp)
    page = client.get("/t/23/campagnes/2026").text
    assert f"Prochaine relance automatique : le {_shown(c.reminder1_on)} (première relance)" in page
    assert f'name="reminder1_on" value="{c.reminder1_on.isoformat()}"' in page

    base = {"opens_on": c.opens_on.isoformat(), "closes_on": c.closes_on.isoformat(),
            "with_reminders": "1"}  # fmt: skip
    outside = post(client, "/t/23/campagnes/2026/modifier",
                   {**base, "reminder1_on": (today - timedelta(days=10)).isoformat(),
                    "reminder2_on": ""})  # fmt: skip
    assert outside.status_code == 400
    assert "La première relance doit tomber entre la date d&#39;ouverture" in outside.text
    reversed_ = post(client, "/t/23/campagnes/2026/modifier",
                     {**base, "reminder1_on": (today + timedelta(days=20)).isoformat(),
                      "reminder2_on": (today + timedelta(days=10)).isoformat()})  # fmt: skip
    assert reversed_.status_code == 400
    assert "La seconde relance doit être postérieure à la première." in reversed_.text
    session.expire_all()
    assert session.get(Campaign, c.id).reminder1_on == today + timedelta(days=5)  # unchanged

    cleared = post(client, "/t/23/campagnes/2026/modifier",
                   {**base, "reminder1_on": "", "reminder2_on": (today + timedelta(days=50)).strftime("%d/%m/%Y")})  # fmt: skip
    assert cleared.status_code == 303
    session.expire_all()
    stored = session.get(Campaign, c.id)
    assert (stored.reminder1_on, stored.reminder2_on) == (None, today + timedelta(days=50))
    page = client.get("/t/23/campagnes/2026").text
    assert f"le {_shown(stored.reminder2_on)} (seconde relance)" in page

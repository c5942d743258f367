"""Retention of the audit log, login attempts and unknown-link traces (docs/rgpd.md):
old rows go, recent ones and erasure records stay, and the log keeps a trace of its purge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import typer
from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import select
from typer.testing import CliRunner

from app import cli_ops
from app.settings import Settings, get_settings
from survey import privacy
from survey.accounts import AuditEvent, LoginAttempt, audit
from survey.link_throttle import LinkFailure
from survey.models import Professional
from tests.conftest import TEST_SECRET
from tests.factories import build_world

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # 12 months -> cutoff 01/06/2025 12:00


def _event(session, action: str, at: datetime, target: str = "") -> None:
    audit(session, None, action, target=target).at = at


def _seed_logs(session, now: datetime, margin: timedelta = timedelta(0)) -> None:
    """Audit events on both sides of a 12-month cutoff, plus login attempts and link failures
    on both sides of their windows. `margin` moves the « at the cutoff » event later, for
    commands that take their own, later, `now`."""
    _event(session, "login.failed", now - timedelta(days=800), "ancien@example.org")
    _event(session, "campaign.create", privacy.months_before(now, 12) - timedelta(seconds=1))
    _event(
        session, "campaign.close", privacy.months_before(now, 12) + margin
    )  # exactly at the cutoff
    _event(session, "login", now - timedelta(days=45), "recent@example.org")
    _event(session, "professional.erase", now - timedelta(days=1500), "professionnel 7")
    _event(session, "audit.purge", now - timedelta(days=900), "journal d'audit")
    session.add(
        LoginAttempt(email="ancien@example.org", ip="10.0.0.1", at=now - timedelta(days=31))
    )
    session.add(LoginAttempt(email="recent@example.org", ip="10.0.0.1", at=now - timedelta(days=2)))
    session.add(LinkFailure(ip="10.0.0.2", at=now - timedelta(minutes=11)))
    session.add(LinkFailure(ip="10.0.0.2", at=now - timedelta(minutes=1)))
    session.commit()


def _actions(session) -> list[str]:
    session.expire_all()
    return list(session.exec(select(AuditEvent.action).order_by(AuditEvent.at)).all())


def _rows(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


# --- survey.privacy ---------------------------------------------------------------------------


def test_counting_deletes_nothing(session):
    _seed_logs(session, NOW)
    counted = privacy.logs_to_purge(session, NOW, 12)
    assert (counted.audit_events, counted.login_attempts, counted.link_failures) == (2, 1, 1)
    assert counted.audit_cutoff == datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    session.commit()
    assert len(_actions(session)) == 6
    assert _rows(session, LoginAttempt) == 2 and _rows(session, LinkFailure) == 2


def test_purge_deletes_old_keeps_recent_and_erasures_and_leaves_a_trace(session):
    _seed_logs(session, NOW)
    purged = privacy.purge_logs(session, NOW, 12)
    session.commit()
    assert (purged.audit_events, purged.login_attempts, purged.link_failures) == (2, 1, 1)
    # Gone: the 800-day-old failed login (it held an e-mail) and the event just before the
    # cutoff. Kept: the cutoff itself, recent events, the erasure record, the old purge trace.
    assert _actions(session) == [
        "professional.erase",
        "audit.purge",
        "campaign.close",
        "login",
        "audit.purge",
    ]
    assert session.exec(select(AuditEvent.target).where(AuditEvent.action == "login")).all() == [
        "recent@example.org"
    ]
    assert session.exec(select(LoginAttempt.email)).all() == ["recent@example.org"]
    assert _rows(session, LinkFailure) == 1

    trace = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert trace.action == "audit.purge" and trace.user_id is None and trace.user_email == ""
    assert trace.target == "journal d'audit"
    assert "2 action(s) du journal antérieure(s) au 01/06/2025" in trace.detail
    assert "conservation : 12 mois" in trace.detail
    assert "1 tentative(s) de connexion et 1 trace(s) de liens inconnus" in trace.detail

    # Purging again deletes nothing more but still records that it ran.
    again = privacy.purge_logs(session, NOW, 12)
    session.commit()
    assert again.audit_events == 0
    assert _actions(session).count("audit.purge") == 3


def test_shorter_retention_reaches_further(session):
    _seed_logs(session, NOW)
    assert privacy.logs_to_purge(session, NOW, 1).audit_events == 4  # the 30-day login too
    with pytest.raises(ValueError):
        privacy.purge_logs(session, NOW, 0)


def test_setting_defaults_to_twelve_months_and_refuses_zero(monkeypatch):
    monkeypatch.delenv("AUDIT_RETENTION_MONTHS", raising=False)
    assert Settings(_env_file=None).audit_retention_months == 12
    monkeypatch.setenv("AUDIT_RETENTION_MONTHS", "24")
    assert Settings(_env_file=None).audit_retention_months == 24
    monkeypatch.setenv("AUDIT_RETENTION_MONTHS", "0")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)


# --- carte retention --------------------------------------------------------------------------


@pytest.fixture
def ops(database_url, engine, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET)
    monkeypatch.delenv("AUDIT_RETENTION_MONTHS", raising=False)
    get_settings.cache_clear()
    app = typer.Typer()
    cli_ops.register(app)
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def _seed_now(session) -> datetime:
    now = datetime.now(UTC)
    _seed_logs(session, now, margin=timedelta(hours=1))
    return now


def test_cli_dry_run_reports_counts_and_deletes_nothing(session, ops):
    now = _seed_now(session)
    listed = ops("retention")
    assert listed.exit_code == 0, listed.output
    cutoff = privacy.months_before(now, 12)
    assert (
        f"Journal d'audit : conservé 12 mois (actions antérieures au {cutoff:%d/%m/%Y}), "
        "sauf les effacements de professionnels ; 2 action(s) à effacer."
    ) in listed.stdout
    assert (
        "1 tentative(s) de connexion de plus de 30 jours et 1 trace(s) de liens inconnus à effacer."
    ) in listed.stdout
    assert "Rien n'a été effacé. Relancez avec --apply pour effacer." in listed.stdout
    assert len(_actions(session)) == 6 and _actions(session).count("audit.purge") == 1
    assert _rows(session, LoginAttempt) == 2 and _rows(session, LinkFailure) == 2


def test_cli_dry_run_with_nothing_to_delete(session, ops):
    listed = ops("retention")
    assert listed.exit_code == 0, listed.output
    assert "0 action(s) à effacer." in listed.stdout
    assert "Rien à effacer." in listed.stdout and "Relancez" not in listed.stdout
    assert _actions(session) == []


def test_cli_apply_purges_and_records_it(session, ops):
    _seed_now(session)
    applied = ops("retention", "--apply")
    assert applied.exit_code == 0, applied.output
    assert "2 action(s) du journal d'audit antérieure(s) au" in applied.stdout
    assert "effacements de professionnels gardés ; purge inscrite au journal." in applied.stdout
    assert "1 tentative(s) de connexion de plus de 30 jours effacée(s)." in applied.stdout
    assert "1 trace(s) de liens inconnus effacée(s)." in applied.stdout
    assert _actions(session) == [
        "professional.erase",
        "audit.purge",
        "campaign.close",
        "login",
        "audit.purge",
    ]
    trace = session.exec(
        select(AuditEvent).where(AuditEvent.action == "audit.purge").order_by(AuditEvent.id.desc())
    ).first()
    assert trace.detail.startswith("2 action(s) du journal")
    assert _rows(session, LoginAttempt) == 1 and _rows(session, LinkFailure) == 1


def test_cli_apply_follows_audit_retention_months(session, ops, monkeypatch):
    _seed_now(session)
    monkeypatch.setenv("AUDIT_RETENTION_MONTHS", "1")
    get_settings.cache_clear()
    listed = ops("retention")
    assert "conservé 1 mois" in listed.stdout and "4 action(s) à effacer." in listed.stdout
    applied = ops("retention", "--apply")
    assert applied.exit_code == 0, applied.output
    assert "4 action(s) du journal d'audit" in applied.stdout
    assert _actions(session) == ["professional.erase", "audit.purge", "audit.purge"]


def test_cli_apply_keeps_erasures_of_the_same_run_in_one_transaction(session, ops, monkeypatch):
    """Erasures by retention are logged and survive the purge; if the purge fails, nothing
    of the run is kept (erasures and purge share one transaction)."""
    w = build_world(session)
    bruno = w.pros["bruno"]
    bruno.active, bruno.created_at = False, datetime(2021, 1, 10, tzinfo=UTC)
    session.add(bruno)
    session.commit()
    _seed_now(session)
    bruno_id = bruno.id

    def broken(*args, **kwargs):
        raise RuntimeError("disque plein")

    original = privacy.purge_logs
    monkeypatch.setattr(privacy, "purge_logs", broken)
    failed = ops("retention", "--apply")
    assert failed.exit_code != 0
    session.expire_all()
    assert session.get(Professional, bruno_id).full_name == "Bruno Petit"
    assert _actions(session).count("professional.erase") == 1  # only the seeded one
    monkeypatch.setattr(privacy, "purge_logs", original)

    applied = ops("retention", "--apply")
    assert applied.exit_code == 0, applied.output
    assert "1 personne(s) effacée(s)" in applied.stdout
    session.expire_all()
    assert session.get(Professional, bruno_id).full_name == f"Personne effacée n°{bruno_id}"
    targets = session.exec(
        select(AuditEvent.target).where(AuditEvent.action == "professional.erase")
    ).all()
    assert sorted(targets) == sorted(["professionnel 7", f"professionnel {bruno_id}"])
    assert _actions(session).count("audit.purge") == 2  # the seeded old one and this run's

"""`carte remind --due`: the scheduled reminders, run once a day by cron or a systemd timer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from sqlmodel import Session

from app.mail import smtp_config
from app.settings import get_settings
from survey import french, mailing
from survey.db import make_engine

EXIT_FAILED = 1  # SMTP not configured, or some messages failed (they stay due)
PARIS = ZoneInfo("Europe/Paris")


def _fail(message: str, code: int = 2) -> None:
    typer.secho(message, err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def _parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"--today : date invalide « {value} » ; attendu AAAA-MM-JJ, par exemple 2027-03-12.")
        raise  # unreachable: _fail exits


def remind_command(
    due: Annotated[
        bool, typer.Option("--due", help="Envoyer les relances dont la date est arrivée.")
    ] = False,
    today: Annotated[
        str,
        typer.Option("--today", help="Faire comme si nous étions ce jour (AAAA-MM-JJ)."),
    ] = "",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Dire ce qui serait envoyé, sans rien envoyer.")
    ] = False,
) -> None:
    """Envoyer les relances programmées de chaque campagne ouverte à ceux qui n'ont pas répondu.

    Sans effet en double : une personne ne reçoit jamais deux fois la même relance."""
    if not due:
        _fail("Précisez --due : seules les relances dont la date est arrivée sont envoyées.")
    # A reminder date is a day in France, whatever the server's clock zone.
    day = _parse_day(today) if today else datetime.now(PARIS).date()
    settings = get_settings()
    smtp = smtp_config(settings)
    if smtp is None and not dry_run:
        _fail(
            "L'envoi d'e-mails n'est pas configuré (SMTP_HOST vide) : aucune relance envoyée, "
            "rien n'est inscrit au journal. Renseignez SMTP_HOST (et si besoin SMTP_PORT, "
            "SMTP_USER, SMTP_PASSWORD, MAIL_FROM) puis relancez la commande.",
            EXIT_FAILED,
        )
    with Session(make_engine(settings.database_url)) as session:
        done = mailing.send_due(
            session, smtp, settings.resolved_secret(), settings.base_url, day, dry_run
        )
        session.commit()
    when = french.date_fr(day, space=" ")
    if not done:
        typer.echo(f"Aucune relance programmée à envoyer au {when}.")
        return
    failed = 0
    for d in done:
        label = mailing.KIND_LABELS[d.kind].lower()
        where = f"{d.territory_code} — {d.territory_name}, campagne {d.year}, {label}"
        if d.report is None:  # a dry run, or nobody left to remind
            typer.echo(
                f"{where} : {d.due} personne(s) à relancer."
                if d.due
                else f"{where} : personne à relancer."
            )
            continue
        failed += d.report.failed
        typer.echo(f"{where} : {d.report.sent} envoyé(s), {d.report.failed} échec(s).")
        for error in d.report.errors:
            typer.secho(f"  {error}", err=True, fg=typer.colors.RED)
    if dry_run:
        typer.echo("Simulation : aucun message envoyé.")
    if failed:
        _fail(
            f"{failed} message(s) en échec : ils seront retentés au prochain passage "
            "(voir le journal des envois sur la page de la campagne).",
            EXIT_FAILED,
        )


def register(cli: typer.Typer) -> None:
    """Add `remind` to the `carte` command."""
    cli.command("remind")(remind_command)

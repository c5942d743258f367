"""`carte report`: the annual PDF report of a campaign (thin: calls reports.pdf)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlmodel import Session

from app import serving
from app.settings import get_settings
from survey import campaigns
from survey.db import make_engine


def _fail(message: str, code: int = 2) -> None:
    typer.secho(message, err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def report(
    territory: Annotated[str, typer.Option(help="Code du territoire, par exemple 23.")],
    year: Annotated[int, typer.Option(help="Année de la campagne.")],
    output: Annotated[Path, typer.Option(help="Fichier PDF à écrire.")] = Path("rapport.pdf"),
    compare_with: Annotated[
        int | None,
        typer.Option(
            "--compare-with",
            help="Année de la campagne de comparaison (par défaut : la précédente).",
        ),
    ] = None,
) -> None:
    """Produire le rapport annuel PDF d'une campagne pour le département (aucun nom de
    professionnel·le n'y figure)."""
    from reports import pdf  # matplotlib and ReportLab load only for this command

    # What the imports left alive stays out of the collector's walks, as in a web worker:
    # the large synthetic territory's first report takes 3.4 s instead of 3.9 s.
    serving.settle()
    if output.exists() and output.is_dir():
        _fail(f"« {output} » est un dossier : indiquez un nom de fichier, par exemple rapport.pdf.")
    if compare_with is not None and compare_with >= year:
        _fail(f"L'année de comparaison ({compare_with}) doit être antérieure à {year}.")
    with Session(make_engine(get_settings().database_url)) as session:
        try:
            campaign = campaigns.get_campaign(session, territory, year)
            if compare_with is not None:
                previous = campaigns.get_campaign(session, territory, compare_with)
            else:
                previous = campaigns.previous_campaign(session, campaign)
        except campaigns.NotFound as exc:
            _fail(exc.message)
        if campaign.status == "draft":
            _fail(f"La campagne {year} n'a pas encore été ouverte : pas de réponses à résumer.")
        with Progress(
            TextColumn("{task.description:<40}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            transient=False,
        ) as bar:
            task = bar.add_task("Préparation", total=len(pdf.STEPS))
            seen: list[str] = []

            def step(name: str) -> None:
                seen.append(name)
                bar.update(task, description=name, completed=len(seen) - 1)

            if compare_with is None:
                data = pdf.annual_report(session, campaign, progress=step)
            else:
                data = pdf.build_report(session, campaign, previous, progress=step)
            bar.update(task, description="Terminé", completed=len(pdf.STEPS))
        # Read while the session is open: storing a closed year's PDF commits, which
        # expires the loaded rows.
        compared = f", comparé avec {previous.year}" if previous else ""
    try:
        output.write_bytes(data)
    except OSError as exc:
        _fail(f"Impossible d'écrire « {output} » : {exc.strerror or exc}.")
    typer.echo(f"Rapport {year}{compared} écrit dans {output} ({len(data) // 1024} Ko).")


def register(cli: typer.Typer) -> None:
    """Add `carte report` to the `carte` command."""
    cli.command("report")(report)

"""`carte export`: the partnership graph of a campaign as files (thin: calls reports/)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from app.settings import get_settings
from reports import exports
from reports.graph import build_graph
from survey import campaigns
from survey.db import make_engine


def _fail(message: str, code: int = 2) -> None:
    typer.secho(message, err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def export(
    territory: Annotated[str, typer.Option(help="Code du territoire, par exemple 23.")],
    year: Annotated[int, typer.Option(help="Année de la campagne.")],
    format: Annotated[
        str, typer.Option("--format", help="gexf, graphml, csv ou json.")
    ] = "graphml",
    output: Annotated[
        Path,
        typer.Option(
            help="Fichier à écrire. Pour csv : deux fichiers CHEMIN-noeuds.csv et "
            "CHEMIN-liens.csv, ou une archive si CHEMIN se termine par .zip."
        ),
    ] = Path("carte.graphml"),
) -> None:
    """Exporter le graphe des partenariats d'une campagne (niveau structures, sans aucun nom
    de professionnel·le)."""
    fmt = format.lower()
    if fmt not in exports.FORMATS:
        _fail(f"Format « {format} » inconnu : choisissez parmi {', '.join(exports.FORMATS)}.")
    with Session(make_engine(get_settings().database_url)) as session:
        try:
            campaign = campaigns.get_campaign(session, territory, year)
        except campaigns.NotFound as exc:
            _fail(exc.message)
        graph = build_graph(session, campaign)
    try:
        written = exports.export(graph, fmt, output)
    except OSError as exc:
        _fail(f"Impossible d'écrire « {output} » : {exc.strerror or exc}.", code=1)
    for path in written:
        typer.echo(f"Écrit : {path}")
    typer.echo(
        f"{graph.number_of_nodes()} structures, {graph.number_of_edges()} liens orientés. "
        "Aucun nom de professionnel·le n'est exporté."
    )


def register(cli: typer.Typer) -> None:
    """Add the report commands to the `carte` command."""
    cli.command("export")(export)

"""`carte export` (the partnership graph of a campaign as files) and `carte figures` (every
territory's headline figures from the frozen campaigns). Thin: they call reports/, imported
by each command, so that the other `carte` commands start without networkx, igraph and
matplotlib."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from app.params import small_int
from app.settings import get_settings
from survey import campaigns
from survey.db import make_engine
from survey.models import Professional


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
    from reports import exports
    from reports.graph import build_graph

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


FIGURE_FORMATS = ("csv", "table")
# The system's own messages are English: the usual reasons, said in French.
_OS_REASONS = {
    errno.ENOENT: "le dossier n'existe pas",
    errno.EACCES: "permission refusée",
    errno.EPERM: "permission refusée",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.ENOSPC: "plus de place sur le disque",
    errno.EISDIR: "c'est un dossier",
}


def _os_reason(exc: OSError) -> str:
    return _OS_REASONS.get(exc.errno or 0, exc.strerror or str(exc))


def _year(raw: str | None) -> int | None:
    if raw is None:
        return None
    year = small_int(raw, digits=4)
    if year is None:
        _fail(
            f"Année « {raw} » invalide : indiquez une année sur quatre chiffres, par exemple 2025."
        )
    return year


def _years_hint(years: list[int]) -> str:
    if not years:
        return "Aucune campagne n'est encore close."
    return "Années closes : " + ", ".join(str(y) for y in sorted(years)) + "."


def figures(
    all_: Annotated[
        bool,
        typer.Option("--all", help="Tous les territoires : leur dernière campagne close."),
    ] = False,
    territory: Annotated[
        str | None,
        typer.Option(help="Un seul territoire : chacune de ses campagnes closes (sans --all)."),
    ] = None,
    year: Annotated[
        str | None, typer.Option("--year", help="Année des campagnes closes à lister.")
    ] = None,
    format: Annotated[
        str, typer.Option("--format", help="table (lisible) ou csv (UTF-8, « ; »).")
    ] = "table",
    output: Annotated[
        Path | None, typer.Option(help="Fichier à écrire (par défaut : la sortie standard).")
    ] = None,
) -> None:
    """Lister les chiffres clés de chaque territoire, tels que figés à la clôture de sa
    dernière campagne (ou de l'année --year). Les effectifs de 1 ou 2 personnes sont notés
    « < 3 » et le taux de réponse qui en dépend « — »."""
    from reports import overview
    from survey import accounts

    fmt = format.lower()
    if fmt not in FIGURE_FORMATS:
        _fail(f"Format « {format} » inconnu : choisissez csv ou table.")
    if all_ and territory:
        _fail("--all et --territory s'excluent : choisissez l'un ou l'autre.")
    if not all_ and not territory:
        _fail(
            "Indiquez --all pour lister tous les territoires (carte figures --all), "
            "ou --territory CODE pour les campagnes closes d'un territoire."
        )
    wanted = _year(year)
    if output is not None and output.is_dir():
        _fail(
            f"« {output} » est un dossier : indiquez un nom de fichier, par exemple chiffres.csv."
        )
    with Session(make_engine(get_settings().database_url)) as session:
        unfrozen = overview.unfrozen_closed(session)
        if territory:
            rows = overview.territory_rows(session, territory)
            if wanted is not None:
                rows = [r for r in rows if r["annee"] == wanted]
            if not rows:
                if accounts.territory_by_code(session, territory) is None:
                    _fail(f"Territoire « {territory} » inconnu.")
                when = f" en {wanted}" if wanted is not None else ""
                _fail(f"Aucune campagne close pour le territoire « {territory} »{when}.")
        else:
            rows = overview.rows(session, wanted)
            if not rows:
                hint = _years_hint(overview.frozen_years(session))
                if wanted is not None:
                    _fail(f"Aucune campagne close en {wanted}. {hint}")
                _fail(f"Aucune campagne close : rien à lister. {hint}", code=1)
    if unfrozen:
        typer.secho(
            f"{unfrozen} campagne(s) close(s) pas encore figée(s) n'apparaissent pas : "
            "lancez « carte db upgrade » pour les figer.",
            err=True,
            fg=typer.colors.YELLOW,
        )
    text = overview.csv_text(rows) if fmt == "csv" else overview.text_table(rows)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        _fail(f"Impossible d'écrire « {output} » : {_os_reason(exc)}.")
    typer.echo(f"Écrit : {output} ({len(rows)} ligne(s)).")


def accueil(
    professional: Annotated[
        int, typer.Option("--professional", help="Numéro (id) de la personne qui arrive.")
    ],
    output: Annotated[Path, typer.Option(help="Fichier PDF à écrire.")] = Path("fiche.pdf"),
) -> None:
    """Produire la fiche d'accueil PDF d'une personne qui prend un poste ou arrive dans une
    structure : partenaires, contacts qui ont accepté d'être cités, instances, conventions
    et structures qui la citent (aucun nom de professionnel·le)."""
    from reports import welcome_pdf  # ReportLab loads only for this command
    from survey import welcome

    if output.exists() and output.is_dir():
        _fail(f"« {output} » est un dossier : indiquez un nom de fichier, par exemple fiche.pdf.")
    with Session(make_engine(get_settings().database_url)) as session:
        pro = session.get(Professional, professional)
        if pro is None:
            _fail(f"Aucun·e professionnel·le n'a le numéro {professional}.", code=1)
            return
        sheet = welcome.welcome_sheet(session, pro)
    data = welcome_pdf.render(sheet)
    try:
        output.write_bytes(data)
    except OSError as exc:
        _fail(f"Impossible d'écrire « {output} » : {_os_reason(exc)}.", code=1)
    typer.echo(f"Fiche d'accueil ({sheet['structure']}) écrite dans {output}.")


def register(cli: typer.Typer) -> None:
    """Add the report commands to the `carte` command."""
    cli.command("export")(export)
    cli.command("figures")(figures)
    cli.command("accueil")(accueil)

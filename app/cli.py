"""The `carte` command: what an operator scripts. Thin: it calls the domain."""

from __future__ import annotations

import sys
from typing import Annotated

import click
import typer
from sqlmodel import Session
from typer.core import TyperGroup

from app import cli_admin, cli_mail, cli_ops, cli_report, cli_reports, serving
from app.settings import get_settings
from survey import campaigns, cells
from survey.db import make_engine
from survey.text import forbidden_character, message


class TextCheckedGroup(TyperGroup):
    """survey.text's rule for every argument of `carte` (territory name, e-mail, password…),
    before any command runs: a refused character is a French message and exit code 2, like
    any wrong argument, and nothing is written."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for position, arg in enumerate(args):
            char = forbidden_character(arg)
            if char is None:
                continue
            before = args[position - 1] if position else ""
            if arg.startswith("--"):
                label = arg.split("=", 1)[0]
            elif before.startswith("-") and "=" not in before:
                label = before
            else:
                label = f"argument n° {position + 1}"
            _fail(message(label, char))
        return super().parse_args(ctx, args)


cli = typer.Typer(
    cls=TextCheckedGroup,
    help="Carte partenariale : administration du service.",
    no_args_is_help=True,
    add_completion=False,
)
db_cli = typer.Typer(help="Base de données.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")


def _fail(message: str, code: int = 2) -> None:
    typer.secho(message, err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def _session() -> Session:
    return Session(make_engine(get_settings().database_url))


@db_cli.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrer la base configurée (DATABASE_URL) jusqu'à la dernière version."""
    from reports.snapshot import freeze_missing
    from survey import migrate  # Alembic loads only for this command

    migrate.upgrade(get_settings().database_url, revision)
    with _session() as session:
        # Closed campaigns written by a script or restored from an older backup get frozen.
        frozen = freeze_missing(session) if revision == "head" else 0
        session.commit()
    typer.echo("Base de données à jour.")
    if frozen:
        typer.echo(f"{frozen} campagne(s) close(s) figée(s).")


@cli.command()
def demo(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Seulement si la base ne contient aucun territoire.")
    ] = False,
) -> None:
    """Charger le territoire de démonstration « 23 — Creuse » (sans effet s'il existe déjà)."""
    from sqlmodel import select

    from reports.snapshot import freeze_missing
    from survey import demo as demo_data
    from survey.accounts import ensure_demo_accounts
    from survey.models import Territory

    settings = get_settings()
    with _session() as session:
        has_demo = session.exec(select(Territory.id).where(Territory.code == "23")).first()
        if if_empty and not has_demo and session.exec(select(Territory.id)).first() is not None:
            typer.echo("La base contient déjà des territoires : démonstration non chargée.")
            return
        created = demo_data.load(session, settings.resolved_secret())
        freeze_missing(session)  # the demo's closed years are frozen, as a close does
        territory = session.exec(select(Territory).where(Territory.code == "23")).one()
        accounts = ensure_demo_accounts(session, territory)
        session.commit()
    typer.echo("Territoire de démonstration chargé." if created else "Démonstration déjà présente.")
    typer.echo(f"Comptes de démonstration ({settings.base_url}/login) :")
    roles = {"coordinator": "coordination", "viewer": "lecture", "admin": "administration"}
    for email, password, role in accounts:
        typer.echo(f"  {roles.get(role, role):<13} {email}  mot de passe : {password}")


@cli.command("demo-link")
def demo_link(
    partners: Annotated[
        int,
        typer.Option(
            "--partners",
            min=0,
            help="Au moins ce nombre de partenaires repris de l'an dernier.",
        ),
    ] = 0,
) -> None:
    """Afficher un lien de répondant de démonstration (questionnaire 2026 pré-rempli)."""
    from sqlmodel import select

    from survey import demo as demo_data
    from survey.models import Territory

    settings = get_settings()
    with _session() as session:
        token = demo_data.sample_token(session, settings.resolved_secret(), partners)
        loaded = token is not None or (
            partners > 0
            and session.exec(
                select(Territory.id).where(Territory.code == demo_data.TERRITORY_CODE)
            ).first()
            is not None
        )
    if token is None and loaded:
        _fail(
            f"Aucun questionnaire de la démonstration ne reprend {partners} partenaires ou "
            "plus de l'an dernier (parmi les personnes qui n'ont pas encore commencé 2026) : "
            "essayez un nombre plus petit.",
            1,
        )
    if token is None:
        _fail("Pas de démonstration chargée : lancez d'abord `carte demo`.")
    typer.echo(campaigns.link_url(settings.base_url, token))


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Adresse d'écoute.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port d'écoute.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Nombre de processus.", min=1)] = 1,
) -> None:
    """Servir l'application web."""
    if workers > 1 and get_settings().database_url.startswith("sqlite"):
        # Several processes writing one SQLite file fail with "database is locked" under load
        # (measured in bench/load.py): production with several workers needs PostgreSQL.
        _fail(
            "Avec SQLite, un seul processus est possible : utilisez PostgreSQL pour --workers > 1."
        )

    if not serving.run(host, port, workers):
        raise typer.Exit(3)


@cli.command()
def links(
    territory: Annotated[str, typer.Option(help="Code du territoire, par exemple 23.")],
    year: Annotated[int, typer.Option(help="Année de la campagne.")],
) -> None:
    """Imprimer en CSV les liens personnels et l'état des réponses d'une campagne."""
    settings = get_settings()
    with _session() as session:
        try:
            campaign = campaigns.get_campaign(session, territory, year)
        except campaigns.NotFound as exc:
            _fail(exc.message)
        rows = campaigns.status_report(
            session, campaign, settings.resolved_secret(), settings.base_url
        )
    sys.stdout.write(
        cells.csv_text(
            ["professionnel", "email", "structure", "statut", "lien"],
            [
                [r.full_name, r.email, r.organisation, campaigns.STATUS_LABELS[r.status], r.link]
                for r in rows
            ],
        )
    )


cli_admin.register(cli)
cli_ops.register(cli)
cli_mail.register(cli)
cli_reports.register(cli)
cli_report.register(cli)


def main() -> None:
    cli()

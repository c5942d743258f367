"""`carte territory …` and `carte user …`: bootstrap an instance from the command line."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import Session

from app.settings import get_settings
from survey import accounts
from survey.db import make_engine


def _fail(message: str, code: int = 2) -> None:
    typer.secho(message, err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def _session() -> Session:
    return Session(make_engine(get_settings().database_url))


territory_cli = typer.Typer(help="Territoires (un par département).", no_args_is_help=True)
user_cli = typer.Typer(
    help="Comptes (administrateurs, coordinateurs, lecteurs).", no_args_is_help=True
)


@territory_cli.command("create")
def territory_create(
    code: Annotated[str, typer.Argument(help="Code du département, par exemple 23.")],
    name: Annotated[str, typer.Argument(help="Nom, par exemple Creuse.")],
) -> None:
    """Créer un territoire."""
    with _session() as session:
        try:
            territory = accounts.create_territory(session, code, name)
        except accounts.AccountError as exc:
            _fail(exc.message)
        accounts.audit(session, None, "territory.create", target=f"{code} — {name}",
                       detail="ligne de commande", territory_id=territory.id)  # fmt: skip
        session.commit()
        typer.echo(f"Territoire {territory.code} — {territory.name} créé.")


@user_cli.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Adresse e-mail (identifiant de connexion).")],
    role: Annotated[str, typer.Option(help="admin, coordinator ou viewer.")],
    territory: Annotated[
        str | None, typer.Option(help="Code du territoire (sauf pour un administrateur).")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(help="Mot de passe (12 caractères au moins) ; demandé s'il est omis."),
    ] = None,
    name: Annotated[str, typer.Option(help="Nom et prénom.")] = "",
) -> None:
    """Créer un compte."""
    if role not in accounts.ROLES:
        _fail(f"Rôle inconnu « {role} » : choisissez admin, coordinator ou viewer.")
    with _session() as session:
        found = None
        if territory:
            found = accounts.territory_by_code(session, territory)
            if found is None:
                _fail(
                    f"Territoire inconnu « {territory} » : créez-le d'abord avec "
                    "`carte territory create CODE NOM`."
                )
        if password is None:
            password = typer.prompt(
                "Mot de passe", hide_input=True, confirmation_prompt="Une seconde fois"
            )
        try:
            user = accounts.create_user(session, email, password, role, found, full_name=name)
        except accounts.AccountError as exc:
            _fail(exc.message)
        accounts.audit(session, None, "user.create", target=user.email,
                       detail=f"rôle {role}, ligne de commande", territory_id=user.territory_id)  # fmt: skip
        session.commit()
        typer.echo(f"Compte {user.email} ({accounts.ROLE_LABELS[role]}) créé.")


@user_cli.command("list")
def user_list() -> None:
    """Lister les comptes."""
    with _session() as session:
        rows = accounts.list_users(session)
    if not rows:
        typer.echo("Aucun compte.")
    for user, code in rows:
        state = "" if user.active else " (désactivé)"
        if user.password_pending:
            state += " (mot de passe pas encore choisi)"
        typer.echo(f"{user.email}\t{user.role}\t{code or 'tous'}{state}")


def register(cli: typer.Typer) -> None:
    """Add the `territory` and `user` command groups to the `carte` command."""
    cli.add_typer(territory_cli, name="territory")
    cli.add_typer(user_cli, name="user")

"""`carte backup`, `carte restore` and `carte retention`: operating the data.

The domain modules are imported by the commands that use them, so that every other `carte`
command starts without them (the questionnaire's rules, psycopg, the password hasher)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from app.settings import get_settings
from survey.db import make_engine

EXIT_UNAVAILABLE = 2


def _fail(message: str, code: int = 2) -> None:
    typer.secho(message, err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def backup_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="Fichier de sauvegarde à créer.")],
    force: Annotated[
        bool, typer.Option("--force", help="Remplacer le fichier s'il existe déjà.")
    ] = False,
) -> None:
    """Sauvegarder la base (SQLite : copie à chaud ; PostgreSQL : pg_dump -Fc)."""
    from survey import backup

    url = get_settings().database_url
    try:
        if backup.backend(url) == "sqlite":
            result = backup.backup_sqlite(url, output, force=force)
        else:
            result = backup.backup_postgres(url, output, force=force)
    except backup.BackupError as exc:
        _fail(exc.message, EXIT_UNAVAILABLE)
    typer.echo(f"Sauvegarde écrite : {result.path} ({result.size} octets).")
    typer.echo(
        "Gardez aussi la clé secrète (SECRET_KEY ou var/secret_key) : sans elle, "
        "les liens personnels ne fonctionnent plus après une restauration."
    )


def restore_command(
    input: Annotated[
        Path, typer.Option("--input", "-i", help="Fichier de sauvegarde à restaurer.")
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Remplacer la base existante (elle est d'abord copiée).")
    ] = False,
) -> None:
    """Restaurer une sauvegarde dans la base configurée (DATABASE_URL)."""
    from survey import backup

    url = get_settings().database_url
    try:
        if backup.backend(url) == "sqlite":
            result = backup.restore_sqlite(url, input, force=force)
        else:
            backup.restore_postgres(url, input, force=force)
            typer.echo("Base PostgreSQL restaurée.")
            return
    except backup.BackupError as exc:
        _fail(exc.message, EXIT_UNAVAILABLE)
    if result.previous:
        typer.echo(f"La base remplacée est gardée dans {result.previous}.")
    typer.echo(f"Base restaurée depuis {input}.")
    if result.newer:
        typer.echo(
            "Cette sauvegarde vient d'une version plus récente de l'application : "
            "mettez l'application à jour avant de la servir."
        )
    if result.needs_upgrade:
        typer.echo("La sauvegarde date d'une version antérieure : lancez `carte db upgrade`.")


def retention_command(
    apply: Annotated[
        bool,
        typer.Option("--apply", help="Effacer vraiment (sans cette option : liste seulement)."),
    ] = False,
    months: Annotated[
        int | None,
        typer.Option(
            help="Durée de conservation en mois (par défaut PERSONAL_DATA_RETENTION_MONTHS).",
            min=1,
        ),
    ] = None,
) -> None:
    """Lister, puis avec --apply effacer, les données personnelles au-delà de leur durée de
    conservation : personnes parties sans réponse depuis ce délai, journal d'audit
    (AUDIT_RETENTION_MONTHS, effacements gardés), tentatives de connexion, liens inconnus."""
    from survey import privacy

    settings = get_settings()
    months = months or settings.personal_data_retention_months
    audit_months = settings.audit_retention_months
    now = datetime.now(UTC)
    with Session(make_engine(settings.database_url)) as session:
        candidates = privacy.retention_candidates(session, now, months)
        cutoff = privacy.months_before(now, months)
        typer.echo(
            f"Durée de conservation : {months} mois (activité antérieure au {cutoff:%d/%m/%Y})."
        )
        if not candidates:
            typer.echo("Aucune donnée personnelle à effacer.")
        for c in candidates:
            typer.echo(
                f"  territoire {c.territory_code}\tprofessionnel n°{c.professional_id}\t"
                f"{c.organisation}\tdernière activité {c.last_activity:%d/%m/%Y}"
            )
        if not apply:
            logs = privacy.logs_to_purge(session, now, audit_months)
            if candidates:
                typer.echo(f"{len(candidates)} personne(s) à effacer.")
            typer.echo(
                f"Journal d'audit : conservé {audit_months} mois (actions antérieures au "
                f"{logs.audit_cutoff:%d/%m/%Y}), sauf les effacements de professionnels ; "
                f"{logs.audit_events} action(s) à effacer."
            )
            typer.echo(
                f"{logs.login_attempts} tentative(s) de connexion de plus de 30 jours et "
                f"{logs.link_failures} trace(s) de liens inconnus à effacer."
            )
            if candidates or logs.audit_events or logs.login_attempts or logs.link_failures:
                typer.echo("Rien n'a été effacé. Relancez avec --apply pour effacer.")
            else:
                typer.echo("Rien à effacer.")
            return
        summary = privacy.apply_retention(session, now, months)
        logs = privacy.purge_logs(session, now, audit_months)
        session.commit()
    typer.echo(f"{len(summary.erased)} personne(s) effacée(s) ; réponses gardées sans identité.")
    typer.echo(
        f"{logs.audit_events} action(s) du journal d'audit antérieure(s) au "
        f"{logs.audit_cutoff:%d/%m/%Y} effacée(s) ; effacements de professionnels gardés ; "
        "purge inscrite au journal."
    )
    typer.echo(f"{logs.login_attempts} tentative(s) de connexion de plus de 30 jours effacée(s).")
    typer.echo(f"{logs.link_failures} trace(s) de liens inconnus effacée(s).")


def erase_command(
    professional: Annotated[int, typer.Argument(help="Numéro du professionnel (fiche).")],
    territory: Annotated[str, typer.Option(help="Code du territoire, par exemple 23.")],
) -> None:
    """Effacer les données personnelles d'un professionnel (droit à l'effacement)."""
    from survey import privacy
    from survey.accounts import territory_by_code
    from survey.professionals import get_professional

    with Session(make_engine(get_settings().database_url)) as session:
        found = territory_by_code(session, territory)
        pro = get_professional(session, found.id, professional) if found else None
        if pro is None:
            _fail(f"Aucun professionnel n°{professional} dans le territoire « {territory} ».")
        summary = privacy.erase_professional(session, pro, "ligne de commande")
        session.commit()
    if summary.already_erased:
        typer.echo(f"Les données du professionnel n°{professional} étaient déjà effacées.")
    else:
        typer.echo(f"Professionnel n°{professional} effacé : {summary.describe()}.")


def register(cli: typer.Typer) -> None:
    """Add `backup`, `restore`, `retention` and `erase` to the `carte` command."""
    cli.command("backup")(backup_command)
    cli.command("restore")(restore_command)
    cli.command("retention")(retention_command)
    cli.command("erase")(erase_command)

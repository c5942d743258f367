"""Backup and restore of the database.

SQLite: the online backup API of the sqlite3 module copies a consistent snapshot while the
service keeps running (readers and writers wait at most a few milliseconds). The copy is
written next to its destination under a temporary name, checked, then renamed: a backup
file is either complete or absent. Restore copies a checked backup into the configured
database the same way, after keeping the current database aside.

PostgreSQL: `pg_dump -Fc` and `pg_restore --clean --if-exists` (run when present on the
machine, otherwise the caller prints the commands).

Keep the secret key (SECRET_KEY or var/secret_key) with the backups: personal links are
derived from it and die without it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from survey import migrate


class BackupError(Exception):
    """A French message for the operator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class BackupResult:
    path: Path
    size: int
    revision: str | None  # the schema version (Alembic) inside the copy


def _scripts():
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))


def head_revision() -> str | None:
    """The newest schema revision this code knows."""
    return _scripts().get_current_head()


def is_known_revision(revision: str | None) -> bool:
    """False for a schema written by a newer version of the application."""
    try:
        return revision is not None and _scripts().get_revision(revision) is not None
    except Exception:  # alembic raises several kinds for an unknown id
        return False


def backend(url: str) -> str:
    return make_url(url).get_backend_name()


def sqlite_path(url: str) -> Path:
    parsed = make_url(url)
    if (
        parsed.get_backend_name() != "sqlite"
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        raise BackupError("Cette base n'est pas un fichier SQLite.")
    return Path(parsed.database)


def _revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


def check_sqlite_file(path: Path) -> str | None:
    """Raise BackupError unless `path` is a sound SQLite database of this application;
    returns its schema revision."""
    if not path.is_file():
        raise BackupError(f"Le fichier {path} n'existe pas.")
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            revision = _revision(conn)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} n'est pas une base SQLite lisible ({exc}).") from None
    if result != "ok":
        raise BackupError(f"{path} est endommagé (contrôle d'intégrité : {result}).")
    if not {"territory", "professional", "alembic_version"} <= tables or revision is None:
        raise BackupError(f"{path} n'est pas une base de la Carte partenariale.")
    return revision


def _copy(source: sqlite3.Connection, target: Path) -> None:
    with closing(sqlite3.connect(target)) as dest:
        source.backup(dest)
        # A single self-contained file: no -wal/-shm companion needed to read it.
        dest.execute("PRAGMA journal_mode=DELETE")


def backup_sqlite(url: str, output: Path, force: bool = False) -> BackupResult:
    """Copy the live SQLite database of `url` into `output` (refused if it exists, unless
    `force`)."""
    source_path = sqlite_path(url)
    output = Path(output)
    if not source_path.is_file():
        raise BackupError(f"La base {source_path} n'existe pas.")
    if output.exists() and not force:
        raise BackupError(
            f"{output} existe déjà : choisissez un autre nom, ou ajoutez --force pour le remplacer."
        )
    if output.resolve() == source_path.resolve():
        raise BackupError("La sauvegarde ne peut pas remplacer la base elle-même.")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partiel")
    partial.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)) as src:
            _copy(src, partial)
        revision = check_sqlite_file(partial)
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(output, output.stat().st_size, revision)


@dataclass
class RestoreResult:
    path: Path
    revision: str | None
    previous: Path | None  # where the replaced database was kept
    needs_upgrade: bool  # the backup predates the current schema: run `carte db upgrade`
    newer: bool = False  # written by a newer version of the application


def restore_sqlite(url: str, backup: Path, force: bool = False) -> RestoreResult:
    """Replace the SQLite database of `url` by `backup`.

    Refused when the database exists and `force` is not given; with `force`, the current
    database is first copied to `<name>.avant-restauration-<date>` next to it.
    """
    target = sqlite_path(url)
    backup = Path(backup)
    revision = check_sqlite_file(backup)
    if target.exists() and backup.resolve() == target.resolve():
        raise BackupError("La sauvegarde est la base elle-même : rien à restaurer.")
    previous = None
    if target.exists():
        if not force:
            raise BackupError(
                f"La base {target} existe déjà : la restauration la remplacerait. "
                "Ajoutez --force pour confirmer (une copie de la base actuelle est gardée)."
            )
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        previous = target.with_name(f"{target.name}.avant-restauration-{stamp}")
        backup_sqlite(url, previous, force=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Through the backup API into the live file: a running service sees the old or the
    # new database, never a mixture, and its WAL stays consistent.
    with (
        closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as src,
        closing(sqlite3.connect(target)) as dest,
    ):
        src.backup(dest)
        dest.execute("PRAGMA journal_mode=WAL")
    newer = not is_known_revision(revision)
    return RestoreResult(
        target,
        revision,
        previous,
        needs_upgrade=not newer and revision != head_revision(),
        newer=newer,
    )


# --- PostgreSQL ----------------------------------------------------------------------------


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    args = []
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    return args, env


def postgres_instructions(url: str, path: str = "carte.dump") -> str:
    """The commands an operator runs by hand when pg_dump is not installed here."""
    u = make_url(url)
    conn = " ".join(_pg_args(u)[0])
    return (
        "Sauvegarde PostgreSQL (outils client PostgreSQL requis, paquet postgresql-client) :\n"
        f"  pg_dump -Fc --no-owner {conn} --file {path} {u.database}\n"
        "Restauration (remplace le contenu de la base) :\n"
        f"  pg_restore --clean --if-exists --no-owner {conn} --dbname {u.database} {path}\n"
        "Le mot de passe se passe par la variable PGPASSWORD ou un fichier ~/.pgpass."
    )


def _run(cmd: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    except FileNotFoundError:
        raise BackupError(f"{cmd[0]} est introuvable sur cette machine.") from None
    if done.returncode != 0:
        raise BackupError(f"{cmd[0]} a échoué : {done.stderr.strip()[:2000]}")


def backup_postgres(url: str, output: Path, force: bool = False) -> BackupResult:
    """`pg_dump -Fc` into `output` (temporary name, then renamed)."""
    if shutil.which("pg_dump") is None:
        raise BackupError(
            "pg_dump n'est pas installé sur cette machine.\n" + postgres_instructions(url)
        )
    output = Path(output)
    if output.exists() and not force:
        raise BackupError(
            f"{output} existe déjà : choisissez un autre nom, ou ajoutez --force pour le remplacer."
        )
    u = make_url(url)
    args, env = _pg_args(u)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partiel")
    try:
        _run(["pg_dump", "-Fc", "--no-owner", *args, "--file", str(partial), str(u.database)], env)
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(output, output.stat().st_size, None)


def postgres_has_tables(url: str) -> bool:
    from sqlalchemy import inspect

    from survey.db import make_engine

    engine = make_engine(url)
    try:
        return bool(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def restore_postgres(url: str, backup: Path, force: bool = False) -> None:
    """`pg_restore --clean --if-exists` of `backup` into the database of `url`."""
    if shutil.which("pg_restore") is None:
        raise BackupError(
            "pg_restore n'est pas installé sur cette machine.\n" + postgres_instructions(url)
        )
    backup = Path(backup)
    if not backup.is_file():
        raise BackupError(f"Le fichier {backup} n'existe pas.")
    if not force and postgres_has_tables(url):
        raise BackupError(
            "La base PostgreSQL contient déjà des tables : la restauration les remplacerait. "
            "Ajoutez --force pour confirmer (faites d'abord une sauvegarde de l'état actuel)."
        )
    u = make_url(url)
    args, env = _pg_args(u)
    _run(
        [
            "pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
            "--exit-on-error", *args, "--dbname", str(u.database), str(backup),
        ],
        env,
    )  # fmt: skip

"""Backup and restore: a database with the demo goes through `carte backup` and
`carte restore` into another database, and every table comes back row for row."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
import typer
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, select
from typer.testing import CliRunner

from app import cli_ops
from app.settings import get_settings
from survey import backup, demo, migrate
from survey.accounts import ensure_demo_accounts
from survey.db import make_engine
from survey.models import Territory
from tests.conftest import TEST_SECRET


def dump(url: str) -> dict[str, list[tuple]]:
    """Every table (Alembic's included), every row, in a stable order."""
    engine = make_engine(url)
    try:
        out = {}
        with engine.connect() as conn:
            for name in sorted(inspect(conn).get_table_names()):
                table = inspect(conn).get_columns(name)
                cols = ", ".join(f'"{c["name"]}"' for c in table)
                rows = conn.execute(text(f'SELECT {cols} FROM "{name}" ORDER BY {cols}')).all()
                out[name] = [tuple(r) for r in rows]
        return out
    finally:
        engine.dispose()


def _load_demo(url: str) -> None:
    engine = make_engine(url)
    with Session(engine) as s:
        demo.load(s, TEST_SECRET)
        ensure_demo_accounts(s, s.exec(select(Territory).where(Territory.code == "23")).one())
        s.commit()
    engine.dispose()


def _sqlite(tmp_path: Path, name: str) -> str:
    return f"sqlite:///{tmp_path / name}"


def _assert_full_copy(source: dict, copy: dict) -> None:
    assert source.keys() == copy.keys()
    assert set(SQLModel.metadata.tables) | {"alembic_version"} <= source.keys()
    assert sum(len(rows) for rows in source.values()) > 1000  # the demo, not empty tables
    for name in source:
        assert copy[name] == source[name], f"table {name} differs"


# --- SQLite ----------------------------------------------------------------------------------


def test_sqlite_round_trip_compares_every_table(tmp_path):
    url = _sqlite(tmp_path, "live.sqlite3")
    migrate.upgrade(url)
    _load_demo(url)
    result = backup.backup_sqlite(url, tmp_path / "sauvegardes" / "carte.sqlite3")
    assert result.revision == backup.head_revision() and result.size > 0
    restored = _sqlite(tmp_path, "restored.sqlite3")
    back = backup.restore_sqlite(restored, result.path)
    assert back.previous is None and not back.needs_upgrade and not back.newer
    _assert_full_copy(dump(url), dump(restored))
    # The backup is one self-contained file (no -wal companion needed).
    assert not Path(str(result.path) + "-wal").exists()


def test_backup_is_a_consistent_snapshot_while_someone_writes(tmp_path):
    url = _sqlite(tmp_path, "live.sqlite3")
    migrate.upgrade(url)
    _load_demo(url)
    before = dump(url)
    path = backup.sqlite_path(url)
    with closing(sqlite3.connect(path, isolation_level=None)) as writer:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(
            "INSERT INTO territory (code, name, created_at) VALUES ('99', 'X', '2026-01-01')"
        )
        out = backup.backup_sqlite(url, tmp_path / "pendant.sqlite3")
        writer.execute("COMMIT")
    copy = dump(_sqlite(tmp_path, "pendant.sqlite3"))
    assert copy == before  # the uncommitted territory is not in the copy
    assert out.path.exists()


def test_backup_refuses_to_replace_a_file_or_the_database(tmp_path):
    url = _sqlite(tmp_path, "live.sqlite3")
    migrate.upgrade(url)
    target = tmp_path / "existe.sqlite3"
    target.write_text("précieux")
    with pytest.raises(backup.BackupError, match="existe déjà"):
        backup.backup_sqlite(url, target)
    assert target.read_text() == "précieux"
    with pytest.raises(backup.BackupError, match="la base elle-même"):
        backup.backup_sqlite(url, backup.sqlite_path(url), force=True)
    backup.backup_sqlite(url, target, force=True)
    assert backup.check_sqlite_file(target) == backup.head_revision()


def test_restore_refuses_to_overwrite_without_force_and_keeps_the_replaced_base(tmp_path):
    source = _sqlite(tmp_path, "source.sqlite3")
    migrate.upgrade(source)
    _load_demo(source)
    saved = backup.backup_sqlite(source, tmp_path / "carte.bak").path

    current = _sqlite(tmp_path, "current.sqlite3")
    migrate.upgrade(current)  # an empty but live database
    current_rows = dump(current)
    with pytest.raises(backup.BackupError, match="--force"):
        backup.restore_sqlite(current, saved)
    assert dump(current) == current_rows  # untouched

    result = backup.restore_sqlite(current, saved, force=True)
    _assert_full_copy(dump(source), dump(current))
    assert result.previous is not None and result.previous.exists()
    assert dump(f"sqlite:///{result.previous}") == current_rows


def test_restore_says_when_the_schema_is_older_or_newer(tmp_path):
    old = _sqlite(tmp_path, "ancienne.sqlite3")
    migrate.upgrade(old, "0002")
    older = backup.restore_sqlite(_sqlite(tmp_path, "a.sqlite3"), backup.sqlite_path(old))
    assert older.needs_upgrade and not older.newer
    with closing(sqlite3.connect(backup.sqlite_path(old))) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
        conn.commit()
    newer = backup.restore_sqlite(_sqlite(tmp_path, "b.sqlite3"), backup.sqlite_path(old))
    assert newer.newer and not newer.needs_upgrade


def test_restore_rejects_what_is_not_a_sound_backup(tmp_path):
    target = _sqlite(tmp_path, "cible.sqlite3")
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"ceci n'est pas une base" * 100)
    with pytest.raises(backup.BackupError, match="pas une base SQLite lisible"):
        backup.restore_sqlite(target, junk)
    other = tmp_path / "autre.sqlite3"
    with closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(backup.BackupError, match="pas une base de la Carte partenariale"):
        backup.restore_sqlite(target, other)
    with pytest.raises(backup.BackupError, match="n'existe pas"):
        backup.restore_sqlite(target, tmp_path / "absent.sqlite3")
    assert not backup.sqlite_path(target).exists()  # nothing created on refusal


# --- the command, on both databases ----------------------------------------------------------


@pytest.fixture
def ops(monkeypatch):
    runner = CliRunner()
    app = typer.Typer()
    cli_ops.register(app)

    def run(url: str, *args: str):
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("SECRET_KEY", TEST_SECRET)
        get_settings.cache_clear()
        return runner.invoke(app, list(args))

    yield run
    get_settings.cache_clear()


def _fresh_postgres(url: str) -> str:
    """A database of our own next to the test one, empty."""
    u = make_url(url)
    target = u.set(database=f"{u.database}_restore")
    admin = make_engine(u.set(database="postgres").render_as_string(hide_password=False),
                        isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    return target.render_as_string(hide_password=False)


def test_cli_backup_then_restore_into_another_database(database_url, engine, ops, tmp_path):
    _load_demo(database_url)
    out = tmp_path / "carte.sauvegarde"
    if backup.backend(database_url) == "postgresql" and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump absent: PostgreSQL round trip not possible here")
    made = ops(database_url, "backup", "--output", str(out))
    assert made.exit_code == 0, made.output
    assert "Sauvegarde écrite" in made.stdout and "clé secrète" in made.stdout
    again = ops(database_url, "backup", "--output", str(out))
    assert again.exit_code == 2 and "existe déjà" in again.output

    if backup.backend(database_url) == "sqlite":
        target = _sqlite(tmp_path, "restauree.sqlite3")
    else:
        target = _fresh_postgres(database_url)
    restored = ops(target, "restore", "--input", str(out))
    assert restored.exit_code == 0, restored.output
    _assert_full_copy(dump(database_url), dump(target))

    refused = ops(target, "restore", "--input", str(out))
    assert refused.exit_code == 2 and "--force" in refused.output
    forced = ops(target, "restore", "--input", str(out), "--force")
    assert forced.exit_code == 0, forced.output
    _assert_full_copy(dump(database_url), dump(target))
    if backup.backend(target) == "postgresql":
        make_engine(target).dispose()


def test_cli_backup_without_pg_dump_prints_the_procedure(monkeypatch, ops, tmp_path):
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    url = "postgresql+psycopg://carte:secret@db.example.org:5433/carte"
    result = ops(url, "backup", "--output", str(tmp_path / "x.dump"))
    assert result.exit_code == 2
    assert "pg_dump n'est pas installé" in result.output
    assert "pg_dump -Fc --no-owner --host db.example.org --port 5433 --username carte" in (
        result.output
    )
    assert "pg_restore --clean --if-exists" in result.output
    assert "secret" not in result.output  # the password is never printed

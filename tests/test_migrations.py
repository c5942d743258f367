"""Alembic owns the schema: the migrated database matches the models, and the migrations
go down to nothing and back up on a database that holds data."""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import column as sa_column
from sqlalchemy import func, inspect, text
from sqlalchemy import select as select_columns
from sqlalchemy import table as sa_table
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, select

from survey import demo, migrate
from survey.db import make_engine
from survey.models import DeclaredLink, Territory
from tests.conftest import TEST_SECRET

ENV_PY = migrate.MIGRATIONS_DIR / "env.py"


def _target_metadata():
    """SQLModel.metadata with every model module that migrations/env.py registers."""
    for module in re.findall(r"^import (survey\.\w+)", ENV_PY.read_text(), flags=re.M):
        importlib.import_module(module)
    return SQLModel.metadata


def schema_differences(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, _target_metadata())
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models(database_url):
    assert schema_differences(database_url) == []


def test_the_check_sees_a_missing_column(tmp_path):
    """The comparison is not vacuous: a schema one column short is reported."""
    url = f"sqlite:///{tmp_path / 'short.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE body DROP COLUMN description"))
    engine.dispose()
    diffs = schema_differences(url)
    assert any(d[0] == "add_column" and d[3].name == "description" for d in diffs), diffs


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    """An empty database of this test's own (never the shared fixture database)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
        pytest.skip("PostgreSQL tests skipped: set TEST_DATABASE_URL to run them")
    parsed = make_url(base)
    name = f"{parsed.database}_migrations"
    admin = make_engine(base).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_downgrade_to_base_and_upgrade_again_with_data(fresh_url):
    migrate.upgrade(fresh_url)
    model_tables = {t.name for t in _target_metadata().sorted_tables}
    assert model_tables <= _tables(fresh_url)
    engine = make_engine(fresh_url)
    try:
        with Session(engine) as s:
            assert demo.load(s, TEST_SECRET) is True
            assert s.exec(select(func.count()).select_from(DeclaredLink)).one() > 500
        engine.dispose()

        migrate.downgrade(fresh_url, "base")
        assert _tables(fresh_url) - {"alembic_version"} == set()

        migrate.upgrade(fresh_url)
        assert model_tables <= _tables(fresh_url)
        assert schema_differences(fresh_url) == []
        with Session(engine) as s:
            assert s.exec(select(func.count()).select_from(Territory)).one() == 0
            assert demo.load(s, TEST_SECRET) is True
    finally:
        engine.dispose()


def test_every_migration_file_is_in_the_chain():
    """No stray revision: each file under versions/ is reached from head down to base."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    chain = [rev.revision for rev in script.walk_revisions()]
    files = sorted(Path(migrate.MIGRATIONS_DIR / "versions").glob("*.py"))
    assert len(chain) == len(files) and len(script.get_heads()) == 1


# --- one revision at a time, with data added at each step ------------------------------

# Rows written right after upgrading to a revision, in plain SQL (the models describe only
# the head schema). 0001 gets the whole demo territory. A new migration adds its own entry.
STEP_DATA: dict[str, list[str]] = {
    "0002": [
        "INSERT INTO account (email, full_name, password_hash, role, territory_id, active, "
        "session_version, created_at) SELECT 'coord@example.org', 'Coordination', 'x', "
        "'coordinator', min(id), true, 1, '2026-01-02 10:00:00' FROM territory",
        "INSERT INTO auditevent (at, user_id, user_email, territory_id, action, target, detail) "
        "VALUES ('2026-01-02 10:00:00', NULL, 'coord@example.org', NULL, 'login', '', '')",
        "INSERT INTO loginattempt (at, email, ip, success) "
        "VALUES ('2026-01-02 10:00:00', 'coord@example.org', '127.0.0.1', true)",
    ],
    "0003": [
        "INSERT INTO emailtemplate (territory_id, kind, subject, body, updated_at) "
        "SELECT min(id), 'invitation', 'Carte partenariale', 'Bonjour', '2026-01-02 10:00:00' "
        "FROM territory",
        "INSERT INTO emaillog (campaign_id, professional_id, kind, sent_at, status, error) "
        "SELECT c.id, p.id, 'invitation', '2026-01-02 10:00:00', 'sent', '' FROM campaign c "
        "JOIN professional p ON p.territory_id = c.territory_id "
        "WHERE c.id = (SELECT min(id) FROM campaign)",
    ],
    "0004": ["INSERT INTO linkfailure (at, ip) VALUES ('2026-01-02 10:00:00', '127.0.0.1')"],
    # What a freeze writes (`carte db upgrade` freezes once at head, not the migration).
    "0006": [
        "INSERT INTO campaignsnapshot (campaign_id, frozen_at, figures, summary) "
        "SELECT min(id), '2026-01-02 10:00:00', '{}', '{}' FROM campaign",
        "INSERT INTO snapshotstructure (campaign_id, organisation_id, name, type, type_label, "
        "commune, status, invited, responded, link_carriers) SELECT (SELECT min(id) FROM "
        "campaign), id, name, type, type, commune, status, 0, 0, 0 FROM organisation",
        "INSERT INTO snapshottie (campaign_id, src, dst, carriers, attrs) SELECT min(c.id), "
        "min(o.id), max(o.id), 1, '{}' FROM campaign c, organisation o",
        "INSERT INTO snapshotdeclaration (campaign_id, link_id, response_id, professional_id, "
        "position, src, dst) SELECT min(c.id), 1, 1, 1, 0, min(o.id), max(o.id) "
        "FROM campaign c, organisation o",
        "INSERT INTO snapshottag (campaign_id, link_id, kind, code) SELECT min(id), 1, "
        "'frame', 'agreement' FROM campaign",
        "INSERT INTO snapshotperson (campaign_id, professional_id, organisation_id, responded) "
        "SELECT (SELECT min(id) FROM campaign), id, organisation_id, 1 FROM professional",
        "INSERT INTO snapshotservice (campaign_id, service_id, name) SELECT "
        "(SELECT min(id) FROM campaign), id, name FROM service",
        "INSERT INTO snapshotobstacle (campaign_id, professional_id, code) SELECT min(c.id), "
        "min(p.id), 'turnover' FROM campaign c, professional p",
    ],
    "0009": [
        "UPDATE campaign SET reminder1_on = '2026-03-11', reminder2_on = '2026-12-10' "
        "WHERE id = (SELECT max(id) FROM campaign)",
        "INSERT INTO engagement (territory_id, title, kind, status, finding, zone, family, "
        "created_at, updated_at) SELECT min(id), 'Formaliser le lien', 'formalise', 'planned', "
        "'', '', '', '2026-01-02 10:00:00', '2026-01-02 10:00:00' FROM territory",
        "INSERT INTO engagementstructure (engagement_id, organisation_id, position) "
        "SELECT min(e.id), min(o.id), 0 FROM engagement e, organisation o",
        "INSERT INTO engagementnote (engagement_id, written_on, text, created_at) "
        "SELECT min(id), '2026-02-01', 'Rencontre prévue', '2026-02-01 10:00:00' FROM engagement",
    ],
    "0010": [
        "INSERT INTO campaignlayout (campaign_id, anchor, version, ties, positions, "
        "computed_at) SELECT max(id), 'a', 'v1', '[[1, 2, 1]]', '[[1, 0.1, 0.2], [2, 0.3, 0.4]]', "
        "'2026-01-02 10:00:00' FROM campaign",
    ],
    "0007": [
        "INSERT INTO zone (territory_id, name, kind, created_at) "
        "SELECT min(id), 'UTAS de Guéret', 'utas', '2026-01-02 10:00:00' FROM territory",
        "INSERT INTO zonecommune (zone_id, key, commune) SELECT min(id), 'gueret', 'Guéret' "
        "FROM zone",
        "UPDATE organisation SET zone_id = (SELECT min(id) FROM zone) "
        "WHERE id = (SELECT min(id) FROM organisation)",
        "UPDATE body SET kind = 'coordination', frequency = 'monthly' "
        "WHERE id = (SELECT min(id) FROM body)",
        "INSERT INTO bodymember (body_id, organisation_id) SELECT min(b.id), min(o.id) "
        "FROM body b, organisation o",
        "INSERT INTO convention (territory_id, kind, title, reference, starts_on, active, "
        "created_at) SELECT min(id), 'convention', 'Accès aux droits', '', '2025-01-01', true, "
        "'2026-01-02 10:00:00' FROM territory",
        "INSERT INTO conventionparty (convention_id, organisation_id) "
        "SELECT min(c.id), min(o.id) FROM convention c, organisation o",
    ],
}


def _snapshot(url: str) -> dict[str, tuple[tuple[str, ...], list[tuple]]]:
    """Every row of every table (alembic_version aside), in a stable order, as text, with
    the table's column names."""
    engine = make_engine(url)
    try:
        out = {}
        with engine.connect() as conn:
            for name in inspect(conn).get_table_names():
                if name == "alembic_version":
                    continue
                result = conn.execute(text(f'SELECT * FROM "{name}"'))
                columns = tuple(result.keys())
                out[name] = (columns, sorted(tuple(str(v) for v in row) for row in result))
        return out
    finally:
        engine.dispose()


def _project(entry: tuple[tuple[str, ...], list[tuple]], columns: tuple[str, ...]) -> list:
    """The rows of a `_snapshot` entry restricted to `columns` (an older schema's)."""
    have, rows = entry
    at = [have.index(c) for c in columns]
    return sorted(tuple(row[i] for i in at) for row in rows)


def _load_demo(url: str) -> None:
    """The demo, written into a database at any revision: built with today's models in a
    scratch SQLite database, then copied table by table, the columns that revision has."""
    scratch = make_engine("sqlite://")
    target = make_engine(url)
    try:
        SQLModel.metadata.create_all(scratch)
        with Session(scratch) as s:
            assert demo.load(s, TEST_SECRET) is True
        with scratch.connect() as src, target.begin() as dst:
            present = set(inspect(dst).get_table_names())
            for table in SQLModel.metadata.sorted_tables:
                if table.name not in present:
                    continue
                columns = {c["name"] for c in inspect(dst).get_columns(table.name)}
                keep = [c for c in table.columns if c.name in columns]
                rows = [dict(r._mapping) for r in src.execute(select_columns(*keep))]
                if rows:  # a bare table: the models' defaults for absent columns stay out
                    bare = sa_table(table.name, *(sa_column(c.name) for c in keep))
                    dst.execute(bare.insert(), rows)
            if dst.dialect.name == "postgresql":  # ids were given: move the sequences on
                for table in SQLModel.metadata.sorted_tables:
                    if table.name in present and "id" in table.c and table.c.id.autoincrement:
                        dst.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'),"
                                f' coalesce((SELECT max(id) FROM "{table.name}"), 1))'
                            )
                        )
    finally:
        scratch.dispose()
        target.dispose()


def _revisions() -> list[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def _add_step_data(url: str, revision: str) -> None:
    engine = make_engine(url)
    try:
        if revision == _revisions()[0]:
            _load_demo(url)
        with engine.begin() as conn:
            for sql in STEP_DATA.get(revision, []):
                assert conn.execute(text(sql)).rowcount >= 1, sql
    finally:
        engine.dispose()


def test_each_step_up_and_down_keeps_the_data(fresh_url):
    """Upgrade one revision at a time, adding rows at each step; every step keeps every row
    already there. Then downgrade one at a time: each step drops only its own tables and
    keeps every other row. Back up to head, the first revision's data are still whole."""
    revisions = _revisions()
    assert set(STEP_DATA) <= set(revisions)
    snapshots: dict[str, dict] = {}
    previous: dict = {}
    for rev in revisions:
        migrate.upgrade(fresh_url, rev)
        now = _snapshot(fresh_url)
        for t, (columns, rows) in previous.items():
            assert _project(now[t], columns) == rows, f"upgrade to {rev} changed {t}"
        _add_step_data(fresh_url, rev)
        snapshots[rev] = _snapshot(fresh_url)
        empty = [t for t in set(snapshots[rev]) - set(previous) if not snapshots[rev][t][1]]
        assert empty == [], f"{rev}: give its new tables rows in STEP_DATA"
        previous = snapshots[rev]
    assert sum(len(rows) for _, rows in snapshots[revisions[0]].values()) > 1000

    down = list(reversed(revisions))
    for rev, below in zip(down, [*down[1:], "base"], strict=True):
        migrate.downgrade(fresh_url, below)
        now = _snapshot(fresh_url)
        expected = snapshots.get(below, {})
        assert set(now) == set(expected), f"downgrade of {rev}: tables {set(now) ^ set(expected)}"
        assert now == expected, f"downgrade of {rev} changed data"

    migrate.upgrade(fresh_url)
    assert schema_differences(fresh_url) == []


def test_migration_0006_freezes_the_campaigns_already_closed(fresh_url):
    """A database at 0005 with the demo (2025 closed, never frozen): after the upgrade the
    closed years are frozen and a rename no longer changes them."""
    from reports import cache
    from reports.graph import build_graph, is_frozen
    from reports.snapshot import freeze_missing
    from survey.models import Campaign, Organisation

    migrate.upgrade(fresh_url, "0005")
    _load_demo(fresh_url)
    engine = make_engine(fresh_url)
    try:
        migrate.upgrade(fresh_url)
        with Session(engine) as s:  # what `carte db upgrade` does once at head
            assert freeze_missing(s) >= 1
            s.commit()
        with Session(engine) as s:
            closed = s.exec(select(Campaign).where(Campaign.status == "closed")).all()
            opened = s.exec(select(Campaign).where(Campaign.status == "open")).all()
            assert closed and opened
            assert all(is_frozen(s, c) for c in closed)
            assert not any(is_frozen(s, c) for c in opened)
            before = {c.year: cache.all_figures(s, c) for c in closed}
            names = {c.year: dict(build_graph(s, c).nodes(data="name")) for c in closed}
            org = s.exec(select(Organisation).where(Organisation.status == "active")).first()
            org.name = "Structure renommée après la clôture"
            s.add(org)
            s.commit()
            cache.cache_for(s).clear()
            for c in closed:
                assert cache.all_figures(s, c) == before[c.year]
                assert dict(build_graph(s, c).nodes(data="name")) == names[c.year]
    finally:
        engine.dispose()


def test_migration_0011_keys_zone_communes_with_every_letter(fresh_url):
    """Zone communes keyed by the old fold (letters left non-ASCII dropped, « ’ » gluing words)
    are keyed again by today's `normalize_name`; two communes of one zone folding alike keep
    one row; the downgrade gives the old keys back."""
    from survey.directory import normalize_name

    migrate.upgrade(fresh_url, "0010")
    _load_demo(fresh_url)
    old = {  # commune: its key before 0011
        "Œuilly": "uilly",
        "Saint-Martin-d’Ardèche": "saint martin dardeche",
        "Москва": "",
        "Guéret": "gueret",
        "L'Oeuvre": "l oeuvre",
        "L’Œuvre": "luvre",  # folds like « L'Oeuvre » from 0011 on: one of the two stays
    }
    engine = make_engine(fresh_url)
    try:
        with engine.begin() as conn:
            zone = conn.execute(
                text(
                    "INSERT INTO zone (territory_id, name, kind, created_at) SELECT min(id), "
                    "'Zone test', 'utas', '2026-01-02 10:00:00' FROM territory RETURNING id"
                )
            ).scalar_one()
            for commune, key in old.items():
                conn.execute(
                    text("INSERT INTO zonecommune (zone_id, key, commune) VALUES (:z, :k, :c)"),
                    {"z": zone, "k": key, "c": commune},
                )

        def keys() -> dict[str, str]:
            with engine.connect() as conn:
                rows = conn.execute(
                    text("SELECT commune, key FROM zonecommune WHERE zone_id = :z"), {"z": zone}
                )
                return dict(rows.all())

        migrate.upgrade(fresh_url, "0011")
        after = keys()
        assert after == {
            "Œuilly": "oeuilly",
            "Saint-Martin-d’Ardèche": "saint martin d ardeche",
            "Москва": "москва",
            "Guéret": "gueret",
            "L'Oeuvre": "l oeuvre",
        }
        assert all(normalize_name(c) == k for c, k in after.items())

        migrate.downgrade(fresh_url, "0010")
        assert keys() == {c: k for c, k in old.items() if c != "L’Œuvre"}
    finally:
        engine.dispose()

"""Engine creation shared by the web app, the CLI, migrations and tests."""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Column, CursorResult, Result, Table, TextClause, event, insert, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.sql.schema import ScalarElementColumnDefault
from sqlmodel import Session, SQLModel, create_engine


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a model class, for SQL written with SQLAlchemy Core (SQLModel does
    not declare `__table__` to type checkers)."""
    return model.__table__  # type: ignore[attr-defined]


def stored_id(row: Any) -> int:
    """The primary key of a row already flushed: SQLModel types ids `int | None` because a new
    row has none until then. Fails loudly on a row not stored yet."""
    if row is None or row.id is None:
        raise ValueError(f"{row!r} is not stored yet")
    return row.id


def changed_rows(result: Result) -> int:
    """The rows an UPDATE or DELETE changed (`Session.execute` is typed as returning a Result,
    and only the CursorResult it returns for those statements has `rowcount`)."""
    return cast(CursorResult, result).rowcount or 0


def make_engine(
    url: str,
    pool_size: int | None = None,
    lock_timeout_ms: int | None = None,
    sqlite_busy_timeout_s: float = 30.0,
    **kwargs,
) -> Engine:
    """An engine for `url`; SQLite gets foreign keys, WAL and a busy timeout.

    `pool_size` (PostgreSQL): connections kept open. Connections beyond it (up to as many
    again) are closed when given back, so a pool smaller than the number of concurrent
    requests makes PostgreSQL fork a backend for most requests: measured in bench/load.py,
    that halved the throughput. `lock_timeout_ms` (PostgreSQL): a statement waiting longer
    than this for a lock fails (the web app answers 503) instead of holding its request."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": sqlite_busy_timeout_s},
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    if pool_size is not None:
        kwargs |= {"pool_size": pool_size, "max_overflow": pool_size}
    if lock_timeout_ms is not None:
        kwargs["connect_args"] = {"options": f"-c lock_timeout={int(lock_timeout_ms)}"}
    engine = create_engine(url, **kwargs)
    ping_idle_connections(engine)
    return engine


def autocommit(engine: Engine) -> Engine:
    """`engine` with each statement in its own transaction on PostgreSQL (the same pool): no
    BEGIN and COMMIT round trips around a request whose reads need no common snapshot (READ
    COMMITTED gives each statement its own anyway) and whose write is one statement. A write
    of several statements opens its transaction first (`survey.questionnaire._pg_begin`).
    SQLite: `engine` itself."""
    if engine.dialect.name != "postgresql":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


# A pooled connection given back less than this many seconds ago is handed out again without
# a ping. SQLAlchemy's `pool_pre_ping` pings on every checkout: one more round trip per
# request, 3 to 4 % of a submission's CPU on the server and some on PostgreSQL's side
# (bench/limit.sh, docs/performance.md). A connection busy a moment ago is very likely alive;
# if the server went away meanwhile, the statement fails, SQLAlchemy invalidates the pool's
# connections and the next request reconnects.
PING_IDLE_S = 10.0


def ping_idle_connections(engine: Engine) -> None:
    """Ping a connection on checkout only when it sat in the pool for PING_IDLE_S or more (a
    fresh connection is never pinged): a dead one is replaced before anyone uses it."""

    @event.listens_for(engine, "checkin")
    def _given_back(dbapi_conn, record) -> None:
        if dbapi_conn is not None:
            record.info["given_back"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn, record, _proxy) -> None:
        given_back = record.info.get("given_back")
        if given_back is None or time.monotonic() - given_back < PING_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            if engine.dialect.is_disconnect(exc, dbapi_conn, None):
                # The pool throws this connection away and checks out a new one.
                raise DisconnectionError() from exc
            raise


def insert_rows(
    session: Session, table: Table, rows: list[dict], returning: Column | None = None
) -> list:
    """Insert `rows` (dicts with the same keys) into `table` in one statement.

    PostgreSQL: `INSERT … SELECT * FROM unnest(array, array, …)`, a short constant statement
    whatever the number of rows, so psycopg prepares it once and no per-row work is done in
    Python (SQLAlchemy's multi-VALUES form is a new, long SQL string that psycopg parses on
    every call, and executemany costs a protocol round of Python work per row). SQLite:
    executemany (a C loop). With `returning`, the values of that column come back in the
    order of `rows`; it must be an autoincrement key.
    """
    if not rows:
        return []
    names = list(rows[0])
    conn = session.connection()
    defaults = _python_defaults(table, frozenset(names))
    if conn.dialect.name == "postgresql" and defaults is not None:
        if defaults:  # what insert() would fill in: the same constants
            rows = [{**row, **defaults} for row in rows]
            names += list(defaults)
        statement = _unnest_insert(table, tuple(names), returning)
        params = {
            f"p{i}": _array_literal([row[name] for row in rows]) for i, name in enumerate(names)
        }
        if returning is None:
            conn.execute(statement, params)
            return []
        # Ids come from the table's sequence in the order the rows are inserted (ORDER BY
        # the ordinality), so the sorted ids are the rows' ids in order.
        return sorted(conn.execute(statement, params).scalars())
    if returning is None:
        conn.execute(insert(table), rows)
        return []
    return list(
        conn.execute(
            insert(table).returning(returning, sort_by_parameter_order=True), rows
        ).scalars()
    )


def _python_defaults(table: Table, given: frozenset[str]) -> dict | None:
    """Constant client-side defaults of the columns missing from the rows, or None when one
    of them is computed (then only insert() knows how to fill it)."""
    out = {}
    for column in table.columns:
        if column.name in given or column.default is None:
            continue
        if not column.default.is_scalar:
            return None
        out[column.name] = cast(ScalarElementColumnDefault, column.default).arg
    return out


def _array_literal(values: list) -> str:
    """A PostgreSQL array literal ('{1,NULL,"a\\"b"}'), cast by the statement to the column's
    array type: much less Python work than psycopg adapting a list element by element."""
    return "{" + ",".join(map(_array_item, values)) + "}"


def _array_item(value: object) -> str:
    if value is None:
        return "NULL"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


@lru_cache(maxsize=64)
def _unnest_insert(table: Table, names: tuple[str, ...], returning: Column | None) -> TextClause:
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()
    quote = dialect.identifier_preparer.quote
    arrays = ", ".join(
        f"CAST(:p{i} AS {table.c[name].type.compile(dialect=dialect)}[])"
        for i, name in enumerate(names)
    )
    target = f"{quote(table.name)} ({', '.join(quote(n) for n in names)})"
    if returning is None:
        return text(f"INSERT INTO {target} SELECT * FROM unnest({arrays})")
    aliases = ", ".join(f"c{i}" for i in range(len(names)))
    return text(
        f"INSERT INTO {target} SELECT {aliases} "
        f"FROM unnest({arrays}) WITH ORDINALITY AS u({aliases}, n) ORDER BY n "
        f"RETURNING {quote(returning.name)}"
    )

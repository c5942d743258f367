"""Shared fixtures: a migrated database on SQLite and (with TEST_DATABASE_URL) PostgreSQL.

Every test that uses `session`, `engine`, `app` or `client` runs once per backend.
With REQUIRE_POSTGRES=1 (set by .ci/run) a missing PostgreSQL fails instead of skipping;
with REQUIRE_BROWSER=1 a missing Chromium fails the browser tests instead of skipping them.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

from app.main import create_app
from app.settings import Settings
from survey import migrate
from survey.db import make_engine

TEST_SECRET = "test-secret-not-for-production"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _postgres_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


def pytest_configure(config) -> None:
    """Under pytest-xdist (`-n 2`, what .ci/run uses), each worker gets a PostgreSQL
    database of its own next to TEST_DATABASE_URL's (`test_gw0`…): the tests drop and
    recreate the public schema, which two workers cannot share. Every test reading
    TEST_DATABASE_URL then sees the worker's database."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    base = _postgres_url()
    if not worker or not base or base.startswith("sqlite"):
        return
    url = make_url(base)
    name = f"{url.database}_{worker}"
    admin = make_engine(base).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    os.environ["TEST_DATABASE_URL"] = url.set(database=name).render_as_string(hide_password=False)


def pytest_collection_modifyitems(config, items) -> None:
    """The real-browser tests drive the same pages whatever the database, and are the slowest
    of the suite: with PostgreSQL configured they run on it only (the production database),
    otherwise on SQLite. The SQLite copies are deselected, not skipped; every other database
    test still runs on both."""
    if not _postgres_url():
        return
    keep, drop = [], []
    for item in items:
        spec = getattr(item, "callspec", None)
        on_sqlite = spec is not None and spec.params.get("database_url") == "sqlite"
        (drop if on_sqlite and item.get_closest_marker("browser") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    else:
        url = _postgres_url()
        if url is None:
            if os.environ.get("REQUIRE_POSTGRES") == "1":
                pytest.fail("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
            pytest.skip("PostgreSQL tests skipped: set TEST_DATABASE_URL to run them")
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    migrate.upgrade(url)
    return url


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    _empty_all_tables(engine)
    engine.dispose()


def _empty_all_tables(engine) -> None:
    # Quoted: "user" is a reserved word in PostgreSQL.
    tables = [f'"{t.name}"' for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
            conn.execute(text("PRAGMA foreign_keys=ON"))


@pytest.fixture
def session(engine):
    with Session(engine) as s:
        yield s


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        var_dir=tmp_path / "var",
        base_url="http://testserver",
    )


@pytest.fixture
def app(settings, engine):
    return create_app(settings, engine=engine)


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture
def live_server(app):
    """The app served by uvicorn on a free loopback port, for the real browser."""
    import uvicorn

    from app.serving import HttpToolsOneSend

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # carte serve's protocol (one send per response): the browser tests go through it.
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, http=HttpToolsOneSend, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; never a downloaded browser."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but no Chromium at {CHROMIUM}")
        pytest.skip(f"Browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    yield page
    context.close()

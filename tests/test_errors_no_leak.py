"""No stack trace, SQL or Python internals in any error, page or JSON.

A test app (the real one plus failing routes added here only) forces an exception in a route;
the other errors (400, 404, 405, 422, 429) are provoked on the real routes.
"""

from __future__ import annotations

import html
import logging
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.main import create_app
from tests.factories import build_world

# Text that only internals would show: traceback lines, exception class names, SQL,
# library names, file paths, pydantic's English messages and documentation links.
INTERNALS = re.compile(
    r"Traceback|File \"|\.py\b|line \d+|Error\b|Exception\b|sqlalchemy|psycopg|sqlite3?"
    r"|pydantic|starlette|fastapi|SELECT |INSERT |UPDATE |DELETE FROM|FROM \w+ WHERE"
    r"|errors\.pydantic\.dev|Field required|Input should|value is not|type_error"
    r"|string_type|int_parsing|json_invalid|missing|/work/|site-packages",
)
SECRET_SQL = "SELECT password_hash FROM account WHERE email = 'alice@example.org'"


def internals(body: str) -> list[str]:
    return sorted(set(INTERNALS.findall(body)))


def test_the_check_sees_a_traceback():
    sample = 'Traceback (most recent call last):\n  File "/work/main/app/x.py", line 3\nKeyError'
    assert internals(sample)
    assert internals("sqlalchemy.exc.OperationalError: no such table")
    assert not internals("Une erreur inattendue s'est produite. Rien n'a été enregistré.")


@pytest.fixture
def failing_client(settings, engine):
    """The real app with routes that fail in the ways a bug would (test only)."""
    app = create_app(settings, engine=engine)

    @app.get("/essai/erreur")
    def page_error():
        raise RuntimeError(f"boom: {SECRET_SQL}")

    @app.get("/api/v1/essai/erreur")
    def api_error():
        raise KeyError(SECRET_SQL)

    @app.get("/essai/sql")
    def sql_error():
        with engine.connect() as conn:  # a real driver error, with the statement in it
            conn.execute(text("SELECT password_hash FROM table_qui_n_existe_pas"))

    @app.get("/api/v1/essai/sql")
    def api_sql_error():
        with engine.connect() as conn:
            conn.execute(text("SELECT password_hash FROM table_qui_n_existe_pas"))

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("path", ["/essai/erreur", "/essai/sql"])
def test_unexpected_error_page_is_french_and_bare(failing_client, path, caplog):
    with caplog.at_level(logging.ERROR, logger="carte"):
        response = failing_client.get(path)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "Une erreur inattendue s'est produite" in html.unescape(response.text)
    assert "<h1>Erreur</h1>" in response.text
    assert internals(response.text) == [], internals(response.text)
    assert "password_hash" not in response.text and "table_qui_n_existe_pas" not in response.text
    # ... while the log keeps what the administrator needs to fix it.
    assert any(r.exc_info for r in caplog.records), "the traceback goes to the log"


@pytest.mark.parametrize("path", ["/api/v1/essai/erreur", "/api/v1/essai/sql"])
def test_unexpected_api_error_is_french_json(failing_client, path):
    response = failing_client.get(path)
    assert response.status_code == 500
    assert response.json() == {
        "detail": "Une erreur inattendue s'est produite. Rien n'a été enregistré ; réessayez."
    }
    assert internals(response.text) == []


def test_common_errors_show_no_internals(client, session):
    world = build_world(session)
    token = world.tokens["alice"]
    body = world.bodies["siao"].id
    cases = [
        ("GET", "/page-qui-n-existe-pas", {}, 404),
        ("GET", "/api/v1/inexistant", {}, 404),
        ("GET", f"/q/{'z' * 32}", {}, 404),
        ("GET", "/api/v1/questionnaire/inconnu", {}, 404),
        ("PUT", "/login", {}, 405),
        ("DELETE", f"/api/v1/questionnaire/{token}", {}, 405),
        # 422: wrong types, unknown codes, a body that is not an object
        ("PUT", f"/api/v1/questionnaire/{token}", {"json": {"links": "beaucoup"}}, 422),
        ("PUT", f"/api/v1/questionnaire/{token}", {"json": {"declared_partner_count": "x"}}, 422),
        ("PUT", f"/api/v1/questionnaire/{token}", {"json": [1, 2]}, 422),
        ("PUT", f"/api/v1/questionnaire/{token}", {"json": {"links": [{"nature": 3}]}}, 422),
        # ids beyond the database's integers (found by the fuzzer: was a driver overflow)
        ("PUT", f"/api/v1/questionnaire/{token}", {"json": {"body_ids": [10**20]}}, 422),
        # the same body twice (found by the fuzzer: was a unique-constraint error)
        ("PUT", f"/api/v1/questionnaire/{token}", {"json": {"body_ids": [body, body]}}, 422),
        (
            "PUT",
            f"/api/v1/questionnaire/{token}",
            {"json": {"links": [{"partner_organisation_id": 2**31, "status": "new"}]}},
            422,
        ),
        # unreadable JSON / encoding
        (
            "PUT",
            f"/api/v1/questionnaire/{token}",
            {"content": b'{"comment": "\xff', "headers": {"content-type": "application/json"}},
            400,
        ),
        (
            "PUT",
            f"/api/v1/questionnaire/{token}",
            {"content": b"{pas du json", "headers": {"content-type": "application/json"}},
            None,  # 400 or 422: both are fine, internals are not
        ),
        # a form sent without its CSRF token
        ("POST", "/login", {"data": {"email": "a@b.fr", "password": "x"}}, 403),
        # a page whose parameters are wrong
        ("GET", f"/q/{token}?page=abc", {}, None),
    ]
    for method, path, kwargs, expected in cases:
        response = client.request(method, path, **kwargs)
        where = f"{method} {path} {kwargs} -> {response.status_code}"
        if expected is not None:
            assert response.status_code == expected, where
        assert response.status_code < 500, where
        found = internals(response.text)
        assert found == [], f"{where}: {found}\n{response.text[:600]}"
        if path.startswith("/api/"):
            detail = response.json()["detail"]
            assert isinstance(detail, str) and detail, where
            for problem in response.json().get("errors", []):
                assert problem["message"] and not internals(problem["message"]), where


def test_validation_messages_are_french(client, session):
    world = build_world(session)
    response = client.put(
        f"/api/v1/questionnaire/{world.tokens['alice']}", json={"declared_partner_count": "x"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "Certaines réponses sont incorrectes."
    assert body["errors"][0]["field"] == "declared_partner_count"
    assert re.search(r"nombre|entier", body["errors"][0]["message"]), body

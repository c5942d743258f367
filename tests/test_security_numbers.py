"""The security thresholds of docs/security.md, as numbers read from the document.

Each test parses the number the document promises and drives the behaviour to exactly that
number: one short of it passes, the number itself is refused. The constants in the code are
never read back, so a wrong constant (20 -> 200 links, 5 -> 6 failures) fails here (issue 19).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.accounts_helpers import TEST_PASSWORD, csrf_token, login, make_user
from tests.factories import build_world

SECURITY_DOC = Path(__file__).resolve().parents[1] / "docs" / "security.md"
MB = 1024 * 1024


def documented(pattern: str) -> int:
    """The number captured by `pattern` in docs/security.md (found exactly once or more,
    always the same)."""
    found = set(re.findall(pattern, SECURITY_DOC.read_text(encoding="utf-8")))
    assert len(found) == 1, f"{pattern!r} in docs/security.md: {found or 'absent'}"
    return int(found.pop())


def link_guessing_limit() -> int:
    """« 20 liens inconnus en 10 minutes depuis une adresse → 429 »."""
    return documented(r"\*\*limitation\*\* : (\d+) liens inconnus en 10 minutes")


def login_failures_per_account() -> int:
    return documented(r"(\d+) échecs en 15 min \*\*pour un compte\*\*")


def login_failures_per_address() -> int:
    return documented(r"(\d+) échecs en 15 min \*\*depuis une adresse\*\*")


def test_the_document_says_what_the_issue_quotes():
    """Guards the parsing itself: the patterns find the numbers the document states."""
    assert link_guessing_limit() == 20
    assert (login_failures_per_account(), login_failures_per_address()) == (5, 50)
    assert documented(r"(\d+) Mo pour l'API JSON") == 3
    assert documented(r"(\d+) Mo pour les imports CSV/XLSX") == 2
    assert documented(r"(\d+) Mo pour les autres formulaires") == 4


# --- login throttling -------------------------------------------------------------------------


@pytest.fixture
def creuse(session):
    return build_world(session).territory


def _post_login(client, email, password):
    data = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    return client.post("/login", data=data, follow_redirects=False)


def test_login_locks_an_account_at_exactly_the_documented_number_of_failures(app, session, creuse):
    limit = login_failures_per_account()
    short, locked = "court@example.org", "bloque@example.org"
    for email in (short, locked):
        make_user(session, email, territory=creuse)
    with TestClient(app) as client:
        for _ in range(limit - 1):
            assert _post_login(client, short, "mauvais mot de passe").status_code == 400
        assert _post_login(client, short, TEST_PASSWORD).status_code == 303  # one short: open
    with TestClient(app) as client:
        for _ in range(limit):
            assert _post_login(client, locked, "mauvais mot de passe").status_code == 400
        response = _post_login(client, locked, TEST_PASSWORD)
        assert response.status_code == 429
        assert "Trop de tentatives de connexion" in response.text


def test_login_locks_an_address_at_exactly_the_documented_number_of_failures(app, session, creuse):
    per_account, per_address = login_failures_per_account(), login_failures_per_address()
    make_user(session, "ana@example.org", territory=creuse)
    make_user(session, "bob@example.org", territory=creuse)
    with TestClient(app) as client:
        # per_address - 1 failures, never per_account on one e-mail: the address is still open.
        for i in range(per_address - 1):
            email = f"inconnu{i // (per_account - 1)}@example.org"
            assert _post_login(client, email, "mauvais mot de passe").status_code == 400
        assert _post_login(client, "ana@example.org", TEST_PASSWORD).status_code == 303
    with TestClient(app) as client:
        # ana's success reset only her own e-mail: one more failure reaches per_address.
        assert _post_login(client, "autre@example.org", "mauvais").status_code == 400
        response = _post_login(client, "bob@example.org", TEST_PASSWORD)
        assert response.status_code == 429
        assert "Trop de tentatives de connexion" in response.text


# --- body caps ------------------------------------------------------------------------------


@pytest.fixture
def walker(app):
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _too_large(response) -> bool:
    return response.status_code == 413 and "trop volumineux" in response.text


def test_the_json_api_takes_exactly_the_documented_size(walker):
    cap = documented(r"(\d+) Mo pour l'API JSON") * MB
    url = "/api/v1/questionnaire/" + "x" * 32
    json = {"content-type": "application/json"}
    assert not _too_large(walker.put(url, content=b" " * cap, headers=json))
    assert _too_large(walker.put(url, content=b" " * (cap + 1), headers=json))


def test_forms_take_exactly_the_documented_size(walker):
    cap = documented(r"(\d+) Mo pour les autres formulaires") * MB
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert not _too_large(walker.post("/login", content=b"a=" + b"x" * (cap - 2), headers=form))
    assert _too_large(walker.post("/login", content=b"a=" + b"x" * (cap - 1), headers=form))


def test_imports_take_exactly_the_documented_file_size(walker, session, creuse):
    cap = documented(r"(\d+) Mo pour les imports CSV/XLSX") * MB
    make_user(session, "coord23@example.org", territory=creuse)
    login(walker, "coord23@example.org")
    token = csrf_token(walker, "/t/23/repertoire/import")
    head = b"nom;type\nCAF de la Creuse;caf\n"

    def send(size: int):
        data = head + b" " * (size - len(head))
        return walker.post(
            "/t/23/repertoire/import",
            data={"csrf_token": token},
            files={"fichier": ("a.csv", data, "text/csv")},
        )

    at_cap, over = send(cap), send(cap + 1)
    assert "trop volumineux" not in at_cap.text, at_cap.status_code
    assert over.status_code in (413, 422), over.status_code
    assert "Le fichier est trop volumineux" in over.text

"""Fuzzing the JSON API with schemathesis, from the app's own OpenAPI schema, in process.

Every operation of /openapi.json is called with generated inputs (fixed seed, bounded number
of examples), on the demo territory: each generated case is sent as generated (unknown links,
random territory codes and years), then again with the parts that select data replaced by
real ones (a valid personal link, territory 23 and a campaign year), so that the code behind
the 404 is exercised too. No response may be a 5xx, and each must match its documented status
codes, content type and schema.

SQLite only: this is about the API, not the database (the per-backend fixtures of conftest
are not used; PostgreSQL behaviour is covered by the other tests).
"""

from __future__ import annotations

import hashlib
import os
import re

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import Session, select

from app.main import create_app
from app.security import SESSION_COOKIE
from app.settings import Settings
from survey import demo, link_throttle, links, migrate
from survey.accounts import DEMO_ACCOUNTS, ensure_demo_accounts
from survey.db import make_engine
from survey.models import Campaign, Invitation, Territory
from tests.accounts_helpers import login
from tests.conftest import TEST_SECRET

# Per operation; each example makes two calls (about 30 s in all). FUZZ_EXAMPLES=500 for a
# deeper run by hand.
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
SEED = 20260301
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


class FuzzWorld:
    def __init__(self, app, tokens: list[str], cookie: str, years: list[str]) -> None:
        self.app = app
        self.tokens = tokens  # open campaign (not started), closed campaign
        self.cookie = cookie  # a signed-in demo coordinator of territory 23
        self.years = years
        self.calls = 0
        self.statuses: dict[str, set[int]] = {}


@pytest.fixture(scope="module")
def fuzz_world(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        assert demo.load(session, TEST_SECRET)
        territory = session.exec(select(Territory).where(Territory.code == "23")).one()
        ensure_demo_accounts(session, territory)
        session.commit()
        open_token = demo.sample_token(session, TEST_SECRET)
        closed = session.exec(
            select(Invitation)
            .join(Campaign, Campaign.id == Invitation.campaign_id)
            .where(Campaign.territory_id == territory.id, Campaign.status == "closed")
            .limit(1)
        ).one()
        closed_token = links.token_for(TEST_SECRET, closed)
    settings = Settings(
        database_url=url,
        secret_key=TEST_SECRET,
        var_dir=tmp_path_factory.mktemp("fuzz-var"),
        base_url="http://testserver",
    )
    app = create_app(settings, engine=engine)
    email, password, _role, _name = DEMO_ACCOUNTS[0]
    with TestClient(app) as client:
        login(client, email, password)
        cookie = client.cookies[SESSION_COOKIE]
        assert client.get("/api/v1/t/23/figures/2025").status_code == 200
    # Guessing is throttled per address (tests/test_link_guessing.py); here the unknown links
    # are the fuzzer's, and a 429 would hide what comes after.
    saved_limit = link_throttle.FAILURES_ALLOWED
    link_throttle.FAILURES_ALLOWED = 10**9
    yield FuzzWorld(app, [open_token, closed_token], cookie, ["2025", "2026"])
    link_throttle.FAILURES_ALLOWED = saved_limit
    engine.dispose()


@pytest.fixture(scope="module")
def api_schema(fuzz_world):
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_world.app)


def _operation_labels() -> list[str]:
    """The operations of the schema, known at collection time (no database is touched)."""
    app = create_app(Settings(database_url="sqlite://", secret_key=TEST_SECRET))
    document = app.openapi()
    return sorted(
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "put", "post", "patch", "delete")
    )


OPERATIONS = _operation_labels()


def _pick(options: list[str], case) -> str:
    """A deterministic choice per generated case (so the seed fixes the whole run)."""
    key = repr((case.path_parameters, case.query, case.body)).encode()
    return options[int(hashlib.sha256(key).hexdigest(), 16) % len(options)]


def _call(world: FuzzWorld, case) -> None:
    headers = {"Cookie": f"{SESSION_COOKIE}={world.cookie}"}
    response = case.call_and_validate(headers=headers, checks=CHECKS)
    world.calls += 1
    world.statuses.setdefault(case.operation.label, set()).add(response.status_code)


def fuzz(world: FuzzWorld, operation, shrink: bool = True) -> None:
    """Run `operation` on MAX_EXAMPLES generated cases; raises on the first failing check
    (hypothesis then shrinks the case and reports it)."""

    @seed(SEED)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=list(Phase) if shrink else [Phase.generate],
    )
    @given(
        case=st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),  # wrong types, missing fields
        )
    )
    def run(case) -> None:
        _call(world, case)  # as generated: unknown links, codes and years
        params = case.path_parameters or {}
        if "token" in params:
            params["token"] = _pick(world.tokens, case)
        if "code" in params:
            params["code"] = "23"
        if "year" in params:
            params["year"] = _pick(world.years, case)
        query = case.query if isinstance(case.query, dict) else {}
        for name in ("de", "a"):  # the two years compared by /evolution
            if name in query:
                query[name] = world.years[0] if name == "de" else world.years[1]
        if params or query:
            _call(world, case)

    run()


@pytest.mark.parametrize("label", OPERATIONS)
def test_api_has_no_server_error_and_matches_its_schema(label, fuzz_world, api_schema):
    operations = {op.ok().label: op.ok() for op in api_schema.get_all_operations()}
    assert label in operations, f"{label} is missing from the schema the fuzzer read"
    fuzz(fuzz_world, operations[label])
    assert fuzz_world.statuses.get(label), label


def test_the_fuzzing_reached_real_data(fuzz_world, api_schema):
    """Runs after the fuzzing (same module, defined after it): the real-data half of the
    calls got 200s, so the fuzzer went past the 404s and 422s on every operation."""
    if len(fuzz_world.statuses) < len(OPERATIONS):
        pytest.skip("only meaningful after the whole fuzzing run (tests selected with -k)")
    labels = {op.ok().label for op in api_schema.get_all_operations()}
    assert labels == set(OPERATIONS) == set(fuzz_world.statuses), "every operation was fuzzed"
    for label, statuses in fuzz_world.statuses.items():
        assert 200 in statuses or label.startswith(("PUT", "POST")), (label, statuses)
    assert fuzz_world.calls >= len(labels) * MAX_EXAMPLES
    # Bad input was generated too, and refused with a 4xx.
    assert any(422 in statuses for statuses in fuzz_world.statuses.values())


def test_the_fuzzer_finds_a_planted_bug(fuzz_world):
    """The harness is not vacuous: a server error and a response that breaks its documented
    schema are both reported."""
    from fastapi.responses import JSONResponse

    app = fuzz_world.app
    documented = {200: {"content": {"application/json": {"schema": {
        "type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}},
    }}}}}  # fmt: skip

    @app.get("/api/v1/essai-bug/erreur/{n}", responses=documented)
    def planted_error(n: str):
        if len(n) % 2:
            raise RuntimeError("planted")
        return {"n": len(n)}

    @app.get("/api/v1/essai-bug/schema/{n}", responses=documented)
    def planted_schema(n: str):
        return JSONResponse({"n": n})  # a string where the schema says integer

    app.openapi_schema = None  # rebuilt with the planted routes
    try:
        planted = schemathesis.openapi.from_asgi("/openapi.json", app)
        found = {}
        for result in planted.get_all_operations():
            operation = result.ok()
            if "essai-bug" in operation.label:
                with pytest.raises(BaseException) as failure:
                    fuzz(fuzz_world, operation, shrink=False)
                found[operation.label.rsplit("/", 2)[1]] = str(failure.value)
        # The in-process client re-raises the server's exception (or reports the 500).
        assert re.search("planted|Server error", found["erreur"]), found["erreur"]
        assert "violates schema" in found["schema"], found["schema"]
    finally:
        app.router.routes = [
            r for r in app.router.routes if "essai-bug" not in getattr(r, "path", "")
        ]
        app.openapi_schema = None

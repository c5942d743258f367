"""Fuzzing the JSON API with schemathesis, from the app's own OpenAPI schema, in process.

Every operation of /openapi.json is called with generated inputs (fixed seed, bounded number
of examples), on the demo territory: each generated case is sent as generated (unknown links,
random territory codes and years), then again with the parts that select data replaced by
real ones (a valid personal link, territory 23 and a campaign year), so that the code behind
the 404 is exercised too. No response may be a 5xx, and each must match its documented status
codes, content type and schema.

Then the stateful phase: sequences of linked calls on one personal link (OpenAPI links added
to the schema here: read, save, submit, « tout est comme l'an dernier », the answers read sent
back), under the same checks; and schemathesis' Allow check on every path (405 with `Allow`
listing exactly the documented methods).

SQLite only: this is about the API, not the database (the per-backend fixtures of conftest
are not used; PostgreSQL behaviour is covered by the other tests).
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
from collections import Counter

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import delete
from sqlmodel import Session, select

from app.main import create_app
from app.security import SESSION_COOKIE
from app.settings import Settings
from survey import demo, link_throttle, links, migrate
from survey.accounts import DEMO_ACCOUNTS, ensure_demo_accounts
from survey.db import make_engine
from survey.models import Campaign, Invitation, Response, Territory
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
    """The real-data half of the calls got 200s, so the fuzzer went past the 404s and 422s
    on every operation. Normally it reads what the fuzzing tests above recorded; an
    operation they did not fuzz in this process (tests selected with -k, or run on another
    pytest-xdist worker) is fuzzed here first."""
    operations = {op.ok().label: op.ok() for op in api_schema.get_all_operations()}
    for label in sorted(set(operations) - set(fuzz_world.statuses)):
        fuzz(fuzz_world, operations[label])
    labels = set(operations)
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


# --- stateful: sequences of calls that follow each other -----------------------------------

# Scenarios and steps of the stateful phase (about 10 s); more by hand for a deeper run.
STATEFUL_SCENARIOS = int(os.environ.get("FUZZ_STATEFUL_SCENARIOS", "60"))
STATEFUL_STEPS = int(os.environ.get("FUZZ_STATEFUL_STEPS", "10"))
QUESTIONNAIRE = {
    "read": ("/api/v1/questionnaire/{token}", "get"),
    "save": ("/api/v1/questionnaire/{token}", "put"),
    "submit": ("/api/v1/questionnaire/{token}/submit", "post"),
    "confirm": ("/api/v1/questionnaire/{token}/confirm-all", "post"),
}


def _ref(path: str, method: str) -> str:
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method


def _linked(document: dict) -> dict:
    """The app's schema with OpenAPI links between the questionnaire operations on the same
    personal link (the answers read are sent back as they are, as a client would), so that
    the state machine chains them."""
    doc = copy.deepcopy(document)
    for source, (path, method) in QUESTIONNAIRE.items():
        links = {}
        for target, (target_path, target_method) in QUESTIONNAIRE.items():
            link = {
                "operationRef": _ref(target_path, target_method),
                "parameters": {"path.token": "$request.path.token"},
            }
            if source == "read" and target in ("save", "submit"):
                link["requestBody"] = "$response.body"
            links[target] = link
        doc["paths"][path][method]["responses"]["200"]["links"] = links
    return doc


def _fresh_link(engine) -> tuple[str, Invitation]:
    """A link of the open campaign never saved, whose questionnaire carries last year's
    partners (so that « Tout est comme l'an dernier » can succeed)."""
    with Session(engine) as s:
        token = demo.sample_token(s, TEST_SECRET, min_partners=2)
        return token, links.find(s, token)


def stateful(world: FuzzWorld, scenarios: int = STATEFUL_SCENARIOS, shrink: bool = True) -> Counter:
    """Schemathesis' stateful phase: `scenarios` sequences of up to STATEFUL_STEPS linked calls
    on a link of the open campaign, CHECKS on every answer; raises on the first failure.
    Returns the number of scenarios and of answers per (operation, status).

    Every scenario starts from the same state (the link never saved): which calls can follow
    depends on the answers, and Hypothesis requires a scenario to replay the same way."""
    engine = world.app.state.engine
    token, invitation = _fresh_link(engine)
    never_saved = delete(Response).where(
        Response.campaign_id == invitation.campaign_id,
        Response.professional_id == invitation.professional_id,
    )
    schema = schemathesis.openapi.from_dict(_linked(world.app.openapi()))
    schema.app = world.app
    seen: Counter = Counter()

    class Workflow(schema.as_state_machine()):
        def setup(self) -> None:
            with engine.begin() as conn:
                conn.execute(never_saved)  # links, tags… go with it (ON DELETE CASCADE)
            seen["scenarios"] += 1

        def before_call(self, case) -> None:
            # The first call of a scenario is generated: it gets the link; the links of the
            # schema then keep it from step to step.
            if case.path_parameters and "token" in case.path_parameters:
                case.path_parameters["token"] = token

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            seen[case.operation.label, response.status_code] += 1
            case.validate_response(
                response, checks=CHECKS, transport_kwargs=kwargs or None, recorder=self.recorder
            )

    Workflow.run(
        settings=settings(
            max_examples=scenarios,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            database=None,
            derandomize=True,
            phases=list(Phase) if shrink else [Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
    return seen


def test_stateful_sequences_have_no_server_error_and_match_the_schema(fuzz_world):
    seen = stateful(fuzz_world)
    assert seen["scenarios"] >= STATEFUL_SCENARIOS
    # Sequences went past their first call: every operation answered 200 after another one.
    succeeded = {key[0] for key in seen if key != "scenarios" and key[1] == 200}
    assert succeeded == {f"{m.upper()} {p}" for p, m in QUESTIONNAIRE.values()}, dict(seen)


def test_the_stateful_phase_finds_a_bug_only_a_sequence_reaches(fuzz_world, monkeypatch):
    """Not vacuous: reading answers after a save fails here, and only a sequence gets there
    (the stateful scenarios start on a link never saved)."""
    from app.routes import questionnaire_api

    real = questionnaire_api.current_answers

    def planted(session, r):
        answers, source = real(session, r)
        if source == "draft":
            raise RuntimeError("planted")
        return answers, source

    monkeypatch.setattr(questionnaire_api, "current_answers", planted)
    with pytest.raises(BaseException) as failure:
        stateful(fuzz_world, scenarios=10, shrink=False)
    assert re.search("planted|Server error", str(failure.value)), str(failure.value)


def test_allow_header_lists_the_documented_methods(fuzz_world, api_schema):
    """Schemathesis' Allow check on OPTIONS, and every undocumented method answers 405 with the
    same Allow, on every path of the schema (issue 11, item 8)."""
    client = TestClient(fuzz_world.app)
    for result in api_schema.get_all_operations():
        operation = result.ok()
        documented = {m.upper() for m in api_schema.raw_schema["paths"][operation.path]}
        real = {"token": fuzz_world.tokens[0], "code": "23", "year": fuzz_world.years[0]}
        params = {p.name: real[p.name] for p in operation.iter_parameters() if p.name in real}
        case = operation.Case(path_parameters=params)
        url = case.formatted_path
        for method in sorted({"OPTIONS", "GET", "PUT", "POST", "DELETE", "PATCH"} - documented):
            response = client.request(method, url)
            assert response.status_code == 405, (method, url, response.status_code)
            allow = {m.strip() for m in response.headers.get("allow", "").split(",")}
            assert allow - {"HEAD", "OPTIONS"} == documented, (method, url, allow)
            if method == "OPTIONS":
                case.validate_response(response, checks=[allow_header_conformance])

"""Territory isolation: walk EVERY route of the app and prove Creuse (23) data never crosses over.

The walk reads `app.routes` at run time, so routes added later are covered without editing
this file. Path parameters are filled with Creuse's code and the ids of Creuse rows (found by
following foreign keys from the territory), POST bodies carry a valid CSRF token and Creuse
ids, and after each request the Creuse rows of every table must be unchanged.

Checked for: a coordinator of Corrèze (19), an anonymous visitor, and a viewer of Creuse
(who may read but never write).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, select

from app.db import SessionDep
from app.security import CoordinatorScope, CsrfChecked, CurrentUser, ViewerScope
from survey.accounts import AuditEvent
from survey.models import Organisation, Professional
from tests.accounts_helpers import csrf_token, login, make_user
from tests.factories import build_world

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Public pages, reachable without an account by design; still walked (with a bogus token for
# personal links) and still checked for leaks.
PUBLIC = ("/", "/login", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")
# Definitions, accessibility statement and icon: no data at all (app/routes/help.py).
PUBLIC += ("/aide/chiffres", "/accessibilite", "/favicon.ico")
PUBLIC_PREFIXES = ("/q/", "/api/v1/questionnaire/")
BOGUS_TOKEN = "jeton-inconnu-0000000000000000000000000000"
# Path parameter names (without "_id") -> table whose Creuse ids fill them.
KINDS = {
    "campaign": "campaign", "campagne": "campaign",
    "org": "organisation", "organisation": "organisation", "structure": "organisation",
    "source": "organisation", "target": "organisation", "into": "organisation", "keep": "organisation",
    "merge": "organisation", "proposed": "organisation",
    "service": "service",
    "pro": "professional", "professional": "professional", "professionnel": "professional",
    "person": "professional", "predecessor": "professional",
    "body": "body", "instance": "body",
    "response": "response", "reponse": "response",
    "link": "declaredlink", "lien": "declaredlink",
    "invitation": "invitation",
    "user": "account", "compte": "account", "account": "account",
    "pid": "professional", "oid": "organisation", "sid": "service", "cid": "campaign",
    "template": "emailtemplate", "message": "emaillog", "email": "emaillog",
}  # fmt: skip
_PARAM = re.compile(r"{(\w+)(?::\w+)?}")
MAX_COMBINATIONS = 40


@dataclass
class Endpoint:
    path: str
    method: str
    form_fields: list[str]
    query_fields: list[str]


def endpoints(app) -> list[Endpoint]:
    """Every (path, method) the app answers, including routes of included routers."""
    out = []
    for rc in iter_route_contexts(app.routes):
        methods = getattr(rc, "methods", None)
        if not methods or rc.path.startswith("/static"):
            continue
        route = rc.original_route
        form_fields: list[str] = []
        query_fields: list[str] = []
        if isinstance(route, APIRoute):
            for dependant in _dependants(route.dependant):
                form_fields += [p.alias for p in dependant.body_params]
                query_fields += [p.alias for p in dependant.query_params]
        for method in sorted(set(methods) - {"HEAD", "OPTIONS"}):
            out.append(Endpoint(rc.path, method, form_fields, query_fields))
    return out


def _dependants(dependant):
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


# --- Creuse's rows -------------------------------------------------------------------------


def creuse_rows(session, territory_id: int) -> dict[str, set]:
    """Primary keys (or whole rows for tables without an `id`) owned by the territory.

    A row belongs to Creuse when it points (foreign key, or a `territory_id` column) at a row
    that belongs to Creuse; computed to a fixed point.
    """
    tables = SQLModel.metadata.sorted_tables
    data = {t.name: [dict(r._mapping) for r in session.execute(sa_select(t)).all()] for t in tables}
    owned: dict[str, set] = {t.name: set() for t in tables}
    owned["territory"] = {territory_id}
    changed = True
    while changed:
        changed = False
        for table in tables:
            refs = _references(table)
            for row in data[table.name]:
                key = row["id"] if "id" in row else tuple(sorted(row.items()))
                if key in owned[table.name]:
                    continue
                if any(row.get(col) in owned[ref] for col, ref in refs if row.get(col) is not None):
                    owned[table.name].add(key)
                    changed = True
    return owned


def snapshot(session, owned: dict[str, set]) -> dict[str, list[str]]:
    """Creuse's rows as comparable text: rows owned at the start, and any row pointing at one
    (a new row attached to Creuse). Audit events and login attempts are left out."""
    session.expire_all()
    out = {}
    for table in SQLModel.metadata.sorted_tables:
        if table.name in (AuditEvent.__tablename__, "loginattempt"):
            continue
        refs = _references(table)
        mine = []
        for row in session.execute(sa_select(table)).all():
            r = dict(row._mapping)
            key = r["id"] if "id" in r else tuple(sorted(r.items()))
            if key in owned[table.name] or any(
                r.get(c) is not None and r.get(c) in owned[ref] for c, ref in refs
            ):
                mine.append(repr(sorted(r.items())))
        out[table.name] = sorted(mine)
    return out


def _references(table) -> list[tuple[str, str]]:
    refs = [
        (fk.parent.name, fk.column.table.name)
        for fk in table.foreign_keys
        if fk.column.name == "id"
    ]
    if "territory_id" in table.c and ("territory_id", "territory") not in refs:
        refs.append(("territory_id", "territory"))
    return refs


def _ids(owned: dict[str, set], table: str | None) -> list:
    if table is not None and owned.get(table):
        return sorted(owned[table])
    every = sorted({i for name, ids in owned.items() for i in ids if isinstance(i, int)})
    return every[:12]


def _kind(name: str) -> str | None:
    base = name.lower().removesuffix("_id").removesuffix("_ids")
    return KINDS.get(base) or KINDS.get(base.split("_")[-1]) or KINDS.get(base.split("_")[0])


def fill_path(path: str, owned: dict[str, set], codes: list[str]) -> list[str]:
    """Concrete URLs for `path`: Creuse ids for ids, `codes` for the territory.

    Every id combination is tried under the acting user's own territory code (where a route
    could forget to check that an id belongs to the territory); under the other code one
    URL is enough, since the territory itself must be refused.
    """
    names = _PARAM.findall(path)
    choices = []
    for name in names:
        if name == "code":
            choices.append(codes)
        elif name == "token":
            choices.append([BOGUS_TOKEN])
        elif name == "year":
            choices.append(["2025", "2026"])
        elif _kind(name) or name.lower().endswith("id"):
            choices.append([str(i) for i in _ids(owned, _kind(name))])
        else:
            choices.append(["x"])
    urls: list[str] = []
    seen_codes: set[str] = set()
    for combo in itertools.islice(itertools.product(*choices), MAX_COMBINATIONS * 4):
        code = combo[names.index("code")] if "code" in names else None
        if code == "23" and len(codes) > 1:
            if code in seen_codes:
                continue
            seen_codes.add(code)
        values = iter(combo)
        urls.append(_PARAM.sub(lambda _m, v=values: next(v), path))
        if len(urls) >= MAX_COMBINATIONS:
            break
    return urls


def fill_fields(names: list[str], owned: dict[str, set]) -> dict[str, str]:
    """Plausible values for form/query fields, pointing at Creuse wherever an id is asked."""
    out = {}
    for name in names:
        low = name.lower()
        if low == "csrf_token":
            continue
        if low in ("code", "territory", "territoire", "territory_code"):
            out[name] = "23"
        elif low.endswith(("_id", "_ids")) or _kind(low):
            ids = _ids(owned, _kind(low))
            out[name] = str(ids[0]) if ids else "1"
        elif "email" in low:
            out[name] = "intrus@example.org"
        elif low == "year":
            out[name] = "2030"
        else:
            out[name] = "x"
    # Fields a hand-parsed form may read.
    for generic in ("organisation_id", "service_id", "professional_id", "campaign_id", "target_id"):
        out.setdefault(generic, str(_ids(owned, _kind(generic))[0]))
    return out


SENTINEL_ORG = "Structure-témoin creusoise"
SENTINEL_PRO = "Zoé Témoin-Creusois"
SENTINEL_EMAIL = "zoe.temoin@example.org"


def _fixed_text() -> str:
    """The app's own text (templates, code): an example in a hint is not a leak."""
    root = Path(__file__).resolve().parent.parent / "app"
    return "\n".join(
        p.read_text(errors="ignore") for p in root.rglob("*") if p.suffix in (".html", ".py")
    )


def creuse_words(world) -> list[str]:
    """Strings whose presence in a response would reveal Creuse data."""
    words = ["Creuse", "Guéret", "Commission SIAO hebdomadaire", "Centre de jour"]
    words += [o.name for o in world.orgs.values()]
    for key in ("alice", "bruno"):
        words += [world.pros[key].full_name, world.pros[key].email]
    words += ["coord23@example.org", "lecteur23@example.org"]
    fixed = _fixed_text()
    return [w for w in words if w not in fixed] + [SENTINEL_ORG, SENTINEL_PRO, SENTINEL_EMAIL]


def leaks(text: str, words: list[str]) -> list[str]:
    return [w for w in words if w in text]


# --- the walks -----------------------------------------------------------------------------


@pytest.fixture
def walker(app):
    """A client that reports server errors as 500 responses, so the walk lists them all."""
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def world(session):
    world = build_world(session)
    make_user(session, "coord23@example.org", territory=world.territory)
    make_user(session, "lecteur23@example.org", role="viewer", territory=world.territory)
    make_user(session, "coord19@example.org", territory=world.other_territory)
    # Names no template can contain, so that any appearance is a real leak.
    sentinel = Organisation(territory_id=world.territory.id, name=SENTINEL_ORG, type="association")
    session.add(sentinel)
    session.flush()
    session.add(
        Professional(territory_id=world.territory.id, full_name=SENTINEL_PRO,
                     email=SENTINEL_EMAIL, organisation_id=sentinel.id)
    )  # fmt: skip
    session.commit()
    return world


def _send(client, method: str, url: str, fields: dict[str, str], token: str | None):
    headers = {"X-CSRF-Token": token} if token and url.startswith("/api/") else {}
    if method == "GET" or method == "DELETE":
        return client.request(method, url, params=fields, headers=headers, follow_redirects=False)
    if url.startswith("/api/"):
        return client.request(method, url, json=fields, headers=headers, follow_redirects=False)
    data = dict(fields, csrf_token=token) if token else fields
    return client.request(method, url, data=data, follow_redirects=False)


def test_every_route_is_walked(app):
    """The walk sees the routes of every router (guards against a silently empty walk)."""
    paths = {e.path for e in endpoints(app)}
    assert {"/login", "/logout", "/t/{code}/", "/admin/comptes"} <= paths
    assert any(p.startswith("/api/v1/questionnaire/") for p in paths)


def coordinator_walk(app, client, session, world, only=None) -> tuple[list[str], int]:
    """Problems seen by the coordinator of Corrèze walking every route, and requests made."""
    token = csrf_token(client, "/t/19/")
    owned = creuse_rows(session, world.territory.id)
    before = snapshot(session, owned)
    words = creuse_words(world)
    problems: list[str] = []
    walked = 0
    for ep in endpoints(app):
        if ep.path == "/logout" or (only and only not in ep.path):
            continue  # /logout would end the walk's session; tested in test_auth
        fields = fill_fields(ep.form_fields + ep.query_fields, owned) if ep.method != "GET" else {}
        query = fill_fields(ep.query_fields, owned) if ep.method == "GET" else {}
        for url in fill_path(ep.path, owned, ["23", "19"]):
            response = _send(client, ep.method, url, fields or query, token)
            walked += 1
            where = f"{ep.method} {url} -> {response.status_code}"
            if response.status_code >= 500:
                problems.append(f"{where}: server error")
            foreign = "/t/23/" in url or url.startswith(("/api/v1/t/23/", "/admin"))
            if foreign and response.status_code != 404:
                problems.append(f"{where}: expected 404")
            found = leaks(response.text, words)
            if found:
                problems.append(f"{where}: shows {found}")
            if ep.method in WRITE_METHODS and snapshot(session, owned) != before:
                problems.append(f"{where}: changed Creuse data")
                before = snapshot(session, owned)
    return problems, walked


def test_coordinator_of_another_territory_sees_and_changes_nothing(app, walker, session, world):
    client = walker
    login(client, "coord19@example.org")
    problems, walked = coordinator_walk(app, client, session, world)
    assert walked > 10
    assert not problems, "\n".join(problems)
    assert client.get("/t/19/").status_code == 200  # still signed in: the walk was real
    assert client.get("/t/23/").status_code == 404


def anonymous_walk(app, client, session, world) -> list[str]:
    owned = creuse_rows(session, world.territory.id)
    before = snapshot(session, owned)
    words = creuse_words(world)
    token = csrf_token(client, "/login")  # a real session token: CSRF is not what stops them
    problems: list[str] = []
    for ep in endpoints(app):
        public = ep.path in PUBLIC or ep.path.startswith(PUBLIC_PREFIXES)
        fields = fill_fields(ep.form_fields + ep.query_fields, owned)
        for url in fill_path(ep.path, owned, ["23"]):
            response = _send(client, ep.method, url, fields if ep.method != "GET" else {}, token)
            where = f"{ep.method} {url} -> {response.status_code}"
            status = response.status_code
            if status >= 500:
                problems.append(f"{where}: server error")
            if not public and ep.path != "/logout":
                to_login = status == 303 and response.headers["location"].startswith("/login")
                if not (to_login or status in (401, 403, 404)):
                    problems.append(f"{where}: expected a login redirect, 401, 403 or 404")
            found = leaks(response.text, words)
            if found:
                problems.append(f"{where}: shows {found}")
            if ep.method in WRITE_METHODS and snapshot(session, owned) != before:
                problems.append(f"{where}: changed Creuse data")
                before = snapshot(session, owned)
    return problems


def test_anonymous_visitor_sees_and_changes_nothing(app, walker, session, world):
    client = walker
    problems = anonymous_walk(app, client, session, world)
    assert not problems, "\n".join(problems)


def viewer_write_walk(app, client, session, world, only=None) -> list[str]:
    token = csrf_token(client, "/t/23/")
    owned = creuse_rows(session, world.territory.id)
    before = snapshot(session, owned)
    problems: list[str] = []
    walked = 0
    for ep in endpoints(app):
        if only and only not in ep.path:
            continue
        if ep.method not in WRITE_METHODS or not ep.path.startswith(
            ("/t/{code}", "/api/v1/t/{code}")
        ):
            continue
        fields = fill_fields(ep.form_fields + ep.query_fields, owned)
        for url in fill_path(ep.path, owned, ["23"]):
            response = _send(client, ep.method, url, fields, token)
            walked += 1
            where = f"{ep.method} {url} -> {response.status_code}"
            if response.status_code not in (403, 404):
                problems.append(f"{where}: expected 403 (read only)")
            if snapshot(session, owned) != before:
                problems.append(f"{where}: changed Creuse data")
                before = snapshot(session, owned)
    return problems


def test_viewer_cannot_change_anything_in_the_workspace(app, walker, session, world):
    client = walker
    login(client, "lecteur23@example.org")
    problems = viewer_write_walk(app, client, session, world)
    assert not problems, "\n".join(problems)
    assert client.get("/t/23/").status_code == 200


def test_viewer_never_sees_professionals_names(app, walker, session, world):
    client = walker
    """Respondents' names and e-mails are for coordinators only (privacy rules of the brief)."""
    login(client, "lecteur23@example.org")
    owned = creuse_rows(session, world.territory.id)
    words = [world.pros[k].full_name for k in ("alice", "bruno")]
    words += [world.pros[k].email for k in ("alice", "bruno")] + [SENTINEL_PRO, SENTINEL_EMAIL]
    problems = []
    for ep in endpoints(app):
        if ep.method != "GET" or not ep.path.startswith(("/t/{code}", "/api/v1/t/{code}")):
            continue
        for url in fill_path(ep.path, owned, ["23"]):
            response = client.get(url, follow_redirects=False)
            found = leaks(response.text, words)
            if found:
                problems.append(f"GET {url} -> {response.status_code}: shows {found}")
    assert not problems, "\n".join(problems)


def test_walk_helpers_find_creuse_rows(session, world):
    """The id discovery the walks rely on: Creuse rows found, Corrèze rows not."""
    owned = creuse_rows(session, world.territory.id)
    assert world.orgs["caf"].id in owned["organisation"]
    assert world.foreign_org.id not in owned["organisation"]
    assert world.services["siao115"].id in owned["service"]
    assert world.pros["alice"].id in owned["professional"]
    assert world.pros["chloe"].id not in owned["professional"]
    assert owned["declaredlink"] and owned["invitation"] and owned["account"]
    assert fill_path("/t/{code}/structures/{org_id}", owned, ["23"]) == [
        f"/t/23/structures/{i}" for i in sorted(owned["organisation"])
    ]


def _add_faulty_routes(app) -> None:
    """Routes that forget the territory scope: the walks must catch them."""
    faulty = APIRouter()

    @faulty.get("/t/{code}/faute/fuite", response_class=HTMLResponse)
    def _leak(code: str, user: CurrentUser, session: SessionDep):
        return ", ".join(session.exec(select(Organisation.name)).all())

    @faulty.post("/t/{code}/faute/ecriture/{org_id}", dependencies=[CsrfChecked])
    def _write(code: str, org_id: int, scope: CoordinatorScope, session: SessionDep):
        org = session.get(Organisation, org_id)  # no check that it belongs to scope.territory
        org.missions += "!"
        session.commit()
        return {"ok": True}

    @faulty.post("/t/{code}/faute/lecteur", dependencies=[CsrfChecked])
    def _viewer_write(code: str, scope: ViewerScope, session: SessionDep):
        session.get(Organisation, 1).commune = "Ailleurs"
        session.commit()
        return {"ok": True}

    app.include_router(faulty)


def test_the_walks_catch_a_route_that_forgets_the_scope(app, walker, session, world):
    client = walker
    _add_faulty_routes(app)
    login(client, "coord19@example.org")
    problems, _ = coordinator_walk(app, client, session, world, only="/faute/")
    text = "\n".join(problems)
    assert "GET /t/19/faute/fuite -> 200: shows" in text
    assert "GET /t/23/faute/fuite -> 200: expected 404" in text
    assert re.search(r"POST /t/19/faute/ecriture/\d+ -> 200: changed Creuse data", text)
    client.cookies.clear()
    login(client, "lecteur23@example.org")
    assert "POST /t/23/faute/lecteur -> 200: expected 403 (read only)" in "\n".join(
        viewer_write_walk(app, client, session, world, only="/faute/")
    )

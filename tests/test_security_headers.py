"""Security headers on every kind of response, no inline script anywhere, no CDN page.

Policy and reasons: docs/security.md. The headers come from app/headers.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient

from app.main import create_app
from app.routes.api_docs import operations
from tests.accounts_helpers import login, make_user
from tests.factories import build_world

TEMPLATES = Path(__file__).resolve().parent.parent / "app" / "templates"
STATIC = Path(__file__).resolve().parent.parent / "app" / "static"


def csp(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    header = response.headers.get("content-security-policy")
    assert header, f"no CSP on {response.request.url} ({response.status_code})"
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_secure_headers(response) -> None:
    where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    policy = csp(response)
    assert policy["default-src"] == ["'self'"], where
    assert policy["script-src"] == ["'self'"], where  # no 'unsafe-inline', no CDN, no eval
    assert "'unsafe-inline'" not in policy.get("style-src-elem", []), where
    assert policy["img-src"] == ["'self'", "data:"], where
    assert policy["object-src"] == ["'none'"], where
    assert policy["base-uri"] == ["'none'"], where
    assert policy["form-action"] == ["'self'"], where
    assert policy["frame-ancestors"] == ["'none'"], where
    for sources in policy.values():
        assert not any(s.startswith(("http:", "https:", "*")) for s in sources), where
    assert response.headers["x-content-type-options"] == "nosniff", where
    assert response.headers["referrer-policy"] == "no-referrer", where
    assert response.headers["x-frame-options"] == "DENY", where
    assert "camera=()" in response.headers["permissions-policy"], where


@pytest.fixture
def failing_app(settings, engine):
    """The real app plus a route that fails, to see the 500 page (test only)."""
    app = create_app(settings, engine=engine)

    @app.get("/essai-erreur")
    def boom():
        raise RuntimeError("boom")

    @app.get("/essai-http")
    def teapot():
        raise HTTPException(status_code=409, detail="Action impossible pour l'essai.")

    return app


def test_every_kind_of_response_carries_the_headers(failing_app, session):
    world = build_world(session)
    with TestClient(failing_app, raise_server_exceptions=False) as client:
        responses = [
            client.get("/"),  # page
            client.get("/login"),  # form page (sets the session cookie)
            client.get(f"/q/{world.tokens['alice']}"),  # personal link page
            client.get(f"/api/v1/questionnaire/{world.tokens['alice']}"),  # API
            client.get("/static/carte.css"),  # static file
            client.get("/static/questionnaire.js"),
            client.get("/openapi.json"),
            client.get("/docs"),
            client.get("/page-qui-n-existe-pas"),  # 404 page
            client.get("/api/v1/questionnaire/inconnu"),  # 404 JSON
            client.put("/login"),  # 405
            client.get("/t/23/", follow_redirects=False),  # 303 to the login
            client.get("/api/v1/t/23/graph/2026"),  # 401 JSON
            client.get("/essai-http"),  # 409 from an exception handler
            client.get("/essai-erreur"),  # 500 from the last-resort handler
        ]
    statuses = {r.status_code for r in responses}
    assert {200, 303, 401, 404, 405, 409, 500} <= statuses
    for response in responses:
        assert_secure_headers(response)
        assert "strict-transport-security" not in response.headers  # plain HTTP


def test_a_route_cannot_relax_the_policy(settings, engine):
    from fastapi.responses import PlainTextResponse

    app = create_app(settings, engine=engine)

    @app.get("/essai-relache")
    def relaxed():
        return PlainTextResponse("x", headers={"Content-Security-Policy": "script-src *"})

    with TestClient(app) as client:
        response = client.get("/essai-relache")
    assert response.headers.get_list("content-security-policy") == [
        response.headers["content-security-policy"]
    ]
    assert csp(response)["script-src"] == ["'self'"]


def test_hsts_only_over_https(app):
    with TestClient(app) as plain:
        assert "strict-transport-security" not in plain.get("/").headers
    with TestClient(app, base_url="https://testserver") as tls:
        hsts = tls.get("/").headers["strict-transport-security"]
    assert re.fullmatch(r"max-age=\d{8,}; includeSubDomains", hsts)
    # Behind a TLS-terminating proxy that says so (uvicorn --proxy-headers also rewrites
    # the scheme for trusted proxies).
    with TestClient(app) as proxied:
        response = proxied.get("/", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" in response.headers
        response = proxied.get("/", headers={"X-Forwarded-Proto": "http"})
        assert "strict-transport-security" not in response.headers


def test_hsts_always_when_the_public_address_is_https(settings, engine):
    app = create_app(settings.model_copy(update={"base_url": "https://carte.example.org"}), engine)
    with TestClient(app) as client:
        assert "max-age=" in client.get("/login").headers["strict-transport-security"]


# --- no inline script ----------------------------------------------------------------------

_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
_HANDLER = re.compile(r"""\son[a-z]+\s*=""", re.I)


def inline_script_problems(
    html: str, where: str, same_site: tuple[str, ...] = ("/", "http://testserver/")
) -> list[str]:
    """Inline scripts, event handlers, javascript: URLs, scripts from another origin."""
    problems = []
    for attrs, body in _SCRIPT.findall(html):
        src = re.search(r"""src=("[^"]+"|'[^']+')""", attrs)
        if not src:
            problems.append(f"{where}: inline <script>")
        elif not src.group(1)[1:].startswith(same_site) or src.group(1)[1:].startswith("//"):
            problems.append(f"{where}: script from elsewhere {src.group(1)}")
        if body.strip():
            problems.append(f"{where}: script body")
    if _HANDLER.search(html):
        problems.append(f"{where}: inline event handler {_HANDLER.search(html).group(0)}")
    if "javascript:" in html.lower():
        problems.append(f"{where}: javascript: URL")
    return problems


def test_templates_hold_no_inline_script():
    problems = []
    for path in TEMPLATES.rglob("*.html"):
        where = str(path.relative_to(TEMPLATES))
        problems += inline_script_problems(path.read_text(), where, ("{{ url_for('static'", "/"))
    assert not problems, "\n".join(problems)


def test_the_check_sees_an_inline_script():
    """The template check is not vacuous."""
    assert inline_script_problems("<script>alert(1)</script>", "x")
    assert inline_script_problems('<script src="https://cdn.example/x.js"></script>', "x")
    assert inline_script_problems('<button onclick="go()">', "x")
    assert not inline_script_problems('<script src="/static/map.js" defer></script>', "x")


def test_static_scripts_do_not_build_inline_code():
    """The JS files do not call eval/new Function nor write <script> tags (CSP would block
    them and hide a bug)."""
    for path in STATIC.glob("*.js"):
        text = path.read_text()
        assert not re.search(r"\beval\(|new Function\(|<script|innerHTML\s*=.*<script", text), path


def test_rendered_pages_hold_no_inline_script(client, session):
    """Pages as served (respondent, directory, own map, coordinator pages incl. the map):
    every script is an external same-site file."""
    world = build_world(session)
    make_user(session, "coord@example.org", territory=world.territory)
    token = world.tokens["alice"]
    paths = [f"/q/{token}", f"/q/{token}/repertoire", f"/q/{token}/ma-carte", "/", "/docs"]
    problems = []
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        problems += inline_script_problems(response.text, path)
    login(client, "coord@example.org")
    scripts_seen = 0
    for path in ["/t/23/", "/t/23/carte", "/t/23/carte/tableau", "/t/23/figures/2025"]:
        response = client.get(path)
        assert response.status_code == 200, path
        problems += inline_script_problems(response.text, path)
        scripts_seen += len(_SCRIPT.findall(response.text))
    assert not problems, "\n".join(problems)
    assert scripts_seen >= 1  # the map page loads map.js: the check saw real scripts


def test_respondent_page_sends_no_referrer(client, session):
    """The personal link is in the URL: the page forbids sending it in a Referer header."""
    world = build_world(session)
    response = client.get(f"/q/{world.tokens['alice']}")
    assert response.status_code == 200
    assert response.headers["referrer-policy"] == "no-referrer"


def test_pages_are_not_kept_by_the_browser_unless_their_route_says_so(client, session):
    """A personal page kept in the browser's history came back with Back after sending:
    « Il ne reste qu'à envoyer », a colleague's answers on a shared computer. Every response
    but a static file's is `no-store` unless its route chose a policy."""
    world = build_world(session)
    token = world.tokens["alice"]
    for path in (f"/q/{token}", f"/q/{token}/ma-carte", f"/api/v1/questionnaire/{token}",
                 "/login", "/page-qui-n-existe-pas"):  # fmt: skip
        response = client.get(path)
        assert response.headers.get_list("cache-control") == ["no-store"], path
    assert "no-store" not in client.get("/static/carte.css").headers.get("cache-control", "")
    favicon = client.get("/favicon.ico")
    assert favicon.headers.get_list("cache-control") == ["public, max-age=604800"]


# --- /docs without a CDN -------------------------------------------------------------------


def test_api_docs_page_is_served_locally(client):
    response = client.get("/docs")
    assert response.status_code == 200
    html = response.text
    assert "/openapi.json" in html
    assert "PUT /api/v1/questionnaire/{token}" in html
    assert "/api/v1/t/{code}/graph/{year}" in html
    assert not re.search(r"(src|href)=[\"']https?://(?!testserver/)", html), (
        "nothing from elsewhere"
    )
    assert "swagger" not in html.lower()
    # The CDN pages of FastAPI are gone.
    assert client.get("/redoc").status_code == 404
    assert client.get("/docs/oauth2-redirect").status_code == 404
    assert client.get("/openapi.json").json()["info"]["title"] == "Carte partenariale"


def test_api_docs_lists_every_operation(app):
    document = app.openapi()
    listed = {(op.method, op.path) for op in operations(document)}
    expected = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert listed == expected and len(listed) >= 5

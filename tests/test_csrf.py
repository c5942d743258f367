"""CSRF everywhere a form changes state with the session cookie.

Static: every write route either depends on `verify_csrf`, or is listed below with the reason.
Dynamic: a signed-in coordinator of Creuse posts to every write route of the app (routes added
later are covered) without the token: each answers 403 (or 404) and nothing changes.
"""

from __future__ import annotations

import html
from collections import Counter
from urllib.parse import urlencode

from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from app.security import CSRF_EXPIRED, verify_csrf
from tests.accounts_helpers import login, make_user
from tests.factories import build_world
from tests.test_isolation import (
    WRITE_METHODS,
    creuse_rows,
    endpoints,
    fill_fields,
    fill_path,
    snapshot,
)

# Write routes without the CSRF dependency, and why that is safe.
WITHOUT_DEPENDENCY = {
    # The personal link in the URL is the only credential (no cookie is involved): a forged
    # cross-site request would need the link itself. See docs/security.md.
    "/api/v1/questionnaire/{token}",
    "/api/v1/questionnaire/{token}/submit",
    "/api/v1/questionnaire/{token}/confirm-all",
    "/q/{token}",
    # Same credential, and it writes nothing: one partner's questions as an HTML fragment.
    "/q/{token}/partenaire",
    # Checked inside the handler (tests/test_auth.py::test_logout_without_csrf_is_refused).
    "/logout",
}


def _dependants(dependant):
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def test_every_session_write_route_checks_csrf(app):
    unprotected = set()
    for rc in iter_route_contexts(app.routes):
        route = rc.original_route
        if not isinstance(route, APIRoute) or not set(route.methods) & set(WRITE_METHODS):
            continue
        if not any(d.call is verify_csrf for d in _dependants(route.dependant)):
            unprotected.add(rc.path)
    assert unprotected <= WITHOUT_DEPENDENCY, sorted(unprotected - WITHOUT_DEPENDENCY)
    assert len(WITHOUT_DEPENDENCY - unprotected) == 0, "stale entries in WITHOUT_DEPENDENCY"


BOUNDARY = "csrf-walk-boundary"
FILE_FIELDS = {"fichier", "file"}


def _multipart(fields: dict[str, str]) -> bytes:
    """The fields as multipart/form-data, as a browser sends a form with a file input."""
    parts = []
    for name, value in fields.items():
        disposition = f'form-data; name="{name}"'
        if name in FILE_FIELDS:
            disposition += '; filename="a.csv"\r\nContent-Type: text/csv'
            value = "nom;type\nCAF de la Creuse;caf\n"
        parts.append(f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n{value}\r\n")
    return ("".join(parts) + f"--{BOUNDARY}--\r\n").encode()


def _encodings(fields: dict[str, str]) -> list[tuple[str, dict]]:
    """The same fields in every body encoding a client can send: urlencoded and multipart
    (what forms send), JSON (what the API reads) and text/plain (the third encoding of an
    HTML form, so a cross-site page can send it too) -- to every route: a form route must
    refuse a JSON body without the token as firmly as an urlencoded one."""
    out = [
        ("urlencoded", {"data": fields}),
        (
            "multipart",
            {
                "content": _multipart(fields),
                "headers": {"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
            },
        ),
    ]
    out.append(("json", {"json": fields}))
    plain = "".join(f"{name}={value}\r\n" for name, value in fields.items())
    out.append(("text/plain", {"content": plain, "headers": {"content-type": "text/plain"}}))
    return out


def test_writes_without_the_token_are_refused_and_change_nothing(app, client, session):
    world = build_world(session)
    make_user(session, "coord23@example.org", territory=world.territory)
    login(client, "coord23@example.org")
    owned = creuse_rows(session, world.territory.id)
    before = snapshot(session, owned)
    problems: list[str] = []
    walked: Counter[str] = Counter()
    for ep in endpoints(app):
        if ep.method not in WRITE_METHODS or ep.path in WITHOUT_DEPENDENCY:
            continue
        fields = fill_fields(ep.form_fields + ep.query_fields, owned)
        for url in fill_path(ep.path, owned, ["23"])[:3]:
            url = url.replace("jeton-inconnu-0000000000000000000000000000", world.tokens["alice"])
            for encoding, request in _encodings(fields):
                response = client.request(ep.method, url, follow_redirects=False, **request)
                walked[encoding] += 1
                where = f"{ep.method} {url} ({encoding}) -> {response.status_code}"
                if response.status_code == 403:
                    if html.unescape(CSRF_EXPIRED) not in html.unescape(response.text):
                        problems.append(f"{where}: 403 without the CSRF message")
                elif response.status_code != 404:
                    problems.append(f"{where}: expected 403")
                if snapshot(session, owned) != before:
                    problems.append(f"{where}: changed Creuse data")
                    before = snapshot(session, owned)
    # Every body encoding the app accepts was walked (issue 19: a check skipped for
    # multipart bodies went unnoticed while only urlencoded forms were sent).
    assert walked["urlencoded"] >= 20
    assert len(set(walked.values())) == 1, walked
    assert not problems, "\n".join(problems)
    # Still signed in: /logout without the token did not end the session.
    assert client.get("/t/23/").status_code == 200


# --- odd tokens (issue 11): a token that is not plain ASCII is refused like a wrong one ------

# Form values as sent: `é`, a very long one, and invalid UTF-8 bytes (%ff, an encoded lone
# surrogate) that the form parser turns into replacement characters.
ODD_FORM_TOKENS = ("%C3%A9", "%C3%A9" * 10_000, "%ff", "%ed%b3%bf", "%00")
# Header values as raw bytes: UTF-8 `é`, a very long one, bytes that are not UTF-8.
ODD_HEADER_TOKENS = ("é".encode(), "é".encode() * 10_000, b"\xff\xfe", b"\xed\xb3\xbf")


def _odd_token_requests(client, method: str, url: str, fields: dict[str, str]):
    """Responses to `url` with each odd token, as a form field then as the header."""
    form = urlencode(fields)
    for token in ODD_FORM_TOKENS:
        body = f"{form}&csrf_token={token}".lstrip("&").encode()
        headers = {"content-type": "application/x-www-form-urlencoded"}
        response = client.request(method, url, content=body, headers=headers)
        yield f"field {token[:12]}", response
    for token in ODD_HEADER_TOKENS:
        response = client.request(method, url, data=fields, headers={"x-csrf-token": token})
        yield f"header {token[:6]!r}", response


def _csrf_refusal(response) -> str | None:
    """None when `response` is the usual CSRF 403, else what is wrong."""
    if response.status_code != 403:
        return f"{response.status_code} instead of 403"
    if html.unescape(CSRF_EXPIRED) not in html.unescape(response.text):
        return "403 without the CSRF message"
    return None


def _csrf_routes(app) -> set[str]:
    return {
        f"{method} {rc.path}"
        for rc in iter_route_contexts(app.routes)
        if isinstance(rc.original_route, APIRoute)
        and any(d.call is verify_csrf for d in _dependants(rc.original_route.dependant))
        for method in rc.methods & set(WRITE_METHODS)
    }


def test_odd_tokens_are_refused_with_403_on_every_csrf_route(app, session):
    world = build_world(session)
    make_user(session, "coord23@example.org", territory=world.territory)
    protected = _csrf_routes(app) | {"POST /logout"}  # /logout checks inside its handler
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        login(client, "coord23@example.org")
        owned = creuse_rows(session, world.territory.id)
        before = snapshot(session, owned)
        problems, walked = [], set()
        for ep in endpoints(app):
            if f"{ep.method} {ep.path}" not in protected:
                continue
            fields = fill_fields(ep.form_fields + ep.query_fields, owned)
            url = fill_path(ep.path, owned, ["23"])[0]
            url = url.replace("jeton-inconnu-0000000000000000000000000000", world.tokens["alice"])
            for sent, response in _odd_token_requests(client, ep.method, url, fields):
                walked.add(ep.path)
                wrong = _csrf_refusal(response)
                if wrong:
                    problems.append(f"{ep.method} {url} ({sent}): {wrong}")
            if snapshot(session, owned) != before:
                problems.append(f"{ep.method} {url}: changed Creuse data")
                before = snapshot(session, owned)
        assert len(walked) >= 20 and {"/login", "/logout"} <= walked
        assert not problems, "\n".join(problems)
        assert client.get("/t/23/").status_code == 200  # the walk was signed in all along


def test_odd_tokens_on_the_login_page_without_an_account(app, session):
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        client.get("/login")  # a session with a real token: only the sent one is odd
        fields = {"email": "personne@example.org", "password": "x" * 12}
        problems = [
            f"{sent}: {wrong}"
            for sent, response in _odd_token_requests(client, "POST", "/login", fields)
            if (wrong := _csrf_refusal(response))
        ]
        assert not problems, "\n".join(problems)

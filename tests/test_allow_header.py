"""405 answers name every method the app routes for the path (issue 11).

Starlette builds `Allow` from the first route whose path matches, so a path served by two
routes (GET and PUT of /api/v1/questionnaire/{token}) announced only one of them. The walk
reads `app.routes` at run time: every path of the app, every method, anonymous. A method is
allowed when the app does not answer 405 to it; each 405 must list exactly those methods.
"""

from __future__ import annotations

import re

from fastapi.routing import iter_route_contexts

from tests.test_isolation import BOGUS_TOKEN

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def _url(path: str) -> str:
    values = {"code": "23", "token": BOGUS_TOKEN, "year": "2026"}
    return _PARAM.sub(lambda m: values.get(m.group(1), "1"), path)


def _allow(response) -> set[str]:
    return {m.strip() for m in response.headers.get("allow", "").split(",") if m.strip()}


def test_questionnaire_api_announces_get_and_put(client):
    for method in ("OPTIONS", "DELETE", "PATCH", "POST"):
        response = client.request(method, f"/api/v1/questionnaire/{BOGUS_TOKEN}")
        assert response.status_code == 405
        assert _allow(response) == {"GET", "PUT"}
        assert response.json() == {"detail": "Cette action n'est pas permise ici."}


def test_every_405_lists_every_routed_method(app, client):
    paths = sorted(
        {rc.path for rc in iter_route_contexts(app.routes) if rc.methods and rc.path}
        | {"/static/carte.css"}
    )
    assert len(paths) > 50
    problems = []
    for path in paths:
        url = _url(path)
        responses = {m: client.request(m, url, follow_redirects=False) for m in METHODS}
        allowed = {m for m, r in responses.items() if r.status_code != 405}
        refused = [m for m, r in responses.items() if r.status_code == 405]
        if not refused:
            problems.append(f"{url}: no method answered 405")
        for method in refused:
            if _allow(responses[method]) != allowed:
                announced = responses[method].headers.get("allow")
                problems.append(f"{method} {url}: Allow {announced!r}, routed {sorted(allowed)}")
        if any(r.status_code >= 500 for r in responses.values()):
            problems.append(f"{url}: server error")
    assert not problems, "\n".join(problems)

"""Numbers typed in URLs and forms: « ² », « ① » or a number too large for an id are refused
like any bad value (4xx, or the field ignored), never a 500.

`str.isdigit()` accepts « ² », which `int()` refuses: each check written with it before an
`int()` was a 500 (app/params.py). The walk sends such values in every query and form field of
every route a coordinator of Creuse can reach.
"""

from __future__ import annotations

from app.params import small_int
from tests.accounts_helpers import csrf_token, login, make_user
from tests.factories import build_world
from tests.test_isolation import _send, creuse_rows, endpoints, fill_fields, fill_path

ODD_NUMBERS = ["²", "①", "٣", "99999999999999999999", " 7 "]


def test_small_int_reads_what_int_reads_and_nothing_else():
    assert small_int("42") == 42 and small_int(" 7 ") == 7
    assert small_int("٣") == 3  # a decimal digit of another script: int() reads it
    assert small_int("²") is None and small_int("①") is None and small_int("") is None
    assert small_int("1234567890") is None and small_int("123456789") == 123456789
    assert small_int("2026", digits=4) == 2026 and small_int("20266", digits=4) is None


def test_known_cases_answer_without_a_server_error(client, session):
    world = build_world(session)
    make_user(session, "coord23@example.org", territory=world.territory)
    login(client, "coord23@example.org")
    token = csrf_token(client, "/t/23/campagnes")
    for url, data in [
        ("/t/23/professionnels?structure=²", None),
        (f"/q/{world.tokens['alice']}?emplacements=²", None),
        ("/t/23/campagnes", {"year": "²", "csrf_token": token}),
    ]:
        if data is None:
            response = client.get(url, follow_redirects=False)
        else:
            response = client.post(url, data=data, follow_redirects=False)
        assert response.status_code < 500, (url, response.status_code)


def test_odd_numbers_in_every_field_of_every_route(client, session):
    world = build_world(session)
    make_user(session, "coord23@example.org", territory=world.territory)
    login(client, "coord23@example.org")
    token = csrf_token(client, "/t/23/")
    owned = creuse_rows(session, world.territory.id)
    problems, walked = [], 0
    for ep in endpoints(app=client.app):
        if ep.path == "/logout":
            continue
        names = ep.form_fields + ep.query_fields
        if not names:
            continue
        base = fill_fields(names, owned)
        url = fill_path(ep.path, owned, ["23"])[0]
        url = url.replace("jeton-inconnu-0000000000000000000000000000", world.tokens["alice"])
        for odd in ODD_NUMBERS:
            fields = {name: odd if name != "csrf_token" else token for name in base}
            fields.setdefault("csrf_token", token)
            response = _send(client, ep.method, url, fields, token)
            walked += 1
            if response.status_code >= 500:
                problems.append(f"{ep.method} {url} {odd!r} -> {response.status_code}")
    assert walked >= 50
    assert not problems, "\n".join(problems)

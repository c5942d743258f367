"""Stored cross-site scripting: text typed by respondents or coordinators (names, comments,
missions, contacts, a structure proposed by a respondent) is shown escaped on every page.

Every free-text column of Creuse holds a payload; a coordinator and a respondent then read
every GET page of the app (routes added later are covered): no payload may come out raw in
HTML or SVG, and the escaped payload must show up (so the walk did display the data). The
content security policy (tests/test_security_headers.py) is the second line of defence.
"""

from __future__ import annotations

from sqlmodel import select

from survey.models import Body, Campaign, DeclaredLink, Organisation, Professional, Response
from tests.accounts_helpers import login, make_user
from tests.factories import build_world
from tests.test_isolation import BOGUS_TOKEN, creuse_rows, endpoints, fill_path

PAYLOAD = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
RAW = ("<script>alert(1)", "<img src=x onerror")


def plant(session, world) -> None:
    for org in world.orgs.values():
        org.name = f"{org.name} {PAYLOAD}"
        org.missions = PAYLOAD
        org.commune = "Guéret" + PAYLOAD[:40]
    for service in world.services.values():
        service.name = f"{service.name} {PAYLOAD}"
        service.contact_name = PAYLOAD[:100]
    for pro in world.pros.values():
        pro.full_name = f"{pro.full_name} {PAYLOAD}"
        pro.function = PAYLOAD
    for body in world.bodies.values():
        body.name = f"{body.name} {PAYLOAD}"
    for response in session.exec(select(Response)):
        response.comment = PAYLOAD
        response.obstacle_other = PAYLOAD
        response.body_other = PAYLOAD
    for link in session.exec(select(DeclaredLink)):
        link.practice_other = PAYLOAD
        link.contact_name = PAYLOAD[:100]
    for campaign in session.exec(select(Campaign)):
        campaign.introduction = PAYLOAD
    proposed = Organisation(
        territory_id=world.territory.id, name=f"Proposée {PAYLOAD}", status="proposed"
    )
    session.add(proposed)
    session.add(Body(territory_id=world.territory.id, name=f"Instance {PAYLOAD}"))
    session.add_all(world.orgs.values())
    session.add_all(world.services.values())
    session.add_all(world.pros.values())
    session.commit()


def _is_markup(response) -> bool:
    kind = response.headers.get("content-type", "")
    return kind.startswith(("text/html", "image/svg"))


def test_planted_text_is_escaped_on_every_page(app, client, session):
    world = build_world(session)
    plant(session, world)
    make_user(session, "coord23@example.org", territory=world.territory)
    owned = creuse_rows(session, world.territory.id)
    problems: list[str] = []
    shown = 0

    def read(url: str) -> None:
        nonlocal shown
        response = client.get(url, follow_redirects=False)
        if response.status_code >= 500:
            problems.append(f"GET {url} -> {response.status_code}")
        if _is_markup(response):
            problems.extend(f"GET {url}: raw {raw!r}" for raw in RAW if raw in response.text)
            shown += "&lt;script&gt;alert(1)" in response.text

    token = world.tokens["alice"]
    for ep in endpoints(app):
        if ep.method == "GET" and ep.path.startswith("/q/"):
            for url in fill_path(ep.path, owned, ["23"]):
                read(url.replace(BOGUS_TOKEN, token))
    respondent_pages = shown
    login(client, "coord23@example.org")
    for ep in endpoints(app):
        if ep.method == "GET" and not ep.path.startswith(("/q/", "/admin")):
            for url in fill_path(ep.path, owned, ["23"])[:3]:
                read(url)
    assert not problems, "\n".join(problems)
    assert respondent_pages >= 2, "the respondent pages showed the planted text"
    assert shown >= 20, f"only {shown} pages showed the planted text: the walk saw too little"


def test_the_check_sees_raw_markup():
    assert any(raw in f"<p>{PAYLOAD}</p>" for raw in RAW)
    assert not any(raw in "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>" for raw in RAW)


def test_planted_names_survive_in_json_as_text(client, session):
    """The API returns the same text as JSON strings (not markup), unchanged."""
    world = build_world(session)
    plant(session, world)
    body = client.get(f"/api/v1/questionnaire/{world.tokens['alice']}").json()
    assert body["respondent"]["full_name"] == f"Alice Martin {PAYLOAD}"
    pro = session.exec(select(Professional).where(Professional.email == "alice@example.org")).one()
    assert PAYLOAD in pro.full_name

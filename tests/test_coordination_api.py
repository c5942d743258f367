"""The coordination JSON API: /api/v1/t/{code}/instances|zones|officiels/{year}, for a
coordinator (exact counts) and a viewer (« < 3 »), 401 signed out, 404 elsewhere.

The territory is tests/test_coordination.py's (its hand computations hold here).
"""

from __future__ import annotations

import pytest

from reports import coordination, privacy
from tests.accounts_helpers import login, make_user
from tests.reports.builders import Builder
from tests.test_coordination import build

ROUTES = ("instances", "zones", "officiels")


@pytest.fixture
def world(session):
    w = build(session)
    other = Builder.start(session, "19", "Corrèze")
    other.campaign(2026, "open")
    session.commit()
    return w, other


@pytest.fixture
def coordinator(client, session, world):
    make_user(session, "coord@example.org", territory=world[0].b.territory)
    login(client, "coord@example.org")
    return client


@pytest.fixture
def viewer(client, session, world):
    make_user(session, "lecteur@example.org", role="viewer", territory=world[0].b.territory)
    login(client, "lecteur@example.org")
    return client


def test_a_coordinator_reads_exact_counts(coordinator, session, world):
    w, _ = world
    d = coordination.coordination(session, w.campaign)
    r = coordinator.get("/api/v1/t/23/instances/2026")
    assert r.status_code == 200, r.text
    assert r.json() == {"year": 2026, "instances": d["instances"]}
    commission = next(i for i in r.json()["instances"]["items"] if i["name"] == "Commission SIAO")
    assert [p["respondents"] for p in commission["participants"]] == [2, 1, 1]
    assert [a["name"] for a in commission["absent"]] == ["CAF"]  # ML: one strong tie only
    zones = coordinator.get("/api/v1/t/23/zones/2026").json()
    assert zones == {"year": 2026, "zones": d["zones"]}
    assert zones["zones"]["unzoned"]["responded"] == 2
    official = coordinator.get("/api/v1/t/23/officiels/2026").json()
    assert official == {"year": 2026, "official": d["official"], "quality": d["quality"]}
    assert [c["title"] for c in official["official"]["without_life"]] == ["B"]


def test_a_viewer_reads_the_public_copy(viewer, session, world):
    w, _ = world
    public = privacy.suppress_coordination(coordination.coordination(session, w.campaign))
    instances = viewer.get("/api/v1/t/23/instances/2026")
    assert instances.status_code == 200, instances.text
    assert instances.json()["instances"] == public["instances"]
    commission = next(
        i for i in instances.json()["instances"]["items"] if i["name"] == "Commission SIAO"
    )
    assert [p["respondents"] for p in commission["participants"]] == ["< 3"] * 3
    zones = viewer.get("/api/v1/t/23/zones/2026").json()
    assert zones["zones"]["unzoned"]["responded"] == "< 3"
    official = viewer.get("/api/v1/t/23/officiels/2026").json()
    assert official["quality"] == public["quality"]
    assert official["official"]["without_frame"][0]["carriers"] == "< 3"
    assert all(p["share"] is None for p in official["quality"]["pairs"])


@pytest.mark.parametrize("route", ROUTES)
def test_unknown_year_another_territory_and_signed_out(client, session, world, route):
    assert client.get(f"/api/v1/t/23/{route}/2026").status_code == 401
    make_user(session, "coord@example.org", territory=world[0].b.territory)
    login(client, "coord@example.org")
    r = client.get(f"/api/v1/t/23/{route}/1990")
    assert r.status_code == 404 and r.json()["detail"] == "Aucune campagne 1990 pour ce territoire."
    r = client.get(f"/api/v1/t/19/{route}/2026")  # the Corrèze has a 2026 campaign
    assert r.status_code == 404
    r = client.get(f"/api/v1/t/23/{route}/deux-mille")
    assert r.status_code == 400 and "n'est pas une année valide" in r.json()["detail"]


def test_the_routes_are_documented_in_french(client):
    spec = client.get("/openapi.json").json()
    for route in ROUTES:
        op = spec["paths"][f"/api/v1/t/{{code}}/{route}/{{year}}"]["get"]
        assert op["summary"] and op["description"]
        assert op["tags"] == ["coordination"]
        assert set(op["responses"]) >= {"200", "401", "404"}
    docs = client.get("/docs").text
    assert "Zones : participation, liens internes et externes, zones blanches" in docs

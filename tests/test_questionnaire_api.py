"""The JSON API: GET → PUT (same body) → submit, and every refusal in French."""

from __future__ import annotations

import pytest
from sqlmodel import select

from survey.models import DeclaredLink, Organisation, Response
from tests.factories import build_world


@pytest.fixture
def world(session):
    return build_world(session)


def url(token: str, suffix: str = "") -> str:
    return f"/api/v1/questionnaire/{token}{suffix}"


def test_get_carries_last_year_partners_forward(client, world):
    body = client.get(url(world.tokens["alice"])).json()
    assert body["source"] == "carried"
    assert body["status"] == "not_started"
    names = [lk["partner_name"] for lk in body["links"]]
    # The MSA link was marked "plus de contact" last year: it is not carried.
    assert names == ["CAF de la Creuse", "SIAO de la Creuse"]
    assert all(lk["status"] == "pending" for lk in body["links"])
    caf = body["links"][0]
    assert caf["nature"] == "formal" and caf["frames"] == ["agreement"]
    assert body["links"][1]["partner_service_name"] == "115"
    assert body["respondent"] == {"full_name": "Alice Martin", "organisation": "CCAS de Guéret"}


def test_round_trip_get_put_same_body_then_submit(client, session, world):
    token = world.tokens["alice"]
    body = client.get(url(token)).json()
    # Last year's count is not carried: left blank, it becomes the partners listed.
    assert body["declared_partner_count"] is None and body["years_in_post"] == "1to3"
    # Her 2025 body and obstacle are carried too (issue 19: every carried field has a value).
    assert body["body_ids"] == [world.bodies["siao"].id] and body["obstacles"] == ["lack_of_time"]
    put = client.put(url(token), json=body)
    assert put.status_code == 200, put.text
    assert put.json()["source"] == "draft"
    assert put.json()["body_ids"] == body["body_ids"]
    # The same body comes back unchanged: nothing lost, nothing invented.
    assert put.json()["links"] == body["links"]
    # Submitting with partners still "to confirm" is refused, field by field, in French.
    refused = client.post(url(token, "/submit"))
    assert refused.status_code == 422
    # Only the partners block: years in post and the partner count are optional now.
    fields = {e["field"] for e in refused.json()["errors"]}
    assert fields == {"links.0.status", "links.1.status"}
    assert "toujours" in refused.json()["errors"][0]["message"]

    body = put.json()
    body["years_in_post"] = "3to10"
    body["links"][0]["status"] = "confirmed"
    body["links"][1]["status"] = "ended"
    assert client.put(url(token), json=body).status_code == 200
    done = client.post(url(token, "/submit"))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "submitted"
    response = session.exec(
        select(Response).where(Response.campaign_id == world.this_year.id)
    ).one()
    assert response.status == "submitted" and response.submitted_at is not None
    statuses = session.exec(
        select(DeclaredLink.status).where(DeclaredLink.response_id == response.id)
    ).all()
    assert sorted(statuses) == ["confirmed", "ended"]
    # The count left blank is the one partner still worked with: nothing to warn about.
    assert response.declared_partner_count == 1
    assert done.json()["declared_partner_count"] == 1
    assert done.json()["warnings"] == []


def test_unknown_token_is_404_in_french(client, world):
    r = client.get(url("x" * 32))
    assert r.status_code == 404
    assert "lien" in r.json()["detail"].lower()


def test_closed_campaign_refuses_writes(client, world):
    token = world.tokens["alice_2025"]
    body = client.get(url(token)).json()
    assert body["source"] == "submitted" and body["can_write"] is False
    r = client.put(url(token), json=body)
    assert r.status_code == 409
    assert "close" in r.json()["detail"]


@pytest.mark.parametrize(
    "patch, field",
    [
        ({"declared_partner_count": "beaucoup"}, "declared_partner_count"),
        ({"declared_partner_count": -1}, "declared_partner_count"),
        ({"comment": "x" * 6000}, "comment"),
        ({"obstacles": ["pas-un-code"]}, "obstacles"),
        ({"years_in_post": "toujours"}, "years_in_post"),
        ({"body_ids": [999999]}, "body_ids"),
    ],
)
def test_bad_answers_rejected_with_field_message(client, session, world, patch, field):
    token = world.tokens["bruno"]
    good = {
        "declared_partner_count": 1,
        "links": [{"partner_organisation_id": world.orgs["ccas"].id}],
    }
    assert client.put(url(token), json=good).status_code == 200
    r = client.put(url(token), json={**good, **patch})
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert errors and errors[0]["field"] == field
    assert errors[0]["message"] and "Input" not in errors[0]["message"]
    # Nothing already saved was lost.
    again = client.get(url(token)).json()
    assert again["declared_partner_count"] == 1
    assert [lk["partner_organisation_id"] for lk in again["links"]] == [world.orgs["ccas"].id]


def test_partner_from_another_territory_or_duplicate_is_refused(client, world):
    token = world.tokens["bruno"]
    foreign = {"links": [{"partner_organisation_id": world.foreign_org.id}]}
    r = client.put(url(token), json=foreign)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "links.0.partner_organisation_id"
    ccas = world.orgs["ccas"].id
    dup = {"links": [{"partner_organisation_id": ccas}, {"partner_organisation_id": ccas}]}
    r = client.put(url(token), json=dup)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "links.1.partner_organisation_id"
    wrong_service = {
        "links": [
            {"partner_organisation_id": ccas, "partner_service_id": world.services["jour"].id}
        ]
    }
    assert client.put(url(token), json=wrong_service).status_code == 422


def test_malformed_json_and_utf8_are_4xx(client, world):
    token = world.tokens["bruno"]
    r = client.put(url(token), content=b'{"comment": "\xff\xfe"}',
                   headers={"content-type": "application/json"})  # fmt: skip
    assert r.status_code in (400, 422)
    assert "illisible" in r.text or "caractères" in r.text
    r = client.put(
        url(token), content=b"{pas du json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    assert "JSON" in r.json()["errors"][0]["message"]


def test_write_in_partner_becomes_proposed_structure(client, session, world):
    token = world.tokens["bruno"]
    body = {"links": [{"write_in": {"name": "Épicerie solidaire", "type": "association",
                                    "commune": "Aubusson"}}]}  # fmt: skip
    r = client.put(url(token), json=body)
    assert r.status_code == 200, r.text
    org = session.exec(select(Organisation).where(Organisation.name == "Épicerie solidaire")).one()
    assert org.status == "proposed" and org.territory_id == world.territory.id
    assert r.json()["links"][0]["partner_name"] == "Épicerie solidaire"
    # Saving again (as the client would, with the id now) does not propose it twice.
    assert client.put(url(token), json=body).status_code == 200
    assert (
        len(
            session.exec(
                select(Organisation).where(Organisation.name == "Épicerie solidaire")
            ).all()
        )
        == 1
    )

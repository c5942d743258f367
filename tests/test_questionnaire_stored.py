"""Saving answers returns them exactly as stored, so the API needs no read-back.

`save()` writes with a few bulk statements and builds `SaveResult.stored` itself; these tests
prove that what it builds is what the database now holds (read back in a fresh session by
`answers_of`), and that the API answers a PUT or a submit with the same JSON as a GET right
after. Both run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from survey import links
from survey.models import DeclaredLink, Response
from survey.questionnaire import Answers, answers_of, respondent_for_token, save
from tests.factories import build_world


@pytest.fixture
def world(session):
    return build_world(session)


def tricky_answers(world, session) -> dict:
    """Answers that the write normalises in every way it can."""
    last_links = session.exec(
        select(DeclaredLink.id, DeclaredLink.partner_organisation_id).order_by(DeclaredLink.id)
    ).all()
    caf_last = next(i for i, org in last_links if org == world.orgs["caf"].id)
    bodies = sorted(b.id for b in world.bodies.values())
    return {
        "function": "Conseillère ESF",
        "years_in_post": "1to3",
        "declared_partner_count": 7,
        "links": [
            {  # carried from last year (a real id of Alice's 2025 response)
                "partner_organisation_id": world.orgs["caf"].id,
                "status": "confirmed",
                "carried_from_id": caf_last,
                "nature": "both",
                "frames": ["protocol", "agreement"],  # unsorted
                "channels": ["phone"],
                "frequency": "monthly",
                "practices": ["rights_access", "referral"],
                "thematiques": ["difficultes-financieres"],
                "quality": 4,
            },
            {  # a service, a contact named without consent, a carried id that is not hers
                "partner_organisation_id": world.orgs["siao"].id,
                "partner_service_id": world.services["jour"].id,
                "carried_from_id": 999_999,
                "nature": "informal",
                "channels": ["personal", "email"],
                "frequency": "weekly",
                "practices": ["handover"],
                "has_named_contact": True,
                "contact_name": "Mme Durand",
                "contact_consent": False,
            },
            {  # a contact name typed while saying there is no named contact
                "partner_organisation_id": world.orgs["msa"].id,
                "has_named_contact": False,
                "contact_name": "M. Personne",
                "contact_consent": True,
                "practices": ["joint_visits"],
                "practice_other": "Permanence commune",
            },
            {  # write-in matching an existing structure (other case, no accent)
                "write_in": {"name": "ccas de gueret", "type": "ccas-cias"},
                "nature": "formal",
            },
            {  # write-in of a new structure: proposed
                "write_in": {"name": "Épicerie solidaire du Pays", "type": "association"},
                "nature": "informal",
                "frequency": "occasional",
            },
        ],
        "obstacles": ["turnover", "lack_of_time"],  # not in the vocabulary's order
        "body_ids": list(reversed(bodies)),
        "comment": "Un commentaire.",
    }


def complete(answers: dict) -> dict:
    """The same answers, complete enough to submit."""
    for link in answers["links"]:
        link["nature"] = link.get("nature") or "formal"
        link["frequency"] = link.get("frequency") or "monthly"
        link["practices"] = link.get("practices") or ["referral"]
    return answers


def test_stored_answers_are_what_the_database_holds(engine, session, world):
    r = respondent_for_token(session, world.tokens["alice"])
    result = save(session, r, Answers.model_validate(tricky_answers(world, session)))
    assert result.ok, result.problems
    with Session(engine) as fresh:
        row = fresh.exec(select(Response).where(Response.id == r.response.id)).one()
        assert result.stored == answers_of(fresh, row)
        # The respondent's response object mirrors the row without being reloaded.
        assert (r.response.status, r.response.submitted_at) == ("draft", None)
        assert r.response.questionnaire_version == row.questionnaire_version
        assert r.response.updated_at.replace(tzinfo=None) == row.updated_at.replace(tzinfo=None)
    stored = result.stored.links
    assert stored[0].carried_from_id is not None and stored[1].carried_from_id is None
    assert stored[1].contact_consent is False and stored[2].contact_name == ""
    assert stored[3].partner_organisation_id == world.orgs["ccas"].id
    assert result.names.organisations[stored[4].partner_organisation_id] == (
        "Épicerie solidaire du Pays"
    )
    assert result.names.services == {world.services["jour"].id: "Centre de jour"}


def test_resubmitting_keeps_the_first_submission_date(engine, session, world):
    answers = complete(tricky_answers(world, session))
    r = respondent_for_token(session, world.tokens["alice"])
    first = save(session, r, Answers.model_validate(answers), submit=True)
    assert first.ok, first.problems
    submitted_at = r.response.submitted_at
    answers["links"] = answers["links"][:2]
    r = respondent_for_token(session, world.tokens["alice"])
    again = save(session, r, Answers.model_validate(answers), submit=False)
    assert again.ok and r.response.status == "submitted"
    assert r.response.submitted_at == submitted_at
    with Session(engine) as fresh:
        row = fresh.exec(select(Response).where(Response.id == r.response.id)).one()
        assert row.status == "submitted"
        assert again.stored == answers_of(fresh, row)
        assert len(again.stored.links) == 2


def test_api_answers_a_save_as_a_read_would(client, session, world):
    url = f"/api/v1/questionnaire/{world.tokens['alice']}"
    answers = tricky_answers(world, session)
    put = client.put(url, json=answers)
    assert put.status_code == 200, put.text
    assert put.json() == client.get(url).json()
    assert [lk["partner_name"] for lk in put.json()["links"]] == [
        "CAF de la Creuse",
        "SIAO de la Creuse",
        "MSA du Limousin",
        "CCAS de Guéret",
        "Épicerie solidaire du Pays",
    ]
    sent = client.post(url + "/submit", json=complete(answers))
    assert sent.status_code == 200, sent.text
    body = sent.json()
    assert body["status"] == "submitted" and body["submitted_at"]
    assert body == client.get(url).json()
    # Submitting what is stored (no body) answers the same too.
    again = client.post(url + "/submit")
    assert again.status_code == 200 and again.json()["links"] == body["links"]


def test_unknown_or_revoked_link_resolves_to_nobody(session, world):
    assert respondent_for_token(session, "x" * links.TOKEN_LENGTH) is None
    assert respondent_for_token(session, world.tokens["alice"][:-1]) is None
    assert respondent_for_token(session, "é" * links.TOKEN_LENGTH) is None
    r = respondent_for_token(session, world.tokens["alice"])
    assert r.professional.full_name == "Alice Martin" and r.territory.code == "23"
    assert r.organisation.id == r.professional.organisation_id and r.response is None
    links.revoke(session, r.campaign.id, r.professional.id)
    session.commit()
    assert respondent_for_token(session, world.tokens["alice"]) is None

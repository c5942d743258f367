"""Every length limit of the questionnaire, exercised on both databases (issue 19).

The limits are read from the models (`Answers`, `LinkAnswer`, `WriteIn`: every text with a
`max_length`), so a text added later is covered. For each one, through the JSON API: a value
of max + 1 characters is a 422 with the French message on that field and nothing is written;
a value of exactly max characters (accented: PostgreSQL counts characters, not bytes) is
stored and read back. A static check holds each limit to the column it lands in: a model
limit over the VARCHAR would make PostgreSQL fail where SQLite accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args, get_origin

import pytest
from annotated_types import MaxLen
from pydantic import BaseModel
from sqlalchemy import Text

from survey.models import DeclaredLink, Organisation, Response
from survey.questionnaire import Answers, LinkAnswer, WriteIn
from tests.factories import build_world

API = "/api/v1/questionnaire/{}"


@dataclass(frozen=True)
class Limit:
    model: type[BaseModel]
    name: str
    max_length: int

    @property
    def path(self) -> str:
        """The field's path in the API's errors."""
        return {Answers: "", LinkAnswer: "links.0.", WriteIn: "links.0.write_in."}[
            self.model
        ] + self.name


def text_limits() -> list[Limit]:
    out = []
    for model in (Answers, LinkAnswer, WriteIn):
        for name, info in model.model_fields.items():
            if info.annotation is not str:
                continue
            lengths = [m.max_length for m in info.metadata if isinstance(m, MaxLen)]
            assert lengths, f"{model.__name__}.{name}: a text without max_length"
            out.append(Limit(model, name, lengths[0]))
    return out


LIMITS = text_limits()
# Where each text lands: the column of the response, the link or the proposed structure.
COLUMNS = {Answers: Response, LinkAnswer: DeclaredLink, WriteIn: Organisation}


def test_the_limits_are_all_found():
    found = {(limit.model.__name__, limit.name): limit.max_length for limit in LIMITS}
    assert found == {
        ("Answers", "function"): 160,
        ("Answers", "obstacle_other"): 500,
        ("Answers", "body_other"): 500,
        ("Answers", "comment"): 5000,
        ("LinkAnswer", "practice_other"): 500,
        ("LinkAnswer", "contact_name"): 120,
        ("WriteIn", "name"): 200,
        ("WriteIn", "commune"): 120,
    }


@pytest.mark.parametrize("limit", LIMITS, ids=lambda limit: limit.path)
def test_every_text_fits_its_column(limit):
    column = COLUMNS[limit.model].__table__.c[limit.name]  # type: ignore[attr-defined]
    length = getattr(column.type, "length", None)  # SQLModel's AutoString passes it on
    if length is None:  # TEXT: no limit on either database
        assert isinstance(column.type, Text), (limit, column.type)
    else:
        assert length >= limit.max_length, (limit, column.type)


def _answer(world, limit: Limit, value: str) -> dict:
    if limit.model is Answers:
        return {limit.name: value}
    # A contact name is kept only when the link names a contact.
    link = {
        "partner_organisation_id": world.orgs["caf"].id,
        "nature": "formal",
        "has_named_contact": True,
    }
    if limit.model is WriteIn:
        write_in = {"name": "Épicerie solidaire", "commune": "Aubusson", limit.name: value}
        link = {"write_in": write_in, "nature": "formal"}
    else:
        link[limit.name] = value
    return {"links": [link]}


def _read(session, stored: dict, limit: Limit):
    if limit.model is Answers:
        return stored[limit.name]
    link = stored["links"][0]
    if limit.model is WriteIn:  # became a proposed structure: read its row
        session.expire_all()
        return getattr(session.get(Organisation, link["partner_organisation_id"]), limit.name)
    return link[limit.name]


@pytest.mark.parametrize("limit", LIMITS, ids=lambda limit: limit.path)
def test_one_character_over_is_refused_and_the_limit_is_stored(client, session, limit):
    world = build_world(session)
    url = API.format(world.tokens["alice"])
    before = client.get(url).json()
    over = client.put(url, json=_answer(world, limit, "é" * (limit.max_length + 1)))
    assert over.status_code == 422, over.text[:300]
    message = f"Texte trop long : {limit.max_length} caractères au maximum."
    assert {"field": limit.path, "message": message} in over.json()["errors"]
    assert client.get(url).json() == before  # nothing written
    at_limit = "é" * limit.max_length
    stored = client.put(url, json=_answer(world, limit, at_limit))
    assert stored.status_code == 200, stored.text[:300]
    assert _read(session, client.get(url).json(), limit) == at_limit


# --- lists: one item over the limit is refused too ------------------------------------------


def list_limits() -> list[Limit]:
    out = []
    for model in (Answers, LinkAnswer):
        for name, info in model.model_fields.items():
            if get_origin(info.annotation) is not list:
                continue
            lengths = [m.max_length for m in info.metadata if isinstance(m, MaxLen)]
            assert lengths, f"{model.__name__}.{name}: a list without max_length"
            out.append(Limit(model, name, lengths[0]))
    return out


LIST_LIMITS = list_limits()


def _item(world, limit: Limit):
    """One valid item of the list."""
    if limit.name == "links":
        return {"partner_organisation_id": world.orgs["caf"].id, "nature": "formal"}
    if limit.name == "body_ids":
        return world.bodies["siao"].id
    (item,) = get_args(limit.model.model_fields[limit.name].annotation)
    return get_args(item)[0]  # the first code of the vocabulary


def test_the_list_limits_are_all_found():
    found = {(limit.model.__name__, limit.name): limit.max_length for limit in LIST_LIMITS}
    assert found == {
        ("Answers", "links"): 200,
        ("Answers", "obstacles"): 20,
        ("Answers", "body_ids"): 100,
        ("LinkAnswer", "frames"): 20,
        ("LinkAnswer", "channels"): 20,
        ("LinkAnswer", "practices"): 20,
        ("LinkAnswer", "thematiques"): 40,
    }


@pytest.mark.parametrize("limit", LIST_LIMITS, ids=lambda limit: limit.path)
def test_one_item_over_a_list_limit_is_refused(client, session, limit):
    world = build_world(session)
    url = API.format(world.tokens["alice"])
    before = client.get(url).json()
    items = [_item(world, limit)] * (limit.max_length + 1)
    answer = _answer(world, limit, "x")
    if limit.model is Answers:
        answer = {limit.name: items}
    else:
        answer["links"][0][limit.name] = items
    over = client.put(url, json=answer)
    assert over.status_code == 422, over.text[:300]
    message = f"Trop d'éléments : {limit.max_length} au maximum."
    assert {"field": limit.path, "message": message} in over.json()["errors"]
    assert client.get(url).json() == before  # nothing written

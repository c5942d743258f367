"""OpenAPI declares the vocabularies (issue 11, item 9): every field or query parameter that
only takes codes is an enum of exactly the codes of survey.vocab, so clients and fuzzers know
the contract; a wrong code is a 422 whose French message names the field, and nothing is
written."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from app.graph_view import NATURE_FILTERS
from survey import vocab
from survey.models import Response
from tests.accounts_helpers import login, make_user
from tests.factories import build_world

ANSWERS = {"years_in_post": vocab.YEARS_IN_POST, "obstacles": vocab.OBSTACLES}
LINK = {
    "nature": vocab.NATURES,
    "frequency": vocab.FREQUENCIES,
    "frames": vocab.FRAMES,
    "channels": vocab.CHANNELS,
    "practices": vocab.PRACTICES,
    "thematiques": vocab.THEMATIQUES,
}
GRAPH_PARAMETERS = {
    "type": vocab.ORG_TYPES,
    "nature": NATURE_FILTERS,
    "thematique": vocab.THEMATIQUES,
    "frequence": vocab.FREQUENCIES,
}
GRAPH_PATHS = (
    "/api/v1/t/{code}/figures/{year}",
    "/api/v1/t/{code}/graph/{year}",
    "/api/v1/t/{code}/evolution",
)


def _enum(schema: dict) -> list:
    """The codes of a property or parameter schema (optional, a list, or both)."""
    for option in schema.get("anyOf", [schema]):
        if "items" in option:
            option = option["items"]
        if "enum" in option:
            return option["enum"]
    raise AssertionError(f"no enum in {schema}")


@pytest.fixture
def spec(client) -> dict:
    return client.get("/openapi.json").json()


def test_questionnaire_fields_are_enums_of_the_vocabularies(spec):
    schemas = spec["components"]["schemas"]
    for model, fields in (("Answers", ANSWERS), ("LinkAnswer", LINK), ("LinkOut", LINK)):
        properties = schemas[model]["properties"]
        for name, codes in fields.items():
            assert _enum(properties[name]) == list(codes), (model, name)
    assert _enum(schemas["WriteIn"]["properties"]["type"]) == list(vocab.ORG_TYPES)


def test_graph_filters_are_enums_of_the_vocabularies(spec):
    for path in GRAPH_PATHS:
        parameters = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        for name, codes in GRAPH_PARAMETERS.items():
            assert _enum(parameters[name]["schema"]) == list(codes), (path, name)
        refused = spec["paths"][path]["get"]["responses"]["422"]["content"]["application/json"]
        assert refused["schema"] == {"$ref": "#/components/schemas/Problems"}


@pytest.mark.parametrize(
    "patch, field, message",
    [
        ({"years_in_post": "toujours"}, "years_in_post", "Choisissez une durée dans la liste."),
        ({"obstacles": ["turnover", "x"]}, "obstacles", "« x » n'est pas une réponse possible."),
        ({"nature": "peut-être"}, "links.0.nature", "Choisissez formel, informel ou les deux."),
        ({"frequency": "jamais"}, "links.0.frequency", "Choisissez une fréquence dans la liste."),
        ({"frames": ["x"]}, "links.0.frames", "« x » n'est pas une réponse possible."),
        ({"channels": ["fax"]}, "links.0.channels", "« fax » n'est pas une réponse possible."),
        ({"practices": ["x"]}, "links.0.practices", "« x » n'est pas une réponse possible."),
        ({"thematiques": ["x"]}, "links.0.thematiques", "« x » n'est pas une réponse possible."),
        (
            {"write_in": {"name": "Nouvelle", "type": "x"}, "partner_organisation_id": None},
            "links.0.write_in.type",
            "Choisissez un type de structure.",
        ),
    ],
)
def test_a_wrong_code_is_a_422_in_french_on_its_field(
    client, session, world, patch, field, message
):
    link = {"partner_organisation_id": world.orgs["caf"].id, "nature": "formal"}
    answers = {"function": "Conseiller"}
    link_fields = {k: v for k, v in patch.items() if k not in ANSWERS}
    answers |= {k: v for k, v in patch.items() if k in ANSWERS}
    answers["links"] = [link | link_fields]
    token = world.tokens["bruno"]
    for url in (f"/api/v1/questionnaire/{token}", f"/api/v1/questionnaire/{token}/submit"):
        r = client.put(url, json=answers) if url.endswith(token) else client.post(url, json=answers)
        assert r.status_code == 422, r.text
        assert r.json()["errors"] == [{"field": field, "message": message}]
    with Session(session.get_bind()) as s:
        assert not s.exec(
            select(Response).where(Response.professional_id == world.pros["bruno"].id)
        ).all()


@pytest.mark.parametrize("name", list(GRAPH_PARAMETERS))
def test_a_wrong_filter_code_is_a_422_in_french(client, session, world, name):
    make_user(session, "coord23@example.org", territory=world.territory)
    login(client, "coord23@example.org")
    for path in ("/api/v1/t/23/figures/2025", "/api/v1/t/23/graph/2025", "/api/v1/t/23/evolution"):
        r = client.get(path, params={name: "pas-un-code"})
        assert r.status_code == 422, (path, r.text)
        assert r.json()["errors"] == [
            {
                "field": f"query.{name}",
                "message": "« pas-un-code » n'est pas dans la liste proposée.",
            }
        ]
    valid = next(iter(GRAPH_PARAMETERS[name]))
    assert client.get("/api/v1/t/23/figures/2025", params={name: valid}).status_code == 200


@pytest.fixture
def world(session):
    return build_world(session)

"""A toy multiple-choice partner question added to the registry alone (`survey.fields`),
with no other code: it is a tag kind, so no migration either. Run by
`tests/test_toy_question.py` in a process of its own, where `tests/toy_question.py` adds it
before the application is imported, on a temporary SQLite database: the toy is seen by the
form, the API (schema and PUT/GET round trip), the stored tags, the graph's CSV export and
the personal-data export. Not named test_*.py: collected only when named on the command
line. What a new question still needs by hand: docs/architecture.md."""

from __future__ import annotations

import csv
import io

from sqlmodel import select

from app import formhtml, forms
from reports import exports
from reports.graph import build_graph
from survey import fields, privacy
from survey.models import LinkTag
from tests.factories import build_world
from tests.test_field_registry import registry_problems

assert any(f.name == "toys" for f in fields.LINK_FIELDS), "run with -p tests.toy_question"


def _url(token: str, suffix: str = "") -> str:
    return f"/api/v1/questionnaire/{token}{suffix}"


def _answer_with_toys(client, world) -> dict:
    """Alice's 2026 answer: one new partner, the CAF, with toys; submitted."""
    body = client.get(_url(world.tokens["alice"])).json()
    body["links"] = [
        {"partner_organisation_id": world.orgs["caf"].id, "nature": "formal",
         "practices": ["referral"], "toys": ["kite", "ball"]},
    ]  # fmt: skip
    put = client.put(_url(world.tokens["alice"]), json=body)
    assert put.status_code == 200, put.text
    assert client.post(_url(world.tokens["alice"], "/submit")).status_code == 200
    return put.json()


def test_api_schema_and_round_trip(client, session):
    world = build_world(session)
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    toys = schema["LinkAnswer"]["properties"]["toys"]
    assert toys["items"]["enum"] == ["ball", "kite"]
    stored = _answer_with_toys(client, world)
    assert stored["links"][0]["toys"] == ["ball", "kite"]
    assert client.get(_url(world.tokens["alice"])).json()["links"][0]["toys"] == ["ball", "kite"]
    tags = session.exec(select(LinkTag.code).where(LinkTag.kind == "toy")).all()
    assert sorted(tags) == ["ball", "kite"]
    # An unknown code is refused like any other.
    body = client.get(_url(world.tokens["alice"])).json()
    body["links"][0]["toys"] = ["robot"]
    refused = client.put(_url(world.tokens["alice"]), json=body)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "links.0.toys"


def test_form_state_and_hidden_answers(client, session):
    world = build_world(session)
    caf = world.orgs["caf"].id
    parsed = forms.parse(
        [("l0-partner", str(caf)), ("l0-nature", "formal"), ("l0-practices", "referral"),
         ("l0-toys", "ball"), ("action", "save")]
    )  # fmt: skip
    assert parsed.state.links[0].toys == ["ball"]
    assert parsed.answers is not None and parsed.answers.links[0].toys == ["ball"]
    hidden = str(formhtml.hidden_answers("l0-", parsed.state.links[0]))
    assert '<input type="hidden" name="l0-toys" value="ball">' in hidden
    # The stored answer comes back into the form (a partner carried next year keeps it in
    # its hidden answers). Asking it on the page needs its wording in _card.html.
    _answer_with_toys(client, world)
    answers = client.get(_url(world.tokens["alice"])).json()
    state = forms.state_from_answers(forms.Answers.model_validate(answers))
    assert state.links[0].toys == ["ball", "kite"]


def test_graph_csv_export_counts_the_toys(client, session):
    world = build_world(session)
    _answer_with_toys(client, world)
    _, links_csv = exports.csv_tables(build_graph(session, world.this_year))
    rows = list(csv.DictReader(io.StringIO(links_csv.lstrip("\ufeff")), delimiter=";"))
    caf = next(r for r in rows if r["cible"] == "CAF de la Creuse")
    # One toy each, by one professional: counted, and written « < 3 » (reports.privacy).
    assert caf["toy_ball"] == "< 3" and caf["toy_kite"] == "< 3"


def test_personal_data_export_holds_the_toys(client, session):
    world = build_world(session)
    _answer_with_toys(client, world)
    data = privacy.export_own_data(session, world.pros["alice"])
    partner = data["reponses"][-1]["partenaires"][0]
    assert partner["jouets"] == [
        {"code": "ball", "label": "Ballon"},
        {"code": "kite", "label": "Cerf-volant"},
    ]


def test_registry_check_lists_what_is_still_by_hand(client):
    openapi = client.get("/openapi.json").json()
    assert registry_problems(openapi) == [
        "links.toys: error summary order (app.routes.questionnaire._CARD_ORDER)",
    ]

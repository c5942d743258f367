"""The registry of the questionnaire's fields (`survey.fields`) and its readers.

`registry_problems` lists, for every registered field, each reader that does not handle it:
the tables, the pydantic models and the API schema, the form, the hidden answers, the page's
field order, the compared and optional fields, the merge, the graph. The tests below also run
carry-forward, the folding of duplicate links, the personal-data export and the erasure on
an answer where every field is filled, and show the check failing when a field is left out.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from sqlmodel import Session, select

import app.routes.questionnaire as questionnaire_routes
from app import formhtml, forms, partner_cards
from reports import exports, graph
from survey import fields, models, privacy, questionnaire, vocab
from survey.directory import _fold_link
from survey.models import (
    DeclaredLink,
    Invitation,
    LinkTag,
    Response,
    ResponseBody,
    ResponseObstacle,
)
from tests.factories import build_world

# Response answers kept in child tables, not in columns of Response.
_RESPONSE_CHILD_TABLES = {"obstacles": ResponseObstacle, "body_ids": ResponseBody}
# The graph's aggregates that are not read from the registry (reports/graph.py).
_GRAPH_COUNTS_BY_CODE = {"nature": graph.NATURE_CODES, "frequency": graph.FREQUENCY_CODES}
_GRAPH_MEANS = {"quality": "quality_mean"}
_MERGES_OF_KIND = {
    "code": {"first", "both"},
    "int": {"first"},
    "yes_no": {"first"},
    "text": {"first", "joined", "contact"},
    "bool": {"first", "with_contact"},
    "codes": {"union"},
}


def _schema_properties(schema: dict, name: str) -> list[str]:
    return list(schema["components"]["schemas"][name]["properties"])


def registry_problems(openapi: dict) -> list[str]:
    """What each reader misses of the registry, as « field: reader » lines."""
    problems: list[str] = []
    link_columns = set(DeclaredLink.model_fields)
    link_api = _schema_properties(openapi, "LinkAnswer")
    form_fields = {f.name for f in dataclasses.fields(forms.LinkForm)}
    form_read = {*forms.LINK_TEXT_FIELDS, *forms.LINK_LIST_FIELDS, *forms.LINK_CHECKBOX_FIELDS}
    hidden = {*formhtml._HIDDEN_TEXT, *formhtml._HIDDEN_LISTS, *formhtml._HIDDEN_CHECKBOXES}
    for f in fields.LINK_FIELDS:

        def miss(reader: str, name: str = f.name) -> None:
            problems.append(f"links.{name}: {reader}")

        if f.kind == "codes":
            if f.tag_kind not in models.LINK_TAG_KINDS:
                miss("tag kind in survey.models.LINK_TAG_KINDS")
            if questionnaire._TAG_FIELDS.get(f.tag_kind or "") != f.name:
                miss("tags read and written by survey.questionnaire")
        else:
            if f.name not in link_columns:
                miss("column of survey.models.DeclaredLink")
            if f.name not in questionnaire._LINK_FIELDS:
                miss("columns read by survey.questionnaire")
            if f.name not in {q.name for q in questionnaire._LINK_QUESTION_COLUMNS}:
                miss("columns written by survey.questionnaire")
        if f.name not in questionnaire.LinkAnswer.model_fields:
            miss("survey.questionnaire.LinkAnswer")
        if f.name not in link_api:
            miss("API schema LinkAnswer (/openapi.json)")
        if f.name not in form_fields:
            miss("app.forms.LinkForm")
        if f.name not in form_read:
            miss("fields read from the form (app.forms)")
        if f.name not in hidden:
            miss("hidden answers (app.formhtml)")
        if f.name not in questionnaire_routes._CARD_ORDER:
            miss("error summary order (app.routes.questionnaire._CARD_ORDER)")
        if (f.name in partner_cards._COMPARED) != f.compared:
            miss("compared answers (app.partner_cards._COMPARED)")
        if (f.name in partner_cards._OPTIONAL) == f.required:
            miss("optional questions (app.partner_cards._OPTIONAL)")
        if f.merge not in _MERGES_OF_KIND[f.kind]:
            miss(f"merge « {f.merge} » for a {f.kind} (survey.directory._fold_link)")
        if f.aggregate == "tag_counts" and (
            f.tag_kind not in graph.TAG_KINDS or f.name not in exports._FLAT
        ):
            miss("tag pivots of reports.graph and reports.exports")
        if f.aggregate == "count_by_code" and _GRAPH_COUNTS_BY_CODE.get(f.name) != tuple(
            f.vocabulary or ()
        ):
            miss("counts by code of reports.graph")
        if f.aggregate == "mean" and f.name not in _GRAPH_MEANS:
            miss("means of reports.graph")
    registered = [f.name for f in fields.LINK_FIELDS]
    declared = [n for n in questionnaire.LinkAnswer.model_fields if n in registered]
    if declared != registered:
        problems.append(f"links: LinkAnswer declares {declared}, the registry {registered}")

    answers_api = _schema_properties(openapi, "Answers")
    response_columns = set(Response.model_fields)
    state_fields = {f.name for f in dataclasses.fields(forms.FormState)}
    for f in fields.RESPONSE_FIELDS:

        def miss_r(reader: str, name: str = f.name) -> None:
            problems.append(f"{name}: {reader}")

        if f.is_column and f.name not in response_columns:
            miss_r("column of survey.models.Response")
        if f.is_column and f.name not in {q.name for q in questionnaire._RESPONSE_COLUMNS}:
            miss_r("columns written by survey.questionnaire")
        if not f.is_column and f.name not in _RESPONSE_CHILD_TABLES:
            miss_r("child table of survey.models.Response")
        if f.name not in questionnaire.Answers.model_fields:
            miss_r("survey.questionnaire.Answers")
        if f.name not in answers_api:
            miss_r("API schema Answers (/openapi.json)")
        if f.name not in state_fields:
            miss_r("app.forms.FormState")
    return problems


@pytest.fixture
def openapi(client) -> dict:
    return client.get("/openapi.json").json()


def test_every_reader_handles_every_registered_field(openapi):
    assert registry_problems(openapi) == []


def test_the_check_fails_when_a_field_is_left_out_of_a_reader(openapi, monkeypatch):
    # One reader forgets a field: the check names the field and the reader.
    monkeypatch.setattr(
        formhtml, "_HIDDEN_LISTS", tuple(n for n in formhtml._HIDDEN_LISTS if n != "thematiques")
    )
    monkeypatch.setattr(partner_cards, "_COMPARED", partner_cards._COMPARED[:-1])
    assert registry_problems(openapi) == [
        "links.thematiques: hidden answers (app.formhtml)",
        "links.quality: compared answers (app.partner_cards._COMPARED)",
    ]


def test_a_new_field_lists_what_is_still_written_by_hand(openapi, monkeypatch):
    """A question added to the registry alone: the check lists what a new multiple-choice
    question still needs by hand (the walkthrough of docs/architecture.md)."""
    toy = fields.AnswerField("toys", "codes", "jouets", {"ball": "Ballon"}, tag_kind="toy",
                             merge="union")  # fmt: skip
    monkeypatch.setattr(fields, "LINK_FIELDS", (*fields.LINK_FIELDS, toy))
    assert [p for p in registry_problems(openapi) if p.startswith("links.toys")] == [
        "links.toys: tag kind in survey.models.LINK_TAG_KINDS",
        # Read once at import: a new field is in the process that starts after it was added.
        "links.toys: tags read and written by survey.questionnaire",
        "links.toys: survey.questionnaire.LinkAnswer",
        "links.toys: API schema LinkAnswer (/openapi.json)",
        "links.toys: app.forms.LinkForm",
        "links.toys: fields read from the form (app.forms)",
        "links.toys: hidden answers (app.formhtml)",
        "links.toys: error summary order (app.routes.questionnaire._CARD_ORDER)",
        "links.toys: compared answers (app.partner_cards._COMPARED)",
        "links.toys: optional questions (app.partner_cards._OPTIONAL)",
    ]


# --- behaviour, on an answer where every field is filled ----------------------------------


def _sample(f: fields.AnswerField):
    """A non-empty answer of the field's kind."""
    if f.kind == "codes":
        return [next(iter(f.vocabulary))] if f.vocabulary else []
    if f.kind in ("yes_no", "bool"):
        return True
    if f.kind == "text":
        return f"réponse {f.name}"
    if f.vocabulary:
        return next(iter(f.vocabulary))
    return 7


def _filled(session: Session):
    """The world, Alice's 2025 answer with every field filled (her first partner too), her
    2026 respondent."""
    w = build_world(session)
    alice = w.pros["alice"]
    alice.function = ""  # last year's function is then the one carried
    prev = session.exec(select(Response).where(Response.professional_id == alice.id)).one()
    for f in fields.response_columns():
        setattr(prev, f.name, _sample(f))
    # The world gives her answer its obstacle and its body (the child tables) already.
    assert session.get(ResponseObstacle, (prev.id, next(iter(vocab.OBSTACLES))))
    assert session.get(ResponseBody, (prev.id, w.bodies["siao"].id))
    link = session.exec(
        select(DeclaredLink).where(DeclaredLink.response_id == prev.id, DeclaredLink.position == 0)
    ).one()
    for f in fields.link_columns():
        setattr(link, f.name, _sample(f))
    for tag in session.exec(select(LinkTag).where(LinkTag.link_id == link.id)).all():
        session.delete(tag)
    session.flush()
    for f in fields.LINK_FIELDS:
        if f.tag_kind:
            session.add_all(LinkTag(link_id=link.id, kind=f.tag_kind, code=c) for c in _sample(f))
    session.add_all([alice, prev, link])
    session.commit()
    invitation = session.exec(
        select(Invitation).where(
            Invitation.professional_id == alice.id, Invitation.campaign_id == w.this_year.id
        )
    ).one()
    return w, prev, link, questionnaire.load_respondent(session, invitation)


def test_carry_forward_keeps_a_field_iff_it_is_carried(session):
    _, _, _, r = _filled(session)
    carried = questionnaire.carried_forward(session, r)
    assert carried is not None
    for f in fields.RESPONSE_FIELDS:
        assert bool(getattr(carried, f.name)) == f.carried, f.name
    first = carried.links[0]
    for f in fields.LINK_FIELDS:
        assert getattr(first, f.name) == _sample(f) if f.carried else not getattr(first, f.name)


def test_every_field_round_trips_through_the_form(session):
    _, _, _, r = _filled(session)
    answers, _ = questionnaire.current_answers(session, r)
    state = forms.state_from_answers(answers)
    parsed = forms.parse([*_posted(state), ("action", "save")])
    assert parsed.answers is not None, parsed.problems
    for f in fields.LINK_FIELDS:
        assert getattr(parsed.answers.links[0], f.name) == getattr(answers.links[0], f.name)


def _posted(state: forms.FormState):
    """The form's fields as the page posts them for a carried partner: its answers in
    hidden inputs (`formhtml.hidden_answers`), its status as the radio."""
    for slot, link in enumerate(state.links):
        html = str(formhtml.hidden_answers(f"l{slot}-", link))
        for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', html):
            yield name, value.replace("&#39;", "'").replace("&amp;", "&")
        yield f"l{slot}-status", "confirmed"


def test_folding_two_links_keeps_what_only_the_dropped_one_said():
    kept, dropped = DeclaredLink(id=1), DeclaredLink(id=2)
    for f in fields.link_columns():
        setattr(dropped, f.name, _sample(f))
    _fold_link(kept, dropped)
    for f in fields.link_columns():
        assert getattr(kept, f.name) == _sample(f), f.name


def test_merge_score_counts_the_coded_answers_and_the_contact():
    # What makes one duplicate « richer » than another when two structures merge.
    scored = [f.name for f in fields.link_columns() if f.kind in ("code", "int")]
    assert scored == ["nature", "frequency", "quality"]
    assert [f.name for f in fields.LINK_FIELDS if f.merge == "contact"] == ["contact_name"]


def test_personal_data_export_holds_every_field(session):
    w, _, _, _ = _filled(session)
    data = privacy.export_own_data(session, w.pros["alice"])
    answer = data["reponses"][0]
    for f in fields.RESPONSE_FIELDS:
        assert answer[f.export_key], f.name
    partner = answer["partenaires"][0]
    for f in fields.LINK_FIELDS:
        assert partner[f.export_key], f.name


def test_erasure_empties_the_personal_fields_and_keeps_the_others(session):
    w, prev, link, _ = _filled(session)
    privacy.erase_professional(session, w.pros["alice"], "test")
    session.commit()
    session.refresh(prev)
    session.refresh(link)
    for row, registry in ((prev, fields.RESPONSE_FIELDS), (link, fields.LINK_FIELDS)):
        for f in registry:
            if f.is_column:
                assert bool(getattr(row, f.name)) != f.personal, f.name


def test_submit_requires_exactly_the_required_fields(session):
    w, _, _, r = _filled(session)
    answers = questionnaire.Answers(
        links=[questionnaire.LinkAnswer(partner_organisation_id=w.orgs["caf"].id)]
    )
    problems = questionnaire.check(session, r, answers, submitting=True)
    assert {p.field for p in problems} == {
        f"links.0.{f.name}" for f in fields.LINK_FIELDS if f.required
    }

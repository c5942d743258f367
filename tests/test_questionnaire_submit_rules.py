"""What a submission must not let through: an empty questionnaire (no partner and no
explicit 0), « À modifier » chosen without JavaScript and sent unseen, a partner count
smaller than the list, a partner written in as one character. Through the page as a
browser without JavaScript posts it, through the JSON API, and through `save`."""

from __future__ import annotations

from html import unescape
from urllib.parse import urlencode

import pytest
from sqlmodel import select

from survey.models import DeclaredLink, Organisation, Response
from survey.questionnaire import (
    NO_PARTNER,
    WRITE_IN_TOO_SHORT,
    Answers,
    LinkAnswer,
    Problem,
    count_too_small,
    respondent_for_token,
    save,
)
from tests.factories import build_world
from tests.test_questionnaire_html import (
    page,
    post,
    read_form,
    row_tag,
    setf,
    slot_of_partner,
    value,
)

CAF, SIAO = "CAF de la Creuse", "SIAO de la Creuse — 115"


@pytest.fixture
def world(session):
    return build_world(session)


def api(token: str, suffix: str = "") -> str:
    return f"/api/v1/questionnaire/{token}{suffix}"


def response_of(session, world, who: str) -> Response | None:
    session.expire_all()
    return session.exec(
        select(Response).where(
            Response.campaign_id == world.this_year.id,
            Response.professional_id == world.pros[who].id,
        )
    ).first()


def summary_of(html: str) -> str:
    start = html.index('class="error-summary"')
    return unescape(html[start : html.index("</ul>", start)])


def complete(org_id: int, **extra) -> LinkAnswer:
    return LinkAnswer(
        **{"partner_organisation_id": org_id, "nature": "formal", "practices": ["referral"]} | extra
    )


def fields_of(problems: list[Problem]) -> list[str]:
    return [p.field for p in problems]


def proposed(session) -> list[str]:
    session.expire_all()
    return list(
        session.exec(select(Organisation.name).where(Organisation.status == "proposed")).all()
    )


# --- 1. an empty questionnaire ------------------------------------------------------------


def test_empty_questionnaire_is_not_sent_through_the_page(client, session, world):
    token = world.tokens["bruno"]  # a first-time respondent: nothing carried
    fields = read_form(page(client, token)).fields
    fields = setf(fields, "comment", "Un mot à garder")
    r = post(client, token, fields, "submit")
    assert r.status_code == 422, r.text
    html = r.text
    summary = summary_of(html)
    assert "Merci, vos réponses ont bien été envoyées" not in html
    assert f'<a href="#f-links">{NO_PARTNER}</a>' in summary
    # The summary's link has a target, where the message is shown; the comment is kept.
    reader = read_form(html)
    assert "f-links" in reader.ids and 'id="f-links-error"' in html
    assert value(reader.fields, "comment") == ["Un mot à garder"]
    assert response_of(session, world, "bruno") is None
    # A draft of the same form is still saved.
    assert post(client, token, fields, "save").status_code == 303
    assert response_of(session, world, "bruno").status == "draft"


def test_no_partner_is_an_answer_when_the_count_says_0(client, session, world):
    token = world.tokens["bruno"]
    fields = setf(read_form(page(client, token)).fields, "declared_partner_count", "0")
    r = post(client, token, fields, "submit")
    assert r.status_code == 303, r.text
    response = response_of(session, world, "bruno")
    assert (response.status, response.declared_partner_count) == ("submitted", 0)


def test_every_carried_partner_ended_needs_an_explicit_0(client, session, world):
    token = world.tokens["alice"]
    html = page(client, token)
    fields = read_form(html).fields
    for name in (CAF, SIAO):
        fields = setf(fields, slot_of_partner(html, name) + "status", "ended")
    r = post(client, token, fields, "submit")
    assert r.status_code == 422, r.text
    assert f'<a href="#f-links">{NO_PARTNER}</a>' in summary_of(r.text)
    assert "f-links" in read_form(r.text).ids
    assert response_of(session, world, "alice") is None
    fields = setf(fields, "declared_partner_count", "0")
    assert post(client, token, fields, "submit").status_code == 303
    response = response_of(session, world, "alice")
    assert (response.status, response.declared_partner_count) == ("submitted", 0)


def test_empty_questionnaire_is_not_sent_through_the_api(client, session, world):
    token = world.tokens["bruno"]
    for body in ({}, {"declared_partner_count": 3}):
        r = client.post(api(token, "/submit"), json=body)
        assert r.status_code == 422, r.text
        assert r.json()["errors"] == [{"field": "links", "message": NO_PARTNER}]
    # Nothing stored and no body: the stored (empty) answers are submitted, and refused too.
    r = client.post(api(token, "/submit"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "links"
    assert response_of(session, world, "bruno") is None
    # A draft stays allowed; then an explicit 0 is a submission.
    assert client.put(api(token), json={}).status_code == 200
    r = client.post(api(token, "/submit"), json={"declared_partner_count": 0})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "submitted" and r.json()["declared_partner_count"] == 0


def test_save_rules_for_no_partner(session, world):
    r = respondent_for_token(session, world.tokens["bruno"])
    ended = complete(world.orgs["ccas"].id, status="ended")
    assert fields_of(save(session, r, Answers(), submit=True).problems) == ["links"]
    assert fields_of(save(session, r, Answers(links=[ended]), submit=True).problems) == ["links"]
    assert save(session, r, Answers()).ok  # a draft
    result = save(session, r, Answers(links=[ended], declared_partner_count=0), submit=True)
    assert result.ok and result.stored.declared_partner_count == 0
    # Submitted: a later save is a submission too, and must not empty it silently.
    assert fields_of(save(session, r, Answers()).problems) == ["links"]


# --- 2. « À modifier » without JavaScript -------------------------------------------------


def test_edit_chosen_without_javascript_is_not_sent_as_unchanged(client, session, world):
    token = world.tokens["alice"]
    html = page(client, token)
    caf, siao = slot_of_partner(html, CAF), slot_of_partner(html, SIAO)
    fields = read_form(html).fields
    # The SIAO line is still a line: its answers travel hidden, its questions never opened.
    assert (siao + "questions", "shown") not in fields
    fields = setf(fields, caf + "status", "confirmed")
    fields = setf(fields, siao + "status", "edit")
    fields = setf(fields, "comment", "Texte tapé à garder")
    r = post(client, token, fields, "submit")
    assert r.status_code == 422, r.text
    html = r.text
    summary = summary_of(html)
    siao = slot_of_partner(html, SIAO)
    assert (
        f'<a href="#{siao}status">Vous avez choisi « À modifier » pour {SIAO} : vérifiez ses '
        "réponses ci-dessous, puis envoyez.</a>"
    ) in summary
    assert summary.count("<li>") == 1
    # Its questions are open, with last year's answers, « À modifier » still chosen; the
    # message sits at its choice; the other partner and what was typed are kept.
    assert "partner card edit confirmed with-errors" in row_tag(html, SIAO)
    reader = read_form(html)
    assert f"{siao}status" in reader.ids and f'id="{siao}status-error"' in html
    assert value(reader.fields, siao + "status") == ["edit"]
    assert value(reader.fields, siao + "nature") == ["informal"]
    assert value(reader.fields, siao + "frequency") == ["weekly"]
    assert value(reader.fields, slot_of_partner(html, CAF) + "status") == ["confirmed"]
    assert value(reader.fields, "comment") == ["Texte tapé à garder"]
    assert response_of(session, world, "alice") is None

    # Sent again from the page that shows its questions (changed or not): it goes through.
    fields = setf(reader.fields, siao + "frequency", "monthly")
    r = post(client, token, fields, "submit")
    assert r.status_code == 303, r.text
    response = response_of(session, world, "alice")
    assert response.status == "submitted" and response.comment == "Texte tapé à garder"
    link = session.exec(
        select(DeclaredLink).where(
            DeclaredLink.response_id == response.id,
            DeclaredLink.partner_organisation_id == world.orgs["siao"].id,
        )
    ).one()
    assert (link.status, link.frequency) == ("confirmed", "monthly")


def test_edit_not_shown_comes_back_with_the_other_problems(client, session, world):
    token = world.tokens["alice"]
    html = page(client, token)
    fields = setf(read_form(html).fields, slot_of_partner(html, SIAO) + "status", "edit")
    r = post(client, token, fields, "submit")  # the CAF is still to check
    assert r.status_code == 422
    summary = summary_of(r.text)
    assert f"Vous avez choisi « À modifier » pour {SIAO}" in summary
    assert f"{CAF} : Indiquez si vous travaillez toujours" in summary
    assert summary.count("<li>") == 2
    assert response_of(session, world, "alice") is None


def test_edit_without_javascript_still_saves_a_draft_and_opens(client, session, world):
    token = world.tokens["alice"]
    html = page(client, token)
    fields = setf(read_form(html).fields, slot_of_partner(html, SIAO) + "status", "edit")
    r = post(client, token, fields, "save")
    assert r.status_code == 303, r.text
    assert "modifier=" in r.headers["location"]
    assert response_of(session, world, "alice").status == "draft"


def test_questions_opened_by_the_script_are_sent_as_they_stand(client, session, world):
    """With JavaScript « À modifier » puts the partner's card (the fragment) in place of its
    line at once: the card says its questions were shown, and the submission goes through."""
    token = world.tokens["alice"]
    html = page(client, token)
    caf, siao = slot_of_partner(html, CAF), slot_of_partner(html, SIAO)
    fields = read_form(html).fields
    line = [(k, v) for k, v in fields if k.startswith(siao) and k != siao + "status"]
    r = client.post(
        f"/q/{token}/partenaire",
        content=urlencode([*line, (siao + "status", "edit")]),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200, r.text
    card = read_form(f'<form method="post">{r.text}</form>').fields
    assert (siao + "questions", "shown") in card
    assert value(card, siao + "status") == ["edit"]
    fields = [(k, v) for k, v in fields if not k.startswith(siao)] + card
    fields = setf(fields, caf + "status", "confirmed")
    r = post(client, token, fields, "submit")
    assert r.status_code == 303, r.text
    assert response_of(session, world, "alice").status == "submitted"


# --- 3. a partner count smaller than the list ---------------------------------------------


def _bruno_two_partners(client, world, count: str) -> list[tuple[str, str]]:
    fields = read_form(page(client, world.tokens["bruno"])).fields
    for slot, org in ((0, "ccas"), (1, "msa")):
        fields = setf(fields, f"l{slot}-partner", str(world.orgs[org].id))
        fields = setf(fields, f"l{slot}-nature", "informal")
        fields = setf(fields, f"l{slot}-practices", "referral")
    return setf(fields, "declared_partner_count", count)


def test_count_smaller_than_the_list_is_refused_through_the_page(client, session, world):
    token = world.tokens["bruno"]
    fields = _bruno_two_partners(client, world, "1")
    r = post(client, token, fields, "submit")
    assert r.status_code == 422, r.text
    message = (
        "Le total (1) est plus petit que le nombre de partenaires de votre liste (2) : "
        "corrigez-le ou laissez-le vide."
    )
    summary = summary_of(r.text)
    assert f'<a href="#f-declared_partner_count">{message}</a>' in summary
    assert summary.count("<li>") == 1
    assert 'id="f-declared_partner_count-error"' in r.text
    assert value(read_form(r.text).fields, "declared_partner_count") == ["1"]
    assert response_of(session, world, "bruno") is None
    # A draft keeps it, with a remark; a bigger (approximate) count or a blank is sent.
    assert post(client, token, fields, "save").status_code == 303
    assert "corrigez le nombre ou laissez-le vide avant d'envoyer" in unescape(page(client, token))
    assert (
        post(client, token, setf(fields, "declared_partner_count", "12"), "submit").status_code
        == 303
    )
    assert response_of(session, world, "bruno").declared_partner_count == 12


def test_count_smaller_than_the_list_is_refused_through_the_api(client, session, world):
    token = world.tokens["bruno"]
    links = [
        {"partner_organisation_id": world.orgs[k].id, "nature": "informal",
         "practices": ["referral"]}
        for k in ("ccas", "msa")
    ]  # fmt: skip
    for count in (1, 0):
        r = client.post(
            api(token, "/submit"), json={"declared_partner_count": count, "links": links}
        )
        assert r.status_code == 422, r.text
        assert r.json()["errors"] == [
            {"field": "declared_partner_count", "message": count_too_small(count, 2)}
        ]
    assert response_of(session, world, "bruno") is None
    r = client.post(api(token, "/submit"), json={"declared_partner_count": 2, "links": links})
    assert r.status_code == 200, r.text


def test_partners_ended_are_not_counted_against_the_total(session, world):
    r = respondent_for_token(session, world.tokens["bruno"])
    ccas, msa, caf = (world.orgs[k].id for k in ("ccas", "msa", "caf"))
    links = [complete(ccas), complete(msa, status="ended"), complete(caf, status="ended")]
    assert save(session, r, Answers(links=links, declared_partner_count=1), submit=True).ok
    links.append(complete(world.orgs["siao"].id))
    result = save(session, r, Answers(links=links, declared_partner_count=1), submit=True)
    assert not result.ok
    assert [(p.field, p.message) for p in result.problems] == [
        ("declared_partner_count", count_too_small(1, 2))
    ]
    assert result.warnings == []  # the problem says it: no remark repeats it


# --- 4. a partner written in as one character ---------------------------------------------


@pytest.mark.parametrize("name", ["x", " x ", "x.", "--", "é'"])
def test_write_in_needs_two_letters_or_digits_through_the_page(client, session, world, name):
    token = world.tokens["bruno"]
    fields = setf(read_form(page(client, token)).fields, "l0-write_in_name", name)
    r = post(client, token, fields, "save")
    assert r.status_code == 422, r.text
    summary = summary_of(r.text)
    assert '<a href="#l0-write_in_name">' in summary and WRITE_IN_TOO_SHORT in summary
    assert 'id="l0-write_in_name-error"' in r.text
    assert value(read_form(r.text).fields, "l0-write_in_name") == [name.strip()]
    assert proposed(session) == [] and response_of(session, world, "bruno") is None


def test_write_in_needs_two_letters_or_digits_through_the_api(client, session, world):
    token = world.tokens["bruno"]
    r = client.put(api(token), json={"links": [{"write_in": {"name": "x"}}]})
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": "links.0.write_in.name", "message": WRITE_IN_TOO_SHORT}]
    assert proposed(session) == []
    # Two letters or digits are a name (« 15 », « PMI »…).
    r = client.put(api(token), json={"links": [{"write_in": {"name": "A2"}}]})
    assert r.status_code == 200, r.text
    assert proposed(session) == ["A2"]


def test_a_count_left_blank_stays_blank_when_the_answers_come_back(client, session, world):
    """Sent with the count blank, the response stores the list's count; shown as that number
    on the next visit, it stayed behind when a partner was added: a total smaller than the
    list, refused. It comes back blank, as typed; a count typed apart from the list stays."""
    token = world.tokens["bruno"]
    assert post(client, token, _bruno_two_partners(client, world, ""), "submit").status_code == 303
    assert response_of(session, world, "bruno").declared_partner_count == 2
    fields = read_form(page(client, token)).fields
    assert value(fields, "declared_partner_count") == [""]
    # A third partner, the count untouched: sent, and the count follows the list.
    fields = setf(fields, "l2-partner", str(world.orgs["caf"].id))
    fields = setf(fields, "l2-nature", "formal")
    fields = setf(fields, "l2-practices", "referral")
    r = post(client, token, fields, "submit")
    assert r.status_code == 303, summary_of(r.text)
    assert response_of(session, world, "bruno").declared_partner_count == 3
    # A count typed apart from the list is shown as typed.
    fields = setf(read_form(page(client, token)).fields, "declared_partner_count", "12")
    assert post(client, token, fields, "submit").status_code == 303
    assert value(read_form(page(client, token)).fields, "declared_partner_count") == ["12"]


# --- 5. a partner typed shorter than the directory lists it -------------------------------


@pytest.mark.parametrize(
    ("typed", "org", "service"),
    [
        ("caf", "caf", None),
        ("CCAS gueret", "ccas", None),
        ("msa limousin", "msa", None),
        ("siao centre de jour", "siao", "jour"),
    ],
)
def test_a_shorter_name_of_a_single_structure_is_taken(client, session, world, typed, org, service):
    """Only the label as listed was taken: « CAF » or « ccas gueret », typed and sent with
    a phone's « Go » before a proposal was picked, cost a round of errors."""
    token = world.tokens["bruno"]
    fields = read_form(page(client, token)).fields
    fields = setf(fields, "l0-partner_search", typed)
    fields = setf(fields, "l0-nature", "informal")
    fields = setf(fields, "l0-practices", "referral")
    r = post(client, token, fields, "save")
    assert r.status_code == 303, summary_of(r.text)
    response = response_of(session, world, "bruno")
    links = session.exec(select(DeclaredLink).where(DeclaredLink.response_id == response.id))
    assert [(x.partner_organisation_id, x.partner_service_id) for x in links] == [
        (world.orgs[org].id, world.services[service].id if service else None)
    ]


def test_a_name_several_structures_share_asks_which(client, session, world):
    token = world.tokens["bruno"]
    fields = read_form(page(client, token)).fields
    for text, message in (
        ("de la creuse", "« de la creuse » correspond à 2 structures du répertoire"),
        ("CAF de la Corrèze", "« CAF de la Corrèze » n'est pas dans le répertoire"),
    ):
        r = post(client, token, setf(fields, "l0-partner_search", text), "save")
        assert r.status_code == 422
        assert message in summary_of(r.text)
    assert response_of(session, world, "bruno") is None

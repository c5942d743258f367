"""The yearly review: what is carried from last year, « Tout est comme l'an dernier »,
« À modifier », a partner added by typing its name, the blank partner count, and a stale tab.

Everything runs on both databases (the `session`/`client` fixtures), except the pure
functions."""

from __future__ import annotations

from html import unescape
from urllib.parse import urlencode

import pytest
from sqlmodel import func, select

from survey import links
from survey.models import (
    DeclaredLink,
    LinkTag,
    Professional,
    Response,
    ResponseObstacle,
)
from survey.questionnaire import (
    Answers,
    LinkAnswer,
    NothingCarried,
    carried_forward,
    confirm_all,
    confirm_all_stored,
    load_respondent,
    save,
    years_in_post_later,
)
from tests.conftest import TEST_SECRET
from tests.factories import build_world
from tests.test_questionnaire_html import read_form, row_tag, setf, slot_of_partner, value

CAF, SIAO = "CAF de la Creuse", "SIAO de la Creuse — 115"


@pytest.fixture
def world(session):
    return build_world(session)


def respondent(session, token):
    return load_respondent(session, links.find(session, token))


def page(client, token: str, **params) -> str:
    r = client.get(f"/q/{token}", params=params)
    assert r.status_code == 200, r.text
    return r.text


def post(client, token: str, fields, action: str = "save", suffix: str = ""):
    return client.post(
        f"/q/{token}{suffix}",
        content=urlencode([*fields, ("action", action)] if action else fields),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


def responses_of(session, world, who: str) -> list[Response]:
    session.expire_all()
    return list(
        session.exec(
            select(Response).where(
                Response.campaign_id == world.this_year.id,
                Response.professional_id == world.pros[who].id,
            )
        )
    )


def stored_links(session, response: Response) -> list[DeclaredLink]:
    return list(
        session.exec(
            select(DeclaredLink)
            .where(DeclaredLink.response_id == response.id)
            .order_by(DeclaredLink.position)
        )
    )


def count_responses(session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(Response)).one()


def _alice_2025(session, world) -> Response:
    return session.exec(
        select(Response).where(
            Response.campaign_id == world.last_year.id,
            Response.professional_id == world.pros["alice"].id,
        )
    ).one()


# --- what is carried -------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, elapsed, later",
    [
        ("lt1", 1, "1to3"),
        ("1to3", 1, "1to3"),
        ("3to10", 1, "3to10"),
        ("lt1", 3, "3to10"),
        ("gt10", 1, "gt10"),
        ("1to3", 0, "1to3"),
        (None, 1, None),
        ("pas-un-code", 1, None),
    ],
)
def test_years_in_post_move_on_with_time(code, elapsed, later):
    assert years_in_post_later(code, elapsed) == later


@pytest.fixture
def alice_2025_details(session, world) -> Response:
    """Alice's 2025 answer with obstacles, one body and her own function and years (the
    world already gives it the SIAO commission and « lack_of_time »)."""
    prev = _alice_2025(session, world)
    prev.years_in_post, prev.function, prev.obstacle_other = "lt1", "Conseillère ESF", "Locaux"
    session.add(prev)
    session.add(ResponseObstacle(response_id=prev.id, code="turnover"))
    alice = world.pros["alice"]
    alice.function = ""  # the directory knows no function: last year's answer is used
    session.add(alice)
    session.commit()
    return prev


def test_carried_forward_keeps_what_still_holds_for_the_same_person(
    session, world, alice_2025_details
):
    carried = carried_forward(session, respondent(session, world.tokens["alice"]))
    assert carried is not None
    assert carried.function == "Conseillère ESF"
    assert carried.years_in_post == "1to3"  # « moins d'un an » a year ago
    assert carried.obstacles == ["lack_of_time", "turnover"]  # in the questionnaire's order
    assert carried.obstacle_other == "Locaux"
    assert carried.body_ids == [world.bodies["siao"].id]
    # Last year's count is not carried: left blank, it is the partners kept.
    assert carried.declared_partner_count is None
    assert [(a.partner_organisation_id, a.status) for a in carried.links] == [
        (world.orgs["caf"].id, "pending"),
        (world.orgs["siao"].id, "pending"),
    ]


def test_carried_forward_to_a_successor_keeps_the_post_not_the_person(
    session, world, alice_2025_details
):
    alice = world.pros["alice"]
    alice.active = False
    successor = Professional(
        territory_id=world.territory.id,
        full_name="Denise Morel",
        organisation_id=alice.organisation_id,
        took_over_from_id=alice.id,
    )
    session.add_all([alice, successor])
    session.commit()
    token = links.issue(session, TEST_SECRET, world.this_year, successor)
    session.commit()
    carried = carried_forward(session, respondent(session, token))
    assert carried is not None
    # Alice's function and years in post are hers, not her successor's.
    assert carried.function == "" and carried.years_in_post is None
    # The partners, the bodies and the obstacles belong to the post.
    assert [a.partner_organisation_id for a in carried.links] == [
        world.orgs["caf"].id,
        world.orgs["siao"].id,
    ]
    assert carried.body_ids == [world.bodies["siao"].id]
    assert carried.obstacles == ["lack_of_time", "turnover"]
    assert carried.declared_partner_count is None


def test_carried_values_are_shown_on_the_page(client, session, world, alice_2025_details):
    html = page(client, world.tokens["alice"])
    fields = read_form(html).fields
    assert value(fields, "function") == ["Conseillère ESF"]
    assert value(fields, "years_in_post") == ["1to3"]
    assert sorted(value(fields, "obstacles")) == ["lack_of_time", "turnover"]
    assert value(fields, "obstacle_other") == ["Locaux"]
    assert value(fields, "body_ids") == [str(world.bodies["siao"].id)]
    assert value(fields, "declared_partner_count") == [""]


# --- the partner count -----------------------------------------------------------------


def _two_partners(world, count: int | None) -> Answers:
    return Answers(
        declared_partner_count=count,
        links=[
            LinkAnswer(partner_organisation_id=world.orgs[k].id, nature="informal",
                       practices=["referral"])
            for k in ("ccas", "msa")
        ],
    )  # fmt: skip


def test_blank_partner_count_becomes_the_partners_listed_at_submit(session, world):
    r = respondent(session, world.tokens["bruno"])
    # A draft keeps the blank as it is.
    assert save(session, r, _two_partners(world, None)).ok
    assert responses_of(session, world, "bruno")[0].declared_partner_count is None
    result = save(session, r, _two_partners(world, None), submit=True)
    assert result.ok and result.warnings == []
    response = responses_of(session, world, "bruno")[0]
    assert response.status == "submitted" and response.declared_partner_count == 2


def test_blank_count_leaves_out_the_partners_ended(session, world):
    r = respondent(session, world.tokens["alice"])
    carried = carried_forward(session, r)
    carried.links[0].status, carried.links[1].status = "confirmed", "ended"
    assert save(session, r, carried, submit=True).ok
    assert responses_of(session, world, "alice")[0].declared_partner_count == 1


def test_typed_partner_count_is_kept_with_a_gentle_warning(session, world):
    r = respondent(session, world.tokens["bruno"])
    result = save(session, r, _two_partners(world, 12), submit=True)
    assert result.ok
    assert result.warnings == [
        "Vous avez indiqué travailler avec 12 partenaires et en avez décrit 2. Ce n'est pas "
        "bloquant : vous pouvez compléter la liste ou corriger le nombre."
    ]
    assert responses_of(session, world, "bruno")[0].declared_partner_count == 12


def test_blank_count_of_a_submitted_response_is_filled_on_a_later_save(session, world):
    r = respondent(session, world.tokens["bruno"])
    assert save(session, r, _two_partners(world, 5), submit=True).ok
    assert save(session, r, _two_partners(world, None)).ok  # still submitted: complete
    response = responses_of(session, world, "bruno")[0]
    assert response.status == "submitted" and response.declared_partner_count == 2


# --- « Tout est comme l'an dernier » ---------------------------------------------------


def test_confirm_all_confirms_pending_and_keeps_choices_made():
    answers = Answers(
        links=[
            LinkAnswer(partner_organisation_id=1, status="pending", nature="formal"),
            LinkAnswer(partner_organisation_id=2, status="ended"),
            LinkAnswer(partner_organisation_id=3, status="confirmed", nature="both"),
            LinkAnswer(partner_organisation_id=4, status="new", nature="informal"),
            LinkAnswer(partner_organisation_id=5, status="pending"),
        ]
    )
    confirmed = confirm_all(answers)
    assert [a.status for a in confirmed.links] == [
        "confirmed",
        "ended",
        "confirmed",
        "new",
        "confirmed",
    ]
    # Nothing else changes, and the answers given are not touched.
    assert [a.nature for a in confirmed.links] == ["formal", None, "both", "informal", None]
    assert [a.status for a in answers.links][0] == "pending"


@pytest.mark.parametrize(
    "links_",
    [[], [LinkAnswer(partner_organisation_id=1, status="new")]],
    ids=["no-partner", "only-new-partners"],
)
def test_confirm_all_with_nothing_carried_raises(links_):
    with pytest.raises(NothingCarried) as exc:
        confirm_all(Answers(links=links_))
    assert "aucun partenaire de l'an dernier" in exc.value.message


def test_confirm_all_stored_saves_a_draft_of_the_carried_answers(session, world):
    r = respondent(session, world.tokens["alice"])
    result = confirm_all_stored(session, r)
    assert result.ok
    response = responses_of(session, world, "alice")[0]
    assert response.status == "draft"
    assert {lk.status for lk in stored_links(session, response)} == {"confirmed"}
    with pytest.raises(NothingCarried):
        confirm_all_stored(session, respondent(session, world.tokens["bruno"]))
    assert responses_of(session, world, "bruno") == []


def test_confirm_all_button_confirms_every_pending_row(client, session, world):
    token = world.tokens["alice"]
    html = page(client, token)
    assert "0 partenaire sur 2 vérifié" in html
    r = post(client, token, read_form(html).fields, "confirm_all")
    assert r.status_code == 303, r.text
    path, _, anchor = r.headers["location"].partition("#")
    assert path == f"/q/{token}?confirme=1"
    assert anchor in ("", "envoyer")

    response = responses_of(session, world, "alice")[0]
    assert response.status == "draft"
    assert [lk.status for lk in stored_links(session, response)] == ["confirmed", "confirmed"]

    html = page(client, token, confirme="1")
    start = html.index('class="notice success"')
    notice = html[start : html.index("</div>", start)]
    assert "2 partenaires sur 2 vérifiés" in notice
    assert "Envoyer mes réponses" in notice
    fields = read_form(html).fields
    for name in (CAF, SIAO):
        assert "partner review-row confirmed" in row_tag(html, name)
        assert value(fields, slot_of_partner(html, name) + "status") == ["confirmed"]
    # What is confirmed is last year's answer, as it was.
    caf = slot_of_partner(html, CAF)
    assert value(fields, caf + "nature") == ["formal"]
    assert value(fields, caf + "frequency") == ["monthly"]


def test_confirm_all_button_keeps_a_partner_marked_ended(client, session, world):
    token = world.tokens["alice"]
    html = page(client, token)
    fields = setf(read_form(html).fields, slot_of_partner(html, SIAO) + "status", "ended")
    fields = setf(fields, "comment", "Gardé aussi")
    assert post(client, token, fields, "confirm_all").status_code == 303
    response = responses_of(session, world, "alice")[0]
    assert response.comment == "Gardé aussi"
    by_org = {lk.partner_organisation_id: lk.status for lk in stored_links(session, response)}
    assert by_org == {world.orgs["caf"].id: "confirmed", world.orgs["siao"].id: "ended"}
    assert "2 partenaires sur 2 vérifiés" in page(client, token, confirme="1")


def test_confirm_all_for_a_first_time_respondent_is_refused_and_writes_nothing(
    client, session, world
):
    token = world.tokens["bruno"]
    fields = setf(read_form(page(client, token)).fields, "comment", "Tapé avant")
    r = post(client, token, fields, "confirm_all")
    assert r.status_code == 422
    text = unescape(r.text)
    assert NothingCarried.message in text
    assert 'href="#f-links"' in r.text
    assert value(read_form(r.text).fields, "comment") == ["Tapé avant"]
    assert count_responses(session) == 1  # Alice's 2025 answer only


def test_confirm_all_on_a_closed_campaign_is_409_in_french(client, session, world):
    token = world.tokens["alice"]
    fields = read_form(page(client, token)).fields
    world.this_year.status = "closed"
    session.add(world.this_year)
    session.commit()
    r = post(client, token, fields, "confirm_all")
    assert r.status_code == 409
    text = unescape(r.text)
    assert "L'enquête 2026 est close" in text and "Rien n'a été enregistré" in text
    assert "<form" not in r.text
    assert responses_of(session, world, "alice") == []


# --- « À modifier » --------------------------------------------------------------------


def test_edit_button_saves_and_opens_that_partner(client, session, world):
    token = world.tokens["alice"]
    html = page(client, token)
    siao = slot_of_partner(html, SIAO)
    assert f'value="edit:{siao[1:-1]}"' in html
    r = post(client, token, read_form(html).fields, f"edit:{siao[1:-1]}")
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    partner = f"{world.orgs['siao'].id}:{world.services['siao115'].id}"
    assert location.startswith(f"/q/{token}?enregistre=1&modifier={partner}")
    assert location.endswith(f"#partenaire-{partner.replace(':', '-')}")
    # Asking for its questions counts as still working with it.
    response = responses_of(session, world, "alice")[0]
    assert response.status == "draft"
    by_org = {lk.partner_organisation_id: lk.status for lk in stored_links(session, response)}
    assert by_org == {world.orgs["caf"].id: "pending", world.orgs["siao"].id: "confirmed"}

    html = client.get(location.split("#")[0]).text
    tag = row_tag(html, SIAO)
    assert "partner card edit confirmed" in tag
    siao = slot_of_partner(html, SIAO)
    card = html[html.index(tag) : html.index("</li>", html.index(tag))]
    assert f'id="{siao}nature-2" value="informal" checked' in card
    assert f'id="{siao}status-2" value="edit" checked' in card
    assert f'name="{siao}practices" id="{siao}practices" value="referral" checked' in card
    # The other partner is still one line to check.
    assert "partner review-row pending" in row_tag(html, CAF)


def test_a_changed_partner_comes_back_open_and_tagged(client, session, world):
    token = world.tokens["alice"]
    html = page(client, token)
    fields = setf(read_form(html).fields, slot_of_partner(html, CAF) + "status", "confirmed")
    fields = setf(fields, slot_of_partner(html, CAF) + "frequency", "weekly")
    assert post(client, token, fields).status_code == 303
    html = page(client, token)
    assert "partner card edit confirmed" in row_tag(html, CAF)
    assert '<span class="tag">Modifié</span>' in html


# --- the fragment route ----------------------------------------------------------------


def _row_fields(fields, slot: str, status: str = "edit") -> list[tuple[str, str]]:
    """What the page's script posts for one line: its own inputs, its choice checked."""
    return [(k, v) for k, v in fields if k.startswith(slot) and k != slot + "status"] + [
        (slot + "status", status)
    ]


def test_fragment_returns_the_partner_questions_and_writes_nothing(client, session, world):
    token = world.tokens["alice"]
    html = page(client, token)
    siao = slot_of_partner(html, SIAO)
    r = post(client, token, _row_fields(read_form(html).fields, siao), "", "/partenaire")
    assert r.status_code == 200, r.text
    fragment = r.text
    assert "<html" not in fragment and "<form" not in fragment
    assert fragment.lstrip().startswith('<fieldset class="partner card edit confirmed')
    assert f'data-slot="{siao[1:-1]}"' in fragment
    assert f'<span class="partner-name">{SIAO}</span>' in fragment
    # Last year's answers are checked, the line's hidden fields travel on.
    assert f'id="{siao}nature-2" value="informal" checked' in fragment
    assert f'id="{siao}frequency" value="weekly" checked' in fragment
    assert f'id="{siao}channels" value="phone" checked' in fragment
    assert f'id="{siao}status-2" value="edit" checked' in fragment
    assert f'name="{siao}origin" value="carried"' in fragment
    assert f'name="{siao}carried_from_id" value="' in fragment
    partner = f"{world.orgs['siao'].id}:{world.services['siao115'].id}"
    assert f'name="{siao}partner" value="{partner}"' in fragment
    assert count_responses(session) == 1  # nothing saved


def test_fragment_refuses_unknown_links_closed_campaigns_and_several_rows(client, session, world):
    token = world.tokens["alice"]
    html = page(client, token)
    fields = read_form(html).fields
    one = _row_fields(fields, slot_of_partner(html, SIAO))
    assert post(client, "x" * 32, one, "", "/partenaire").status_code == 404
    both = one + _row_fields(fields, slot_of_partner(html, CAF))
    assert post(client, token, both, "", "/partenaire").status_code == 400
    world.this_year.status = "closed"
    session.add(world.this_year)
    session.commit()
    r = post(client, token, one, "", "/partenaire")
    assert r.status_code == 409
    assert "La campagne 2026 est close" in unescape(r.text)
    assert count_responses(session) == 1


# --- a partner added by its name -------------------------------------------------------


def test_partner_typed_as_the_directory_names_it_is_stored(client, session, world):
    token = world.tokens["bruno"]
    fields = read_form(page(client, token)).fields
    fields = setf(fields, "l0-partner_search", "CAF de la Creuse (Guéret)")
    fields = setf(fields, "l1-partner_search", "SIAO de la Creuse — Centre de jour")
    # Case, accents and dashes do not matter; a structure's bare name works too.
    fields = setf(fields, "l2-partner_search", "msa du limousin")
    r = post(client, token, fields)
    assert r.status_code == 303, r.text
    response = responses_of(session, world, "bruno")[0]
    assert [
        (lk.partner_organisation_id, lk.partner_service_id, lk.status)
        for lk in stored_links(session, response)
    ] == [
        (world.orgs["caf"].id, None, "new"),
        (world.orgs["siao"].id, world.services["jour"].id, "new"),
        (world.orgs["msa"].id, None, "new"),
    ]
    # Shown again as chosen partners, with their questions.
    html = page(client, token)
    assert "CAF de la Creuse</span>" in html
    assert "SIAO de la Creuse — Centre de jour</span>" in html
    assert "MSA du Limousin</span>" in html


def test_loosely_typed_service_is_matched(client, session, world):
    token = world.tokens["bruno"]
    fields = setf(
        read_form(page(client, token)).fields, "l0-partner_search", "siao de la creuse - 115"
    )
    assert post(client, token, fields).status_code == 303
    (link,) = stored_links(session, responses_of(session, world, "bruno")[0])
    assert (link.partner_organisation_id, link.partner_service_id) == (
        world.orgs["siao"].id,
        world.services["siao115"].id,
    )


def test_unknown_partner_name_is_refused_and_kept_in_the_field(client, session, world):
    token = world.tokens["bruno"]
    fields = read_form(page(client, token)).fields
    fields = setf(fields, "l0-partner_search", "Association des Amis d'Ailleurs")
    fields = setf(fields, "l0-nature", "formal")
    r = post(client, token, fields, "submit")
    assert r.status_code == 422
    text = unescape(r.text)
    assert "« Association des Amis d'Ailleurs » n'est pas dans le répertoire" in text
    assert 'href="#l0-partner"' in r.text and 'id="l0-partner-error"' in r.text
    reader = read_form(r.text)
    assert value(reader.fields, "l0-partner_search") == ["Association des Amis d'Ailleurs"]
    assert value(reader.fields, "l0-nature") == ["formal"]
    assert 'aria-describedby="l0-partner-hint l0-partner-error"' in r.text
    assert responses_of(session, world, "bruno") == []


def test_archived_or_foreign_structure_cannot_be_typed(client, session, world):
    token = world.tokens["bruno"]
    for typed in ("Ancienne association", "CAF de la Corrèze (Tulle)", "CAF de la Corrèze"):
        fields = setf(read_form(page(client, token)).fields, "l0-partner_search", typed)
        r = post(client, token, fields)
        assert r.status_code == 422, typed
        assert "n'est pas dans le répertoire" in unescape(r.text)
    assert responses_of(session, world, "bruno") == []


# --- the API ---------------------------------------------------------------------------


def api(token: str, suffix: str = "") -> str:
    return f"/api/v1/questionnaire/{token}{suffix}"


def test_api_confirm_all_confirms_carried_partners_as_a_draft(client, session, world):
    token = world.tokens["alice"]
    r = client.post(api(token, "/confirm-all"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "draft" and body["source"] == "draft"
    assert [lk["status"] for lk in body["links"]] == ["confirmed", "confirmed"]
    assert [lk["partner_name"] for lk in body["links"]] == [
        "CAF de la Creuse",
        "SIAO de la Creuse",
    ]
    assert body["links"][0]["nature"] == "formal"  # last year's answer, untouched
    assert body["declared_partner_count"] is None
    response = responses_of(session, world, "alice")[0]
    assert response.status == "draft"
    assert {lk.status for lk in stored_links(session, response)} == {"confirmed"}
    # Then sending needs nothing more.
    done = client.post(api(token, "/submit"))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "submitted" and done.json()["declared_partner_count"] == 2


def test_api_confirm_all_keeps_a_stored_choice(client, session, world):
    token = world.tokens["alice"]
    body = client.get(api(token)).json()
    body["links"][1]["status"] = "ended"
    assert client.put(api(token), json=body).status_code == 200
    r = client.post(api(token, "/confirm-all"))
    assert r.status_code == 200
    assert [lk["status"] for lk in r.json()["links"]] == ["confirmed", "ended"]


def test_api_confirm_all_with_nothing_carried_is_422_and_writes_nothing(client, session, world):
    r = client.post(api(world.tokens["bruno"], "/confirm-all"))
    assert r.status_code == 422
    assert r.json()["detail"] == NothingCarried.message
    assert r.json()["errors"] == [{"field": "links", "message": NothingCarried.message}]
    assert responses_of(session, world, "bruno") == []


def test_api_confirm_all_on_closed_campaign_is_409(client, session, world):
    r = client.post(api(world.tokens["alice_2025"], "/confirm-all"))
    assert r.status_code == 409
    assert "close" in r.json()["detail"]
    world.this_year.status = "closed"
    session.add(world.this_year)
    session.commit()
    r = client.post(api(world.tokens["alice"], "/confirm-all"))
    assert r.status_code == 409
    assert responses_of(session, world, "alice") == []
    assert client.post(api("x" * 32, "/confirm-all")).status_code == 404


def test_api_confirm_all_is_documented(client, world):
    paths = client.get("/openapi.json").json()["paths"]
    operation = paths["/api/v1/questionnaire/{token}/confirm-all"]["post"]
    assert "l'an dernier" in operation["description"] or "l'an dernier" in operation.get(
        "summary", ""
    )
    assert {"200", "409", "422"} <= set(operation["responses"])


# --- a stale tab -----------------------------------------------------------------------


def test_two_tabs_the_later_submission_replaces_the_earlier_whole(client, session, world):
    token = world.tokens["bruno"]  # first time: no response yet
    tab1 = read_form(page(client, token)).fields
    tab2 = read_form(page(client, token)).fields
    assert responses_of(session, world, "bruno") == []

    version_a = setf(tab1, "l0-partner_search", "CAF de la Creuse (Guéret)")
    version_a = setf(version_a, "l0-nature", "formal")
    version_a = setf(version_a, "l0-practices", "rights_access")
    version_a = setf(version_a, "l1-partner_search", "MSA du Limousin (Guéret)")
    version_a = setf(version_a, "l1-nature", "both")
    version_a = setf(version_a, "l1-practices", "referral", "joint_support")
    version_a = setf(version_a, "comment", "Version A")
    assert post(client, token, version_a, "submit").status_code == 303

    version_b = setf(tab2, "l0-partner_search", "SIAO de la Creuse — 115")
    version_b = setf(version_b, "l0-nature", "informal")
    version_b = setf(version_b, "l0-practices", "shared_assessment")
    version_b = setf(version_b, "l0-frequency", "weekly")
    assert post(client, token, version_b, "submit").status_code == 303

    (response,) = responses_of(session, world, "bruno")
    assert response.status == "submitted" and response.submitted_at is not None
    assert response.comment == "" and response.declared_partner_count == 1
    (link,) = stored_links(session, response)
    assert (link.partner_organisation_id, link.partner_service_id) == (
        world.orgs["siao"].id,
        world.services["siao115"].id,
    )
    assert (link.status, link.nature, link.frequency) == ("new", "informal", "weekly")
    tags = session.exec(select(LinkTag.kind, LinkTag.code).where(LinkTag.link_id == link.id))
    assert tags.all() == [("practice", "shared_assessment")]
    html = page(client, token)
    assert "CAF de la Creuse</span>" not in html and "MSA du Limousin</span>" not in html
    assert "SIAO de la Creuse — 115</span>" in html

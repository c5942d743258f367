"""Bulk actions: « A quitté son poste » on the professionals list and « Renouveler le lien »
on the campaign follow-up. Each goes through one confirmation page listing the checked people,
then applies all in one transaction with one audit row per person; nothing checked, an id of
another territory or someone already gone is refused in French, nothing half-written."""

from __future__ import annotations

import html

import pytest
from sqlmodel import select

from survey import campaigns, links
from survey import professionals as p
from survey.accounts import AuditEvent
from survey.directory import Refused
from survey.models import Professional
from tests.accounts_helpers import csrf_token, login, make_user
from tests.conftest import TEST_SECRET
from tests.factories import build_world
from tests.test_isolation import creuse_rows, snapshot


def T(response) -> str:
    return html.unescape(response.text)


@pytest.fixture
def world(session):
    w = build_world(session)
    # A third person in Creuse, so that « several » means more than one everywhere.
    eva = Professional(territory_id=w.territory.id, full_name="Eva Durand", email="eva@example.org",
                       function="CESF", organisation_id=w.orgs["siao"].id)  # fmt: skip
    session.add(eva)
    session.commit()
    w.pros["eva"] = eva
    w.tokens["eva"] = links.issue(session, TEST_SECRET, w.this_year, eva)
    session.commit()
    return w


@pytest.fixture
def coordinator(client, session, world):
    make_user(session, "coord@example.org", territory=world.territory)
    login(client, "coord@example.org")
    return client


def post(client, path: str, ids: list[str]):
    """A form post with the checked ids (`p`, repeated) and the CSRF token."""
    token = csrf_token(client, "/t/23/professionnels")
    data: dict = {"csrf_token": token}
    if ids:
        data["p"] = ids
    return client.post(path, data=data, follow_redirects=False)


def audits(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


def unchanged(session, world):
    owned = [creuse_rows(session, t.id) for t in (world.territory, world.other_territory)]
    return lambda: [snapshot(session, rows) for rows in owned]


# --- the domain -------------------------------------------------------------------------------


def test_deactivate_many_is_all_or_nothing(session, world):
    alice, bruno = world.pros["alice"], world.pros["bruno"]
    bruno.active = False
    session.commit()
    with pytest.raises(Refused) as exc:
        p.deactivate_many(session, [alice, bruno])
    assert exc.value.message == (
        "Cette personne est déjà indiquée comme partie : Bruno Petit. Rien n'a été enregistré."
    )
    assert alice.active  # checked before anything changed
    with pytest.raises(Refused):
        p.deactivate_many(session, [])
    assert (
        p.professionals_by_ids(session, world.territory.id, [alice.id, world.pros["chloe"].id])
        is None
    )


def test_renew_links_checks_everyone_first(session, world):
    alice, chloe = world.pros["alice"], world.pros["chloe"]
    with pytest.raises(campaigns.NotFound):
        campaigns.renew_links(session, world.this_year, [alice, chloe], TEST_SECRET)
    assert links.find(session, world.tokens["alice"]) is not None
    with pytest.raises(campaigns.CampaignRefused):
        campaigns.renew_links(session, world.last_year, [alice], TEST_SECRET)


# --- « A quitté son poste » -----------------------------------------------------------------


def test_list_has_one_bulk_button_and_a_checkbox_per_person(coordinator, world):
    page = T(coordinator.get("/t/23/professionnels"))
    assert page.count('form="departs"') == 3 + 1  # three checkboxes, the button below
    assert f'name="p" value="{world.pros["alice"].id}"' in page
    assert '<label for="choix-' in page and "Choisir Alice Martin" in page
    assert '/depart"' not in page  # no per-row button any more


def test_leave_confirm_lists_the_checked_people_then_applies(coordinator, session, world):
    alice, eva, bruno = world.pros["alice"], world.pros["eva"], world.pros["bruno"]
    confirm = coordinator.get(
        "/t/23/professionnels/departs", params=[("p", alice.id), ("p", eva.id)]
    )
    assert confirm.status_code == 200
    page = T(confirm)
    assert "Enregistrer le départ de 2 personnes" in page
    assert "Alice Martin" in page and "Eva Durand" in page and "Bruno Petit" not in page
    assert page.count('type="hidden" name="p"') == 2
    session.expire_all()
    assert session.get(Professional, alice.id).active  # a GET changes nothing

    r = post(coordinator, "/t/23/professionnels/departs", [str(alice.id), str(eva.id)])
    assert r.status_code == 303 and r.headers["location"].endswith("?fait=partis")
    session.expire_all()
    assert not session.get(Professional, alice.id).active
    assert not session.get(Professional, eva.id).active
    assert session.get(Professional, bruno.id).active
    # Their links of the open campaign stop working, as for one person.
    assert links.find(session, world.tokens["alice"]) is None
    assert links.find(session, world.tokens["eva"]) is None
    rows = audits(session, "professional.deactivate")
    assert sorted(e.target for e in rows) == sorted(
        [f"professionnel {alice.id}", f"professionnel {eva.id}"]
    )
    assert all(
        e.territory_id == world.territory.id and e.user_email == "coord@example.org" for e in rows
    )
    assert "Les départs sont enregistrés" in T(coordinator.get(r.headers["location"]))


def test_leave_refusals_write_nothing(coordinator, session, world):
    alice, bruno, chloe = world.pros["alice"], world.pros["bruno"], world.pros["chloe"]
    now = unchanged(session, world)
    before = now()
    # Nothing checked.
    r = coordinator.get("/t/23/professionnels/departs")
    assert r.status_code == 400 and "Cochez au moins une personne" in T(r)
    r = post(coordinator, "/t/23/professionnels/departs", [])
    assert r.status_code == 400 and "Cochez au moins une personne" in T(r)
    # Not a number.
    r = post(coordinator, "/t/23/professionnels/departs", ["²"])
    assert r.status_code == 400 and "illisible" in T(r)
    # A person of another territory, among people of this one: the lot is refused.
    r = coordinator.get("/t/23/professionnels/departs", params=[("p", alice.id), ("p", chloe.id)])
    assert r.status_code == 404 and "n'existe pas dans ce territoire" in T(r)
    r = post(coordinator, "/t/23/professionnels/departs", [str(alice.id), str(chloe.id)])
    assert r.status_code == 404 and "rien n'a été fait" in T(r)
    assert now() == before
    # Someone already gone: the confirmation page says so and leaves them out...
    bruno.active = False
    session.commit()
    before = now()
    page = coordinator.get(
        "/t/23/professionnels/departs", params=[("p", alice.id), ("p", bruno.id)]
    )
    assert page.status_code == 200
    assert "Cette personne est déjà indiquée comme partie" in T(page) and "Bruno Petit" in T(page)
    assert T(page).count('type="hidden" name="p"') == 1
    # ...and a posted list with them (a stale page) is refused whole.
    r = post(coordinator, "/t/23/professionnels/departs", [str(alice.id), str(bruno.id)])
    assert r.status_code == 409 and "Rien n'a été enregistré" in T(r)
    assert now() == before
    assert audits(session, "professional.deactivate") == []


def test_leave_needs_csrf(coordinator, session, world):
    r = coordinator.post(
        "/t/23/professionnels/departs",
        data={"p": str(world.pros["alice"].id)},
        follow_redirects=False,
    )
    assert r.status_code == 403
    session.expire_all()
    assert session.get(Professional, world.pros["alice"].id).active


# --- « Renouveler le lien » ------------------------------------------------------------------


def test_renew_confirm_lists_the_checked_people_then_shows_new_links(coordinator, session, world):
    bruno, eva = world.pros["bruno"], world.pros["eva"]
    followup = T(coordinator.get("/t/23/campagnes/2026"))
    assert 'action="/t/23/campagnes/2026/liens/renouveler"' in followup
    assert f'name="p" value="{bruno.id}"' in followup and "Choisir Bruno Petit" in followup

    confirm = coordinator.get(
        "/t/23/campagnes/2026/liens/renouveler", params=[("p", bruno.id), ("p", eva.id)]
    )
    page = T(confirm)
    assert confirm.status_code == 200 and "Renouveler le lien de 2 personnes" in page
    assert "Bruno Petit" in page and "Eva Durand" in page and "Alice Martin" not in page
    assert links.find(session, world.tokens["bruno"]) is not None  # a GET changes nothing

    r = post(
        coordinator,
        "/t/23/campagnes/2026/liens/renouveler",
        [str(bruno.id), str(eva.id)],
    )
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    session.expire_all()
    assert links.find(session, world.tokens["bruno"]) is None
    assert links.find(session, world.tokens["eva"]) is None
    assert links.find(session, world.tokens["alice"]) is not None
    shown = T(r).split("http://testserver/q/")[1:]
    new = {links.find(session, s[:32]).professional_id for s in shown}
    assert new == {bruno.id, eva.id}
    rows = audits(session, "link.renew")
    assert sorted(e.detail for e in rows) == sorted(
        f"professionnel #{x.id} (renouvellement groupé)" for x in (bruno, eva)
    )
    assert {e.target for e in rows} == {"campagne 23/2026"}


def test_renew_refusals_write_nothing(coordinator, session, world):
    bruno, chloe = world.pros["bruno"], world.pros["chloe"]
    now = unchanged(session, world)
    before = now()
    url = "/t/23/campagnes/2026/liens/renouveler"
    r = coordinator.get(url)
    assert r.status_code == 400 and "Cochez au moins une personne" in T(r)
    r = post(coordinator, url, [])
    assert r.status_code == 400
    r = post(coordinator, url, [str(bruno.id), str(chloe.id)])
    assert r.status_code == 404 and "n'existe pas dans ce territoire" in T(r)
    # A closed campaign: no link can be renewed.
    r = coordinator.get("/t/23/campagnes/2025/liens/renouveler", params=[("p", bruno.id)])
    assert r.status_code == 409 and "close" in T(r)
    r = post(coordinator, "/t/23/campagnes/2025/liens/renouveler", [str(bruno.id)])
    assert r.status_code == 409 and "close" in T(r)
    assert now() == before
    assert links.find(session, world.tokens["chloe"]) is not None
    assert audits(session, "link.renew") == []


def test_viewer_cannot_reach_bulk_pages(client, session, world):
    make_user(session, "lecteur@example.org", role="viewer", territory=world.territory)
    login(client, "lecteur@example.org")
    bruno = world.pros["bruno"]
    assert client.get("/t/23/professionnels/departs", params={"p": bruno.id}).status_code in (
        403,
        404,
    )
    assert client.get(
        "/t/23/campagnes/2026/liens/renouveler", params={"p": bruno.id}
    ).status_code in (403, 404)
    assert "Bruno Petit" not in T(client.get("/t/23/campagnes/2026"))

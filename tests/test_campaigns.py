"""Campaign lifecycle: rules of the domain, then the pages that drive them."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from survey import campaigns, links
from survey.campaigns import CampaignInvalid, CampaignRefused
from survey.models import Campaign, Invitation, Professional
from tests.conftest import TEST_SECRET
from tests.factories import build_world
from tests.test_isolation import creuse_rows, snapshot


@pytest.fixture
def world(session):
    return build_world(session)


def live_links(session, campaign_id: int) -> dict[int, int]:
    rows = session.exec(
        select(Invitation.professional_id).where(
            Invitation.campaign_id == campaign_id, Invitation.revoked_at.is_(None)
        )
    ).all()
    out: dict[int, int] = {}
    for pid in rows:
        out[pid] = out.get(pid, 0) + 1
    return out


# --- domain ---------------------------------------------------------------------------------


def test_create_validates_year_dates_and_uniqueness(session, world):
    with pytest.raises(CampaignInvalid) as exc:
        campaigns.create_campaign(
            session, world.territory, 2026, date(2027, 3, 1), date(2027, 5, 1)
        )
    assert exc.value.problems == {"year": "La campagne 2026 existe déjà pour ce territoire."}

    with pytest.raises(CampaignInvalid) as exc:
        campaigns.create_campaign(
            session, world.territory, 2027, date(2027, 5, 1), date(2027, 5, 1)
        )
    assert "postérieure" in exc.value.problems["closes_on"]

    with pytest.raises(CampaignInvalid) as exc:
        campaigns.create_campaign(session, world.territory, 1789)
    assert "entre 2000 et 2100" in exc.value.problems["year"]

    # The same year in another territory is fine: years are unique per territory only.
    other = campaigns.create_campaign(session, world.other_territory, 2027)
    created = campaigns.create_campaign(
        session, world.territory, 2027, date(2027, 3, 1), date(2027, 6, 30), "  Bonjour  "
    )
    session.commit()
    assert created.status == "draft" and created.introduction == "Bonjour"
    assert other.territory_id != created.territory_id
    assert campaigns.next_year(session, world.territory.id, today=date(2026, 1, 1)) == 2028


def test_dates_years_away_from_the_campaign_are_refused(coordinator, session, world):
    """A 2031 campaign opening in 2019 was accepted, and its page announced a reminder of
    2019 as the next one. Within a year of the campaign's year is fine."""
    with pytest.raises(CampaignInvalid) as exc:
        campaigns.create_campaign(
            session, world.territory, 2031, date(2019, 1, 1), date(2019, 2, 1)
        )
    assert exc.value.problems == {
        "opens_on": "La date d'ouverture (1er\u00a0janvier 2019) est loin de l'année de la "
        "campagne (2031) : choisissez une date entre 2030 et 2032.",
        "closes_on": "La date de clôture (1er\u00a0février 2019) est loin de l'année de la "
        "campagne (2031) : choisissez une date entre 2030 et 2032.",
    }
    # A 2027 survey may open in December 2026 and close in January 2028.
    created = campaigns.create_campaign(
        session, world.territory, 2027, date(2026, 12, 1), date(2028, 1, 15)
    )
    assert (created.opens_on, created.closes_on) == (date(2026, 12, 1), date(2028, 1, 15))
    # Editing the dates of the 2026 campaign: the same rule, a French message, nothing saved.
    before = campaigns.get_campaign(session, "23", 2026).closes_on
    r = post(
        coordinator,
        "/t/23/campagnes/2026/modifier",
        {"opens_on": "2026-03-01", "closes_on": "2062-11-30", "introduction": "Texte"},
    )
    assert r.status_code == 400
    assert "est loin de l'année de la campagne (2026)" in r.text.replace("&#39;", "'")
    session.expire_all()
    assert campaigns.get_campaign(session, "23", 2026).closes_on == before


def test_only_one_open_campaign_per_territory(session, world):
    new = campaigns.create_campaign(session, world.territory, 2027)
    session.commit()
    with pytest.raises(CampaignRefused) as exc:
        campaigns.open_campaign(session, new, TEST_SECRET)
    assert "2026 est déjà ouverte" in exc.value.message
    session.refresh(new)
    assert new.status == "draft"

    campaigns.close_campaign(session, world.this_year)
    issued = campaigns.open_campaign(session, new, TEST_SECRET)
    session.commit()
    assert new.status == "open"
    # Alice and Bruno (active, Creuse) get a link; Chloé (Corrèze) does not.
    assert issued == 2
    assert set(live_links(session, new.id)) == {world.pros["alice"].id, world.pros["bruno"].id}


def test_database_refuses_a_second_open_campaign_even_behind_the_rules(session, world):
    # A concurrent request that passed the check would still be stopped by the index.
    new = campaigns.create_campaign(session, world.territory, 2027)
    session.commit()
    new.status = "open"
    with pytest.raises(CampaignRefused):
        campaigns._flush_status(session, new)
    assert session.get(Campaign, world.this_year.id).status == "open"


def test_opening_issues_links_only_to_active_professionals_without_one(session, world):
    gone = Professional(
        territory_id=world.territory.id,
        full_name="Denis Parti",
        organisation_id=world.orgs["caf"].id,
        active=False,
    )
    new_pro = Professional(
        territory_id=world.territory.id,
        full_name="Emma Nouvelle",
        email="emma@example.org",
        organisation_id=world.orgs["siao"].id,
    )
    session.add_all([gone, new_pro])
    campaigns.close_campaign(session, world.this_year)
    next_one = campaigns.create_campaign(session, world.territory, 2027)
    session.flush()
    # Alice already has a link for 2027 (e.g. issued by the CLI): it must be kept.
    alice_token = links.issue(session, TEST_SECRET, next_one, world.pros["alice"])
    session.commit()

    issued = campaigns.open_campaign(session, next_one, TEST_SECRET)
    session.commit()
    assert issued == 2  # Bruno and Emma
    counts = live_links(session, next_one.id)
    assert counts == {world.pros["alice"].id: 1, world.pros["bruno"].id: 1, new_pro.id: 1}
    assert gone.id not in counts
    assert links.find(session, alice_token) is not None


def test_close_and_reopen_rules(session, world):
    with pytest.raises(CampaignRefused) as exc:
        campaigns.reopen_campaign(session, world.last_year, TEST_SECRET)
    assert "2026 est ouverte" in exc.value.message

    with pytest.raises(CampaignRefused) as exc:
        campaigns.reopen_campaign(session, world.this_year, TEST_SECRET)
    assert "Seule une campagne close" in exc.value.message

    campaigns.close_campaign(session, world.this_year)
    session.commit()
    with pytest.raises(CampaignRefused) as exc:
        campaigns.close_campaign(session, world.this_year)
    assert "pas ouverte" in exc.value.message
    # 2025 is closed but not the latest closed campaign any more.
    with pytest.raises(CampaignRefused) as exc:
        campaigns.reopen_campaign(session, world.last_year, TEST_SECRET)
    assert "dernière campagne close (2026)" in exc.value.message
    assert campaigns.can_reopen(session, world.this_year)
    assert not campaigns.can_reopen(session, world.last_year)

    campaigns.reopen_campaign(session, world.this_year, TEST_SECRET)
    session.commit()
    assert session.get(Campaign, world.this_year.id).status == "open"


def test_closed_campaign_cannot_be_edited_or_opened_again(session, world):
    campaigns.close_campaign(session, world.this_year)
    session.commit()
    with pytest.raises(CampaignRefused) as exc:
        campaigns.update_campaign(session, world.this_year, None, None, "Nouveau texte")
    assert "close" in exc.value.message
    with pytest.raises(CampaignRefused) as exc:
        campaigns.open_campaign(session, world.this_year, TEST_SECRET)
    assert "Rouvrir" in exc.value.message
    with pytest.raises(CampaignRefused):
        campaigns.renew_link(session, world.this_year, world.pros["alice"], TEST_SECRET)


def test_closed_campaign_is_read_only_through_the_api(client, session, world):
    token = world.tokens["alice"]
    body = client.get(f"/api/v1/questionnaire/{token}").json()
    assert client.put(f"/api/v1/questionnaire/{token}", json=body).status_code == 200
    campaigns.close_campaign(session, world.this_year)
    session.commit()
    refused = client.put(f"/api/v1/questionnaire/{token}", json=body)
    assert refused.status_code == 409
    assert "close" in refused.json()["detail"]
    assert client.post(f"/api/v1/questionnaire/{token}/submit").status_code == 409
    assert client.get(f"/api/v1/questionnaire/{token}").json()["can_write"] is False


def test_renew_link_revokes_the_old_one(session, world):
    old = world.tokens["bruno"]
    new = campaigns.renew_link(session, world.this_year, world.pros["bruno"], TEST_SECRET)
    session.commit()
    assert new != old
    assert links.find(session, old) is None
    assert links.find(session, new).professional_id == world.pros["bruno"].id
    with pytest.raises(campaigns.NotFound):
        campaigns.renew_link(session, world.this_year, world.pros["chloe"], TEST_SECRET)


# --- pages ----------------------------------------------------------------------------------


@pytest.fixture
def coordinator(client, session, world):
    from tests.accounts_helpers import login, make_user

    make_user(session, "coord@example.org", territory=world.territory)
    login(client, "coord@example.org")
    return client


def post(client, path: str, data: dict | None = None, follow: bool = False):
    from tests.accounts_helpers import csrf_token

    token = csrf_token(client, "/t/23/campagnes")
    return client.post(path, data={**(data or {}), "csrf_token": token}, follow_redirects=follow)


def test_prepare_open_and_close_through_the_pages(coordinator, session, world):
    page = coordinator.get("/t/23/campagnes")
    assert page.status_code == 200
    assert "Campagne 2026" in page.text and "Campagne 2025" in page.text
    assert 'value="2027"' in page.text  # the year proposed next

    bad = post(
        coordinator,
        "/t/23/campagnes",
        {
            "year": "2027",
            "opens_on": "2027-05-01",
            "closes_on": "2027-04-01",
            "introduction": "Mon texte",
        },
    )
    assert bad.status_code == 400
    assert "postérieure" in bad.text and "Mon texte" in bad.text  # typed text kept
    assert 'href="#closes_on"' in bad.text

    done = post(
        coordinator,
        "/t/23/campagnes",
        {
            "year": "2027",
            "opens_on": "01/03/2027",
            "closes_on": "2027-06-30",
            "introduction": "Bienvenue",
        },
    )
    assert done.status_code == 303 and done.headers["location"] == "/t/23/campagnes/2027?fait=creee"
    c = campaigns.get_campaign(session, "23", 2027)
    assert (c.status, c.opens_on, c.introduction) == ("draft", date(2027, 3, 1), "Bienvenue")

    page = coordinator.get("/t/23/campagnes/2027")
    assert "La campagne 2026 est ouverte : closez-la d'abord" in page.text
    refused = post(coordinator, "/t/23/campagnes/2027/ouvrir")
    assert refused.status_code == 409
    assert "une seule campagne" in refused.text
    session.expire_all()
    assert campaigns.get_campaign(session, "23", 2027).status == "draft"

    confirm = coordinator.get("/t/23/campagnes/2026/clore")
    assert "ne pourront plus être modifiées" in confirm.text and "csrf_token" in confirm.text
    assert post(coordinator, "/t/23/campagnes/2026/clore").status_code == 303
    confirm = coordinator.get("/t/23/campagnes/2027/ouvrir")
    assert "Un lien personnel sera créé pour 2 professionnels" in confirm.text
    opened = post(coordinator, "/t/23/campagnes/2027/ouvrir", follow=True)
    assert opened.status_code == 200
    assert "2 lien(s) personnel(s) créé(s)" in opened.text
    session.expire_all()
    assert campaigns.get_campaign(session, "23", 2027).status == "open"
    assert len(live_links(session, campaigns.get_campaign(session, "23", 2027).id)) == 2

    # 2026 is closed and 2027 open: 2026 cannot be reopened.
    page = coordinator.get("/t/23/campagnes/2026")
    assert "ne peut pas être rouverte" in page.text
    assert post(coordinator, "/t/23/campagnes/2026/rouvrir").status_code == 409

    from survey.accounts import AuditEvent

    actions = session.exec(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert [a for a in actions if a.startswith("campaign.")] == [
        "campaign.create",
        "campaign.close",
        "campaign.open",
    ]


def test_edit_dates_and_closed_campaign_read_only_page(coordinator, session, world):
    r = post(
        coordinator,
        "/t/23/campagnes/2026/modifier",
        {"opens_on": "2026-03-01", "closes_on": "pas une date", "introduction": "Texte"},
    )
    assert (
        r.status_code == 400 and "Indiquez une date valide" in r.text and "pas une date" in r.text
    )
    r = post(
        coordinator,
        "/t/23/campagnes/2026/modifier",
        {"opens_on": "2026-03-01", "closes_on": "2026-11-30", "introduction": "Texte"},
    )
    assert r.status_code == 303
    session.expire_all()
    assert campaigns.get_campaign(session, "23", 2026).closes_on == date(2026, 11, 30)
    page = coordinator.get("/t/23/campagnes/2025")
    assert "lecture seule" in page.text and "/modifier" not in page.text
    r = post(coordinator, "/t/23/campagnes/2025/modifier", {"introduction": "x"})
    assert r.status_code == 409 and "close" in r.text


def test_renew_link_page(coordinator, session, world):
    bruno = world.pros["bruno"]
    confirm = coordinator.get(f"/t/23/campagnes/2026/professionnels/{bruno.id}/nouveau-lien")
    assert "cessera immédiatement de fonctionner" in confirm.text
    r = post(coordinator, f"/t/23/campagnes/2026/professionnels/{bruno.id}/nouveau-lien")
    assert r.status_code == 200
    session.expire_all()
    assert links.find(session, world.tokens["bruno"]) is None
    new_token = r.text.split("http://testserver/q/")[1][:32]
    assert links.find(session, new_token).professional_id == bruno.id
    # A professional of another territory is not reachable from Creuse: 404, and nothing
    # changes on either side (her link still works, no new one is issued).
    chloe = world.pros["chloe"]
    owned = [creuse_rows(session, t.id) for t in (world.territory, world.other_territory)]
    before = [snapshot(session, rows) for rows in owned]
    r = post(coordinator, f"/t/23/campagnes/2026/professionnels/{chloe.id}/nouveau-lien")
    assert r.status_code == 404
    assert [snapshot(session, rows) for rows in owned] == before
    assert links.find(session, world.tokens["chloe"]).professional_id == chloe.id


def test_viewer_reads_figures_without_names_and_cannot_post(client, session, world):
    from tests.accounts_helpers import csrf_token, login, make_user

    make_user(session, "lecteur@example.org", role="viewer", territory=world.territory)
    login(client, "lecteur@example.org")
    page = client.get("/t/23/campagnes/2026")
    assert page.status_code == 200
    assert "Taux de réponse" in page.text and "CAF de la Creuse" in page.text
    for private in ("Alice Martin", "alice@example.org", "Renouveler", "liens.csv", 'action="/t/'):
        assert private not in page.text
    token = csrf_token(client, "/compte/mot-de-passe")
    for path, data in [
        ("/t/23/campagnes", {"year": "2027"}),
        ("/t/23/campagnes/2026/clore", {}),
        ("/t/23/campagnes/2026/modifier", {"introduction": "x"}),
        (f"/t/23/campagnes/2026/professionnels/{world.pros['bruno'].id}/nouveau-lien", {}),
        ("/t/23/campagnes/messages/invitation", {"subject": "x", "body": "{lien}"}),
        ("/t/23/campagnes/2026/envoyer/invitation", {}),
    ]:
        r = client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)
        assert r.status_code == 403, path
        assert "lecture seule" in r.text
    assert client.get("/t/23/campagnes/2026/liens.csv").status_code == 403
    session.expire_all()
    assert campaigns.get_campaign(session, "23", 2026).status == "open"
    assert links.find(session, world.tokens["bruno"]) is not None


def test_other_territory_gets_404_and_post_needs_csrf(client, session, world):
    from tests.accounts_helpers import login, make_user

    make_user(session, "correze@example.org", territory=world.other_territory)
    login(client, "correze@example.org")
    assert client.get("/t/23/campagnes").status_code == 404
    assert client.get("/t/23/campagnes/2026").status_code == 404
    assert client.get("/t/23/campagnes/2026/liens.csv").status_code == 404
    assert client.get("/t/19/campagnes/2026").status_code == 200
    r = client.post("/t/19/campagnes/2026/clore", data={})
    assert r.status_code == 403
    session.expire_all()
    assert campaigns.get_campaign(session, "19", 2026).status == "open"


def test_bad_paths_are_4xx_not_500(coordinator):
    assert coordinator.get("/t/23/campagnes/2031").status_code == 404
    assert coordinator.get("/t/23/campagnes/abc").status_code in (400, 404)
    assert coordinator.get("/t/23/campagnes/2026/n-importe-quoi").status_code == 404
    assert post(coordinator, "/t/23/campagnes", {"year": "vingt"}).status_code == 400

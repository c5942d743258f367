"""« À faire maintenant »: the pure rule for each state of a campaign, then the campaign page
and the dashboard, where the block comes first after the title, with the right count."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest

from survey import campaigns, next_steps
from survey.next_steps import CampaignState, NextStep
from tests.factories import build_world

TODAY = date(2026, 6, 1)


def codes(state: CampaignState) -> list[tuple[str, int, str]]:
    return [(s.code, s.count, s.url) for s in next_steps.steps(state)]


# --- the rule -------------------------------------------------------------------------------


def test_draft_opens_with_the_links_it_will_create():
    state = CampaignState(year=2027, status="draft", today=TODAY, links_to_create=79)
    [step] = next_steps.steps(state)
    assert (step.code, step.count, step.url) == ("open", 79, "campagnes/2027/ouvrir")
    assert step.label == (
        "Ouvrir la campagne 2027 et créer les liens personnels de 79\N{NO-BREAK SPACE}personnes"
    )


def test_draft_while_another_is_open_says_close_that_one_first():
    state = CampaignState(year=2027, status="draft", today=TODAY, other_open_year=2026)
    assert codes(state) == [("close_other", 0, "campagnes/2026/clore")]
    # Not « la campagne 2026 »: the page already has a link named so (to that campaign).
    assert "campagne 2026" not in next_steps.steps(state)[0].label


def test_open_without_email_nobody_started_exports_every_link():
    state = CampaignState(year=2026, status="open", today=TODAY, invited=79, not_answered=79)
    [step] = next_steps.steps(state)
    assert (step.code, step.count) == ("export_links", 79)
    assert step.url == "campagnes/2026/liens.csv?format=excel"


def test_open_without_email_exports_the_links_of_those_who_have_not_answered():
    state = CampaignState(
        year=2026, status="open", today=TODAY, invited=79, started=45, not_answered=41
    )
    [step] = next_steps.steps(state)
    assert (step.code, step.count) == ("export_pending", 41)
    assert step.label.startswith("Relancer les 41\N{NO-BREAK SPACE}personnes qui n'ont pas répondu")
    assert step.url == "campagnes/2026/liens.csv?format=excel&attente=1"


def test_open_with_email_invitation_first_then_reminders():
    invite = CampaignState(
        year=2026, status="open", today=TODAY, emails=True, invited=79, not_answered=79,
        invitation_due=79, reminder1_due=79,
    )  # fmt: skip
    assert codes(invite) == [("invite", 79, "campagnes/2026/envoyer/invitation")]
    remind = CampaignState(
        year=2026, status="open", today=TODAY, emails=True, invited=79, started=40,
        not_answered=41, reminder1_due=41,
    )  # fmt: skip
    [step] = next_steps.steps(remind)
    assert (step.code, step.count, step.url) == ("remind", 41, "campagnes/2026/envoyer/reminder1")
    assert step.label == "Relancer les 41\N{NO-BREAK SPACE}personnes qui n'ont pas répondu"
    second = CampaignState(
        year=2026, status="open", today=TODAY, emails=True, invited=79, started=50,
        not_answered=30, reminder2_due=30,
    )  # fmt: skip
    assert codes(second) == [("remind", 30, "campagnes/2026/envoyer/reminder2")]
    # Both reminders sent and people still missing: their links, to pass on another way.
    spent = CampaignState(
        year=2026, status="open", today=TODAY, emails=True, invited=79, started=60,
        not_answered=20,
    )  # fmt: skip
    assert codes(spent)[0][:2] == ("export_pending", 20)


def test_closing_date_passed_comes_first():
    state = CampaignState(
        year=2026, status="open", today=date(2026, 12, 16), closes_on=date(2026, 12, 15),
        invited=79, started=50, not_answered=41,
    )  # fmt: skip
    steps = next_steps.steps(state)
    assert [s.code for s in steps] == ["close", "export_pending"]
    assert "15\N{NO-BREAK SPACE}décembre 2026" in steps[0].label and "passée" in steps[0].label
    # The day itself is not passed yet.
    same_day = CampaignState(
        year=2026, status="open", today=date(2026, 12, 15), closes_on=date(2026, 12, 15),
        invited=79, started=50, not_answered=41,
    )  # fmt: skip
    assert [s.code for s in next_steps.steps(same_day)] == ["export_pending"]


def test_everyone_answered_suggests_closing():
    state = CampaignState(year=2026, status="open", today=TODAY, invited=79, started=79)
    [step] = next_steps.steps(state)
    assert step.code == "close" and step.label.startswith("Tout le monde a répondu")


def test_closed_report_then_the_next_campaign():
    alone = CampaignState(year=2025, status="closed", today=TODAY)
    assert codes(alone) == [
        ("report", 0, "rapport/2025.pdf"),
        ("prepare_next", 0, "campagnes#preparer"),
    ]
    prepared = CampaignState(
        year=2025, status="closed", today=TODAY, later_year=2026, later_status="draft"
    )
    assert [s.code for s in next_steps.steps(prepared)] == ["report", "open_next"]
    running = CampaignState(
        year=2025, status="closed", today=TODAY, later_year=2026, later_status="open",
        other_open_year=2026,
    )  # fmt: skip
    assert [s.code for s in next_steps.steps(running)] == ["report", "follow_next"]


def test_never_more_than_three_and_the_current_campaign():
    state = CampaignState(
        year=2026, status="open", today=date(2027, 1, 5), closes_on=date(2026, 12, 15),
        emails=True, invited=79, not_answered=79, invitation_due=10,
    )  # fmt: skip
    assert 1 <= len(next_steps.steps(state)) <= next_steps.MAX_STEPS
    assert all(isinstance(s, NextStep) for s in next_steps.steps(state))

    class C:
        def __init__(self, year, status):
            self.year, self.status = year, status

    older, open_, draft = C(2025, "closed"), C(2026, "open"), C(2027, "draft")
    assert next_steps.current_campaign([draft, open_, older]) is open_
    assert next_steps.current_campaign([older, draft]) is draft
    assert next_steps.current_campaign([]) is None


# --- the pages ------------------------------------------------------------------------------


@pytest.fixture
def world(session):
    return build_world(session)


@pytest.fixture
def coordinator(client, session, world):
    from tests.accounts_helpers import login, make_user

    make_user(session, "coord@example.org", territory=world.territory)
    login(client, "coord@example.org")
    return client


def first_after_title(page: str) -> str:
    """The first element of <main> after its <h1>, notices and error summaries aside."""
    main = page.split('<main id="contenu"', 1)[1]
    after = main.split("</h1>", 1)[1]
    after = re.sub(r'<p class="notice[^"]*"[^>]*>.*?</p>', "", after, flags=re.S)
    return after.lstrip()


def test_campaign_page_opens_with_the_reminder(coordinator, session, world):
    # Alice and Bruno are invited; nobody has answered; no e-mail on the test server.
    page = coordinator.get("/t/23/campagnes/2026")
    head = html.unescape(first_after_title(page.text))
    assert head.startswith('<section class="next-steps"'), head[:200]
    assert "À faire maintenant" in head.split("</section>")[0]
    assert 'data-step="export_links" data-count="2"' in head
    assert "Exporter les liens des 2\N{NO-BREAK SPACE}personnes invitées" in head

    # Alice submits: the step becomes the reminder of the one left.
    url = f"/api/v1/questionnaire/{world.tokens['alice']}"
    body = coordinator.get(url).json()
    body["years_in_post"] = "3to10"
    body["links"][0]["status"] = "confirmed"
    body["links"][1]["status"] = "ended"
    assert coordinator.put(url, json=body).status_code == 200
    assert coordinator.post(url + "/submit").status_code == 200
    head = html.unescape(first_after_title(coordinator.get("/t/23/campagnes/2026").text))
    section = head.split("</section>")[0]
    assert 'data-step="export_pending" data-count="1"' in section
    assert "Relancer la personne qui n'a pas répondu : exporter son lien" in section
    assert "liens.csv?format=excel&attente=1" in section


def test_pending_export_lists_only_those_who_have_not_sent(coordinator, world):
    url = f"/api/v1/questionnaire/{world.tokens['alice']}"
    body = coordinator.get(url).json()
    body["years_in_post"] = "3to10"
    body["links"][0]["status"] = "confirmed"
    body["links"][1]["status"] = "ended"
    coordinator.put(url, json=body)
    assert coordinator.post(url + "/submit").status_code == 200
    everyone = coordinator.get("/t/23/campagnes/2026/liens.csv").text
    pending = coordinator.get("/t/23/campagnes/2026/liens.csv", params={"attente": "1"})
    assert "Alice Martin" in everyone and "Bruno Petit" in everyone
    assert "Bruno Petit" in pending.text and "Alice Martin" not in pending.text
    assert "sans-reponse" in pending.headers["content-disposition"]


def test_closed_campaign_and_dashboard(coordinator, session, world):
    head = html.unescape(first_after_title(coordinator.get("/t/23/campagnes/2025").text))
    section = head.split("</section>")[0]
    assert head.startswith('<section class="next-steps"')
    assert "/t/23/rapport/2025.pdf" in section and "Télécharger le rapport 2025" in section
    assert 'data-step="follow_next"' in section  # 2026 is open

    dash = html.unescape(first_after_title(coordinator.get("/t/23/").text))
    assert dash.startswith('<section class="next-steps"'), dash[:200]
    section = dash.split("</section>")[0]
    assert "Campagne 2026 (ouverte) : 0\N{NARROW NO-BREAK SPACE}réponse" not in section
    assert "Campagne 2026 (ouverte) : 0 réponse envoyée sur 2 personnes invitées" in section
    assert 'data-step="export_links" data-count="2"' in section
    # The tables come after the block.
    assert dash.index("</section>") < dash.index("<h2>Campagnes</h2>")


def test_viewer_sees_no_block(client, session, world):
    from tests.accounts_helpers import login, make_user

    make_user(session, "lecteur@example.org", role="viewer", territory=world.territory)
    login(client, "lecteur@example.org")
    for path in ("/t/23/", "/t/23/campagnes/2026"):
        page = client.get(path)
        assert page.status_code == 200 and "À faire maintenant" not in html.unescape(page.text)


def test_draft_campaign_page_says_open_it(coordinator, session, world):
    campaigns.close_campaign(session, world.this_year)
    campaigns.create_campaign(session, world.territory, 2027)
    session.commit()
    head = html.unescape(first_after_title(coordinator.get("/t/23/campagnes/2027").text))
    section = head.split("</section>")[0]
    assert 'data-step="open" data-count="2"' in section
    assert 'href="/t/23/campagnes/2027/ouvrir"' in section


def test_dashboard_without_campaign_says_prepare_the_first(client, session):
    from survey.models import Territory
    from tests.accounts_helpers import login, make_user

    territory = Territory(code="87", name="Haute-Vienne")
    session.add(territory)
    session.commit()
    make_user(session, "coord87@example.org", territory=territory)
    login(client, "coord87@example.org")
    head = html.unescape(first_after_title(client.get("/t/87/").text))
    assert head.startswith('<section class="next-steps"'), head[:200]
    assert 'data-step="prepare_next"' in head and 'href="/t/87/campagnes#preparer"' in head


def test_with_email_the_block_sends_the_invitation_then_the_reminder(
    settings, engine, session, world
):
    from fastapi.testclient import TestClient

    from app.main import create_app
    from survey.mailing import EmailLog
    from tests.accounts_helpers import login, make_user

    mail_settings = settings.model_copy(update={"smtp_host": "smtp.invalid"})
    with TestClient(create_app(mail_settings, engine=engine)) as client:
        make_user(session, "coord@example.org", territory=world.territory)
        login(client, "coord@example.org")
        for path in ("/t/23/campagnes/2026", "/t/23/"):
            section = first_after_title(html.unescape(client.get(path).text))
            section = section.split("</section>")[0]
            assert 'data-step="invite" data-count="2"' in section, path
            assert 'href="/t/23/campagnes/2026/envoyer/invitation"' in section
        # Both invited by e-mail: the reminder of the two who have not answered.
        for pro in (world.pros["alice"], world.pros["bruno"]):
            session.add(EmailLog(campaign_id=world.this_year.id, professional_id=pro.id,
                                 kind="invitation", status="sent"))  # fmt: skip
        session.commit()
        section = first_after_title(html.unescape(client.get("/t/23/").text))
        section = section.split("</section>")[0]
        assert 'data-step="remind" data-count="2"' in section
        assert "Relancer les 2\N{NO-BREAK SPACE}personnes qui n'ont pas répondu…" in section
        assert 'href="/t/23/campagnes/2026/envoyer/reminder1"' in section

"""E-mail invitations and reminders, sent to a local SMTP server started by the test."""

from __future__ import annotations

import email
import socket
from email import policy

import pytest
from sqlmodel import select

from survey import campaigns, links, mailing, timing
from survey.mailing import EmailLog, SmtpConfig, TemplateInvalid
from survey.models import Campaign, DeclaredLink, Organisation, Professional, Response
from tests.conftest import TEST_SECRET
from tests.factories import build_world

BASE = "http://testserver"


class Recorder:
    """aiosmtpd handler keeping every message; refuses recipients listed in `refuse`."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 Boîte inconnue"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if address in m["To"]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield (
        recorder,
        SmtpConfig(host="127.0.0.1", port=controller.port, mail_from="carte@example.org"),
    )
    controller.stop()


@pytest.fixture
def world(session):
    return build_world(session)


def logs(session, campaign_id: int) -> list[tuple[str, str, str]]:
    rows = session.exec(
        select(Professional.full_name, EmailLog.kind, EmailLog.status)
        .join(Professional, Professional.id == EmailLog.professional_id)
        .where(EmailLog.campaign_id == campaign_id)
        .order_by(EmailLog.id)
    ).all()
    return [tuple(r) for r in rows]


def test_invitation_carries_the_personal_link_and_is_logged(session, world, smtp_server):
    recorder, smtp = smtp_server
    assert mailing.due_counts(session, world.this_year) == {
        "invitation": 2,
        "reminder1": 2,
        "reminder2": 0,
    }
    report = mailing.send(session, world.this_year, "invitation", smtp, TEST_SECRET, BASE)
    assert (report.sent, report.failed) == (2, 0)
    alice = recorder.to("alice@example.org")
    assert len(alice) == 1
    msg = alice[0]
    assert msg["Subject"] == "Carte partenariale 2026 : votre questionnaire"
    assert msg["From"] == "carte@example.org"
    text = msg.get_content()
    assert f"{BASE}/q/{world.tokens['alice']}" in text
    assert "Bonjour Alice Martin" in text
    assert "31 décembre 2026" in text
    # Bruno's message holds Bruno's link, never Alice's.
    bruno_text = recorder.to("bruno@example.org")[0].get_content()
    assert world.tokens["bruno"] in bruno_text and world.tokens["alice"] not in bruno_text
    assert sorted(logs(session, world.this_year.id)) == [
        ("Alice Martin", "invitation", "sent"),
        ("Bruno Petit", "invitation", "sent"),
    ]
    # Chloé (Corrèze) was never written to.
    assert recorder.to("chloe@example.org") == []
    # Sending again reaches nobody: everyone has been invited.
    again = mailing.send(session, world.this_year, "invitation", smtp, TEST_SECRET, BASE)
    assert (again.sent, again.failed) == (0, 0)
    assert len(recorder.messages) == 2


def _answered(session, campaign, pro, partners: list[Organisation], ended: int = 0) -> None:
    """`pro` submitted in `campaign` with these partners, the last `ended` ones « plus de
    contact »."""
    response = Response(campaign_id=campaign.id, professional_id=pro.id,
                        organisation_id=pro.organisation_id, status="submitted",
                        questionnaire_version="2026.1", function=pro.function)  # fmt: skip
    session.add(response)
    session.flush()
    session.add_all(
        DeclaredLink(
            response_id=response.id,
            position=i,
            partner_organisation_id=org.id,
            status="ended" if i >= len(partners) - ended else "new",
            nature="informal",
            frequency="monthly",
        )
        for i, org in enumerate(partners)
    )


def test_the_time_promised_is_that_of_each_questionnaire(engine, session, world, smtp_server):
    from sqlalchemy import event

    recorder, smtp = smtp_server
    t = world.territory
    many = [
        Organisation(territory_id=t.id, name=f"Association {i}", type="association")
        for i in range(14)
    ]
    session.add_all(many)
    # 2024: Alice listed 14 partners; 2025 (her latest answer, the one carried): CAF and
    # SIAO, MSA ended, plus an archived structure that is not carried either.
    older = Campaign(territory_id=t.id, year=2024, status="closed")
    session.add(older)
    session.flush()
    alice = world.pros["alice"]
    _answered(session, older, alice, many)
    last_response = session.exec(
        select(Response).where(
            Response.professional_id == alice.id, Response.campaign_id == world.last_year.id
        )
    ).one()
    session.add(DeclaredLink(response_id=last_response.id, position=3, status="new",
                             partner_organisation_id=world.orgs["old"].id))  # fmt: skip
    # Dora took over from Élie, who left after listing 13 partners in 2025, one ended.
    elie = Professional(territory_id=t.id, full_name="Élie Blanc", email="elie@example.org",
                        organisation_id=world.orgs["msa"].id, active=False)  # fmt: skip
    session.add(elie)
    session.flush()
    _answered(session, world.last_year, elie, many[:13], ended=1)
    dora = Professional(territory_id=t.id, full_name="Dora Vidal", email="dora@example.org",
                        organisation_id=world.orgs["msa"].id, took_over_from_id=elie.id)  # fmt: skip
    session.add(dora)
    session.flush()
    links.issue(session, TEST_SECRET, world.this_year, dora)
    session.commit()

    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(statement.lower())

    event.listen(engine, "before_cursor_execute", record)
    try:
        report = mailing.send(session, world.this_year, "invitation", smtp, TEST_SECRET, BASE)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert (report.sent, report.failed) == (3, 0)
    # Everyone's count comes from one query, whatever the number of recipients.
    assert sum("declaredlink" in st for st in statements) == 1

    expected = {"alice": timing.promise(2), "bruno": timing.promise(0), "dora": timing.promise(12)}
    assert expected["dora"].startswith("environ 2 minutes si rien n'a changé")
    assert expected["bruno"] == "environ 1 minute par partenaire que vous décrivez"
    for name, promise in expected.items():
        text = " ".join(recorder.to(f"{name}@example.org")[0].get_content().split())
        assert f"Cela vous prendra {promise}." in text, name
        assert "{duree}" not in text and "quelques minutes" not in text
    # The first reminder makes the same promise.
    mailing.send(session, world.this_year, "reminder1", smtp, TEST_SECRET, BASE)
    reminder = recorder.to("dora@example.org")[-1]
    assert reminder["Subject"] == "Rappel : carte partenariale 2026"
    assert f"Cela vous prendra {expected['dora']}." in " ".join(reminder.get_content().split())


def test_at_most_two_reminders_and_none_to_who_submitted(client, session, world, smtp_server):
    from tests.test_followup import submit_alice

    recorder, smtp = smtp_server
    mailing.send(session, world.this_year, "invitation", smtp, TEST_SECRET, BASE)
    submit_alice(client, world.tokens["alice"])
    session.expire_all()

    first = mailing.send(session, world.this_year, "reminder1", smtp, TEST_SECRET, BASE)
    assert (first.sent, first.failed) == (1, 0)
    second = mailing.send(session, world.this_year, "reminder2", smtp, TEST_SECRET, BASE)
    assert (second.sent, second.failed) == (1, 0)
    for kind in mailing.KINDS:
        extra = mailing.send(session, world.this_year, kind, smtp, TEST_SECRET, BASE)
        assert extra.sent == 0
    assert [m["Subject"] for m in recorder.to("bruno@example.org")] == [
        "Carte partenariale 2026 : votre questionnaire",
        "Rappel : carte partenariale 2026",
        "Dernier rappel : carte partenariale 2026",
    ]
    assert len(recorder.to("alice@example.org")) == 1  # the invitation only
    assert mailing.due_counts(session, world.this_year) == {
        "invitation": 0,
        "reminder1": 0,
        "reminder2": 0,
    }


def test_second_reminder_needs_the_first(session, world, smtp_server):
    recorder, smtp = smtp_server
    report = mailing.send(session, world.this_year, "reminder2", smtp, TEST_SECRET, BASE)
    assert report.sent == 0 and recorder.messages == []


def test_smtp_down_is_logged_per_message_and_retried_later(session, world, smtp_server):
    recorder, smtp = smtp_server
    down = SmtpConfig(host="127.0.0.1", port=free_port(), mail_from="carte@example.org")
    report = mailing.send(session, world.this_year, "invitation", down, TEST_SECRET, BASE)
    assert (report.sent, report.failed) == (0, 2)
    assert "Connexion au serveur d'envoi impossible" in report.errors[0]
    failed = session.exec(select(EmailLog).where(EmailLog.status == "failed")).all()
    assert len(failed) == 2 and all("impossible" in f.error for f in failed)
    # Failed messages stay due: the next sending reaches them.
    report = mailing.send(session, world.this_year, "invitation", smtp, TEST_SECRET, BASE)
    assert (report.sent, report.failed) == (2, 0)


def test_refused_recipient_does_not_stop_the_others(session, world, smtp_server):
    recorder, smtp = smtp_server
    recorder.refuse.add("alice@example.org")
    bad = world.pros["bruno"]
    report = mailing.send(session, world.this_year, "invitation", smtp, TEST_SECRET, BASE)
    assert (report.sent, report.failed) == (1, 1)
    assert "550" in report.errors[0]
    assert sorted(logs(session, world.this_year.id)) == [
        ("Alice Martin", "invitation", "failed"),
        ("Bruno Petit", "invitation", "sent"),
    ]
    assert len(recorder.to(bad.email)) == 1


def test_invalid_address_and_no_address(session, world, smtp_server):
    recorder, smtp = smtp_server
    world.pros["alice"].email = "pas-une-adresse"
    world.pros["bruno"].email = ""
    session.commit()
    assert mailing.without_email(session, world.this_year) == 1
    report = mailing.send(session, world.this_year, "invitation", smtp, TEST_SECRET, BASE)
    assert (report.sent, report.failed) == (0, 1)
    assert "Adresse e-mail invalide" in report.errors[0]
    assert recorder.messages == []


def test_templates_are_per_territory_and_checked(session, world, smtp_server):
    recorder, smtp = smtp_server
    with pytest.raises(TemplateInvalid) as exc:
        mailing.save_template(session, world.territory.id, "invitation", "Objet", "Sans lien")
    assert "{lien}" in exc.value.problems["body"]
    with pytest.raises(TemplateInvalid) as exc:
        mailing.save_template(
            session, world.territory.id, "invitation", "Objet {nom.__class__}", "Voici {lien}"
        )
    assert "Repère inconnu : {nom.__class__}" in exc.value.problems["subject"]
    with pytest.raises(TemplateInvalid):
        mailing.save_template(session, world.territory.id, "invitation", "Deux\nlignes", "{lien}")

    with pytest.raises(TemplateInvalid) as exc:
        mailing.save_template(
            session, world.territory.id, "reminder1", "Rappel", "Ici : {lien} {inconnu}"
        )
    assert "{inconnu}" in exc.value.problems["body"]
    session.commit()
    assert (
        mailing.get_templates(session, world.territory.id)["invitation"]
        == (mailing.DEFAULT_TEMPLATES["invitation"])
    )


def test_custom_template_is_used(session, world, smtp_server):
    recorder, smtp = smtp_server
    mailing.save_template(
        session,
        world.territory.id,
        "invitation",
        "Enquête {annee} pour {nom}",
        "Cher·e {nom}, répondez ici : {lien} avant le {date_cloture}.",
    )
    session.commit()
    # Corrèze keeps the default wording.
    assert (
        mailing.get_templates(session, world.other_territory.id)["invitation"]
        == (mailing.DEFAULT_TEMPLATES["invitation"])
    )
    mailing.send(session, world.this_year, "invitation", smtp, TEST_SECRET, BASE)
    msg = recorder.to("alice@example.org")[0]
    assert msg["Subject"] == "Enquête 2026 pour Alice Martin"
    assert msg.get_content().strip() == (
        f"Cher·e Alice Martin, répondez ici : {BASE}/q/{world.tokens['alice']} "
        "avant le 31 décembre 2026."
    )


def test_duree_in_a_custom_template_and_templates_without_it(session, world, smtp_server):
    recorder, smtp = smtp_server
    # A wording saved before {duree} existed keeps working: nothing to replace.
    mailing.save_template(session, world.territory.id, "invitation", "Enquête", "Ici : {lien}")
    mailing.save_template(
        session, world.territory.id, "reminder1", "Rappel ({duree})", "Comptez {duree} : {lien}"
    )
    session.commit()
    mailing.send(session, world.this_year, "invitation", smtp, TEST_SECRET, BASE)
    text = recorder.to("alice@example.org")[0].get_content().strip()
    assert text == f"Ici : {BASE}/q/{world.tokens['alice']}"
    mailing.send(session, world.this_year, "reminder1", smtp, TEST_SECRET, BASE)
    msg = recorder.to("alice@example.org")[1]
    assert msg["Subject"] == f"Rappel ({timing.promise(2)})"
    assert msg.get_content().startswith(f"Comptez {timing.promise(2)} : ")


def test_renewed_link_is_the_one_mailed(session, world, smtp_server):
    recorder, smtp = smtp_server
    new = campaigns.renew_link(session, world.this_year, world.pros["alice"], TEST_SECRET)
    session.commit()
    mailing.send(session, world.this_year, "invitation", smtp, TEST_SECRET, BASE)
    text = recorder.to("alice@example.org")[0].get_content()
    assert new in text and world.tokens["alice"] not in text


# --- pages ----------------------------------------------------------------------------------


def mail_client(settings, engine, session, world, smtp: SmtpConfig | None):
    """A signed-in coordinator on an app whose settings point at `smtp`."""
    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.accounts_helpers import login, make_user

    if smtp is not None:
        settings = settings.model_copy(
            update={"smtp_host": smtp.host, "smtp_port": smtp.port, "mail_from": smtp.mail_from}
        )
    client = TestClient(create_app(settings, engine=engine))
    make_user(session, "coord@example.org", territory=world.territory)
    login(client, "coord@example.org")
    return client


def post(client, path: str, data: dict | None = None):
    from tests.accounts_helpers import csrf_token

    token = csrf_token(client, "/t/23/campagnes")
    return client.post(path, data={**(data or {}), "csrf_token": token}, follow_redirects=False)


def test_without_smtp_the_page_points_to_the_csv(settings, engine, session, world):
    with mail_client(settings, engine, session, world, None) as client:
        page = client.get("/t/23/campagnes/2026")
        assert "L'envoi d'e-mails n'est pas configuré" in page.text
        assert "publipostage" in page.text
        assert "/envoyer/" not in page.text
        r = post(client, "/t/23/campagnes/2026/envoyer/invitation")
        assert r.status_code == 409 and "exportez les liens" in r.text
    assert session.exec(select(EmailLog)).all() == []


def test_send_invitations_from_the_page(settings, engine, session, world, smtp_server):
    recorder, smtp = smtp_server
    with mail_client(settings, engine, session, world, smtp) as client:
        page = client.get("/t/23/campagnes/2026")
        assert "Invitation : 2 personnes…" in page.text
        assert "Seconde relance : personne à qui l'envoyer" in page.text
        confirm = client.get("/t/23/campagnes/2026/envoyer/invitation")
        assert "Le message sera envoyé à <strong>2 personnes</strong>" in confirm.text
        assert "Carte partenariale {annee} : votre questionnaire" in confirm.text

        r = post(client, "/t/23/campagnes/2026/envoyer/invitation")
        assert r.status_code == 303
        page = client.get(r.headers["location"])
        assert "Envoi terminé : 2 message(s) envoyé(s)." in page.text
        assert "Journal des envois" in page.text and "Invitation : 2 envoyés" in page.text
        assert "Invitation : personne à qui l'envoyer" in page.text
        # Unknown kinds and a closed campaign are refused without a 500.
        assert post(client, "/t/23/campagnes/2026/envoyer/reminder3").status_code == 404
        assert post(client, "/t/23/campagnes/2025/envoyer/reminder1").status_code == 409
    assert len(recorder.messages) == 2
    assert world.tokens["alice"] in recorder.to("alice@example.org")[0].get_content()

    from survey.accounts import AuditEvent

    audit = session.exec(select(AuditEvent).where(AuditEvent.action == "email.invitation")).one()
    assert audit.detail == "2 envoyé(s), 0 en échec"


def test_smtp_failure_from_the_page_is_logged_not_500(settings, engine, session, world):
    down = SmtpConfig(host="127.0.0.1", port=free_port(), mail_from="carte@example.org")
    with mail_client(settings, engine, session, world, down) as client:
        r = post(client, "/t/23/campagnes/2026/envoyer/reminder1")
        assert r.status_code == 303
        page = client.get(r.headers["location"])
        assert "0 message(s) envoyé(s), 2 en échec" in page.text
        assert "Connexion au serveur d&#39;envoi impossible" in page.text
        assert page.text.count('<span class="tag warn">échec</span>') == 2
    assert {log.status for log in session.exec(select(EmailLog)).all()} == {"failed"}


def test_edit_templates_from_the_page(settings, engine, session, world, smtp_server):
    recorder, smtp = smtp_server
    with mail_client(settings, engine, session, world, smtp) as client:
        page = client.get("/t/23/campagnes/messages")
        assert page.status_code == 200 and "Première relance" in page.text
        assert "<code>{duree}</code> : le temps à prévoir" in page.text
        # The hint, the default invitation and the default first reminder.
        assert page.text.count("Cela vous prendra {duree}.") == 3
        bad = post(
            client,
            "/t/23/campagnes/messages/reminder1",
            {"subject": "Relance {prenom}", "body": "Texte tapé sans lien"},
        )
        assert bad.status_code == 400
        assert "Texte tapé sans lien" in bad.text  # nothing typed is lost
        assert 'href="#reminder1-body"' in bad.text and 'href="#reminder1-subject"' in bad.text
        ok = post(
            client,
            "/t/23/campagnes/messages/invitation",
            {"subject": "Enquête {annee}", "body": "Bonjour {nom}, voici : {lien}"},
        )
        assert ok.status_code == 303
        post(client, "/t/23/campagnes/2026/envoyer/invitation")
        msg = recorder.to("bruno@example.org")[0]
        assert msg["Subject"] == "Enquête 2026"
        assert msg.get_content().strip() == (
            f"Bonjour Bruno Petit, voici : {BASE}/q/{world.tokens['bruno']}"
        )
        reset = post(client, "/t/23/campagnes/messages/invitation", {"reset": "1"})
        assert reset.status_code == 303
    assert (
        mailing.get_templates(session, world.territory.id)["invitation"]
        == (mailing.DEFAULT_TEMPLATES["invitation"])
    )

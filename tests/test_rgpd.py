"""RGPD: a professional sees, downloads and erases their own data; erasure keeps the figures
of closed campaigns; retention erases those who left long ago; the pages say so."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import typer
from sqlalchemy import func
from sqlmodel import col, select
from typer.testing import CliRunner

from app import cli_ops
from app.settings import get_settings
from reports import figures
from reports.graph import build_graph
from survey import demo, links, privacy
from survey.accounts import AuditEvent, LoginAttempt
from survey.mailing import EmailLog
from survey.models import (
    Campaign,
    DeclaredLink,
    Invitation,
    Organisation,
    Professional,
    Response,
    Territory,
)
from tests.accounts_helpers import csrf_token, login, make_user
from tests.conftest import TEST_SECRET
from tests.factories import build_world


def _personal_extras(session, w):
    """What a real territory accumulates around Alice: e-mails, a failed login, a proposed
    structure, a directory contact, a comment, contact names given by her and about her."""
    alice, bruno = w.pros["alice"], w.pros["bruno"]
    resp = session.exec(select(Response).where(Response.professional_id == alice.id)).one()
    resp.comment = "Je remercie Mme Durand du SIAO."
    resp.obstacle_other = "Mon chef"
    for lk in session.exec(select(DeclaredLink).where(DeclaredLink.response_id == resp.id)):
        lk.contact_name = "Mme Durand"
        lk.contact_consent = True
        session.add(lk)
    session.add(EmailLog(campaign_id=w.last_year.id, professional_id=alice.id,
                         kind="invitation", status="sent"))  # fmt: skip
    session.add(LoginAttempt(email="alice@example.org", ip="10.0.0.1"))
    session.add(LoginAttempt(email="autre@example.org", ip="10.0.0.1"))
    org = Organisation(territory_id=w.territory.id, name="Épicerie solidaire",
                       status="proposed", proposed_by_id=alice.id)  # fmt: skip
    session.add(org)
    svc = w.services["jour"]
    svc.contact_name, svc.contact_email = "Alice Martin", "Alice@Example.org"
    svc.contact_phone, svc.contact_consent = "05 55 00 00 00", True
    session.add(svc)
    # Bruno (2025, CAF) named Alice as his contact at the CCAS.
    bresp = Response(campaign_id=w.last_year.id, professional_id=bruno.id,
                     organisation_id=w.orgs["caf"].id, status="submitted",
                     questionnaire_version="2026.1")  # fmt: skip
    session.add(bresp)
    session.flush()
    session.add(DeclaredLink(response_id=bresp.id, partner_organisation_id=w.orgs["ccas"].id,
                             nature="formal", frequency="monthly", has_named_contact=True,
                             contact_name=" alice martin ", contact_consent=True))  # fmt: skip
    session.commit()
    return org


# --- export ----------------------------------------------------------------------------------


def test_export_holds_own_answers_with_labels_and_nobody_else(session):
    w = build_world(session)
    _personal_extras(session, w)
    data = privacy.export_own_data(session, w.pros["alice"])
    json.dumps(data)  # JSON-ready
    assert data["personne"]["nom"] == "Alice Martin"
    assert data["personne"]["email"] == "alice@example.org"
    assert data["territoire"] == {"code": "23", "nom": "Creuse"}
    (r2025,) = data["reponses"]
    assert r2025["campagne"] == 2025 and r2025["statut"] == "envoyée"
    assert [p["structure"] for p in r2025["partenaires"]] == [
        "CAF de la Creuse", "SIAO de la Creuse", "MSA du Limousin",
    ]  # fmt: skip
    assert r2025["partenaires"][1]["service"] == "115"
    assert r2025["partenaires"][0]["nature"] == {"code": "formal", "label": "Formel"}
    assert r2025["partenaires"][0]["nom_du_contact"] == "Mme Durand"
    assert r2025["commentaire"] == "Je remercie Mme Durand du SIAO."
    assert {i["campagne"] for i in data["liens_personnels"]} == {2025, 2026}
    assert data["messages_recus"][0]["type"] == "invitation"
    assert data["structures_proposees"] == ["Épicerie solidaire"]
    assert data["contacts_du_repertoire"][0]["service"] == "Centre de jour"
    text = json.dumps(data, ensure_ascii=False)
    assert "Bruno" not in text and "bruno@" not in text and "Chloé" not in text


# --- erasure ---------------------------------------------------------------------------------


def test_erasure_removes_identity_and_keeps_answers(session):
    w = build_world(session)
    org = _personal_extras(session, w)
    alice = w.pros["alice"]
    links_before = session.exec(select(func.count(DeclaredLink.id))).one()

    summary = privacy.erase_professional(session, alice, "test")
    session.commit()
    session.expire_all()

    alice = session.get(Professional, alice.id)
    assert alice.full_name == f"Personne effacée n°{alice.id}"
    assert (alice.email, alice.function, alice.active) == ("", "", False)
    resp = session.exec(select(Response).where(Response.professional_id == alice.id)).one()
    assert (resp.comment, resp.obstacle_other, resp.function) == ("", "", "")
    assert resp.status == "submitted" and resp.organisation_id == w.orgs["ccas"].id
    assert session.exec(select(func.count(DeclaredLink.id))).one() == links_before
    names = session.exec(select(DeclaredLink.contact_name)).all()
    assert set(names) == {""}, "her contacts and her name given by Bruno are gone"
    assert not session.exec(select(EmailLog).where(EmailLog.professional_id == alice.id)).all()
    assert session.exec(select(LoginAttempt.email)).all() == ["autre@example.org"]
    assert session.get(Organisation, org.id).proposed_by_id is None
    svc = session.get(type(w.services["jour"]), w.services["jour"].id)
    assert (svc.contact_name, svc.contact_email, svc.contact_phone) == ("", "", "")
    assert svc.contact_consent is False
    assert summary.named_by_others_cleared == 1 and summary.contact_names_cleared == 3
    assert summary.email_logs_deleted == 1 and summary.login_attempts_deleted == 1
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "professional.erase")).one()
    assert event.target == f"professionnel {alice.id}" and "Alice" not in event.detail
    # Nothing left anywhere in the professional's row or the log that names her.
    everything = json.dumps(privacy.export_own_data(session, alice), ensure_ascii=False)
    assert "Alice" not in everything and "alice@" not in everything

    again = privacy.erase_professional(session, alice, "test")
    assert again.already_erased


def test_erasure_kills_every_personal_link_but_keeps_closed_invitations_counted(session):
    w = build_world(session)
    alice_id = w.pros["alice"].id
    privacy.erase_professional(session, w.pros["alice"], "test")
    session.commit()
    assert links.find(session, w.tokens["alice"]) is None
    assert links.find(session, w.tokens["alice_2025"]) is None
    invs = {
        c.status: inv
        for inv, c in session.exec(
            select(Invitation, Campaign)
            .join(Campaign, Campaign.id == Invitation.campaign_id)
            .where(Invitation.professional_id == alice_id)
        )
    }
    assert invs["open"].revoked_at is not None
    assert invs["closed"].revoked_at is None  # still « invited » in the 2025 figures
    # Even the server, which knows the secret, cannot rebuild a working link.
    assert links.find(session, links.token_for(TEST_SECRET, invs["closed"])) is None
    assert links.find(session, w.tokens["bruno"]) is not None


def _snapshot(session, campaign):
    g = build_graph(session, campaign)
    return {
        "nodes": sorted((n, sorted(d.items())) for n, d in g.nodes(data=True)),
        "edges": sorted(
            (a, b, json.dumps(d, sort_keys=True, default=str)) for a, b, d in g.edges(data=True)
        ),
        "headline": figures.headline(g),
        "all": json.dumps(figures.all_figures(g), sort_keys=True, default=str),
        "obstacles": figures.obstacles(session, campaign),
    }


def test_closed_campaign_graph_and_figures_identical_after_erasure(session):
    demo.load(session, TEST_SECRET)
    territory = session.exec(select(Territory).where(Territory.code == "23")).one()
    closed = session.exec(
        select(Campaign).where(Campaign.territory_id == territory.id, Campaign.status == "closed")
    ).all()
    assert closed
    before = {c.id: _snapshot(session, c) for c in closed}
    assert before[closed[0].id]["headline"]["links"] > 20  # a real graph, not an empty one

    c = closed[0]
    responded = select(Response.professional_id).where(
        Response.campaign_id == c.id, Response.status == "submitted"
    )
    invited_only = session.exec(
        select(Invitation.professional_id).where(
            Invitation.campaign_id == c.id, col(Invitation.professional_id).not_in(responded)
        )
    ).all()
    respondents = session.exec(responded).all()
    proposers = session.exec(
        select(Organisation.proposed_by_id).where(col(Organisation.proposed_by_id).is_not(None))
    ).all()
    assert invited_only and respondents and proposers
    chosen = set(respondents[::3]) | set(invited_only[:5]) | set(proposers)
    for pid in sorted(chosen):
        privacy.erase_professional(session, session.get(Professional, pid), "test")
    session.commit()
    session.expire_all()

    for campaign in closed:
        assert _snapshot(session, campaign) == before[campaign.id]
    erased = session.exec(
        select(func.count(Professional.id)).where(
            col(Professional.full_name).startswith(privacy.ERASED_PREFIX)
        )
    ).one()
    assert erased == len(chosen)


# --- retention -------------------------------------------------------------------------------


def test_months_before_clamps_the_day():
    assert privacy.months_before(datetime(2026, 5, 31, tzinfo=UTC), 3) == datetime(
        2026, 2, 28, tzinfo=UTC
    )
    assert privacy.months_before(datetime(2026, 1, 15, tzinfo=UTC), 36).year == 2023


def _aged_world(session):
    """Bruno left in 2021 and never answered; Alice left but answered in 2025."""
    w = build_world(session)
    old = datetime(2021, 1, 10, tzinfo=UTC)
    for key in ("alice", "bruno"):
        w.pros[key].active = False
        w.pros[key].created_at = old
        session.add(w.pros[key])
    resp = session.exec(
        select(Response).where(Response.professional_id == w.pros["alice"].id)
    ).one()
    resp.created_at = resp.updated_at = resp.submitted_at = datetime(2025, 4, 2, tzinfo=UTC)
    session.add(resp)
    session.commit()
    return w


def test_retention_erases_only_who_left_without_recent_answer(session):
    w = _aged_world(session)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    found = privacy.retention_candidates(session, now, 36)
    assert [c.professional_id for c in found] == [w.pros["bruno"].id]
    assert found[0].territory_code == "23" and found[0].organisation == "CAF de la Creuse"

    summary = privacy.apply_retention(session, now, 36)
    session.commit()
    assert [e.professional_id for e in summary.erased] == [w.pros["bruno"].id]
    assert session.get(Professional, w.pros["alice"].id).full_name == "Alice Martin"
    assert privacy.retention_candidates(session, now, 36) == []  # already erased
    # With a shorter retention Alice's 2025 answer is old enough too.
    assert [c.professional_id for c in privacy.retention_candidates(session, now, 12)] == [
        w.pros["alice"].id
    ]


@pytest.fixture
def ops(database_url, engine, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET)
    get_settings.cache_clear()
    app = typer.Typer()
    cli_ops.register(app)
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def test_cli_retention_lists_then_applies(session, ops, monkeypatch):
    w = _aged_world(session)
    bruno_id = w.pros["bruno"].id
    listed = ops("retention")
    assert listed.exit_code == 0, listed.output
    assert f"professionnel n°{bruno_id}" in listed.stdout
    assert "Bruno" not in listed.stdout  # no name on an operator's terminal
    assert "Relancez avec --apply" in listed.stdout
    session.expire_all()
    assert session.get(Professional, bruno_id).full_name == "Bruno Petit"  # listing only

    applied = ops("retention", "--apply")
    assert applied.exit_code == 0, applied.output
    assert "1 personne(s) effacée(s)" in applied.stdout
    session.expire_all()
    assert session.get(Professional, bruno_id).full_name == f"Personne effacée n°{bruno_id}"

    monkeypatch.setenv("PERSONAL_DATA_RETENTION_MONTHS", "12")
    get_settings.cache_clear()
    shorter = ops("retention")
    assert "12 mois" in shorter.stdout and f"n°{w.pros['alice'].id}" in shorter.stdout


def test_cli_erase_one_professional(session, ops):
    w = build_world(session)
    bruno_id = w.pros["bruno"].id
    wrong = ops("erase", str(bruno_id), "--territory", "19")
    assert wrong.exit_code == 2 and "Aucun professionnel" in wrong.output
    done = ops("erase", str(bruno_id), "--territory", "23")
    assert done.exit_code == 0, done.output
    assert f"Professionnel n°{bruno_id} effacé" in done.stdout
    session.expire_all()
    assert session.get(Professional, bruno_id).email == ""
    assert "déjà effacées" in ops("erase", str(bruno_id), "--territory", "23").stdout


# --- the respondent's pages ------------------------------------------------------------------


def test_questionnaire_page_links_to_my_data(session, client):
    w = build_world(session)
    page = client.get(f"/q/{w.tokens['alice']}")
    assert f'href="/q/{w.tokens["alice"]}/mes-donnees"' in page.text


def test_my_data_page_shows_what_is_stored(session, client):
    w = build_world(session)
    page = client.get(f"/q/{w.tokens['alice']}/mes-donnees")
    assert page.status_code == 200
    assert "Alice Martin" in page.text and "alice@example.org" in page.text
    assert '<th scope="row">2025</th>' in page.text
    assert "Télécharger mes données (JSON)" in page.text
    assert "36 mois" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert client.get("/q/" + "x" * 32 + "/mes-donnees").status_code == 404


def test_my_data_json_download(session, client):
    w = build_world(session)
    got = client.get(f"/q/{w.tokens['alice']}/mes-donnees.json")
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("application/json")
    assert "attachment" in got.headers["content-disposition"]
    assert got.headers["cache-control"] == "no-store"
    data = got.json()
    assert data["personne"]["nom"] == "Alice Martin"
    assert data["reponses"][0]["campagne"] == 2025
    assert client.get("/q/" + "y" * 32 + "/mes-donnees.json").status_code == 404


def test_respondent_erasure_needs_confirmation_and_csrf_then_erases(session, client):
    w = build_world(session)
    token = w.tokens["alice"]
    path = f"/q/{token}/mes-donnees"
    csrf = csrf_token(client, path)

    no_csrf = client.post(f"{path}/effacer", data={"confirmation": "oui"})
    assert no_csrf.status_code == 403
    unconfirmed = client.post(f"{path}/effacer", data={"csrf_token": csrf})
    assert unconfirmed.status_code == 422
    assert "Cochez la case pour confirmer" in unconfirmed.text
    assert 'class="error-summary"' in unconfirmed.text
    session.expire_all()
    assert session.get(Professional, w.pros["alice"].id).full_name == "Alice Martin"

    done = client.post(f"{path}/effacer", data={"csrf_token": csrf, "confirmation": "oui"})
    assert done.status_code == 200 and "Vos données personnelles sont effacées" in done.text
    assert done.headers["cache-control"] == "no-store"
    again = client.post(f"{path}/effacer", data={"csrf_token": csrf, "confirmation": "oui"})
    assert again.status_code == 404
    session.expire_all()
    alice = session.get(Professional, w.pros["alice"].id)
    assert alice.full_name.startswith("Personne effacée") and alice.email == ""
    assert client.get(path).status_code == 404
    assert client.get(f"/q/{token}").status_code == 404
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "professional.erase")).one()
    assert "la personne elle-même" in event.detail


# --- the coordinator's side ------------------------------------------------------------------


def test_coordinator_erases_from_the_professional_page(session, client):
    w = build_world(session)
    make_user(session, "coord@example.org", territory=w.territory)
    login(client, "coord@example.org")
    base = f"/t/23/professionnels/{w.pros['bruno'].id}"
    assert f'href="{base}/effacer"' in client.get(base).text
    confirm = client.get(f"{base}/effacer")
    assert confirm.status_code == 200 and "Bruno Petit" in confirm.text
    csrf = csrf_token(client, f"{base}/effacer")
    refused = client.post(f"{base}/effacer", data={"csrf_token": csrf})
    assert refused.status_code == 422
    done = client.post(
        f"{base}/effacer", data={"csrf_token": csrf, "confirmation": "oui"}, follow_redirects=False
    )
    assert done.status_code == 303
    listing = client.get(done.headers["location"])
    assert "Les données personnelles sont effacées" in listing.text
    assert "Bruno Petit" not in listing.text
    session.expire_all()
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "professional.erase")).one()
    assert event.user_email == "coord@example.org"
    assert "déjà effacées" in client.get(f"{base}/effacer").text


def test_viewer_and_other_territory_cannot_erase(session, client):
    w = build_world(session)
    make_user(session, "lecteur@example.org", role="viewer", territory=w.territory)
    make_user(session, "voisin@example.org", territory=w.other_territory)
    bruno = w.pros["bruno"].id
    login(client, "lecteur@example.org")
    assert client.get(f"/t/23/professionnels/{bruno}/effacer").status_code == 403
    login(client, "voisin@example.org")
    assert client.get(f"/t/23/professionnels/{bruno}/effacer").status_code == 404
    assert client.get(f"/t/19/professionnels/{bruno}/effacer").status_code == 404
    session.expire_all()
    assert session.get(Professional, bruno).full_name == "Bruno Petit"


def test_exports_with_personal_data_carry_a_warning(session, client):
    w = build_world(session)
    make_user(session, "coord@example.org", territory=w.territory)
    login(client, "coord@example.org")
    pros = client.get("/t/23/professionnels").text
    assert "Ce fichier contient des données personnelles" in pros
    campaign = client.get(f"/t/23/campagnes/{w.this_year.year}").text
    assert "Données personnelles." in campaign

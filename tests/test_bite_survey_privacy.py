"""Edges of the RGPD module (survey/privacy.py) that mutation testing (docs/testing.md) found
unchecked: every field of the personal-data export, every count of an erasure and its audit
line, the exact ends of the retention periods, and the purge trace (docs/rgpd.md, sections 3
and 4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from survey import links, privacy, vocab
from survey.accounts import AuditEvent, LoginAttempt, audit
from survey.link_throttle import LinkFailure
from survey.mailing import EmailLog
from survey.models import (
    Campaign,
    DeclaredLink,
    Invitation,
    Organisation,
    Professional,
    Response,
    Service,
)
from tests.accounts_helpers import make_user
from tests.conftest import TEST_SECRET
from tests.factories import build_world

T = datetime(2025, 4, 2, 9, 30, 15, tzinfo=UTC)


def _alice_response(session, w) -> Response:
    return session.exec(
        select(Response).where(Response.professional_id == w.pros["alice"].id)
    ).one()


# --- export ----------------------------------------------------------------------------------


def test_export_gives_every_field_of_the_person_and_of_a_draft(session):
    w = build_world(session)
    alice = w.pros["alice"]
    accueil = Service(organisation_id=w.orgs["ccas"].id, name="Accueil social")
    permanence = Service(organisation_id=w.orgs["ccas"].id, name="Permanence RSA")
    session.add_all([accueil, permanence])
    session.flush()
    alice.service_id = accueil.id
    alice.created_at = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    session.add(alice)
    # Her 2025 answer: known times, no service.
    sent = _alice_response(session, w)
    sent.created_at, sent.updated_at, sent.submitted_at = T - timedelta(days=2), T, T
    session.add(sent)
    # A 2026 draft from the RSA desk, where she worked before the reception: never sent.
    draft = Response(campaign_id=w.this_year.id, professional_id=alice.id,
                     organisation_id=w.orgs["ccas"].id, service_id=permanence.id, status="draft",
                     questionnaire_version="2026.1", created_at=T + timedelta(days=365),
                     updated_at=T + timedelta(days=366))  # fmt: skip
    session.add(draft)
    # A 2024 campaign opened late (after 2025's), which she answered last.
    late = Campaign(territory_id=w.territory.id, year=2024, status="closed")
    session.add(late)
    session.flush()
    session.add(Response(campaign_id=late.id, professional_id=alice.id,
                         organisation_id=w.orgs["ccas"].id, status="submitted",
                         questionnaire_version="2026.1"))  # fmt: skip
    session.commit()
    before = datetime.now(UTC)

    data = privacy.export_own_data(session, alice)

    assert (data["format"], data["version"]) == ("carte-partenariale/mes-donnees", 1)
    exported_at = datetime.fromisoformat(data["exporte_le"])
    assert exported_at.tzinfo is not None and before <= exported_at <= datetime.now(UTC)
    assert data["personne"] == {
        "identifiant": alice.id,
        "nom": "Alice Martin",
        "email": "alice@example.org",
        "fonction": "Conseillère",
        "structure": "CCAS de Guéret",
        "service": "Accueil social",
        "en_poste": True,
        "fiche_creee_le": "2024-01-02T03:04:05+00:00",
    }
    r2024, r2025, r2026 = data["reponses"]  # by year, not in the order they were written
    assert (r2024["campagne"], r2025["campagne"], r2026["campagne"]) == (2024, 2025, 2026)
    assert r2025["statut"] == "envoyée" and r2026["statut"] == "brouillon"
    assert r2025["creee_le"] == "2025-03-31T09:30:15+00:00"
    assert r2025["modifiee_le"] == r2025["envoyee_le"] == "2025-04-02T09:30:15+00:00"
    assert r2026["modifiee_le"] == "2026-04-03T09:30:15+00:00"
    assert r2026["envoyee_le"] is None  # a draft was never sent
    assert r2025["structure"] == r2026["structure"] == "CCAS de Guéret"
    assert (r2025["service"], r2026["service"]) == ("", "Permanence RSA")
    # Her post first, then the partners, then the rest, as in the questionnaire.
    keys = list(r2025)
    assert keys.index("fonction") < keys.index("partenaires") < keys.index("difficultes")
    assert keys.index("nombre_de_partenaires_declare") < keys.index("partenaires")
    assert r2025["fonction"] == "Conseillère"
    assert r2025["anciennete_dans_le_poste"] == {"code": "1to3", "label": "De 1 à 3 ans"}
    assert r2025["nombre_de_partenaires_declare"] == 2
    assert r2025["difficultes"] == [{"code": "lack_of_time", "label": "Manque de temps"}]
    assert r2025["instances"] == ["Commission SIAO hebdomadaire"]
    caf, siao, msa = r2025["partenaires"]
    assert (caf["structure"], caf["service"]) == ("CAF de la Creuse", "")
    assert (siao["structure"], siao["service"]) == ("SIAO de la Creuse", "115")
    assert caf["etat"] == {"code": "new", "label": "Nouveau partenaire"}
    assert msa["etat"] == {"code": "ended", "label": "Plus de contact"}
    assert caf["qualite"] == {"code": 3, "label": "Satisfaisant"}
    assert siao["qualite"] is None  # not answered
    assert caf["construit_ensemble"] == [
        {"code": "rights_access", "label": vocab.PRACTICES["rights_access"]}
    ]
    assert siao["frequence"] == {"code": "weekly", "label": vocab.FREQUENCIES["weekly"]}
    assert r2026["partenaires"] == [] and r2026["instances"] == []


def test_export_lists_links_messages_proposals_and_directory_contacts(session):
    w = build_world(session)
    alice = w.pros["alice"]
    invs = session.exec(
        select(Invitation).where(Invitation.professional_id == alice.id).order_by(Invitation.id)
    ).all()
    invs[0].created_at = T
    invs[0].revoked_at = T + timedelta(hours=1)
    invs[1].created_at = T + timedelta(days=1)
    session.add_all(invs)
    session.add_all([
        EmailLog(campaign_id=w.this_year.id, professional_id=alice.id, kind="invitation",
                 status="sent", sent_at=T),
        EmailLog(campaign_id=w.last_year.id, professional_id=alice.id, kind="reminder",
                 status="failed", sent_at=T + timedelta(minutes=5), error="boîte pleine"),
        EmailLog(campaign_id=w.this_year.id, professional_id=w.pros["bruno"].id,
                 kind="invitation", status="sent"),
        # Two structures she proposed (listed by name, A to Z), one Bruno did.
        Organisation(territory_id=w.territory.id, name="Banque alimentaire",
                     status="proposed", proposed_by_id=alice.id),
        Organisation(territory_id=w.territory.id, name="Atelier vélo", status="proposed",
                     proposed_by_id=alice.id),
        Organisation(territory_id=w.territory.id, name="Jardin partagé", status="proposed",
                     proposed_by_id=w.pros["bruno"].id),
    ])  # fmt: skip
    # Directory contacts that are her: by e-mail (any case) or by name (any case, spaces
    # around); not a namesake's variant, not another territory's directory.
    by_mail, by_name = w.services["jour"], w.services["siao115"]
    by_mail.contact_role, by_mail.contact_name = "Référente", "A. Martin"
    by_mail.contact_phone, by_mail.contact_email = "05 55 00 00 00", "ALICE@Example.org"
    by_mail.contact_consent = True
    by_name.contact_name = "  ALICE MARTIN "
    caf_svc = Service(organisation_id=w.orgs["caf"].id, name="Accueil",
                      contact_name="Mme Alice Martin")  # fmt: skip
    foreign = Service(organisation_id=w.foreign_org.id, name="Accueil",
                      contact_name="Alice Martin", contact_email="alice@example.org")  # fmt: skip
    session.add_all([by_mail, by_name, caf_svc, foreign])
    session.commit()

    data = privacy.export_own_data(session, alice)

    assert data["liens_personnels"] == [
        {"campagne": 2026, "cree_le": "2025-04-02T09:30:15+00:00",
         "revoque_le": "2025-04-02T10:30:15+00:00"},
        {"campagne": 2025, "cree_le": "2025-04-03T09:30:15+00:00", "revoque_le": None},
    ]  # fmt: skip
    assert data["messages_recus"] == [
        {"campagne": 2026, "type": "invitation", "envoye_le": "2025-04-02T09:30:15+00:00",
         "statut": "envoyé"},
        {"campagne": 2025, "type": "reminder", "envoye_le": "2025-04-02T09:35:15+00:00",
         "statut": "échec"},
    ]  # fmt: skip
    assert data["structures_proposees"] == ["Atelier vélo", "Banque alimentaire"]
    contacts = sorted(data["contacts_du_repertoire"], key=lambda c: c["service"])
    assert contacts == [
        {"structure": "SIAO de la Creuse", "service": "115", "role": "", "nom": "  ALICE MARTIN ",
         "telephone": "", "email": "", "visible_des_professionnels": False},
        {"structure": "SIAO de la Creuse", "service": "Centre de jour", "role": "Référente",
         "nom": "A. Martin", "telephone": "05 55 00 00 00", "email": "ALICE@Example.org",
         "visible_des_professionnels": True},
    ]  # fmt: skip


def test_directory_contacts_of_someone_without_an_email_are_matched_by_name_only(session):
    w = build_world(session)
    bruno = w.pros["bruno"]
    bruno.email = ""  # a record typed in by a coordinator, no address known
    session.add(bruno)
    w.services["jour"].contact_name = "Bruno Petit"
    # Every other contact has no e-mail either: none of them is Bruno.
    session.add(Service(organisation_id=w.orgs["caf"].id, name="Accueil",
                        contact_name="Mme Dupont"))  # fmt: skip
    session.add(w.services["jour"])
    session.commit()
    data = privacy.export_own_data(session, bruno)
    assert [c["service"] for c in data["contacts_du_repertoire"]] == ["Centre de jour"]
    assert (data["personne"]["email"], data["personne"]["service"]) == ("", "")  # none known


def test_an_erased_person_has_no_directory_contact_left(session):
    w = build_world(session)
    alice = w.pros["alice"]
    privacy.erase_professional(session, alice, "test")
    session.commit()
    # A coordinator later types the generated name as a contact: that is not her.
    w.services["jour"].contact_name = privacy.erased_name(alice.id)
    session.add(w.services["jour"])
    session.commit()
    data = privacy.export_own_data(session, alice)
    assert data["contacts_du_repertoire"] == []
    assert data["personne"]["email"] == "" and data["personne"]["en_poste"] is False


# --- erasure ---------------------------------------------------------------------------------


def _erasure_world(session):
    """Alice (Creuse) with two answers, contact names, messages, login attempts, failed logins
    in the audit log, three personal links (one already replaced), proposals and directory
    contacts; around her, what must stay."""
    w = build_world(session)
    alice, bruno, chloe = w.pros["alice"], w.pros["bruno"], w.pros["chloe"]
    sent = _alice_response(session, w)
    caf, siao, msa = session.exec(
        select(DeclaredLink).where(DeclaredLink.response_id == sent.id).order_by(
            DeclaredLink.position)
    ).all()  # fmt: skip
    caf.contact_name, caf.contact_consent = "Mme Durand", True
    siao.contact_name = "M. Leroy"
    session.add_all([caf, siao])
    draft = Response(campaign_id=w.this_year.id, professional_id=alice.id,
                     organisation_id=w.orgs["ccas"].id, status="draft",
                     questionnaire_version="2026.1", comment="À finir")  # fmt: skip
    # Bruno names her (exact name, other case and spaces) and a namesake variant; Chloé, in
    # Corrèze, names an « Alice Martin » of her own.
    bresp = Response(campaign_id=w.last_year.id, professional_id=bruno.id,
                     organisation_id=w.orgs["caf"].id, status="submitted",
                     questionnaire_version="2026.1")  # fmt: skip
    other = session.exec(select(Campaign).where(Campaign.territory_id == chloe.territory_id)).one()
    cresp = Response(campaign_id=other.id, professional_id=chloe.id,
                     organisation_id=w.foreign_org.id, status="submitted",
                     questionnaire_version="2026.1")  # fmt: skip
    session.add_all([draft, bresp, cresp])
    session.flush()
    session.add_all([
        DeclaredLink(response_id=draft.id, partner_organisation_id=w.orgs["caf"].id),
        DeclaredLink(response_id=bresp.id, partner_organisation_id=w.orgs["ccas"].id,
                     contact_name=" ALICE martin ", contact_consent=True),
        DeclaredLink(response_id=bresp.id, partner_organisation_id=w.orgs["siao"].id,
                     contact_name="Mme Alice Martin", contact_consent=True),
        DeclaredLink(response_id=cresp.id, partner_organisation_id=w.foreign_org.id,
                     contact_name="Alice Martin", contact_consent=True),
        EmailLog(campaign_id=w.this_year.id, professional_id=alice.id, kind="invitation",
                 status="sent"),
        EmailLog(campaign_id=w.last_year.id, professional_id=alice.id, kind="reminder",
                 status="failed"),
        EmailLog(campaign_id=w.this_year.id, professional_id=bruno.id, kind="invitation",
                 status="sent"),
        LoginAttempt(email="Alice@Example.org", ip="10.0.0.1"),
        LoginAttempt(email="alice@example.org", ip="10.0.0.2"),
        LoginAttempt(email="bruno@example.org", ip="10.0.0.1"),
        Organisation(territory_id=w.territory.id, name="Banque alimentaire",
                     status="proposed", proposed_by_id=alice.id),
        Organisation(territory_id=w.territory.id, name="Atelier vélo", status="proposed",
                     proposed_by_id=alice.id),
        Organisation(territory_id=w.territory.id, name="Jardin partagé", status="proposed",
                     proposed_by_id=bruno.id),
    ])  # fmt: skip
    failed = audit(session, None, "login.failed", target="ALICE@example.org")
    own = audit(session, None, "login.failed", target="bruno@example.org")
    # Alice also holds a viewer account under the same address: its own events are about
    # the account, not the professional record.
    account = make_user(session, "alice@example.org", role="viewer", territory=w.territory)
    mine = audit(session, account, "login", target="alice@example.org")
    session.flush()
    w.services["jour"].contact_email = "alice@example.org"
    w.services["jour"].contact_consent = True
    w.services["siao115"].contact_name = "Alice Martin"
    w.services["siao115"].contact_phone = "05 55 00 00 00"
    foreign = Service(organisation_id=w.foreign_org.id, name="Accueil",
                      contact_name="Alice Martin", contact_email="alice@example.org")  # fmt: skip
    leroy = Service(organisation_id=w.orgs["caf"].id, name="Accueil", contact_name="M. Leroy",
                    contact_email="leroy@example.org", contact_consent=True)  # fmt: skip
    session.add_all([w.services["jour"], w.services["siao115"], foreign, leroy])
    # A second 2026 link replaces the first (revoked at a known time).
    session.commit()
    first = session.exec(
        select(Invitation).where(Invitation.campaign_id == w.this_year.id,
                                 Invitation.professional_id == alice.id)
    ).one()  # fmt: skip
    w.tokens["alice_old"] = w.tokens["alice"]
    w.tokens["alice"] = links.issue(session, TEST_SECRET, w.this_year, alice)
    first.revoked_at = T
    session.add(first)
    # An older closed year (2024) and the next one in preparation (2027), both with a link.
    older = Campaign(territory_id=w.territory.id, year=2024, status="closed")
    next_year = Campaign(territory_id=w.territory.id, year=2027, status="draft")
    session.add_all([older, next_year])
    session.flush()
    w.tokens["alice_2024"] = links.issue(session, TEST_SECRET, older, alice)
    w.tokens["alice_2027"] = links.issue(session, TEST_SECRET, next_year, alice)
    session.commit()
    return w, (failed.id, own.id, mine.id), (foreign, leroy)


def test_erasure_counts_what_it_did_and_says_so_in_the_audit_log(session):
    w, (failed_id, own_id, mine_id), (foreign, leroy) = _erasure_world(session)
    alice, coord = w.pros["alice"], make_user(session, "coord@example.org", territory=w.territory)
    before = {
        inv.id: (inv.nonce, inv.token_hash)
        for inv in session.exec(select(Invitation).where(Invitation.professional_id == alice.id))
    }
    start = datetime.now(UTC)

    summary = privacy.erase_professional(session, alice, "demande écrite", coord)
    session.commit()
    session.expire_all()

    # Hand count: 2 responses (2025 sent, 2026 draft) with 3 + 1 links; 2 contact names she
    # gave, 1 time Bruno gave hers (the variant and Chloé's namesake stay); 2 e-mails,
    # 2 login attempts; 2 live links revoked (2026, the replaced one was already, and
    # 2027); 2 links of closed years disabled (2024, 2025); 2 proposals; 2 directory
    # contacts in Creuse.
    assert (summary.professional_id, summary.already_erased) == (alice.id, False)
    assert (summary.responses_kept, summary.links_kept) == (2, 4)
    assert (summary.contact_names_cleared, summary.named_by_others_cleared) == (2, 1)
    assert (summary.email_logs_deleted, summary.login_attempts_deleted) == (2, 2)
    assert (summary.invitations_revoked, summary.invitations_disabled) == (2, 2)
    assert (summary.structures_unlinked, summary.service_contacts_cleared) == (2, 2)
    line = (
        "2 réponse(s) et 4 lien(s) gardés sans identité ; 3 nom(s) de contact, 2 message(s), "
        "2 tentative(s) de connexion effacés ; 4 lien(s) personnel(s) désactivé(s)"
    )
    assert summary.describe() == line
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "professional.erase")).one()
    assert event.target == f"professionnel {alice.id}"
    assert event.detail == f"demande écrite — {line}"
    assert (event.user_id, event.user_email) == (coord.id, "coord@example.org")
    assert event.territory_id == w.territory.id

    # What stayed: others' rows, the variant, another territory's namesakes.
    names = set(session.exec(select(DeclaredLink.contact_name)).all())
    assert names == {"", "Mme Alice Martin", "Alice Martin"}
    consents = session.exec(
        select(DeclaredLink.contact_consent).where(DeclaredLink.contact_name == "")
    ).all()
    assert not any(consents)
    assert session.exec(select(EmailLog.professional_id)).all() == [w.pros["bruno"].id]
    assert session.exec(select(LoginAttempt.email)).all() == ["bruno@example.org"]
    assert session.get(AuditEvent, failed_id).target == "adresse effacée"
    assert session.get(AuditEvent, own_id).target == "bruno@example.org"
    assert session.get(AuditEvent, mine_id).target == "alice@example.org"
    proposers = session.exec(select(Organisation.name, Organisation.proposed_by_id).where(
        Organisation.status == "proposed")).all()  # fmt: skip
    assert sorted(proposers) == [
        ("Atelier vélo", None), ("Banque alimentaire", None),
        ("Jardin partagé", w.pros["bruno"].id),
    ]  # fmt: skip
    kept = session.get(Service, foreign.id)  # another territory's directory
    assert (kept.contact_name, kept.contact_email) == ("Alice Martin", "alice@example.org")
    kept = session.get(Service, leroy.id)  # someone else in hers
    assert (kept.contact_name, kept.contact_email, kept.contact_consent) == (
        "M. Leroy", "leroy@example.org", True
    )  # fmt: skip
    for key in ("jour", "siao115"):
        svc = session.get(Service, w.services[key].id)
        assert (svc.contact_name, svc.contact_phone, svc.contact_email) == ("", "", "")
        assert svc.contact_consent is False

    # Personal links: every nonce and hash replaced; the replaced one keeps its revocation
    # time, the live one is revoked now, the closed year's stays « invited ».
    invs = {
        inv.id: (inv, status)
        for inv, status in session.exec(
            select(Invitation, Campaign.status)
            .join(Campaign, Campaign.id == Invitation.campaign_id)
            .where(Invitation.professional_id == alice.id)
        )
    }
    assert set(invs) == set(before)
    revoked = []
    for inv_id, (inv, status) in invs.items():
        assert inv.nonce != before[inv_id][0] and inv.token_hash != before[inv_id][1]
        assert len(inv.token_hash) == 64
        if status == "closed":
            assert inv.revoked_at is None
        else:
            revoked.append(inv.revoked_at)
    assert len(revoked) == 3 and sorted(revoked)[0] == T
    assert all(start <= t <= datetime.now(UTC) for t in sorted(revoked)[1:])
    for key in ("alice", "alice_old", "alice_2024", "alice_2025", "alice_2027"):
        assert links.find(session, w.tokens[key]) is None
    assert links.find(session, w.tokens["bruno"]) is not None


def test_erasure_by_retention_is_logged_for_the_territory_without_an_account(session):
    w = build_world(session)
    bruno = w.pros["bruno"]
    privacy.erase_professional(session, bruno, "durée de conservation")
    session.commit()
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "professional.erase")).one()
    assert (event.user_id, event.user_email) == (None, "")
    assert event.territory_id == w.territory.id
    # Bruno had no answer, link or message: zeros, and his link in the open year revoked.
    assert event.detail == (
        "durée de conservation — 0 réponse(s) et 0 lien(s) gardés sans identité ; 0 nom(s) de "
        "contact, 0 message(s), 0 tentative(s) de connexion effacés ; 1 lien(s) personnel(s) "
        "désactivé(s)"
    )


def test_erasing_twice_changes_nothing_and_logs_once(session):
    w = build_world(session)
    alice = w.pros["alice"]
    privacy.erase_professional(session, alice, "test")
    session.commit()
    again = privacy.erase_professional(session, alice, "test")
    session.commit()
    assert again.already_erased and again.describe() == "déjà effacée"
    assert again.responses_kept == 0
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "professional.erase"))
    assert len(events.all()) == 1


def test_someone_without_an_email_is_erased_too(session):
    w = build_world(session)
    bruno = w.pros["bruno"]
    bruno.email = ""
    session.add(bruno)
    session.add(LoginAttempt(email="", ip="10.0.0.1"))  # nothing to do with him
    session.commit()
    assert not privacy.is_erased(bruno)
    summary = privacy.erase_professional(session, bruno, "test")
    session.commit()
    assert not summary.already_erased and summary.login_attempts_deleted == 0
    assert session.get(Professional, bruno.id).full_name == privacy.erased_name(bruno.id)
    assert privacy.is_erased(bruno)
    assert len(session.exec(select(LoginAttempt)).all()) == 1


def test_a_record_named_like_an_erased_one_but_with_an_email_is_not_erased(session):
    w = build_world(session)
    bruno = w.pros["bruno"]
    bruno.full_name = privacy.erased_name(bruno.id)  # typed in by hand
    session.add(bruno)
    session.commit()
    assert not privacy.is_erased(bruno)
    assert not privacy.erase_professional(session, bruno, "test").already_erased
    session.commit()
    assert session.get(Professional, bruno.id).email == ""


# --- retention -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "months", "expected"),
    [
        (datetime(2026, 1, 15, 8, 5, tzinfo=UTC), 1, datetime(2025, 12, 15, 8, 5, tzinfo=UTC)),
        (datetime(2026, 12, 31, tzinfo=UTC), 12, datetime(2025, 12, 31, tzinfo=UTC)),
        (datetime(2026, 12, 31, tzinfo=UTC), 11, datetime(2026, 1, 31, tzinfo=UTC)),
        (datetime(2026, 3, 31, 23, 59, tzinfo=UTC), 1, datetime(2026, 2, 28, 23, 59, tzinfo=UTC)),
        (datetime(2024, 3, 30, tzinfo=UTC), 1, datetime(2024, 2, 29, tzinfo=UTC)),  # leap
        (datetime(2026, 7, 31, tzinfo=UTC), 1, datetime(2026, 6, 30, tzinfo=UTC)),
        (datetime(2026, 6, 1, 12, tzinfo=UTC), 36, datetime(2023, 6, 1, 12, tzinfo=UTC)),
        (datetime(2026, 6, 1, tzinfo=UTC), 0, datetime(2026, 6, 1, tzinfo=UTC)),
    ],
)
def test_months_before_counts_calendar_months(now, months, expected):
    assert privacy.months_before(now, months) == expected


NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CUTOFF = datetime(2023, 6, 1, 12, 0, tzinfo=UTC)  # 36 months before NOW


def _left(session, pro, created: datetime) -> None:
    pro.active, pro.created_at = False, created
    session.add(pro)


def test_retention_ends_exactly_at_the_cutoff(session):
    w = build_world(session)
    alice, bruno, chloe = w.pros["alice"], w.pros["bruno"], w.pros["chloe"]
    _left(session, alice, CUTOFF - timedelta(days=400))
    _left(session, bruno, CUTOFF)  # created exactly at the cutoff: not old enough
    _left(session, chloe, CUTOFF - timedelta(seconds=1))
    resp = _alice_response(session, w)
    # Her last answer, a draft saved exactly at the cutoff, still counts as recent.
    resp.status, resp.submitted_at = "draft", None
    resp.created_at = CUTOFF - timedelta(days=3)
    resp.updated_at = CUTOFF
    session.add(resp)
    session.commit()
    assert [c.professional_id for c in privacy.retention_candidates(session, NOW, 36)] == [chloe.id]
    # Sent then, one second before the cutoff: old enough.
    resp.status = "submitted"
    resp.updated_at = resp.submitted_at = CUTOFF - timedelta(seconds=1)
    session.add(resp)
    session.commit()
    found = privacy.retention_candidates(session, NOW, 36)
    # Corrèze (19) before Creuse (23).
    assert [(c.professional_id, c.territory_code) for c in found] == [
        (chloe.id, "19"), (alice.id, "23")
    ]  # fmt: skip
    assert found[0].organisation == "CAF de la Corrèze"
    assert found[0].last_activity == CUTOFF - timedelta(seconds=1)  # her record, no answer
    assert found[1].last_activity == CUTOFF - timedelta(seconds=1)  # her answer, after it


def test_a_draft_changed_recently_keeps_a_professional(session):
    w = build_world(session)
    alice = w.pros["alice"]
    _left(session, alice, CUTOFF - timedelta(days=400))
    resp = _alice_response(session, w)
    # Her 2025 answer was reopened and saved again as a draft, never sent since.
    resp.status, resp.submitted_at = "draft", None
    resp.updated_at = NOW - timedelta(days=30)
    session.add(resp)
    session.commit()
    assert privacy.retention_candidates(session, NOW, 36) == []


def test_retention_candidates_in_order_with_their_last_activity(session):
    w = build_world(session)
    alice, bruno = w.pros["alice"], w.pros["bruno"]
    _left(session, bruno, datetime(2021, 2, 3, tzinfo=UTC))
    bruno.email = ""  # no address ever known: not for that « already erased »
    session.commit()
    # Alice's record changed last: still listed first (by record number).
    _left(session, alice, datetime(2020, 5, 1, tzinfo=UTC))
    resp = _alice_response(session, w)
    resp.updated_at = resp.submitted_at = datetime(2022, 4, 5, tzinfo=UTC)
    session.add(resp)
    # An old record still in post is kept.
    still = Professional(
        territory_id=w.territory.id,
        full_name="Denise Roy",
        organisation_id=w.orgs["caf"].id,
        created_at=datetime(2019, 1, 1, tzinfo=UTC),
    )
    session.add(still)
    session.commit()
    found = privacy.retention_candidates(session, NOW, 36)
    assert [(c.professional_id, c.last_activity) for c in found] == [
        (alice.id, datetime(2022, 4, 5, tzinfo=UTC)),  # her answer, later than her record
        (bruno.id, datetime(2021, 2, 3, tzinfo=UTC)),  # his record: he never answered
    ]
    assert [c.organisation for c in found] == ["CCAS de Guéret", "CAF de la Creuse"]

    summary = privacy.apply_retention(session, NOW, 36)
    session.commit()
    assert (summary.cutoff, summary.months) == (CUTOFF, 36)
    assert [e.professional_id for e in summary.erased] == [alice.id, bruno.id]
    details = session.exec(
        select(AuditEvent.detail).where(AuditEvent.action == "professional.erase")
    ).all()
    assert len(details) == 2
    assert all(d.startswith("durée de conservation (36 mois sans activité) — ") for d in details)
    assert privacy.retention_candidates(session, NOW, 36) == []  # erased: not again


def test_retention_of_one_month_is_allowed_and_zero_refused(session):
    w = build_world(session)
    _left(session, w.pros["bruno"], NOW - timedelta(days=40))
    session.commit()
    assert [c.professional_id for c in privacy.retention_candidates(session, NOW, 1)] == [
        w.pros["bruno"].id
    ]
    with pytest.raises(ValueError):
        privacy.retention_candidates(session, NOW, 0)
    with pytest.raises(ValueError):
        privacy.logs_to_purge(session, NOW, 0)


# --- logs ------------------------------------------------------------------------------------


def test_purge_trace_says_what_went_and_what_stayed(session):
    audit(session, None, "campaign.create").at = NOW - timedelta(days=40)
    audit(session, None, "login").at = NOW - timedelta(days=2)
    session.add(LoginAttempt(email="x@example.org", ip="10.0.0.1", at=NOW - timedelta(days=31)))
    session.add(LinkFailure(ip="10.0.0.2", at=NOW - timedelta(minutes=11)))
    session.add(LinkFailure(ip="10.0.0.2", at=NOW - timedelta(minutes=12)))
    session.commit()
    purged = privacy.purge_logs(session, NOW, 1)  # one month: the shortest allowed
    session.commit()
    assert (purged.audit_cutoff, purged.audit_months) == (datetime(2026, 5, 1, 12, tzinfo=UTC), 1)
    counted = privacy.logs_to_purge(session, NOW, 12)  # what `carte retention` lists
    assert (counted.audit_cutoff, counted.audit_months) == (
        datetime(2025, 6, 1, 12, tzinfo=UTC),
        12,
    )
    assert (purged.audit_events, purged.login_attempts, purged.link_failures) == (1, 1, 2)
    text = (
        "1 action(s) du journal antérieure(s) au 01/05/2026 effacée(s) (conservation : 1 mois ; "
        "effacements de professionnels gardés) ; 1 tentative(s) de connexion et 2 trace(s) de "
        "liens inconnus effacée(s)"
    )
    assert purged.describe() == text
    trace = session.exec(select(AuditEvent).where(AuditEvent.action == "audit.purge")).one()
    assert (trace.detail, trace.target, trace.territory_id) == (text, "journal d'audit", None)
    assert session.exec(select(AuditEvent.action).order_by(AuditEvent.id)).all() == [
        "login", "audit.purge"
    ]  # fmt: skip

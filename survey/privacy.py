"""A professional's personal data (RGPD): export, erasure and retention.

Erasure removes the identity and keeps the answers. Responses and declared links carry only
structure ids, so a closed campaign's graph and figures are the same before and after: the
département's counts do not move when someone exercises their right. What goes:
- name (becomes « Personne effacée n°ID »), e-mail and function; the person is marked as
  having left, so no campaign invites them again;
- free texts they typed (comment, « autre » details, function at the time) and the contact
  names they gave; their own name where others gave it as a contact (exact match);
- the e-mails sent to them, the login attempts with their address, the link from the
  structures they proposed, a directory contact carrying their e-mail or name;
- their personal links: revoked in campaigns not yet closed; in closed campaigns the token
  is replaced by a random one (the link dies while the invitation still counts as « invited »,
  so the response rate of a closed year does not change).
Every erasure is written to the audit log (no identity in it).

Retention: professionals who left long ago are erased (`apply_retention`); the audit log, login
attempts and unknown-link traces are shortened (`purge_logs`), keeping erasure records.

Nothing here commits: the caller commits.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import delete, exists, func, or_, update
from sqlmodel import Session, col, select

from survey import fields, link_throttle, vocab
from survey.accounts import (
    AuditEvent,
    LoginAttempt,
    User,
    audit,
    expired_login_attempts,
    normalise_email,
    purge_login_attempts,
)
from survey.db import changed_rows
from survey.mailing import EmailLog
from survey.models import (
    Body,
    Campaign,
    DeclaredLink,
    Invitation,
    Organisation,
    Professional,
    Response,
    Service,
    Territory,
    utcnow,
)
from survey.questionnaire import answers_of

ERASED_PREFIX = "Personne effacée n°"
EXPORT_FORMAT = "carte-partenariale/mes-donnees"
EXPORT_VERSION = 1
DEFAULT_RETENTION_MONTHS = 36
ERASE_ACTION = "professional.erase"
AUDIT_PURGE_ACTION = "audit.purge"
# Audit events kept beyond the audit log's retention. Erasure records prove that a request was
# carried out and list the erasures to re-apply after restoring an older backup (docs/rgpd.md,
# section 5); they name no one but a record number. Purge traces show when and how far the
# log was shortened; they hold no personal data.
AUDIT_KEPT_ACTIONS = (ERASE_ACTION, AUDIT_PURGE_ACTION)


def erased_name(professional_id: int | None) -> str:
    return f"{ERASED_PREFIX}{professional_id}"


def is_erased(professional: Professional) -> bool:
    return professional.full_name == erased_name(professional.id) and not professional.email


# --- export --------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def _labelled(codes: list[str], labels: Mapping) -> list[dict[str, str]]:
    return [{"code": c, "label": labels.get(c, c)} for c in codes]


def _code(code, labels: Mapping) -> dict | None:
    return None if code is None else {"code": code, "label": labels.get(code, str(code))}


def _names(session: Session, model, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.exec(select(model.id, model.name).where(col(model.id).in_(ids))).all())


def _exported(
    answers: object, registry: tuple[fields.AnswerField, ...], bodies: dict[int, str] | None = None
) -> dict[str, object]:
    """The answers of `registry` under their export keys, codes with their labels (bodies by
    name)."""
    out: dict[str, object] = {}
    for f in registry:
        value = getattr(answers, f.name)
        if f.name == "body_ids":
            out[f.export_key] = [(bodies or {}).get(b, "") for b in value]
        elif f.vocabulary is None:
            out[f.export_key] = value
        elif f.kind == "codes":
            out[f.export_key] = _labelled(value, f.vocabulary)
        else:
            out[f.export_key] = _code(value, f.vocabulary)
    return out


def export_own_data(session: Session, professional: Professional) -> dict:
    """Everything stored about `professional`, as a JSON-ready dict (codes with labels).

    Read-only. Contains no other professional's data except the contact names this person
    typed themselves.
    """
    pro = professional
    territory = session.get(Territory, pro.territory_id)
    responses = list(
        session.exec(
            select(Response, Campaign.year)
            .join(Campaign, col(Campaign.id) == Response.campaign_id)
            .where(Response.professional_id == pro.id)
            .order_by(col(Campaign.year))
        ).all()
    )
    answers = [(resp, year, answers_of(session, resp)) for resp, year in responses]
    org_ids: set[int | None] = {pro.organisation_id, *(r.organisation_id for r, _, _ in answers)}
    svc_ids: set[int | None] = {pro.service_id} | {r.service_id for r, _, _ in answers}
    body_ids: set[int] = set()
    for _, _, a in answers:
        org_ids |= {lk.partner_organisation_id for lk in a.links}
        svc_ids |= {lk.partner_service_id for lk in a.links}
        body_ids |= set(a.body_ids)
    orgs = _names(session, Organisation, {i for i in org_ids if i})
    services = _names(session, Service, {i for i in svc_ids if i})
    bodies = _names(session, Body, body_ids)

    def response_dict(resp: Response, year: int, a) -> dict:
        return {
            "campagne": year,
            "statut": "envoyée" if resp.status == "submitted" else "brouillon",
            "creee_le": _iso(resp.created_at),
            "modifiee_le": _iso(resp.updated_at),
            "envoyee_le": _iso(resp.submitted_at),
            "structure": orgs.get(resp.organisation_id, ""),
            "service": services.get(resp.service_id, "") if resp.service_id else "",
            # The partners come after the respondent's post (function, years, count), as
            # in `Answers`.
            **_exported(a, fields.RESPONSE_FIELDS[:3]),
            "partenaires": [
                {
                    "structure": orgs.get(lk.partner_organisation_id, ""),
                    "service": services.get(lk.partner_service_id, "")
                    if lk.partner_service_id
                    else "",
                    "etat": _code(lk.status, vocab.LINK_STATUSES),
                    **_exported(lk, fields.LINK_FIELDS),
                }
                for lk in a.links
            ],
            **_exported(a, fields.RESPONSE_FIELDS[3:], bodies),
        }

    invitations = session.exec(
        select(Invitation, Campaign.year)
        .join(Campaign, col(Campaign.id) == Invitation.campaign_id)
        .where(Invitation.professional_id == pro.id)
        .order_by(col(Invitation.id))
    ).all()
    emails = session.exec(
        select(EmailLog, Campaign.year)
        .join(Campaign, col(Campaign.id) == EmailLog.campaign_id)
        .where(EmailLog.professional_id == pro.id)
        .order_by(col(EmailLog.id))
    ).all()
    proposed = session.exec(
        select(Organisation.name).where(Organisation.proposed_by_id == pro.id)
    ).all()
    contacts = session.exec(
        select(Service, Organisation.name)
        .join(Organisation, col(Organisation.id) == Service.organisation_id)
        .where(Organisation.territory_id == pro.territory_id, _service_contact_is(pro))
    ).all()
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exporte_le": _iso(utcnow()),
        "territoire": {"code": territory.code, "nom": territory.name} if territory else None,
        "personne": {
            "identifiant": pro.id,
            "nom": pro.full_name,
            "email": pro.email,
            "fonction": pro.function,
            "structure": orgs.get(pro.organisation_id, ""),
            "service": services.get(pro.service_id, "") if pro.service_id else "",
            "en_poste": pro.active,
            "fiche_creee_le": _iso(pro.created_at),
        },
        "reponses": [response_dict(r, y, a) for r, y, a in answers],
        "liens_personnels": [
            {
                "campagne": year,
                "cree_le": _iso(inv.created_at),
                "revoque_le": _iso(inv.revoked_at),
            }
            for inv, year in invitations
        ],
        "messages_recus": [
            {
                "campagne": year,
                "type": log.kind,
                "envoye_le": _iso(log.sent_at),
                "statut": "envoyé" if log.status == "sent" else "échec",
            }
            for log, year in emails
        ],
        "structures_proposees": sorted(proposed),
        "contacts_du_repertoire": [
            {
                "structure": org_name,
                "service": svc.name,
                "role": svc.contact_role,
                "nom": svc.contact_name,
                "telephone": svc.contact_phone,
                "email": svc.contact_email,
                "visible_des_professionnels": svc.contact_consent,
            }
            for svc, org_name in contacts
        ],
    }


def _same_name(column, name: str):
    return func.lower(func.trim(column)) == " ".join(name.split()).lower()


def _service_contact_is(pro: Professional):
    """A directory contact that is this person: same e-mail, or same name."""
    clauses = []
    if pro.email.strip():
        clauses.append(func.lower(Service.contact_email) == normalise_email(pro.email))
    if pro.full_name.strip() and not is_erased(pro):
        clauses.append(_same_name(Service.contact_name, pro.full_name))
    return or_(*clauses) if clauses else Service.id == -1


# --- erasure -------------------------------------------------------------------------------


@dataclass
class ErasureSummary:
    professional_id: int
    already_erased: bool = False
    responses_kept: int = 0
    links_kept: int = 0
    contact_names_cleared: int = 0  # names they gave
    named_by_others_cleared: int = 0  # their name given by others as a contact
    email_logs_deleted: int = 0
    invitations_revoked: int = 0  # campaigns not closed
    invitations_disabled: int = 0  # closed campaigns: token replaced
    login_attempts_deleted: int = 0
    structures_unlinked: int = 0
    service_contacts_cleared: int = 0

    def describe(self) -> str:
        """One French line for the audit log and the CLI."""
        if self.already_erased:
            return "déjà effacée"
        return (
            f"{self.responses_kept} réponse(s) et {self.links_kept} lien(s) gardés sans "
            f"identité ; {self.contact_names_cleared + self.named_by_others_cleared} nom(s) "
            f"de contact, {self.email_logs_deleted} message(s), "
            f"{self.login_attempts_deleted} tentative(s) de connexion effacés ; "
            f"{self.invitations_revoked + self.invitations_disabled} lien(s) personnel(s) "
            f"désactivé(s)"
        )


def _count(session: Session, stmt) -> int:
    return session.exec(stmt).one()


def erase_professional(
    session: Session, professional: Professional, by: str, user: User | None = None
) -> ErasureSummary:
    """Erase the identity of `professional` (see the module docstring), audit it as `by`
    (e.g. « la personne, par son lien personnel »). Idempotent. The caller commits."""
    pro = professional
    assert pro.id is not None  # a stored professional
    summary = ErasureSummary(professional_id=pro.id)
    if is_erased(pro):
        summary.already_erased = True
        return summary
    old_email = normalise_email(pro.email)
    old_name = " ".join(pro.full_name.split())
    mine = select(Response.id).where(Response.professional_id == pro.id)

    # Directory contacts first: matching needs the identity still in place.
    services = list(
        session.exec(
            select(Service)
            .join(Organisation, col(Organisation.id) == Service.organisation_id)
            .where(Organisation.territory_id == pro.territory_id, _service_contact_is(pro))
        ).all()
    )
    for svc in services:
        svc.contact_name = svc.contact_phone = svc.contact_email = ""
        svc.contact_consent = False
        session.add(svc)
    summary.service_contacts_cleared = len(services)

    summary.responses_kept = _count(
        session, select(func.count(col(Response.id))).where(Response.professional_id == pro.id)
    )
    summary.links_kept = _count(
        session,
        select(func.count(col(DeclaredLink.id))).where(col(DeclaredLink.response_id).in_(mine)),
    )
    summary.contact_names_cleared = _count(
        session,
        select(func.count(col(DeclaredLink.id))).where(
            col(DeclaredLink.response_id).in_(mine), DeclaredLink.contact_name != ""
        ),
    )
    session.execute(
        update(Response)
        .where(col(Response.professional_id) == pro.id)
        .values(fields.erased_values(fields.RESPONSE_FIELDS))
    )
    session.execute(
        update(DeclaredLink)
        .where(col(DeclaredLink.response_id).in_(mine))
        .values(fields.erased_values(fields.LINK_FIELDS))
    )
    if old_name:
        territory_responses = (
            select(Response.id)
            .join(Campaign, col(Campaign.id) == Response.campaign_id)
            .where(Campaign.territory_id == pro.territory_id)
        )
        result = session.execute(
            update(DeclaredLink)
            .where(
                col(DeclaredLink.response_id).in_(territory_responses),
                _same_name(DeclaredLink.contact_name, old_name),
            )
            .values(contact_name="", contact_consent=False)
            .execution_options(synchronize_session=False)
        )
        summary.named_by_others_cleared = changed_rows(result)

    summary.email_logs_deleted = changed_rows(
        session.execute(delete(EmailLog).where(col(EmailLog.professional_id) == pro.id))
    )
    if old_email:
        summary.login_attempts_deleted = changed_rows(
            session.execute(delete(LoginAttempt).where(func.lower(LoginAttempt.email) == old_email))
        )
        # Failed logins with this address by someone without an account name it in the log.
        session.execute(
            update(AuditEvent)
            .where(col(AuditEvent.user_id).is_(None), func.lower(AuditEvent.target) == old_email)
            .values(target="adresse effacée")
        )

    now = utcnow()
    invitations = session.exec(
        select(Invitation, Campaign.status)
        .join(Campaign, col(Campaign.id) == Invitation.campaign_id)
        .where(Invitation.professional_id == pro.id)
    ).all()
    for inv, status in invitations:
        # A random nonce and hash: no token, even derived with the secret, opens it again.
        inv.nonce = secrets.token_urlsafe(24)
        inv.token_hash = hashlib.sha256(secrets.token_bytes(32)).hexdigest()
        if status == "closed":
            summary.invitations_disabled += 1
        elif inv.revoked_at is None:
            inv.revoked_at = now
            summary.invitations_revoked += 1
        session.add(inv)

    summary.structures_unlinked = changed_rows(
        session.execute(
            update(Organisation)
            .where(col(Organisation.proposed_by_id) == pro.id)
            .values(proposed_by_id=None)
            .execution_options(synchronize_session=False)
        )
    )

    pro.full_name = erased_name(pro.id)
    pro.email = ""
    pro.function = ""
    pro.active = False
    session.add(pro)
    audit(
        session,
        user,
        ERASE_ACTION,
        target=f"professionnel {pro.id}",
        detail=f"{by} — {summary.describe()}",
        territory_id=pro.territory_id,
    )
    session.flush()
    return summary


# --- retention -----------------------------------------------------------------------------


def months_before(now: datetime, months: int) -> datetime:
    """`now` minus whole calendar months (the day is clamped: 31 May - 3 months = 28 Feb)."""
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    month += 1
    day = now.day
    while True:
        try:
            return now.replace(year=year, month=month, day=day)
        except ValueError:
            day -= 1


@dataclass
class RetentionCandidate:
    professional_id: int
    territory_code: str
    organisation: str
    last_activity: datetime


@dataclass
class RetentionSummary:
    cutoff: datetime
    months: int
    erased: list[ErasureSummary] = field(default_factory=list)


def retention_candidates(session: Session, now: datetime, months: int) -> list[RetentionCandidate]:
    """Professionals who have left their post (inactive), not yet erased, whose record and
    every response are older than `months` months before `now`."""
    if months < 1:
        raise ValueError("months must be at least 1")
    cutoff = months_before(now, months)
    recent_response = exists().where(
        col(Response.professional_id) == Professional.id,
        or_(col(Response.updated_at) >= cutoff, col(Response.submitted_at) >= cutoff),
    )
    last_response = (
        select(func.max(Response.updated_at))
        .where(Response.professional_id == Professional.id)
        .scalar_subquery()
    )
    # sqlmodel types exec() for its own select() of up to 4 columns; add_columns gives a 5th.
    rows = session.exec(  # type: ignore[call-overload]
        select(Professional.id, Territory.code, Organisation.name, Professional.created_at)
        .add_columns(last_response)
        .join(Territory, col(Territory.id) == Professional.territory_id)
        .join(Organisation, col(Organisation.id) == Professional.organisation_id)
        .where(
            col(Professional.active).is_(False),
            col(Professional.created_at) < cutoff,
            # Not already erased: an erased record has no e-mail and the generated name.
            ~(
                (col(Professional.email) == "")
                & col(Professional.full_name).startswith(ERASED_PREFIX)
            ),
            ~recent_response,
        )
        .order_by(col(Territory.code), col(Professional.id))
    ).all()
    return [
        RetentionCandidate(pid, code, org, max(d for d in (created, last) if d is not None))
        for pid, code, org, created, last in rows
    ]


def apply_retention(session: Session, now: datetime, months: int) -> RetentionSummary:
    """Erase every retention candidate (see `retention_candidates`). The caller commits."""
    summary = RetentionSummary(cutoff=months_before(now, months), months=months)
    for cand in retention_candidates(session, now, months):
        pro = session.get(Professional, cand.professional_id)
        assert pro is not None  # a candidate is a stored professional
        by = f"durée de conservation ({months} mois sans activité)"
        summary.erased.append(erase_professional(session, pro, by))
    return summary


# --- logs: audit log, login attempts, unknown links ----------------------------------------


@dataclass
class LogPurge:
    """What `purge_logs` deletes (or, from `logs_to_purge`, would delete)."""

    audit_cutoff: datetime
    audit_months: int
    audit_events: int = 0
    login_attempts: int = 0
    link_failures: int = 0

    def describe(self) -> str:
        """One French line for the purge trace in the audit log."""
        return (
            f"{self.audit_events} action(s) du journal antérieure(s) au "
            f"{self.audit_cutoff:%d/%m/%Y} effacée(s) (conservation : {self.audit_months} mois ; "
            f"effacements de professionnels gardés) ; {self.login_attempts} tentative(s) de "
            f"connexion et {self.link_failures} trace(s) de liens inconnus effacée(s)"
        )


def _expired_audit_events(cutoff: datetime):
    return (col(AuditEvent.at) < cutoff, col(AuditEvent.action).not_in(AUDIT_KEPT_ACTIONS))


def logs_to_purge(session: Session, now: datetime, audit_months: int) -> LogPurge:
    """Count what `purge_logs` would delete at `now`. Read-only."""
    if audit_months < 1:
        raise ValueError("audit_months must be at least 1")
    cutoff = months_before(now, audit_months)
    count = select(func.count())
    return LogPurge(
        audit_cutoff=cutoff,
        audit_months=audit_months,
        audit_events=_count(
            session, count.select_from(AuditEvent).where(*_expired_audit_events(cutoff))
        ),
        login_attempts=_count(
            session, count.select_from(LoginAttempt).where(expired_login_attempts(now))
        ),
        link_failures=_count(
            session,
            count.select_from(link_throttle.LinkFailure).where(link_throttle.expired(now)),
        ),
    )


def purge_logs(session: Session, now: datetime, audit_months: int) -> LogPurge:
    """Delete audit events older than `audit_months` months (except `AUDIT_KEPT_ACTIONS`),
    login attempts older than 30 days and unknown-link traces older than their window, then
    write one audit event saying so: the log keeps a trace that it was shortened.

    Set-based deletes; nothing here commits: the caller commits, in the same transaction as
    the rest of the retention."""
    if audit_months < 1:
        raise ValueError("audit_months must be at least 1")
    purge = LogPurge(audit_cutoff=months_before(now, audit_months), audit_months=audit_months)
    purge.audit_events = changed_rows(
        session.execute(
            delete(AuditEvent)
            .where(*_expired_audit_events(purge.audit_cutoff))
            .execution_options(synchronize_session=False)
        )
    )
    purge.login_attempts = purge_login_attempts(session, now=now)
    purge.link_failures = link_throttle.purge(session, now)
    audit(session, None, AUDIT_PURGE_ACTION, target="journal d'audit", detail=purge.describe())
    session.flush()
    return purge

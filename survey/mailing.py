"""Optional e-mail: invitation and at most two reminders per professional and campaign.

Templates are editable per territory (defaults below when none is saved); placeholders are
replaced literally ({nom}, {lien}, {date_cloture}, {annee}, {duree}), never through str.format,
so a template cannot reach Python attributes; {duree} is `survey.timing.promise` for the number
of partners the person's questionnaire carries from last year. Every message sent or failed is
logged (EmailLog); a failure is recorded per message and never raised to the caller.

Who receives what (active professionals with an e-mail and a live personal link):
- invitation: anyone not yet successfully invited by e-mail;
- reminder1: anyone who has not submitted and has not had a first reminder;
- reminder2: anyone who has not submitted, had the first reminder and not yet the second.
A failed message stays due and is retried by the next sending.

Scheduled reminders: a campaign's `reminder1_on` / `reminder2_on` say from which day
`send_due` (the `carte remind --due` command, run daily by cron or a systemd timer) sends each
reminder. Who receives it is decided by the rules above, so running it twice sends nothing
twice, and a day missed is caught up on the next run.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from sqlalchemy import Column, Index, Select, Text, UniqueConstraint, exists, func
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Subquery
from sqlmodel import Field, Session, SQLModel, and_, col, select

from survey import french, links, timing
from survey.campaigns import link_url
from survey.db import stored_id
from survey.models import (
    Campaign,
    DeclaredLink,
    Invitation,
    Organisation,
    Professional,
    Response,
    Territory,
    utcnow,
)
from survey.text import field_problems

KINDS = ("invitation", "reminder1", "reminder2")
SCHEDULED = ("reminder1", "reminder2")  # the kinds a campaign gives a date to
KIND_LABELS = {
    "invitation": "Invitation",
    "reminder1": "Première relance",
    "reminder2": "Seconde relance",
}
PLACEHOLDERS = {
    "nom": "le nom de la personne",
    "lien": "son lien personnel",
    "date_cloture": "la date de clôture",
    "annee": "l'année de la campagne",
    "duree": (
        "le temps à prévoir, calculé pour chaque personne d'après le nombre de partenaires "
        f"repris de l'an dernier, par exemple « {timing.promise(12)} » (12 partenaires repris) "
        f"ou « {timing.promise(0)} » (première réponse)"
    ),
}
SUBJECT_MAX = 200
BODY_MAX = 10_000
BATCH_SIZE = 50
SMTP_TIMEOUT = 15
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class EmailTemplate(SQLModel, table=True):
    """A territory's wording of one kind of message."""

    __table_args__ = (UniqueConstraint("territory_id", "kind", name="uq_emailtemplate_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    territory_id: int = Field(foreign_key="territory.id", index=True)
    kind: str = Field(max_length=12)  # KINDS
    subject: str = Field(max_length=SUBJECT_MAX)
    body: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class EmailLog(SQLModel, table=True):
    """One message sent (or attempted) to one professional for one campaign."""

    __table_args__ = (
        Index("ix_emaillog_campaign_kind_professional", "campaign_id", "kind", "professional_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    professional_id: int = Field(foreign_key="professional.id", index=True)
    kind: str = Field(max_length=12)  # KINDS
    sent_at: datetime = Field(default_factory=utcnow)
    status: str = Field(max_length=10)  # sent | failed
    error: str = Field(default="", max_length=500)


DEFAULT_TEMPLATES: dict[str, tuple[str, str]] = {
    "invitation": (
        "Carte partenariale {annee} : votre questionnaire",
        "Bonjour {nom},\n\n"
        "La carte partenariale {annee} de notre territoire est ouverte. Vous y indiquez avec "
        "quels partenaires vous travaillez, de façon formelle ou informelle, et ce que vous "
        "construisez ensemble autour des personnes accompagnées. Si vous avez répondu l'an "
        "dernier, vos réponses sont reprises : il suffit de les confirmer ou de les corriger. "
        "Cela vous prendra {duree}.\n\n"
        "Votre lien personnel (ne le transmettez pas) :\n{lien}\n\n"
        "Vous pouvez enregistrer un brouillon et revenir plus tard. Le questionnaire est "
        "ouvert jusqu'au {date_cloture}.\n\n"
        "Merci pour votre participation.\n",
    ),
    "reminder1": (
        "Rappel : carte partenariale {annee}",
        "Bonjour {nom},\n\n"
        "Vous n'avez pas encore envoyé vos réponses à la carte partenariale {annee}. "
        "Elles sont précieuses pour que chacun connaisse mieux les partenaires du territoire. "
        "Cela vous prendra {duree}.\n\n"
        "Votre lien personnel :\n{lien}\n\n"
        "Le questionnaire est ouvert jusqu'au {date_cloture}.\n\nMerci.\n",
    ),
    "reminder2": (
        "Dernier rappel : carte partenariale {annee}",
        "Bonjour {nom},\n\n"
        "Dernier rappel : la carte partenariale {annee} se termine le {date_cloture}. "
        "Si vous avez commencé, votre brouillon vous attend.\n\n"
        "Votre lien personnel :\n{lien}\n\nMerci.\n",
    ),
}


class TemplateInvalid(Exception):
    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


@dataclass
class SmtpConfig:
    host: str
    port: int = 25
    user: str = ""
    password: str = ""
    starttls: bool = False
    mail_from: str = ""


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)  # a few distinct messages, for the page


# --- templates -----------------------------------------------------------------------------


def get_templates(session: Session, territory_id: int) -> dict[str, tuple[str, str]]:
    """kind -> (subject, body): the territory's own wording, else the default."""
    saved = {
        t.kind: (t.subject, t.body)
        for t in session.exec(
            select(EmailTemplate).where(EmailTemplate.territory_id == territory_id)
        )
    }
    return {kind: saved.get(kind, DEFAULT_TEMPLATES[kind]) for kind in KINDS}


def check_template(subject: str, body: str) -> dict[str, str]:
    """French problems per field ("subject", "body"); empty when the template is usable."""
    problems: dict[str, str] = {}
    if not subject:
        problems["subject"] = "L'objet ne peut pas être vide."
    elif len(subject) > SUBJECT_MAX:
        problems["subject"] = f"Objet trop long : {SUBJECT_MAX} caractères au maximum."
    elif "\n" in subject or "\r" in subject:
        problems["subject"] = "L'objet doit tenir sur une seule ligne."
    if not body:
        problems["body"] = "Le message ne peut pas être vide."
    elif len(body) > BODY_MAX:
        problems["body"] = f"Message trop long : {BODY_MAX} caractères au maximum."
    elif "{lien}" not in body:
        problems["body"] = (
            "Le message doit contenir {lien} : sans lui, la personne ne peut pas répondre."
        )
    for name, text in (("subject", subject), ("body", body)):
        unknown = sorted({m for m in _PLACEHOLDER.findall(text) if m not in PLACEHOLDERS})
        if unknown and name not in problems:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            problems[name] = (
                "Repère inconnu : "
                + ", ".join("{" + u + "}" for u in unknown)
                + f". Repères possibles : {known}."
            )
    return problems


def save_template(
    session: Session, territory_id: int, kind: str, subject: str, body: str
) -> EmailTemplate:
    """Store the territory's wording of `kind`. Raises TemplateInvalid."""
    if kind not in KINDS:
        raise TemplateInvalid({"kind": "Type de message inconnu."})
    # survey.text's rule, on the text as sent (strip() would drop some of its characters).
    refused = field_problems(
        {"subject": subject, "body": body}, {"subject": "Objet", "body": "Message"}
    )
    if refused:
        raise TemplateInvalid(refused)
    subject, body = subject.strip(), body.replace("\r\n", "\n").strip() + "\n"
    problems = check_template(subject, body.strip())
    if problems:
        raise TemplateInvalid(problems)
    template = session.exec(
        select(EmailTemplate).where(
            EmailTemplate.territory_id == territory_id, EmailTemplate.kind == kind
        )
    ).first() or EmailTemplate(territory_id=territory_id, kind=kind, subject="", body="")
    template.subject, template.body, template.updated_at = subject, body, utcnow()
    session.add(template)
    session.flush()
    return template


def reset_template(session: Session, territory_id: int, kind: str) -> None:
    """Back to the default wording."""
    template = session.exec(
        select(EmailTemplate).where(
            EmailTemplate.territory_id == territory_id, EmailTemplate.kind == kind
        )
    ).first()
    if template is not None:
        session.delete(template)
        session.flush()


def render(text: str, values: dict[str, str]) -> str:
    """Replace the known placeholders literally; anything else is left as typed."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def placeholder_values(
    campaign: Campaign, full_name: str, link: str, carried_partners: int
) -> dict[str, str]:
    return {
        "nom": full_name,
        "lien": link,
        # A campaign may have no closing date yet: the sentence still reads.
        "date_cloture": french.date_fr(campaign.closes_on, space=" ") or "la fin de la campagne",
        "annee": str(campaign.year),
        "duree": timing.promise(carried_partners),
    }


# --- who is due ----------------------------------------------------------------------------


def _sent(campaign: Campaign, kind: str):
    return exists().where(
        col(EmailLog.campaign_id) == campaign.id,
        col(EmailLog.professional_id) == Professional.id,
        col(EmailLog.kind) == kind,
        col(EmailLog.status) == "sent",
    )


def _due_conditions(campaign: Campaign, kind: str) -> list:
    if kind not in KINDS:
        raise ValueError(kind)
    inv = aliased(Invitation)  # the outer query of _due selects Invitation too
    live_link = exists().where(
        col(inv.campaign_id) == campaign.id,
        col(inv.professional_id) == Professional.id,
        col(inv.revoked_at).is_(None),
    )
    submitted = exists().where(
        col(Response.campaign_id) == campaign.id,
        col(Response.professional_id) == Professional.id,
        col(Response.status) == "submitted",
    )
    conditions = [
        Professional.territory_id == campaign.territory_id,
        col(Professional.active).is_(True),
        Professional.email != "",
        live_link,
        ~_sent(campaign, kind),
    ]
    if kind != "invitation":
        conditions.append(~submitted)
    if kind == "reminder2":
        conditions.append(_sent(campaign, "reminder1"))
    return conditions


def due_counts(session: Session, campaign: Campaign) -> dict[str, int]:
    """kind -> how many professionals a sending of that kind would reach now."""
    return {
        kind: session.exec(
            select(func.count(col(Professional.id))).where(*_due_conditions(campaign, kind))
        ).one()
        for kind in KINDS
    }


def without_email(session: Session, campaign: Campaign) -> int:
    """Active professionals of the territory who cannot be reached by e-mail."""
    return session.exec(
        select(func.count(col(Professional.id))).where(
            Professional.territory_id == campaign.territory_id,
            col(Professional.active).is_(True),
            Professional.email == "",
        )
    ).one()


def carried_partners(campaign: Campaign) -> Subquery:
    """Subquery (professional_id, partners): for each professional of the campaign's territory,
    how many partners their questionnaire of `campaign` carries from last year, counted in SQL.

    As `survey.questionnaire.previous_response` and `carried_forward`: the links not marked
    « plus de contact » (nor pointing to an archived structure) of their latest submitted
    response in an earlier campaign of the territory, else of the professional they took
    over from; 0 for a first answer. What they may have answered since is not looked at.
    """
    latest: Select = (
        select(
            col(Response.professional_id),
            col(Response.id).label("response_id"),
            func.row_number()
            .over(partition_by=col(Response.professional_id), order_by=col(Campaign.year).desc())
            .label("recency"),
        )
        .join(Campaign, col(Campaign.id) == Response.campaign_id)
        .where(
            Campaign.territory_id == campaign.territory_id,
            Campaign.year < campaign.year,
            Response.status == "submitted",
        )
    )
    own, predecessor = latest.subquery("own"), latest.subquery("predecessor")
    source = func.coalesce(own.c.response_id, predecessor.c.response_id)
    return (
        select(
            col(Professional.id).label("professional_id"),
            func.count(col(Organisation.id)).label("partners"),
        )
        .outerjoin(own, and_(own.c.professional_id == Professional.id, own.c.recency == 1))
        .outerjoin(
            predecessor,
            and_(
                predecessor.c.professional_id == Professional.took_over_from_id,
                predecessor.c.recency == 1,
            ),
        )
        .outerjoin(
            DeclaredLink,
            and_(DeclaredLink.response_id == source, DeclaredLink.status != "ended"),
        )
        .outerjoin(
            Organisation,
            and_(
                Organisation.id == DeclaredLink.partner_organisation_id,
                Organisation.status != "archived",
            ),
        )
        .where(Professional.territory_id == campaign.territory_id)
        .group_by(col(Professional.id))
        .subquery("carried")
    )


def _due(
    session: Session, campaign: Campaign, kind: str
) -> list[tuple[Professional, Invitation, int]]:
    """Who is due `kind`, their live link and the partners their questionnaire carries (for
    {duree}): one query."""
    carried = carried_partners(campaign)
    latest_live = (
        select(col(Invitation.professional_id), func.max(col(Invitation.id)).label("invitation_id"))
        .where(Invitation.campaign_id == campaign.id, col(Invitation.revoked_at).is_(None))
        .group_by(col(Invitation.professional_id))
        .subquery()
    )
    return list(
        session.exec(
            select(Professional, Invitation, carried.c.partners)
            .join(latest_live, latest_live.c.professional_id == Professional.id)
            .join(Invitation, col(Invitation.id) == latest_live.c.invitation_id)
            .join(carried, carried.c.professional_id == Professional.id)
            .where(*_due_conditions(campaign, kind))
            .order_by(col(Professional.id))
        ).all()
    )


# --- sending -------------------------------------------------------------------------------


def build_message(
    smtp: SmtpConfig, template: tuple[str, str], values: dict[str, str], to: str
) -> EmailMessage:
    subject, body = template
    msg = EmailMessage()
    msg["From"] = smtp.mail_from
    msg["To"] = formataddr((values["nom"].replace("\n", " "), to))
    # A name is data typed by someone: never let it break the header onto a new line.
    msg["Subject"] = " ".join(render(subject, values).split())
    msg["Date"] = formatdate(localtime=True)
    domain = smtp.mail_from.rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(render(body, values))
    return msg


def send(
    session: Session,
    campaign: Campaign,
    kind: str,
    smtp: SmtpConfig,
    secret: str,
    base_url: str,
    batch_size: int = BATCH_SIZE,
) -> SendReport:
    """Send `kind` to everyone due, one SMTP connection per batch; log every message and
    commit after each batch so a crash mid-way does not make anyone receive it twice."""
    if campaign.status != "open":
        raise ValueError("campaign not open")
    template = get_templates(session, campaign.territory_id)[kind]
    due = _due(session, campaign, kind)
    report = SendReport()
    for start in range(0, len(due), batch_size):
        _send_batch(
            session,
            campaign,
            kind,
            smtp,
            secret,
            base_url,
            template,
            due[start : start + batch_size],
            report,
        )
        session.commit()
    return report


def _send_batch(session, campaign, kind, smtp, secret, base_url, template, batch, report) -> None:
    def log(pro: Professional, error: str = "") -> None:
        session.add(
            EmailLog(
                campaign_id=campaign.id,
                professional_id=stored_id(pro),
                kind=kind,
                status="failed" if error else "sent",
                error=error[:500],
            )
        )
        if error:
            report.failed += 1
            if error not in report.errors and len(report.errors) < 5:
                report.errors.append(error)
        else:
            report.sent += 1

    try:
        conn = _connect(smtp)
    except (OSError, smtplib.SMTPException) as exc:
        for pro, _inv, _partners in batch:
            log(pro, f"Connexion au serveur d'envoi impossible : {_describe(exc)}")
        return
    try:
        for pro, inv, partners in batch:
            email = pro.email.strip()
            if not _EMAIL.match(email):
                log(pro, f"Adresse e-mail invalide : « {email} ».")
                continue
            link = link_url(base_url, links.token_for(secret, inv))
            values = placeholder_values(campaign, pro.full_name, link, partners)
            try:
                conn.send_message(build_message(smtp, template, values, email))
            except smtplib.SMTPServerDisconnected as exc:
                log(pro, f"Le serveur d'envoi a coupé la connexion : {_describe(exc)}")
                with contextlib.suppress(OSError, smtplib.SMTPException):
                    conn = _connect(smtp)
            except (OSError, smtplib.SMTPException, ValueError) as exc:
                log(pro, f"Envoi refusé : {_describe(exc)}")
            else:
                log(pro)
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            conn.quit()


def _connect(smtp: SmtpConfig) -> smtplib.SMTP:
    conn = smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT)
    try:
        if smtp.starttls:
            conn.starttls()
        if smtp.user:
            conn.login(smtp.user, smtp.password)
    except BaseException:
        conn.close()
        raise
    return conn


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [f"{code} {msg.decode(errors='replace')}" for code, msg in exc.recipients.values()]
        return "destinataire refusé (" + "; ".join(codes) + ")"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {exc.smtp_error.decode(errors='replace') if isinstance(exc.smtp_error, bytes) else exc.smtp_error}"
    return str(exc) or exc.__class__.__name__


# --- scheduled reminders ------------------------------------------------------------------


def scheduled_on(campaign: Campaign, kind: str) -> date | None:
    """The day from which `kind` is sent automatically, if the campaign schedules it."""
    return {"reminder1": campaign.reminder1_on, "reminder2": campaign.reminder2_on}[kind]


def due_today(session: Session, campaign: Campaign, today: date) -> list[str]:
    """The scheduled kinds whose date has come (≤ today) for `campaign`, in the order they
    are to be sent. None unless the campaign is open and, when it has a closing date, not
    past it: a reminder announcing a closing date already gone would only confuse.
    `session` is unused today; it keeps the signature of the other « who is due » readers."""
    del session
    if campaign.status != "open" or (campaign.closes_on and today > campaign.closes_on):
        return []
    return [kind for kind in SCHEDULED if (day := scheduled_on(campaign, kind)) and day <= today]


@dataclass
class DueSending:
    """One kind sent (or, in a dry run, to send) for one campaign by `send_due`."""

    territory_code: str
    territory_name: str
    year: int
    kind: str
    due: int  # people due when the run looked
    report: SendReport | None  # None in a dry run


def open_campaigns(session: Session) -> list[tuple[Territory, Campaign]]:
    """Every open campaign with its territory, by territory code."""
    return list(
        session.exec(
            select(Territory, Campaign)
            .join(Campaign, col(Campaign.territory_id) == Territory.id)
            .where(Campaign.status == "open")
            .order_by(col(Territory.code))
        ).all()
    )


def send_due(
    session: Session,
    smtp: SmtpConfig | None,
    secret: str,
    base_url: str,
    today: date,
    dry_run: bool = False,
) -> list[DueSending]:
    """Send, for every open campaign of every territory, each reminder whose date has come
    to whoever it is due (see the module's rules). `smtp` may be None only in a dry run,
    which counts and sends nothing. Commits after each batch, as `send`.

    The second reminder is handled before the first: it reaches only people who already had
    the first, so someone never gets both reminders from the same run (when both dates have
    passed, say after the job was stopped for a while, the second follows on the next run)."""
    if smtp is None and not dry_run:
        raise ValueError("no SMTP configuration")
    done: list[DueSending] = []
    for territory, campaign in open_campaigns(session):
        for kind in reversed(due_today(session, campaign, today)):
            due = due_counts(session, campaign)[kind]
            report = None
            if not dry_run and due:
                assert smtp is not None
                report = send(session, campaign, kind, smtp, secret, base_url)
            done.append(
                DueSending(territory.code, territory.name, campaign.year, kind, due, report)
            )
    return sorted(done, key=lambda d: (d.territory_code, d.year, KINDS.index(d.kind)))


def next_reminder(session: Session, campaign: Campaign, today: date) -> tuple[date, str] | None:
    """(day, kind) of the next scheduled reminder of a campaign that is not closed: the first
    whose date is still to come, or whose date has come but that nobody has received yet
    (the daily job has not run, or is not set up; the page then says so)."""
    if campaign.status == "closed":
        return None
    summary = log_summary(session, campaign)
    for kind in SCHEDULED:
        day = scheduled_on(campaign, kind)
        if day is None:
            continue
        if day > today or not summary.get((kind, "sent")):
            return day, kind
    return None


# --- the log -------------------------------------------------------------------------------


@dataclass
class LogRow:
    sent_at: datetime
    full_name: str
    kind: str
    status: str
    error: str


def recent_log(session: Session, campaign: Campaign, limit: int = 200) -> list[LogRow]:
    rows = session.exec(
        select(  # type: ignore[call-overload]  # sqlmodel's select() types up to 4 columns
            EmailLog.sent_at, Professional.full_name, EmailLog.kind, EmailLog.status, EmailLog.error
        )
        .join(Professional, Professional.id == EmailLog.professional_id)
        .where(EmailLog.campaign_id == campaign.id)
        .order_by(col(EmailLog.id).desc())
        .limit(limit)
    ).all()
    return [LogRow(*r) for r in rows]


def log_summary(session: Session, campaign: Campaign) -> dict[tuple[str, str], int]:
    """(kind, status) -> number of messages, counted in SQL."""
    rows = session.exec(
        select(EmailLog.kind, EmailLog.status, func.count(col(EmailLog.id)))
        .where(EmailLog.campaign_id == campaign.id)
        .group_by(EmailLog.kind, EmailLog.status)
    ).all()
    return {(kind, status): n for kind, status, n in rows}


def sent_per_professional(session: Session, campaign: Campaign) -> dict[int, list[str]]:
    """professional id -> kinds successfully sent (for the follow-up table)."""
    rows = session.exec(
        select(EmailLog.professional_id, EmailLog.kind)
        .where(and_(EmailLog.campaign_id == campaign.id, EmailLog.status == "sent"))
        .distinct()
    ).all()
    out: dict[int, list[str]] = {}
    for pid, kind in rows:
        out.setdefault(pid, []).append(kind)
    return {pid: [k for k in KINDS if k in kinds] for pid, kinds in out.items()}

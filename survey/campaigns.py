"""Campaign lifecycle, personal links for a campaign, and follow-up figures.

Lifecycle: draft → open → closed, and a closed campaign may be reopened when it is the
territory's latest closed campaign and no other is open. At most one campaign per territory
is open (also enforced by a partial unique index). A closed campaign is read only: the
questionnaire refuses writes when the status is not "open", and here dates and text cannot
be edited any more.

Functions change the session and flush; the caller commits (after adding its audit event).
`status_report` is the exception: it issues missing links and commits, as the CLI expects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import case, exists, func, literal
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, and_, col, or_, select

from survey import cells, french, links
from survey.db import stored_id
from survey.models import Campaign, Invitation, Organisation, Professional, Response, Territory
from survey.text import problem

STATUS_LABELS = {"not_started": "non commencé", "draft": "brouillon", "submitted": "envoyé"}
CAMPAIGN_STATUS_LABELS = {"draft": "en préparation", "open": "ouverte", "closed": "close"}
MIN_YEAR, MAX_YEAR = 2000, 2100
INTRODUCTION_MAX = 5000
# Default reminder dates: the first once people had time to start, the second shortly
# before the end, while there is still time to answer.
REMINDER1_AFTER_OPENING = timedelta(days=10)
REMINDER2_BEFORE_CLOSING = timedelta(days=5)


@dataclass
class StatusRow:
    professional_id: int
    full_name: str
    email: str
    organisation: str
    status: str  # not_started | draft | submitted
    link: str


class NotFound(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class CampaignRefused(Exception):
    """A lifecycle action that the rules forbid (the message says why, in French)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class CampaignInvalid(Exception):
    """Bad form input: one French message per field."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


# --- reading -------------------------------------------------------------------------------


def campaign_of(session: Session, territory_id: int, year: int) -> Campaign | None:
    """The territory's campaign of `year`, if there is one (one per year and territory)."""
    return session.exec(
        select(Campaign).where(Campaign.territory_id == territory_id, Campaign.year == year)
    ).first()


def get_campaign(session: Session, territory_code: str, year: int) -> Campaign:
    territory = session.exec(select(Territory).where(Territory.code == territory_code)).first()
    if territory is None:
        raise NotFound(f"Territoire « {territory_code} » inconnu.")
    campaign = campaign_of(session, stored_id(territory), year)
    if campaign is None:
        raise NotFound(f"Pas de campagne {year} pour le territoire {territory_code}.")
    return campaign


def list_campaigns(session: Session, territory_id: int) -> list[Campaign]:
    """The territory's campaigns, latest year first."""
    return list(
        session.exec(
            select(Campaign)
            .where(Campaign.territory_id == territory_id)
            .order_by(col(Campaign.year).desc())
        )
    )


def previous_campaign(session: Session, campaign: Campaign) -> Campaign | None:
    """The campaign `campaign` is compared with, everywhere (structure page, evolution page,
    PDF report, a respondent's own map): the latest earlier campaign of the territory that
    is not a draft — open or closed.

    Why this rule: a draft was never opened, so it has no answers and nothing to compare
    with; and a draft can be prepared at any time for any year, so skipping drafts means
    preparing one never changes what a page or an already published report compares with
    (the PDF of a closed campaign stays the same bytes). An open earlier campaign is kept:
    it has answers, and the pages say how many. One rule, so two pages never compare the
    same year with different ones."""
    return session.exec(
        select(Campaign)
        .where(
            Campaign.territory_id == campaign.territory_id,
            Campaign.year < campaign.year,
            Campaign.status != "draft",
        )
        .order_by(col(Campaign.year).desc())
    ).first()


def open_campaign_of(session: Session, territory_id: int) -> Campaign | None:
    return session.exec(
        select(Campaign).where(Campaign.territory_id == territory_id, Campaign.status == "open")
    ).first()


def next_year(session: Session, territory_id: int, today: date | None = None) -> int:
    """The year a coordinator most likely prepares next: after the latest, at least this year."""
    latest = session.exec(
        select(func.max(Campaign.year)).where(Campaign.territory_id == territory_id)
    ).one()
    current = (today or date.today()).year
    return max(current, (latest or 0) + 1)


def can_reopen(session: Session, campaign: Campaign) -> bool:
    return _reopen_refusal(session, campaign) is None


# --- changing ------------------------------------------------------------------------------


def _refuse_invisible(introduction: str) -> None:
    """survey.text's rule, on the text as sent (strip() would drop some of its characters)."""
    if found := problem(introduction, "Texte d'introduction"):
        raise CampaignInvalid({"introduction": found})


def _check_fields(
    year: int, opens_on: date | None, closes_on: date | None, introduction: str
) -> dict[str, str]:
    problems: dict[str, str] = {}
    # A campaign asks about its year: it opens and closes within a year of it (a 2026 survey
    # may open in December 2025 or close in January 2027). A date years away is a typo, and
    # the page would then announce a reminder long past as the next one.
    for name, day, label in (("opens_on", opens_on, "d'ouverture"),
                              ("closes_on", closes_on, "de clôture")):  # fmt: skip
        if day is not None and MIN_YEAR <= year <= MAX_YEAR and abs(day.year - year) > 1:
            problems[name] = (
                f"La date {label} ({french.date_fr(day)}) est loin de l'année de la campagne "
                f"({year}) : choisissez une date entre {year - 1} et {year + 1}."
            )
    if opens_on and closes_on and closes_on <= opens_on and "closes_on" not in problems:
        problems["closes_on"] = "La date de clôture doit être postérieure à la date d'ouverture."
    if len(introduction) > INTRODUCTION_MAX:
        problems["introduction"] = f"Texte trop long : {INTRODUCTION_MAX} caractères au maximum."
    return problems


def default_reminders(
    opens_on: date | None, closes_on: date | None
) -> tuple[date | None, date | None]:
    """(first, second) reminder dates proposed for a campaign: 10 days after opening and 5
    days before closing, each only when it falls strictly between the two dates (both
    needed: a reminder outside the campaign's dates would reach nobody, or too late)."""
    if opens_on is None or closes_on is None:
        return None, None

    def inside(day: date) -> date | None:
        return day if opens_on < day < closes_on else None

    first = inside(opens_on + REMINDER1_AFTER_OPENING)
    second = inside(closes_on - REMINDER2_BEFORE_CLOSING)
    if first and second and second <= first:
        second = None  # a short campaign: one reminder is enough
    return first, second


def _check_reminders(
    opens_on: date | None,
    closes_on: date | None,
    reminder1_on: date | None,
    reminder2_on: date | None,
) -> dict[str, str]:
    """French problems of the reminder dates, checked against the dates that are known."""
    problems: dict[str, str] = {}
    labels = {"reminder1_on": "La première relance", "reminder2_on": "La seconde relance"}
    for name, day in (("reminder1_on", reminder1_on), ("reminder2_on", reminder2_on)):
        if day is None:
            continue
        if (opens_on and day <= opens_on) or (closes_on and day >= closes_on):
            problems[name] = (
                f"{labels[name]} doit tomber entre la date d'ouverture et la date de clôture "
                "de la campagne (ces deux jours exclus)."
            )
    if reminder1_on and reminder2_on and reminder2_on <= reminder1_on and not problems:
        problems["reminder2_on"] = "La seconde relance doit être postérieure à la première."
    return problems


def create_campaign(
    session: Session,
    territory: Territory,
    year: int,
    opens_on: date | None = None,
    closes_on: date | None = None,
    introduction: str = "",
) -> Campaign:
    """A new campaign in preparation (draft), its reminder dates set by `default_reminders`.
    Raises CampaignInvalid."""
    _refuse_invisible(introduction)
    introduction = introduction.strip()
    problems = _check_fields(year, opens_on, closes_on, introduction)
    if not MIN_YEAR <= year <= MAX_YEAR:
        problems["year"] = f"Indiquez une année entre {MIN_YEAR} et {MAX_YEAR}."
    elif campaign_of(session, stored_id(territory), year) is not None:
        problems["year"] = f"La campagne {year} existe déjà pour ce territoire."
    if problems:
        raise CampaignInvalid(problems)
    reminder1_on, reminder2_on = default_reminders(opens_on, closes_on)
    campaign = Campaign(
        territory_id=stored_id(territory),
        year=year,
        opens_on=opens_on,
        closes_on=closes_on,
        introduction=introduction,
        status="draft",
        reminder1_on=reminder1_on,
        reminder2_on=reminder2_on,
    )
    session.add(campaign)
    try:
        session.flush()
    except IntegrityError:  # the same year created at the same moment by someone else
        session.rollback()
        raise CampaignInvalid(
            {"year": f"La campagne {year} existe déjà pour ce territoire."}
        ) from None
    return campaign


def update_campaign(
    session: Session,
    campaign: Campaign,
    opens_on: date | None,
    closes_on: date | None,
    introduction: str,
    reminders: tuple[date | None, date | None] | None = None,
) -> Campaign:
    """Change dates, introduction and, when `reminders` is given, the (first, second)
    reminder dates (None clears one); refused once the campaign is closed. Without
    `reminders` the stored ones are kept, and checked against the new dates."""
    if campaign.status == "closed":
        raise CampaignRefused(
            f"La campagne {campaign.year} est close : elle ne peut plus être modifiée. "
            "Rouvrez-la d'abord si nécessaire."
        )
    _refuse_invisible(introduction)
    introduction = introduction.strip()
    reminder1_on, reminder2_on = (
        reminders if reminders is not None else (campaign.reminder1_on, campaign.reminder2_on)
    )
    problems = _check_fields(campaign.year, opens_on, closes_on, introduction)
    if "closes_on" not in problems:
        problems |= _check_reminders(opens_on, closes_on, reminder1_on, reminder2_on)
    if problems:
        raise CampaignInvalid(problems)
    campaign.opens_on, campaign.closes_on, campaign.introduction = (
        opens_on,
        closes_on,
        introduction,
    )
    campaign.reminder1_on, campaign.reminder2_on = reminder1_on, reminder2_on
    session.add(campaign)
    session.flush()
    return campaign


def open_campaign(session: Session, campaign: Campaign, secret: str) -> int:
    """Open a draft campaign and issue a personal link to every active professional of the
    territory who has none for it. Returns the number of links issued."""
    if campaign.status == "open":
        raise CampaignRefused(f"La campagne {campaign.year} est déjà ouverte.")
    if campaign.status == "closed":
        raise CampaignRefused(
            f"La campagne {campaign.year} est close : utilisez « Rouvrir » pour la rouvrir."
        )
    _refuse_if_other_open(session, campaign)
    campaign.status = "open"
    _flush_status(session, campaign)
    return issue_missing_links(session, campaign, secret)


def close_campaign(session: Session, campaign: Campaign) -> None:
    if campaign.status != "open":
        raise CampaignRefused(
            f"La campagne {campaign.year} n'est pas ouverte : il n'y a rien à clore."
        )
    campaign.status = "closed"
    session.add(campaign)
    session.flush()


def reopen_campaign(session: Session, campaign: Campaign, secret: str) -> int:
    """Reopen the latest closed campaign; links are issued to newcomers. Returns how many."""
    refusal = _reopen_refusal(session, campaign)
    if refusal:
        raise CampaignRefused(refusal)
    campaign.status = "open"
    _flush_status(session, campaign)
    return issue_missing_links(session, campaign, secret)


def _reopen_refusal(session: Session, campaign: Campaign) -> str | None:
    if campaign.status != "closed":
        return f"Seule une campagne close peut être rouverte ; la campagne {campaign.year} ne l'est pas."
    latest_closed = session.exec(
        select(func.max(Campaign.year)).where(
            Campaign.territory_id == campaign.territory_id, Campaign.status == "closed"
        )
    ).one()
    if latest_closed != campaign.year:
        return (
            f"Seule la dernière campagne close ({latest_closed}) peut être rouverte, "
            f"pas celle de {campaign.year}."
        )
    other = open_campaign_of(session, campaign.territory_id)
    if other is not None and other.id != campaign.id:
        return (
            f"La campagne {other.year} est ouverte : closez-la avant de rouvrir "
            f"celle de {campaign.year}."
        )
    return None


def _refuse_if_other_open(session: Session, campaign: Campaign) -> None:
    other = open_campaign_of(session, campaign.territory_id)
    if other is not None and other.id != campaign.id:
        raise CampaignRefused(
            f"La campagne {other.year} est déjà ouverte sur ce territoire : une seule campagne "
            f"peut être ouverte à la fois. Closez la campagne {other.year} avant d'ouvrir "
            f"celle de {campaign.year}."
        )


def _flush_status(session: Session, campaign: Campaign) -> None:
    """Flush a status change; the partial unique index catches a concurrent opening."""
    session.add(campaign)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise CampaignRefused(
            "Une autre campagne vient d'être ouverte sur ce territoire : une seule campagne "
            "peut être ouverte à la fois."
        ) from None


# --- personal links ------------------------------------------------------------------------


def _without_live_link(campaign: Campaign):
    """The active professionals of the campaign's territory with no live link for it."""
    has_link = exists().where(
        col(Invitation.campaign_id) == campaign.id,
        col(Invitation.professional_id) == Professional.id,
        col(Invitation.revoked_at).is_(None),
    )
    return (
        Professional.territory_id == campaign.territory_id,
        col(Professional.active).is_(True),
        ~has_link,
    )


def count_missing_links(session: Session, campaign: Campaign) -> int:
    """How many links opening (or reopening) `campaign` would issue."""
    return session.exec(
        select(func.count(col(Professional.id))).where(*_without_live_link(campaign))
    ).one()


def issue_missing_links(session: Session, campaign: Campaign, secret: str) -> int:
    """A link for every active professional of the territory who has no live one."""
    missing = list(session.exec(select(Professional).where(*_without_live_link(campaign))))
    # The selection above already excludes anyone with a live link, so issue() finds
    # nothing to revoke; no autoflush keeps it to one INSERT batch at the end.
    with session.no_autoflush:
        for pro in missing:
            links.issue(session, secret, campaign, pro)
    session.flush()
    return len(missing)


def renew_link(
    session: Session, campaign: Campaign, professional: Professional, secret: str
) -> str:
    """Revoke the professional's link for the campaign and issue a new one (returned)."""
    if professional.territory_id != campaign.territory_id:
        raise NotFound("Ce professionnel n'appartient pas à ce territoire.")
    if campaign.status == "closed":
        raise CampaignRefused(
            f"La campagne {campaign.year} est close : les liens ne peuvent plus être renouvelés."
        )
    token = links.issue(session, secret, campaign, professional)
    session.flush()
    return token


def renew_links(
    session: Session, campaign: Campaign, professionals: list[Professional], secret: str
) -> list[tuple[Professional, str]]:
    """`renew_link` for several people: every check first, so a refusal writes nothing."""
    if not professionals:
        raise CampaignRefused("Cochez au moins une personne.")
    if any(p.territory_id != campaign.territory_id for p in professionals):
        raise NotFound("Ce professionnel n'appartient pas à ce territoire.")
    if campaign.status == "closed":
        raise CampaignRefused(
            f"La campagne {campaign.year} est close : les liens ne peuvent plus être renouvelés."
        )
    out = [(p, links.issue(session, secret, campaign, p)) for p in professionals]
    session.flush()
    return out


def link_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/q/{token}"


# --- follow-up -----------------------------------------------------------------------------


@dataclass
class Counts:
    """Participation of a group of professionals in one campaign."""

    key: str | int | None
    label: str
    invited: int
    not_started: int
    draft: int
    submitted: int

    @property
    def rate(self) -> float:
        """Share of invited professionals who submitted, in percent (0 when none invited)."""
        return 100.0 * self.submitted / self.invited if self.invited else 0.0


@dataclass
class Followup:
    overall: Counts
    by_organisation: list[Counts]
    by_type: list[Counts]
    type_of: dict[int, str] = field(default_factory=dict)  # structure id -> its type


def _population(campaign: Campaign):
    """One row per professional counted in the campaign, with their response status.

    Counted: active professionals holding a live link, and anyone who has a response
    (draft or submitted) even if they left their post since. The structure is where they
    worked when answering, else their current one.
    """
    live_link = exists().where(
        col(Invitation.campaign_id) == campaign.id,
        col(Invitation.professional_id) == Professional.id,
        col(Invitation.revoked_at).is_(None),
    )
    return (
        select(
            col(Professional.id).label("professional_id"),
            func.coalesce(Response.organisation_id, Professional.organisation_id).label(
                "organisation_id"
            ),
            func.coalesce(Response.status, literal("not_started")).label("status"),
        )
        .select_from(Professional)
        .outerjoin(
            Response,
            and_(
                Response.professional_id == Professional.id,
                Response.campaign_id == campaign.id,
            ),
        )
        .where(
            Professional.territory_id == campaign.territory_id,
            or_(and_(col(Professional.active).is_(True), live_link), col(Response.id).is_not(None)),
        )
        .subquery()
    )


def _count_columns(pop):
    def n(status: str):
        return func.coalesce(func.sum(case((pop.c.status == status, 1), else_=0)), 0)

    return (
        func.count(pop.c.professional_id),
        n("not_started"),
        n("draft"),
        n("submitted"),
    )


def followup(
    session: Session, campaign: Campaign, type_labels: dict[str, str] | None = None
) -> Followup:
    """Invited / not started / draft / submitted: overall, per structure and per type of
    structure, each computed by one GROUP BY query."""
    pop = _population(campaign)
    invited, not_started, draft, submitted = _count_columns(pop)
    total = session.exec(select(invited, not_started, draft, submitted)).one()
    overall = Counts(None, "Ensemble", *map(int, total))

    # sqlmodel types its select() for up to 4 columns: these have 5 or 6.
    per_org = session.exec(
        select(  # type: ignore[call-overload]
            Organisation.id,
            Organisation.name,
            invited,
            not_started,
            draft,
            submitted,
            Organisation.type,
        )  # fmt: skip
        .join(pop, pop.c.organisation_id == Organisation.id)
        .group_by(Organisation.id, Organisation.name, Organisation.type)
        .order_by(Organisation.name)
    ).all()
    per_type = session.exec(
        select(Organisation.type, invited, not_started, draft, submitted)  # type: ignore[call-overload]
        .join(pop, pop.c.organisation_id == Organisation.id)
        .group_by(Organisation.type)
        .order_by(Organisation.type)
    ).all()
    labels = type_labels or {}
    return Followup(
        overall=overall,
        by_organisation=[Counts(r[0], r[1], *map(int, r[2:6])) for r in per_org],
        by_type=[Counts(r[0], labels.get(r[0], r[0]), *map(int, r[1:])) for r in per_type],
        type_of={r[0]: r[6] for r in per_org},
    )


@dataclass
class PersonRow:
    professional_id: int
    full_name: str
    email: str
    organisation: str
    status: str  # not_started | draft | submitted
    updated_at: object | None


def people(session: Session, campaign: Campaign) -> list[PersonRow]:
    """Every professional counted in the follow-up, by structure then name (no links)."""
    pop = _population(campaign)
    rows = session.exec(
        select(  # type: ignore[call-overload]  # 6 columns (see followup)
            Professional.id,
            Professional.full_name,
            Professional.email,
            Organisation.name,
            pop.c.status,
            Response.updated_at,
        )
        .join(pop, pop.c.professional_id == Professional.id)
        .join(Organisation, Organisation.id == pop.c.organisation_id)
        .outerjoin(
            Response,
            and_(
                Response.professional_id == Professional.id,
                Response.campaign_id == campaign.id,
            ),
        )
        .order_by(Organisation.name, Professional.full_name)
    ).all()
    return [PersonRow(*r) for r in rows]


def status_report(
    session: Session, campaign: Campaign, secret: str, base_url: str
) -> list[StatusRow]:
    """Every active professional of the territory (and anyone who answered), with the status
    of their response and their personal link; missing links are issued (and committed)."""
    invited = set(
        session.exec(
            select(Invitation.professional_id).where(
                Invitation.campaign_id == campaign.id, col(Invitation.revoked_at).is_(None)
            )
        ).all()
    )
    responded = select(Response.professional_id).where(Response.campaign_id == campaign.id)
    pros = list(
        session.exec(
            select(Professional).where(
                Professional.territory_id == campaign.territory_id,
                col(Professional.active) | col(Professional.id).in_(responded),
            )
        )
    )
    if any(p.id not in invited for p in pros):
        for p in pros:
            if p.id not in invited:
                links.issue(session, secret, campaign, p)
        session.commit()
    rows = session.exec(
        select(Professional, Organisation.name, Response.status, Invitation)
        .join(Organisation, col(Organisation.id) == Professional.organisation_id)
        .join(
            Invitation,
            (col(Invitation.professional_id) == Professional.id)
            & (Invitation.campaign_id == campaign.id)
            & col(Invitation.revoked_at).is_(None),
        )
        .outerjoin(
            Response,
            (col(Response.professional_id) == Professional.id)
            & (col(Response.campaign_id) == campaign.id),
        )
        .where(col(Professional.id).in_([p.id for p in pros]))
        .order_by(Organisation.name, Professional.full_name, col(Invitation.id).desc())
    ).all()
    out: list[StatusRow] = []
    seen: set[int] = set()
    for pro, org_name, status, inv in rows:
        pro_id = stored_id(pro)
        if pro_id in seen:
            continue
        seen.add(pro_id)
        out.append(
            StatusRow(
                professional_id=pro_id,
                full_name=pro.full_name,
                email=pro.email,
                organisation=org_name,
                status=status or "not_started",
                link=link_url(base_url, links.token_for(secret, inv)),
            )
        )
    return out


def status_csv(rows: list[StatusRow], excel: bool = False) -> bytes:
    """The status report as CSV: UTF-8 with commas, or (excel=True) the semicolon + BOM form
    that French Excel opens correctly. Cells go through `survey.cells` (no formula)."""
    text = cells.csv_text(
        ["nom", "email", "structure", "statut", "lien"],
        [[r.full_name, r.email, r.organisation, STATUS_LABELS[r.status], r.link] for r in rows],
        delimiter=";" if excel else ",",
        lineterminator="\r\n",
        bom=excel,
    )
    return text.encode("utf-8")

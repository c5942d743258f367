"""Engagements: what the coordination commits to after reading a year's map.

An engagement has a short title, a kind (vocab.ENGAGEMENT_KINDS), the structures it involves
(for a link: its two structures, in order), an owner structure, a due date, a status
(vocab.ENGAGEMENT_STATUSES) and dated notes. It may come from a finding of the map (a
one-sided or fragile link, a « partenariat sans cadre », a white zone, an absent member):
`finding`, `zone`, `family`, `body_id` and `campaign_id` (the year read) keep where it came
from, so that the next year's map can be read against it (reports.engagements).

Functions here never commit: the caller adds its audit event and commits, so one user action
is one transaction. Invalid input raises `survey.directory.Invalid` (French message per
field); a structure, instance or campaign that is not the territory's raises `NotFound`
(the route answers 404, as for any other territory's row).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from survey import vocab
from survey.db import stored_id
from survey.directory import (
    Invalid,
    Refused,
    TerritoryStructures,
    refuse_invisible,
)
from survey.models import (
    Body,
    Campaign,
    Engagement,
    EngagementNote,
    EngagementStructure,
    Organisation,
)
from survey.text import field_problems

TITLE_MAX = 200
NOTE_MAX = 2000
ZONE_MAX = 120
MAX_STRUCTURES = 20  # an engagement names a few structures, not the directory
FINDINGS = ("one_sided", "fragile", "without_frame", "white_zone", "absent_member")
# The findings about a link between two structures (reports.engagements reads the tie).
LINK_FINDINGS = ("one_sided", "fragile", "without_frame")
DUE_BEFORE_CREATION = "La date d'échéance est avant la date de création."

LABELS = {"title": "Titre de l'engagement", "zone": "Zone"}


class NotFound(Refused):
    """A structure, instance or campaign that is not one of the territory's."""


def today() -> date:
    return datetime.now(UTC).date()


@dataclass
class EngagementData:
    """What the form gives for an engagement (notes apart)."""

    title: str = ""
    kind: str = "other"
    status: str = "planned"
    owner_id: int | None = None
    due_on: date | None = None
    structure_ids: list[int] = field(default_factory=list)
    finding: str = ""
    zone: str = ""
    family: str = ""
    body_id: int | None = None
    campaign_id: int | None = None

    def cleaned(self) -> EngagementData:
        seen: dict[int, None] = {}
        for i in self.structure_ids:  # order kept (a link's two ends), repeats dropped
            seen.setdefault(i, None)
        return EngagementData(
            title=" ".join(self.title.split()),
            kind=self.kind.strip(),
            status=self.status.strip(),
            owner_id=self.owner_id,
            due_on=self.due_on,
            structure_ids=list(seen),
            finding=self.finding.strip(),
            zone=" ".join(self.zone.split()),
            family=self.family.strip(),
            body_id=self.body_id,
            campaign_id=self.campaign_id,
        )


@dataclass
class EngagementRow:
    """An engagement with its structures, owner, campaign year and notes (newest first)."""

    engagement: Engagement
    structures: list[Organisation]
    owner: Organisation | None
    year: int | None
    notes: list[EngagementNote]
    body: Body | None = None

    @property
    def kind_label(self) -> str:
        return vocab.ENGAGEMENT_KINDS.get(self.engagement.kind, self.engagement.kind)

    @property
    def status_label(self) -> str:
        return vocab.ENGAGEMENT_STATUSES.get(self.engagement.status, self.engagement.status)

    @property
    def family_label(self) -> str:
        return next((f.label for f in vocab.FAMILIES if f.code == self.engagement.family), "")


# --- reading -------------------------------------------------------------------------------


def _in_range(i: int | None) -> bool:
    return i is not None and 0 < i < 2**31  # beyond, PostgreSQL would refuse the query


def get_engagement(session: Session, territory_id: int, engagement_id: int) -> Engagement | None:
    """The engagement if it belongs to the territory (never another territory's)."""
    if not _in_range(engagement_id):
        return None
    row = session.get(Engagement, engagement_id)
    return row if row is not None and row.territory_id == territory_id else None


def structure_ids(session: Session, engagement: Engagement) -> list[int]:
    """The engagement's structures, in their order."""
    q = (
        select(EngagementStructure.organisation_id)
        .where(EngagementStructure.engagement_id == engagement.id)
        .order_by(col(EngagementStructure.position))
    )
    return list(session.exec(q))


def current_structure_ids(session: Session, engagement: Engagement) -> list[int]:
    """The engagement's structures as they are now (a merged one read as the structure it
    was merged into), in order, without repeats: the ids the graph's nodes carry."""
    by_id = _structures(session, engagement.territory_id)
    out: list[int] = []
    for i in structure_ids(session, engagement):
        if (o := _canonical(by_id, i)) is not None and stored_id(o) not in out:
            out.append(stored_id(o))
    return out


def _structures(session: Session, territory_id: int) -> dict[int, Organisation]:
    return TerritoryStructures.load(session, territory_id).by_id


def _canonical(by_id: dict[int, Organisation], org_id: int | None) -> Organisation | None:
    """The structure `org_id` is now: itself, or the one it was merged into."""
    return TerritoryStructures(by_id).canonical(org_id)


def _rows(session: Session, territory_id: int, items: list[Engagement]) -> list[EngagementRow]:
    by_id = _structures(session, territory_id)
    ids = [stored_id(e) for e in items]
    links: dict[int, list[int]] = {i: [] for i in ids}
    notes: dict[int, list[EngagementNote]] = {i: [] for i in ids}
    if ids:
        for es in session.exec(
            select(EngagementStructure)
            .where(col(EngagementStructure.engagement_id).in_(ids))
            .order_by(col(EngagementStructure.position))
        ):
            links[es.engagement_id].append(es.organisation_id)
        for note in session.exec(
            select(EngagementNote)
            .where(col(EngagementNote.engagement_id).in_(ids))
            .order_by(col(EngagementNote.written_on).desc(), col(EngagementNote.id).desc())
        ):
            notes[note.engagement_id].append(note)
    years: dict[int, int] = {
        stored_id(c): c.year
        for c in session.exec(select(Campaign).where(Campaign.territory_id == territory_id))
    }
    rows = []
    for e in items:
        orgs = [o for i in links[stored_id(e)] if (o := _canonical(by_id, i))]
        rows.append(
            EngagementRow(
                e,
                list({stored_id(o): o for o in orgs}.values()),
                _canonical(by_id, e.owner_id),
                years.get(e.campaign_id) if e.campaign_id else None,
                notes[stored_id(e)],
                session.get(Body, e.body_id) if e.body_id else None,
            )
        )
    return rows


def list_engagements(session: Session, territory_id: int) -> list[EngagementRow]:
    """The territory's engagements: the nearest due date first, those without one last."""
    items = list(session.exec(select(Engagement).where(Engagement.territory_id == territory_id)))
    items.sort(key=lambda e: (e.due_on is None, e.due_on or date.max, stored_id(e)))
    return _rows(session, territory_id, items)


def engagement_row(session: Session, engagement: Engagement) -> EngagementRow:
    return _rows(session, engagement.territory_id, [engagement])[0]


def data_of(session: Session, engagement: Engagement) -> EngagementData:
    """The stored values, as the edit form shows them."""
    e = engagement
    return EngagementData(
        title=e.title, kind=e.kind, status=e.status, owner_id=e.owner_id, due_on=e.due_on,
        structure_ids=structure_ids(session, e), finding=e.finding, zone=e.zone,
        family=e.family, body_id=e.body_id, campaign_id=e.campaign_id,
    )  # fmt: skip


def structure_choices(
    session: Session, territory_id: int, include_ids: Sequence[int] = ()
) -> list[tuple[vocab.Family, list[Organisation]]]:
    """The active structures (plus `include_ids`, kept once archived so that saving keeps
    them), grouped by family and sorted by name."""
    return TerritoryStructures.load(session, territory_id).choices(include_ids)


# --- checking ------------------------------------------------------------------------------


def _check_structure(
    by_id: dict[int, Organisation], org_id: int, kept: set[int]
) -> tuple[Organisation, str]:
    """The structure `org_id` is now and, when it cannot be chosen, why. NotFound when it is
    not one of the territory's."""
    org = _canonical(by_id, org_id) if _in_range(org_id) else None
    if org is None:
        raise NotFound("Cette structure n'existe pas dans ce territoire.")
    if org.status != "active" and stored_id(org) not in kept:
        return org, f"« {org.name} » n'est pas une structure active du répertoire."
    return org, ""


def validate(
    session: Session,
    territory_id: int,
    data: EngagementData,
    current: Engagement | None = None,
) -> tuple[dict[str, str], list[Organisation], Organisation | None]:
    """Problems by field (empty when it can be saved), the structures and the owner as they
    are now. NotFound for a structure, instance or campaign of another territory."""
    by_id = _structures(session, territory_id)
    kept: set[int] = set()
    if current is not None:
        kept = {
            stored_id(o) for i in structure_ids(session, current) if (o := _canonical(by_id, i))
        }
        if (was := _canonical(by_id, current.owner_id)) is not None:
            kept.add(stored_id(was))
    errors: dict[str, str] = {}
    if not data.title:
        errors["title"] = "Indiquez en quelques mots ce à quoi la coordination s'engage."
    elif len(data.title) > TITLE_MAX:
        errors["title"] = f"Le titre est trop long : {TITLE_MAX} caractères au maximum."
    if data.kind not in vocab.ENGAGEMENT_KINDS:
        errors["kind"] = "Choisissez le type d'engagement dans la liste."
    if data.status not in vocab.ENGAGEMENT_STATUSES:
        errors["status"] = "Choisissez l'état de l'engagement dans la liste."
    if data.finding and data.finding not in FINDINGS:
        errors["title"] = errors.get("title") or "Le constat d'origine est inconnu."
    if len(data.structure_ids) > MAX_STRUCTURES:
        errors["structures"] = f"Trop de structures : {MAX_STRUCTURES} au maximum."
    structures: list[Organisation] = []
    for org_id in data.structure_ids[:MAX_STRUCTURES]:
        org, problem = _check_structure(by_id, org_id, kept)
        if problem and "structures" not in errors:
            errors["structures"] = problem
        if all(o.id != org.id for o in structures):
            structures.append(org)
    if data.finding in LINK_FINDINGS and len(structures) != 2 and "structures" not in errors:
        errors["structures"] = "Un engagement sur un lien porte sur deux structures exactement."
    owner = None
    if data.owner_id is not None:
        owner, problem = _check_structure(by_id, data.owner_id, kept)
        if problem:
            errors["owner_id"] = problem
    created = current.created_at.date() if current is not None else today()
    if data.due_on is not None and data.due_on < created:
        errors["due_on"] = DUE_BEFORE_CREATION
    if data.body_id is not None:
        body = session.get(Body, data.body_id) if _in_range(data.body_id) else None
        if body is None or body.territory_id != territory_id:
            raise NotFound("Cette instance n'existe pas dans ce territoire.")
    if data.campaign_id is not None:
        campaign = session.get(Campaign, data.campaign_id) if _in_range(data.campaign_id) else None
        if campaign is None or campaign.territory_id != territory_id:
            raise NotFound("Cette campagne n'existe pas dans ce territoire.")
    if data.family and all(f.code != data.family for f in vocab.FAMILIES):
        errors["family"] = "Choisissez la famille de structures dans la liste."
    if len(data.zone) > ZONE_MAX:
        errors["zone"] = f"Le nom de la zone est trop long : {ZONE_MAX} caractères au maximum."
    return errors, structures, owner


# --- writing -------------------------------------------------------------------------------


def _save(
    session: Session, territory_id: int, data: EngagementData, current: Engagement | None
) -> Engagement:
    refuse_invisible(data, LABELS)
    data = data.cleaned()
    errors, structures, owner = validate(session, territory_id, data, current)
    if errors:
        raise Invalid(errors)
    e = current or Engagement(territory_id=territory_id, title=data.title)
    e.title, e.kind, e.status, e.due_on = data.title, data.kind, data.status, data.due_on
    e.owner_id = owner.id if owner else None
    e.finding, e.zone, e.family = data.finding, data.zone, data.family
    e.body_id, e.campaign_id = data.body_id, data.campaign_id
    e.updated_at = datetime.now(UTC)
    session.add(e)
    session.flush()
    session.execute(
        delete(EngagementStructure).where(col(EngagementStructure.engagement_id) == e.id)
    )
    session.add_all(
        EngagementStructure(engagement_id=stored_id(e), organisation_id=stored_id(o), position=i)
        for i, o in enumerate(structures)
    )
    session.flush()
    return e


def create_engagement(session: Session, territory_id: int, data: EngagementData) -> Engagement:
    """A new engagement of the territory (its due date not before today)."""
    return _save(session, territory_id, data, None)


def update_engagement(session: Session, engagement: Engagement, data: EngagementData) -> Engagement:
    """Save `data` on `engagement` (its due date not before its creation date)."""
    return _save(session, engagement.territory_id, data, engagement)


def set_status(session: Session, engagement: Engagement, status: str) -> None:
    """Change the status only (prévu, en cours, tenu, abandonné)."""
    if status not in vocab.ENGAGEMENT_STATUSES:
        raise Invalid({"status": "Choisissez l'état de l'engagement dans la liste."})
    engagement.status = status
    engagement.updated_at = datetime.now(UTC)
    session.add(engagement)
    session.flush()


def add_note(
    session: Session, engagement: Engagement, text: str, written_on: date | None = None
) -> EngagementNote:
    """A dated note on the engagement's progress (today when no date is given)."""
    if problems := field_problems({"text": text}, {"text": "Note"}):
        raise Invalid(problems)
    text = text.strip()
    if not text:
        raise Invalid({"text": "Écrivez la note avant de l'ajouter."})
    if len(text) > NOTE_MAX:
        raise Invalid({"text": f"La note est trop longue : {NOTE_MAX} caractères au maximum."})
    note = EngagementNote(
        engagement_id=stored_id(engagement), written_on=written_on or today(), text=text
    )
    session.add(note)
    engagement.updated_at = datetime.now(UTC)
    session.add(engagement)
    session.flush()
    return note


def parse_day(value: str) -> date | None:
    """ISO (what a date field sends) or jj/mm/aaaa (what a person types without one); None
    when empty. Invalid on `due_on` when it is neither."""
    value = value.strip()[:40]
    if not value:
        return None
    try:
        if "/" in value:
            day, month, year = (int(p) for p in value.split("/"))
            return date(year, month, day)
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(
            {"due_on": "Indiquez une date d'échéance valide, par exemple 15/03/2027."}
        ) from None

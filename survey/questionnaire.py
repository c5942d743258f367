"""The yearly questionnaire: answers shape, validation, carry-forward, draft and submit.

One shape (`Answers`) serves the HTML form and the JSON API, so they cannot drift.
Rules:
- a draft may be incomplete, but never holds unknown codes, foreign ids or duplicates;
- submitting needs every partner described by the source's three questions (the partner,
  formal or informal, what is built together) and every partner carried forward from last
  year confirmed or marked "plus de contact"; everything else is optional, and a partner
  count left blank is the number of partners listed;
- submitting needs at least one partner still worked with, unless the partner count is
  explicitly 0 (« no partner » is an answer; an empty form is not), and a partner count
  typed is never smaller than the partners listed (bigger is fine: it may be approximate);
- a partner written in needs a name of at least 2 letters or digits (it becomes a proposed
  structure of the directory, even in a draft);
- once submitted, a response stays submitted: later saves must be complete too;
- each save is one transaction: on any problem nothing is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated, Any, Literal, NamedTuple, TypeVar

from psycopg.pq import TransactionStatus
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    Integer,
    Update,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    text,
    update,
)
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import psycopg as pg_psycopg
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import ClauseElement
from sqlmodel import Session, col, select

from survey import fields, tagbits, vocab
from survey.db import insert_rows, stored_id, table_of
from survey.directory import normalize_name
from survey.links import hash_token, well_formed
from survey.messages import CHOICES, not_a_choice
from survey.models import (
    Body,
    Campaign,
    DeclaredLink,
    Invitation,
    LinkTag,
    Organisation,
    Professional,
    Response,
    ResponseBody,
    ResponseObstacle,
    Service,
    Territory,
    utcnow,
)
from survey.text import free_text

MAX_LINKS = 200
# Row ids are 32-bit INTEGER on PostgreSQL (64-bit on SQLite): a larger number sent to the API
# must be a 422, not a driver overflow (found by tests/test_fuzz_api.py).
MAX_ROW_ID = 2_147_483_647
RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
SHORT_TEXT = 500
LONG_TEXT = 5000

LinkStatus = Literal["new", "pending", "confirmed", "ended"]


class WriteIn(BaseModel):
    """A partner missing from the directory, stored as a proposed structure."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    name: Annotated[str, free_text("Nom de la structure")] = Field(default="", max_length=200)
    type: vocab.OrgTypeCode = "autre"
    commune: Annotated[str, free_text("Commune")] = Field(default="", max_length=120)


@fields.with_undeclared_questions
class LinkAnswer(BaseModel):
    """One partner as answered (its questions: `survey.fields.LINK_FIELDS`). Unknown fields
    (e.g. read-only partner_name) are ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    partner_organisation_id: RowId | None = None
    partner_service_id: RowId | None = None
    write_in: WriteIn | None = None
    status: LinkStatus = "new"
    nature: vocab.NatureCode | None = None
    frames: list[vocab.FrameCode] = Field(default_factory=list, max_length=20)
    channels: list[vocab.ChannelCode] = Field(default_factory=list, max_length=20)
    frequency: vocab.FrequencyCode | None = None
    practices: list[vocab.PracticeCode] = Field(default_factory=list, max_length=20)
    practice_other: Annotated[str, free_text("Autre chose construite ensemble")] = Field(
        default="", max_length=SHORT_TEXT
    )
    thematiques: list[vocab.ThematiqueCode] = Field(default_factory=list, max_length=40)
    has_named_contact: bool | None = None
    contact_name: Annotated[str, free_text("Nom du contact")] = Field(default="", max_length=120)
    contact_consent: bool = False
    quality: int | None = None
    carried_from_id: RowId | None = None


class Answers(BaseModel):
    """Everything a respondent can write. Read-only fields sent back are ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    function: Annotated[str, free_text("Votre fonction")] = Field(default="", max_length=160)
    years_in_post: vocab.YearsInPostCode | None = None
    declared_partner_count: int | None = Field(default=None, ge=0, le=1000)
    links: list[LinkAnswer] = Field(default_factory=list, max_length=MAX_LINKS)
    obstacles: list[vocab.ObstacleCode] = Field(default_factory=list, max_length=20)
    obstacle_other: Annotated[str, free_text("Autre difficulté")] = Field(
        default="", max_length=SHORT_TEXT
    )
    body_ids: list[RowId] = Field(default_factory=list, max_length=100)
    body_other: Annotated[str, free_text("Autres instances")] = Field(
        default="", max_length=SHORT_TEXT
    )
    comment: Annotated[str, free_text("Votre commentaire")] = Field(
        default="", max_length=LONG_TEXT
    )


_M = TypeVar("_M", bound=BaseModel)

# A partner carried from last year and not yet looked at, on submit (the page merges these).
UNVERIFIED = (
    "Indiquez si vous travaillez toujours avec ce partenaire ou s'il n'y a plus de contact."
)
NO_PARTNER = (
    "Ajoutez au moins un partenaire. Si vous ne travaillez avec aucun partenaire, indiquez 0 "
    "dans « Au total, avec combien de partenaires… »."
)
WRITE_IN_TOO_SHORT = "Écrivez le nom de la structure : au moins 2 lettres ou chiffres."
MIN_WRITE_IN_CHARACTERS = 2


def count_too_small(declared: int, listed: int) -> str:
    """The problem of a partner count smaller than the partners listed."""
    return (
        f"Le total ({declared}) est plus petit que le nombre de partenaires de votre liste "
        f"({listed}) : corrigez-le ou laissez-le vide."
    )


def _meaningful_name(name: str) -> bool:
    """A written-in partner's name with at least `MIN_WRITE_IN_CHARACTERS` letters or digits."""
    return sum(1 for c in name if c.isalnum()) >= MIN_WRITE_IN_CHARACTERS


@dataclass
class Problem:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class PartnerRow(NamedTuple):
    """A structure of the directory as `check` reads it."""

    id: int
    status: str
    name: str


@dataclass(frozen=True)
class KnownPartners:
    """The directory rows of the structures `asked` for, in the respondent's territory (an id
    missing from `rows` is not a structure of the territory)."""

    asked: frozenset[int]
    rows: dict[int, PartnerRow]


@dataclass
class Respondent:
    """Everything known about the holder of a personal link."""

    invitation: Invitation
    campaign: Campaign
    territory: Territory
    professional: Professional
    organisation: Organisation
    response: Response | None
    # Partners read with the respondent (`detached_respondent`): `check` then needs no query
    # of its own for them.
    partners: KnownPartners | None = None

    @property
    def can_write(self) -> bool:
        return self.campaign.status == "open"


@dataclass
class PartnerNames:
    """Names of the partners of a set of answers, by id (filled while checking them)."""

    organisations: dict[int, str] = field(default_factory=dict)
    services: dict[int, str] = field(default_factory=dict)


@dataclass
class SaveResult:
    ok: bool
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    response: Response | None = None
    # What is now stored, exactly as `answers_of` would read it back, and the partners' names:
    # the API answers from these without reading the response again.
    stored: Answers | None = None
    names: PartnerNames | None = None


class CampaignNotOpen(Exception):
    """Writing to a campaign that is not open."""

    def __init__(self, campaign: Campaign):
        self.campaign = campaign
        if campaign.status == "closed":
            msg = (
                f"La campagne {campaign.year} est close : "
                "les réponses ne peuvent plus être modifiées."
            )
        else:
            msg = f"La campagne {campaign.year} n'est pas encore ouverte."
        super().__init__(msg)
        self.message = msg


# Statements of the hot path (every questionnaire request), built once with bound
# parameters: building a SQLAlchemy statement costs more CPU than running a small one.
_RESPONDENT = (
    sa_select(Invitation, Campaign, Territory, Professional, Organisation, Response)
    .join(Campaign, col(Campaign.id) == Invitation.campaign_id)
    .join(Territory, col(Territory.id) == Campaign.territory_id)
    .join(Professional, col(Professional.id) == Invitation.professional_id)
    .join(Organisation, col(Organisation.id) == Professional.organisation_id)
    .outerjoin(
        Response,
        and_(
            col(Response.campaign_id) == Invitation.campaign_id,
            col(Response.professional_id) == Invitation.professional_id,
        ),
    )
)
_RESPONDENT_BY_TOKEN = _RESPONDENT.where(
    col(Invitation.token_hash) == bindparam("token_hash"), col(Invitation.revoked_at).is_(None)
)
_RESPONDENT_BY_INVITATION = _RESPONDENT.where(col(Invitation.id) == bindparam("invitation_id"))


def _respondent(row) -> Respondent | None:
    return None if row is None else Respondent(*row)


def load_respondent(session: Session, invitation: Invitation) -> Respondent:
    """Everything known about the holder of `invitation`, in one query."""
    found = _respondent(
        session.execute(_RESPONDENT_BY_INVITATION, {"invitation_id": invitation.id}).first()
    )
    if found is None:  # the invitation was read from the database just before
        raise LookupError(f"invitation {invitation.id} is not stored")
    return found


def respondent_for_token(session: Session, token: str) -> Respondent | None:
    """The holder of a live personal link, in one query (every questionnaire request starts
    here), or None when the link is unknown, malformed or revoked."""
    if not well_formed(token):
        return None
    return _respondent(
        session.execute(_RESPONDENT_BY_TOKEN, {"token_hash": hash_token(token)}).first()
    )


# The API's look-up (`detached_respondent`): the same row as plain columns, entity by entity.
_ENTITIES = (Invitation, Campaign, Territory, Professional, Organisation, Response)
_ENTITY_COLUMNS = [list(table_of(m).c) for m in _ENTITIES]
_RESPONDENT_COLUMNS_BY_TOKEN = _RESPONDENT_BY_TOKEN.with_only_columns(
    *(c for columns in _ENTITY_COLUMNS for c in columns)
)
_PARTNERS_OF = (
    sa_select(
        func.json_agg(
            func.json_build_array(
                col(Organisation.id), col(Organisation.status), col(Organisation.name)
            )
        )
    )
    .where(
        col(Organisation.id) == func.any(cast(bindparam("partner_ids"), ARRAY(Integer))),
        col(Organisation.territory_id) == Campaign.territory_id,
    )
    .correlate(Campaign)
    .scalar_subquery()
)


def _driver_sql(statement: ClauseElement) -> str:
    """The PostgreSQL text of a statement, with psycopg's `%(name)s` parameters."""
    return str(statement.compile(dialect=pg_psycopg.dialect()))


# PostgreSQL: the respondent and the partners of the answers in one query, run by the driver.
_PG_RESPONDENT_AND_PARTNERS = _driver_sql(_RESPONDENT_COLUMNS_BY_TOKEN.add_columns(_PARTNERS_OF))


def _pg_execute(session: Session, sql: str, params: dict[str, Any]) -> Any:
    """Run `sql` on the session's psycopg connection, in its transaction, and return psycopg's
    cursor. SQLAlchemy's work around one statement (cache key, result metadata: ~0.5 ms for
    the respondent's 70 columns, measured against 0.2 ms for the statement itself) is left out
    of the statements of every submission; its errors are raised as SQLAlchemy's
    (IntegrityError, OperationalError, DataError…), which the callers and the app handle."""
    conn = session.connection()
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        return conn.connection.driver_connection.execute(sql, params)  # type: ignore[union-attr]
    except dbapi_error as exc:
        raise DBAPIError.instance(sql, params, exc, dbapi_error, dialect=conn.dialect) from exc


def _pg_begin(session: Session) -> None:
    """Open a transaction on a session whose connection runs in autocommit (the JSON API's on
    PostgreSQL, `survey.db.autocommit`): there a first answer is the look-up and one write
    statement, with no BEGIN and COMMIT round trips; a write of several statements calls this
    first. On a connection that is not in autocommit the driver has begun one already."""
    driver = session.connection().connection.driver_connection
    if driver.autocommit and driver.info.transaction_status == TransactionStatus.IDLE:  # type: ignore[union-attr]
        driver.execute("BEGIN")  # type: ignore[union-attr]


def _detached(model: type, values: dict):
    """A row as a detached instance of `model`, as the ORM would load it but without the
    session's identity map and loading machinery (0.4 ms of a 1.3 ms look-up through the
    ORM, measured at load 5)."""
    obj = model.__mapper__.class_manager.new_instance()  # type: ignore[attr-defined]
    obj.__dict__.update(values)
    make_transient_to_detached(obj)
    return obj


def detached_respondent(
    session: Session, token: str, partner_ids: set[int] | None = None
) -> Respondent | None:
    """`respondent_for_token` for the JSON API: one Core query, its objects detached from the
    session (they are read, and `save` keeps `response` up to date itself; never give them to
    code that changes and commits them). On PostgreSQL the same query also reads the
    directory rows of `partner_ids` in the respondent's territory, for `check`."""
    if not well_formed(token):
        return None
    params: dict[str, Any] = {"token_hash": hash_token(token)}
    pg = session.get_bind().dialect.name == "postgresql"
    if pg:
        params["partner_ids"] = sorted(partner_ids or ())
        row = _pg_execute(session, _PG_RESPONDENT_AND_PARTNERS, params).fetchone()
    else:
        row = session.connection().execute(_RESPONDENT_COLUMNS_BY_TOKEN, params).first()
    if row is None:
        return None
    objects: list[Any] = []
    start = 0
    for model, columns in zip(_ENTITIES, _ENTITY_COLUMNS, strict=True):
        values = dict(zip((c.key for c in columns), row[start : start + len(columns)], strict=True))
        start += len(columns)
        objects.append(None if values["id"] is None else _detached(model, values))
    r = Respondent(*objects)
    if pg:
        rows = (PartnerRow(*p) for p in row[start] or ())
        r.partners = KnownPartners(frozenset(partner_ids or ()), {p.id: p for p in rows})
    return r


# --- reading ---------------------------------------------------------------------------


# The link's structure, then its questions as the registry lists them.
_LINK_COLUMNS = (
    DeclaredLink.id,
    DeclaredLink.partner_organisation_id,
    DeclaredLink.partner_service_id,
    DeclaredLink.status,
    *(getattr(DeclaredLink, f.name) for f in fields.link_columns()),
    DeclaredLink.carried_from_id,
)
_LINK_FIELDS = [column.key for column in _LINK_COLUMNS[1:]]
_TAG_FIELDS = fields.tag_fields()
_RESPONSE_COLUMNS = fields.response_columns()


_LINKS_OF_RESPONSE = (
    sa_select(*_LINK_COLUMNS, col(LinkTag.kind), col(LinkTag.code))
    .outerjoin(LinkTag, col(LinkTag.link_id) == DeclaredLink.id)
    .where(col(DeclaredLink.response_id) == bindparam("response_id"))
    .order_by(col(DeclaredLink.position), col(DeclaredLink.id))
)
_OBSTACLES_OF_RESPONSE = sa_select(col(ResponseObstacle.code)).where(
    col(ResponseObstacle.response_id) == bindparam("response_id")
)
_BODIES_OF_RESPONSE = sa_select(col(ResponseBody.body_id)).where(
    col(ResponseBody.response_id) == bindparam("response_id")
)


def _link_answers(session: Session, response_id: int) -> list[tuple[int, LinkAnswer]]:
    """(link id, answer) of a response in order, links and tags in one query."""
    rows = session.connection().execute(_LINKS_OF_RESPONSE, {"response_id": response_id}).all()
    links: dict[int, dict] = {}  # link id -> fields, in the order of the rows
    for link_id, *values, kind, code in rows:
        link = links.get(link_id)
        if link is None:
            link = links[link_id] = dict(zip(_LINK_FIELDS, values, strict=True))
            link |= {name: [] for name in _TAG_FIELDS.values()}
        if kind is not None:
            link[_TAG_FIELDS[kind]].append(code)
    for link in links.values():  # codes in Python's order: the same on every database
        for name in _TAG_FIELDS.values():
            link[name].sort()
    return [(link_id, LinkAnswer.model_validate(link)) for link_id, link in links.items()]


def answers_of(session: Session, response: Response) -> Answers:
    """The stored answers of a response."""
    conn = session.connection()
    obstacles = conn.execute(_OBSTACLES_OF_RESPONSE, {"response_id": response.id}).scalars()
    bodies = conn.execute(_BODIES_OF_RESPONSE, {"response_id": response.id}).scalars()
    return Answers(
        **{f.name: getattr(response, f.name) for f in _RESPONSE_COLUMNS},
        links=[a for _, a in _link_answers(session, stored_id(response))],
        obstacles=sorted(obstacles, key=list(vocab.OBSTACLES).index),
        body_ids=sorted(bodies),
    )


def previous_answer(session: Session, r: Respondent) -> tuple[Response, int] | None:
    """The professional's latest submitted response in an earlier campaign of the territory,
    and that campaign's year.

    When they have none, the one of the professional they took over from (turnover):
    the partners of a post outlive the person in it.
    """
    for professional_id in (r.professional.id, r.professional.took_over_from_id):
        if professional_id is None:
            continue
        found = session.exec(
            select(Response, Campaign.year)
            .join(Campaign, col(Campaign.id) == Response.campaign_id)
            .where(
                Response.professional_id == professional_id,
                Response.status == "submitted",
                Campaign.territory_id == r.territory.id,
                Campaign.year < r.campaign.year,
            )
            .order_by(col(Campaign.year).desc())
        ).first()
        if found is not None:
            return found[0], found[1]
    return None


def previous_response(session: Session, r: Respondent) -> Response | None:
    """The response this year's questionnaire starts from (see `previous_answer`)."""
    found = previous_answer(session, r)
    return found[0] if found is not None else None


# Bounds in years of each « years in post » bracket, to move an answer on with time.
_YEARS_BOUNDS = {"lt1": (0, 1), "1to3": (1, 3), "3to10": (3, 10), "gt10": (10, 1000)}


def years_in_post_later(code: str | None, elapsed: int) -> str | None:
    """A « years in post » answer given `elapsed` years ago, as it reads today: the bracket
    holding the lower bound moved on (« moins d'un an » two years ago is « de 1 à 3 ans »)."""
    if code not in _YEARS_BOUNDS:
        return None
    low = _YEARS_BOUNDS[code][0] + max(0, elapsed)
    return next(c for c, (lo, hi) in _YEARS_BOUNDS.items() if lo <= low < hi)


def carried_forward(session: Session, r: Respondent) -> Answers | None:
    """Last year's answers as this year's starting point, everything still meaningful: every
    partner still to confirm, the bodies, the obstacles (a suggestion the page asks to
    check) and, when last year's answer is the respondent's own, the function and the years
    in post moved on. The partner count is left blank: it is recomputed from the partners
    kept."""
    found = previous_answer(session, r)
    if found is None:
        return None
    prev, prev_year = found
    own = prev.professional_id == r.professional.id
    conn = session.connection()
    answers = Answers(
        function=r.professional.function or (prev.function if own else ""),
        years_in_post=(
            years_in_post_later(prev.years_in_post, r.campaign.year - prev_year) if own else None
        ),
        body_ids=sorted(conn.execute(_BODIES_OF_RESPONSE, {"response_id": prev.id}).scalars()),
        obstacles=sorted(
            conn.execute(_OBSTACLES_OF_RESPONSE, {"response_id": prev.id}).scalars(),
            key=list(vocab.OBSTACLES).index,
        ),
        obstacle_other=prev.obstacle_other,
    )
    kept = [(i, a) for i, a in _link_answers(session, stored_id(prev)) if a.status != "ended"]
    # A stored link always names its partner (a write-in became a structure when saved).
    partners = _partners_now(
        session, {a.partner_organisation_id for _, a in kept if a.partner_organisation_id}
    )
    for link_id, ans in kept:
        now = partners.get(ans.partner_organisation_id or 0)
        if now is None:  # archived, or gone
            continue
        if now != ans.partner_organisation_id:  # merged since: carried as what it became
            ans.partner_service_id = None
        ans.partner_organisation_id = now
        ans.status = "pending"
        ans.carried_from_id = link_id
        answers.links.append(ans)
    return answers


_ORGANISATION_STATES = sa_select(
    col(Organisation.id), col(Organisation.status), col(Organisation.merged_into_id)
).where(col(Organisation.id).in_(bindparam("ids", expanding=True)))


def _partners_now(session: Session, ids: set[int]) -> dict[int, int]:
    """Each structure's id as it is carried this year: itself when active or proposed, the
    structure it was merged into (followed through successive merges), absent when archived.
    One query per level of merging, so one in the usual case."""
    conn = session.connection()
    state: dict[int, tuple[str, int | None]] = {}
    wanted = set(ids)
    while wanted:
        rows = conn.execute(_ORGANISATION_STATES, {"ids": sorted(wanted)}).all()
        state.update((stored, (status, into)) for stored, status, into in rows if stored)
        wanted = {into for _, status, into in rows if status == "merged" and into} - state.keys()
    out: dict[int, int] = {}
    for start in ids:
        current, seen = start, set()
        while current in state and state[current][0] == "merged" and state[current][1]:
            if current in seen:  # a merge loop would be a bug elsewhere: carry nothing
                break
            seen.add(current)
            into = state[current][1]
            assert into is not None  # the loop's condition
            current = into
        if current in state and state[current][0] not in ("archived", "merged"):
            out[start] = current
    return out


def bodies_to_show(
    session: Session, territory_id: int, chosen_ids: list[int] | None = None
) -> list[Body]:
    """The territory's bodies a respondent can tick, by name: the active ones, plus those
    already chosen (a body closed since stays shown to whom sits in it)."""
    return list(
        session.exec(
            select(Body)
            .where(
                Body.territory_id == territory_id,
                col(Body.active) | col(Body.id).in_(chosen_ids or []),
            )
            .order_by(Body.name)
        )
    )


def last_year_links(session: Session, r: Respondent) -> dict[int, LinkAnswer]:
    """Last year's links of the answers this year's carried partners come from, by id: the
    page tells a partner changed since then from one left as it was."""
    prev = previous_response(session, r)
    return dict(_link_answers(session, stored_id(prev))) if prev is not None else {}


def current_answers(session: Session, r: Respondent) -> tuple[Answers, str]:
    """The answers to show and where they come from: submitted, draft, carried or empty."""
    if r.response is not None:
        return answers_of(session, r.response), r.response.status
    carried = carried_forward(session, r)
    if carried is not None:
        return carried, "carried"
    return Answers(function=r.professional.function), "empty"


# --- checking --------------------------------------------------------------------------


def _check_codes(problems: list[Problem], path: str, values: list[str], allowed) -> None:
    for v in values:
        if v not in allowed:
            problems.append(Problem(path, not_a_choice(v)))
            return
    if len(set(values)) != len(values):
        problems.append(Problem(path, "Une même réponse est cochée deux fois."))


_PARTNERS = sa_select(col(Organisation.id), col(Organisation.status), col(Organisation.name)).where(
    col(Organisation.id).in_(bindparam("ids", expanding=True)),
    col(Organisation.territory_id) == bindparam("territory_id"),
)
_SERVICES = sa_select(col(Service.id), col(Service.organisation_id), col(Service.name)).where(
    col(Service.id).in_(bindparam("ids", expanding=True))
)


# The questions with a vocabulary: single codes first, then lists (the order of the problems).
_CODED_QUESTIONS = sorted(
    (f for f in fields.LINK_FIELDS if f.vocabulary is not None), key=lambda f: f.kind == "codes"
)


def check(
    session: Session,
    r: Respondent,
    answers: Answers,
    submitting: bool,
    names: PartnerNames | None = None,
) -> list[Problem]:
    """Problems that prevent saving (always) or submitting (when `submitting`).

    `names`, when given, receives the names of the partners found in the directory."""
    problems: list[Problem] = []
    if answers.years_in_post is not None and answers.years_in_post not in vocab.YEARS_IN_POST:
        problems.append(Problem("years_in_post", CHOICES["years_in_post"]))
    _check_codes(problems, "obstacles", answers.obstacles, vocab.OBSTACLES)

    if answers.body_ids:
        known = set(
            session.exec(
                select(Body.id).where(
                    col(Body.id).in_(answers.body_ids), Body.territory_id == r.territory.id
                )
            ).all()
        )
        if any(b not in known for b in answers.body_ids):
            problems.append(Problem("body_ids", "Une instance choisie n'existe pas."))
        elif len(set(answers.body_ids)) != len(answers.body_ids):  # found by the API fuzzer
            problems.append(Problem("body_ids", "Une même instance est cochée deux fois."))

    partner_ids = {a.partner_organisation_id for a in answers.links if a.partner_organisation_id}
    conn = session.connection()
    partners: dict[int, Any]
    if r.partners is not None and partner_ids <= r.partners.asked:
        partners = {i: p for i, p in r.partners.rows.items() if i in partner_ids}
    else:
        partners = {
            o.id: o
            for o in conn.execute(
                _PARTNERS, {"ids": list(partner_ids), "territory_id": r.territory.id}
            )
        } if partner_ids else {}  # fmt: skip
    service_ids = {a.partner_service_id for a in answers.links if a.partner_service_id}
    services = {
        s.id: s for s in conn.execute(_SERVICES, {"ids": list(service_ids)})
    } if service_ids else {}  # fmt: skip
    if names is not None:
        names.organisations.update((i, o.name) for i, o in partners.items())
        names.services.update(
            (i, svc.name)
            for i, svc in services.items()
            if svc.organisation_id in partners  # never a name from another territory
        )
    seen: set[tuple] = set()
    for i, a in enumerate(answers.links):
        p = f"links.{i}"
        if a.partner_organisation_id is None:
            if a.write_in is None or not a.write_in.name:
                problems.append(
                    Problem(f"{p}.partner_organisation_id", "Choisissez un partenaire.")
                )
                continue
            if not _meaningful_name(a.write_in.name):
                problems.append(Problem(f"{p}.write_in.name", WRITE_IN_TOO_SHORT))
            if a.write_in.type not in vocab.ORG_TYPES:
                problems.append(Problem(f"{p}.write_in.type", CHOICES["type"]))
            key: tuple = ("write_in", normalize_name(a.write_in.name))
        else:
            org = partners.get(a.partner_organisation_id)
            if org is None or org.status in ("archived", "merged"):
                problems.append(
                    Problem(
                        f"{p}.partner_organisation_id",
                        "Ce partenaire n'existe pas dans le répertoire de votre territoire.",
                    )
                )
                continue
            if a.partner_service_id is not None:
                svc = services.get(a.partner_service_id)
                if svc is None or svc.organisation_id != org.id:
                    problems.append(
                        Problem(
                            f"{p}.partner_service_id",
                            "Ce service n'appartient pas à ce partenaire.",
                        )
                    )
                    continue
            key = (org.id, a.partner_service_id)
        if key in seen:
            problems.append(
                Problem(f"{p}.partner_organisation_id", "Ce partenaire figure déjà plus haut.")
            )
        seen.add(key)

        for f in _CODED_QUESTIONS:
            value = getattr(a, f.name)
            if f.kind == "codes":
                _check_codes(problems, f"{p}.{f.name}", value, f.vocabulary)
            elif value is not None and value not in (f.vocabulary or {}):
                message = CHOICES.get(f.name) or not_a_choice(value)
                problems.append(Problem(f"{p}.{f.name}", message))

        if submitting and a.status != "ended":
            if a.status == "pending":
                problems.append(Problem(f"{p}.status", UNVERIFIED))
            # Only the source's three questions are required: the partner, formal or
            # informal, and what is built together; everything else is optional.
            if a.nature is None:
                problems.append(
                    Problem(f"{p}.nature", "Indiquez si ce lien est formel ou informel.")
                )
            if not a.practices and not a.practice_other:
                problems.append(
                    Problem(f"{p}.practices", "Indiquez au moins une chose construite ensemble.")
                )

    if submitting:
        problems.extend(count_problems(answers))
    return problems


def count_problems(answers: Answers) -> list[Problem]:
    """What a submission's partner list and count contradict: no partner still worked with
    and no explicit 0 (an empty form, or every partner « plus de contact »), or a count
    typed smaller than the list. `answers.declared_partner_count` is read as given: None
    when left blank (`save` fills the blank in after checking)."""
    listed = listed_partners(answers)
    declared = answers.declared_partner_count
    if listed == 0 and declared != 0:
        return [Problem("links", NO_PARTNER)]
    if declared is not None and declared < listed:
        return [Problem("declared_partner_count", count_too_small(declared, listed))]
    return []


def listed_partners(answers: Answers) -> int:
    """Partners of the list still worked with (the count a respondent leaves blank)."""
    return sum(1 for a in answers.links if a.status != "ended")


def warnings_for(answers: Answers, submitting: bool = False) -> list[str]:
    """Gentle remarks that never block. A count smaller than the list blocks a submission
    (`count_problems`): when `submitting`, its problem says it and no remark repeats it."""
    out = []
    listed = listed_partners(answers)
    declared = answers.declared_partner_count
    if declared is not None and declared < listed:
        if not submitting:
            out.append(
                f"Vous avez indiqué travailler avec {declared} "
                f"partenaire{'s' if declared > 1 else ''} et en avez décrit {listed} : "
                "corrigez le nombre ou laissez-le vide avant d'envoyer."
            )
    elif declared is not None and declared != listed:
        out.append(
            f"Vous avez indiqué travailler avec {declared} partenaire{'s' if declared > 1 else ''} "
            f"et en avez décrit {listed}. Ce n'est pas bloquant : vous pouvez compléter la liste "
            "ou corriger le nombre."
        )
    return out


# --- writing ---------------------------------------------------------------------------


def _partner_for_write_in(session: Session, r: Respondent, w: WriteIn) -> tuple[int, str]:
    """Reuse a structure of the same name in the territory, or propose a new one: its id and
    name."""
    wanted = normalize_name(w.name)
    for org_id, name in session.exec(
        select(Organisation.id, Organisation.name).where(
            Organisation.territory_id == r.territory.id,
            col(Organisation.status).in_(["active", "proposed"]),
        )
    ):
        if org_id is not None and normalize_name(name) == wanted:
            return org_id, name
    org = Organisation(
        territory_id=stored_id(r.territory),
        name=w.name,
        type=w.type,
        commune=w.commune,
        status="proposed",
        proposed_by_id=r.professional.id,
    )
    session.add(org)
    session.flush()
    return stored_id(org), org.name


def _valid_carried_ids(session: Session, r: Respondent, answers: Answers) -> set[int]:
    """Ids of last-year links this respondent may legitimately refer to."""
    wanted = {a.carried_from_id for a in answers.links if a.carried_from_id}
    if not wanted:
        return set()
    prev = previous_response(session, r)
    if prev is None:
        return set()
    return {
        link_id
        for link_id in session.exec(
            select(DeclaredLink.id).where(
                DeclaredLink.response_id == prev.id, col(DeclaredLink.id).in_(wanted)
            )
        ).all()
        if link_id is not None
    }


def save(session: Session, r: Respondent, answers: Answers, submit: bool = False) -> SaveResult:
    """Save a draft, or submit. One transaction: on any problem, nothing is written.

    On success `r.response` holds the row as written, and `SaveResult.stored` the answers as
    stored."""
    if not r.can_write:
        raise CampaignNotOpen(r.campaign)
    already_submitted = r.response is not None and r.response.status == "submitted"
    submitting = submit or already_submitted
    names = PartnerNames()
    # Checked with the count as given: a blank is not an explicit 0 (`count_problems`).
    problems = check(session, r, answers, submitting=submitting, names=names)
    if problems:
        return SaveResult(ok=False, problems=problems, warnings=warnings_for(answers, submitting))
    if submitting and answers.declared_partner_count is None:
        answers = answers.model_copy(update={"declared_partner_count": listed_partners(answers)})
    try:
        stored = _write(session, r, answers, submit or already_submitted, names)
        session.commit()
    except IntegrityError:
        # Two tabs (or two devices) saving a first answer at once: the other one created the
        # response first. This save then replaces it whole, as a later save would.
        session.rollback()
        if r.response is not None:
            raise
        r.response = session.exec(
            select(Response).where(
                Response.campaign_id == r.campaign.id,
                Response.professional_id == r.professional.id,
            )
        ).first()
        if r.response is None:
            raise
        return save(session, r, answers, submit)
    except Exception:
        session.rollback()
        raise
    return SaveResult(
        ok=True, warnings=warnings_for(stored), response=r.response, stored=stored, names=names
    )


_RESPONSE_TABLE = table_of(Response)
_LINK_QUESTION_COLUMNS = fields.link_columns()
_LINK_TABLE = table_of(DeclaredLink)
_TAG_TABLE = table_of(LinkTag)
_OBSTACLE_TABLE = table_of(ResponseObstacle)
_BODY_TABLE = table_of(ResponseBody)
_INSERT_RESPONSE = insert(_RESPONSE_TABLE).returning(_RESPONSE_TABLE.c.id)
_DELETE_ANSWERS = [
    delete(table).where(table.c.response_id == bindparam("response_id"))
    for table in (_LINK_TABLE, _OBSTACLE_TABLE, _BODY_TABLE)
]


_LINK_ANSWER_FIELDS = tuple(LinkAnswer.model_fields)
_ANSWERS_FIELDS = tuple(Answers.model_fields)
_OBSTACLE_ORDER = {code: i for i, code in enumerate(vocab.OBSTACLES)}


def _built(model: type[_M], names: tuple[str, ...], values: dict[str, Any]) -> _M:
    """`model.model_construct(**values)` when `values` name every field of `model` (`names`,
    in the model's order; a missing one raises KeyError): the same object without pydantic's
    walk over aliases and defaults (1.4 µs against 12.5 µs, 16 times a submission)."""
    obj = model.__new__(model)
    fields_values = {name: values[name] for name in names}
    object.__setattr__(obj, "__dict__", fields_values)
    object.__setattr__(obj, "__pydantic_fields_set__", set(fields_values))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


@lru_cache(maxsize=8)
def _update_response(names: tuple[str, ...]) -> Update:
    return (
        update(_RESPONSE_TABLE)
        .where(_RESPONSE_TABLE.c.id == bindparam("response_id"))
        .values({name: bindparam(name) for name in names})
    )


def _write(
    session: Session, r: Respondent, answers: Answers, submitted: bool, names: PartnerNames
) -> Answers:
    """Write the answers with a handful of Core statements (this is the hot path of a
    campaign: see docs/performance.md) and return them as stored.

    PostgreSQL: one statement writes the response row (a first answer), its links, their tags,
    the obstacles and the bodies (`_pg_write`); re-saving first updates the row and deletes
    the old answers in one more. SQLite: a statement per table."""
    now = utcnow()
    conn = session.connection()
    pg = conn.dialect.name == "postgresql"
    if pg and (r.response is not None or any(a.write_in for a in answers.links)):
        _pg_begin(session)  # more than one statement writes: they go together or not at all
    values: dict = {
        **{f.name: getattr(answers, f.name) for f in _RESPONSE_COLUMNS},
        "questionnaire_version": vocab.QUESTIONNAIRE_VERSION,
        "updated_at": now,
    }
    response = r.response
    response_id: int | None = None
    if response is None:
        values |= {
            "campaign_id": r.campaign.id,
            "professional_id": r.professional.id,
            "organisation_id": r.professional.organisation_id,
            "service_id": r.professional.service_id,
            "status": "submitted" if submitted else "draft",
            "created_at": now,
            "submitted_at": now if submitted else None,
        }
        if not pg:  # PostgreSQL inserts it with the links, below
            response_id = conn.execute(_INSERT_RESPONSE, values).scalar_one()
    else:
        response_id = response.id
        if submitted and response.status != "submitted":
            values |= {"status": "submitted", "submitted_at": now}
        params = {**values, "response_id": response_id}
        if pg:
            # Two statements, in this order: the UPDATE waits for the row lock of another save
            # of the same response, and the DELETE, with a snapshot taken after that wait, then
            # sees (and deletes) what the other save wrote. In one statement the DELETE would
            # run on the snapshot from before the wait: the other save's rows would stay.
            _pg_execute(session, _pg_update(tuple(values)), params)
            _pg_execute(session, _PG_DELETE_ANSWERS, {"response_id": response_id})
        else:
            conn.execute(_update_response(tuple(values)), params)
            # Tags go with their links (ON DELETE CASCADE on both databases).
            for statement in _DELETE_ANSWERS:
                conn.execute(statement, {"response_id": response_id})
        for key, value in values.items():  # the object mirrors the row without a reload
            set_committed_value(response, key, value)

    carried_ok = _valid_carried_ids(session, r, answers)
    rows = []
    tags: list[tuple[int, str, str]] = []
    stored_links = []
    for position, a in enumerate(answers.links):
        if a.partner_organisation_id:
            org_id, service_id = a.partner_organisation_id, a.partner_service_id
        else:
            assert a.write_in is not None  # check() refuses a partner neither chosen nor written
            org_id, org_name = _partner_for_write_in(session, r, a.write_in)
            names.organisations[org_id] = org_name
            service_id = None
        named = bool(a.has_named_contact)
        row = {
            "position": position,
            "partner_organisation_id": org_id,
            "partner_service_id": service_id,
            "status": a.status,
            **{f.name: getattr(a, f.name) for f in _LINK_QUESTION_COLUMNS},
            # A contact's name only with « a named contact », consent only with a name.
            "contact_name": a.contact_name if named else "",
            "contact_consent": bool(named and a.contact_name and a.contact_consent),
            "carried_from_id": a.carried_from_id if a.carried_from_id in carried_ok else None,
            # Written with the tag rows, from the same lists.
            "tag_bits": tagbits.tag_bits_of(a),
        }
        rows.append(row)
        tags.extend(
            (position, kind, code)
            for kind, name in _TAG_FIELDS.items()
            for code in getattr(a, name)
        )
        stored: dict[str, Any] = {
            **{k: v for k, v in row.items() if k not in ("position", "tag_bits")},
            "write_in": None,
            **{name: sorted(getattr(a, name)) for name in _TAG_FIELDS.values()},
        }
        stored_links.append(_built(LinkAnswer, _LINK_ANSWER_FIELDS, stored))

    if pg:
        new_row = values if response is None else None
        written = _pg_write(session, new_row, response_id, rows, tags, answers)
        if response is None:
            # A detached copy of the row: nothing in the session to flush or to expire.
            r.response = _detached(Response, {"id": written, **values})
    else:
        if response is None:
            assert response_id is not None
            r.response = Response(id=response_id, **values)
        _write_rows(session, stored_id(r.response), rows, tags, answers)
    return _built(
        Answers,
        _ANSWERS_FIELDS,
        {
            **{f.name: getattr(answers, f.name) for f in _RESPONSE_COLUMNS},
            "links": stored_links,
            "obstacles": sorted(answers.obstacles, key=_OBSTACLE_ORDER.__getitem__),
            "body_ids": sorted(answers.body_ids),
        },
    )


def _write_rows(
    session: Session,
    response_id: int,
    rows: list[dict],
    tags: list[tuple[int, str, str]],
    answers: Answers,
) -> None:
    """The links, their tags, the obstacles and the bodies of a response, a bulk statement
    per table (one INSERT for the links, ids back in order, one for their tags)."""
    link_ids = insert_rows(
        session,
        _LINK_TABLE,
        [{"response_id": response_id, **row} for row in rows],
        returning=_LINK_TABLE.c.id,
    )
    insert_rows(
        session,
        _TAG_TABLE,
        [
            {"link_id": link_ids[position], "kind": kind, "code": code}
            for position, kind, code in tags
        ],
    )
    insert_rows(
        session,
        _OBSTACLE_TABLE,
        [{"response_id": response_id, "code": c} for c in answers.obstacles],
    )
    insert_rows(
        session, _BODY_TABLE, [{"response_id": response_id, "body_id": b} for b in answers.body_ids]
    )


def _pg_type(column) -> str:
    from sqlalchemy.dialects import postgresql

    return column.type.compile(dialect=postgresql.dialect())


# The link columns the questionnaire writes, in the order of the rows `_write` builds.
_PG_LINK_COLUMNS = (
    "position",
    "partner_organisation_id",
    "partner_service_id",
    "status",
    *(f.name for f in _LINK_QUESTION_COLUMNS),
    "carried_from_id",
    "tag_bits",
)


@lru_cache(maxsize=8)
def _pg_update(names: tuple[str, ...]) -> str:
    """PostgreSQL: `_update_response` as the driver's text."""
    return _driver_sql(_update_response(names))


# PostgreSQL: a response's answers deleted in one statement (tags go with their links: ON
# DELETE CASCADE).
_PG_DELETE_ANSWERS = _driver_sql(
    text(
        "WITH "
        + ", ".join(
            f"d_{table.name} AS (DELETE FROM {table.name} WHERE response_id = :response_id)"
            for table in (_LINK_TABLE, _OBSTACLE_TABLE)
        )
        + f" DELETE FROM {_BODY_TABLE.name} WHERE response_id = :response_id"
    )
)


@lru_cache(maxsize=8)
def _pg_insert(response_names: tuple[str, ...] | None) -> str:
    """PostgreSQL: the response's links, their tags, obstacles and bodies in one statement,
    the rows sent as JSON (one parameter each: a short constant statement that psycopg
    prepares once, and no per-value work in Python). With `response_names`, the response row
    is inserted by the same statement (a first answer); otherwise `:response_id` names it.
    Tags find their link by position; ids come from the sequence in the order of the
    positions, as with one INSERT per link."""
    if response_names is None:
        head = "r AS (SELECT CAST(:response_id AS INTEGER) AS id)"
    else:
        head = (
            f"r AS (INSERT INTO {_RESPONSE_TABLE.name} ({', '.join(response_names)}) "
            f"VALUES ({', '.join(':r_' + n for n in response_names)}) RETURNING id)"
        )
    link = _LINK_TABLE
    link_types = ", ".join(f"{n} {_pg_type(link.c[n])}" for n in _PG_LINK_COLUMNS)
    tag = _TAG_TABLE
    statement = text(
        f"WITH {head}, "
        f"l AS (INSERT INTO {link.name} (response_id, {', '.join(_PG_LINK_COLUMNS)}) "
        f"SELECT r.id, {', '.join('j.' + n for n in _PG_LINK_COLUMNS)} "
        f"FROM r, json_to_recordset(CAST(:links AS json)) AS j({link_types}) "
        "ORDER BY j.position RETURNING id, position), "
        f"t AS (INSERT INTO {tag.name} (link_id, kind, code) SELECT l.id, j.kind, j.code "
        f"FROM l JOIN json_to_recordset(CAST(:tags AS json)) AS j(position INTEGER, "
        f"kind {_pg_type(tag.c.kind)}, code {_pg_type(tag.c.code)}) ON j.position = l.position), "
        f"o AS (INSERT INTO {_OBSTACLE_TABLE.name} (response_id, code) "
        "SELECT r.id, c FROM r, json_array_elements_text(CAST(:obstacles AS json)) AS c), "
        f"b AS (INSERT INTO {_BODY_TABLE.name} (response_id, body_id) "
        "SELECT r.id, CAST(c AS INTEGER) FROM r, json_array_elements_text(CAST(:bodies AS json)) "
        "AS c) "
        "SELECT id FROM r"
    )
    return _driver_sql(statement)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _pg_write(
    session: Session,
    response_values: dict | None,
    response_id: int | None,
    rows: list[dict],
    tags: list[tuple[int, str, str]],
    answers: Answers,
) -> int:
    """Run `_pg_insert`; the response's id."""
    params: dict[str, Any] = {
        "links": _json(rows),
        "tags": _json([{"position": p, "kind": k, "code": c} for p, k, c in tags]),
        "obstacles": _json(answers.obstacles),
        "bodies": _json(answers.body_ids),
    }
    if response_values is None:
        params["response_id"] = response_id
        statement = _pg_insert(None)
    else:
        params |= {"r_" + name: value for name, value in response_values.items()}
        statement = _pg_insert(tuple(response_values))
    (response_id,) = _pg_execute(session, statement, params).fetchone()
    return response_id


class NothingCarried(Exception):
    """« Tout est comme l'an dernier » for a respondent with no partner from last year."""

    message = (
        "Il n'y a aucun partenaire de l'an dernier à confirmer : ajoutez vos partenaires "
        "ci-dessous. Rien n'a été enregistré."
    )


def confirm_all(answers: Answers) -> Answers:
    """« Tout est comme l'an dernier »: every partner carried from last year and not yet
    answered is confirmed as it stands; a choice already made (changed, « plus de contact »)
    is kept. Raises `NothingCarried` when no partner comes from last year."""
    carried = [a for a in answers.links if a.status != "new"]
    if not carried:
        raise NothingCarried()
    links = [
        a.model_copy(update={"status": "confirmed"}) if a.status == "pending" else a
        for a in answers.links
    ]
    return answers.model_copy(update={"links": links})


def confirm_all_stored(session: Session, r: Respondent) -> SaveResult:
    """Confirm every pending partner of what is stored (or carried) and save it as a draft
    (a submitted response stays submitted)."""
    if not r.can_write:
        raise CampaignNotOpen(r.campaign)
    answers, _ = current_answers(session, r)
    return save(session, r, confirm_all(answers))


def submit_stored(session: Session, r: Respondent) -> SaveResult:
    """Submit what is stored (or carried forward when nothing is stored yet)."""
    answers, _ = current_answers(session, r)
    return save(session, r, answers, submit=True)

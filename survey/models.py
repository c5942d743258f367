"""Database tables of the survey domain (SQLModel).

Conventions: times are timezone-aware UTC; coded answers are short strings from `survey.vocab`;
multi-valued answers live in small child tables so figures can be aggregated in SQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from survey import fields


def utcnow() -> datetime:
    return datetime.now(UTC)


class Territory(SQLModel, table=True):
    """A département: the unit of data isolation."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=10, unique=True, index=True)
    name: str = Field(max_length=120)
    created_at: datetime = Field(default_factory=utcnow)


class Campaign(SQLModel, table=True):
    """One yearly edition of the questionnaire in a territory."""

    __table_args__ = (
        UniqueConstraint("territory_id", "year", name="uq_campaign_territory_year"),
        # At most one open campaign per territory, enforced by the database itself.
        Index(
            "uq_campaign_one_open",
            "territory_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    territory_id: int = Field(foreign_key="territory.id", index=True)
    year: int
    opens_on: date | None = None
    closes_on: date | None = None
    status: str = Field(default="draft", max_length=10)  # draft | open | closed
    introduction: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # When `carte remind --due` sends the first and second reminders (survey.mailing); None:
    # not scheduled (sent by hand from the campaign page).
    reminder1_on: date | None = None
    reminder2_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Organisation(SQLModel, table=True):
    """A structure of the directory (CAF de la Creuse, CCAS de Guéret…)."""

    id: int | None = Field(default=None, primary_key=True)
    territory_id: int = Field(foreign_key="territory.id", index=True)
    name: str = Field(max_length=200)
    type: str = Field(default="autre", max_length=60)  # survey.vocab.ORG_TYPES
    commune: str = Field(default="", max_length=120)
    siret: str | None = Field(default=None, max_length=14)
    missions: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # active | proposed (written in by a respondent) | archived | merged
    status: str = Field(default="active", max_length=10, index=True)
    merged_into_id: int | None = Field(default=None, foreign_key="organisation.id")
    # No foreign key: professional -> organisation already points the other way, and a
    # cycle would make table creation order ambiguous. Cleared when a person is erased.
    proposed_by_id: int | None = None
    # The zone a coordinator placed the structure in by hand; None: the zone of its commune
    # (`survey.zones`). No foreign key: adding one to this table would make SQLite rebuild
    # it, which the tables pointing at it forbid; survey.zones clears it when a zone goes.
    zone_id: int | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class Service(SQLModel, table=True):
    """A team inside a structure (SIAO 115, centre de jour, UTAS de Guéret…)."""

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=200)
    active: bool = True
    contact_role: str = Field(default="", max_length=120)
    contact_name: str = Field(default="", max_length=120)
    contact_phone: str = Field(default="", max_length=40)
    contact_email: str = Field(default="", max_length=200)
    contact_consent: bool = False


class Professional(SQLModel, table=True):
    """A respondent. Name and e-mail are personal data: coordinators of the territory only."""

    id: int | None = Field(default=None, primary_key=True)
    territory_id: int = Field(foreign_key="territory.id", index=True)
    full_name: str = Field(max_length=160)
    email: str = Field(default="", max_length=200)
    function: str = Field(default="", max_length=160)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    service_id: int | None = Field(default=None, foreign_key="service.id")
    active: bool = True
    took_over_from_id: int | None = Field(default=None, foreign_key="professional.id")
    created_at: datetime = Field(default_factory=utcnow)


class Invitation(SQLModel, table=True):
    """A personal link. The token is HMAC(secret, nonce): the database alone cannot rebuild
    it, and only its SHA-256 is stored for look-up."""

    __table_args__ = (
        Index("ix_invitation_campaign_professional", "campaign_id", "professional_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    professional_id: int = Field(foreign_key="professional.id", index=True)
    nonce: str = Field(max_length=64)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class Body(SQLModel, table=True):
    """An instance: a commission or coordination meeting where several structures sit.

    Its official members (`BodyMember`) are recorded by coordinators; who takes part is what
    respondents declare (`ResponseBody`). `active` False: archived."""

    id: int | None = Field(default=None, primary_key=True)
    territory_id: int = Field(foreign_key="territory.id", index=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=500)
    active: bool = True
    kind: str = Field(default="commission", max_length=20)  # vocab.BODY_KINDS
    # An organisation id. No foreign key, for the reason given at Organisation.zone_id;
    # structures are archived or merged, never deleted, and readers follow merges.
    convener_id: int | None = Field(default=None, index=True)
    frequency: str = Field(default="", max_length=12)  # vocab.BODY_FREQUENCIES, "" unknown
    # Codes of vocab.THEMATIQUES separated by ",".
    thematiques: str = Field(default="", max_length=1000)


class BodyMember(SQLModel, table=True):
    """An official member structure of an instance."""

    body_id: int = Field(foreign_key="body.id", primary_key=True, ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True, index=True)


class Zone(SQLModel, table=True):
    """A sub-territory (UTAS, EPCI, bassin de vie…): a set of communes. The zones of a
    territory form one partition: a commune is in at most one zone."""

    __table_args__ = (UniqueConstraint("territory_id", "name", name="uq_zone_territory_name"),)

    id: int | None = Field(default=None, primary_key=True)
    territory_id: int = Field(foreign_key="territory.id", index=True)
    name: str = Field(max_length=120)
    kind: str = Field(default="autre", max_length=20)  # vocab.ZONE_KINDS
    created_at: datetime = Field(default_factory=utcnow)


class ZoneCommune(SQLModel, table=True):
    """A commune of a zone. `key` is the folded name (`survey.directory.normalize_name`) that
    structures' communes are matched on; unique in the territory (checked by survey.zones)."""

    zone_id: int = Field(foreign_key="zone.id", primary_key=True, ondelete="CASCADE")
    key: str = Field(max_length=120, primary_key=True)
    commune: str = Field(max_length=120)


class Convention(SQLModel, table=True):
    """An official partnership signed between structures (convention, protocole, charte).
    `active` False: archived (kept for past years' comparisons)."""

    id: int | None = Field(default=None, primary_key=True)
    territory_id: int = Field(foreign_key="territory.id", index=True)
    kind: str = Field(default="convention", max_length=20)  # vocab.CONVENTION_KINDS
    title: str = Field(default="", max_length=200)
    reference: str = Field(default="", max_length=120)
    starts_on: date
    ends_on: date | None = None
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class ConventionParty(SQLModel, table=True):
    """A structure that signed a convention."""

    convention_id: int = Field(foreign_key="convention.id", primary_key=True, ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True, index=True)


class Response(SQLModel, table=True):
    """One professional's answers for one campaign."""

    __table_args__ = (
        UniqueConstraint("campaign_id", "professional_id", name="uq_response_campaign_prof"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    professional_id: int = Field(foreign_key="professional.id", index=True)
    # Where the respondent worked when answering: the graph stays right after moves.
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    service_id: int | None = Field(default=None, foreign_key="service.id")
    status: str = Field(default="draft", max_length=10, index=True)  # draft | submitted
    questionnaire_version: str = Field(max_length=20)
    function: str = Field(default="", max_length=160)
    years_in_post: str | None = Field(default=None, max_length=10)
    declared_partner_count: int | None = None
    obstacle_other: str = Field(default="", max_length=500)
    body_other: str = Field(default="", max_length=500)
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None


class ResponseObstacle(SQLModel, table=True):
    response_id: int = Field(foreign_key="response.id", primary_key=True, ondelete="CASCADE")
    code: str = Field(max_length=40, primary_key=True)


class ResponseBody(SQLModel, table=True):
    response_id: int = Field(foreign_key="response.id", primary_key=True, ondelete="CASCADE")
    body_id: int = Field(foreign_key="body.id", primary_key=True, index=True)


class DeclaredLink(SQLModel, table=True):
    """One partner named in a response."""

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="response.id", index=True, ondelete="CASCADE")
    position: int = 0
    partner_organisation_id: int = Field(foreign_key="organisation.id", index=True)
    partner_service_id: int | None = Field(default=None, foreign_key="service.id", index=True)
    status: str = Field(default="new", max_length=10)  # vocab.LINK_STATUSES
    nature: str | None = Field(default=None, max_length=10)  # vocab.NATURES
    frequency: str | None = Field(default=None, max_length=12)  # vocab.FREQUENCIES
    practice_other: str = Field(default="", max_length=500)
    has_named_contact: bool | None = None
    contact_name: str = Field(default="", max_length=120)
    contact_consent: bool = False
    quality: int | None = None  # vocab.QUALITIES
    # Indexed: deleting a link looks for the links carried from it (ON DELETE SET NULL).
    carried_from_id: int | None = Field(
        default=None, foreign_key="declaredlink.id", ondelete="SET NULL", index=True
    )
    # The tags the graph counts, one bit each (`survey.tagbits`): written with the tag rows.
    tag_bits: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default=text("0"))
    )


class LinkTag(SQLModel, table=True):
    """Multi-valued answers about a link: kind is the `tag_kind` of a question of
    `survey.fields` (frame, channel, practice, thematique)."""

    link_id: int = Field(foreign_key="declaredlink.id", primary_key=True, ondelete="CASCADE")
    kind: str = Field(max_length=12, primary_key=True)
    code: str = Field(max_length=80, primary_key=True)


LINK_TAG_KINDS = tuple(fields.tag_fields())


class Engagement(SQLModel, table=True):
    """A commitment the coordination records after reading a year's map, followed from one
    year to the next (survey.engagements; what the map says of it: reports.engagements)."""

    id: int | None = Field(default=None, primary_key=True)
    territory_id: int = Field(foreign_key="territory.id", index=True)
    title: str = Field(max_length=200)
    kind: str = Field(default="other", max_length=20)  # vocab.ENGAGEMENT_KINDS
    status: str = Field(default="planned", max_length=12)  # vocab.ENGAGEMENT_STATUSES
    owner_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    due_on: date | None = None
    # The year whose map it was read from, and the finding it came from (one_sided, fragile,
    # white_zone, absent_member, without_frame, or "" when written from scratch).
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id", index=True)
    finding: str = Field(default="", max_length=20)
    zone: str = Field(default="", max_length=120)  # a white zone's zone
    family: str = Field(default="", max_length=20)  # a white zone's family (vocab.FAMILIES)
    body_id: int | None = Field(default=None, foreign_key="body.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class EngagementStructure(SQLModel, table=True):
    """A structure an engagement involves (for a link: its two structures, in order)."""

    engagement_id: int = Field(foreign_key="engagement.id", primary_key=True, ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True, index=True)
    position: int = 0


class EngagementNote(SQLModel, table=True):
    """A dated note on an engagement's progress."""

    id: int | None = Field(default=None, primary_key=True)
    engagement_id: int = Field(foreign_key="engagement.id", index=True, ondelete="CASCADE")
    written_on: date
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class CampaignLayout(SQLModel, table=True):
    """The map positions last computed for a campaign, starting from one layout of the years
    before (`anchor`, a digest of those positions), at one data version: where a process
    that has none in memory starts (reports.layout), so no process lays the map out in full
    again after a restart. `ties` and `positions` are JSON."""

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True, ondelete="CASCADE")
    anchor: str = Field(primary_key=True, max_length=64)
    version: str = Field(max_length=120)
    ties: str = Field(sa_column=Column(Text, nullable=False))
    positions: str = Field(sa_column=Column(Text, nullable=False))
    computed_at: datetime = Field(default_factory=utcnow)

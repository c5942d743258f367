"""Tables of a closed campaign's snapshot: what its figures read, frozen when it closed.

A closed year never moves: renaming, retyping, moving, merging or archiving a structure,
a professional leaving or an erasure after the close change the live directory, not these
rows. They are written by `reports.snapshot.freeze` in the transaction that closes the
campaign, and deleted when the campaign is reopened. No name, e-mail or function of a
professional is copied: people are the internal ids the live tables already use.

- `CampaignSnapshot`: one row per frozen campaign (its figures as JSON, its stored PDF).
- `SnapshotStructure`: each structure of the graph as it stood (merges applied), with its
  participation; `SnapshotTie`: the aggregated structure-to-structure ties. Together they
  are the unfiltered graph, read without aggregation.
- `SnapshotDeclaration`, `SnapshotTag`, `SnapshotPerson`, `SnapshotService`,
  `SnapshotObstacle`: the counted declarations and who was invited, at close, so filtered
  maps, the service zoom, obstacles, year over year and the respondent's own map of a closed
  year are computed from the frozen rows the same way as from the live ones.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, Text
from sqlmodel import Field, SQLModel

from survey.models import utcnow


class CampaignSnapshot(SQLModel, table=True):
    """A closed campaign, frozen: its presence switches every reader to the frozen rows."""

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True, ondelete="CASCADE")
    frozen_at: datetime = Field(default_factory=utcnow)
    # reports.figures.all_figures of the unfiltered graph, as JSON.
    figures: str = Field(sa_column=Column(Text, nullable=False))
    # The few numbers a list of territories shows (headline, size, participation), as JSON:
    # `carte figures --all` reads these, not the whole figures.
    summary: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    # Year over year with the previous frozen campaign, computed at close (JSON:
    # {"before_id", "before_version", "result"}): read as it is while neither is frozen again.
    comparison: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # The PDF report, stored the first time it is generated (byte-identical run to run).
    pdf: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    pdf_at: datetime | None = None
    # reports.coordination.coordination at close (instances, official vs declared, zones,
    # quality and frames), as JSON.
    coordination: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class SnapshotStructure(SQLModel, table=True):
    """A node of the closed campaign's structure graph."""

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True, ondelete="CASCADE")
    organisation_id: int = Field(primary_key=True)  # no foreign key: the structure may go
    name: str = Field(max_length=200)
    type: str = Field(max_length=60)
    type_label: str = Field(max_length=200)
    commune: str = Field(default="", max_length=120)
    zone: str = Field(default="", max_length=120)  # the zone's name at close, "" none
    status: str = Field(max_length=10)
    invited: int = 0
    responded: int = 0
    link_carriers: int = 0


class SnapshotTie(SQLModel, table=True):
    """An edge of the closed campaign's structure graph: `attrs` is the edge's attribute
    dict of `reports.graph.build_graph` as JSON (counts, frequencies, tags, quality)."""

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True, ondelete="CASCADE")
    src: int = Field(primary_key=True)
    dst: int = Field(primary_key=True)
    carriers: int
    attrs: str = Field(sa_column=Column(Text, nullable=False))


class SnapshotDeclaration(SQLModel, table=True):
    """A counted declaration of the closed campaign, between structures as they stood."""

    __table_args__ = (Index("ix_snapshotdeclaration_campaign_src", "campaign_id", "src"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    link_id: int = Field(index=True)
    response_id: int = Field(index=True)
    professional_id: int
    position: int = 0
    src: int
    dst: int
    src_service: int | None = None
    dst_service: int | None = None
    nature: str | None = Field(default=None, max_length=10)
    frequency: str | None = Field(default=None, max_length=12)
    quality: int | None = None


class SnapshotTag(SQLModel, table=True):
    """A tag (practice, thématique…) of a frozen declaration."""

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True, ondelete="CASCADE")
    link_id: int = Field(primary_key=True)
    kind: str = Field(max_length=12, primary_key=True)
    code: str = Field(max_length=80, primary_key=True)


class SnapshotPerson(SQLModel, table=True):
    """A professional counted in the closed campaign's participation (invited or answered),
    with the structure and service they were counted in."""

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True, ondelete="CASCADE")
    professional_id: int = Field(primary_key=True)
    organisation_id: int
    service_id: int | None = None
    responded: int = 0


class SnapshotService(SQLModel, table=True):
    """The name a service had at close (for the service zoom)."""

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True, ondelete="CASCADE")
    service_id: int = Field(primary_key=True)
    name: str = Field(max_length=200)


class SnapshotObstacle(SQLModel, table=True):
    """An obstacle cited by a respondent of the closed campaign."""

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True, ondelete="CASCADE")
    professional_id: int = Field(primary_key=True)
    code: str = Field(max_length=40, primary_key=True)


SNAPSHOT_TABLES = (
    SnapshotTag,
    SnapshotDeclaration,
    SnapshotTie,
    SnapshotStructure,
    SnapshotPerson,
    SnapshotService,
    SnapshotObstacle,
    CampaignSnapshot,
)

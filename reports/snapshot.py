"""Freezing a campaign when it closes, so a closed year never moves.

`close` closes a campaign and writes its snapshot (`survey.snapshots`) in the same
transaction: the caller commits both or neither. `reopen` discards the snapshot; closing
again rebuilds it from the answers and the directory as they are then. Every reader of a
closed campaign (graph, figures, exports, PDF, year over year, the respondent's own map)
goes through `reports.graph.Source`, which reads the frozen rows once they exist.

The heavy parts are copied by the database itself (INSERT … SELECT: declarations, tags,
people, services, obstacles); Python only writes the aggregated graph (a few hundred
structures, a few thousand ties) and the figures computed from it, including the
coordination figures (`reports.coordination`: instances, conventions and zones as they
stand at close).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import networkx as nx
from sqlalchemy import delete, func, insert, literal, select, text, union
from sqlalchemy.sql.selectable import FromClause
from sqlmodel import Session

from reports import compare, coordination, figures
from reports.graph import (
    COUNTED_LINK_STATUSES,
    NO_FILTER,
    TAG_KINDS,
    Source,
    build_graph,
    is_frozen,
    source_of,
)
from survey import campaigns as campaign_rules
from survey.campaigns import CampaignRefused
from survey.db import stored_id, table_of
from survey.models import (
    Campaign,
    DeclaredLink,
    LinkTag,
    Response,
    ResponseObstacle,
    Service,
    Territory,
    utcnow,
)
from survey.snapshots import (
    SNAPSHOT_TABLES,
    CampaignSnapshot,
    SnapshotDeclaration,
    SnapshotObstacle,
    SnapshotPerson,
    SnapshotService,
    SnapshotStructure,
    SnapshotTag,
    SnapshotTie,
)

_tag = table_of(LinkTag)
_link = table_of(DeclaredLink)
_resp = table_of(Response)
_obs = table_of(ResponseObstacle)
_svc = table_of(Service)
FROZEN_TAG_KINDS = (*TAG_KINDS, coordination.FRAME_TAG)


def discard(session: Session, campaign: Campaign) -> None:
    """Delete the campaign's snapshot (nothing happens when it has none)."""
    for model in SNAPSHOT_TABLES:
        t = table_of(model)
        session.execute(delete(t).where(t.c.campaign_id == campaign.id))
    session.flush()


def freeze(session: Session, campaign: Campaign) -> None:
    """Write the snapshot of a closed campaign from the live answers and directory (any
    previous snapshot is replaced). Flushes, does not commit."""
    if campaign.status != "closed":
        raise ValueError("only a closed campaign is frozen")
    discard(session, campaign)
    cid = stored_id(campaign)
    g = build_graph(session, campaign)  # live: the campaign has no snapshot now
    live = Source(campaign, frozen=False)
    canon = live.canon()
    d = live.declarations(NO_FILTER, canon)

    if g.number_of_nodes():
        session.execute(
            insert(table_of(SnapshotStructure)),
            [
                {
                    "campaign_id": cid,
                    "organisation_id": n,
                    "name": a["name"],
                    "type": a["type"],
                    "type_label": a["type_label"],
                    "commune": a["commune"],
                    "zone": a["zone"],
                    "status": "proposed" if a["proposed"] else "active",
                    "invited": a["invited"],
                    "responded": a["responded"],
                    "link_carriers": a["link_carriers"],
                }
                for n, a in g.nodes(data=True)
            ],
        )
    if g.number_of_edges():
        session.execute(
            insert(table_of(SnapshotTie)),
            [
                {
                    "campaign_id": cid,
                    "src": u,
                    "dst": v,
                    "carriers": a["carriers"],
                    "attrs": json.dumps(a, ensure_ascii=False),
                }
                for u, v, a in g.edges(data=True)
            ],
        )

    # The declarations CTE's columns, stored under the same names (its `pro` is the
    # professional's id).
    same = ["link_id", "response_id", "position", "src", "dst", "src_service", "dst_service",
            "nature", "frequency", "quality"]  # fmt: skip
    session.execute(
        insert(table_of(SnapshotDeclaration)).from_select(
            ["campaign_id", "professional_id", *same],
            select(literal(cid), d.c.pro, *(d.c[name] for name in same)),
        )
    )
    sd = table_of(SnapshotDeclaration)
    # The tags of the campaign's counted links, joined on the live tables (indexed, with
    # statistics) rather than on the rows just written: a self-tie's tags come along and are
    # never read (they join no frozen declaration). Frames too: the coordination figures
    # read them.
    session.execute(
        insert(table_of(SnapshotTag)).from_select(
            ["campaign_id", "link_id", "kind", "code"],
            select(literal(cid), _tag.c.link_id, _tag.c.kind, _tag.c.code)
            .select_from(
                _tag.join(_link, _link.c.id == _tag.c.link_id).join(
                    _resp, _resp.c.id == _link.c.response_id
                )
            )
            .where(
                _resp.c.campaign_id == cid,
                _resp.c.status == "submitted",
                _link.c.status.in_(COUNTED_LINK_STATUSES),
                _tag.c.kind.in_(FROZEN_TAG_KINDS),
            ),
        )
    )
    people = live.people().subquery()
    session.execute(
        insert(table_of(SnapshotPerson)).from_select(
            ["campaign_id", "professional_id", "organisation_id", "service_id", "responded"],
            select(literal(cid), people.c.pro, canon.c.root, people.c.service, people.c.responded)
            .select_from(people.join(canon, canon.c.id == people.c.org))
            .distinct(),
        )
    )
    sp = table_of(SnapshotPerson)
    used = union(
        select(sp.c.service_id.label("sid")).where(sp.c.campaign_id == cid),
        select(sd.c.src_service).where(sd.c.campaign_id == cid),
        select(sd.c.dst_service).where(sd.c.campaign_id == cid),
    ).subquery()
    session.execute(
        insert(table_of(SnapshotService)).from_select(
            ["campaign_id", "service_id", "name"],
            select(literal(cid), _svc.c.id, _svc.c.name).where(_svc.c.id.in_(select(used.c.sid))),
        )
    )
    session.execute(
        insert(table_of(SnapshotObstacle)).from_select(
            ["campaign_id", "professional_id", "code"],
            select(literal(cid), _resp.c.professional_id, _obs.c.code)
            .select_from(_resp.join(_obs, _obs.c.response_id == _resp.c.id))
            .where(_resp.c.campaign_id == cid, _resp.c.status == "submitted")
            .distinct(),
        )
    )
    figs = figures.all_figures(g)
    # Instances, conventions and zones as they stand now, with the answers as they stand.
    coord = coordination.compute(session, Source(campaign, frozen=False, session=session), g)
    snap = CampaignSnapshot(
        campaign_id=cid,
        figures=json.dumps(figs, ensure_ascii=False),
        summary=json.dumps(summary_of(figs), ensure_ascii=False),
        coordination=_coordination_json(coord),
    )
    session.add(snap)
    session.flush()
    _analyze(session)
    snap.comparison = _comparison_json(session, campaign, g, figs)
    session.add(snap)
    session.flush()


def _coordination_json(d: dict) -> str:
    return json.dumps(d, ensure_ascii=False, sort_keys=True)


def summary_of(figs: dict) -> dict:
    """The parts of `all_figures` a list of territories reads (`TerritoryFigures.row`)."""
    size, part = figs["size"], figs["participation"]
    return {
        "headline": figs["headline"],
        "size": {k: size[k] for k in ("structures", "links", "density", "components")},
        "participation": {k: part.get(k) for k in ("invited", "responded", "rate")},
    }


def _analyze(session: Session) -> None:
    """PostgreSQL plans the next reads of the rows just written with fresh statistics:
    without them it expects one row per table and nests loops over the declarations
    (seconds at the scale of a large département until autovacuum comes)."""
    if session.get_bind().dialect.name == "postgresql":
        names = ", ".join(table_of(m).name for m in SNAPSHOT_TABLES)
        session.execute(text(f"ANALYZE {names}"))


def _comparison_json(session: Session, campaign: Campaign, g: nx.DiGraph, figs: dict) -> str | None:
    """Year over year with the previous campaign when it is frozen too (both then never
    change until one is frozen again); None otherwise."""
    previous = campaign_rules.previous_campaign(session, campaign)
    if previous is None or not is_frozen(session, previous):
        return None
    before = build_graph(session, previous)
    result = compare.compare_graphs(
        before,
        g,
        compare.carrier_departures(session, previous, campaign),
        figures_before=stored_figures(session, previous),
        figures_after=figs,
    )
    return json.dumps(
        {
            "before_id": previous.id,
            "before_version": frozen_version(session, previous),
            "result": result,
        },
        ensure_ascii=False,
    )


def frozen_version(session: Session, campaign: Campaign) -> str | None:
    """When the campaign was frozen (ISO), None when it is not: the version of its data."""
    at = session.execute(
        select(table_of(CampaignSnapshot).c.frozen_at).where(
            table_of(CampaignSnapshot).c.campaign_id == campaign.id
        )
    ).scalar()
    return None if at is None else at.isoformat()


def stored_comparison(session: Session, before: Campaign, after: Campaign) -> dict | None:
    """The comparison frozen with `after` if it was made with `before` as it is frozen now."""
    snap = table_of(CampaignSnapshot)
    raw = session.execute(select(snap.c.comparison).where(snap.c.campaign_id == after.id)).scalar()
    if raw is None:
        return None
    stored = json.loads(raw)
    if stored["before_id"] != before.id or stored["before_version"] != frozen_version(
        session, before
    ):
        return None
    return stored["result"]


def close(session: Session, campaign: Campaign) -> None:
    """Close an open campaign and freeze it, in the caller's transaction. When the snapshot
    cannot be written, the session is rolled back (the campaign stays open) and
    `CampaignRefused` says why."""
    campaign_rules.close_campaign(session, campaign)
    year = campaign.year
    try:
        freeze(session, campaign)
    except Exception as exc:  # any database or figure error: nothing is half-written
        session.rollback()
        raise CampaignRefused(
            f"La campagne {year} n'a pas pu être close : ses chiffres n'ont pas pu être "
            f"figés ({type(exc).__name__}). Elle reste ouverte ; réessayez ou prévenez "
            "l'administrateur."
        ) from exc


def reopen(session: Session, campaign: Campaign, secret: str) -> int:
    """Reopen the latest closed campaign and discard its snapshot; returns the links issued."""
    issued = campaign_rules.reopen_campaign(session, campaign, secret)
    discard(session, campaign)
    return issued


def freeze_missing(session: Session) -> int:
    """Freeze every closed campaign without a snapshot (closed before snapshots existed, or
    written closed by a script); returns how many. A snapshot written before the
    coordination figures existed gets them (from its frozen answers and the instances,
    conventions and zones as they are now); those are not counted. Flushes, does not
    commit."""
    snap = table_of(CampaignSnapshot)
    camp = table_of(Campaign)
    ids = session.scalars(
        select(camp.c.id)
        .where(camp.c.status == "closed", camp.c.id.not_in(select(snap.c.campaign_id)))
        .order_by(camp.c.territory_id, camp.c.year)
    ).all()
    for cid in ids:
        c = session.get(Campaign, cid)
        if c is not None:
            freeze(session, c)
    for cid in session.scalars(
        select(snap.c.campaign_id).where(snap.c.coordination.is_(None)).order_by(snap.c.campaign_id)
    ).all():
        c = session.get(Campaign, cid)
        row = session.get(CampaignSnapshot, cid)
        if c is not None and row is not None:
            d = coordination.compute(session, source_of(session, c))
            row.coordination = _coordination_json(d)
            session.add(row)
    session.flush()
    return len(ids)


# --- reading -------------------------------------------------------------------------------


def stored_figures(session: Session, campaign: Campaign) -> dict | None:
    """The figures frozen with the campaign (all_figures of its unfiltered graph), or None."""
    snap = session.get(CampaignSnapshot, campaign.id)
    return None if snap is None else json.loads(snap.figures)


def stored_pdf(session: Session, campaign: Campaign) -> bytes | None:
    snap = session.get(CampaignSnapshot, campaign.id)
    return None if snap is None else snap.pdf


def store_pdf(session: Session, campaign: Campaign, pdf: bytes) -> bool:
    """Keep the PDF of a frozen campaign (commits). False when the campaign is not frozen."""
    snap = session.get(CampaignSnapshot, campaign.id)
    if snap is None:
        return False
    snap.pdf = pdf
    snap.pdf_at = utcnow()
    session.add(snap)
    session.commit()
    return True


@dataclass(frozen=True)
class TerritoryFigures:
    """The headline of one territory's latest closed campaign, as frozen: `figures` holds
    the parts of its figures a list shows (`summary_of`)."""

    code: str
    name: str
    year: int
    frozen_at: datetime
    figures: dict

    def row(self) -> dict[str, object]:
        h, s, p = self.figures["headline"], self.figures["size"], self.figures["participation"]
        return {
            "territoire": self.code,
            "nom": self.name,
            "annee": self.year,
            "structures": s["structures"],
            "liens": h["links"],
            "densite": s["density"],
            "composantes": s["components"],
            "taux_reponse": h["response_rate"],
            "reciprocite": h["reciprocity"],
            "part_formelle": h["formal_share"],
            "part_fragile": h["fragile_share"],
            "invites": p.get("invited"),
            "repondants": p.get("responded"),
        }


def latest_closed(session: Session, year: int | None = None) -> list[TerritoryFigures]:
    """Every territory's latest frozen campaign (or its campaign of `year`), from the
    snapshots alone: one query, no graph built."""
    snap, camp, terr = table_of(CampaignSnapshot), table_of(Campaign), table_of(Territory)
    if year is None:
        latest = (
            select(camp.c.territory_id, func.max(camp.c.year).label("year"))
            .select_from(camp.join(snap, snap.c.campaign_id == camp.c.id))
            .group_by(camp.c.territory_id)
            .subquery()
        )
        pick = (camp.c.territory_id == latest.c.territory_id) & (camp.c.year == latest.c.year)
        base: FromClause = camp.join(latest, pick)
    else:
        base = camp
    q = (
        select(terr.c.code, terr.c.name, camp.c.year, snap.c.frozen_at, snap.c.summary)
        .select_from(
            base.join(snap, snap.c.campaign_id == camp.c.id).join(
                terr, terr.c.id == camp.c.territory_id
            )
        )
        .order_by(terr.c.code)
    )
    if year is not None:
        q = q.where(camp.c.year == year)
    return [
        TerritoryFigures(code, name, y, at, json.loads(f))
        for code, name, y, at, f in session.execute(q).all()
    ]


__all__ = [
    "close",
    "discard",
    "freeze",
    "freeze_missing",
    "is_frozen",
    "latest_closed",
    "reopen",
    "store_pdf",
    "stored_figures",
    "stored_pdf",
]

"""What a respondent's own map shows of their answers (`/q/{token}/ma-carte`): their
structure as the graph knows it (after merges) and the partners they declared."""

from __future__ import annotations

import networkx as nx
from sqlmodel import Session, col, select

from reports.graph import COUNTED_LINK_STATUSES, is_frozen
from survey import vocab
from survey.db import stored_id, table_of
from survey.models import Campaign, DeclaredLink, LinkTag, Organisation, Response
from survey.snapshots import SnapshotDeclaration, SnapshotStructure, SnapshotTag


def own_structure(session: Session, org_id: int) -> tuple[int, str]:
    """The structure that absorbed `org_id` through merges (itself if never merged): its id
    in the graph and its name ("" if unknown)."""
    seen = set()
    org = session.get(Organisation, org_id)
    while org is not None and org.merged_into_id is not None and org.id not in seen:
        seen.add(org.id)
        org = session.get(Organisation, org.merged_into_id)
    if org is None:
        return org_id, ""
    return stored_id(org), org.name


def node_in(session: Session, org_id: int, g: nx.DiGraph) -> int | None:
    """The node of `g` standing for structure `org_id`: itself, or the first structure that
    absorbed it by merges present in `g` (a closed year's graph keeps the structures as
    they stood when it closed)."""
    seen: set[int] = set()
    current: int | None = org_id
    while current is not None and current not in seen:
        if current in g:
            return current
        seen.add(current)
        org = session.get(Organisation, current)
        current = None if org is None else org.merged_into_id
    return None


def _frozen_partners(session: Session, campaign_id: int, response_id: int) -> list[dict]:
    d, o, t = table_of(SnapshotDeclaration), table_of(SnapshotStructure), table_of(SnapshotTag)
    rows = session.execute(
        select(d.c.link_id, o.c.name, d.c.nature, d.c.frequency)
        .join(o, (o.c.campaign_id == d.c.campaign_id) & (o.c.organisation_id == d.c.dst))
        .where(d.c.campaign_id == campaign_id, d.c.response_id == response_id)
        .order_by(d.c.position, d.c.link_id)
    ).all()
    practices: dict[int, list[str]] = {r.link_id: [] for r in rows}
    if rows:
        for link_id, code in session.execute(
            select(t.c.link_id, t.c.code).where(
                t.c.campaign_id == campaign_id,
                t.c.kind == "practice",
                t.c.link_id.in_(list(practices)),
            )
        ):
            practices[link_id].append(vocab.PRACTICES.get(code, code))
    return [
        {
            "name": r.name,
            "nature": vocab.NATURES.get(r.nature or "", "—"),
            "frequency": vocab.FREQUENCIES.get(r.frequency or "", "—"),
            "practices": sorted(practices[r.link_id]),
        }
        for r in rows
    ]


def own_partners(session: Session, response_id: int) -> list[dict]:
    """The partners this response declares (counted links), with their answers; for a
    frozen campaign, as they stood at its close."""
    response = session.get(Response, response_id)
    if response is not None:
        campaign = session.get(Campaign, response.campaign_id)
        if campaign is not None and is_frozen(session, campaign):
            return _frozen_partners(session, stored_id(campaign), response_id)
    rows = session.exec(
        select(DeclaredLink, Organisation.name)
        .join(Organisation, col(Organisation.id) == col(DeclaredLink.partner_organisation_id))
        .where(
            DeclaredLink.response_id == response_id,
            col(DeclaredLink.status).in_(COUNTED_LINK_STATUSES),
        )
        .order_by(col(DeclaredLink.position))
    ).all()
    ids = [stored_id(link) for link, _ in rows]
    practices: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for tag in session.exec(
            select(LinkTag).where(col(LinkTag.link_id).in_(ids), LinkTag.kind == "practice")
        ):
            practices[tag.link_id].append(vocab.PRACTICES.get(tag.code, tag.code))
    return [
        {
            "name": name,
            "nature": vocab.NATURES.get(link.nature or "", "—"),
            "frequency": vocab.FREQUENCIES.get(link.frequency or "", "—"),
            "practices": sorted(practices[stored_id(link)]),
        }
        for link, name in rows
    ]

"""What a respondent's own map shows of their answers (`/q/{token}/ma-carte`): their
structure as the graph knows it (after merges) and the partners they declared."""

from __future__ import annotations

from sqlmodel import Session, col, select

from reports.graph import COUNTED_LINK_STATUSES
from survey import vocab
from survey.db import stored_id
from survey.models import DeclaredLink, LinkTag, Organisation


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


def own_partners(session: Session, response_id: int) -> list[dict]:
    """The partners this response declares (counted links), with their answers."""
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

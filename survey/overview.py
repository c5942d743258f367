"""A territory at a glance, as its workspace dashboard shows it: each campaign with how many
people were invited and how many answered, and the size of the directory."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from survey import campaigns
from survey.db import stored_id
from survey.models import Campaign, Invitation, Organisation, Professional, Response


@dataclass
class CampaignCounts:
    campaign: Campaign
    status: str  # in French (campaigns.CAMPAIGN_STATUS_LABELS)
    invited: int  # people with a live link
    submitted: int


@dataclass
class Overview:
    campaigns: list[CampaignCounts]  # latest year first
    organisations: int  # active structures
    proposed: int  # structures proposed by respondents, to confirm
    professionals: int  # active professionals


def overview(session: Session, territory_id: int) -> Overview:
    campaign_ids = select(Campaign.id).where(Campaign.territory_id == territory_id)
    invited = dict(
        session.exec(
            select(Invitation.campaign_id, func.count(func.distinct(Invitation.professional_id)))
            .where(col(Invitation.revoked_at).is_(None))
            .where(col(Invitation.campaign_id).in_(campaign_ids))
            .group_by(col(Invitation.campaign_id))
        ).all()
    )
    submitted = dict(
        session.exec(
            select(Response.campaign_id, func.count())
            .where(Response.status == "submitted")
            .where(col(Response.campaign_id).in_(campaign_ids))
            .group_by(col(Response.campaign_id))
        ).all()
    )
    return Overview(
        campaigns=[
            CampaignCounts(
                campaign=c,
                status=campaigns.CAMPAIGN_STATUS_LABELS.get(c.status, c.status),
                invited=invited.get(stored_id(c), 0),
                submitted=submitted.get(stored_id(c), 0),
            )
            for c in campaigns.list_campaigns(session, territory_id)
        ],
        organisations=_count_organisations(session, territory_id, "active"),
        proposed=_count_organisations(session, territory_id, "proposed"),
        professionals=session.exec(
            select(func.count()).where(
                Professional.territory_id == territory_id, col(Professional.active).is_(True)
            )
        ).one(),
    )


def _count_organisations(session: Session, territory_id: int, status: str) -> int:
    return session.exec(
        select(func.count()).where(
            Organisation.territory_id == territory_id, Organisation.status == status
        )
    ).one()

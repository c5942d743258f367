"""Campaign lifecycle helpers and the follow-up status report."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from survey import links
from survey.models import Campaign, Invitation, Organisation, Professional, Response, Territory

STATUS_LABELS = {"not_started": "non commencé", "draft": "brouillon", "submitted": "envoyé"}


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


def get_campaign(session: Session, territory_code: str, year: int) -> Campaign:
    territory = session.exec(select(Territory).where(Territory.code == territory_code)).first()
    if territory is None:
        raise NotFound(f"Territoire « {territory_code} » inconnu.")
    campaign = session.exec(
        select(Campaign).where(Campaign.territory_id == territory.id, Campaign.year == year)
    ).first()
    if campaign is None:
        raise NotFound(f"Pas de campagne {year} pour le territoire {territory_code}.")
    return campaign


def link_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/q/{token}"


def status_report(
    session: Session, campaign: Campaign, secret: str, base_url: str
) -> list[StatusRow]:
    """Every active professional of the territory (and anyone who answered), with the status
    of their response and their personal link; missing links are issued (and committed)."""
    invited = set(
        session.exec(
            select(Invitation.professional_id).where(
                Invitation.campaign_id == campaign.id, Invitation.revoked_at.is_(None)
            )
        ).all()
    )
    responded = select(Response.professional_id).where(Response.campaign_id == campaign.id)
    pros = list(
        session.exec(
            select(Professional).where(
                Professional.territory_id == campaign.territory_id,
                Professional.active | Professional.id.in_(responded),
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
        .join(Organisation, Organisation.id == Professional.organisation_id)
        .join(
            Invitation,
            (Invitation.professional_id == Professional.id)
            & (Invitation.campaign_id == campaign.id)
            & Invitation.revoked_at.is_(None),
        )
        .outerjoin(
            Response,
            (Response.professional_id == Professional.id) & (Response.campaign_id == campaign.id),
        )
        .where(Professional.id.in_([p.id for p in pros]))
        .order_by(Organisation.name, Professional.full_name, Invitation.id.desc())
    ).all()
    out: list[StatusRow] = []
    seen: set[int] = set()
    for pro, org_name, status, inv in rows:
        if pro.id in seen:
            continue
        seen.add(pro.id)
        out.append(
            StatusRow(
                professional_id=pro.id,
                full_name=pro.full_name,
                email=pro.email,
                organisation=org_name,
                status=status or "not_started",
                link=link_url(base_url, links.token_for(secret, inv)),
            )
        )
    return out

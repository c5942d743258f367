"""The territory workspace: its dashboard. The other sections live in their own modules."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func
from sqlmodel import col, select

from app.db import SessionDep
from app.security import ViewerScope
from app.templating import templates
from survey import campaigns
from survey.models import Campaign, Invitation, Organisation, Professional, Response

router = APIRouter(include_in_schema=False)

STATUS_LABELS = {"draft": "en préparation", "open": "ouverte", "closed": "close"}


@router.get("/t/{code}/", response_class=HTMLResponse)
def dashboard(request: Request, scope: ViewerScope, session: SessionDep):
    tid = scope.territory.id
    invited = (
        select(Invitation.campaign_id, func.count(func.distinct(Invitation.professional_id)))
        .where(col(Invitation.revoked_at).is_(None))
        .group_by(Invitation.campaign_id)
    )
    submitted = (
        select(Response.campaign_id, func.count())
        .where(Response.status == "submitted")
        .group_by(Response.campaign_id)
    )
    campaign_ids = select(Campaign.id).where(Campaign.territory_id == tid)
    invited_by = dict(
        session.exec(invited.where(col(Invitation.campaign_id).in_(campaign_ids))).all()
    )
    submitted_by = dict(
        session.exec(submitted.where(col(Response.campaign_id).in_(campaign_ids))).all()
    )
    territory_campaigns = campaigns.list_campaigns(session, tid)
    counts = {
        "organisations": session.exec(
            select(func.count()).where(
                Organisation.territory_id == tid, Organisation.status == "active"
            )
        ).one(),
        "proposed": session.exec(
            select(func.count()).where(
                Organisation.territory_id == tid, Organisation.status == "proposed"
            )
        ).one(),
        "professionals": session.exec(
            select(func.count()).where(
                Professional.territory_id == tid, col(Professional.active).is_(True)
            )
        ).one(),
    }
    rows = [
        {
            "campaign": c,
            "status": STATUS_LABELS.get(c.status, c.status),
            "invited": invited_by.get(c.id, 0),
            "submitted": submitted_by.get(c.id, 0),
        }
        for c in territory_campaigns
    ]
    return templates.TemplateResponse(
        request,
        "workspace/dashboard.html",
        {"scope": scope, "territory": scope.territory, "rows": rows, "counts": counts},
    )

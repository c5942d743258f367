"""The territory workspace: its dashboard. The other sections live in their own modules."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.deps import SessionDep, ViewerScope
from app.mail import smtp_config
from app.templating import templates
from survey import campaigns, next_steps
from survey.overview import overview

router = APIRouter(include_in_schema=False)
PARIS = ZoneInfo("Europe/Paris")


@router.get("/t/{code}/", response_class=HTMLResponse)
def dashboard(request: Request, scope: ViewerScope, session: SessionDep):
    glance = overview(session, scope.territory.id)
    context: dict = {
        "scope": scope,
        "territory": scope.territory,
        "rows": glance.campaigns,
        "counts": glance,
        "next_steps": [],
        "current": None,
    }
    # Coordinators open on what to do now about the campaign that matters (viewers act on
    # nothing here).
    current = next_steps.current_campaign([row.campaign for row in glance.campaigns])
    if scope.can_write and current is not None:
        emails = smtp_config(request.app.state.settings) is not None
        today = datetime.now(PARIS).date()
        context["next_steps"] = next_steps.steps(
            next_steps.state_of(session, current, emails, today)
        )
        context["current"] = next(r for r in glance.campaigns if r.campaign.id == current.id)
        context["current_label"] = campaigns.CAMPAIGN_STATUS_LABELS[current.status]
    elif scope.can_write:
        context["next_steps"] = next_steps.first_steps()
    return templates.TemplateResponse(request, "workspace/dashboard.html", context)

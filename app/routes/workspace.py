"""The territory workspace: its dashboard. The other sections live in their own modules."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.deps import SessionDep, ViewerScope
from app.templating import templates
from survey.overview import overview

router = APIRouter(include_in_schema=False)


@router.get("/t/{code}/", response_class=HTMLResponse)
def dashboard(request: Request, scope: ViewerScope, session: SessionDep):
    glance = overview(session, scope.territory.id)
    return templates.TemplateResponse(
        request,
        "workspace/dashboard.html",
        {"scope": scope, "territory": scope.territory, "rows": glance.campaigns, "counts": glance},
    )

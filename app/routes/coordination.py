"""« Coordination »: what the instances, the official partnerships, the zones and the
quality of ties show for one campaign (`/t/{code}/coordination?annee=`).

Thin: the figures are reports.coordination's; a viewer reads the public copy (the « < 3 »
rule, reports.privacy.suppress_coordination), a coordinator the exact counts and, on an
open campaign, the buttons that add a suggested member to an instance.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from app.deps import Scope, SessionDep, ViewerScope, workspace_url
from app.graph_view import chosen_campaign, coordination_figures, quality_rows
from app.templating import templates
from survey import campaigns, vocab

router = APIRouter(include_in_schema=False)


def white_grid(zones: dict) -> dict:
    """« Zones blanches » as a zone × family grid: the families found white somewhere (the
    columns), the zones with at least one respondent (the rows; a zone without any cannot
    be read) and, per row, the white families. Zones without respondent are listed apart."""
    white = zones.get("white", [])
    order = {f.code: i for i, f in enumerate(vocab.FAMILIES)}
    codes = sorted({w["family"] for w in white}, key=lambda c: order.get(c, len(order)))
    labels = {w["family"]: w["family_label"] for w in white}
    by_zone: dict[str, set[str]] = {}
    for w in white:
        by_zone.setdefault(w["zone"], set()).add(w["family"])
    read = [z for z in zones.get("items", []) if z.get("responded")]
    unread = [z["name"] for z in zones.get("items", []) if not z.get("responded")]
    return {
        "families": [(c, labels[c]) for c in codes],
        "rows": [{"zone": z, "white": by_zone.get(z["name"], set())} for z in read],
        "unread": unread,
    }


def coordination_context(request: Request, session: Session, scope: Scope) -> dict:
    """Everything the page shows for the year asked for (`?annee=`, else the latest with
    answers); only `scope`, `section` and `campaign` (None) when there is no campaign."""
    ctx: dict = {"scope": scope, "section": "coordination", "campaign": None}
    campaign = chosen_campaign(session, scope, request.query_params.get("annee"))
    if campaign is None:
        return ctx
    d = coordination_figures(session, scope, campaign)
    instances = d["instances"]["items"]
    ctx.update(
        campaign=campaign,
        campaigns=campaigns.list_campaigns(session, scope.territory.id),
        d=d,
        active_instances=[i for i in instances if i.get("active", True)],
        archived_instances=[i for i in instances if not i.get("active", True)],
        quality=quality_rows(d["quality"]),
        white=white_grid(d["zones"]),
        # Members are added from here only while the campaign's answers are still live: a
        # closed year's figures are frozen and would not show the change.
        can_add_member=scope.can_write and campaign.status == "open",
        back=f"{workspace_url(scope, 'coordination')}?annee={campaign.year}",
    )
    return ctx


@router.get("/t/{code}/coordination", response_class=HTMLResponse)
def coordination_page(request: Request, scope: ViewerScope, session: SessionDep):
    """The four analyses of a campaign: instances, official partnerships, zones, quality."""
    return templates.TemplateResponse(
        request, "coordination/page.html", coordination_context(request, session, scope)
    )

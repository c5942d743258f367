"""`/q/{token}/ma-carte`: a respondent's own map, a return for answering.

Through the personal link, no account. Shows the partners they declared and how their
structure sits in the map of the campaign it is compared with (survey.campaigns.
previous_campaign: its ego network). Structure level
only: no other professional is named, no link to the workspace.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select

from app.db import SessionDep
from app.respondent import respondent_or_404
from app.templating import templates
from reports import cache, layout, svg
from reports import structure as structure_view
from reports.graph import COUNTED_LINK_STATUSES
from survey import campaigns, vocab
from survey.models import DeclaredLink, LinkTag, Organisation

router = APIRouter(include_in_schema=False)


def root_of(session: Session, org_id: int) -> int:
    """The structure that absorbed `org_id` through merges (itself if never merged)."""
    seen = set()
    org = session.get(Organisation, org_id)
    while org is not None and org.merged_into_id is not None and org.id not in seen:
        seen.add(org.id)
        org = session.get(Organisation, org.merged_into_id)
    return org.id if org is not None else org_id


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
    ids = [link.id for link, _ in rows]
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
            "practices": sorted(practices[link.id]),
        }
        for link, name in rows
    ]


@router.get("/q/{token}/ma-carte", response_class=HTMLResponse)
def own_map(token: str, request: Request, session: SessionDep):
    r = respondent_or_404(session, token)
    ctx: dict = {"token": token, "campaign": r.campaign, "territory_name": r.territory.name}
    submitted = r.response is not None and r.response.status == "submitted"
    ctx["submitted"] = submitted
    if not submitted:
        return templates.TemplateResponse(request, "graph/own_map.html", ctx)
    oid = root_of(session, r.response.organisation_id)
    org = session.get(Organisation, oid)
    ctx["org_name"] = org.name if org else ""
    ctx["partners"] = own_partners(session, r.response.id)
    previous = campaigns.previous_campaign(session, r.campaign)
    ctx["previous"] = previous
    if previous is not None:
        e = cache.entry(session, previous)  # shared with the workspace pages: read only
        g = e.graph
        if oid in g and g.degree(oid) > 0:
            figs = e.all_figures()
            ctx["s"] = structure_view.summary(g, oid, figs)
            ctx["network"] = {
                "structures": g.number_of_nodes(),
                "links": figs["size"]["links"],
                "median_degree": _median([r["degree"] for r in figs["centrality"]["structures"]]),
            }
            ego = structure_view.ego(g, oid)
            ctx["ego_svg"] = svg.render(
                ego,
                layout.cached_positions(ego),
                svg.MapOptions(
                    href=None,
                    id_prefix="ma-carte",
                    labels_max=10,
                    highlight=frozenset({oid}),
                    title=f"{ctx['org_name']} et ses partenaires en {previous.year}",
                ),
            )
            ctx["families"] = svg.families_present(ego)
            ctx["swatch"] = svg.swatch
            ctx["line_swatch"] = svg.line_swatch
    return templates.TemplateResponse(request, "graph/own_map.html", ctx)


def _median(values: list[int]) -> float | None:
    if not values:
        return None
    v = sorted(values)
    mid = len(v) // 2
    return float(v[mid]) if len(v) % 2 else (v[mid - 1] + v[mid]) / 2

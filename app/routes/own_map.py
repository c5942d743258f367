"""`/q/{token}/ma-carte`: a respondent's own map, a return for answering.

Through the personal link, no account. Shows the partners they declared and how their
structure sits in the map of the campaign it is compared with (survey.campaigns.
previous_campaign: its ego network). Structure level
only: no other professional is named, no link to the workspace.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.deps import SessionDep
from app.respondent import respondent_or_404
from app.templating import templates
from reports import cache, layout, svg
from reports import own_map as own_map_data
from reports import structure as structure_view
from survey import campaigns

router = APIRouter(include_in_schema=False)


@router.get("/q/{token}/ma-carte", response_class=HTMLResponse)
def own_map(token: str, request: Request, session: SessionDep):
    r = respondent_or_404(session, token)
    ctx: dict = {"token": token, "campaign": r.campaign, "territory_name": r.territory.name}
    submitted = r.response is not None and r.response.status == "submitted"
    ctx["submitted"] = submitted
    if not submitted:
        return templates.TemplateResponse(request, "graph/own_map.html", ctx)
    oid, ctx["org_name"] = own_map_data.own_structure(session, r.response.organisation_id)
    ctx["partners"] = own_map_data.own_partners(session, r.response.id)
    previous = campaigns.previous_campaign(session, r.campaign)
    ctx["previous"] = previous
    if previous is not None:
        e = cache.entry(session, previous)  # shared with the workspace pages: read only
        g = e.graph
        oid = own_map_data.node_in(session, r.response.organisation_id, g) or oid
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
                    label_font=svg.EGO_LABEL_FONT,
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

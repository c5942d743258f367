"""JSON API of the partnership graph: the same data as the pages, for other tools.

Authentication: the session cookie of a signed-in coordinator or viewer of the territory
(401 when signed out, 404 for another territory). Errors are French JSON `{"detail": …}`.

A viewer reads every count of 1 or 2 professionals as « < 3 » and the rates built on them as
« — » (reports.privacy, docs/rgpd.md); coordinators read exact counts, as on their pages.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request

from app.deps import SessionDep, ViewerScope
from app.graph_view import (
    NATURE_FILTERS,
    campaign_or_404,
    evolution_pair,
    graph_view,
    parse_filter,
    parse_year,
)
from app.problems import Problems
from reports import cache, figures, privacy, structure, trends
from survey import vocab

router = APIRouter(prefix="/api/v1/t/{code}", tags=["graphe"])

ERRORS = {
    400: {"description": "Paramètre incorrect (année) : message en français."},
    401: {"description": "Connexion requise (cookie de session)."},
    404: {"description": "Territoire inaccessible ou campagne inconnue."},
    422: {"model": Problems, "description": "Filtre inconnu : un message en français par code."},
}

# Documented once here, declared on every route for OpenAPI (parse_filter reads them). The
# codes are enums: a wrong one is a 422 with a French message before the handler runs.
TypeQ = Query(None, description="Type(s) de structure (répétable), codes de survey.vocab")
NatureQ = Query(None, description="formal ou informal (chacun inclut « les deux »)")
ThematiqueQ = Query(None, description="Code de thématique data·inclusion")
FrequenceQ = Query(None, description="weekly, monthly, quarterly ou occasional")
NatureFilter = Literal[tuple(NATURE_FILTERS)]


def _year(year: str) -> int:
    y = parse_year(year, "année")
    if y is None:
        raise HTTPException(status_code=404)
    return y


@router.get("/figures/{year}", responses=ERRORS, summary="Tous les chiffres d'une campagne")
def api_figures(
    year: str,
    request: Request,
    scope: ViewerScope,
    session: SessionDep,
    type: list[vocab.OrgTypeCode] | None = TypeQ,  # noqa: A002 - the public parameter name
    nature: NatureFilter | None = NatureQ,
    thematique: vocab.ThematiqueCode | None = ThematiqueQ,
    frequence: vocab.FrequencyCode | None = FrequenceQ,
) -> dict:
    """Every figure of docs/metrics.md for what the filters show, plus obstacles.
    Non-response is explicit (`answered`, `with_non_respondent`…), never read as "no link"."""
    flt = parse_filter(request)
    campaign = campaign_or_404(session, scope.territory.id, _year(year))
    view = graph_view(session, campaign, flt)
    figs = {**view.figures, "obstacles": figures.obstacles(session, campaign, flt.org_types)}
    return {
        "territory": scope.territory.code,
        "year": campaign.year,
        "campaign_status": campaign.status,
        "filters": flt.as_dict(),
        **privacy.suppress_figures(figs, privacy.audience_of(scope.can_write)),
    }


@router.get("/graph/{year}", responses=ERRORS, summary="Le graphe nœuds-liens, avec positions")
def api_graph(
    year: str,
    request: Request,
    scope: ViewerScope,
    session: SessionDep,
    type: list[vocab.OrgTypeCode] | None = TypeQ,  # noqa: A002
    nature: NatureFilter | None = NatureQ,
    thematique: vocab.ThematiqueCode | None = ThematiqueQ,
    frequence: vocab.FrequencyCode | None = FrequenceQ,
) -> dict:
    """Structures (nodes, with x, y in [0, 1] stable across years, family of type) and
    directed ties (links) with their attributes. No professional is named."""
    flt = parse_filter(request)
    campaign = campaign_or_404(session, scope.territory.id, _year(year))
    view = graph_view(session, campaign, flt, everything=False)
    g = view.graph
    if not scope.can_write:
        g = privacy.suppress_graph(g)  # a copy: the view may be cached
    nodes = []
    for n, a in g.nodes(data=True):
        x, y = view.positions.get(n, (None, None))
        fam = vocab.family_of(a.get("type"))
        nodes.append(
            {
                "id": n,
                **a,
                "family": fam.code,
                "family_label": fam.label,
                "degree": structure.partner_count(g, n),
                "x": x,
                "y": y,
            }
        )
    links = [
        {
            "source": u,
            "target": v,
            **d,
            "mutual": g.has_edge(v, u),
        }
        for u, v, d in g.edges(data=True)
    ]
    return {
        "territory": scope.territory.code,
        "year": campaign.year,
        "directed": True,
        "filters": flt.as_dict(),
        "nodes": nodes,
        "links": links,
    }


@router.get("/evolution", responses=ERRORS, summary="Ce qui a changé entre deux campagnes")
def api_evolution(
    request: Request,
    scope: ViewerScope,
    session: SessionDep,
    de: str | None = Query(None, description="Année de départ (par défaut : l'avant-dernière)"),
    a: str | None = Query(None, description="Année d'arrivée (par défaut : la dernière)"),
    type: list[vocab.OrgTypeCode] | None = TypeQ,  # noqa: A002
    nature: NatureFilter | None = NatureQ,
    thematique: vocab.ThematiqueCode | None = ThematiqueQ,
    frequence: vocab.FrequencyCode | None = FrequenceQ,
) -> dict:
    """New, lost, kept, strengthened links; links that survived their carriers leaving or
    were lost with them; change of each headline figure."""
    flt = parse_filter(request)
    pair = evolution_pair(session, scope, request)
    if pair is None:
        raise HTTPException(
            status_code=404, detail="Il faut au moins deux campagnes pour comparer."
        )
    before, after = pair
    result = cache.compare(session, before, after, flt)
    result = privacy.suppress_comparison(result, privacy.audience_of(scope.can_write))
    return {"territory": scope.territory.code, "filters": flt.as_dict(), **result}


@router.get("/tendance", responses=ERRORS, summary="Les chiffres clés de toutes les années")
def api_trend(
    request: Request,
    scope: ViewerScope,
    session: SessionDep,
    type: list[vocab.OrgTypeCode] | None = TypeQ,  # noqa: A002
    nature: NatureFilter | None = NatureQ,
    thematique: vocab.ThematiqueCode | None = ThematiqueQ,
    frequence: vocab.FrequencyCode | None = FrequenceQ,
) -> dict:
    """One row per campaign that is not a draft, earliest year first: the five headline
    figures and the size of the network, the same values as each year's figures. A viewer
    reads a response rate built on one or two people as « — »."""
    flt = parse_filter(request)
    rows = trends.territory_trend(
        session, scope.territory.id, flt, privacy.audience_of(scope.can_write)
    )
    return {
        "territory": scope.territory.code,
        "filters": flt.as_dict(),
        "figures": {f.key: f.label for f in trends.TERRITORY_FIGURES},
        "years": rows,
    }

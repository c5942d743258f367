"""JSON API of the coordination figures: instances, zones, official partnerships.

The same figures as the « Coordination » page (reports.coordination), one route per part.
Authentication: the session cookie of a signed-in coordinator or viewer of the territory
(401 when signed out, 404 for another territory or an unknown year). Errors are French JSON
`{"detail": …}`. A viewer reads every count of 1 or 2 professionals or declarations as
« < 3 » and the rates built on them as null (reports.privacy.suppress_coordination);
coordinators read exact counts.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from app.deps import Scope, SessionDep, ViewerScope
from app.graph_view import campaign_or_404, parse_year
from reports import cache, privacy

router = APIRouter(prefix="/api/v1/t/{code}", tags=["coordination"])

ERRORS = {
    400: {"description": "Paramètre incorrect (année) : message en français."},
    401: {"description": "Connexion requise (cookie de session)."},
    404: {"description": "Territoire inaccessible ou campagne inconnue."},
}


def _figures(session: SessionDep, scope: Scope, year: str) -> dict:
    """The coordination figures of the territory's campaign of `year`, as `scope` reads them."""
    y = parse_year(year, "année")
    if y is None:
        raise HTTPException(status_code=404, detail="Aucune campagne pour cette année.")
    campaign = campaign_or_404(session, scope.territory.id, y)
    d = cache.coordination_figures(session, campaign)
    return d if scope.can_write else privacy.suppress_coordination(d)


@router.get(
    "/instances/{year}",
    responses=ERRORS,
    summary="Instances : membres officiels, participants déclarés, membres absents",
)
def api_instances(year: str, scope: ViewerScope, session: SessionDep) -> dict:
    """Pour chaque instance (commission, réseau…) : ses membres officiels, les structures
    dont des professionnel·les déclarent y participer (et combien), les membres qui ne la
    déclarent pas, les participants non membres et les « membres absents » (structures liées
    à au moins la moitié des membres, deux au moins, sans en être). Aussi : les instances
    aux membres presque identiques (indice de Jaccard ≥ 0,6) et les structures hors de toute
    instance. Un lecteur lit « < 3 » pour un ou deux professionnel·les."""
    d = _figures(session, scope, year)
    return {"year": d["year"], "instances": d["instances"]}


@router.get(
    "/zones/{year}",
    responses=ERRORS,
    summary="Zones : participation, liens internes et externes, zones blanches",
)
def api_zones(year: str, scope: ViewerScope, session: SessionDep) -> dict:
    """Pour chaque zone (UTAS, EPCI, bassin de vie…) : structures, invité·es, répondant·es,
    taux de participation, liens entre structures de la zone et liens avec l'extérieur ; les
    structures sans zone ; les « zones blanches » (zone × famille de structures qu'aucun·e
    répondant·e de la zone ne cite). Un lecteur lit « < 3 » pour un ou deux
    professionnel·les, et le taux est alors retenu (null)."""
    d = _figures(session, scope, year)
    return {"year": d["year"], "zones": d["zones"]}


@router.get(
    "/officiels/{year}",
    responses=ERRORS,
    summary="Partenariats officiels comparés aux liens déclarés, qualité et cadres",
)
def api_official(year: str, scope: ViewerScope, session: SessionDep) -> dict:
    """Les conventions, protocoles et chartes en vigueur l'année de la campagne, avec leurs
    paires de signataires liées ; les « conventions sans vie » (aucune paire de signataires
    liée) ; les « partenariats sans cadre » (liens hebdomadaires ou mensuels sans
    convention, sans instance commune ni cadre déclaré). Aussi la qualité des liens par
    paire de familles (part « difficile » ou « à améliorer ») et les cadres formels déclarés.
    Un lecteur lit « < 3 » pour un ou deux professionnel·les ou déclarations, et la part est
    alors retenue (null)."""
    d = _figures(session, scope, year)
    return {"year": d["year"], "official": d["official"], "quality": d["quality"]}

"""A campaign's graph as the graph pages and the graph API show it: the query parsed (year,
filters), the campaign asked for, and the filtered graph with its figures and positions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx
from fastapi import HTTPException, Request
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.deps import or_404
from app.security import Scope
from reports import cache, coordination, figures, layout, privacy
from reports.graph import NO_FILTER, GraphFilter, is_frozen
from survey import campaigns, vocab
from survey.models import Body, Campaign
from survey.models import Response as Answer

NATURE_FILTERS = {"formal": "Formel (ou les deux)", "informal": "Informel (ou les deux)"}

# --- query parsing -------------------------------------------------------------------------


def bad_request(message: str) -> HTTPException:
    return HTTPException(status_code=400, detail=message)


def parse_year(raw: str | None, name: str = "annee") -> int | None:
    """None when absent or empty; 400 in French when not a plausible year."""
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    if not raw.isdecimal() or len(raw) != 4:
        raise bad_request(f"L'année « {raw[:20]} » (paramètre {name}) n'est pas une année valide.")
    return int(raw)


def parse_id(raw: str, what: str = "structure") -> int:
    if not raw.isdecimal() or len(raw) > 12:
        raise HTTPException(status_code=404, detail=f"Cette {what} n'existe pas.")
    return int(raw)


ZONE_MAX = 120  # characters of a zone name (survey.models.Zone.name)


def parse_filter(request: Request) -> GraphFilter:
    """type (repeatable), nature, thematique, frequence, zone: 400 in French on an unknown
    value. A zone is only known with its campaign: `graph_view` checks it (`check_zone`)."""
    q = request.query_params
    types = frozenset(t for t in q.getlist("type") if t)
    unknown = sorted(t for t in types if t not in vocab.ORG_TYPES)
    if unknown:
        raise bad_request(f"Type de structure inconnu : « {unknown[0][:60]} ».")
    nature = q.get("nature") or None
    if nature and nature not in NATURE_FILTERS:
        raise bad_request(
            f"Nature de lien inconnue : « {nature[:40]} » (valeurs possibles : formal, informal)."
        )
    thematique = q.get("thematique") or None
    if thematique and thematique not in vocab.THEMATIQUES:
        raise bad_request(f"Thématique inconnue : « {thematique[:60]} ».")
    frequency = q.get("frequence") or None
    if frequency and frequency not in vocab.FREQUENCIES:
        raise bad_request(
            f"Fréquence inconnue : « {frequency[:40]} » (valeurs possibles : "
            + ", ".join(vocab.FREQUENCIES)
            + ")."
        )
    zone = (q.get("zone") or "").strip() or None
    if zone and len(zone) > ZONE_MAX:
        raise bad_request(f"Zone inconnue : « {zone[:60]}… ».")
    return GraphFilter(
        org_types=types, nature=nature, thematique=thematique, frequency=frequency, zone=zone
    )


def check_zone(session: Session, campaign: Campaign, flt: GraphFilter) -> None:
    """400 in French when `flt.zone` is not a zone of the campaign (its live zones, or the
    zones frozen with a closed campaign)."""
    if flt.zone and flt.zone not in zone_choices(session, campaign):
        raise bad_request(
            f"Zone inconnue : « {flt.zone[:60]} » n'est pas une zone du territoire en "
            f"{campaign.year}."
        )


def zone_choices(session: Session, campaign: Campaign) -> list[str]:
    """The zone names a filter offers for `campaign` (reports.coordination.zone_names)."""
    return coordination.zone_names(session, campaign)


def instance_choices(session: Session, campaign: Campaign) -> list[tuple[int, str]]:
    """(id, name) of the instances whose members the map can highlight: the active ones of
    the territory, or for a frozen campaign those frozen with it, by name."""
    if is_frozen(session, campaign):
        items = cache.coordination_figures(session, campaign)["instances"]["items"]
        rows = [(int(i["id"]), str(i["name"])) for i in items if i.get("active", True)]
    else:
        rows = [
            (int(b.id), b.name)  # type: ignore[arg-type]  # stored rows have an id
            for b in session.exec(
                select(Body).where(Body.territory_id == campaign.territory_id, Body.active)
            )
        ]
    return sorted(rows, key=lambda r: (r[1].lower(), r[0]))


def parse_instance(raw: str | None) -> int | None:
    """The `instance` parameter of the map: None when absent, 400 in French when not an id."""
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise bad_request(f"Instance inconnue : « {raw[:20]} ».")
    return int(raw)


def instance_members(session: Session, campaign: Campaign, body_id: int) -> frozenset[int]:
    """The canonical member structures of instance `body_id` in `campaign`; 400 in French
    when it is not an instance of the campaign's territory."""
    members = coordination.instance_members(session, campaign, body_id)
    if members is None:
        raise bad_request(f"Instance inconnue : aucune instance n° {body_id} sur ce territoire.")
    return frozenset(members)


def filter_query(flt: GraphFilter) -> list[tuple[str, str]]:
    """The query parameters that reproduce `flt` (for links that keep the filters)."""
    pairs = [("type", t) for t in sorted(flt.org_types)]
    for key, value in (("nature", flt.nature), ("thematique", flt.thematique),
                       ("frequence", flt.frequency), ("zone", flt.zone)):  # fmt: skip
        if value:
            pairs.append((key, value))
    return pairs


def filter_labels(flt: GraphFilter) -> list[str]:
    out = []
    if flt.org_types:
        out.append("types : " + ", ".join(sorted(vocab.org_type_label(t) for t in flt.org_types)))
    if flt.nature:
        out.append("nature : " + NATURE_FILTERS[flt.nature].lower())
    if flt.thematique:
        out.append("thématique : " + vocab.THEMATIQUES[flt.thematique])
    if flt.frequency:
        out.append("fréquence : " + vocab.FREQUENCIES[flt.frequency].lower())
    if flt.zone:
        out.append("zone : " + flt.zone + " (liens déclarés depuis ses structures)")
    return out


# --- campaigns -----------------------------------------------------------------------------


def campaign_or_404(session: Session, territory_id: int, year: int) -> Campaign:
    return or_404(
        campaigns.campaign_of(session, territory_id, year),
        f"Aucune campagne {year} pour ce territoire.",
    )


def default_campaign(session: Session, territory_id: int) -> Campaign | None:
    """The latest campaign with at least one submitted response, else the latest one."""
    with_answers = session.exec(
        select(Campaign)
        .join(Answer, col(Answer.campaign_id) == col(Campaign.id))
        .where(Campaign.territory_id == territory_id, Answer.status == "submitted")
        .group_by(col(Campaign.id))
        .having(func.count() > 0)
        .order_by(col(Campaign.year).desc())
    ).first()
    if with_answers:
        return with_answers
    return next(iter(campaigns.list_campaigns(session, territory_id)), None)


def chosen_campaign(session: Session, scope: Scope, raw_year: str | None) -> Campaign | None:
    year = parse_year(raw_year)
    if year is None:
        return default_campaign(session, scope.territory.id)
    return campaign_or_404(session, scope.territory.id, year)


def evolution_pair(
    session: Session, scope: Scope, request: Request
) -> tuple[Campaign, Campaign] | None:
    """The two campaigns to compare (de, a). Defaults: the latest campaign (a) and the one
    it is compared with everywhere, survey.campaigns.previous_campaign (de); None when
    neither year is asked for and there is nothing to compare."""
    start = parse_year(request.query_params.get("de"), "de")
    end = parse_year(request.query_params.get("a"), "a")
    # A draft has no answers yet: it is never a default end of the comparison.
    territory_campaigns = [
        c for c in campaigns.list_campaigns(session, scope.territory.id) if c.status != "draft"
    ]
    if end is None:
        if start is not None:
            later = [c for c in territory_campaigns if c.year > start]
            if not later:
                raise bad_request(f"Aucune campagne après {start} pour comparer.")
            after = later[-1]
        elif len(territory_campaigns) < 2:
            return None
        else:
            after = territory_campaigns[0]
    else:
        after = campaign_or_404(session, scope.territory.id, end)
    if start is None:
        previous = campaigns.previous_campaign(session, after)
        if previous is None:
            if end is None:
                return None
            raise bad_request(f"Aucune campagne ouverte ou close avant {after.year} pour comparer.")
        before = previous
    else:
        before = campaign_or_404(session, scope.territory.id, start)
    if before.year >= after.year:
        raise bad_request("L'année de départ (de) doit être antérieure à l'année d'arrivée (a).")
    return before, after


# --- the graph as shown ---------------------------------------------------------------------


@dataclass
class GraphView:
    """A campaign's graph as shown: filtered graph, its figures, stable positions.

    `graph` and `figures` come from reports.cache: shared with other requests, read only."""

    campaign: Campaign
    flt: GraphFilter
    graph: nx.DiGraph
    figures: dict
    positions: dict
    entry: cache.Entry

    @property
    def filtered(self) -> bool:
        return self.flt != NO_FILTER


def map_figures(g: nx.DiGraph) -> dict:
    """What the map and the table view show: the headline and the cheap figures. The
    heavy ones (betweenness, communities) are for the figures page and the API."""
    part, size, frag = figures.participation(g), figures.size(g), figures.fragility(g)
    # Same values as figures.headline(g), without computing participation and fragility twice.
    headline = {
        "response_rate": part["rate"],
        "links": size["links"],
        "reciprocity": figures.reciprocity(g)["rate"],
        "formal_share": figures.formal_share(g)["share"],
        "fragile_share": frag["share"],
    }
    return {"headline": headline, "size": size, "participation": part, "fragility": frag}


def graph_view(
    session: Session, campaign: Campaign, flt: GraphFilter, everything: bool = True
) -> GraphView:
    """The filtered graph and its figures (all of them, or only `map_figures`), with the
    positions of the unfiltered graph (only built when needed for the layout). Graph and
    figures are cached per campaign data version (reports.cache): never stale. An unknown
    zone is a 400 (`check_zone`)."""
    check_zone(session, campaign, flt)
    e = cache.entry(session, campaign, flt)
    g = e.graph
    pos = layout.map_positions(session, campaign, g if flt == NO_FILTER else None, e.version)
    figs = e.all_figures() if everything else map_figures_of(e)
    return GraphView(campaign, flt, g, figs, pos, e)


def map_figures_of(e: cache.Entry) -> dict:
    """`map_figures` of a cached graph, from `all_figures` when that is already cached."""
    done = e.cached("all_figures")
    if done is not None:
        return {k: done[k] for k in ("headline", "size", "participation", "fragility")}
    return e.derived("map_figures", map_figures)


# --- the coordination figures as the pages show them ----------------------------------------


def coordination_figures(session: Session, scope: Scope, campaign: Campaign) -> dict:
    """The coordination figures of `campaign` as this scope may read them: exact for a
    coordinator, the « < 3 » copy for a viewer."""
    # Cached with the campaign's unfiltered graph, shared with the map: not built again.
    d = cache.coordination_figures(session, campaign)
    return d if scope.can_write else privacy.suppress_coordination(d)


def _sortable(v: Any) -> float:
    """A count or a share as a sort key: « < 3 » between 0 and 3, None last."""
    if v is None:
        return -1.0
    if isinstance(v, str):
        return 1.5
    return float(v)


def quality_rows(quality: dict) -> list[dict]:
    """The pairs of families with at least one answer, the hardest first (share, then
    answers); a withheld share after the known ones."""
    rows = [r for r in quality.get("pairs", []) if r.get("answers")]
    return sorted(rows, key=lambda r: (-_sortable(r.get("share")), -_sortable(r.get("answers"))))

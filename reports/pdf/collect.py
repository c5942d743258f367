"""Everything the report prints, gathered once from the database before any drawing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import networkx as nx
from sqlmodel import Session

from reports import cache, compare, engagements, figures, findings, layout, privacy, trends
from reports.pdf.progress import STEPS, Progress
from survey.models import Campaign, Territory


@dataclass
class ReportData:
    territory: Territory
    campaign: Campaign
    previous: Campaign | None
    graph: nx.DiGraph
    figures: dict
    obstacles: dict
    comparison: dict | None
    findings: list[findings.Finding]
    positions: dict
    issued_on: date
    # reports.trends.territory_trend up to this campaign's year, as the département reads it
    trend: list[dict] = field(default_factory=list)
    # reports.coordination.coordination in its public copy (the « < 3 » rule applied)
    coordination: dict | None = None
    # reports.engagements.checked_against: engagements of earlier maps, read against this one
    engagements: list[dict] = field(default_factory=list)


def issue_date(campaign: Campaign, today: date | None = None) -> date:
    """The report's date: the closing date of a closed campaign (reproducible), else today."""
    if campaign.status == "closed" and campaign.closes_on:
        return campaign.closes_on
    return today or datetime.now(UTC).date()


def collect(
    session: Session,
    campaign: Campaign,
    previous: Campaign | None = None,
    progress: Progress | None = None,
    today: date | None = None,
) -> ReportData:
    """Everything the report prints, computed once."""
    step = progress or (lambda _: None)
    step(STEPS[0])
    territory = session.get(Territory, campaign.territory_id)
    # Built graphs and figures come from reports.cache (shared with the web pages, read only).
    current = cache.entry(session, campaign)
    g = current.graph
    step(STEPS[1])
    # Exact betweenness up to a large département; sampled beyond (seeded: reproducible).
    k = 300 if g.number_of_nodes() > 600 else None
    all_figures = current.all_figures(betweenness_k=k)
    obstacles = figures.obstacles(session, campaign)
    step(STEPS[2])
    comparison = None
    if previous is not None:
        # The year before from its snapshot (a closed campaign is frozen), not from its graph
        # built again: the same comparison (tests/reports/test_compare_reference.py).
        comparison = compare.compare_sides(
            compare.side(session, previous),
            compare.side_of_graph(g, all_figures),
            compare.carrier_departures(session, previous, campaign),
        )
    official = privacy.suppress_coordination(cache.coordination_figures(session, campaign))
    facts = findings.Facts(
        g, all_figures, obstacles, comparison, previous.year if previous else None, official
    )
    return ReportData(
        territory=territory,  # type: ignore[arg-type]  # the campaign's territory exists
        campaign=campaign,
        previous=previous,
        graph=g,
        figures=all_figures,
        obstacles=obstacles,
        comparison=comparison,
        findings=findings.top_findings(facts),
        # The web map's positions, with its display spread.
        positions=layout.spread(layout.map_positions(session, campaign, g, current.version)),
        issued_on=issue_date(campaign, today),
        # Up to this year only: a later campaign never changes the report of a closed one.
        trend=trends.territory_trend(
            session,
            campaign.territory_id,
            audience=privacy.PUBLIC,
            until=campaign.year,
            betweenness_k=k,
        ),
        coordination=official,
        engagements=engagements.checked_against(session, campaign),
    )

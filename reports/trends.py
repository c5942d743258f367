"""Over all years: a territory's headline figures per campaign, and one structure's own.

Every value comes from the cached graphs and figures of reports.cache (`all_figures` per
campaign, `graph` per campaign): nothing is computed from database rows here, so the
trend always agrees with each year's figures page, and closed campaigns read their frozen
figures once reports.cache serves them.

Draft campaigns are left out (never opened, no answers), as in
survey.campaigns.previous_campaign. The « < 3 » rule (reports.privacy) applies through
`privacy.suppress_figures` and `privacy.small_count`: a viewer reads a response rate built
on one or two people as « — » and such counts as « < 3 ».

The chart styles (TERRITORY_SERIES, STRUCTURE_SERIES) are shared by the SVG of the pages
(reports.linechart) and the matplotlib chart of the PDF (reports.charts.lines): each line
has its own dash pattern AND marker shape, so the chart reads in black and white.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from reports import cache, privacy
from reports import structure as structure_view
from reports.graph import NO_FILTER, GraphFilter
from survey import campaigns, french
from survey.models import Campaign

MIN_TERRITORY_YEARS = 3  # the evolution page and the PDF show the trend from three campaigns
MIN_STRUCTURE_YEARS = 2  # a structure page shows its own from two
HEADLINE = ("response_rate", "links", "reciprocity", "formal_share", "fragile_share")


@dataclass(frozen=True)
class Line:
    """How a figure's line is drawn: a dash pattern AND a marker shape, distinct for each
    line of a chart, in SVG (reports.linechart) and matplotlib (reports.charts.lines)."""

    dash: str  # SVG stroke-dasharray ("" = solid)
    mpl_dash: str  # matplotlib linestyle
    marker: str  # reports.svg.shape_path shape
    mpl_marker: str  # matplotlib marker
    hollow: bool  # a white marker with a dark outline


LINES = (
    Line("", "-", "circle", "o", False),
    Line("9 5", "--", "square", "s", True),
    Line("2 4", ":", "triangle", "^", False),
    Line("10 4 2 4", "-.", "diamond", "D", True),
)


@dataclass(frozen=True)
class Figure:
    """One figure of a trend: its key in the rows, its French label, how it is printed
    (`share`: a percentage, `count`, `ratio`: three decimals, `yes_no`, `people`: a count
    of professionals) and, when it is charted, its line."""

    key: str
    label: str
    kind: str
    line: Line | None = None


# Territory: the five headline figures, then the size of the network; the four shares are
# charted (one axis, 0 to 100 %).
TERRITORY_FIGURES: tuple[Figure, ...] = (
    Figure("response_rate", "Taux de réponse", "share", LINES[0]),
    Figure("reciprocity", "Réciprocité", "share", LINES[1]),
    Figure("formal_share", "Part de liens formels", "share", LINES[2]),
    Figure("fragile_share", "Part de liens fragiles", "share", LINES[3]),
    Figure("links", "Liens entre structures", "count"),
    Figure("structures", "Structures sur la carte", "count"),
    Figure("ties", "Citations orientées", "count"),
    Figure("density", "Densité des citations", "ratio"),
    Figure("components", "Composantes (groupes séparés)", "count"),
)
TERRITORY_SERIES = tuple(f for f in TERRITORY_FIGURES if f.line)

# One structure: what its page shows for one year; three counts of partners are charted.
STRUCTURE_FIGURES: tuple[Figure, ...] = (
    Figure("answered", "A répondu", "yes_no"),
    Figure("responded", "Répondant·es", "people"),
    Figure("invited", "Personnes invitées", "people"),
    Figure("partners", "Partenaires", "count", LINES[0]),
    Figure("names_given", "Structures qu'elle cite", "count"),
    Figure("names_received", "Structures qui la citent", "count"),
    Figure("formal_partners", "Partenaires formels", "count", LINES[1]),
    Figure("mutual", "Liens réciproques", "count", LINES[2]),
    Figure("fragile_links", "Liens fragiles (une seule personne)", "count"),
    Figure("reciprocity", "Réciprocité", "share"),
)
STRUCTURE_SERIES = tuple(f for f in STRUCTURE_FIGURES if f.line)


def campaigns_of(session: Session, territory_id: int, until: int | None = None) -> list[Campaign]:
    """The territory's campaigns that are not drafts, earliest year first (up to `until`)."""
    return [
        c
        for c in reversed(campaigns.list_campaigns(session, territory_id))
        if c.status != "draft" and (until is None or c.year <= until)
    ]


def territory_trend(
    session: Session,
    territory_id: int,
    flt: GraphFilter = NO_FILTER,
    audience: str = privacy.COORDINATOR,
    until: int | None = None,
    betweenness_k: int | None = None,
) -> list[dict]:
    """One row per non-draft campaign, in year order: year, status and the figures of
    TERRITORY_FIGURES, from `cache.all_figures` of each campaign (with `flt`), as
    `audience` may read them. `until`: leave out later years (the PDF of a year)."""
    rows = []
    for c in campaigns_of(session, territory_id, until):
        figs = privacy.suppress_figures(cache.all_figures(session, c, flt, betweenness_k), audience)
        head, size = figs["headline"], figs["size"]
        rows.append(
            {
                "year": c.year,
                "status": c.status,
                **{k: head[k] for k in HEADLINE},
                **{k: size[k] for k in ("structures", "ties", "density", "components")},
            }
        )
    return rows


def structure_year(g, n: Hashable) -> dict:
    """What the structure page shows of `n` for one year's graph `g`; None values when the
    structure is not on that year's map."""
    if n not in g:
        return {f.key: None for f in STRUCTURE_FIGURES} | {"present": False}
    rows = structure_view.partners(g, n)
    mutual = sum(1 for r in rows if r["status"] == "mutual")
    observable = sum(1 for r in rows if r["status"] != "unknown")
    a = g.nodes[n]
    return {
        "present": True,
        "answered": bool(a.get("answered")),
        "invited": a.get("invited", 0),
        "responded": a.get("responded", 0),
        "partners": structure_view.partner_count(g, n),
        "names_given": sum(1 for r in rows if r["names_it"]),
        "names_received": sum(1 for r in rows if r["named_by"]),
        "formal_partners": sum(1 for r in rows if r["formal"]),
        "mutual": mutual,
        "fragile_links": sum(1 for r in rows if r["fragile"]),
        "reciprocity": mutual / observable if observable else None,
    }


def structure_trend(
    session: Session,
    territory_id: int,
    org_id: Hashable,
    audience: str = privacy.COORDINATOR,
) -> list[dict]:
    """One row per non-draft campaign, in year order: `structure_year` of `org_id` in the
    cached graph of each campaign, its counts of people as `audience` may read them."""
    out = []
    for c in campaigns_of(session, territory_id):
        row = {
            "year": c.year,
            "status": c.status,
            **structure_year(cache.graph(session, c), org_id),
        }
        if audience != privacy.COORDINATOR:
            row |= {k: privacy.small_count(row[k]) for k in ("invited", "responded")}
        out.append(row)
    return out


# --- printing ------------------------------------------------------------------------------


def printed(figure: Figure, value: Any) -> str:
    """A value of a trend as the pages and the PDF print it: French numbers, « — » when
    missing or withheld, « < 3 » for a small count of people."""
    if value is None:
        return "—"
    if isinstance(value, str):  # withheld by reports.privacy
        return privacy.SMALL if value == privacy.SMALL_DATA else value
    if figure.kind == "share":
        return french.percent(value)
    if figure.kind == "ratio":
        return french.decimal(value, 3)
    if figure.kind == "yes_no":
        return "oui" if value else "non"
    return french.integer(value)  # counts (of people: already « < 3 » for a viewer)


def table(rows: list[dict], figs: tuple[Figure, ...]) -> dict:
    """The trend as a table with the years as columns: {"years": [...], "statuses": [...],
    "rows": [{"key", "label", "cells": [printed value per year]}]}."""
    return {
        "years": [r["year"] for r in rows],
        "statuses": [r["status"] for r in rows],
        "rows": [
            {"key": f.key, "label": f.label, "cells": [printed(f, r[f.key]) for r in rows]}
            for f in figs
        ],
    }


def series(rows: list[dict], figs: tuple[Figure, ...]) -> list[tuple[Figure, list[Any]]]:
    """The charted figures of `figs` with their values per year (None when missing or
    withheld: the line breaks there)."""
    return [
        (f, [r[f.key] if isinstance(r[f.key], int | float) else None for r in rows])
        for f in figs
        if f.line
    ]

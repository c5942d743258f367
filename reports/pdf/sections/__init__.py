"""The report's sections in print order: `render` walks SECTIONS, each section on a new page.

A section is a function of the report's Context returning its flowables; its H1 and H2
headings become entries of the table of contents and PDF bookmarks."""

from __future__ import annotations

from collections.abc import Callable

from reportlab.platypus import Flowable

from reports.pdf.context import Context
from reports.pdf.sections import (
    annex,
    contents,
    coordination,
    cover,
    engagements,
    evolution,
    fragility,
    maps,
    obstacles,
    participation,
    reciprocity,
    summary,
    trend,
    ways,
)

Section = Callable[[Context], list[Flowable]]

SECTIONS: tuple[Section, ...] = (
    cover.section,
    contents.section,
    summary.section,
    participation.section,
    maps.section,
    ways.section,
    fragility.section,
    reciprocity.section,
    evolution.section,
    trend.section,
    obstacles.section,
    coordination.section,
    engagements.section,  # after the coordination part: what became of last year's
    annex.section,
)

"""The annual report for the département: a French A4 PDF built with ReportLab (platypus).

    pdf_bytes = build_report(session, campaign, previous=None, progress=None)
    pdf_bytes = annual_report(session, campaign)  # stored once made for a closed year

Only structure-level figures go in (reports.graph, reports.figures, reports.compare and the
aggregated obstacles): no professional's name, e-mail or free comment is ever read. Counts
of professionals under 3 are printed « < 3 » (reports.privacy). The same data give the same
PDF: seeded layout and figures, ReportLab's invariant mode, a creation date taken from the
campaign (its closing date once closed, the day of generation while it is open).

`collect` gathers the data (collect.py), `render` draws the maps and walks SECTIONS
(document.py, sections/: one module per section, in print order).
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from reports.pdf.collect import ReportData, collect, issue_date
from reports.pdf.document import render
from reports.pdf.fonts import register_fonts
from reports.pdf.progress import STEPS, Progress
from reports.pdf.sections import SECTIONS
from reports.pdf.sections.annex import metrics_french
from reports.snapshot import store_pdf, stored_pdf
from survey.campaigns import previous_campaign
from survey.models import Campaign

__all__ = [
    "SECTIONS",
    "STEPS",
    "Progress",
    "ReportData",
    "annual_report",
    "build_report",
    "collect",
    "issue_date",
    "metrics_french",
    "register_fonts",
    "render",
]


def build_report(
    session: Session,
    campaign: Campaign,
    previous: Campaign | None = None,
    progress: Progress | None = None,
    today: date | None = None,
) -> bytes:
    """The report of `campaign` compared with `previous` (None: no comparison)."""
    return render(collect(session, campaign, previous, progress, today), progress)


def annual_report(session: Session, campaign: Campaign, progress: Progress | None = None) -> bytes:
    """The report of `campaign` compared with the previous campaign. A frozen (closed)
    campaign's report is built once, stored with its snapshot and served from there: the
    document the département received stays the one it can download again."""
    stored = stored_pdf(session, campaign)
    if stored is not None:
        return stored
    data = build_report(session, campaign, previous_campaign(session, campaign), progress)
    store_pdf(session, campaign, data)  # does nothing for an open campaign
    return data

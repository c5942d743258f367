"""What every section of the report is given."""

from __future__ import annotations

from dataclasses import dataclass

from reports import mapdraw
from reports.pdf.collect import ReportData
from reports.pdf.styles import Styles


@dataclass(frozen=True)
class Context:
    """The collected data, the paragraph styles and the two maps, drawn before the sections
    because drawing them is a progress step of its own."""

    data: ReportData
    styles: Styles
    full_map: mapdraw.MapDrawing
    formal_map: mapdraw.MapDrawing

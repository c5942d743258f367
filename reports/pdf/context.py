"""What every section of the report is given."""

from __future__ import annotations

from dataclasses import dataclass

from reports import mapdraw
from reports.pdf.collect import ReportData
from reports.pdf.large import LargeMaps
from reports.pdf.styles import Styles


@dataclass(frozen=True)
class Context:
    """The collected data, the paragraph styles and the maps, drawn before the sections
    because drawing them is a progress step of its own. A large territory
    (reports.backbone.BACKBONE_FROM structures or more) has `large` and no formal map: its
    full map is the backbone's, and the family map's solid and dashed ties say how formal
    the links are."""

    data: ReportData
    styles: Styles
    full_map: mapdraw.MapDrawing
    formal_map: mapdraw.MapDrawing | None
    large: LargeMaps | None = None

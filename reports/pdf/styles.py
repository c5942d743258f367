"""The page geometry, the colours and the paragraph styles of the report."""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm

from reports import charts
from reports.pdf.fonts import FONT, FONT_BOLD

Styles = dict[str, ParagraphStyle]

INK = colors.HexColor(charts.INK)
RULE = colors.HexColor("#b9c7d4")
SHADE = colors.HexColor("#eef2f5")
PAGE_W, PAGE_H = A4
MARGIN = 2 * cm
TEXT_W = PAGE_W - 2 * MARGIN


def styles() -> Styles:
    """The paragraph styles by name: text, table cells, headings H1 to H3, cover, contents."""
    body = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=14.5, spaceAfter=6)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8.5, leading=11.5, spaceAfter=3),
        "note": ParagraphStyle(
            "note", parent=body, fontSize=8.5, leading=11.5, textColor=colors.HexColor("#444444")
        ),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5, spaceAfter=0),
        "cellnum": ParagraphStyle(
            "cellnum", parent=body, fontSize=8.5, leading=10.5, spaceAfter=0, alignment=2
        ),
        "head": ParagraphStyle(
            "head", parent=body, fontName=FONT_BOLD, fontSize=8, leading=10, spaceAfter=0
        ),
        "headnum": ParagraphStyle(
            "headnum", parent=body, fontName=FONT_BOLD, fontSize=8, leading=10, alignment=2
        ),
        "H1": ParagraphStyle(
            "H1",
            parent=body,
            fontName=FONT_BOLD,
            keepWithNext=1,
            fontSize=17,
            leading=21,
            textColor=INK,
            spaceBefore=0,
            spaceAfter=10,
        ),  # fmt: skip
        "H2": ParagraphStyle(
            "H2",
            parent=body,
            fontName=FONT_BOLD,
            keepWithNext=1,
            fontSize=12,
            leading=15,
            textColor=INK,
            spaceBefore=10,
            spaceAfter=5,
        ),  # fmt: skip
        "H3": ParagraphStyle(
            "H3",
            parent=body,
            fontName=FONT_BOLD,
            keepWithNext=1,
            fontSize=10,
            leading=13,
            spaceBefore=6,
            spaceAfter=3,
        ),  # fmt: skip
        "bullet": ParagraphStyle("bullet", parent=body, leftIndent=14, bulletIndent=3),
        "finding": ParagraphStyle(
            "finding",
            parent=body,
            fontSize=11,
            leading=15.5,
            leftIndent=22,
            bulletIndent=2,
            spaceAfter=9,
            bulletFontName=FONT_BOLD,
            bulletFontSize=13,
            bulletColor=INK,
        ),  # fmt: skip
        "cover_title": ParagraphStyle(
            "cover_title",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=30,
            leading=36,
            textColor=INK,
            alignment=TA_CENTER,
            spaceAfter=14,
        ),  # fmt: skip
        "cover_sub": ParagraphStyle(
            "cover_sub", parent=body, fontSize=15, leading=21, alignment=TA_CENTER, spaceAfter=8
        ),
        "cover_small": ParagraphStyle(
            "cover_small", parent=body, fontSize=10.5, leading=15, alignment=TA_CENTER
        ),
        "cover_label": ParagraphStyle(
            "cover_label",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=10,
            leading=13,
            textColor=INK,
            spaceAfter=2,
        ),  # fmt: skip
        "cover_finding": ParagraphStyle(
            "cover_finding", parent=body, fontSize=13, leading=18, spaceAfter=0
        ),
        "toc0": ParagraphStyle("toc0", parent=body, fontSize=11, leading=17, leftIndent=0),
        "toc1": ParagraphStyle(
            "toc1", parent=body, fontSize=9.5, leading=13, leftIndent=16, spaceAfter=0
        ),
    }

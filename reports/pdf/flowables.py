"""The building blocks every section uses: paragraphs of French text, striped tables,
charts as images."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, Image, Paragraph, Table, TableStyle

from reports import charts
from reports.pdf.styles import INK, RULE, SHADE, TEXT_W, Styles
from survey import french as t

LIST_MAX = 25  # rows of a list printed in full before « et N autres »


def esc(text: str) -> str:
    """`text` with French spaces added, then XML-escaped, for use inside markup."""
    return escape(t.text(text))


def para(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text: French spaces added, then XML-escaped."""
    return Paragraph(esc(text), style)


def markup(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of trusted markup (<b>, <i>) whose variable parts were escaped by `esc`."""
    return Paragraph(text, style)


def table(
    rows: list[list],
    widths: list[float],
    st: Styles,
    numeric: set[int] = frozenset(),  # type: ignore[assignment]  # read only
    header_rows: int = 1,
) -> Table:
    """A striped table; cells are strings (escaped here) or flowables; `numeric` columns
    are right-aligned."""
    body = []
    for i, row in enumerate(rows):
        is_head = i < header_rows
        cells = []
        for j, cell in enumerate(row):
            if isinstance(cell, Flowable):
                cells.append(cell)
                continue
            style = (
                ("headnum" if j in numeric else "head")
                if is_head
                else ("cellnum" if j in numeric else "cell")
            )
            cells.append(Paragraph(esc(str(cell)), st[style]))
        body.append(cells)
    grid = Table(body, colWidths=widths, repeatRows=header_rows, hAlign="LEFT")
    commands = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, header_rows - 1), (-1, header_rows - 1), 0.8, INK),
        ("LINEBELOW", (0, header_rows), (-1, -1), 0.25, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    commands += [
        ("BACKGROUND", (0, i), (-1, i), SHADE) for i in range(header_rows + 1, len(rows), 2)
    ]
    grid.setStyle(TableStyle(commands))
    return grid


def image(chart: charts.Chart) -> Image:
    """A chart at its own size, shrunk to the text width when wider."""
    scale = min(1.0, TEXT_W / chart.width)
    return Image(io.BytesIO(chart.image), width=chart.width * scale, height=chart.height * scale)


def more(total: int, shown: int) -> str:
    """« … et N autres. » when a list of `total` was cut to `shown`, else nothing."""
    return f"… et {t.integer(total - shown)} autres." if total > shown else ""

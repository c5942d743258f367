"""The table of contents, filled in by the document from the H1 and H2 headings."""

from __future__ import annotations

from reportlab.lib.units import cm
from reportlab.platypus import Flowable
from reportlab.platypus.tableofcontents import TableOfContents

from reports.pdf.context import Context
from reports.pdf.flowables import para


def section(ctx: Context) -> list[Flowable]:
    """« Sommaire » and the table of contents."""
    st = ctx.styles
    toc = TableOfContents(
        levelStyles=[st["toc0"], st["toc1"]], dotsMinLevel=0, rightColumnWidth=1.4 * cm
    )
    return [para("Sommaire", st["cover_sub"]), toc]

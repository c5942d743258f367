"""The ReportLab document: page templates, footer, bookmarks, fixed dates, and `render`,
which draws the maps and walks SECTIONS."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.lib.utils import TimeStamp
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageBreak, PageTemplate, Paragraph

from reports import figures, mapdraw
from reports.pdf.collect import ReportData
from reports.pdf.context import Context
from reports.pdf.fonts import FONT, register_fonts
from reports.pdf.progress import STEPS, Progress
from reports.pdf.sections import SECTIONS
from reports.pdf.styles import MARGIN, PAGE_H, PAGE_W, RULE, TEXT_W, styles
from survey import french as t

# Binary streams instead of ASCII85: ReportLab's pure-Python ASCII85 encoder took seconds on
# the maps, and binary streams are a quarter smaller.
rl_config.useA85 = 0


def render(d: ReportData, progress: Progress | None = None) -> bytes:
    """The PDF bytes of a collected report."""
    step = progress or (lambda _: None)
    register_fonts()
    st = styles()
    step(STEPS[3])
    pairs = figures.links(d.graph)
    full = mapdraw.draw_map(d.graph, d.positions, width_cm=16, all_links=pairs)
    formal = mapdraw.draw_map(d.graph, d.positions, True, width_cm=16, all_links=pairs)
    step(STEPS[4])
    ctx = Context(d, st, full, formal)
    story: list[Flowable] = []
    for section in SECTIONS:
        flowables = section(ctx)  # a section with nothing to say returns no flowable
        if story and flowables:
            story.append(PageBreak())  # every section starts on a page of its own
        story += flowables
    step(STEPS[5])
    title = t.text(f"Carte partenariale — rapport {d.campaign.year}")
    buf = io.BytesIO()
    doc = _Doc(
        buf,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author=d.territory.name,
        subject=t.text(
            f"Partenariats entre structures sociales — {d.territory.name} "
            f"({d.territory.code}), campagne {d.campaign.year}"
        ),
        creator="Carte partenariale",
        keywords="carte partenariale, partenariats, action sociale",
        lang="fr-FR",
        invariant=1,
    )
    frame = Frame(MARGIN, MARGIN, TEXT_W, PAGE_H - 2 * MARGIN, id="main")
    doc.addPageTemplates(
        [
            PageTemplate("cover", frames=[frame]),
            PageTemplate("body", frames=[frame], onPage=_footer(d)),
        ]
    )
    doc.multiBuild(story, canvasmaker=_canvas_maker(d.issued_on))
    return buf.getvalue()


class _Doc(BaseDocTemplate):
    """Headings become table-of-contents entries and PDF bookmarks."""

    def afterFlowable(self, flowable: Flowable) -> None:
        if isinstance(flowable, Paragraph) and flowable.style.name in ("H1", "H2"):
            level = 0 if flowable.style.name == "H1" else 1
            text = flowable.getPlainText()
            key = f"h{self.seq.nextf('heading')}"
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(text, key, level=level, closed=level > 0)
            self.notify("TOCEntry", (level, text, self.page, key))


def _canvas_maker(stamp: date) -> type[Canvas]:
    """A canvas whose PDF dates are `stamp` (midnight UTC) instead of now."""
    seconds = datetime(stamp.year, stamp.month, stamp.day, tzinfo=UTC).timestamp()

    class _Canvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            fixed = TimeStamp(invariant=1)
            fixed.t = seconds
            fixed.lt = datetime.fromtimestamp(seconds, UTC).timetuple()
            fixed.YMDhms = tuple(fixed.lt)[:6]
            self._doc._timeStamp = fixed

    return _Canvas


def _footer(data: ReportData) -> Callable[[Canvas, BaseDocTemplate], None]:
    """The footer of every page after the cover: the report's name and the page number."""
    label = t.text(
        f"Carte partenariale — {data.territory.code} {data.territory.name} — "
        f"rapport {data.campaign.year}"
    )

    def draw(canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.setStrokeColor(RULE)
        canvas.line(MARGIN, 1.45 * cm, PAGE_W - MARGIN, 1.45 * cm)
        canvas.drawString(MARGIN, 1.05 * cm, label)
        canvas.drawRightString(PAGE_W - MARGIN, 1.05 * cm, f"page {doc.page}")
        canvas.restoreState()

    return draw

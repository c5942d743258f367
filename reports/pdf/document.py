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
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    PageBreak,
    PageTemplate,
    Paragraph,
)

from reports import figures, mapdraw
from reports.pdf import large
from reports.pdf.collect import ReportData
from reports.pdf.context import Context
from reports.pdf.flowables import FitImage
from reports.pdf.fonts import FONT, register_fonts
from reports.pdf.progress import STEPS, Progress
from reports.pdf.sections import SECTIONS
from reports.pdf.styles import INK, MARGIN, PAGE_H, PAGE_W, RULE, TEXT_W, styles
from survey import french as t

# Binary streams instead of ASCII85: ReportLab's pure-Python ASCII85 encoder took seconds on
# the maps, and binary streams are a quarter smaller.
rl_config.useA85 = 0

# A section starts on a new page when less than this is left: its title never ends a page,
# and a page it leaves is at least two thirds full.
SECTION_ROOM = 7 * cm
MAP_W_CM = 13.0
LARGE_MAP_W_CM = 16.0  # the backbone map: its names need the page's width


def render(d: ReportData, progress: Progress | None = None) -> bytes:
    """The PDF bytes of a collected report."""
    step = progress or (lambda _: None)
    register_fonts()
    st = styles()
    step(STEPS[3])
    pairs = figures.links(d.graph)
    # The first map shares its page with its key: drawn at about the size it is printed,
    # its numbers and legend keep a readable size.
    # The formal map is the same figure with the informal links taken out (mapdraw.draw_maps).
    if large.is_large(d.graph):
        # A large territory: families, zones and the backbone instead of every link.
        maps = large.draw_large(d.graph, d.positions, pairs, LARGE_MAP_W_CM)
        ctx = Context(d, st, maps.backbone_map, None, maps)
    else:
        full, formal = mapdraw.draw_maps(d.graph, d.positions, MAP_W_CM, 16, all_links=pairs)
        ctx = Context(d, st, full, formal)
    step(STEPS[4])
    story: list[Flowable] = []
    for i, section in enumerate(SECTIONS):
        flowables = section(ctx)  # a section with nothing to say returns no flowable
        if story and flowables:
            # The cover and the contents stand alone; the other sections follow one another
            # and start a new page only when little room is left, so no page stays half empty.
            story.append(PageBreak() if i <= 2 else CondPageBreak(SECTION_ROOM))
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
    # No side padding: a table TEXT_W wide fills the frame exactly instead of running past it.
    frame = Frame(
        MARGIN, MARGIN, TEXT_W, PAGE_H - 2 * MARGIN, leftPadding=0, rightPadding=0, id="main"
    )
    doc.addPageTemplates(
        [
            PageTemplate("cover", frames=[frame], onPage=_cover_band),
            PageTemplate("body", frames=[frame], onPage=_footer(d)),
        ]
    )
    doc.multiBuild(story, canvasmaker=_canvas_maker(d.issued_on))
    return buf.getvalue()


class _Doc(BaseDocTemplate):
    """Headings become table-of-contents entries and PDF bookmarks."""

    def afterFlowable(self, flowable: Flowable) -> None:
        # A figure kept on its page with its title (FitImage) holds the heading itself.
        for heading in flowable.above if isinstance(flowable, FitImage) else [flowable]:
            self._heading(heading)

    def _heading(self, flowable: Flowable) -> None:
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


def _cover_band(canvas: Canvas, doc: BaseDocTemplate) -> None:
    """The cover's coloured band: the report is recognised at a glance on a desk."""
    canvas.saveState()
    canvas.setFillColor(INK)
    canvas.rect(0, PAGE_H - 3.2 * cm, PAGE_W, 3.2 * cm, stroke=0, fill=1)
    canvas.setFillColor(colors.white)
    canvas.setFont(FONT, 11)
    canvas.drawString(MARGIN, PAGE_H - 1.9 * cm, "Carte partenariale — rapport annuel")
    canvas.restoreState()


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

"""The building blocks every section uses: paragraphs of French text, striped tables,
charts as images."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Image, Paragraph, Table, TableStyle

from reports import charts
from reports.pdf.styles import INK, RULE, SHADE, TEXT_W, Styles
from survey import french as t

LIST_MAX = 25  # rows of a list printed in full before « et N autres »
SHORT_MAX = 8  # rows of a list in the body when the annex holds it in full
HEAD_MIN_SIZE = 6.5  # a header's smallest font size before its column is too narrow
PAD = 3  # a table cell's left and right padding


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
    cell = st["cell"]
    for i, row in enumerate(rows):
        is_head = i < header_rows
        cells: list = []
        for j, value in enumerate(row):
            if isinstance(value, Flowable):
                cells.append(value)
                continue
            if not is_head and (line := _one_line(str(value), cell, widths[j])) is not None:
                cells.append(line)
                continue
            style = st[
                ("headnum" if j in numeric else "head")
                if is_head
                else ("cellnum" if j in numeric else "cell")
            ]
            if is_head:
                style = _unbroken(str(value), style, widths[j] - 2 * PAD)
            cells.append(Paragraph(esc(str(value)), style))
        body.append(cells)
    grid = Table(body, colWidths=widths, repeatRows=header_rows, hAlign="LEFT")
    commands = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, header_rows - 1), (-1, header_rows - 1), 0.8, INK),
        ("LINEBELOW", (0, header_rows), (-1, -1), 0.25, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), PAD),
    ]
    # Cells kept as plain strings (`_one_line`) are drawn in the body cells' font, numeric
    # columns right-aligned; Paragraph cells ignore these commands.
    commands += [
        ("FONT", (0, header_rows), (-1, -1), cell.fontName, cell.fontSize, cell.leading),
        ("TEXTCOLOR", (0, header_rows), (-1, -1), cell.textColor),
        *(("ALIGN", (j, header_rows), (j, -1), "RIGHT") for j in sorted(numeric)),
    ]
    commands += [
        ("BACKGROUND", (0, i), (-1, i), SHADE) for i in range(header_rows + 1, len(rows), 2)
    ]
    grid.setStyle(TableStyle(commands))
    return grid


def _one_line(text: str, style: ParagraphStyle, width: float) -> str | None:
    """`text` with French spaces when it fits on one line of its column, else None. A table
    cell given as a string is drawn as is; a Paragraph is measured word by word three times
    (row heights, page split, drawing): in the large report's tables of 400 structures that
    was most of the page layout's time."""
    line = t.text(text).strip()
    if "\n" in line or stringWidth(line, style.fontName, style.fontSize) > width - 2 * PAD:
        return None
    return line


def _unbroken(text: str, style: ParagraphStyle, width: float) -> ParagraphStyle:
    """`style`, made smaller when the longest word of a header is wider than its column:
    ReportLab would otherwise break it inside the word (« Répondant/s »)."""
    longest = max((stringWidth(w, style.fontName, style.fontSize) for w in text.split()), default=0)
    if longest <= width:
        return style
    size = max(HEAD_MIN_SIZE, style.fontSize * width / longest - 0.05)
    return ParagraphStyle(f"{style.name}-{size:.2f}", parent=style, fontSize=size,
                          leading=size * 1.25)  # fmt: skip


class FitImage(Flowable):
    """A figure with the text that must stay on its page (a title above, a key below): the
    image shrinks, down to `min_share` of its size, so that everything fits in the room left
    on the page; with less room the whole block moves to the next page."""

    def __init__(
        self,
        chart: charts.Chart,
        above: list[Flowable],
        below: list[Flowable],
        min_share: float = 0.6,
    ) -> None:
        super().__init__()
        self.chart, self.above, self.below, self.min_share = chart, above, below, min_share
        self._parts: list[tuple[Flowable, float]] = []
        self._img: tuple[float, float] = (0.0, 0.0)
        self._deferred: set[int] = set()  # pages it was sent away from

    def _height(self, parts: list[Flowable], width: float) -> list[tuple[Flowable, float]]:
        out = []
        for i, f in enumerate(parts):
            _, h = f.wrap(width, 10_000)
            space = f.getSpaceBefore() if i else 0
            out.append((f, h + space + f.getSpaceAfter()))
        return out

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        above = self._height(self.above, availWidth)
        below = self._height(self.below, availWidth)
        fixed = sum(h for _, h in above) + sum(h for _, h in below) + 6
        full = min(1.0, availWidth / self.chart.width)
        scale = min(full, (availHeight - fixed) / self.chart.height)
        if scale < full * self.min_share:
            scale = full * self.min_share  # too tall here: split() sends it to the next page
        self._img = (self.chart.width * scale, self.chart.height * scale)
        self._parts = above + below
        self.width = availWidth
        self.height = fixed + self._img[1]
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:  # noqa: N803
        page = self.canv.getPageNumber()  # splitOn sets the canvas
        if page - 1 in self._deferred and self.min_share > 0.2:
            # Sent here from the previous page and still too tall (a very long key): shrink
            # further rather than fail the layout.
            smaller = FitImage(self.chart, self.above, self.below, 0.2)
            if smaller.wrap(availWidth, availHeight)[1] <= availHeight:
                return [smaller]
        self._deferred.add(page)
        return []  # the next page

    def _stack(self, parts: list[tuple[Flowable, float]], y: float) -> float:
        for i, (f, h) in enumerate(parts):
            before = f.getSpaceBefore() if i else 0
            _, fh = f.wrap(self.width, 10_000)
            f.drawOn(self.canv, 0, y - before - fh)
            y -= h
        return y

    def draw(self) -> None:
        n = len(self.above)
        y = self._stack(self._parts[:n], self.height)
        w, h = self._img
        y -= h + 6
        Image(io.BytesIO(self.chart.image), width=w, height=h).drawOn(
            self.canv, (self.width - w) / 2, y
        )
        self._stack(self._parts[n:], y)


def pairs(
    rows: list[tuple[str, str]],
    heads: tuple[str, str],
    st: Styles,
    limit: int | None = None,
    side_by_side: bool = False,
) -> list[Flowable]:
    """Pairs of structures as a small two-column table, cut to `limit` rows with a note
    pointing to the annex's full list. `side_by_side` sets two consecutive pairs on each row,
    read left to right then down (the same on every page a long table spans): a long list
    in fewer pages."""
    shown = rows if limit is None else rows[:limit]
    if side_by_side and len(shown) > 1:
        body = [
            [*shown[i], *(shown[i + 1] if i + 1 < len(shown) else ("", ""))]
            for i in range(0, len(shown), 2)
        ]
        grid = table([[*heads, *heads], *body], [TEXT_W / 4] * 4, st)
        grid.setStyle(TableStyle([("LINEBEFORE", (2, 0), (2, -1), 0.8, INK)]))
    else:
        grid = table([list(heads), *map(list, shown)], [TEXT_W / 2] * 2, st)
    out: list[Flowable] = [grid]
    if len(rows) > len(shown):
        out.append(
            Paragraph(
                esc(f"{more(len(rows), len(shown))[:-1]} : liste complète en annexe."), st["note"]
            )  # fmt: skip
        )
    return out


def image(chart: charts.Chart) -> Image:
    """A chart at its own size, shrunk to the text width when wider."""
    scale = min(1.0, TEXT_W / chart.width)
    return Image(io.BytesIO(chart.image), width=chart.width * scale, height=chart.height * scale)


def more(total: int, shown: int) -> str:
    """« … et N autres. » when a list of `total` was cut to `shown`, else nothing."""
    return f"… et {t.integer(total - shown)} autres." if total > shown else ""


class LabelledImage(Flowable):
    """A chart with lines of text written over it by the PDF (the names of an ego map):
    vector text, searchable, and much cheaper than matplotlib's. `overlay` holds
    (text, x, baseline y, "start" | "end") in points from the chart's lower left, for
    `font` at `size`; the whole is shrunk to the frame's width when wider."""

    def __init__(
        self,
        chart: charts.Chart,
        overlay: list[tuple[str, float, float, str]],
        font: str,
        size: float,
    ) -> None:
        super().__init__()
        self.chart, self.overlay, self.font, self.size = chart, overlay, font, size
        self.scale = 1.0

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        self.scale = min(1.0, availWidth / self.chart.width)
        self.width = self.chart.width * self.scale
        self.height = self.chart.height * self.scale
        return self.width, self.height

    def draw(self) -> None:
        s = self.scale
        Image(io.BytesIO(self.chart.image), width=self.width, height=self.height).drawOn(
            self.canv, 0, 0
        )
        self.canv.setFont(self.font, self.size * s)
        self.canv.setFillColorRGB(0, 0, 0)
        for text, x, y, anchor in self.overlay:
            if anchor == "end":
                self.canv.drawRightString(x * s, y * s, text)
            else:
                self.canv.drawString(x * s, y * s, text)

"""The demo report reads like a publication: every page drawn with poppler (pdftoppm) and
measured. No page but the last ends above a third of its height, the map's page carries the
key of every numbered structure, no word runs past the text frame, no table header is broken
inside a word, the cover carries the year's main finding, and no chart label is clipped.

With REQUIRE_POPPLER=1 (set by .ci/run) a missing pdftoppm/pdftotext fails instead of
skipping."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import Session

from reports import charts, mapdraw, pdf
from reports.pdf import flowables
from reports.pdf.document import MAP_W_CM
from reports.pdf.styles import MARGIN, PAGE_H, PAGE_W
from survey import campaigns, demo, migrate
from survey import french as t
from survey.campaigns import get_campaign
from survey.db import make_engine
from tests.conftest import TEST_SECRET

DPI = 30
FOOTER_BAND = 1.7 / 2.54  # inches from the bottom: the footer's rule and text


def _poppler() -> None:
    if shutil.which("pdftoppm") and shutil.which("pdftotext"):
        return
    if os.environ.get("REQUIRE_POPPLER") == "1":
        pytest.fail("REQUIRE_POPPLER=1 but pdftoppm/pdftotext (poppler-utils) are missing")
    pytest.skip("poppler-utils (pdftoppm, pdftotext) not installed")


class _Report:
    """The demo's 2026 report, its page images, its words with their boxes, the header
    labels the tables were given, the map's key and the cover's finding."""

    def __init__(self, tmp: Path) -> None:
        url = f"sqlite:///{tmp / 'layout.sqlite3'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        heads: list[str] = []
        real = flowables.Paragraph

        def recording(text, style, *args, **kwargs):  # type: ignore[no-untyped-def]
            if style.name in ("head", "headnum"):
                heads.append(text)
            return real(text, style, *args, **kwargs)

        with Session(engine) as session, pytest.MonkeyPatch.context() as mp:
            demo.load(session, TEST_SECRET)
            campaign = get_campaign(session, demo.TERRITORY_CODE, demo.CURRENT_YEAR)
            previous = campaigns.previous_campaign(session, campaign)
            data = pdf.collect(session, campaign, previous)
            mp.setattr(flowables, "Paragraph", recording)
            self.bytes = pdf.render(data)
        engine.dispose()
        self.heads = [h for h in heads if h.strip()]
        self.key = mapdraw.numbered_names(data.graph)
        self.map = mapdraw.draw_map(data.graph, data.positions, width_cm=MAP_W_CM)
        self.finding = data.findings[0].sentence if data.findings else ""
        path = tmp / "report.pdf"
        path.write_bytes(self.bytes)
        subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", str(path), str(tmp / "p")], check=True)
        self.images = [Image.open(p) for p in sorted(tmp.glob("p-*.pgm"))]
        self.pages = [
            subprocess.run(
                ["pdftotext", "-f", str(i), "-l", str(i), str(path), "-"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            for i in range(1, len(self.images) + 1)
        ]
        bbox = subprocess.run(
            ["pdftotext", "-bbox", str(path), "-"], check=True, capture_output=True, text=True
        ).stdout
        # Per page, the words with their boxes (xMin, yMin, xMax, yMax) in points.
        self.words: list[list[tuple[str, float, float, float, float]]] = []
        for page in bbox.split("<page ")[1:]:
            self.words.append(
                [
                    (_unescape(w), float(x0), float(y0), float(x1), float(y1))
                    for x0, y0, x1, y1, w in re.findall(
                        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                        r'yMax="([\d.]+)">([^<]*)</word>',
                        page,
                    )
                ]
            )


def _unescape(s: str) -> str:
    return s.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')


def _squash(s: str) -> str:
    """Text without any space or hyphen: names compare across line wraps."""
    return re.sub(r"[\s\u00a0\u202f\u2011-]+", "", s)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> _Report:
    _poppler()
    return _Report(tmp_path_factory.mktemp("layout"))


def content_end(image: Image.Image) -> float:
    """Where the content of a page ends, as a share of the page's height from the top: the
    last row with ink above the footer band (0 for a blank page)."""
    w, h = image.size
    band = int(FOOTER_BAND * DPI)
    last = 0
    pixels = image.load()
    for y in range(h - band):
        if any(pixels[x, y] < 200 for x in range(0, w, 1)):
            last = y
    return last / h


def test_content_end_measures_a_page():
    full = Image.new("L", (200, 300), 255)
    full.paste(0, (20, 250, 180, 260))
    short = Image.new("L", (200, 300), 255)
    short.paste(0, (20, 30, 180, 60))
    short.paste(0, (20, 290, 180, 295))  # the footer does not count
    assert content_end(full) > 0.8
    assert content_end(short) < 1 / 3


def test_no_page_but_the_last_ends_above_a_third(report):
    ends = [content_end(im) for im in report.images]
    short = [(i, round(e, 2)) for i, e in enumerate(ends[:-1], start=1) if e < 1 / 3]
    assert not short, f"pages ending above a third of their height (page, end): {short}"


def test_the_maps_page_carries_its_key(report):
    assert report.key, "the demo's map numbers its structures"
    pages = [p for p in report.pages if "La carte des partenariats" in p]
    assert pages, "the map's page"
    # The map's page: the first page whose text holds the heading (the contents page aside).
    page = next(p for p in pages if "Sommaire" not in p)
    text = _squash(page)
    missing = [f"{n} {name}" for n, name in report.key if _squash(name) not in text]
    assert not missing, f"key entries not on the map's page: {missing}"


def test_no_word_runs_past_the_text_frame(report):
    left, right = MARGIN - 1, PAGE_W - MARGIN + 1
    outside = [
        (page, w, round(x0), round(x1))
        for page, words in enumerate(report.words, start=1)
        for w, x0, _, x1, _ in words
        if x0 < left or x1 > right
    ]
    assert not outside, f"words outside the text frame: {outside[:10]}"
    assert len(report.words) == len(report.images)
    assert PAGE_H > 0


def test_no_table_header_is_broken_inside_a_word(report):
    labels = {re.sub(r"<[^>]+>", " ", h) for h in report.heads}
    whole = {
        _unescape(w).strip(".,;:()«»")
        for h in labels
        for w in h.split()
        if len(w.strip(".,;:()«»")) >= 4
    }
    assert {"Structure", "Partenaires"} <= whole, "the header labels were recorded"
    broken = sorted(
        {
            f"{a[0]}/{b[0]}"
            for words in report.words
            for a in words
            for b in words
            if a[0] + b[0] in whole and a[0] not in whole and _next_line_below(a, b)
        }
    )
    assert not broken, f"table headers broken inside a word: {broken}"


def _next_line_below(a: tuple, b: tuple) -> bool:
    """`b` is on the line under `a`, in the same column: where a word cut in a narrow
    table cell goes on."""
    _, ax0, ay0, ax1, _ = a
    _, bx0, by0, bx1, _ = b
    return 4 < by0 - ay0 < 16 and min(ax1, bx1) - max(ax0, bx0) > -2


def test_the_cover_carries_territory_year_and_main_finding(report):
    cover = re.sub(r"\s+", " ", report.pages[0])
    assert demo.TERRITORY_NAME in cover and str(demo.CURRENT_YEAR) in cover
    assert report.finding
    assert _squash(t.text(report.finding))[:60] in _squash(cover)


def test_a_bar_label_is_never_clipped():
    # The longest label on the biggest bar: its last letter must not touch the image's edge.
    # Long category names narrow the bars' axes: the value written after the biggest bar
    # (« 100 liens ») used to be cut at the image's edge.
    items = [
        ("Échange d'informations (secret partagé)", 100, "100 liens"),
        ("Actions collectives ou prévention", 20, "20 liens"),
    ]
    chart = charts.hbars(items, width_cm=17)
    image = Image.open(io.BytesIO(chart.image)).convert("L")
    w, h = image.size
    pixels = image.load()
    edge = [pixels[x, y] for x in range(w - 4, w) for y in range(h)]
    assert min(edge) > 200, "ink on the right edge: a value label is cut off"
    ink = [x for x in range(w) for y in range(0, h, 2) if pixels[x, y] < 128]
    assert max(ink) < w - 4


def test_the_numbers_on_the_map_do_not_overlap(report):
    boxes = report.map.labels
    assert len(boxes) == len(report.key)
    clashes = [
        (i + 1, j + 1)
        for i, a in enumerate(boxes)
        for j, b in enumerate(boxes[i + 1 :], start=i + 1)
        if min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])
    ]
    assert not clashes, f"numbers drawn over one another on the map: {clashes}"


def test_place_labels_moves_a_label_off_its_neighbour():
    # Two markers side by side: the second number goes where the first one is not.
    spots = mapdraw.place_labels([(0, 0, 3), (12, 0, 3)], ["1", "2"], [(0, 0, 3), (12, 0, 3)], 7)
    a = mapdraw.label_box(0 + spots[0][0], spots[0][1], "1", 7)
    b = mapdraw.label_box(12 + spots[1][0], spots[1][1], "2", 7)
    assert not (min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1]))


def test_a_map_with_a_very_long_key_still_fits_a_page():
    # Too tall for a whole page at its usual smallest size: the figure shrinks further
    # instead of failing the layout; with a short key it stays on the first page.
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    from reports.pdf.fonts import register_fonts
    from reports.pdf.styles import styles

    register_fonts()
    st = styles()
    chart = charts.hbars([("a", 1, "1")] * 30, width_cm=16)
    for lines, pages in ((25, 2), (5, 1)):
        key = [Paragraph(f"ligne {i}", st["body"]) for i in range(lines)]
        doc = SimpleDocTemplate(io.BytesIO())
        block = flowables.FitImage(chart, [Paragraph("Titre", st["H1"])], key)
        doc.multiBuild([Paragraph("avant", st["body"]), block])
        assert doc.page == pages

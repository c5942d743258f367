"""The small Markdown subset of docs/metrics.md (headings, paragraphs, lists, tables,
bold, italic, code, links) as ReportLab flowables."""

from __future__ import annotations

import re

from reportlab.platypus import Flowable, Paragraph, Spacer

from reports.pdf.flowables import esc, table
from reports.pdf.styles import TEXT_W, Styles

_INLINE = (
    (re.compile(r"\*\*(.+?)\*\*"), r"<b>\1</b>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)\*(?!\w)"), r"<i>\1</i>"),
    (re.compile(r"`([^`]+)`"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\([^)]+\)"), r"\1"),
)


def _inline(text: str) -> str:
    s = esc(text)
    for pattern, repl in _INLINE:
        s = pattern.sub(repl, s)
    return s


def markdown_flowables(md: str, st: Styles) -> list[Flowable]:
    """A small Markdown subset (headings, paragraphs, lists, tables, bold/italic) as
    flowables. Headings go below the annex heading (level 3), out of the table of
    contents."""
    out: list[Flowable] = []
    para: list[str] = []
    grid: list[list[str]] = []

    def flush() -> None:
        if para:
            out.append(Paragraph(_inline(" ".join(para)), st["body"]))
            para.clear()
        if grid:
            rows = [r for r in grid if not all(re.fullmatch(r":?-{2,}:?", c) for c in r)]
            n = max(len(r) for r in rows)
            cells = [
                [Paragraph(_inline(c), st["head" if i == 0 else "cell"]) for c in r]
                + [""] * (n - len(r))
                for i, r in enumerate(rows)
            ]
            out.append(table(cells, [TEXT_W / n] * n, st))
            out.append(Spacer(1, 4))
            grid.clear()

    for line in md.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("<!--"):
            flush()
        elif stripped.startswith("#"):
            flush()
            out.append(Paragraph(_inline(stripped.lstrip("#").strip()), st["H3"]))
        elif stripped.startswith("|"):
            if para:
                flush()
            grid.append([c.strip() for c in stripped.strip("|").split("|")])
        elif re.match(r"^([-*+]|\d+\.)\s+", stripped):
            flush()
            item = re.sub(r"^([-*+]|\d+\.)\s+", "", stripped)
            out.append(Paragraph(_inline(item), st["bullet"], bulletText="•"))
        elif line.startswith("  ") and out and not para and not grid:
            # Continuation of a list item: append to the previous bullet.
            prev = out.pop()
            out.append(Paragraph(prev.text + " " + _inline(stripped), st["bullet"], bulletText="•"))
        else:
            para.append(stripped)
    flush()
    return out

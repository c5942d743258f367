"""Public help pages: /aide/chiffres (the definitions of docs/metrics.md, in French),
/accessibilite (the accessibility statement) and /favicon.ico.

No account needed: the definitions and the statement hold no data. The definitions page is
rendered from docs/metrics.md itself, so the page and the documentation never disagree; only
the French part is shown (the « **EN.** » paragraphs and the English opening are dropped).
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from markupsafe import Markup

from app.templating import TEMPLATES_DIR, templates

router = APIRouter(include_in_schema=False)

METRICS_DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
FAVICON = TEMPLATES_DIR.parent / "static" / "favicon.ico"

# Anchors the figures page links to: figure function (the [`fn`] of a heading) → anchor.
# Kept stable because pages and the PDF link to them.
ANCHORS = {
    "participation": "participation",
    "size": "taille",
    "reciprocity": "reciprocite",
    "formal_share": "formel",
    "built_together": "ensemble",
    "centrality": "centralite",
    "communities": "communautes",
    "fragility": "fragilite",
    "obstacles": "obstacles",
    "headline": "chiffres-cles",
    "reports/compare.py": "evolution",
    "reports/trends.py": "toutes-annees",
}


NOTATION_FR = (
    "Notations des formules : n structures, m relations orientées, L liens, d(i) = nombre "
    "de partenaires distincts de i (qu'elle les cite ou qu'ils la citent)."
)


@dataclass
class HelpSection:
    anchor: str
    title: str
    blocks: list[Markup] = field(default_factory=list)


_INLINE = (
    (re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)\*(?!\w)"), r"<em>\1</em>"),
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
)


def inline(text: str) -> Markup:
    """Bold, italic and code of one paragraph; everything else escaped (no raw HTML, no
    links: the document names repository files, which mean nothing to a reader)."""
    s = html.escape(text, quote=False)
    for pattern, repl in _INLINE:
        s = pattern.sub(repl, s)
    return Markup(s)


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "section"


def _heading(line: str) -> tuple[str, str]:
    """(French title, anchor) of « ## English — Français [`fn`] »."""
    text = line.lstrip("#").strip()
    m = re.search(r"\s*[\[(]`([^`]*)`[\])]\s*$", text)
    key = m.group(1) if m else ""
    text = text[: m.start()] if m else text
    title = text.split(" — ", 1)[-1].strip()
    title = title[:1].upper() + title[1:]
    return title, ANCHORS.get(key, slug(title))


def parse_metrics(md: str) -> list[HelpSection]:
    """The level-2 sections of docs/metrics.md with their French paragraphs (the « **FR.** »
    prefix removed) and the notation said in French; English paragraphs dropped."""
    sections: list[HelpSection] = []
    para: list[str] = []

    def flush() -> None:
        text = " ".join(para).strip()
        para.clear()
        if not text or not sections or text.startswith("**EN.**"):
            return
        if text.startswith("Notation:"):
            # The document's notation line is in English: the same, said in French.
            sections[-1].blocks.append(Markup(NOTATION_FR))
            return
        sections[-1].blocks.append(inline(text.removeprefix("**FR.**").strip()))

    for line in md.splitlines():
        if line.startswith("## "):
            flush()
            sections.append(HelpSection(*_heading(line)[::-1]))
        elif line.startswith("#") or not line.strip():
            flush()
        else:
            para.append(line.strip())
    flush()
    return sections


@lru_cache(maxsize=4)
def _sections(path: Path, mtime: float) -> tuple[HelpSection, ...]:
    return tuple(parse_metrics(path.read_text(encoding="utf-8")))


def metrics_sections(path: Path = METRICS_DOC) -> tuple[HelpSection, ...]:
    """Parsed once per version of the file."""
    if not path.exists():
        return ()
    return _sections(path, path.stat().st_mtime)


@router.get("/aide/chiffres", response_class=HTMLResponse)
def figures_help(request: Request):
    return templates.TemplateResponse(
        request, "help/figures.html", {"sections": metrics_sections()}
    )


@router.get("/accessibilite", response_class=HTMLResponse)
def accessibility(request: Request):
    settings = request.app.state.settings
    contact = getattr(settings, "contact_email", "") or settings.mail_from
    return templates.TemplateResponse(request, "help/accessibility.html", {"contact": contact})


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    # Browsers ask for /favicon.ico whatever the page links: answer it instead of a 404.
    return FileResponse(
        FAVICON, media_type="image/x-icon", headers={"Cache-Control": "public, max-age=604800"}
    )

"""The welcome sheet (survey.welcome) as a PDF, with the annual report's fonts and styles:
for `/q/{token}/accueil.pdf` and `carte accueil`.

Reproducible: ReportLab's invariant mode fixes the document's dates and identifier, so the
same sheet gives the same bytes.
"""

from __future__ import annotations

import io
from typing import Any

from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate

from reports.pdf.flowables import esc, para, table
from reports.pdf.fonts import register_fonts
from reports.pdf.styles import MARGIN, TEXT_W, Styles, styles
from survey import french as t

# Shares of the text width of the partners' table: partner, declared by, nature, frequency,
# contact. A word wider than its column is cut in two (« Ponctuellemen / t » at 0.15).
PARTNER_COLUMNS = (0.29, 0.16, 0.13, 0.17, 0.25)


def _bullet(text: str, st: Styles) -> Paragraph:
    """A bulleted line of trusted markup whose variable parts were escaped by `esc`."""
    return Paragraph(text, st["bullet"], bulletText="•")


def _story(sheet: dict[str, Any]) -> list[Flowable]:
    st = styles()
    story: list[Flowable] = [para(f"Fiche d'accueil : {sheet['structure']}", st["H1"])]
    where = " — ".join(x for x in (sheet["service"], sheet["territory"]) if x)
    if where:
        story.append(para(where, st["body"]))
    who = "votre prédécesseur·e et vos collègues" if sheet["has_predecessor"] else "vos collègues"
    story.append(
        para(
            "Ce que les réponses à l'enquête disent des partenaires de votre structure, "
            f"tels que {who} les ont indiqués. Seules les personnes qui ont accepté d'être "
            "citées apparaissent comme contacts.",
            st["note"],
        )
    )

    partners = sheet["partners"]
    story.append(para(f"Les partenaires de votre structure ({len(partners)})", st["H2"]))
    if partners:
        rows: list[list] = [["Partenaire", "Indiqué par", "Nature", "Fréquence", "Contact"]]
        for p in partners:
            name = p["name"] + (f" — {p['service']}" if p["service"] else "")
            rows.append(
                [name, ", ".join(p["declared_by"]), p["nature"], p["frequency"],
                 " ; ".join(p["contacts"]) or "—"]
            )  # fmt: skip
        story.append(table(rows, [share * TEXT_W for share in PARTNER_COLUMNS], st))
    else:
        story.append(para("Aucun partenaire indiqué pour l'instant.", st["body"]))

    story.append(para("Les instances où siège votre structure", st["H2"]))
    for b in sheet["bodies"]:
        story.append(_bullet(esc(f"{b['name']} ({b['kind'].lower()}, {b['how']})"), st))
    if not sheet["bodies"]:
        story.append(para("Aucune instance connue.", st["body"]))

    story.append(para("Les conventions signées en cours", st["H2"]))
    for c in sheet["conventions"]:
        since = f"depuis le {t.date_fr(c['starts_on'])}"
        until = f", jusqu'au {t.date_fr(c['ends_on'])}" if c["ends_on"] else ""
        ref = f", réf. {c['reference']}" if c["reference"] else ""
        others = f" — avec {', '.join(c['others'])}" if c["others"] else ""
        rest = f"({c['kind'].lower()}{ref}) {since}{until}{others}"
        story.append(_bullet(f"<b>{esc(c['title'])}</b> {esc(rest)}", st))
    if not sheet["conventions"]:
        story.append(para("Aucune convention en cours connue.", st["body"]))

    year = f" ({sheet['cited_year']})" if sheet["cited_year"] else ""
    story.append(para(f"Les structures qui citent la vôtre{year}", st["H2"]))
    for name in sheet["cited_by"]:
        story.append(_bullet(esc(name), st))
    if not sheet["cited_by"]:
        story.append(para("Aucune structure ne cite encore la vôtre.", st["body"]))
    return story


def render(sheet: dict[str, Any]) -> bytes:
    """The PDF bytes of a welcome sheet."""
    register_fonts()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=t.text(f"Fiche d'accueil — {sheet['structure']}"),
        author="Carte partenariale",
        invariant=1,
    )
    doc.build(_story(sheet))
    return buffer.getvalue()

"""« Ce que nous nous étions engagés à faire »: the engagements taken after an earlier map,
each with its status and what this year's answers show, side by side (reports.engagements);
one sentence when there is none."""

from __future__ import annotations

from reportlab.platypus import Flowable

from reports.pdf.context import Context
from reports.pdf.flowables import para, table
from reports.pdf.styles import TEXT_W

TITLE = "Ce que nous nous étions engagés à faire"


def section(ctx: Context) -> list[Flowable]:
    """The engagements' table, or the sentence saying there is none."""
    st = ctx.styles
    rows = ctx.data.engagements
    year = ctx.data.campaign.year
    out: list[Flowable] = [para(TITLE, st["H1"])]
    if not rows:
        out.append(
            para(
                f"La coordination n'avait pris aucun engagement avant la carte {year} : "
                "rien à comparer cette année.",
                st["body"],
            )
        )
        return out
    out.append(
        para(
            f"Les engagements pris par la coordination après la lecture des cartes précédentes, "
            f"leur état et ce que montrent les réponses de {year}.",
            st["body"],
        )
    )
    cells = [["Engagement", "Pris en", "État", f"Ce que montre la carte {year}"]]
    for r in rows:
        cells.append([r["title"], str(r["year"]), r["status_label"], r["shows"]["text"]])
    widths = [TEXT_W * 0.40, TEXT_W * 0.10, TEXT_W * 0.14, TEXT_W * 0.36]
    out.append(table(cells, widths, st))
    return out

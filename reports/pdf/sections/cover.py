"""The cover page: territory, year, the year's main finding, the campaign's dates and
state, the report's date."""

from __future__ import annotations

from reportlab.lib.units import cm
from reportlab.platypus import Flowable, NextPageTemplate, Spacer, Table, TableStyle

from reports.pdf.context import Context
from reports.pdf.flowables import para
from reports.pdf.styles import INK, SHADE, TEXT_W, Styles
from survey import french as t


def section(ctx: Context) -> list[Flowable]:
    """The cover page, on the page template without footer."""
    d, st = ctx.data, ctx.styles
    c = d.campaign
    period = ""
    if c.opens_on and c.closes_on:
        period = f"Questionnaire ouvert du {t.date_fr(c.opens_on)} au {t.date_fr(c.closes_on)}"
    state = (
        "Campagne close."
        if c.status == "closed"
        else "Campagne encore ouverte : chiffres provisoires à la date du rapport."
    )
    compared = (
        f"Comparaison avec la campagne {d.previous.year}."
        if d.previous
        else "Première campagne : pas de comparaison."
    )
    out: list[Flowable] = [
        Spacer(1, 4.2 * cm),  # under the band drawn by the cover's page template
        para("Carte partenariale", st["cover_title"]),
        para(f"{d.territory.name} ({d.territory.code})", st["cover_sub"]),
        para(f"Rapport annuel {c.year}", st["cover_sub"]),
        Spacer(1, 0.6 * cm),
        para(
            "Avec qui les services sociaux du département travaillent-ils, "
            "de façon formelle ou informelle, et que construisent-ils ensemble "
            "autour des personnes ?",
            st["cover_small"],
        ),  # fmt: skip
        Spacer(1, 1.2 * cm),
    ]
    if d.findings:
        # The one finding that matters, the first of the summary's three.
        out.append(_finding_box(d.findings[0].sentence, st))
        out.append(Spacer(1, 1.2 * cm))
    out += [
        para(period, st["cover_small"]),
        para(state, st["cover_small"]),
        para(compared, st["cover_small"]),
        para(f"Rapport établi le {t.date_fr(d.issued_on)}", st["cover_small"]),
        Spacer(1, 1.2 * cm),
        para(
            "Ce document décrit des structures et leurs liens. Il ne nomme aucun "
            "professionnel ; les effectifs de moins de trois personnes sont notés « < 3 ».",
            st["note"],
        ),  # fmt: skip
        NextPageTemplate("body"),  # the pages after the cover carry the footer
    ]
    return out


def _finding_box(sentence: str, st: Styles) -> Table:
    """The year's main finding, framed, with a plain title above it."""
    box = Table(
        [[para("Le constat de l'année", st["cover_label"])], [para(sentence, st["cover_finding"])]],
        colWidths=[TEXT_W - 2 * cm],
    )
    box.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.2, INK),
                ("BACKGROUND", (0, 0), (-1, -1), SHADE),
                ("LEFTPADDING", (0, 0), (-1, -1), 12),
                ("RIGHTPADDING", (0, 0), (-1, -1), 12),
                ("TOPPADDING", (0, 0), (0, 0), 10),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 10),
            ]
        )
    )
    return box

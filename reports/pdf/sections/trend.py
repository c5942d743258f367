"""« Sur toutes les années »: the headline figures of every campaign up to the report's year
(reports.trends), one chart and one table; printed from three campaigns on."""

from __future__ import annotations

from reportlab.lib.units import cm
from reportlab.platypus import Flowable, KeepTogether

from reports import charts, trends
from reports.pdf.context import Context
from reports.pdf.flowables import image, para, table
from reports.pdf.styles import TEXT_W


def section(ctx: Context) -> list[Flowable]:
    """The trend chart (shares) and the table of every headline figure per year; nothing
    before three campaigns (the year-over-year section tells two)."""
    d, st = ctx.data, ctx.styles
    rows = d.trend
    if len(rows) < trends.MIN_TERRITORY_YEARS:
        return []
    years = [r["year"] for r in rows]
    out: list[Flowable] = [para(f"Sur toutes les années, de {years[0]} à {years[-1]}", st["H1"])]
    out.append(
        para(
            "Les quatre parts de la carte, année par année : chaque ligne a son trait et sa "
            "forme, son nom et sa dernière valeur sont écrits au bout. Les nombres (liens, "
            "structures…) sont dans le tableau.",
            st["body"],
        )
    )
    chart = charts.lines(
        years,
        [
            (f.label, values, f.line, trends.printed(f, rows[-1][f.key]))
            for f, values in trends.series(rows, trends.TERRITORY_SERIES)
        ],
    )
    out.append(image(chart))
    t = trends.table(rows, trends.TERRITORY_FIGURES)
    head = ["Chiffre"] + [
        f"{y} (en cours)" if s == "open" else str(y)
        for y, s in zip(t["years"], t["statuses"], strict=True)
    ]
    body = [[r["label"], *r["cells"]] for r in t["rows"]]
    n = len(years)
    label_w = 6 * cm
    col = (TEXT_W - label_w) / n
    out.append(
        KeepTogether(
            [
                para("Les chiffres clés, année par année", st["H2"]),
                table([head, *body], [label_w] + [col] * n, st, set(range(1, n + 1))),
            ]
        )
    )
    out.append(
        para(
            "« Citations orientées » : nombre de fois qu'une structure en cite une autre (A cite "
            "B et B cite A comptent pour deux). « Densité des citations » : part des citations "
            "qui existent parmi toutes les citations possibles, chaque structure citant chacune "
            "des autres (entre 0 et 1). "
            "« — » : chiffre absent, ou taux de réponse calculé sur moins de trois personnes "
            "(masqué pour que personne ne puisse être reconnu).",
            st["note"],
        )
    )
    return out

"""« Fragilité »: partnerships that rest on one person."""

from __future__ import annotations

from reportlab.lib.units import cm
from reportlab.platypus import Flowable

from reports import charts, figures, findings
from reports.pdf.context import Context
from reports.pdf.flowables import image, para, table
from survey import french as t


def section(ctx: Context) -> list[Flowable]:
    """Links carried by one person, the structures most exposed to turnover."""
    d, st = ctx.data, ctx.styles
    fr = d.figures["fragility"]
    out: list[Flowable] = [para("Fragilité : des liens qui tiennent à une personne", st["H1"])]
    out.append(para(findings.turnover_sentence(d.obstacles), st["body"]))
    out.append(
        para(
            f"{t.integer(fr['fragile_count'])} partenariats sur {t.integer(fr['links'])} "
            f"({t.percent(fr['share'])}) ne tiennent qu'à une seule personne. Pour "
            f"{t.integer(fr['fragile_with_non_respondent'])} d'entre eux, la structure citée "
            "n'a pas répondu : il est possible qu'un de ses professionnels porte aussi le lien.",
            st["body"],
        )
    )
    buckets = {1: 0, 2: 0, 3: 0, 4: 0}
    for x in figures.links(d.graph):
        buckets[min(x.carriers, 4)] += 1
    labels = {1: "1 personne", 2: "2 personnes", 3: "3 personnes", 4: "4 personnes ou plus"}
    items = [(labels[k], v, t.plural(v, "lien")) for k, v in buckets.items()]
    out.append(para("Nombre de professionnels qui portent chaque partenariat", st["H3"]))
    out.append(image(charts.hbars(items, hatch="xx", fill="white")))
    out.append(para("Les structures les plus exposées au turn-over", st["H2"]))
    exposed = [r for r in fr["structures"] if r["links"] >= 3 and r["fragile_links"]][:12]
    rows: list[list] = [["Structure", "Partenariats", "dont fragiles", "Part fragile"]]
    for r in exposed:
        rows.append(
            [r["name"], t.integer(r["links"]), t.integer(r["fragile_links"]), t.percent(r["share"])]
        )
    if exposed:
        out.append(table(rows, [9.4 * cm, 2.5 * cm, 2.5 * cm, 2.6 * cm], st, {1, 2, 3}))
        out.append(
            para(
                "Structures d'au moins trois partenariats, classées par part de liens fragiles.",
                st["note"],
            )  # fmt: skip
        )
    hanging = fr["hanging_on_one_person"]
    if hanging:
        out.append(para("Structures dont tous les liens reposent sur une seule personne", st["H3"]))
        out.append(
            para(
                ", ".join(f"{r['name']} ({t.plural(r['links'], 'lien')})" for r in hanging) + ".",
                st["body"],
            )  # fmt: skip
        )
    c = d.comparison
    if c:
        k = c["counts"]
        # a comparison comes with the previous campaign
        out.append(para(f"Quand les porteurs sont partis depuis {d.previous.year}", st["H3"]))  # type: ignore[union-attr]
        out.append(
            para(
                f"Parmi les liens de {d.previous.year} dont aucun porteur n'a répondu cette année "  # type: ignore[union-attr]
                f"depuis la même structure, {t.integer(k['survived_carrier_leaving'])} ont été "
                f"repris par d'autres et {t.integer(k['lost_with_carriers'])} ont disparu.",
                st["body"],
            )
        )
    return out

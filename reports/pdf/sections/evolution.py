"""« Évolution »: the figures and the partnerships compared with the previous campaign."""

from __future__ import annotations

from reportlab.lib.units import cm
from reportlab.platypus import CondPageBreak, Flowable, Paragraph

from reports.pdf.context import Context
from reports.pdf.flowables import SHORT_MAX, esc, pairs, para, table
from survey import french as t

CHANGE_LABELS = {
    "response_rate": ("Taux de réponse", True),
    "links": ("Partenariats", False),
    "reciprocity": ("Liens réciproques", True),
    "formal_share": ("Liens formels", True),
    "fragile_share": ("Liens fragiles (une seule personne)", True),
    "structures": ("Structures sur la carte", False),
    "density": ("Densité du réseau", True),
    "components": ("Groupes séparés", False),
    "isolated_count": ("Structures sans aucun lien", False),
}


# The partnerships listed by the section, the first few in the body, all in the annex.
PAIR_LISTS = (
    ("new", "Nouveaux partenariats"),
    ("lost", "Partenariats disparus"),
    ("strengthened", "Partenariats renforcés"),
)


def section(ctx: Context) -> list[Flowable]:
    """The year-over-year figures and changed partnerships (a short note on a first campaign)."""
    d, st = ctx.data, ctx.styles
    if not d.comparison or not d.previous:
        return [
            para("Évolution", st["H1"]),
            para(
                "C'est la première campagne de ce territoire : l'évolution sera décrite à "
                "partir de l'an prochain.",
                st["body"],
            ),
        ]
    c = d.comparison
    y0, y1 = d.previous.year, d.campaign.year
    out: list[Flowable] = [para(f"Évolution depuis {y0}", st["H1"])]
    rows: list[list] = [["Chiffre", str(y0), str(y1), "Évolution"]]
    for key, (label, share) in CHANGE_LABELS.items():
        f = c["figures"][key]
        fmt = t.percent if share else t.number
        change = t.points(f["change"]) if share else t.signed(f["change"])
        rows.append([label, fmt(f["before"]), fmt(f["after"]), change])
    out.append(table(rows, [7.6 * cm, 3 * cm, 3 * cm, 3.4 * cm], st, {1, 2, 3}))
    out.append(
        para(
            "« Densité du réseau » : parmi toutes les paires de structures possibles, la part "
            "de celles qui travaillent ensemble. « Groupes séparés » : ensembles de structures "
            "qui n'ont aucun lien, même indirect, avec les autres. « pts » : points de "
            "pourcentage.",
            st["note"],
        )
    )
    k = c["counts"]
    out.append(para("Ce qui a changé dans les partenariats", st["H2"]))
    lines = [
        f"{t.integer(k['kept'])} partenariats sont toujours là ;",
        f"{t.integer(k['new'])} sont nouveaux ;",
        f"{t.integer(k['lost'])} ont disparu alors qu'au moins une des deux structures a répondu ;",
        f"{t.integer(k['strengthened'])} se sont renforcés : {t.integer(k['became_formal'])} "
        f"sont devenus formels, {t.integer(k['more_carriers'])} sont portés par plus de "
        "personnes ;",
        f"{t.integer(k['weakened'])} se sont affaiblis (moins de personnes, ou plus de cadre "
        "formel).",
    ]
    for line in lines:
        out.append(Paragraph(esc(line), st["bullet"], bulletText="•"))
    if k["not_observed"] or k["newly_observed"]:
        out.append(
            para(
                f"{t.integer(k['not_observed'])} liens de {y0} n'ont pas pu être observés cette "
                f"année (aucune des deux structures n'a répondu) et "
                f"{t.integer(k['newly_observed'])} apparaissent seulement parce que des "
                "structures silencieuses l'an dernier ont répondu : ils ne sont comptés ni "
                "comme perdus ni comme nouveaux.",
                st["note"],
            )
        )
    for key, title in PAIR_LISTS:
        rows_ = c[key]
        if not rows_:
            continue
        out.append(CondPageBreak(4 * cm))
        out.append(para(f"{title} ({t.integer(len(rows_))})", st["H3"]))
        out += pairs(pair_rows(rows_), ("Structure", "Partenaire"), st, SHORT_MAX)
    return out


def pair_rows(rows: list[dict]) -> list[tuple[str, str]]:
    """The compared partnerships as (structure, partner) name pairs, in their order."""
    return [(x["a_name"], x["b_name"]) for x in rows]

"""« Réciprocité »: who cites whom, one-sided links, rarely cited structures."""

from __future__ import annotations

from reportlab.lib.units import cm
from reportlab.platypus import CondPageBreak, Flowable

from reports.pdf.context import Context
from reports.pdf.flowables import LIST_MAX, SHORT_MAX, pairs, para, table
from survey import french as t

ONE_SIDED_HEADS = ("Structure qui cite", "Structure citée, qui ne la cite pas")


def one_sided_rows(one: list[dict]) -> list[tuple[str, str]]:
    """The one-sided links as (citing, cited) name pairs."""
    return [(x["source_name"], x["target_name"]) for x in one]


def section(ctx: Context) -> list[Flowable]:
    """Mutual and one-sided links, structures cited by one other or none."""
    d, st = ctx.data, ctx.styles
    r = d.figures["reciprocity"]
    g = d.graph
    out: list[Flowable] = [para("Réciprocité : qui cite qui", st["H1"])]
    out.append(
        para(
            f"Quand les deux structures ont répondu ({t.plural(r['observable_links'], 'lien')}), "
            f"{t.integer(r['mutual'])} liens sont cités des deux côtés ({t.percent(r['rate'])}) "
            f"et {t.integer(r['one_sided_count'])} d'un seul. "
            f"{t.integer(r['with_non_respondent_count'])} autres liens touchent une structure "
            "qui n'a pas répondu : on ne peut pas savoir s'ils sont réciproques.",
            st["body"],
        )
    )
    out.append(
        para(
            "Un lien cité d'un seul côté n'est pas forcément une erreur : l'un peut compter sur "
            "un partenaire qui ne le voit pas comme tel, ou le contact est passé par une autre "
            "personne. C'est un sujet de discussion utile entre les deux structures.",
            st["body"],
        )
    )
    one = r["one_sided"]
    if one:
        out.append(para("Liens cités d'un seul côté", st["H2"]))
        out += pairs(one_sided_rows(one), ONE_SIDED_HEADS, st, SHORT_MAX)
    out.append(CondPageBreak(6 * cm))
    out.append(para("Structures isolées ou peu citées", st["H2"]))
    rare = sorted(
        (n for n in g.nodes if g.in_degree(n) <= 1),
        key=lambda n: (g.in_degree(n), str(g.nodes[n].get("name")).lower()),
    )
    if rare:
        rows: list[list] = [["Structure", "Citée par", "Cite", "A répondu"]]
        for n in rare[: LIST_MAX * 2]:
            a = g.nodes[n]
            rows.append(
                [
                    a.get("name", str(n)),
                    t.plural(g.in_degree(n), "structure"),
                    t.plural(g.out_degree(n), "structure") if a.get("answered") else "—",
                    "oui" if a.get("answered") else "non",
                ]
            )
        out.append(table(rows, [8.6 * cm, 3 * cm, 3 * cm, 2.4 * cm], st))
        out.append(
            para(
                "Une structure citée par une seule autre, ou par aucune, est peu visible de ses "
                "partenaires potentiels : le répertoire peut aider à la faire connaître.",
                st["note"],
            )
        )
    else:
        out.append(para("Chaque structure est citée par au moins deux autres.", st["body"]))
    return out

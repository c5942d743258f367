"""« Évolution »: the figures and the partnerships compared with the previous campaign."""

from __future__ import annotations

from reportlab.lib.units import cm
from reportlab.platypus import CondPageBreak, Flowable, Paragraph

from reports.compare import points_text
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
    "density": ("Densité des citations", True),
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
        change = points_text(f["before"], f["after"]) if share else t.signed(f["change"])
        rows.append([label, fmt(f["before"]), fmt(f["after"]), change])
    out.append(table(rows, [7.6 * cm, 3 * cm, 3 * cm, 3.4 * cm], st, {1, 2, 3}))
    out.append(
        para(
            "« Densité des citations » : parmi toutes les citations possibles (chaque structure "
            "citant chacune des autres), la part de celles qui existent. « Groupes séparés » : ensembles de structures "
            "qui n'ont aucun lien, même indirect, avec les autres. « pts » : points de "
            "pourcentage.",
            st["note"],
        )
    )
    k = c["counts"]
    out.append(para("Ce qui a changé dans les partenariats", st["H2"]))
    lines = change_lines(k)
    for line in lines:
        out.append(Paragraph(esc(line), st["bullet"], bulletText="•"))
    unobserved = unobserved_note(k, y0)
    if unobserved:
        out.append(para(unobserved, st["note"]))
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


def _counted(n: int, zero: str, one: str, many: str) -> str:
    """A count and its verb phrase in agreement: `zero` alone (« aucun n'est nouveau »), else
    the number then `one` or `many` (French: 1 takes the singular)."""
    if n == 0:
        return zero
    return f"{t.integer(n)} {one if n == 1 else many}"


def change_lines(k: dict) -> list[str]:
    """The bullets of « Ce qui a changé dans les partenariats », from the comparison's
    counts, each agreeing with its number."""
    strengthened = _counted(
        k["strengthened"], "aucun ne s'est renforcé", "s'est renforcé", "se sont renforcés"
    )
    how = [
        _counted(k["became_formal"], "", "est devenu formel", "sont devenus formels"),
        _counted(k["more_carriers"], "", "est porté par plus de personnes",
                 "sont portés par plus de personnes"),
    ]  # fmt: skip
    if k["strengthened"] and any(how):
        strengthened += " : " + ", ".join(x for x in how if x)
    return [
        _counted(k["kept"], "aucun partenariat n'est toujours là", "partenariat est toujours là",
                 "partenariats sont toujours là") + " ;",
        _counted(k["new"], "aucun n'est nouveau", "est nouveau", "sont nouveaux") + " ;",
        _counted(k["lost"], "aucun n'a disparu", "a disparu", "ont disparu")
        + " alors qu'au moins une des deux structures a répondu ;",
        strengthened + " ;",
        _counted(k["weakened"], "aucun ne s'est affaibli", "s'est affaibli",
                 "se sont affaiblis") + " (moins de personnes, ou perte du cadre formel).",
    ]  # fmt: skip


def unobserved_note(k: dict, year: int) -> str | None:
    """The note on the links neither lost nor new because of who answered; a zero count is
    left out, None when both are zero."""
    gone, came = k["not_observed"], k["newly_observed"]
    parts = []
    if gone:
        parts.append(
            _counted(gone, "", f"lien de {year} n'a pas pu être observé",
                     f"liens de {year} n'ont pas pu être observés")
            + " cette année (aucune des deux structures n'a répondu)"
        )  # fmt: skip
    if came:
        # « 4 liens … et 2 apparaissent »: the noun is said once.
        one, many = (
            ("apparaît", "apparaissent") if gone else ("lien apparaît", "liens apparaissent")
        )
        parts.append(
            _counted(came, "", one, many)
            + " seulement parce que des structures silencieuses l'an dernier ont répondu"
        )
    if not parts:
        return None
    if gone + came < 2:
        tail = "il n'est compté ni comme perdu ni comme nouveau."
    else:
        tail = "ils ne sont comptés ni comme perdus ni comme nouveaux."
    return " et ".join(parts) + " : " + tail

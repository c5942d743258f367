"""« Comment on travaille ensemble »: formal or informal, frequency, practices, themes."""

from __future__ import annotations

from reportlab.lib.units import cm
from reportlab.platypus import CondPageBreak, Flowable

from reports import charts
from reports.pdf.context import Context
from reports.pdf.flowables import image, para
from survey import french as t
from survey import vocab

FREQ_ORDER = tuple(vocab.FREQUENCIES)


def tag_bars(rows: list[dict], top: int | None = None) -> list[tuple[str, int, str]]:
    """Bars of `figures.built_together`'s rows by links, the longest first (`top` of them):
    the rows come sorted by declarations, and bars of links in that order went up and down."""
    ranked = sorted(rows, key=lambda r: (-r["links"], -r["declarations"], r["label"].lower()))
    return [(r["label"], r["links"], t.plural(r["links"], "lien")) for r in ranked[:top]]


def section(ctx: Context) -> list[Flowable]:
    """Formal or informal, how often, what is built together, themes."""
    d, st = ctx.data, ctx.styles
    g = d.graph
    fs = d.figures["formal_share"]
    bt = d.figures["built_together"]
    out: list[Flowable] = [para("Comment on travaille ensemble", st["H1"])]
    decl = fs["declarations_by_nature"]
    total = fs["declarations"] or 0
    out.append(para("Formel ou informel", st["H2"]))
    out.append(
        para(
            f"Chaque professionnel qui cite un partenaire dit si le lien est formel, informel "
            f"ou les deux. Sur {t.plural(total, 'déclaration')} :",
            st["body"],
        )
    )
    parts = [(vocab.NATURES[c], decl.get(c, 0)) for c in ("formal", "both", "informal")]
    if decl.get("unknown"):
        parts.append(("Non précisé", decl["unknown"]))
    out.append(
        image(
            charts.stacked_share(
                parts,
                printed=lambda v, share: t.text(f"{t.percent(share)} ({t.integer(v)})"),
            )
        )
    )
    out.append(para("Fréquence des échanges", st["H2"]))
    freq = {c: 0 for c in FREQ_ORDER}
    for _, _, a in g.edges(data=True):
        for c, n in (a.get("frequencies") or {}).items():
            freq[c] = freq.get(c, 0) + n
    items = [(vocab.FREQUENCIES[c], freq[c], t.integer(freq[c])) for c in FREQ_ORDER]
    out.append(image(charts.hbars(items, "nombre de déclarations", hatch="///", fill="#b9c7d4")))
    out.append(CondPageBreak(9 * cm))
    out.append(para("Ce qui est construit ensemble autour de la personne", st["H2"]))
    out.append(
        para(
            "Nombre de partenariats où au moins un professionnel dit construire cela avec "
            "son partenaire (plusieurs réponses possibles).",
            st["body"],
        )
    )
    items = tag_bars(bt["practices"])
    if items:
        out.append(image(charts.hbars(items, width_cm=17)))
    themes = tag_bars(bt["thematiques"], top=12)
    out.append(CondPageBreak(7 * cm))
    out.append(para("Thématiques", st["H2"]))
    if themes:
        out.append(
            para(
                "Les thématiques que les professionnels associent à leurs partenariats : nombre "
                "de partenariats où au moins un professionnel la cite, les plus fréquentes "
                "d'abord. Ce sont les thèmes de la liste commune aux services d'insertion en "
                "France (référentiel data·inclusion).",
                st["body"],
            )
        )
        out.append(image(charts.hbars(themes, hatch="...", fill="white")))
    else:
        out.append(para("Aucune thématique n'a été indiquée cette année.", st["body"]))
    return out

"""« L'essentiel »: the five headline figures, with last year's, and three findings."""

from __future__ import annotations

from reportlab.lib.units import cm
from reportlab.platypus import Flowable, Paragraph, Spacer

from reports import privacy
from reports.compare import points_text
from reports.pdf.context import Context
from reports.pdf.flowables import esc, markup, para, table
from survey import french as t

HEADLINE = (
    # key, label, what it means, share?
    ("response_rate", "Taux de réponse",
     "part des professionnels invités qui ont répondu", True),
    ("links", "Partenariats entre structures",
     "paires de structures dont l'une au moins cite l'autre", False),
    ("reciprocity", "Liens réciproques",
     "part des liens cités des deux côtés, quand les deux structures ont répondu", True),
    ("formal_share", "Liens formels",
     "part des liens avec une convention, une commission, un protocole ou une réunion planifiée",
     True),
    ("fragile_share", "Liens fragiles",
     "part des liens qui ne tiennent qu'à une seule personne", True),
)  # fmt: skip


def section(ctx: Context) -> list[Flowable]:
    """« L'essentiel »: who answered, the five headline figures, three findings."""
    d, st = ctx.data, ctx.styles
    h = d.figures["headline"]
    p = d.figures["participation"]
    s = d.figures["size"]
    out: list[Flowable] = [para("L'essentiel", st["H1"])]
    out.append(
        para(
            f"En {d.campaign.year}, {privacy.people(p['responded'])} professionnels sur "
            f"{privacy.people(p['invited'])} invités ont décrit leurs partenariats. "
            f"Le réseau compte {t.plural(s['structures'], 'structure')} et "
            f"{t.plural(s['links'], 'partenariat')}.",
            st["body"],
        )
    )
    if d.campaign.status != "closed":
        out.append(
            para(
                f"La campagne {d.campaign.year} est encore ouverte : ces chiffres sont "
                "provisoires et changeront avec les réponses à venir.",
                st["note"],
            )
        )
    out.append(para("Les cinq chiffres clés", st["H2"]))
    prev_year = d.previous.year if d.previous else None
    head = ["Indicateur", str(d.campaign.year)]
    if prev_year:
        head += [str(prev_year), "Évolution"]
    rows: list[list] = [head]
    changes = d.comparison["figures"] if d.comparison else {}
    for key, label, meaning, share in HEADLINE:
        cell = markup(f"<b>{esc(label)}</b><br/><font size=7.5 color='#555555'>{esc(meaning)}</font>",
                  st["cell"])  # fmt: skip
        value = markup(f"<b>{esc(_value(h[key], share))}</b>", st["cellnum"])
        row = [cell, value]
        if prev_year:
            c = changes.get(key, {})
            row.append(_value(c.get("before"), share))
            # A share's change from the two percentages as printed (40 % → 45 %: +5 pts).
            row.append(points_text(c.get("before"), h[key]) if share else t.signed(c.get("change")))
        rows.append(row)
    widths = [9.6 * cm, 2.4 * cm, 2.4 * cm, 2.6 * cm] if prev_year else [12 * cm, 5 * cm]
    out.append(table(rows, widths, st, numeric={1, 2, 3}))
    if prev_year:
        out.append(para("« pts » : points de pourcentage (de 40 % à 45 %, +5 pts).", st["note"]))
    out.append(Spacer(1, 0.4 * cm))
    out.append(para("Trois constats", st["H2"]))
    for i, x in enumerate(d.findings, start=1):
        out.append(Paragraph(esc(x.sentence), st["finding"], bulletText=f"{i}."))
    if not d.findings:
        out.append(para("Pas assez de réponses pour dégager des constats.", st["body"]))
    out.append(
        para(
            "Les pages suivantes détaillent chaque point ; l'annexe explique la méthode, "
            "les définitions et les limites de l'enquête.",
            st["note"],
        )
    )
    return out


def _value(value, share: bool) -> str:
    """A headline figure as printed: a share as a percentage, else a number."""
    return t.percent(value) if share else t.number(value)

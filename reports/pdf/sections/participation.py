"""« Qui a répondu »: participation by type of structure and how it limits the reading."""

from __future__ import annotations

from reportlab.lib.units import cm
from reportlab.platypus import Flowable, Paragraph

from reports import privacy
from reports.pdf.context import Context
from reports.pdf.flowables import esc, para, table
from survey import french as t


def section(ctx: Context) -> list[Flowable]:
    """« Qui a répondu »: participation and what it means for the reading."""
    d, st = ctx.data, ctx.styles
    p = d.figures["participation"]
    out: list[Flowable] = [para("Qui a répondu", st["H1"])]
    silent = [r for r in p["structures"] if r["invited"] and not r["responded"]]
    uninvited = [r for r in p["structures"] if not r["invited"]]
    out.append(
        para(
            f"{privacy.people(p['invited'])} professionnels de "
            f"{t.plural(sum(1 for r in p['structures'] if r['invited']), 'structure')} ont été "
            f"invités ; {privacy.people(p['responded'])} ont envoyé leurs réponses "
            f"({t.percent(p['rate'])}). {t.integer(p['structures_answered'])} structures sur "
            f"{t.integer(p['structures_total'])} ont répondu pour au moins un de leurs "
            "professionnels.",
            st["body"],
        )
    )
    out.append(para("Participation par type de structure", st["H2"]))
    rows: list[list] = [["Type de structure", "Structures", "dont ayant répondu", "Invités",
                         "Répondants", "Taux"]]  # fmt: skip
    for r in p["by_type"]:
        rows.append(
            [
                r["type_label"],
                t.integer(r["structures"]),
                t.integer(r["structures_answered"]),
                privacy.people(r["invited"]),
                privacy.people(r["responded"]),
                privacy.rate(r["responded"], r["invited"]),
            ]
        )
    out.append(
        table(rows, [6.4 * cm, 2 * cm, 2.4 * cm, 2 * cm, 2.2 * cm, 2 * cm], st, {1, 2, 3, 4, 5})
    )
    out.append(
        para(
            "« < 3 » : moins de trois personnes, chiffre masqué pour que personne ne puisse "
            "être reconnu ; le taux correspondant n'est pas donné (« — »).",
            st["note"],
        )
    )
    out.append(para("Ce que cela veut dire pour la lecture", st["H2"]))
    reading = [
        "Une structure qui n'a pas répondu apparaît quand même sur la carte si d'autres la "
        "citent, mais on ne sait pas qui elle cite elle-même : ses liens sont vus d'un seul "
        "côté.",
        "La réciprocité (liens cités des deux côtés) n'est calculée que sur les paires de "
        "structures qui ont toutes deux répondu ; un silence n'est jamais lu comme un « non ».",
    ]
    if p["rate"] is not None and p["rate"] < 0.6:
        reading.append(
            f"Avec {t.percent(p['rate'])} de réponses, les chiffres décrivent une partie du "
            "réseau : les comparer d'une année sur l'autre demande de la prudence."
        )
    for text in reading:
        out.append(Paragraph(esc(text), st["bullet"], bulletText="•"))
    if silent:
        out.append(para("Structures invitées sans aucune réponse", st["H3"]))
        names = ", ".join(r["name"] for r in silent)
        out.append(para(names + ".", st["small"]))
    if uninvited:
        out.append(para("Structures citées mais sans professionnel invité", st["H3"]))
        out.append(para(", ".join(r["name"] for r in uninvited) + ".", st["small"]))
    return out

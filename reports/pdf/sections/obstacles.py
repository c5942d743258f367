"""« Les freins rencontrés »: the obstacles respondents report, overall and by type."""

from __future__ import annotations

from reportlab.lib.units import cm
from reportlab.platypus import Flowable

from reports import charts, privacy
from reports.pdf.context import Context
from reports.pdf.flowables import image, para, table
from reports.pdf.styles import TEXT_W
from survey import vocab

OBSTACLE_SHORT = {
    "lack_of_time": "Manque de temps",
    "turnover": "Turn-over",
    "unknown_missions": "Missions mal connues",
    "admin_delays": "Délais admin.",
    "unreachable_platforms": "Plateformes injoignables",
    "information_sharing": "Secret, partage d'infos",
    "no_coordination_body": "Pas d'instance de coord.",
    "other": "Autre",
}


def section(ctx: Context) -> list[Flowable]:
    """The obstacles, overall then by type of structure (small groups pooled)."""
    d, st = ctx.data, ctx.styles
    ob = d.obstacles
    out: list[Flowable] = [para("Les freins rencontrés", st["H1"])]
    out.append(
        para(
            f"Chaque répondant indique les freins qu'il a rencontrés dans l'année (plusieurs "
            f"réponses possibles). {privacy.people(ob['respondents'])} répondants.",
            st["body"],
        )
    )
    if not ob["totals"]:
        out.append(para("Aucun frein n'a été indiqué.", st["body"]))
        return out
    items = []
    for r in ob["totals"]:
        small = privacy.is_small(r["responses"])
        items.append((r["label"], 0 if small else r["responses"], privacy.people(r["responses"])))
    out.append(image(charts.hbars(items, "nombre de répondants qui le citent", width_cm=17)))
    out.append(para("Par type de structure", st["H2"]))
    pooled = privacy.pool_small_groups(
        [dict(r) for r in ob["by_type"]],
        "respondents",
        "type_label",
        "Autres types (moins de 3 répondants chacun)",
        ("obstacles",),
    )
    codes = [c for c in vocab.OBSTACLES if any(r["obstacles"].get(c) for r in pooled)]
    head = ["Type de structure", "Répon­dants", *[OBSTACLE_SHORT[c] for c in codes]]
    rows: list[list] = [head]
    for r in pooled:
        rows.append(
            [r["type_label"], privacy.people(r["respondents"]),
             *[privacy.people(r["obstacles"].get(c, 0)) for c in codes]]
        )  # fmt: skip
    first = 4.6 * cm
    rest = (TEXT_W - first - 1.6 * cm) / max(len(codes), 1)
    out.append(
        table(rows, [first, 1.6 * cm, *[rest] * len(codes)], st, set(range(1, len(codes) + 2)))
    )
    out.append(
        para(
            "Nombre de répondants qui citent chaque frein. Les types de structure qui comptent "
            "moins de trois répondants sont regroupés ; « < 3 » : une ou deux personnes.",
            st["note"],
        )
    )
    return out

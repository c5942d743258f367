"""« Les freins rencontrés »: the obstacles respondents report, overall and by type."""

from __future__ import annotations

import re

from reportlab.lib.units import cm
from reportlab.platypus import Flowable, KeepTogether

from reports import charts, privacy
from reports.pdf.context import Context
from reports.pdf.flowables import image, para, table
from reports.pdf.styles import TEXT_W
from survey import vocab

OBSTACLE_SHORT = {
    "lack_of_time": "Manque de temps",
    "turnover": "Turn-over (départs, arrivées)",
    "unknown_missions": "Missions mal connues",
    "admin_delays": "Délais administratifs",
    "unreachable_platforms": "Plateformes injoignables",
    "information_sharing": "Secret professionnel, partage d'informations",
    "no_coordination_body": "Pas d'instance de coordination",
    "other": "Autre",
}


TYPE_COLUMNS = 5  # types of structure shown as columns; the smaller ones are pooled
OTHERS = "Autres types"


def _at_most(rows: list[dict], n: int) -> list[dict]:
    """The `n` types with the most respondents, then one column for all the others (already
    pooled small groups included), so that the table keeps readable columns."""
    if len(rows) <= n + 1:
        return rows
    ranked = sorted(rows, key=lambda r: -r["respondents"])
    kept, rest = ranked[:n], ranked[n:]
    other: dict = {"type_label": OTHERS, "respondents": 0, "obstacles": {}}
    for r in rest:
        other["respondents"] += r["respondents"]
        for k, v in r["obstacles"].items():
            other["obstacles"][k] = other["obstacles"].get(k, 0) + v
    return [*kept, other]


def _short_type(label: str | None) -> str:
    """A type of structure by its abbreviation when it has one in brackets (« (CARSAT) »),
    else cut after its first words: a column header of a few words."""
    label = label or "Autre"
    if label.startswith("Autres types"):
        return OTHERS
    m = re.search(r"\(([^)]+)\)$", label)
    if m and len(label) > 24:
        return m.group(1).rstrip(". …")
    return label


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
    chart = image(charts.hbars(items, "nombre de répondants qui le citent", width_cm=17))
    out = [KeepTogether([*out, chart])]  # the title never stays alone at a page's foot
    out.append(para("Par type de structure", st["H2"]))
    pooled = privacy.pool_small_groups(
        [dict(r) for r in ob["by_type"]],
        "respondents",
        "type_label",
        "Autres types (moins de 3 répondants chacun)",
        ("obstacles",),
    )
    pooled = _at_most(pooled, TYPE_COLUMNS)
    codes = [c for c in vocab.OBSTACLES if any(r["obstacles"].get(c) for r in pooled)]
    # One row per obstacle, one column per type of structure: the obstacles' names stay
    # whole, and a handful of columns leaves every header word room on its line.
    head = ["Frein", *[_short_type(r["type_label"]) for r in pooled]]
    rows: list[list] = [head]
    rows.append(["Répondants", *[privacy.people(r["respondents"]) for r in pooled]])
    for c in codes:
        rows.append(
            [OBSTACLE_SHORT.get(c, c), *[privacy.people(r["obstacles"].get(c, 0)) for r in pooled]]
        )
    first = 5 * cm
    rest = (TEXT_W - first) / max(len(pooled), 1)
    out.append(table(rows, [first, *[rest] * len(pooled)], st, set(range(1, len(pooled) + 1))))
    out.append(
        para(
            "Nombre de répondants qui citent chaque frein, par type de structure. Les types "
            "qui comptent moins de trois répondants sont regroupés dans « Autres types » ; "
            "« < 3 » : une ou deux personnes.",
            st["note"],
        )
    )
    return out

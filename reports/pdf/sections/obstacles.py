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

TYPE_COLUMNS = 5  # types of structure shown as columns; the smaller ones are pooled
TYPE_COLUMNS_WORD = "cinq"  # TYPE_COLUMNS in words, for the table's note
OTHERS = "Autres types"


def obstacle_label(code: str) -> str:
    """An obstacle as the questionnaire names it (reports.figures.obstacles gives the same
    label): the chart, the table, the findings and the web pages all use this one."""
    return vocab.OBSTACLES.get(code, code)


def _at_most(rows: list[dict], n: int) -> list[dict]:
    """The `n` types with the most respondents, then one « Autres types » column for all the
    others: the types pooled by `privacy.pool_small_groups` (marked "pooled") always go into
    it, never into a column of their own beside it, so that the table has one « Autres
    types » column and readable columns."""
    named = [r for r in rows if "pooled" not in r]
    pooled = [r for r in rows if "pooled" in r]
    if len(named) + min(len(pooled), 1) <= n + 1:
        kept, rest = named, pooled
    else:
        ranked = sorted(named, key=lambda r: -r["respondents"])
        kept, rest = ranked[:n], [*ranked[n:], *pooled]
    if not rest:
        return kept
    other: dict = {
        "type_label": OTHERS,
        "pooled": 0,
        "beyond": 0,  # types of three respondents or more, past the first `n`
        "respondents": 0,
        "obstacles": {},
    }
    for r in rest:
        other["pooled"] += r.get("pooled", 1)
        other["beyond"] += 0 if "pooled" in r else 1
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
    # One name per obstacle, the chart's and the table's (the questionnaire's words).
    labels = {r["code"]: r["label"] for r in ob["totals"]}
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
            [
                labels.get(c) or obstacle_label(c),
                *[privacy.people(r["obstacles"].get(c, 0)) for r in pooled],
            ]
        )
    first = 5 * cm
    rest = (TEXT_W - first) / max(len(pooled), 1)
    out.append(table(rows, [first, *[rest] * len(pooled)], st, set(range(1, len(pooled) + 1))))
    out.append(
        para(
            "Nombre de répondants qui citent chaque frein, par type de structure. "
            f"{_others_note(pooled)}« < 3 » : une ou deux personnes.",
            st["note"],
        )
    )
    return out


def _others_note(columns: list[dict]) -> str:
    """What the « Autres types » column holds, as a sentence of the table's note ("" when the
    table has no such column)."""
    other = next((r for r in columns if r["type_label"] == OTHERS), None)
    if other is None:
        return ""
    small = other["beyond"] < other["pooled"]
    if small and other["beyond"]:
        return (
            "« Autres types » regroupe les types de moins de trois répondants et ceux qui "
            f"viennent après les {TYPE_COLUMNS_WORD} plus représentés ; "
        )
    if small:
        return "Les types qui comptent moins de trois répondants sont regroupés dans « Autres types » ; "
    return (
        f"Les types qui viennent après les {TYPE_COLUMNS_WORD} plus représentés sont regroupés "
        "dans « Autres types » ; "
    )

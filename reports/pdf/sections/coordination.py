"""« La coordination du territoire »: instances, official partnerships, zones, quality and
frames, one part each.

Every part is drawn from the public copy of reports.coordination (ReportData.coordination:
the « < 3 » rule already applied), with its findings in plain sentences (reports.findings)
and a short table; a part with nothing to show says so in one sentence. One H1 for the four
parts (one line in the table of contents, which must stay on its page); each part's title
looks like an H2 without being listed.
"""

from __future__ import annotations

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import CondPageBreak, Flowable, Paragraph

from reports import findings, privacy
from reports.pdf.context import Context
from reports.pdf.flowables import LIST_MAX, esc, more, para, table
from reports.pdf.styles import TEXT_W, Styles
from survey import french as t

TITLE = "La coordination du territoire"
INSTANCES_TITLE = "Les instances de coordination"
OFFICIAL_TITLE = "Accords signés et liens déclarés"
ZONES_TITLE = "Les zones du territoire"
QUALITY_TITLE = "Qualité des liens et cadres formels"
TABLE_MAX = 10  # rows of a table before « … et N autres »
NAMES_MAX = 3  # absent members named in the instances' table
PART_ROOM = 5 * cm  # a part starts on a new page when less is left


def _part_title(text: str, st: Styles) -> Paragraph:
    """A part's title: set as an H2, not listed in the table of contents (its style's name
    is not H2, see document._Doc)."""
    return para(text, ParagraphStyle("part", parent=st["H2"]))


def _count(n: int | str | None) -> str:
    """A count of professionals from the public copy (« < 3 » kept)."""
    return privacy.SMALL if isinstance(n, str) else privacy.people(n)


def _share(v: float | str | None) -> str:
    """A share, « — » when withheld or unknown."""
    return privacy.WITHHELD_RATE if v is None or isinstance(v, str) else t.percent(v)


def _absent_names(refs: list[dict]) -> str:
    """The first NAMES_MAX absent members, then how many others; « aucun » without any."""
    if not refs:
        return "aucun"
    names = ", ".join(r["name"] for r in refs[:NAMES_MAX])
    others = len(refs) - NAMES_MAX
    return names + (f" et {t.plural(others, 'autre')}" if others > 0 else "")


def _bullets(sentences: list[findings.Finding], st: Styles, limit: int) -> list[Flowable]:
    """The `limit` best sentences as bullets."""
    best = findings.best_first(sentences)[:limit]
    return [Paragraph(esc(x.sentence), st["bullet"], bulletText="•") for x in best]


def section(ctx: Context) -> list[Flowable]:
    """The four parts under one title; nothing without coordination figures."""
    d = ctx.data.coordination
    if d is None:
        return []
    st = ctx.styles
    out: list[Flowable] = [para(TITLE, st["H1"])]
    out.append(
        para(
            "Ce que les réponses disent des instances, des accords signés et des zones que la "
            "coordination a enregistrés, et de la qualité des liens entre familles de "
            "structures.",
            st["body"],
        )
    )
    for i, part in enumerate((instances, official, zones, quality)):
        if i:
            out.append(CondPageBreak(PART_ROOM))
        out += part(d, ctx.data.campaign.year, st)
    return out


def _cut(rows: list, st: Styles) -> list[Flowable]:
    """« … et N autres. » under a table cut to TABLE_MAX rows."""
    note = more(len(rows), TABLE_MAX)
    return [para(note, st["note"])] if note else []


def instances(d: dict, year: int, st: Styles) -> list[Flowable]:
    """Instances: members against declared participants, absent members, overlaps, and the
    structures in no instance."""
    out: list[Flowable] = [_part_title(INSTANCES_TITLE, st)]
    items = [i for i in d["instances"]["items"] if i.get("active", True)]
    if not items:
        out.append(para("Aucune instance n'est enregistrée pour ce territoire.", st["body"]))
        return out
    out.append(
        para(
            "Les membres officiels de chaque commission ou instance, enregistrés par la "
            "coordination, comparés aux structures dont des professionnels disent y participer. "
            "Un « membre absent » est une structure qui n'en fait pas partie mais dont les "
            "professionnels travaillent régulièrement avec au moins la moitié de ses membres.",
            st["body"],
        )
    )
    rows: list[list] = [["Instance", "Membres", "Structures qui y participent", "Membres absents"]]
    for i in items[:TABLE_MAX]:
        rows.append(
            [
                i["name"],
                t.integer(len(i["members"])),
                t.integer(len(i["participants"])),
                _absent_names(i["absent"]),
            ]
        )
    out.append(table(rows, [5.2 * cm, 2 * cm, 3.2 * cm, TEXT_W - 10.4 * cm], st, {1, 2}))
    out += _cut(items, st)
    sentences = findings.instance_findings(d)
    if sentences:
        out.append(para("Ce qu'il faut en retenir", st["H3"]))
        out += _bullets(sentences, st, LIST_MAX)
    else:
        out.append(
            para(
                "Aucun membre absent, aucune instance en double : les instances réunissent "
                "les structures qui travaillent ensemble.",
                st["body"],
            )
        )
    return out


def official(d: dict, year: int, st: Styles) -> list[Flowable]:
    """Conventions in force without life, frequent partnerships without any frame."""
    off = d["official"]
    out: list[Flowable] = [_part_title(OFFICIAL_TITLE, st)]
    if not off["in_force"]:
        out.append(para(f"Aucune convention enregistrée en vigueur en {year}.", st["body"]))
    else:
        n, dead = len(off["in_force"]), len(off["without_life"])
        out.append(
            para(
                f"{t.plural(n, 'accord')} (conventions, protocoles, chartes) "
                f"{'est' if n == 1 else 'sont'} en vigueur en {year} ; pour "
                f"{t.integer(dead)} d'entre eux, aucun professionnel ne déclare de lien entre "
                "les structures signataires (« convention sans vie »).",
                st["body"],
            )
        )
    frameless = off["without_frame"]
    out.append(
        para(
            "Un « partenariat sans cadre » : deux structures qui travaillent ensemble chaque "
            "semaine ou chaque mois, sans convention, sans instance commune et sans cadre "
            f"formel déclaré. {t.plural(len(frameless), 'partenariat')} de ce type cette année.",
            st["body"],
        )
    )
    if frameless:
        rows: list[list] = [["Structure", "Partenaire", "Professionnels", "Chaque semaine ou mois"]]
        for p in frameless[:TABLE_MAX]:
            rows.append(
                [p["a"]["name"], p["b"]["name"], _count(p["carriers"]), _count(p["frequent"])]
            )
        out.append(table(rows, [6 * cm, 6 * cm, 2.3 * cm, TEXT_W - 14.3 * cm], st, {2, 3}))
        out += _cut(frameless, st)
    sentences = findings.official_findings(d)
    if sentences:
        out.append(para("Ce qu'il faut en retenir", st["H3"]))
        out += _bullets(sentences, st, 4)
    return out


def zones(d: dict, year: int, st: Styles) -> list[Flowable]:
    """Figures per zone and the white zones (zone × family without any declared tie)."""
    z = d["zones"]
    out: list[Flowable] = [_part_title(ZONES_TITLE, st)]
    if not z["items"]:
        out.append(para("Aucune zone n'est définie pour ce territoire.", st["body"]))
        return out
    out.append(
        para(
            "Les sous-territoires (UTAS, EPCI, bassins de vie) définis par la coordination : "
            "qui a répondu, les liens entre structures de la zone et ceux qui la relient aux "
            "autres.",
            st["body"],
        )
    )
    rows: list[list] = [
        [
            "Zone",
            "Structures",
            "Invités",
            "Répondants",
            "Taux",
            "Liens internes",
            "Vers l'extérieur",
        ]
    ]
    for r in z["items"]:
        rows.append(
            [
                r["name"],
                t.integer(r["structures"]),
                _count(r["invited"]),
                _count(r["responded"]),
                _share(r["participation"]),
                t.integer(r["ties_inside"]),
                t.integer(r["ties_out"]),
            ]
        )
    u = z["unzoned"]
    if u["structures"]:
        rows.append(
            [
                "Hors zone",
                t.integer(u["structures"]),
                _count(u["invited"]),
                _count(u["responded"]),
                "—",
                "—",
                "—",
            ]  # fmt: skip
        )
    first = 4.6 * cm
    rest = (TEXT_W - first) / 6
    out.append(table(rows, [first, *[rest] * 6], st, {1, 2, 3, 4, 5, 6}))
    out.append(
        para(
            "« < 3 » : une ou deux personnes ; le taux correspondant n'est pas donné (« — »).",
            st["note"],
        )
    )
    out.append(para("Zones blanches", st["H3"]))
    white = z["white"]
    if not white:
        out.append(
            para(
                "Aucune zone blanche : dans chaque zone où des professionnels ont répondu, au "
                "moins un lien est déclaré avec chaque famille de structures du territoire.",
                st["body"],
            )
        )
        return out
    out.append(
        para(
            "Une zone blanche associe une zone et une famille de structures présente sur le "
            "territoire : aucun des professionnels qui travaillent dans la zone et ont répondu "
            "ne déclare de lien avec une structure de cette famille.",
            st["body"],
        )
    )
    by_zone: dict[str, list[str]] = {}
    for w in white:
        by_zone.setdefault(w["zone"], []).append(w["family_label"])
    grid: list[list] = [["Zone", "Familles sans aucun lien déclaré"]]
    grid += [[zone, ", ".join(fams)] for zone, fams in by_zone.items()]
    out.append(table(grid, [4.6 * cm, TEXT_W - 4.6 * cm], st))
    out += _bullets(findings.zone_findings(d), st, 6)
    return out


def quality(d: dict, year: int, st: Styles) -> list[Flowable]:
    """The share of ties said difficult per pair of families, the formal frames by kind."""
    q = d["quality"]
    out: list[Flowable] = [_part_title(QUALITY_TITLE, st)]
    pairs = [p for p in q["pairs"] if p["answers"]]
    if not pairs:
        out.append(
            para(
                "Aucun professionnel n'a dit comment se passe le travail avec ses partenaires.",
                st["body"],
            )  # fmt: skip
        )
    else:
        out.append(
            para(
                "Pour chaque paire de familles de structures, la part des réponses sur la "
                "qualité du lien qui le disent « difficile » ou « à améliorer ». Les paires "
                "aux parts les plus hautes d'abord.",
                st["body"],
            )
        )
        ranked = sorted(
            pairs,
            key=lambda p: (
                -(p["share"] if isinstance(p["share"], float | int) else -1.0),
                p["a_label"],
                p["b_label"],
            ),
        )
        rows: list[list] = [["Familles", "Réponses", "Difficile ou à améliorer", "Part"]]
        for p in ranked[:TABLE_MAX]:
            label = p["a_label"] if p["a"] == p["b"] else f"{p['a_label']} — {p['b_label']}"
            rows.append([label, _count(p["answers"]), _count(p["difficult"]), _share(p["share"])])
        out.append(table(rows, [10.2 * cm, 2 * cm, 2.8 * cm, TEXT_W - 15 * cm], st, {1, 2, 3}))
        out += _cut(ranked, st)
        out += _bullets(findings.quality_findings(d), st, 2)
    out.append(para("Les cadres formels déclarés", st["H3"]))
    out.append(
        para(
            f"{_count(q['formal_declarations'])} déclarations de lien formel (ou « les deux »). "
            "Le cadre indiqué, par type :",
            st["body"],
        )
    )
    rows = [["Cadre", "Déclarations", "Paires de structures"]]
    rows += [[f["label"], _count(f["declarations"]), t.integer(f["pairs"])] for f in q["frames"]]
    out.append(table(rows, [8 * cm, 3.5 * cm, 3.5 * cm], st, {1, 2}))
    return out

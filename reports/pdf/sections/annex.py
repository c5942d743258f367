"""The annex: method, definitions (the French part of docs/metrics.md), limits, participation by structure."""

from __future__ import annotations

import re
from pathlib import Path

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Paragraph

from reports import mapdraw, privacy
from reports.pdf.context import Context
from reports.pdf.flowables import SHORT_MAX, LabelledImage, esc, markup, pairs, para, table
from reports.pdf.fonts import FONT_BOLD
from reports.pdf.markdown import markdown_flowables
from reports.pdf.sections import evolution, reciprocity
from reports.pdf.styles import Styles
from reports.structure import partner_count
from survey import french as t
from survey.vocab import family_of

METRICS_DOC = Path(__file__).resolve().parents[3] / "docs" / "metrics.md"

FALLBACK_DEFINITIONS = (
    ("Structure", "une institution ou une association du répertoire du territoire."),
    ("Partenariat (lien)", "une paire de structures dont l'une au moins cite l'autre."),
    ("Lien réciproque", "lien cité des deux côtés ; calculé seulement quand les deux "
     "structures ont répondu."),
    ("Lien formel", "au moins une déclaration « formel » ou « les deux » sur le lien."),
    ("Lien fragile", "lien porté par un seul professionnel, tous sens confondus."),
    ("Taux de réponse", "répondants / professionnels invités."),
)  # fmt: skip


def section(ctx: Context) -> list[Flowable]:
    """Method, definitions, limits, then participation structure by structure."""
    d, st = ctx.data, ctx.styles
    p = d.figures["participation"]
    out: list[Flowable] = [para("Annexe : méthode, définitions et limites", st["H1"])]
    out.append(para("Méthode", st["H2"]))
    for text in (
        f"Chaque année, les professionnels invités par la coordination du territoire "
        f"répondent à un questionnaire court : avec quels partenaires travaillent-ils, de façon "
        f"formelle ou informelle, à quelle fréquence, et que construisent-ils ensemble autour "
        f"de la personne ? La campagne {d.campaign.year} a reçu "
        f"{privacy.people(p['responded'])} réponses.",
        "Les réponses sont regroupées par structure : une structure A est reliée à une "
        "structure B dès qu'au moins un professionnel de A cite B. Seules les réponses "
        "envoyées comptent (pas les brouillons), et seuls les partenaires confirmés ou "
        "nouveaux (pas ceux marqués « plus de contact »).",
        "La carte est calculée par un placement de forces à graine fixe, repris de la carte "
        "de l'année précédente : les mêmes données donnent toujours la même carte.",
    ):
        out.append(para(text, st["body"]))
    out.append(para("Définitions", st["H2"]))
    md = metrics_french()
    if md:
        out.extend(markdown_flowables(md, st))
    else:
        for term, meaning in FALLBACK_DEFINITIONS:
            out.append(markup(f"<b>{esc(term)}</b> : {esc(meaning)}", st["bullet"]))
    out.append(para("Limites", st["H2"]))
    silent = sum(1 for r in p["structures"] if r["invited"] and not r["responded"])
    limits = [
        f"Non-réponse : {t.percent(p['rate'])} des professionnels invités ont répondu et "
        f"{t.plural(silent, 'structure')} invitée{'s' if silent > 1 else ''} n'ont répondu "
        "pour aucun de leurs professionnels. Les liens de ces structures ne sont connus que "
        "par ce qu'en disent leurs partenaires.",
        "Un lien déclaré décrit ce que les professionnels disent de leurs pratiques, pas un "
        "engagement des institutions.",
        "Les effectifs de moins de trois personnes sont masqués (« < 3 ») et les taux "
        "correspondants ne sont pas donnés.",
        "Le rapport ne contient aucun nom de professionnel ni aucun commentaire libre : ils "
        "restent réservés à la coordination du territoire.",
    ]
    if d.campaign.status != "closed":
        limits.insert(0, "La campagne est encore ouverte : chiffres provisoires.")
    for text in limits:
        out.append(Paragraph(esc(text), st["bullet"], bulletText="•"))
    out += structure_list(ctx) if ctx.large is not None else _participation(ctx)
    out += _full_lists(ctx)
    if ctx.large is not None:
        out += ego_maps(ctx)
    return out


def _participation(ctx: Context) -> list[Flowable]:
    """Participation structure by structure."""
    d, st = ctx.data, ctx.styles
    p = d.figures["participation"]
    out: list[Flowable] = []
    out.append(CondPageBreak(6 * cm))
    # Not kept with the whole table (keepWithNext would move a table longer than what is
    # left of the page to the next one): CondPageBreak leaves it room for its first rows.
    out.append(
        para(
            "Participation par structure",
            ParagraphStyle("H2list", parent=st["H2"], keepWithNext=0),
        )
    )
    rows: list[list] = [["Structure", "Type", "Invités", "Répondants", "Taux", "Partenaires"]]
    degree = {r["id"]: r["degree"] for r in d.figures["centrality"]["structures"]}
    for r in p["structures"]:
        rows.append(
            [
                r["name"],
                _short_type(r["type_label"]),
                privacy.people(r["invited"]),
                privacy.people(r["responded"]),
                privacy.rate(r["responded"], r["invited"]),
                t.integer(degree.get(r["id"], 0)),
            ]
        )
    out.append(
        table(rows, [6 * cm, 3.9 * cm, 1.6 * cm, 2 * cm, 1.5 * cm, 2 * cm], st, {2, 3, 4, 5})
    )
    return out


def structure_list(ctx: Context) -> list[Flowable]:
    """Every structure of a large territory, the map naming only the most connected: its
    family, partners, how many cite it, whether it answered and its participation."""
    d, st = ctx.data, ctx.styles
    g = d.graph
    p = d.figures["participation"]
    centrality = {r["id"]: r for r in d.figures["centrality"]["structures"]}
    out: list[Flowable] = [
        CondPageBreak(6 * cm),
        para(
            "La liste des structures",
            # Named "H2": listed in the contents; not kept with the long table that follows.
            ParagraphStyle("H2", parent=st["H2"], keepWithNext=0),
        ),
        para(
            "Toutes les structures du territoire, dans l'ordre alphabétique : la carte de "
            "l'ossature ne nomme que les plus reliées.",
            st["body"],
        ),
    ]
    rows: list[list] = [
        ["Structure", "Famille", "Partenaires", "Citée par", "A répondu", "Répondants", "Taux"]
    ]
    for r in sorted(p["structures"], key=lambda r: str(r["name"]).lower()):
        n = r["id"]
        c = centrality.get(n, {})
        family = family_of(g.nodes[n].get("type")).label if n in g else ""
        answered = bool(g.nodes[n].get("answered")) if n in g else False
        rows.append(
            [
                r["name"],
                family,
                t.integer(c.get("degree", 0)),
                t.integer(c.get("in_degree", 0)),
                "oui" if answered else "non",
                privacy.people(r["responded"]),
                privacy.rate(r["responded"], r["invited"]),
            ]
        )
    widths = [5.0 * cm, 3.7 * cm, 1.9 * cm, 1.6 * cm, 1.6 * cm, 1.9 * cm, 1.3 * cm]
    out.append(table(rows, widths, st, {2, 3, 5, 6}))
    return out


def ego_maps(ctx: Context) -> list[Flowable]:
    """« Les dix structures les plus reliées et leurs partenaires »: one ego map each."""
    lm, st, g = ctx.large, ctx.styles, ctx.data.graph
    if lm is None or not lm.egos:
        return []
    out: list[Flowable] = [
        CondPageBreak(10 * cm),
        para("Les dix structures les plus reliées et leurs partenaires", st["H2"]),
        para(
            "Pour chacune, la structure au centre et ses partenaires en cercle, regroupés par "
            "famille (mêmes formes et mêmes couleurs que sur la carte) ; un trait foncé la "
            "relie à chaque partenaire, un trait clair relie deux partenaires quand ce lien "
            "fait partie de l'ossature. Les partenaires les plus reliés sont nommés.",
            st["body"],
        ),
    ]
    for rank, (n, drawing) in enumerate(lm.egos, start=1):
        name = str(g.nodes[n].get("name", n))
        partners = partner_count(g, n)
        shown = len(drawing.named)
        named = "tous nommés" if shown >= partners else f"les {t.integer(shown)} plus reliés nommés"
        caption = f"{t.plural(partners, 'partenaire')} ; {named}."
        out.append(
            KeepTogether(
                [
                    para(f"{rank}. {name}", st["H3"]),
                    para(caption, st["note"]),
                    LabelledImage(drawing.chart, drawing.overlay, FONT_BOLD, mapdraw.NAME_SIZE),
                ]
            )
        )
    return out


def _list_title(st: Styles) -> ParagraphStyle:
    """H3 without keep-with-next, for the title of a long table."""
    return ParagraphStyle("H3list", parent=st["H3"], keepWithNext=0)


# Rows of one list printed in the annex (about four pages side by side): a large territory
# has ~10,000 one-sided links, 200 pages nobody reads on paper and a minute to typeset; the
# graph exports (CSV, linked from the sentence) hold every row.
ANNEX_LIST_MAX = 300


def _full_lists(ctx: Context) -> list[Flowable]:
    """The lists of pairs that the body cut to their first rows, here in full up to
    ANNEX_LIST_MAX rows each, the rest in the exports."""
    d, st = ctx.data, ctx.styles
    lists: list[tuple[str, list[tuple[str, str]], tuple[str, str]]] = [
        ("Liens cités d'un seul côté", reciprocity.one_sided_rows(
            d.figures["reciprocity"]["one_sided"]), reciprocity.ONE_SIDED_HEADS),
    ]  # fmt: skip
    if d.comparison and d.previous:
        for key, title in evolution.PAIR_LISTS:
            rows = evolution.pair_rows(d.comparison[key])
            lists.append((f"{title} depuis {d.previous.year}", rows, ("Structure", "Partenaire")))
    out: list[Flowable] = []
    for title, rows, heads in lists:
        if len(rows) <= SHORT_MAX:
            continue
        if not out:
            out.append(CondPageBreak(6 * cm))
            out.append(para("Listes complètes", st["H2"]))
        # A long table may start low on a page and go on over the next: its title needs room
        # for a few rows, not for the whole table (keepWithNext would move it all).
        out.append(CondPageBreak(3 * cm))
        out.append(para(f"{title} ({t.integer(len(rows))})", _list_title(st)))
        if len(rows) > ANNEX_LIST_MAX:
            out.append(
                para(
                    f"Les {t.integer(ANNEX_LIST_MAX)} premiers ; la liste entière est dans "
                    "l'export des liens de la campagne (tableur CSV, page « Exports » de "
                    "l'espace du territoire).",
                    st["body"],
                )
            )
        out += pairs(rows[:ANNEX_LIST_MAX], heads, st, side_by_side=True)
    return out


def metrics_french(path: Path = METRICS_DOC) -> str | None:
    """The French part of docs/metrics.md (the same definitions as the documentation) as
    Markdown, or None when the file is missing.

    docs/metrics.md gives each figure a heading « English — Français [`function`] » and two
    paragraphs, « **FR.** … » and « **EN.** … »: the French heading and the FR paragraph are
    kept. A file written the other way, with a « Français » section, gives that section."""
    if not path.exists():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    if any(line.startswith("**FR.**") for line in lines):
        return _fr_paragraphs(lines)
    heading = re.compile(r"^(#{1,3})\s+(.*)$")
    for i, line in enumerate(lines):
        m = heading.match(line)
        if m and re.search(r"fran[cç]ais|\(fr\)", m.group(2), re.I):
            level, out = len(m.group(1)), []
            for rest in lines[i + 1 :]:
                n = heading.match(rest)
                if n and len(n.group(1)) <= level:
                    break
                out.append(rest)
            return "\n".join(out).strip() or None
    return None


def _fr_paragraphs(lines: list[str]) -> str:
    """Each figure's French title as a level-3 heading, followed by its FR paragraph."""
    out: list[str] = []
    keep = False
    for line in lines:
        if line.startswith("## "):
            title = line[3:].split(" — ", 1)[-1]
            title = re.sub(r"\s*[\[(]`[^`]*`[\])]\s*$", "", title).strip()
            out += ["", f"### {title[:1].upper()}{title[1:]}", ""]
            keep = False
        elif line.startswith("**FR.**"):
            keep = True
            out.append(line.removeprefix("**FR.**").strip())
        elif line.startswith("**EN.**") or line.startswith("#") or not line.strip():
            if keep and not line.strip():
                out.append("")
            keep = False
        elif keep:
            out.append(line)
    return "\n".join(out).strip()


def _short_type(label: str | None) -> str:
    """A long type label by its abbreviation in brackets, so that the column stays narrow."""
    label = label or "Autre"
    m = re.search(r"\(([^)]+)\)$", label)
    return m.group(1) if m and len(label) > 30 else label

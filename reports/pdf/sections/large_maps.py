"""The map part of a large territory's report: the family map, the zone map and the
backbone of the structure map, each with its key in words; the tables beside the group maps
(links between groups as a grey heat map, the ties' formal and fragile shares)."""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.units import cm
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

from reports import groupdraw
from reports.groups import GroupMap, GroupTie
from reports.pdf.context import Context
from reports.pdf.flowables import FitImage, esc, more, para, table
from reports.pdf.large import GroupPart
from reports.pdf.styles import INK, RULE, TEXT_W, Styles
from survey import french as t

FRAGILE_FROM = 20  # links: a tie's fragile share is compared only from this size on
TIES_LISTED = 15  # rows of the table of ties under a group map

# Per level: the group in the singular and plural, and « de la famille » / « de la zone ».
WORDS = {
    "famille": ("famille", "familles", "de la famille"),
    "zone": ("zone", "zones", "de la zone"),
}


def section(ctx: Context) -> list[Flowable]:
    """The family map, the zone map when there are zones, then the backbone."""
    lm = ctx.large
    if lm is None:
        return []
    st = ctx.styles
    out = group_map(
        lm.family,
        "La carte par famille de structures",
        "Les structures sont regroupées par famille (caisses, communes et CCAS, Département "
        "et État, emploi et insertion…) : un cercle par famille, un trait par paire de "
        "familles qui travaillent ensemble. Sur un grand territoire, c'est la carte qui se "
        "lit d'un coup d'œil ; la carte de toutes les structures vient ensuite.",
        st,
    )
    if lm.zone is not None:
        out += group_map(
            lm.zone,
            "La carte par zone",
            "Les mêmes liens, regroupés par zone du territoire : un cercle par zone, placé "
            "près des zones avec lesquelles elle a le plus de liens.",
            st,
        )
    out += backbone_map(ctx)
    return out


def group_map(part: GroupPart, title: str, intro: str, st: Styles) -> list[Flowable]:
    """A group map with its computed sentences, its key in words, the heat map table of
    links between groups and the table of ties."""
    gm = part.gm
    one, many, _ = WORDS.get(gm.level, WORDS["famille"])
    above: list[Flowable] = [para(title, st["H1"]), para(intro, st["body"])]
    above += [para(s, st["body"]) for s in sentences(gm)]
    below = [para(s, st["note"]) for s in groupdraw.key_sentences()]
    out: list[Flowable] = [FitImage(part.drawing.chart, above, below)]
    out.append(para(f"Les liens entre {many}, en nombre", st["H3"]))
    out.append(heat_table(gm, st))
    out.append(
        para(
            f"Chaque case donne le nombre de liens entre une structure de la {one} de la "
            f"ligne et une structure de la {one} de la colonne ; sur la diagonale, les liens "
            f"entre structures de la même {one}. Plus la case est foncée, plus il y a de liens.",
            st["note"],
        )
    )
    out += ties_table(gm, st)
    return out


def _pair_label(gm: GroupMap, tie: GroupTie) -> str:
    a, b = gm.group(tie.a), gm.group(tie.b)
    name_a = a.label if a else tie.a
    name_b = b.label if b else tie.b
    return f"à l'intérieur de « {name_a} »" if tie.a == tie.b else f"« {name_a} » et « {name_b} »"


def sentences(gm: GroupMap) -> list[str]:
    """Two or three sentences computed from the map: the heaviest tie between two groups,
    the group with most links inside, the tie with the highest share of fragile links among
    those of FRAGILE_FROM links or more."""
    one, many, of_the = WORDS.get(gm.level, WORDS["famille"])
    out = []
    between = [x for x in gm.ties if x.a != x.b and x.links > 0]
    if between:
        top = max(between, key=lambda x: x.links)  # the first one among equals (map order)
        formal = top.share_formal or 0.0
        out.append(
            f"Le lien le plus dense entre deux {many} relie {_pair_label(gm, top)} : "
            f"{t.plural(top.links, 'lien')} entre leurs structures, dont {t.percent(formal)} "
            "s'appuient sur un cadre formel."
        )
    inside = [gr for gr in gm.groups if gr.links_inside > 0]
    if inside:
        best = max(inside, key=lambda gr: gr.links_inside)
        out.append(
            f"C'est à l'intérieur {of_the} « {best.label} » que les structures sont le plus "
            f"liées entre elles : {t.plural(best.links_inside, 'lien')}."
        )
    big = [x for x in gm.ties if x.links >= FRAGILE_FROM]
    if big:
        frail = max(big, key=lambda x: x.fragile / x.links)
        out.append(
            f"Parmi les liens entre {many} (ou à l'intérieur d'une {one}) qui en comptent "
            f"au moins {FRAGILE_FROM}, les plus fragiles sont {_pair_label(gm, frail)} : "
            f"{t.percent(frail.fragile / frail.links)} ne tiennent qu'à une seule personne "
            f"(sur {t.plural(frail.links, 'lien')})."
        )
    return out


def _shade(value: int, top: int) -> colors.Color:
    """White for no link, down to a dark grey for the largest count."""
    level = 1.0 - 0.78 * (value / top if top else 0.0)
    return colors.Color(level, level, level)


def heat_table(gm: GroupMap, st: Styles) -> Table:
    """Rows and columns = the groups in the map's order (numbered, the numbers head the
    columns), each cell the links between the two groups, shaded grey by value."""
    m = gm.matrix()
    n = len(gm.groups)
    top = max((v for row in m for v in row), default=0)
    name_w = 5.2 * cm if n <= 10 else 4.2 * cm
    cell_w = min(1.3 * cm, (TEXT_W - name_w - 0.6 * cm) / max(1, n))
    size = 7.5 if n <= 10 else 6.2
    head = [""] + [str(j) for j in range(1, n + 1)]
    rows: list[list] = [head]
    for i, gr in enumerate(gm.groups, start=1):
        rows.append([f"{i}. {gr.label}"] + [t.integer(v) for v in m[i - 1]])
    cells = []
    for r, row in enumerate(rows):
        out = []
        for c, text in enumerate(row):
            style = st["cell"] if c == 0 else st["cellnum"]
            if c and r:
                dark = top and m[r - 1][c - 1] / top > 0.55
                colour = "white" if dark else "black"
                out.append(Paragraph(f'<font size="{size}" color="{colour}">{esc(text)}</font>',
                                     style))  # fmt: skip
            else:
                bold = f"<b>{esc(text)}</b>" if r == 0 else esc(text)
                out.append(Paragraph(f'<font size="{size}">{bold}</font>', style))
        cells.append(out)
    grid = Table(cells, colWidths=[name_w] + [cell_w] * n, hAlign="LEFT", repeatRows=1)
    commands = [
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 2 if n <= 10 else 1),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2 if n <= 10 else 1),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
        ("GRID", (1, 1), (-1, -1), 0.25, RULE),
    ]
    for i in range(n):
        for j in range(n):
            commands.append(("BACKGROUND", (j + 1, i + 1), (j + 1, i + 1), _shade(m[i][j], top)))
    grid.setStyle(TableStyle(commands))
    return grid


def ties_table(gm: GroupMap, st: Styles) -> list[Flowable]:
    """The heaviest ties with their formal and fragile shares (the map draws the formal
    share as solid or dashed; the fragile share is only here)."""
    one, many, _ = WORDS.get(gm.level, WORDS["famille"])
    ties = [x for x in gm.ties if x.links > 0]
    if not ties:
        return []
    rows: list[list] = [
        [f"Entre {many}", "Liens", "Formels", "Les liens fragiles (portés par une seule personne)"]
    ]
    for x in ties[:TIES_LISTED]:
        a, b = gm.group(x.a), gm.group(x.b)
        name_a, name_b = (a.label if a else x.a), (b.label if b else x.b)
        pair = f"{name_a} (à l'intérieur)" if x.a == x.b else f"{name_a} — {name_b}"
        rows.append(
            [
                pair,
                t.integer(x.links),
                t.percent(x.share_formal or 0.0),
                t.percent(x.share_fragile or 0.0),
            ]
        )
    out: list[Flowable] = [
        para(f"Les liens les plus nombreux, {one} par {one}", st["H3"]),
        table(rows, [9.2 * cm, 1.8 * cm, 2 * cm, 4 * cm], st, {1, 2, 3}),
    ]
    if len(ties) > TIES_LISTED:
        out.append(para(more(len(ties), TIES_LISTED), st["note"]))
    return out


def backbone_map(ctx: Context) -> list[Flowable]:
    """The structure map with the backbone's links only, the most connected named."""
    lm, st = ctx.large, ctx.styles
    assert lm is not None
    drawing = lm.backbone_map
    g = ctx.data.graph
    others = g.number_of_nodes() - len(drawing.named)
    above: list[Flowable] = [
        para("L'ossature des partenariats", st["H1"]),
        para(lm.backbone.sentence(), st["body"]),
        para(
            f"Chaque forme est une structure ; plus elle est grande, plus la structure a de "
            f"partenaires. Les {t.plural(len(drawing.named), 'structure')} les plus reliées "
            f"sont nommées sur la carte ; les {t.integer(others)} autres figurent dans la "
            "liste des structures de l'annexe. Les liens formels se lisent sur la carte par "
            "famille (traits pleins).",
            st["body"],
        ),
    ]
    return [FitImage(drawing.chart, above, [])]

"""« La carte des partenariats »: the map, the formal links' map, the most connected structures."""

from __future__ import annotations

from reportlab.lib.units import cm
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

from reports.pdf.context import Context
from reports.pdf.flowables import FitImage, esc, para, table
from reports.pdf.sections import large_maps
from reports.pdf.styles import Styles
from survey import french as t


def section(ctx: Context) -> list[Flowable]:
    """The two maps with their key, then the most connected structures; on a large
    territory, the family map, the zone map and the backbone instead (large_maps)."""
    d, st = ctx.data, ctx.styles
    if ctx.large is not None:
        return large_maps.section(ctx) + most_connected(ctx)
    full, formal = ctx.full_map, ctx.formal_map
    assert formal is not None  # drawn for every territory below the large scale
    g = d.graph
    intro = para(
        "Chaque forme est une structure, chaque trait un partenariat déclaré. Plus une forme "
        "est grande, plus la structure a de partenaires. Les structures placées près l'une "
        "de l'autre travaillent avec les mêmes partenaires. La carte est la même que "
        "celle de l'application, et garde d'une année à l'autre la place de chaque "
        "structure.",
        st["body"],
    )
    below: list[Flowable] = [
        para("Les structures numérotées sur la carte (1 = la plus reliée)", st["H3"]),
        _key_table(full.key, st),
    ]
    if g.number_of_nodes() > len(full.key):
        below.append(
            para(
                f"Les {t.integer(g.number_of_nodes() - len(full.key))} autres structures "
                "ont moins de partenaires ; elles figurent dans les tableaux de l'annexe.",
                st["note"],
            )
        )
    # The map, its title and its key on one page: the map shrinks a little rather than
    # sending the key to the next page.
    out: list[Flowable] = [
        FitImage(full.chart, [para("La carte des partenariats", st["H1"]), intro], below)
    ]
    fs = d.figures["formal_share"]
    formal_intro = para(
        f"Sur {t.plural(fs['links'], 'partenariat')}, {t.integer(fs['formal_links'])} "
        f"({t.percent(fs['share'])}) s'appuient sur un cadre formel (convention, commission "
        "ou instance, protocole ou charte, réunion planifiée) déclaré par au moins un des "
        "deux côtés. Mêmes places et mêmes numéros que sur la carte précédente.",
        st["body"],
    )
    out.append(
        FitImage(formal.chart, [para("Les liens formels seulement", st["H2"]), formal_intro], [])
    )
    return out + most_connected(ctx)


def most_connected(ctx: Context) -> list[Flowable]:
    """The table of the most connected structures, with their rank as brokers."""
    d, st = ctx.data, ctx.styles
    g = d.graph
    c = d.figures["centrality"]
    out: list[Flowable] = [para("Les structures les plus reliées", st["H2"])]
    ranks = {r["id"]: i for i, r in enumerate(c["brokers"], start=1)}
    rows: list[list] = [["Structure", "Partenaires", "Citée par", "Cite", "Rôle d'intermédiaire"]]
    for r in c["most_connected"]:
        rows.append(
            [
                r["name"],
                t.integer(r["degree"]),
                t.integer(r["in_degree"]),
                t.integer(r["out_degree"]) if g.nodes[r["id"]].get("answered") else "n'a pas répondu",
                f"{ranks[r['id']]}e" if r["id"] in ranks and ranks[r["id"]] > 1
                else ("1er" if ranks.get(r["id"]) == 1 else "—"),
            ]
        )  # fmt: skip
    out.append(table(rows, [7.2 * cm, 2.2 * cm, 2.1 * cm, 2.6 * cm, 2.9 * cm], st, {1, 2, 3, 4}))
    out.append(
        para(
            "« Partenaires » : structures distinctes liées, dans un sens ou dans l'autre. "
            "« Rôle d'intermédiaire » : rang de la structure parmi celles qui font le pont "
            "entre des partenaires qui, sans elle, seraient éloignés les uns des autres.",
            st["note"],
        )
    )
    return out


def _key_table(key: list[tuple[int, str]], st: Styles) -> Table:
    """The numbered structures of the map in three columns, read down each column."""
    cols = 3
    per = -(-len(key) // cols)
    rows = []
    for i in range(per):
        row = []
        for c in range(cols):
            k = c * per + i
            if k < len(key):
                num, name = key[k]
                row += [Paragraph(f"<b>{num}</b>", st["cellnum"]), Paragraph(esc(name), st["cell"])]
            else:
                row += ["", ""]
        rows.append(row)
    grid = Table(rows, colWidths=[0.7 * cm, 4.95 * cm] * cols, hAlign="LEFT")
    grid.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return grid

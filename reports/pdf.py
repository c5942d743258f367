"""The annual report for the département: a French A4 PDF built with ReportLab (platypus).

    pdf_bytes = build_report(session, campaign, previous=None, progress=None)

Only structure-level figures go in (reports.graph, reports.figures, reports.compare and the
aggregated obstacles): no professional's name, e-mail or free comment is ever read. Counts
of professionals under 3 are printed « < 3 » (reports.privacy). The same data give the same
PDF: seeded layout and figures, ReportLab's invariant mode, a creation date taken from the
campaign (its closing date once closed, the day of generation while it is open).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import matplotlib
import networkx as nx
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.lib.utils import TimeStamp
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    Image,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.tableofcontents import TableOfContents
from sqlmodel import Session, col, select

from reports import cache, charts, compare, figures, findings, mapdraw, privacy, svg
from reports import typography as t
from survey import vocab
from survey.models import Campaign, Territory

Progress = Callable[[str], None]

# Binary streams instead of ASCII85: ReportLab's pure-Python ASCII85 encoder took seconds on
# the maps, and binary streams are a quarter smaller.
rl_config.useA85 = 0

# The steps reported to a progress bar, in order.
STEPS = (
    "Lecture des réponses",
    "Calcul des chiffres",
    "Comparaison avec l'année précédente",
    "Dessin des cartes",
    "Dessin des graphiques",
    "Mise en page",
)

METRICS_DOC = Path(__file__).resolve().parent.parent / "docs" / "metrics.md"
FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
FONT_ITALIC = "DejaVuSans-Oblique"
INK = colors.HexColor(charts.INK)
RULE = colors.HexColor("#b9c7d4")
SHADE = colors.HexColor("#eef2f5")
PAGE_W, PAGE_H = A4
MARGIN = 2 * cm
TEXT_W = PAGE_W - 2 * MARGIN
LIST_MAX = 25  # rows of a list printed in full before « et N autres »


# --- fonts and styles ----------------------------------------------------------------------


def register_fonts() -> None:
    """DejaVu Sans from matplotlib's own files: every accent, « », and the narrow no-break
    space render without any system font."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    faces = {
        FONT: "DejaVuSans.ttf",
        FONT_BOLD: "DejaVuSans-Bold.ttf",
        FONT_ITALIC: "DejaVuSans-Oblique.ttf",
        "DejaVuSans-BoldOblique": "DejaVuSans-BoldOblique.ttf",
    }
    for name, file in faces.items():
        pdfmetrics.registerFont(TTFont(name, str(ttf / file)))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC, boldItalic="DejaVuSans-BoldOblique"
    )


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=14.5, spaceAfter=6)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8.5, leading=11.5, spaceAfter=3),
        "note": ParagraphStyle(
            "note", parent=body, fontSize=8.5, leading=11.5, textColor=colors.HexColor("#444444")
        ),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5, spaceAfter=0),
        "cellnum": ParagraphStyle(
            "cellnum", parent=body, fontSize=8.5, leading=10.5, spaceAfter=0, alignment=2
        ),
        "head": ParagraphStyle(
            "head", parent=body, fontName=FONT_BOLD, fontSize=8, leading=10, spaceAfter=0
        ),
        "headnum": ParagraphStyle(
            "headnum", parent=body, fontName=FONT_BOLD, fontSize=8, leading=10, alignment=2
        ),
        "H1": ParagraphStyle(
            "H1",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=17,
            leading=21,
            textColor=INK,
            spaceBefore=0,
            spaceAfter=10,
        ),  # fmt: skip
        "H2": ParagraphStyle(
            "H2",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=12,
            leading=15,
            textColor=INK,
            spaceBefore=10,
            spaceAfter=5,
        ),  # fmt: skip
        "H3": ParagraphStyle(
            "H3",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=10,
            leading=13,
            spaceBefore=6,
            spaceAfter=3,
        ),  # fmt: skip
        "bullet": ParagraphStyle("bullet", parent=body, leftIndent=14, bulletIndent=3),
        "finding": ParagraphStyle(
            "finding",
            parent=body,
            fontSize=11,
            leading=15.5,
            leftIndent=22,
            bulletIndent=2,
            spaceAfter=9,
            bulletFontName=FONT_BOLD,
            bulletFontSize=13,
            bulletColor=INK,
        ),  # fmt: skip
        "cover_title": ParagraphStyle(
            "cover_title",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=30,
            leading=36,
            textColor=INK,
            alignment=TA_CENTER,
            spaceAfter=14,
        ),  # fmt: skip
        "cover_sub": ParagraphStyle(
            "cover_sub", parent=body, fontSize=15, leading=21, alignment=TA_CENTER, spaceAfter=8
        ),
        "cover_small": ParagraphStyle(
            "cover_small", parent=body, fontSize=10.5, leading=15, alignment=TA_CENTER
        ),
        "toc0": ParagraphStyle("toc0", parent=body, fontSize=11, leading=17, leftIndent=0),
        "toc1": ParagraphStyle(
            "toc1", parent=body, fontSize=9.5, leading=13, leftIndent=16, spaceAfter=0
        ),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text: French spaces added, then XML-escaped."""
    return Paragraph(escape(t.text(text)), style)


def _m(markup: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of trusted markup (<b>, <i>) whose variable parts were escaped by `_e`."""
    return Paragraph(markup, style)


def _e(text: str) -> str:
    return escape(t.text(text))


# --- the data ------------------------------------------------------------------------------


@dataclass
class ReportData:
    territory: Territory
    campaign: Campaign
    previous: Campaign | None
    graph: nx.DiGraph
    figures: dict
    obstacles: dict
    comparison: dict | None
    findings: list[findings.Finding]
    positions: dict
    issued_on: date


def previous_campaign(session: Session, campaign: Campaign) -> Campaign | None:
    """The latest earlier campaign of the same territory that was opened (not a draft)."""
    return session.exec(
        select(Campaign)
        .where(
            Campaign.territory_id == campaign.territory_id,
            Campaign.year < campaign.year,
            Campaign.status != "draft",
        )
        .order_by(col(Campaign.year).desc())
    ).first()


def issue_date(campaign: Campaign, today: date | None = None) -> date:
    """The report's date: the closing date of a closed campaign (reproducible), else today."""
    if campaign.status == "closed" and campaign.closes_on:
        return campaign.closes_on
    return today or datetime.now(UTC).date()


def collect(
    session: Session,
    campaign: Campaign,
    previous: Campaign | None = None,
    progress: Progress | None = None,
    today: date | None = None,
) -> ReportData:
    """Everything the report prints, computed once."""
    step = progress or (lambda _: None)
    step(STEPS[0])
    territory = session.get(Territory, campaign.territory_id)
    # Built graphs and figures come from reports.cache (shared with the web pages, read only).
    current = cache.entry(session, campaign)
    g = current.graph
    before = cache.graph(session, previous) if previous else None
    step(STEPS[1])
    # Exact betweenness up to a large département; sampled beyond (seeded: reproducible).
    k = 300 if g.number_of_nodes() > 600 else None
    all_figures = current.all_figures(betweenness_k=k)
    obstacles = figures.obstacles(session, campaign)
    step(STEPS[2])
    comparison = None
    if previous is not None and before is not None:
        comparison = compare.compare_graphs(
            before,
            g,
            compare.carrier_departures(session, previous, campaign),
            figures_after=all_figures,
        )
    facts = findings.Facts(
        g, all_figures, obstacles, comparison, previous.year if previous else None
    )
    return ReportData(
        territory=territory,
        campaign=campaign,
        previous=previous,
        graph=g,
        figures=all_figures,
        obstacles=obstacles,
        comparison=comparison,
        findings=findings.top_findings(facts),
        positions=mapdraw.map_positions(session, campaign, g, _earlier_graphs(session, campaign)),
        issued_on=issue_date(campaign, today),
    )


def _earlier_graphs(session: Session, campaign: Campaign) -> dict[int, nx.DiGraph]:
    """The cached graphs of the campaigns whose layouts the map starts from (the same
    campaigns as mapdraw.map_positions), so none is built again when already cached."""
    return {c.id: cache.graph(session, c) for c in svg.earlier_campaigns(session, campaign)}


# --- document machinery --------------------------------------------------------------------


class _Doc(BaseDocTemplate):
    """Headings become table-of-contents entries and PDF bookmarks."""

    def afterFlowable(self, flowable: Flowable) -> None:
        if isinstance(flowable, Paragraph) and flowable.style.name in ("H1", "H2"):
            level = 0 if flowable.style.name == "H1" else 1
            text = flowable.getPlainText()
            key = f"h{self.seq.nextf('heading')}"
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(text, key, level=level, closed=level > 0)
            self.notify("TOCEntry", (level, text, self.page, key))


def _canvas_maker(stamp: date):
    """A canvas whose PDF dates are `stamp` (midnight UTC) instead of now."""
    seconds = datetime(stamp.year, stamp.month, stamp.day, tzinfo=UTC).timestamp()

    class _Canvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            fixed = TimeStamp(invariant=1)
            fixed.t = seconds
            fixed.lt = datetime.fromtimestamp(seconds, UTC).timetuple()
            fixed.YMDhms = tuple(fixed.lt)[:6]
            self._doc._timeStamp = fixed

    return _Canvas


def _footer(data: ReportData):
    label = t.text(
        f"Carte partenariale — {data.territory.code} {data.territory.name} — "
        f"rapport {data.campaign.year}"
    )

    def draw(canvas: Canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.setStrokeColor(RULE)
        canvas.line(MARGIN, 1.45 * cm, PAGE_W - MARGIN, 1.45 * cm)
        canvas.drawString(MARGIN, 1.05 * cm, label)
        canvas.drawRightString(PAGE_W - MARGIN, 1.05 * cm, f"page {doc.page}")
        canvas.restoreState()

    return draw


def _table(
    rows: list[list],
    widths: list[float],
    st: dict[str, ParagraphStyle],
    numeric: set[int] = frozenset(),
    header_rows: int = 1,
) -> Table:
    """A striped table; cells are strings (escaped here) or flowables; `numeric` columns
    are right-aligned."""
    body = []
    for i, row in enumerate(rows):
        is_head = i < header_rows
        cells = []
        for j, cell in enumerate(row):
            if isinstance(cell, Flowable):
                cells.append(cell)
                continue
            style = (
                ("headnum" if j in numeric else "head")
                if is_head
                else ("cellnum" if j in numeric else "cell")
            )
            cells.append(Paragraph(_e(str(cell)), st[style]))
        body.append(cells)
    table = Table(body, colWidths=widths, repeatRows=header_rows, hAlign="LEFT")
    commands = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, header_rows - 1), (-1, header_rows - 1), 0.8, INK),
        ("LINEBELOW", (0, header_rows), (-1, -1), 0.25, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    commands += [
        ("BACKGROUND", (0, i), (-1, i), SHADE) for i in range(header_rows + 1, len(rows), 2)
    ]
    table.setStyle(TableStyle(commands))
    return table


def _image(chart: charts.Chart) -> Image:
    scale = min(1.0, TEXT_W / chart.width)
    return Image(io.BytesIO(chart.image), width=chart.width * scale, height=chart.height * scale)


def _more(total: int, shown: int) -> str:
    return f"… et {t.integer(total - shown)} autres." if total > shown else ""


# --- sections ------------------------------------------------------------------------------


def _cover(d: ReportData, st) -> list[Flowable]:
    c = d.campaign
    period = ""
    if c.opens_on and c.closes_on:
        period = f"Questionnaire ouvert du {t.date_fr(c.opens_on)} au {t.date_fr(c.closes_on)}"
    state = (
        "Campagne close."
        if c.status == "closed"
        else "Campagne encore ouverte : chiffres provisoires à la date du rapport."
    )
    compared = (
        f"Comparaison avec la campagne {d.previous.year}."
        if d.previous
        else "Première campagne : pas de comparaison."
    )
    return [
        Spacer(1, 5 * cm),
        _p("Carte partenariale", st["cover_title"]),
        _p(f"{d.territory.name} ({d.territory.code})", st["cover_sub"]),
        _p(f"Rapport annuel {c.year}", st["cover_sub"]),
        Spacer(1, 1.2 * cm),
        _p(
            "Avec qui les services sociaux du département travaillent-ils, "
            "de façon formelle ou informelle, et que construisent-ils ensemble "
            "autour des personnes ?",
            st["cover_small"],
        ),  # fmt: skip
        Spacer(1, 2.5 * cm),
        _p(period, st["cover_small"]),
        _p(state, st["cover_small"]),
        _p(compared, st["cover_small"]),
        _p(f"Rapport établi le {t.date_fr(d.issued_on)}", st["cover_small"]),
        Spacer(1, 2 * cm),
        _p(
            "Ce document décrit des structures et leurs liens. Il ne nomme aucun "
            "professionnel ; les effectifs de moins de trois personnes sont notés « < 3 ».",
            st["note"],
        ),  # fmt: skip
    ]


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


def _headline_value(key: str, value, share: bool) -> str:
    return t.percent(value) if share else t.number(value)


def _summary(d: ReportData, st) -> list[Flowable]:
    h = d.figures["headline"]
    p = d.figures["participation"]
    s = d.figures["size"]
    out: list[Flowable] = [_p("L'essentiel", st["H1"])]
    out.append(
        _p(
            f"En {d.campaign.year}, {privacy.people(p['responded'])} professionnels sur "
            f"{privacy.people(p['invited'])} invités ont décrit leurs partenariats. "
            f"Le réseau compte {t.plural(s['structures'], 'structure')} et "
            f"{t.plural(s['links'], 'partenariat')}.",
            st["body"],
        )
    )
    if d.campaign.status != "closed":
        out.append(
            _p(
                f"La campagne {d.campaign.year} est encore ouverte : ces chiffres sont "
                "provisoires et changeront avec les réponses à venir.",
                st["note"],
            )
        )
    out.append(_p("Les cinq chiffres clés", st["H2"]))
    prev_year = d.previous.year if d.previous else None
    head = ["Indicateur", str(d.campaign.year)]
    if prev_year:
        head += [str(prev_year), "Évolution"]
    rows: list[list] = [head]
    changes = d.comparison["figures"] if d.comparison else {}
    for key, label, meaning, share in HEADLINE:
        cell = _m(f"<b>{_e(label)}</b><br/><font size=7.5 color='#555555'>{_e(meaning)}</font>",
                  st["cell"])  # fmt: skip
        value = _m(f"<b>{_e(_headline_value(key, h[key], share))}</b>", st["cellnum"])
        row = [cell, value]
        if prev_year:
            c = changes.get(key, {})
            row.append(_headline_value(key, c.get("before"), share))
            row.append(t.points(c.get("change")) if share else t.signed(c.get("change")))
        rows.append(row)
    widths = [9.6 * cm, 2.4 * cm, 2.4 * cm, 2.6 * cm] if prev_year else [12 * cm, 5 * cm]
    out.append(_table(rows, widths, st, numeric={1, 2, 3}))
    if prev_year:
        out.append(_p("« pts » : points de pourcentage (de 40 % à 45 %, +5 pts).", st["note"]))
    out.append(Spacer(1, 0.4 * cm))
    out.append(_p("Trois constats", st["H2"]))
    for i, x in enumerate(d.findings, start=1):
        out.append(Paragraph(_e(x.sentence), st["finding"], bulletText=f"{i}."))
    if not d.findings:
        out.append(_p("Pas assez de réponses pour dégager des constats.", st["body"]))
    out.append(
        _p(
            "Les pages suivantes détaillent chaque point ; l'annexe explique la méthode, "
            "les définitions et les limites de l'enquête.",
            st["note"],
        )
    )
    return out


def _participation(d: ReportData, st) -> list[Flowable]:
    p = d.figures["participation"]
    out: list[Flowable] = [_p("Qui a répondu", st["H1"])]
    silent = [r for r in p["structures"] if r["invited"] and not r["responded"]]
    uninvited = [r for r in p["structures"] if not r["invited"]]
    out.append(
        _p(
            f"{privacy.people(p['invited'])} professionnels de "
            f"{t.plural(sum(1 for r in p['structures'] if r['invited']), 'structure')} ont été "
            f"invités ; {privacy.people(p['responded'])} ont envoyé leurs réponses "
            f"({t.percent(p['rate'])}). {t.integer(p['structures_answered'])} structures sur "
            f"{t.integer(p['structures_total'])} ont répondu pour au moins un de leurs "
            "professionnels.",
            st["body"],
        )
    )
    out.append(_p("Participation par type de structure", st["H2"]))
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
        _table(rows, [6.4 * cm, 2 * cm, 2.4 * cm, 2 * cm, 2.2 * cm, 2 * cm], st, {1, 2, 3, 4, 5})
    )
    out.append(
        _p(
            "« < 3 » : moins de trois personnes, chiffre masqué pour que personne ne puisse "
            "être reconnu ; le taux correspondant n'est pas donné (« — »).",
            st["note"],
        )
    )
    out.append(_p("Ce que cela veut dire pour la lecture", st["H2"]))
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
        out.append(Paragraph(_e(text), st["bullet"], bulletText="•"))
    if silent:
        out.append(_p("Structures invitées sans aucune réponse", st["H3"]))
        names = ", ".join(r["name"] for r in silent)
        out.append(_p(names + ".", st["small"]))
    if uninvited:
        out.append(_p("Structures citées mais sans professionnel invité", st["H3"]))
        out.append(_p(", ".join(r["name"] for r in uninvited) + ".", st["small"]))
    return out


def _map_key_table(key: list[tuple[int, str]], st) -> Table:
    cols = 3
    per = -(-len(key) // cols)
    rows = []
    for i in range(per):
        row = []
        for c in range(cols):
            k = c * per + i
            if k < len(key):
                num, name = key[k]
                row += [Paragraph(f"<b>{num}</b>", st["cellnum"]), Paragraph(_e(name), st["cell"])]
            else:
                row += ["", ""]
        rows.append(row)
    table = Table(rows, colWidths=[0.7 * cm, 4.95 * cm] * cols, hAlign="LEFT")
    table.setStyle(
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
    return table


def _maps(d: ReportData, st, full: mapdraw.MapDrawing, formal: mapdraw.MapDrawing) -> list:
    g = d.graph
    c = d.figures["centrality"]
    out: list[Flowable] = [_p("La carte des partenariats", st["H1"])]
    out.append(
        _p(
            "Chaque forme est une structure, chaque trait un partenariat déclaré. Plus une forme "
            "est grande, plus la structure a de partenaires. Les structures placées près l'une "
            "de l'autre travaillent avec les mêmes partenaires. La carte est la même que "
            "celle de l'application, et garde d'une année à l'autre la place de chaque "
            "structure.",
            st["body"],
        )
    )
    out.append(_image(full.chart))
    out.append(_p("Les structures numérotées sur la carte (1 = la plus reliée)", st["H3"]))
    out.append(_map_key_table(full.key, st))
    if g.number_of_nodes() > len(full.key):
        out.append(
            _p(
                f"Les {t.integer(g.number_of_nodes() - len(full.key))} autres structures "
                "ont moins de partenaires ; elles figurent dans les tableaux de l'annexe.",
                st["note"],
            )
        )
    out.append(PageBreak())
    out.append(_p("Les liens formels seulement", st["H2"]))
    fs = d.figures["formal_share"]
    out.append(
        _p(
            f"Sur {t.plural(fs['links'], 'partenariat')}, {t.integer(fs['formal_links'])} "
            f"({t.percent(fs['share'])}) s'appuient sur un cadre formel (convention, commission "
            "ou instance, protocole ou charte, réunion planifiée) déclaré par au moins un des "
            "deux côtés. Mêmes places et mêmes numéros que sur la carte précédente.",
            st["body"],
        )
    )
    out.append(_image(formal.chart))
    out.append(PageBreak())
    out.append(_p("Les structures les plus reliées", st["H2"]))
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
    out.append(_table(rows, [7.2 * cm, 2.2 * cm, 2.1 * cm, 2.6 * cm, 2.9 * cm], st, {1, 2, 3, 4}))
    out.append(
        _p(
            "« Partenaires » : structures distinctes liées, dans un sens ou dans l'autre. "
            "« Rôle d'intermédiaire » : rang de la structure parmi celles qui relient des "
            "partenaires qui, sans elle, seraient éloignés (centralité d'intermédiarité).",
            st["note"],
        )
    )
    return out


FREQ_ORDER = tuple(vocab.FREQUENCIES)


def _ways(d: ReportData, st) -> list[Flowable]:
    g = d.graph
    fs = d.figures["formal_share"]
    bt = d.figures["built_together"]
    out: list[Flowable] = [_p("Comment on travaille ensemble", st["H1"])]
    decl = fs["declarations_by_nature"]
    total = fs["declarations"] or 0
    out.append(_p("Formel ou informel", st["H2"]))
    out.append(
        _p(
            f"Chaque professionnel qui cite un partenaire dit si le lien est formel, informel "
            f"ou les deux. Sur {t.plural(total, 'déclaration')} :",
            st["body"],
        )
    )
    parts = [(vocab.NATURES[c], decl.get(c, 0)) for c in ("formal", "both", "informal")]
    if decl.get("unknown"):
        parts.append(("Non précisé", decl["unknown"]))
    out.append(
        _image(
            charts.stacked_share(
                parts,
                printed=lambda v, share: t.text(f"{t.percent(share)} ({t.integer(v)})"),
            )
        )
    )
    out.append(_p("Fréquence des échanges", st["H2"]))
    freq = {c: 0 for c in FREQ_ORDER}
    for _, _, a in g.edges(data=True):
        for c, n in (a.get("frequencies") or {}).items():
            freq[c] = freq.get(c, 0) + n
    items = [(vocab.FREQUENCIES[c], freq[c], t.integer(freq[c])) for c in FREQ_ORDER]
    out.append(_image(charts.hbars(items, "nombre de déclarations", hatch="///", fill="#b9c7d4")))
    out.append(CondPageBreak(9 * cm))
    out.append(_p("Ce qui est construit ensemble autour de la personne", st["H2"]))
    out.append(
        _p(
            "Nombre de partenariats où au moins un professionnel dit construire cela avec "
            "son partenaire (plusieurs réponses possibles).",
            st["body"],
        )
    )
    items = [(r["label"], r["links"], t.plural(r["links"], "lien")) for r in bt["practices"]]
    if items:
        out.append(_image(charts.hbars(items, width_cm=17)))
    themes = bt["thematiques"][:12]
    out.append(CondPageBreak(7 * cm))
    out.append(_p("Thématiques", st["H2"]))
    if themes:
        out.append(
            _p(
                "Les thématiques (nomenclature data·inclusion) que les professionnels "
                "associent à leurs partenariats, les plus citées d'abord.",
                st["body"],
            )
        )
        items = [(r["label"], r["links"], t.plural(r["links"], "lien")) for r in themes]
        out.append(_image(charts.hbars(items, hatch="...", fill="white")))
    else:
        out.append(_p("Aucune thématique n'a été indiquée cette année.", st["body"]))
    return out


def _fragility(d: ReportData, st) -> list[Flowable]:
    fr = d.figures["fragility"]
    out: list[Flowable] = [_p("Fragilité : des liens qui tiennent à une personne", st["H1"])]
    out.append(
        _p(
            "Le turn-over des équipes est le risque que les professionnels citent le plus : un "
            "partenariat cité par un seul professionnel, d'un côté comme de l'autre, disparaît "
            "souvent avec son départ.",
            st["body"],
        )
    )
    out.append(
        _p(
            f"{t.integer(fr['fragile_count'])} partenariats sur {t.integer(fr['links'])} "
            f"({t.percent(fr['share'])}) ne tiennent qu'à une seule personne. Pour "
            f"{t.integer(fr['fragile_with_non_respondent'])} d'entre eux, la structure citée "
            "n'a pas répondu : il est possible qu'un de ses professionnels porte aussi le lien.",
            st["body"],
        )
    )
    buckets = {1: 0, 2: 0, 3: 0, 4: 0}
    for x in figures.links(d.graph):
        buckets[min(x.carriers, 4)] += 1
    labels = {1: "1 personne", 2: "2 personnes", 3: "3 personnes", 4: "4 personnes ou plus"}
    items = [(labels[k], v, t.plural(v, "lien")) for k, v in buckets.items()]
    out.append(_p("Nombre de professionnels qui portent chaque partenariat", st["H3"]))
    out.append(_image(charts.hbars(items, hatch="xx", fill="white")))
    out.append(_p("Les structures les plus exposées au turn-over", st["H2"]))
    exposed = [r for r in fr["structures"] if r["links"] >= 3 and r["fragile_links"]][:12]
    rows: list[list] = [["Structure", "Partenariats", "dont fragiles", "Part fragile"]]
    for r in exposed:
        rows.append(
            [r["name"], t.integer(r["links"]), t.integer(r["fragile_links"]), t.percent(r["share"])]
        )
    if exposed:
        out.append(_table(rows, [9.4 * cm, 2.5 * cm, 2.5 * cm, 2.6 * cm], st, {1, 2, 3}))
        out.append(
            _p(
                "Structures d'au moins trois partenariats, classées par part de liens fragiles.",
                st["note"],
            )  # fmt: skip
        )
    hanging = fr["hanging_on_one_person"]
    if hanging:
        out.append(_p("Structures dont tous les liens reposent sur une seule personne", st["H3"]))
        out.append(
            _p(
                ", ".join(f"{r['name']} ({t.plural(r['links'], 'lien')})" for r in hanging) + ".",
                st["body"],
            )  # fmt: skip
        )
    c = d.comparison
    if c:
        k = c["counts"]
        out.append(_p(f"Quand les porteurs sont partis depuis {d.previous.year}", st["H3"]))
        out.append(
            _p(
                f"Parmi les liens de {d.previous.year} dont aucun porteur n'a répondu cette année "
                f"depuis la même structure, {t.integer(k['survived_carrier_leaving'])} ont été "
                f"repris par d'autres et {t.integer(k['lost_with_carriers'])} ont disparu.",
                st["body"],
            )
        )
    return out


def _reciprocity(d: ReportData, st) -> list[Flowable]:
    r = d.figures["reciprocity"]
    g = d.graph
    out: list[Flowable] = [_p("Réciprocité : qui cite qui", st["H1"])]
    out.append(
        _p(
            f"Quand les deux structures ont répondu ({t.plural(r['observable_links'], 'lien')}), "
            f"{t.integer(r['mutual'])} liens sont cités des deux côtés ({t.percent(r['rate'])}) "
            f"et {t.integer(r['one_sided_count'])} d'un seul. "
            f"{t.integer(r['with_non_respondent_count'])} autres liens touchent une structure "
            "qui n'a pas répondu : on ne peut pas savoir s'ils sont réciproques.",
            st["body"],
        )
    )
    out.append(
        _p(
            "Un lien cité d'un seul côté n'est pas forcément une erreur : l'un peut compter sur "
            "un partenaire qui ne le voit pas comme tel, ou le contact est passé par une autre "
            "personne. C'est un sujet de discussion utile entre les deux structures.",
            st["body"],
        )
    )
    one = r["one_sided"]
    if one:
        out.append(_p("Liens cités d'un seul côté", st["H2"]))
        rows: list[list] = [["Structure qui cite", "Structure citée, qui ne la cite pas"]]
        rows += [[x["source_name"], x["target_name"]] for x in one[:LIST_MAX]]
        out.append(_table(rows, [8.5 * cm, 8.5 * cm], st))
        if len(one) > LIST_MAX:
            out.append(_p(_more(len(one), LIST_MAX), st["note"]))
    out.append(CondPageBreak(6 * cm))
    out.append(_p("Structures isolées ou peu citées", st["H2"]))
    rare = sorted(
        (n for n in g.nodes if g.in_degree(n) <= 1),
        key=lambda n: (g.in_degree(n), str(g.nodes[n].get("name")).lower()),
    )
    if rare:
        rows = [["Structure", "Citée par", "Cite", "A répondu"]]
        for n in rare[: LIST_MAX * 2]:
            a = g.nodes[n]
            rows.append(
                [
                    a.get("name", str(n)),
                    t.plural(g.in_degree(n), "structure"),
                    t.plural(g.out_degree(n), "structure") if a.get("answered") else "—",
                    "oui" if a.get("answered") else "non",
                ]
            )
        out.append(_table(rows, [8.6 * cm, 3 * cm, 3 * cm, 2.4 * cm], st))
        out.append(
            _p(
                "Une structure citée par une seule autre, ou par aucune, est peu visible de ses "
                "partenaires potentiels : le répertoire peut aider à la faire connaître.",
                st["note"],
            )
        )
    else:
        out.append(_p("Chaque structure est citée par au moins deux autres.", st["body"]))
    return out


CHANGE_LABELS = {
    "response_rate": ("Taux de réponse", True),
    "links": ("Partenariats", False),
    "reciprocity": ("Liens réciproques", True),
    "formal_share": ("Liens formels", True),
    "fragile_share": ("Liens fragiles (une seule personne)", True),
    "structures": ("Structures sur la carte", False),
    "density": ("Densité du réseau", True),
    "components": ("Groupes séparés", False),
    "isolated_count": ("Structures sans aucun lien", False),
}


def _evolution(d: ReportData, st) -> list[Flowable]:
    if not d.comparison or not d.previous:
        return [
            _p("Évolution", st["H1"]),
            _p(
                "C'est la première campagne de ce territoire : l'évolution sera décrite à "
                "partir de l'an prochain.",
                st["body"],
            ),
        ]
    c = d.comparison
    y0, y1 = d.previous.year, d.campaign.year
    out: list[Flowable] = [_p(f"Évolution depuis {y0}", st["H1"])]
    rows: list[list] = [["Chiffre", str(y0), str(y1), "Évolution"]]
    for key, (label, share) in CHANGE_LABELS.items():
        f = c["figures"][key]
        fmt = t.percent if share else t.number
        change = t.points(f["change"]) if share else t.signed(f["change"])
        rows.append([label, fmt(f["before"]), fmt(f["after"]), change])
    out.append(_table(rows, [7.6 * cm, 3 * cm, 3 * cm, 3.4 * cm], st, {1, 2, 3}))
    k = c["counts"]
    out.append(_p("Ce qui a changé dans les partenariats", st["H2"]))
    lines = [
        f"{t.integer(k['kept'])} partenariats sont toujours là ;",
        f"{t.integer(k['new'])} sont nouveaux ;",
        f"{t.integer(k['lost'])} ont disparu alors qu'au moins une des deux structures a répondu ;",
        f"{t.integer(k['strengthened'])} se sont renforcés : {t.integer(k['became_formal'])} "
        f"sont devenus formels, {t.integer(k['more_carriers'])} sont portés par plus de "
        "personnes ;",
        f"{t.integer(k['weakened'])} se sont affaiblis (moins de personnes, ou plus de cadre "
        "formel).",
    ]
    for line in lines:
        out.append(Paragraph(_e(line), st["bullet"], bulletText="•"))
    if k["not_observed"] or k["newly_observed"]:
        out.append(
            _p(
                f"{t.integer(k['not_observed'])} liens de {y0} n'ont pas pu être observés cette "
                f"année (aucune des deux structures n'a répondu) et "
                f"{t.integer(k['newly_observed'])} apparaissent seulement parce que des "
                "structures silencieuses l'an dernier ont répondu : ils ne sont comptés ni "
                "comme perdus ni comme nouveaux.",
                st["note"],
            )
        )
    for key, title in (
        ("new", "Nouveaux partenariats"),
        ("lost", "Partenariats disparus"),
        ("strengthened", "Partenariats renforcés"),
    ):
        rows_ = c[key]
        if not rows_:
            continue
        out.append(CondPageBreak(4 * cm))
        out.append(_p(title, st["H3"]))
        pairs = "; ".join(f"{x['a_name']} — {x['b_name']}" for x in rows_[:LIST_MAX])
        out.append(_p(pairs + (" ; " + _more(len(rows_), LIST_MAX) if len(rows_) > LIST_MAX
                               else "."), st["small"]))  # fmt: skip
    return out


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


def _obstacles(d: ReportData, st) -> list[Flowable]:
    ob = d.obstacles
    out: list[Flowable] = [_p("Les freins rencontrés", st["H1"])]
    out.append(
        _p(
            f"Chaque répondant indique les freins qu'il a rencontrés dans l'année (plusieurs "
            f"réponses possibles). {privacy.people(ob['respondents'])} répondants.",
            st["body"],
        )
    )
    if not ob["totals"]:
        out.append(_p("Aucun frein n'a été indiqué.", st["body"]))
        return out
    items = []
    for r in ob["totals"]:
        small = privacy.is_small(r["responses"])
        items.append((r["label"], 0 if small else r["responses"], privacy.people(r["responses"])))
    out.append(_image(charts.hbars(items, "nombre de répondants qui le citent", width_cm=17)))
    out.append(_p("Par type de structure", st["H2"]))
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
        _table(rows, [first, 1.6 * cm, *[rest] * len(codes)], st, set(range(1, len(codes) + 2)))
    )
    out.append(
        _p(
            "Nombre de répondants qui citent chaque frein. Les types de structure qui comptent "
            "moins de trois répondants sont regroupés ; « < 3 » : une ou deux personnes.",
            st["note"],
        )
    )
    return out


# --- annex ---------------------------------------------------------------------------------


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
            keep = False if line.strip() or line.startswith("**EN.**") else keep
            if not line.strip() and keep:
                keep = False
                out.append("")
        elif keep:
            out.append(line)
    return "\n".join(out).strip()


_INLINE = (
    (re.compile(r"\*\*(.+?)\*\*"), r"<b>\1</b>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)\*(?!\w)"), r"<i>\1</i>"),
    (re.compile(r"`([^`]+)`"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\([^)]+\)"), r"\1"),
)


def _inline(text: str) -> str:
    s = _e(text)
    for pattern, repl in _INLINE:
        s = pattern.sub(repl, s)
    return s


def markdown_flowables(md: str, st) -> list[Flowable]:
    """A small Markdown subset (headings, paragraphs, lists, tables, bold/italic) as
    flowables. Headings go below the annex heading (level 3), out of the table of
    contents."""
    out: list[Flowable] = []
    para: list[str] = []
    table: list[list[str]] = []

    def flush() -> None:
        if para:
            out.append(Paragraph(_inline(" ".join(para)), st["body"]))
            para.clear()
        if table:
            rows = [r for r in table if not all(re.fullmatch(r":?-{2,}:?", c) for c in r)]
            n = max(len(r) for r in rows)
            cells = [
                [Paragraph(_inline(c), st["head" if i == 0 else "cell"]) for c in r]
                + [""] * (n - len(r))
                for i, r in enumerate(rows)
            ]
            out.append(_table(cells, [TEXT_W / n] * n, st))
            out.append(Spacer(1, 4))
            table.clear()

    for line in md.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("<!--"):
            flush()
        elif stripped.startswith("#"):
            flush()
            out.append(Paragraph(_inline(stripped.lstrip("#").strip()), st["H3"]))
        elif stripped.startswith("|"):
            if para:
                flush()
            table.append([c.strip() for c in stripped.strip("|").split("|")])
        elif re.match(r"^([-*+]|\d+\.)\s+", stripped):
            flush()
            item = re.sub(r"^([-*+]|\d+\.)\s+", "", stripped)
            out.append(Paragraph(_inline(item), st["bullet"], bulletText="•"))
        elif line.startswith("  ") and out and not para and not table:
            # Continuation of a list item: append to the previous bullet.
            prev = out.pop()
            out.append(Paragraph(prev.text + " " + _inline(stripped), st["bullet"], bulletText="•"))
        else:
            para.append(stripped)
    flush()
    return out


FALLBACK_DEFINITIONS = (
    ("Structure", "une institution ou une association du répertoire du territoire."),
    ("Partenariat (lien)", "une paire de structures dont l'une au moins cite l'autre."),
    ("Lien réciproque", "lien cité des deux côtés ; calculé seulement quand les deux "
     "structures ont répondu."),
    ("Lien formel", "au moins une déclaration « formel » ou « les deux » sur le lien."),
    ("Lien fragile", "lien porté par un seul professionnel, tous sens confondus."),
    ("Taux de réponse", "répondants / professionnels invités."),
)  # fmt: skip


def _annex(d: ReportData, st) -> list[Flowable]:
    p = d.figures["participation"]
    out: list[Flowable] = [_p("Annexe : méthode, définitions et limites", st["H1"])]
    out.append(_p("Méthode", st["H2"]))
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
        out.append(_p(text, st["body"]))
    out.append(_p("Définitions", st["H2"]))
    md = metrics_french()
    if md:
        out.extend(markdown_flowables(md, st))
    else:
        for term, meaning in FALLBACK_DEFINITIONS:
            out.append(_m(f"<b>{_e(term)}</b> : {_e(meaning)}", st["bullet"]))
    out.append(_p("Limites", st["H2"]))
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
        out.append(Paragraph(_e(text), st["bullet"], bulletText="•"))
    out.append(CondPageBreak(6 * cm))
    out.append(_p("Participation par structure", st["H2"]))
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
        _table(rows, [6 * cm, 3.9 * cm, 1.6 * cm, 2 * cm, 1.5 * cm, 2 * cm], st, {2, 3, 4, 5})
    )
    return out


def _short_type(label: str | None) -> str:
    label = label or "Autre"
    m = re.search(r"\(([^)]+)\)$", label)
    return m.group(1) if m and len(label) > 30 else label


# --- the document --------------------------------------------------------------------------


def render(d: ReportData, progress: Progress | None = None) -> bytes:
    """The PDF bytes of a collected report."""
    step = progress or (lambda _: None)
    register_fonts()
    st = _styles()
    step(STEPS[3])
    pairs = figures.links(d.graph)
    full = mapdraw.draw_map(d.graph, d.positions, width_cm=16, all_links=pairs)
    formal = mapdraw.draw_map(d.graph, d.positions, True, width_cm=16, all_links=pairs)
    step(STEPS[4])
    toc = TableOfContents(
        levelStyles=[st["toc0"], st["toc1"]], dotsMinLevel=0, rightColumnWidth=1.4 * cm
    )
    story: list[Flowable] = [*_cover(d, st), NextPageTemplate("body"), PageBreak()]
    story += [_p("Sommaire", st["cover_sub"]), toc, PageBreak()]
    story += _summary(d, st) + [PageBreak()]
    story += _participation(d, st) + [PageBreak()]
    story += _maps(d, st, full, formal) + [PageBreak()]
    story += _ways(d, st) + [PageBreak()]
    story += _fragility(d, st) + [PageBreak()]
    story += _reciprocity(d, st) + [PageBreak()]
    story += _evolution(d, st) + [PageBreak()]
    story += _obstacles(d, st) + [PageBreak()]
    story += _annex(d, st)
    step(STEPS[5])
    title = t.text(f"Carte partenariale — rapport {d.campaign.year}")
    buf = io.BytesIO()
    doc = _Doc(
        buf,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author=d.territory.name,
        subject=t.text(
            f"Partenariats entre structures sociales — {d.territory.name} "
            f"({d.territory.code}), campagne {d.campaign.year}"
        ),
        creator="Carte partenariale",
        keywords="carte partenariale, partenariats, action sociale",
        lang="fr-FR",
        invariant=1,
    )
    frame = Frame(MARGIN, MARGIN, TEXT_W, PAGE_H - 2 * MARGIN, id="main")
    doc.addPageTemplates(
        [
            PageTemplate("cover", frames=[frame]),
            PageTemplate("body", frames=[frame], onPage=_footer(d)),
        ]
    )
    doc.multiBuild(story, canvasmaker=_canvas_maker(d.issued_on))
    return buf.getvalue()


def build_report(
    session: Session,
    campaign: Campaign,
    previous: Campaign | None = None,
    progress: Progress | None = None,
    today: date | None = None,
) -> bytes:
    """The report of `campaign` compared with `previous` (None: no comparison)."""
    return render(collect(session, campaign, previous, progress, today), progress)

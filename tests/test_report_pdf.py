"""The annual PDF report: content, numbers, privacy, reproducibility, the CLI and the button."""

from __future__ import annotations

import html
import io
import re
from datetime import date
from typing import NamedTuple

import pytest
from pypdf import PdfReader
from reportlab.platypus import KeepTogether, Paragraph
from sqlmodel import select
from typer.testing import CliRunner

from reports import charts, figures, findings, pdf, privacy
from reports.graph import build_graph
from reports.pdf import flowables
from reports.pdf.context import Context
from reports.pdf.sections import coordination, evolution, fragility, obstacles, summary, ways
from reports.pdf.styles import styles
from survey import campaigns, demo
from survey import french as t
from survey.campaigns import get_campaign
from survey.models import Campaign, DeclaredLink, Professional, Response, ResponseObstacle
from tests.accounts_helpers import login, make_user
from tests.conftest import TEST_SECRET
from tests.factories import build_world

SECTIONS = (
    "Sommaire",
    "L'essentiel",
    "Les cinq chiffres clés",
    "Trois constats",
    "Qui a répondu",
    "Participation par type de structure",
    "Ce que cela veut dire pour la lecture",
    "La carte des partenariats",
    "Les liens formels seulement",
    "Comment on travaille ensemble",
    "Formel ou informel",
    "Fréquence des échanges",
    "Ce qui est construit ensemble autour de la personne",
    "Thématiques",
    "Fragilité : des liens qui tiennent à une personne",
    "Réciprocité : qui cite qui",
    "Évolution depuis 2025",
    "Les freins rencontrés",
    "Annexe : méthode, définitions et limites",
)


def plain(s: str) -> str:
    """Extracted text with every kind of space made one plain space (for comparisons)."""
    s = s.replace("\u202f", " ").replace("\u00a0", " ")
    return re.sub(r"[ \t]+", " ", s)


def pdf_text(data: bytes) -> tuple[PdfReader, list[str]]:
    reader = PdfReader(io.BytesIO(data))
    return reader, [plain(p.extract_text() or "") for p in reader.pages]


# --- pure helpers --------------------------------------------------------------------------


def test_small_counts_of_people_are_hidden():
    assert [privacy.people(n) for n in (0, 1, 2, 3, 1200)] == [
        "0",
        "<\u00a03",
        "<\u00a03",
        "3",
        "1\u202f200",
    ]
    assert (
        privacy.rate(1, 2) == "—"
        and privacy.rate(2, 5) == "—"
        and privacy.rate(3, 4) == "75\u202f%"
    )
    rows = [
        {"type_label": "CAF", "respondents": 5, "obstacles": {"turnover": 2}},
        {"type_label": "CPAM", "respondents": 1, "obstacles": {"turnover": 1}},
        {"type_label": "MSA", "respondents": 2, "obstacles": {"turnover": 1, "other": 1}},
    ]
    pooled = privacy.pool_small_groups(rows, "respondents", "type_label", "Autres", ("obstacles",))
    assert [r["type_label"] for r in pooled] == ["CAF", "Autres"]
    assert pooled[1]["respondents"] == 3 and pooled[1]["obstacles"] == {"turnover": 2, "other": 1}


def test_metrics_french_part_is_extracted(tmp_path):
    doc = tmp_path / "metrics.md"
    doc.write_text(
        "# Indicateurs\n\n## Français\n\n### Réciprocité\n\nPart des **liens** cités.\n\n"
        "- un point\n\n## English\n\n### Reciprocity\n\nShare of links.\n",
        encoding="utf-8",
    )
    md = pdf.metrics_french(doc)
    assert "Réciprocité" in md and "Part des **liens** cités." in md
    assert "Reciprocity" not in md and "Share" not in md
    assert pdf.metrics_french(tmp_path / "missing.md") is None
    # The layout of docs/metrics.md: « English — Français [`fn`] », then FR and EN paragraphs.
    doc.write_text(
        "# Figures — Indicateurs\n\n## Reciprocity — Réciprocité [`reciprocity`]\n\n"
        "**FR.** Part des liens cités\ndes deux côtés.\n\n**EN.** Share of links.\n",
        encoding="utf-8",
    )
    md = pdf.metrics_french(doc)
    assert "### Réciprocité" in md and "Part des liens cités\ndes deux côtés." in md
    assert "Share" not in md and "reciprocity" not in md


# --- the demo report -----------------------------------------------------------------------


@pytest.fixture
def demo_report(session):
    demo.load(session, TEST_SECRET)
    campaign = get_campaign(session, demo.TERRITORY_CODE, demo.CURRENT_YEAR)
    previous = campaigns.previous_campaign(session, campaign)
    steps: list[str] = []
    data = pdf.build_report(session, campaign, previous, progress=steps.append)
    assert steps == list(pdf.STEPS)
    return campaign, data


def test_demo_report_content_matches_the_figures(session, demo_report):
    campaign, data = demo_report
    assert data.startswith(b"%PDF-")
    reader, pages = pdf_text(data)
    text = "\n".join(pages)
    assert len(reader.pages) >= 10

    meta = reader.metadata
    assert meta.title == "Carte partenariale — rapport 2026"
    assert meta.author == demo.TERRITORY_NAME
    assert "Creuse" in meta.subject
    assert str(reader.trailer["/Root"].get("/Lang")) == "fr-FR"
    assert reader.outline, "headings are PDF bookmarks"

    for title in SECTIONS:
        assert plain(t.text(title)) in text, title
    # Table of contents: the second page lists the sections with page numbers.
    toc = pages[1]
    assert "Sommaire" in toc
    for title in ("L'essentiel", "Qui a répondu", "Les freins rencontrés"):
        assert plain(t.text(title)) in toc, title
    assert len(re.findall(r"\. (\d+)\n", toc)) >= 10, "dot leaders and page numbers"

    # The summary's five numbers are reports.figures.headline of 2026.
    g = build_graph(session, campaign)
    head = figures.headline(g)
    summary = next(p for p in pages if "Indicateur" in p and "Trois constats" in p)
    expected = [
        ("Taux de réponse", plain(t.percent(head["response_rate"]))),
        ("Partenariats entre structures", plain(t.integer(head["links"]))),
        ("Liens réciproques", plain(t.percent(head["reciprocity"]))),
        ("Liens formels", plain(t.percent(head["formal_share"]))),
        ("Liens fragiles", plain(t.percent(head["fragile_share"]))),
    ]
    for label, value in expected:
        line = summary[summary.index(label) :]
        assert value in line[:300], (label, value)
    # Three findings, derived from the data.
    assert re.search(r"1\.\s", summary) and re.search(r"3\.\s", summary)
    fragile = figures.fragility(g)["fragile_count"]
    assert plain(t.integer(fragile)) in text

    # No professional's name or e-mail anywhere; no free comment either.
    people = session.exec(select(Professional.full_name, Professional.email)).all()
    assert people
    flat = re.sub(r"\s+", " ", text)
    for name, email in people:
        assert name not in flat, name
        assert email not in flat, email
    comments = session.exec(select(Response.comment).where(Response.comment != "")).all()
    for comment in comments:
        assert comment[:40] not in flat


def _paragraphs(flowables: list) -> list[str]:
    """The text of every paragraph among `flowables` (KeepTogether opened), plain."""
    out: list[str] = []
    for f in flowables:
        if isinstance(f, Paragraph):
            out.append(plain(html.unescape(re.sub(r"<[^>]+>", "", f.text))))
        elif isinstance(f, KeepTogether):
            out += _paragraphs(f._content)
    return out


def _cell(value) -> str:
    return _paragraphs([value])[0] if isinstance(value, Paragraph) else plain(str(value))


def _percent(cell: str) -> int:
    return int(cell.removesuffix(" %"))


def _points(cell: str) -> int:
    if cell == "stable":
        return 0
    m = re.fullmatch(r"([+−])(\d+) pts?", cell)
    assert m, cell
    return int(m.group(2)) * (1 if m.group(1) == "+" else -1)


class Drawn(NamedTuple):
    """A demo report's collected data and section context, with what the sections drew."""

    year: int
    data: pdf.ReportData
    ctx: Context
    tables: list[list[list]]  # each table's rows, as given to flowables.table
    bars: list[list]  # each bar chart's items, as given to charts.hbars


@pytest.fixture(params=[2025, 2026])
def demo_year(request, session, monkeypatch) -> Drawn:
    """The demo's 2025 report (against 2024) or 2026 report (against 2025), where a tester
    found the sentences and tables below at odds."""
    demo.load(session, TEST_SECRET)
    campaign = get_campaign(session, demo.TERRITORY_CODE, request.param)
    d = pdf.collect(session, campaign, campaigns.previous_campaign(session, campaign))
    pdf.register_fonts()
    ctx = Context(d, styles(), full_map=None, formal_map=None)  # type: ignore[arg-type]
    drawn = Drawn(request.param, d, ctx, [], [])
    real_table, real_hbars = flowables.table, charts.hbars

    def keep_table(rows, *args, **kwargs):
        drawn.tables.append(rows)
        return real_table(rows, *args, **kwargs)

    def keep_bars(items, *args, **kwargs):
        drawn.bars.append(list(items))
        return real_hbars(items, *args, **kwargs)

    for module in (obstacles, evolution, summary, coordination):
        monkeypatch.setattr(module, "table", keep_table)
    monkeypatch.setattr(charts, "hbars", keep_bars)
    return drawn


def test_demo_obstacles_have_one_others_column_and_one_name_each(demo_year):
    d = demo_year.data
    obstacles.section(demo_year.ctx)
    (rows,) = demo_year.tables
    assert rows[0].count(obstacles.OTHERS) == 1, rows[0]
    if all(c.isdigit() for c in rows[1][1:]):
        assert sum(int(c) for c in rows[1][1:]) == d.obstacles["respondents"]
    # Each obstacle is named alike in the chart and in the table.
    chart = [label for label, _, _ in demo_year.bars[0]]
    assert chart == [r["label"] for r in d.obstacles["totals"]]
    assert {r[0] for r in rows[2:]} == set(chart)


def test_demo_turnover_is_said_most_cited_only_when_it_is(demo_year):
    d = demo_year.data
    (sentence,) = [x for x in _paragraphs(fragility.section(demo_year.ctx)) if "turn-over des" in x]
    cited = {r["code"]: r["responses"] for r in d.obstacles["totals"]}
    ahead = sum(1 for n in cited.values() if n > cited["turnover"])
    assert ahead == 2, "the demo's chart ranks turn-over third"
    assert "citent le plus" not in sentence and "est le frein le plus cité" not in sentence
    assert "est le troisième frein le plus cité par les professionnels" in sentence
    assert f"({cited['turnover']} répondants sur {d.obstacles['respondents']})" in sentence


def test_demo_points_are_the_difference_of_the_printed_percentages(demo_year):
    evolution.section(demo_year.ctx)
    shares = {label for label, share in evolution.CHANGE_LABELS.values() if share}
    checked = 0
    for label, before, after, change in demo_year.tables[0][1:]:
        if label in shares:
            assert _percent(plain(after)) - _percent(plain(before)) == _points(plain(change))
            checked += 1
    assert checked == len(shares)
    demo_year.tables.clear()
    summary.section(demo_year.ctx)
    checked = 0
    for row in demo_year.tables[0][1:]:
        now, before, change = (_cell(c) for c in row[1:])
        if "%" in now:
            assert _percent(now) - _percent(before) == _points(change), (now, before, change)
            checked += 1
    assert checked == 4


def test_demo_changes_say_lost_frame_and_no_zero_count(demo_year):
    said = " ".join(_paragraphs(evolution.section(demo_year.ctx)))
    assert "perte du cadre formel" in said and "plus de cadre formel" not in said
    assert not re.search(r"(^|[\s(])0 liens?\b", said)
    k = demo_year.data.comparison["counts"]  # type: ignore[index]
    if demo_year.year == 2025:
        assert k["not_observed"] == 0 and k["newly_observed"] == 5  # the tester's « 0 liens »
        assert "5 liens apparaissent seulement parce que" in said


def test_demo_frameless_bullets_say_what_their_table_rows_say(demo_year):
    d = demo_year.data
    bullets = _paragraphs(
        coordination.official(d.coordination, demo_year.year, demo_year.ctx.styles)
    )
    frameless = [b for b in bullets if "sans cadre déclaré" in b]
    assert frameless
    rows = {(r[0], r[1]): r for r in demo_year.tables[0][1:]}
    for bullet in frameless:
        a, b = re.findall(r"« (.+?) »", bullet)[:2]
        _, _, carriers, frequent = rows[(a, b)]
        carriers, frequent = plain(carriers), plain(frequent)
        if carriers == "< 3":
            assert "moins de trois professionnels déclarent ce lien" in bullet
        elif frequent == "< 3":
            assert f"{carriers} professionnels déclarent ce lien, dont moins de trois" in bullet
        elif frequent == carriers:
            assert f"{carriers} professionnels déclarent ce lien, et tous" in bullet
        else:
            assert f"{carriers} professionnels déclarent ce lien, dont {frequent} qui" in bullet
        assert not re.search(r"\b[12] professionnels", bullet)
        assert "le déclarent)" not in bullet


def test_demo_report_numbers_match_the_figures_api(session, client, demo_report):
    campaign, data = demo_report
    make_user(session, "coord@example.org", territory=campaign_territory(session, campaign))
    login(client, "coord@example.org")
    api = client.get("/api/v1/t/23/figures/2026")
    assert api.status_code == 200, api.text
    head = api.json()["headline"]
    _, pages = pdf_text(data)
    summary = next(p for p in pages if "Indicateur" in p and "Trois constats" in p)
    for key in ("response_rate", "reciprocity", "formal_share", "fragile_share"):
        assert plain(t.percent(head[key])) in summary, key
    assert plain(t.integer(head["links"])) in summary


def campaign_territory(session, campaign):
    from survey.models import Territory

    return session.get(Territory, campaign.territory_id)


# --- small data sets: « < 3 », reproducibility, findings ------------------------------------


def _answer_2026(session, world) -> None:
    """Bruno (the only CAF professional) answers 2026: names the CCAS, cites turn-over."""
    resp = Response(
        campaign_id=world.this_year.id,
        professional_id=world.pros["bruno"].id,
        organisation_id=world.orgs["caf"].id,
        status="submitted",
        questionnaire_version="2026.1",
    )
    session.add(resp)
    session.flush()
    session.add(
        DeclaredLink(
            response_id=resp.id,
            partner_organisation_id=world.orgs["ccas"].id,
            status="new",
            nature="formal",
            frequency="monthly",
        )
    )
    session.add(ResponseObstacle(response_id=resp.id, code="turnover"))
    session.commit()


def test_structures_with_one_or_two_people_show_less_than_three(session):
    world = build_world(session)
    _answer_2026(session, world)
    data = pdf.build_report(session, world.this_year, world.last_year)
    _, pages = pdf_text(data)
    text = "\n".join(pages)
    annex = text[text.rindex("Participation par structure") :]
    caf_line = annex[annex.index("CAF de la Creuse") : annex.index("CCAS de Guéret")]
    assert caf_line.count("< 3") == 2, caf_line  # invited and respondents
    assert "100 %" not in caf_line  # the rate of one person is not given
    freins = re.sub(r"\s+", " ", text[text.rindex(plain(t.text("Les freins rencontrés"))) :])
    assert "< 3 répondants" in freins
    # Small types pooled in one column « Autres types », which the note explains.
    assert "Autres types" in freins
    assert "moins de trois répondants sont regroupés dans « Autres types »" in freins
    assert "Alice" not in text and "Bruno" not in text and "@example.org" not in text


def test_closed_campaign_report_is_reproducible(session):
    world = build_world(session)
    first = pdf.build_report(session, world.last_year, None, today=date(2030, 1, 1))
    again = pdf.build_report(session, world.last_year, None, today=date(2031, 6, 6))
    assert first == again
    reader, pages = pdf_text(first)
    assert "Première campagne" in "\n".join(pages)
    assert "D:20250531" in str(reader.metadata.get("/CreationDate"))


def test_findings_are_ranked_and_distinct(session):
    world = build_world(session)
    _answer_2026(session, world)
    g = build_graph(session, world.this_year)
    facts = findings.Facts(
        g, figures.all_figures(g), figures.obstacles(session, world.this_year), None, None
    )
    top = findings.top_findings(facts)
    assert 1 <= len(top) <= 3
    assert len({x.kind for x in top}) == len(top)
    scores = [x.score for x in top]
    assert scores == sorted(scores, reverse=True)
    assert any("seule personne" in x.sentence for x in findings.candidates(facts))


# --- the CLI and the button ------------------------------------------------------------------


@pytest.fixture
def carte_report(database_url, engine, monkeypatch):
    import typer

    from app.cli_report import register
    from app.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET)
    get_settings.cache_clear()
    app = typer.Typer()
    app.command("noop")(lambda: None)  # a group, so `report` is a sub-command
    register(app)
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, ["report", *args])
    get_settings.cache_clear()


def test_cli_writes_the_report(session, carte_report, tmp_path, monkeypatch):
    build_world(session)
    out = tmp_path / "rapport.pdf"
    settled: list[bool] = []
    # The command sets the imports aside from the collector (gc.freeze), as a worker does;
    # recorded here rather than freezing the test process.
    monkeypatch.setattr("app.serving.settle", lambda: settled.append(True))
    result = carte_report("--territory", "23", "--year", "2026", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert settled == [True]
    assert "comparé avec 2025" in result.output
    assert out.read_bytes().startswith(b"%PDF-")

    bad = carte_report("--territory", "99", "--year", "2026", "--output", str(out))
    assert bad.exit_code == 2 and "Territoire « 99 » inconnu" in bad.output
    bad = carte_report("--territory", "23", "--year", "2026", "--compare-with", "2027")
    assert bad.exit_code == 2 and "antérieure" in bad.output
    bad = carte_report("--territory", "23", "--year", "2024")
    assert bad.exit_code == 2 and "Pas de campagne 2024" in bad.output


def test_report_button_for_viewers_not_for_other_territories(session, client):
    world = build_world(session)
    make_user(session, "lecteur@example.org", role="viewer", territory=world.territory)
    make_user(session, "autre@example.org", territory=world.other_territory)

    login(client, "lecteur@example.org")
    page = client.get("/t/23/")
    assert 'href="/t/23/rapport/2026.pdf"' in page.text
    response = client.get("/t/23/rapport/2026.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert "rapport-23-2026.pdf" in response.headers["content-disposition"]
    assert response.content.startswith(b"%PDF-")
    assert client.get("/t/23/rapport/2019.pdf").status_code == 404
    assert client.get("/t/23/rapport/abc.pdf").status_code == 404

    login(client, "autre@example.org")
    assert client.get("/t/23/rapport/2026.pdf").status_code == 404


def test_cli_report_of_a_closed_year_is_stored_and_written_again_the_same(
    session, carte_report, tmp_path
):
    from reports import snapshot

    world = build_world(session)
    # A 2024 campaign so that the closed 2025 is compared with it.
    session.add(Campaign(territory_id=world.territory.id, year=2024, status="closed"))
    snapshot.freeze(session, world.last_year)
    session.commit()
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    result = carte_report("--territory", "23", "--year", "2025", "--output", str(first))
    assert result.exit_code == 0, result.output
    assert "Rapport 2025, comparé avec 2024" in result.output
    session.expire_all()
    assert snapshot.stored_pdf(session, world.last_year) == first.read_bytes()
    result = carte_report("--territory", "23", "--year", "2025", "--output", str(second))
    assert result.exit_code == 0, result.output
    assert second.read_bytes() == first.read_bytes()


def test_the_annex_prints_the_first_rows_of_a_long_list_and_points_to_the_export(
    session, monkeypatch
):
    """A list longer than ANNEX_LIST_MAX is cut in the annex (a large territory has
    ~10,000 one-sided links: 200 pages), with its full count in the title and the export
    named; below the limit it is printed whole, with no such sentence."""
    from reports.pdf.sections import annex

    demo.load(session, TEST_SECRET)
    campaign = get_campaign(session, demo.TERRITORY_CODE, demo.CURRENT_YEAR)
    _, whole = pdf_text(pdf.build_report(session, campaign))
    whole_text = plain("\n".join(whole))
    titles = re.findall(r"Liens cités d'un seul côté \((\d+)\)", whole_text)
    assert titles, "the demo's one-sided links are long enough for the annex"
    assert "premiers ; la liste entière est dans l'export" not in whole_text
    monkeypatch.setattr(annex, "ANNEX_LIST_MAX", 4)
    _, cut = pdf_text(pdf.build_report(session, campaign))
    cut_text = plain("\n".join(cut))
    assert re.findall(r"Liens cités d'un seul côté \((\d+)\)", cut_text) == titles
    assert "Les 4 premiers ; la liste entière est dans l'export des liens" in cut_text
    assert len(cut) < len(whole)


def test_bars_of_what_is_built_together_go_down():
    """The bars show links; the rows come sorted by declarations, which is another order
    when many colleagues of a few partnerships cite the same thing."""
    rows = [
        {"label": "Accès aux droits", "declarations": 12, "links": 2},
        {"label": "Orientation", "declarations": 7, "links": 5},
        {"label": "Accompagnement", "declarations": 5, "links": 5},
        {"label": "Veille", "declarations": 1, "links": 1},
    ]
    assert ways.tag_bars(rows) == [
        ("Orientation", 5, "5\xa0liens"),
        ("Accompagnement", 5, "5\xa0liens"),
        ("Accès aux droits", 2, "2\xa0liens"),
        ("Veille", 1, "1\xa0lien"),
    ]
    assert [label for label, _, _ in ways.tag_bars(rows, top=2)] == [
        "Orientation",
        "Accompagnement",
    ]

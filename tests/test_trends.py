"""Over all years (reports.trends): the territory's headline figures per campaign on the
evolution page, in the trend API and in the PDF; a structure's own on its page.

The world (tests/trend_world.py): 2024 and 2025 closed, 2026 open, a draft 2027. In 2024
only two people were invited, so a viewer and the PDF read that year's response rate « — ».
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date
from html import unescape

import networkx as nx
import pytest
from sqlmodel import select

from reports import cache, charts, figures, linechart, pdf, privacy, snapshot, trends
from reports.graph import NO_FILTER, GraphFilter, build_graph
from survey.models import Campaign
from tests.accounts_helpers import login, make_user
from tests.trend_world import build_three_years

NNBSP, NBSP = "\u202f", "\u00a0"


def plain(s: str) -> str:
    """Every kind of space made one plain space."""
    return re.sub(r"[ \t\u00a0\u202f]+", " ", s)


@pytest.fixture
def world(session):
    return build_three_years(session)


@pytest.fixture
def coordinator(client, session, world):
    make_user(session, "coord@example.org", territory=world[0].territory)
    login(client, "coord@example.org")
    return client


@pytest.fixture
def viewer(client, session, world):
    make_user(session, "lecteur@example.org", role="viewer", territory=world[0].territory)
    login(client, "lecteur@example.org")
    return client


def _trend_table(html: str) -> dict[str, list[str]]:
    """The trend table of a page: figure key -> its cells (plain text), plus "years"."""
    m = re.search(r'<table id="tableau-tendance">(.*?)</table>', html, re.S)
    assert m, "no trend table"
    body = m.group(1)
    head = re.search(r"<thead>(.*?)</thead>", body, re.S).group(1)
    years = re.findall(r'<th scope="col" class="num">(\d{4})', head)
    out = {"years": years}
    for key, row in re.findall(r'<tr data-key="(\w+)">(.*?)</tr>', body, re.S):
        out[key] = [plain(unescape(c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
    return out


def _pct(x: float) -> str:
    return f"{round(x * 100)} %"


# --- reports.trends ------------------------------------------------------------------------


def test_territory_trend_equals_each_years_figures(session, world):
    b, (c24, c25, c26) = world
    rows = trends.territory_trend(session, b.territory.id)
    assert [(r["year"], r["status"]) for r in rows] == [
        (2024, "closed"),
        (2025, "closed"),
        (2026, "open"),
    ]  # the draft 2027 never counts
    for row, c in zip(rows, (c24, c25, c26), strict=True):
        figs = cache.all_figures(session, c)
        for key in trends.HEADLINE:
            assert row[key] == figs["headline"][key], (c.year, key)
        for key in ("structures", "ties", "density", "components"):
            assert row[key] == figs["size"][key], (c.year, key)
    # Worked out by hand in tests/trend_world.py.
    assert [r["response_rate"] for r in rows] == [1.0, 0.6, 1.0]
    assert [r["links"] for r in rows] == [1, 3, 3]
    assert [r["reciprocity"] for r in rows] == [1.0, 0.5, pytest.approx(2 / 3)]
    assert [r["formal_share"] for r in rows] == [1.0, pytest.approx(1 / 3), pytest.approx(2 / 3)]
    assert [r["fragile_share"] for r in rows] == [0.0, pytest.approx(2 / 3), pytest.approx(1 / 3)]
    # Up to a year (the PDF of that year), and with a filter (as each year's filtered figures).
    assert [r["year"] for r in trends.territory_trend(session, b.territory.id, until=2025)] == [
        2024,
        2025,
    ]
    formal = GraphFilter(nature="formal")
    filtered = trends.territory_trend(session, b.territory.id, formal)
    for row, c in zip(filtered, (c24, c25, c26), strict=True):
        assert row["links"] == cache.all_figures(session, c, formal)["size"]["links"]
    assert formal != NO_FILTER


def test_a_small_count_of_people_is_withheld_for_anyone_but_coordinators(session, world):
    b, _ = world
    public = trends.territory_trend(session, b.territory.id, audience=privacy.PUBLIC)
    assert [r["response_rate"] for r in public] == ["—", 0.6, 1.0]  # 2/2 in 2024
    assert [r["links"] for r in public] == [1, 3, 3]  # links are not people
    table = trends.table(public, trends.TERRITORY_FIGURES)
    assert table["rows"][0]["cells"] == ["—", f"60{NNBSP}%", f"100{NNBSP}%"]
    # The withheld rate breaks the chart's line: no point is drawn for 2024.
    (_, rates), *_ = trends.series(public, trends.TERRITORY_SERIES)
    assert rates == [None, 0.6, 1.0]


def test_structure_trend_follows_its_page(session, world):
    b, (c24, c25, c26) = world
    caf = b.orgs["caf"].id
    rows = trends.structure_trend(session, b.territory.id, caf)
    assert [r["year"] for r in rows] == [2024, 2025, 2026]
    assert [r["partners"] for r in rows] == [1, 2, 2]  # CCAS; + SIAO; CCAS + MSA
    assert [r["formal_partners"] for r in rows] == [1, 1, 2]
    assert [r["mutual"] for r in rows] == [1, 1, 1]
    assert [r["fragile_links"] for r in rows] == [0, 1, 1]
    assert [r["invited"] for r in rows] == [1, 1, 2]
    for row, c in zip(rows, (c24, c25, c26), strict=True):
        g = cache.graph(session, c)
        assert row["partners"] == len(set(g.successors(caf)) | set(g.predecessors(caf)))
    public = trends.structure_trend(session, b.territory.id, caf, privacy.PUBLIC)
    assert [r["invited"] for r in public] == ["< 3"] * 3
    cells = trends.table(public, trends.STRUCTURE_FIGURES)["rows"]
    invited = next(r for r in cells if r["key"] == "invited")
    assert invited["cells"] == [privacy.SMALL] * 3
    # A structure absent from a year's map: « — » that year, never a zero.
    absent = trends.structure_year(cache.graph(session, c24), -1)
    assert absent["present"] is False and absent["partners"] is None
    assert trends.printed(trends.STRUCTURE_FIGURES[3], None) == "—"


def test_line_chart_one_series_per_figure_each_its_dash_and_marker():
    rows = [
        {"year": 2024, "a": 0.5, "b": None},
        {"year": 2025, "a": 0.25, "b": 0.75},
        {"year": 2026, "a": None, "b": 1.0},
    ]
    figs = (
        trends.Figure("a", "Premier", "share", trends.LINES[0]),
        trends.Figure("b", "Second", "share", trends.LINES[1]),
    )
    svg = str(linechart.line_chart([2024, 2025, 2026], trends.series(rows, figs), "Essai", "t"))
    assert 'role="img"' in svg and 'aria-labelledby="t-title t-desc"' in svg
    assert '<title id="t-title">Essai</title>' in svg
    desc = re.search(r'<desc id="t-desc">(.*?)</desc>', svg).group(1)
    assert f"Premier : 50{NNBSP}% en 2024, 25{NNBSP}% en 2025, — en 2026." in desc
    groups = re.findall(r'<g class="series" data-key="(\w+)" data-dash="([^"]+)" '
                        r'data-marker="([^"]+)">(.*?)</g>', svg, re.S)  # fmt: skip
    assert [g[0] for g in groups] == ["a", "b"]
    assert groups[0][1:3] == ("plein", "circle") and groups[1][1:3] == ("9 5", "square-vide")
    # Two points each (a missing value draws none); the dashed line carries its pattern.
    assert [g[3].count('class="point"') for g in groups] == [2, 2]
    assert 'stroke-dasharray="9 5"' in groups[1][3]
    # Direct labels with the last known value.
    assert f"Premier : 25{NNBSP}%" in svg and f"Second : 100{NNBSP}%" in svg


def test_pdf_chart_is_the_same_bytes_every_time():
    series = [(f.label, [0.2, None, 0.6], f.line, "60 %") for f in trends.TERRITORY_SERIES]
    first = charts.lines([2024, 2025, 2026], series)
    assert first == charts.lines([2024, 2025, 2026], series)
    assert first.image[:2] == b"\xff\xd8"  # JPEG, as every chart of the report


# --- pages and API -------------------------------------------------------------------------


def test_evolution_page_shows_every_year(coordinator, session, world):
    b, (c24, c25, c26) = world
    html = coordinator.get("/t/23/evolution").text
    assert "Sur toutes les années" in html
    assert 'href="/aide/chiffres"' in html  # what each figure means, one click away
    # Above the two-year comparison, which stays as it was.
    assert html.index("Sur toutes les années") < html.index("Comparer deux années")
    assert html.index("Comparer deux années") < html.index("Nouveaux liens")
    t = _trend_table(html)
    assert t["years"] == ["2024", "2025", "2026"]
    for key in trends.HEADLINE:
        values = [cache.all_figures(session, c)["headline"][key] for c in (c24, c25, c26)]
        expected = [_pct(v) if key != "links" else str(v) for v in values]
        assert t[key] == expected, key
    assert t["response_rate"] == ["100 %", "60 %", "100 %"]
    assert t["density"] == ["0,100", "0,200", "0,250"]
    assert "en cours" in html  # 2026 is open
    # One chart: one line per charted figure, each its own dash pattern and marker.
    svg = re.search(r'<svg class="trend-chart".*?</svg>', html, re.S).group(0)
    groups = re.findall(r'<g class="series" data-key="(\w+)" data-dash="([^"]+)" '
                        r'data-marker="([^"]+)">', svg)  # fmt: skip
    assert [g[0] for g in groups] == [f.key for f in trends.TERRITORY_SERIES]
    assert len({g[1] for g in groups}) == len(groups) == len({g[2] for g in groups}) == 4
    assert 'role="img"' in svg and "<desc" in svg
    assert "Taux de réponse : 100" in plain(unescape(svg))  # direct label, last value


def test_viewer_does_not_see_a_rate_built_on_two_people(viewer, session, world):
    html = viewer.get("/t/23/evolution").text
    t = _trend_table(html)
    assert t["response_rate"] == ["—", "60 %", "100 %"]
    svg = plain(unescape(re.search(r'<svg class="trend-chart".*?</svg>', html, re.S).group(0)))
    assert "Taux de réponse en 2024" not in svg  # no point drawn
    assert "Taux de réponse : — en 2024" in svg
    # The structure page: its invited and respondents read « < 3 ».
    caf = world[0].orgs["caf"].id
    page = viewer.get(f"/t/23/structures/{caf}?annee=2026").text
    st = _trend_table(page)
    assert st["invited"] == ["< 3"] * 3 and st["responded"] == ["< 3"] * 3
    api = viewer.get("/api/v1/t/23/tendance").json()
    assert [r["response_rate"] for r in api["years"]] == ["—", 0.6, 1.0]


def test_trend_api(coordinator, session, world):
    r = coordinator.get("/api/v1/t/23/tendance")
    assert r.status_code == 200
    data = r.json()
    assert data["territory"] == "23"
    assert [y["year"] for y in data["years"]] == [2024, 2025, 2026]
    assert [y["response_rate"] for y in data["years"]] == [1.0, 0.6, 1.0]
    assert data["figures"]["fragile_share"] == "Part de liens fragiles"
    formal = coordinator.get("/api/v1/t/23/tendance?nature=formal").json()
    assert formal["filters"]["nature"] == "formal"
    assert coordinator.get("/api/v1/t/19/tendance").status_code == 404  # another territory


def test_trend_pages_leave_the_cached_graphs_and_figures_as_built(coordinator, session, world):
    b, _ = world
    caf = b.orgs["caf"].id
    for path in ("/t/23/evolution", "/t/23/evolution?nature=formal", "/api/v1/t/23/tendance",
                 f"/t/23/structures/{caf}?annee=2026"):  # fmt: skip
        assert coordinator.get(path).status_code == 200, path
    r = coordinator.get("/api/v1/t/23/tendance", params={"nature": "pas-un-code"})
    assert r.status_code == 422
    by_id = {c.id: c for c in session.exec(select(Campaign))}  # the draft 2027 too
    for e in list(cache.cache_for(session)._entries.values()):
        campaign_id, _, flt = e.key
        fresh = build_graph(session, by_id[campaign_id], flt)
        assert nx.utils.graphs_equal(e.graph, fresh), e.key
        done = e.cached("all_figures")
        if done is not None:
            assert json.dumps(done, sort_keys=True, default=str) == json.dumps(
                figures.all_figures(fresh), sort_keys=True, default=str
            ), e.key


def test_structure_page_shows_its_own_trend(coordinator, session, world):
    caf = world[0].orgs["caf"].id
    html = coordinator.get(f"/t/23/structures/{caf}?annee=2026").text
    assert "D'une année à l'autre" in html
    t = _trend_table(html)
    assert t["years"] == ["2024", "2025", "2026"]
    assert t["partners"] == ["1", "2", "2"]
    assert t["formal_partners"] == ["1", "1", "2"]
    assert t["invited"] == ["1", "1", "2"]  # a coordinator keeps exact counts
    assert t["answered"] == ["oui", "oui", "oui"]
    svg = re.search(r'<svg class="trend-chart".*?</svg>', html, re.S).group(0)
    assert len(re.findall(r'<g class="series"', svg)) == len(trends.STRUCTURE_SERIES)


def test_two_campaigns_no_territory_trend_but_a_structure_one(coordinator, session, world):
    b, (c24, _, _) = world
    c24.status = "draft"  # prepared, never opened: it does not count
    session.add(c24)
    session.commit()
    html = coordinator.get("/t/23/evolution").text
    assert "Sur toutes les années" not in html and "Nouveaux liens" in html
    page = coordinator.get(f"/t/23/structures/{b.orgs['caf'].id}?annee=2026").text
    assert _trend_table(page)["years"] == ["2025", "2026"]


# --- the PDF -------------------------------------------------------------------------------


def _pdf_text(data: bytes, tmp_path) -> str:
    """pdftotext (poppler) when installed, else pypdf."""
    if shutil.which("pdftotext"):
        path = tmp_path / "r.pdf"
        path.write_bytes(data)
        out = subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True
        )
        return plain(out.stdout.decode("utf-8"))
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return plain("\n".join(p.extract_text() or "" for p in reader.pages))


def test_pdf_carries_every_years_values(session, world, tmp_path):
    _, (c24, c25, c26) = world
    data = pdf.build_report(session, c26, c25)
    text = _pdf_text(data, tmp_path)
    assert "Sur toutes les années, de 2024 à 2026" in text
    lines = {line.strip().split(" ")[0]: line.strip() for line in text.splitlines()}
    assert "2024 2025 2026 (en cours)" in lines["Chiffre"]
    # The département reads the 2024 rate (two people) « — ».
    # (pdftotext may glue a narrow space to the « % »: « 0% ».)
    assert re.search(r"Taux de réponse — 60 ?% 100 ?%", text)
    assert re.search(r"Réciprocité 100 ?% 50 ?% 67 ?%", text)
    assert re.search(r"Part de liens formels 100 ?% 33 ?% 67 ?%", text)
    assert re.search(r"Part de liens fragiles 0 ?% 67 ?% 33 ?%", text)
    assert re.search(r"Liens entre structures 1 3 3", text)
    assert re.search(r"Densité des citations 0,100 0,200 0,250", text)


def test_pdf_of_an_earlier_year_stops_at_that_year_and_stays_the_same(session, world, tmp_path):
    _, (c24, c25, _) = world
    first = pdf.build_report(session, c25, c24)
    # Two campaigns up to 2025: no trend section, and no empty page in its place.
    text = _pdf_text(first, tmp_path)
    assert "Sur toutes les années, de" not in text  # (the annex defines the section)
    assert "Les chiffres clés, année par année" not in text
    assert pdf.build_report(session, c25, c24) == first


def test_a_closed_years_report_with_its_trend_is_the_same_bytes_every_time(
    session, world, tmp_path
):
    _, (_, c25, c26) = world
    c26.closes_on = date(2026, 12, 31)
    snapshot.close(session, c26)  # 2026 closes and is frozen
    session.commit()
    first = pdf.build_report(session, c26, c25, today=date(2030, 1, 1))
    again = pdf.build_report(session, c26, c25, today=date(2031, 6, 6))
    assert first == again
    text = _pdf_text(first, tmp_path)
    assert "Sur toutes les années, de 2024 à 2026" in text
    assert "(en cours)" not in text


def test_evolution_compares_the_latest_campaign_with_answers_not_a_draft(coordinator, world):
    """A draft 2027 is prepared: by default the comparison is 2025 → 2026, as the report."""
    html = unescape(coordinator.get("/t/23/evolution").text)
    assert "2027" not in html.split("Comparer deux années", 1)[1].split("</h2>", 1)[0]
    data = coordinator.get("/api/v1/t/23/evolution").json()
    assert data["years"] == [2025, 2026]


def test_a_structure_nobody_cites_back_has_a_reciprocity_of_zero_not_unknown(session, world):
    """MSA (2026) cites the CAF, which answered and does not cite it back: 0 %, not « n. d. »."""
    from reports import structure as structure_view

    b, (_, _, c26) = world
    g = cache.graph(session, c26)
    msa = b.orgs["msa"].id
    summary = structure_view.summary(g, msa, cache.all_figures(session, c26))
    assert summary["reciprocity"] == 0

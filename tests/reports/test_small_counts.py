"""The « < 3 » rule wherever figures leave the coordination (reports.privacy, docs/rgpd.md).

The scenario (tests/reports/scenario.py) has the SIAO with 1 invited professional and 1
respondent, the CAF with 2 of each, a tie CAF → SIAO carried by 1 professional and one
CAF → CCAS carried by 2. No export (every format, CLI and web) and no answer of the figures
API read by a viewer may hold a count of 1 or 2 people; a coordinator's follow-up page keeps
the exact counts.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
import zipfile

import pytest
import typer
from typer.testing import CliRunner

from app import cli_reports
from app.settings import get_settings
from reports import privacy
from tests.accounts_helpers import login, make_user
from tests.reports import scenario

# Keys (in JSON, GEXF, GraphML) whose integer values count professionals.
PEOPLE_KEYS = {
    "invited", "responded", "respondents", "link_carriers", "carriers", "carriers_before",
    "carriers_after", "declarations", "formal", "informal", "both", "responses",
}  # fmt: skip
# Nested dicts whose values count professionals (tie attributes, obstacles cited).
PEOPLE_DICTS = {
    "frequencies", "practices", "thematiques", "obstacles", "declarations_by_nature",
}  # fmt: skip
PEOPLE_PREFIXES = ("freq_", "practice_", "thematique_")
# CSV columns (French headers) counting professionals.
PEOPLE_COLUMNS = re.compile(
    r"invité|répondant|portant|déclarant|déclarations|^formel$|^informel$|^les deux$"
    r"|^fréquence|^pratique|^thématique"
)


def _small(v: object) -> bool:
    return type(v) is int and v in (1, 2)


def small_people_counts(data: object, path: str = "") -> list[str]:
    """Where `data` (parsed JSON) holds a count of 1 or 2 people."""
    found: list[str] = []
    if isinstance(data, dict):
        for k, v in data.items():
            where = f"{path}.{k}"
            if (k in PEOPLE_KEYS or k.startswith(PEOPLE_PREFIXES)) and _small(v):
                found.append(f"{where}={v}")
            elif k in PEOPLE_DICTS and isinstance(v, dict):
                found += [f"{where}.{c}={n}" for c, n in v.items() if _small(n)]
            else:
                found += small_people_counts(v, where)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            found += small_people_counts(v, f"{path}[{i}]")
    return found


def xml_small_people_counts(text: str) -> list[str]:
    """GEXF or GraphML: attribute values of 1 or 2 for an attribute counting people."""
    root = ET.fromstring(text.encode("utf-8"))
    names: dict[str, str] = {}
    for el in root.iter():
        tag = el.tag.split("}")[-1]
        if tag == "key":  # GraphML
            names[el.get("id") or ""] = el.get("attr.name") or ""
        elif tag == "attribute":  # GEXF
            names[el.get("id") or ""] = el.get("title") or ""
    found = []
    for el in root.iter():
        tag = el.tag.split("}")[-1]
        key, value = (
            (el.get("key"), el.text)
            if tag == "data"
            else (el.get("for"), el.get("value"))
            if tag == "attvalue"
            else (None, None)
        )
        name = names.get(key or "", "")
        counted = name in PEOPLE_KEYS or name.startswith(PEOPLE_PREFIXES)
        if counted and (value or "").strip() in ("1", "2"):
            found.append(f"{name}={value}")
    return found


def csv_small_people_counts(text: str) -> list[str]:
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows
    return [
        f"{col}={v}"
        for row in rows
        for col, v in row.items()
        if PEOPLE_COLUMNS.search(col) and v in ("1", "2")
    ]


def check_export(name: str, raw: bytes) -> list[str]:
    text = "" if name.endswith(".zip") else raw.decode("utf-8-sig")
    if name.endswith(".json"):
        return small_people_counts(json.loads(text))
    if name.endswith((".gexf", ".graphml")):
        return xml_small_people_counts(text)
    if name.endswith(".csv"):
        return csv_small_people_counts(text)
    if name.endswith(".zip"):
        found = []
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            for member in z.namelist():
                if member.endswith(".csv"):
                    found += [f"{member}: {x}" for x in check_export(member, z.read(member))]
        return found
    raise AssertionError(name)


@pytest.fixture
def world(session):
    b, c = scenario.build(session)
    # An earlier campaign, so that the year over year has something to compare.
    c25 = b.campaign(2025, "closed")
    b.invite(c25, "caf1", "siao1")
    b.respond(c25, "caf1", [{"org": "siao", "nature": "informal"}])
    session.commit()
    return b, c


@pytest.fixture
def cli(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    app = typer.Typer()
    app.command("noop")(lambda: None)
    cli_reports.register(app)
    yield lambda *args: CliRunner().invoke(app, list(args))
    get_settings.cache_clear()


def test_the_rule():
    assert [privacy.small_count(n) for n in (0, 1, 2, 3, None)] == [0, "< 3", "< 3", 3, None]
    assert privacy.small_count(True) is True  # « answered » is not a count
    assert privacy.small_rate(0.5, 2, 1) == "—" and privacy.small_rate(0.5, 4, 8) == 0.5
    figs = {"participation": {"invited": 2, "responded": 1, "rate": 0.5, "structures": []}}
    assert privacy.suppress_figures(figs, privacy.COORDINATOR) is figs
    out = privacy.suppress_figures(figs, privacy.PUBLIC)
    assert out["participation"]["invited"] == "< 3" and out["participation"]["rate"] == "—"
    assert figs["participation"]["invited"] == 2  # the cached figures are not touched


def test_no_export_holds_a_count_of_one_or_two_people(session, world, tmp_path, cli):
    for fmt, name in (("graphml", "c.graphml"), ("gexf", "c.gexf"), ("json", "c.json"),
                      ("csv", "c"), ("csv", "z.zip")):  # fmt: skip
        result = cli("export", "--territory", "23", "--year", "2026", "--format", fmt,
                     "--output", str(tmp_path / name))  # fmt: skip
        assert result.exit_code == 0, result.output
    written = sorted(tmp_path.iterdir())
    assert len(written) == 6
    for path in written:
        assert check_export(path.name, path.read_bytes()) == [], path.name
    # Not vacuous: the small counts are there, written « < 3 » (or left out of GraphML).
    nodes = (tmp_path / "c-noeuds.csv").read_text(encoding="utf-8-sig")
    siao = next(r for r in csv.DictReader(io.StringIO(nodes), delimiter=";") if r["nom"] == "SIAO")
    assert (siao["invité·es"], siao["répondant·es"]) == ("< 3", "< 3")
    data = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert {x["carriers"] for x in data["links"]} == {"< 3"}


@pytest.mark.parametrize("role", ["viewer", "coordinator"])
def test_no_web_export_holds_a_count_of_one_or_two_people(client, session, world, role):
    b, _ = world
    make_user(session, f"{role}@example.org", role=role, territory=b.territory)
    login(client, f"{role}@example.org")
    for fmt, name in (("gexf", "c.gexf"), ("graphml", "c.graphml"), ("json", "c.json"),
                      ("csv", "c.zip")):  # fmt: skip
        r = client.get(f"/t/23/exports/2026/{fmt}")
        assert r.status_code == 200, fmt
        assert check_export(name, r.content) == [], fmt


def test_no_figures_api_answer_to_a_viewer_holds_a_count_of_one_or_two(client, session, world):
    b, _ = world
    make_user(session, "lecteur@example.org", role="viewer", territory=b.territory)
    login(client, "lecteur@example.org")
    paths = ("/api/v1/t/23/figures/2026", "/api/v1/t/23/figures/2025",
             "/api/v1/t/23/figures/2026?type=siao", "/api/v1/t/23/graph/2026",
             "/api/v1/t/23/graph/2025", "/api/v1/t/23/evolution")  # fmt: skip
    for path in paths:
        r = client.get(path)
        assert r.status_code == 200, path
        assert small_people_counts(r.json()) == [], path
    figs = client.get("/api/v1/t/23/figures/2026").json()
    siao = next(r for r in figs["participation"]["structures"] if r["name"] == "SIAO")
    assert (siao["invited"], siao["responded"], siao["rate"]) == ("< 3", "< 3", "—")
    assert figs["obstacles"]["by_type"] and figs["participation"]["structures_total"] == 5


def test_a_coordinator_keeps_exact_counts(client, session, world):
    b, _ = world
    make_user(session, "coord@example.org", territory=b.territory)
    login(client, "coord@example.org")
    figs = client.get("/api/v1/t/23/figures/2026").json()
    siao = next(r for r in figs["participation"]["structures"] if r["name"] == "SIAO")
    assert (siao["invited"], siao["responded"], siao["rate"]) == (1, 1, 1.0)
    page = client.get("/t/23/campagnes/2026")
    assert page.status_code == 200
    text = re.sub(r"<[^>]+>", " ", page.text)
    assert "< 3" not in text and "&lt; 3" not in page.text
    rows = re.findall(r"<tr>(.*?)</tr>", page.text, re.S)
    siao_row = next(re.sub(r"<[^>]+>", "|", r) for r in rows if "SIAO" in r)
    cells = [c.strip() for c in siao_row.split("|") if c.strip()]
    assert "1" in cells, cells


def _text(html: str) -> str:
    """The visible text of a page, tags dropped, entities and no-break spaces made plain."""
    text = re.sub(r"<[^>]+>", "|", html).replace("&lt;", "<").replace("&nbsp;", " ")
    return text.replace("\u00a0", " ").replace("&#39;", "'")


def _row(html: str, name: str) -> list[str]:
    """The cells of the first table row naming `name`."""
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    row = next(r for r in rows if re.search(rf">{name}<", r))
    return [c.strip() for c in _text(row).split("|") if c.strip()]


def test_a_viewer_reads_the_rule_on_every_page(client, session, world):
    b, _ = world
    make_user(session, "lecteur@example.org", role="viewer", territory=b.territory)
    login(client, "lecteur@example.org")
    siao = b.orgs["siao"].id
    pages = {
        p: client.get(p)
        for p in ("/t/23/", "/t/23/campagnes/2026", "/t/23/carte?annee=2026",
                  "/t/23/carte/tableau?annee=2026", "/t/23/figures/2026",
                  f"/t/23/structures/{siao}?annee=2026", "/t/23/evolution")
    }  # fmt: skip
    assert {p: r.status_code for p, r in pages.items()} == dict.fromkeys(pages, 200)
    # Follow-up: the SIAO has 1 invited, who submitted; under a total of « < 3 », its zeros
    # read « < 3 » too, or the one person's status would show (reports.privacy.protect_table).
    row = _row(pages["/t/23/campagnes/2026"].text, "SIAO")
    assert row[1:] == ["< 3", "< 3", "< 3", "< 3", "—",
                       "(< 3 sur < 3 ; taux masqué : moins de trois personnes)"], row  # fmt: skip
    # Figures and table: invited, respondents, rate.
    assert _row(pages["/t/23/figures/2026"].text, "SIAO")[-3:] == ["< 3", "< 3", "—"]
    assert _row(pages["/t/23/carte/tableau?annee=2026"].text, "SIAO")[5:7] == ["< 3", "< 3"]
    # The map: neither a link nor a structure carries a count of 1 or 2 people.
    svg = pages["/t/23/carte?annee=2026"].text
    assert 'data-carriers="&lt; 3"' in svg
    assert not re.search(r'data-(carriers|invited|responded)="[12]"', svg)
    # The structure page: respondents and carriers.
    page = _text(pages[f"/t/23/structures/{siao}?annee=2026"].text)
    assert "Répondant·es|< 3 / < 3" in page.replace("||", "|")
    # The directory: how many declarations name the SIAO (2 this year, 1 in 2025).
    row = _row(client.get("/t/23/repertoire").text, "SIAO")
    assert row[-1] == "< 3", row


def test_a_coordinator_keeps_exact_counts_on_the_pages(client, session, world):
    b, _ = world
    make_user(session, "coord@example.org", territory=b.territory)
    login(client, "coord@example.org")
    html = client.get("/t/23/figures/2026").text
    assert _row(html, "SIAO")[-3:] == ["1", "1", "100 %"]
    svg = client.get("/t/23/carte?annee=2026").text
    assert re.search(r'data-carriers="1"', svg)
    assert _row(client.get("/t/23/repertoire").text, "SIAO")[-1] in ("2", "3")

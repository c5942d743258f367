"""Formula injection, as a class (issue 11, item 4): no CSV or XLSX the service writes holds a
cell a spreadsheet would run as a formula, whatever is stored, and numbers stay numbers.

Names, communes, functions, missions and services starting with = + - @ TAB or CR are written
straight into the database (as an import or a write-in could leave them), then every tabular
export is read back cell by cell: the graph export (CLI files and zip, web zip), the directory
and professionals exports (CSV, French Excel CSV, XLSX), the campaign links (web, both forms,
and `carte links`), every territory's frozen figures (administrator). Two guards catch a
writer added later: no `csv.writer(` / `Workbook(` outside `survey/cells.py`, and no download
route missing from the list below.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date
from pathlib import Path

import pytest
from fastapi.routing import iter_route_contexts
from openpyxl import load_workbook
from sqlmodel import Session
from typer.testing import CliRunner

from app.cli import cli
from app.settings import get_settings
from reports import snapshot
from survey import cells
from survey.models import (
    Body,
    BodyMember,
    Convention,
    ConventionParty,
    Organisation,
    Professional,
    Service,
    Zone,
    ZoneCommune,
)
from survey.tabular import write_csv, write_xlsx
from tests.accounts_helpers import login, make_user
from tests.conftest import TEST_SECRET
from tests.factories import build_world

ROOT = Path(__file__).resolve().parent.parent
FORMULAS = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\t=1", "\r=1"]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")

# Every route that downloads a table and the URLs that fetch each of its tabular formats
# (checked below against the app's routes: a new download must be added here, hence tested).
DOWNLOADS = {
    "/t/{code}/repertoire/export": [
        f"/t/23/repertoire/export?format={f}" for f in ("csv", "csv-excel", "xlsx")
    ],
    "/t/{code}/professionnels/export": [
        f"/t/23/professionnels/export?format={f}" for f in ("csv", "csv-excel", "xlsx")
    ],
    "/t/{code}/campagnes/{year}/liens.csv": [
        "/t/23/campagnes/2026/liens.csv",
        "/t/23/campagnes/2026/liens.csv?format=excel",
    ],
    "/t/{code}/exports/{year}/{fmt}": ["/t/23/exports/2025/csv"],  # gexf, graphml, json: XML
    "/admin/chiffres.csv": ["/admin/chiffres.csv"],  # fetched by an administrator
    **{
        f"/t/{{code}}/{page}/export": [
            f"/t/23/{page}/export?format={f}" for f in ("csv", "csv-excel", "xlsx")
        ]
        for page in ("instances", "conventions", "zones")
    },
}
NOT_TABLES = {"/t/{code}/exports"}  # the HTML page listing the graph exports
_DOWNLOAD_PATH = re.compile(r"export|\.csv|xlsx|tableur", re.IGNORECASE)
_WRITER = re.compile(r"csv\.(writer|DictWriter)\(|\bWorkbook\(|xlsxwriter|\.to_(csv|excel)\(")


def test_no_tabular_writer_outside_the_shared_cells():
    offenders = []
    for folder in ("app", "survey", "reports"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ROOT / "survey" / "cells.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if _WRITER.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "write tables through survey.cells:\n" + "\n".join(offenders)


def test_every_download_route_is_checked(app):
    paths = {
        rc.path
        for rc in iter_route_contexts(app.routes)
        if "GET" in (getattr(rc, "methods", None) or ()) and _DOWNLOAD_PATH.search(rc.path)
    }
    assert paths - NOT_TABLES == set(DOWNLOADS), "add the new download to DOWNLOADS"


def test_the_shared_cell_keeps_numbers_and_neutralises_text():
    assert [cells.cell(v) for v in FORMULAS] == [
        '\'=HYPERLINK("http://x")',
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\t=1",
        "'=1",  # CR is not a character a cell may hold (XLSX): dropped, then neutralised
    ]
    assert [cells.cell(v) for v in (-2, 3, -0.5, None, True)] == [-2, 3, -0.5, "", "oui"]
    assert cells.cell(-0.5, decimal_comma=True) == "-0,500"
    assert cells.cell("a\x00b\ufffe\ud800c") == "abc"
    rows = [["-2", -2, 1.5, "@x"]]
    text = write_csv(["a", "b", "c", "d"], rows).decode()
    assert text.splitlines()[1] == "'-2,-2,1.5,'@x"
    sheet = load_workbook(io.BytesIO(write_xlsx(["a", "b", "c", "d"], rows))).worksheets[0]
    assert [c.value for c in sheet[2]] == ["'-2", -2, 1.5, "'@x"]
    assert [c.data_type for c in sheet[2]] == ["s", "n", "n", "s"]


# --- every export of a territory whose names look like formulas ------------------------------


@pytest.fixture
def poisoned(session):
    """The test world with formula-like text in every column an export writes."""
    world = build_world(session)
    orgs = [world.orgs[k] for k in ("ccas", "caf", "siao", "msa")]
    orgs += [Organisation(territory_id=world.territory.id, name="", type="autre") for _ in "ab"]
    for i, org in enumerate(orgs):
        org.name = FORMULAS[i % 6] + (" bis" if i >= 4 else "")
        org.commune = FORMULAS[(i + 1) % 6]
        org.missions = FORMULAS[(i + 2) % 6]
        session.add(org)
    for i, svc in enumerate(world.services.values()):
        svc.name = FORMULAS[(i + 3) % 6]
    session.add(Service(organisation_id=world.orgs["caf"].id, name=FORMULAS[5]))
    for i, key in enumerate(("alice", "bruno")):
        pro = world.pros[key]
        pro.full_name = FORMULAS[i + 2]
        pro.function = FORMULAS[i + 4]
    session.add(
        Professional(
            territory_id=world.territory.id,
            full_name=FORMULAS[0],
            function=FORMULAS[1],
            email="-formule@example.org",
            organisation_id=world.orgs["msa"].id,
            service_id=None,
        )
    )
    # An instance, a zone and a convention, whose own names look like formulas too.
    body = Body(territory_id=world.territory.id, name=FORMULAS[4], description=FORMULAS[5])
    zone = Zone(territory_id=world.territory.id, name=FORMULAS[1])
    convention = Convention(
        territory_id=world.territory.id, title=FORMULAS[2], reference=FORMULAS[3],
        starts_on=date(2024, 1, 1),
    )  # fmt: skip
    session.add_all([body, zone, convention])
    session.flush()
    session.add_all(
        [
            BodyMember(body_id=body.id, organisation_id=orgs[0].id),
            ZoneCommune(zone_id=zone.id, key="formule", commune=FORMULAS[0]),
            ConventionParty(convention_id=convention.id, organisation_id=orgs[0].id),
            ConventionParty(convention_id=convention.id, organisation_id=orgs[1].id),
        ]
    )
    session.commit()
    return world


def _csv_cells(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8-sig")
    delimiter = ";" if text.split("\n", 1)[0].count(";") else ","
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _xlsx_cells(data: bytes) -> list[list[object]]:
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.worksheets[0]
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    return [[c.value for c in row] for row in sheet.iter_rows()]


def _tables(data: bytes, name: str) -> dict[str, list[list]]:
    if name.endswith(".xlsx"):
        return {name: _xlsx_cells(data)}
    if name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return {n: _csv_cells(z.read(n)) for n in z.namelist() if n.endswith(".csv")}
    return {name: _csv_cells(data)}


def _check(tables: dict[str, list[list]], seen: set[str]) -> list[str]:
    """Cells that would run as formulas; `seen` collects the neutralised ones."""
    problems = []
    for name, rows in tables.items():
        assert len(rows) > 1, f"{name} is empty"
        for line, row in enumerate(rows, 1):
            for value in row:
                if isinstance(value, str) and value.startswith(DANGEROUS):
                    problems.append(f"{name} line {line}: {value!r}")
                elif isinstance(value, str) and value[:1] == "'":
                    seen.add(value)
    return problems


def _column(rows: list[list[str]], header: str) -> list[str]:
    index = rows[0].index(header)
    return [row[index] for row in rows[1:]]


def test_every_export_neutralises_formulas_and_keeps_numbers(
    app, client, session, poisoned, database_url, tmp_path, monkeypatch
):
    world = poisoned
    make_user(session, "coord23@example.org", territory=world.territory)
    login(client, "coord23@example.org")
    tables: dict[str, list[list]] = {}
    # Every territory's figures (administrator): the territory's name is what they write.
    world.territory.name = FORMULAS[3]
    session.add(world.territory)
    snapshot.freeze(session, world.last_year)
    session.commit()
    make_user(session, "root@example.org", role="admin")
    for url in [u for urls in DOWNLOADS.values() for u in urls]:
        login(client, "root@example.org" if url.startswith("/admin/") else "coord23@example.org")
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        name = re.search(r'filename="([^"]+)"', response.headers["content-disposition"])[1]
        tables |= {f"{url} {k}": v for k, v in _tables(response.content, name).items()}

    # The command line: graph export as two files and as a zip, and `carte links`.
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        for output in ("carte.csv", "carte.zip"):
            args = ["export", "--territory", "23", "--year", "2025", "--format", "csv"]
            result = runner.invoke(cli, [*args, "--output", str(tmp_path / output)])
            assert result.exit_code == 0, result.output
        result = runner.invoke(cli, ["links", "--territory", "23", "--year", "2026"])
        assert result.exit_code == 0, result.output
    finally:
        get_settings.cache_clear()
    for path in sorted(tmp_path.glob("carte*")):
        tables |= {f"carte export {k}": v for k, v in _tables(path.read_bytes(), path.name).items()}
    tables["carte links"] = _csv_cells(result.stdout.encode())

    seen: set[str] = set()
    assert _check(tables, seen) == []
    # Not vacuous: every poisoned value came out, neutralised (CR dropped, see cells).
    assert {cells.cell(f) for f in FORMULAS} <= seen
    graph_zips = [k for k in tables if "exports/2025/csv" in k or k.startswith("carte export")]
    assert len(graph_zips) == 6  # noeuds + liens: web zip, CLI zip, CLI files

    # Numbers stay numbers in the graph tables, or « < 3 » for 1 or 2 people (reports.privacy),
    # and a dangerous-looking text did not shift a column.
    def count(v: str) -> bool:
        return v.isdigit() or v == "< 3"

    for name in graph_zips:
        rows = tables[name]
        if "noeuds" in name:
            for header in ("invité·es", "répondant·es", "partenaires (degré)"):
                assert all(count(v) for v in _column(rows, header)), (name, header)
            assert all(v.isdigit() for v in _column(rows, "partenaires (degré)")), name
            assert "'+1" in _column(rows, "commune")
        else:
            assert all(count(v) for v in _column(rows, "déclarations")), name
            means = [v for v in _column(rows, "qualité moyenne") if v]
            assert all(re.fullmatch(r"\d+,\d{3}", v) for v in means), name
            assert '\'=HYPERLINK("http://x")' in _column(rows, "source"), name
    with Session(session.get_bind()) as s:  # nothing was changed by exporting
        assert s.get(Organisation, world.orgs["ccas"].id).name == FORMULAS[0]

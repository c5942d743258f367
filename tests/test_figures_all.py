"""Every territory's headline figures from the frozen campaigns (issue 13): `carte figures
--all` (CSV and table) and the administrator's page `/admin/chiffres`.

Territories: Creuse (tests/factories.py: 2025 closed, one respondent: small counts; 2026
open), Haute-Vienne (2024 and 2025 closed and frozen, 4 respondents of 5), Corrèze (2026
open only: absent) and Corse-du-Sud (closed by a script, never frozen: absent, and said).
"""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from app.cli import cli
from app.settings import get_settings
from reports import snapshot
from survey import directory
from survey.directory import StructureData
from survey.models import Campaign, Territory
from tests.accounts_helpers import login, make_user
from tests.conftest import TEST_SECRET
from tests.factories import build_world
from tests.reports.builders import Builder

HEADERS = [
    "Territoire",
    "Nom",
    "Année",
    "Structures",
    "Liens",
    "Densité",
    "Composantes",
    "Personnes invitées",
    "Répondants",
    "Taux de réponse",
    "Réciprocité",
    "Part de liens formels",
    "Part de liens fragiles",
    "Figée le",
]
NBSP = "\u00a0"


def _haute_vienne(session: Session) -> tuple[Builder, Campaign, Campaign]:
    b = Builder.start(session, "87", "Haute-Vienne")
    for key, type_ in (("caf", "caf"), ("ccas", "ccas-cias"), ("siao", "siao"), ("ml", "mission-locale")):  # fmt: skip
        b.org(key, type_)
    for key, org in (("caf1", "caf"), ("caf2", "caf"), ("ccas1", "ccas"), ("siao1", "siao"), ("ml1", "ml")):  # fmt: skip
        b.pro(key, org)
    c24 = b.campaign(2024, "open")  # one open campaign at a time
    b.invite(c24, "caf1", "caf2", "ccas1", "siao1", "ml1")
    b.respond(c24, "caf1", [{"org": "ccas", "nature": "formal"}, {"org": "siao", "nature": "informal"}])  # fmt: skip
    b.respond(c24, "ccas1", [{"org": "caf", "nature": "formal"}])
    b.respond(c24, "siao1", [{"org": "ml", "nature": "informal"}])
    b.respond(c24, "ml1", [{"org": "siao", "nature": "both"}])
    snapshot.close(session, c24)  # closing freezes, in the same transaction
    c25 = b.campaign(2025, "open")
    b.invite(c25, "caf1", "caf2", "ccas1", "siao1", "ml1")
    b.respond(c25, "caf1", [{"org": "ccas", "nature": "formal"}])
    b.respond(c25, "caf2", [{"org": "ccas", "nature": "formal"}, {"org": "ml", "nature": "informal"}])  # fmt: skip
    b.respond(c25, "ccas1", [{"org": "caf", "nature": "formal"}])
    b.respond(c25, "siao1", [{"org": "ml", "nature": "informal"}])
    snapshot.close(session, c25)
    session.commit()
    return b, c24, c25


@pytest.fixture
def world(session):
    w = build_world(session)
    snapshot.freeze(session, w.last_year)  # Creuse 2025, closed in the factory
    hv = _haute_vienne(session)
    corse = Territory(code="2A", name="Corse-du-Sud")
    session.add(corse)
    session.flush()
    session.add(Campaign(territory_id=corse.id, year=2025, status="closed"))  # never frozen
    session.commit()
    return w, hv


@pytest.fixture
def carte(database_url, engine, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET)
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(cli, ["figures", *args])
        # CliRunner's .stdout turns CRLF into LF: the bytes are what a file or a pipe gets.
        result.out = result.stdout_bytes.decode("utf-8")
        return result

    yield run
    get_settings.cache_clear()


def _csv(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff") and "\r\n" in text
    reader = csv.DictReader(io.StringIO(text[1:], newline=""), delimiter=";")
    assert reader.fieldnames == HEADERS
    return list(reader)


def _share(x: float | None) -> str:
    return "" if x is None else f"{x:.3f}".replace(".", ",")


def _expected(session: Session, campaign: Campaign, code: str, name: str) -> dict[str, str]:
    """The CSV row of a frozen campaign, from its stored figures (exact counts)."""
    figs = snapshot.stored_figures(session, campaign)
    assert figs is not None
    h, s, p = figs["headline"], figs["size"], figs["participation"]
    return {
        "Territoire": code,
        "Nom": name,
        "Année": str(campaign.year),
        "Structures": str(s["structures"]),
        "Liens": str(h["links"]),
        "Densité": _share(s["density"]),
        "Composantes": str(s["components"]),
        "Personnes invitées": str(p["invited"]),
        "Répondants": str(p["responded"]),
        "Taux de réponse": _share(h["response_rate"]),
        "Réciprocité": _share(h["reciprocity"]),
        "Part de liens formels": _share(h["formal_share"]),
        "Part de liens fragiles": _share(h["fragile_share"]),
    }


def _without_date(row: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in row.items() if k != "Figée le"}


def test_csv_rows_are_the_frozen_figures(carte, session, world):
    w, (hv, c24, c25) = world
    result = carte("--all", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = _csv(result.out)
    assert [r["Territoire"] for r in rows] == ["23", "87"]  # Corrèze (open), Corse (not frozen)
    creuse, haute_vienne = rows
    assert _without_date(haute_vienne) == _expected(session, c25, "87", "Haute-Vienne")
    assert haute_vienne["Personnes invitées"] == "5" and haute_vienne["Répondants"] == "4"
    assert haute_vienne["Taux de réponse"] == "0,800" and haute_vienne["Liens"] == "3"
    # Creuse 2025: Alice alone was invited and answered: « < 3 », the rate withheld.
    expected = _expected(session, w.last_year, "23", "Creuse")
    assert expected["Personnes invitées"] == "1"  # the test world really has a small count
    assert _without_date(creuse) == expected | {
        "Personnes invitées": "< 3",
        "Répondants": "< 3",
        "Taux de réponse": "—",
    }
    assert creuse["Figée le"][:4].isdigit() and len(creuse["Figée le"]) == 10
    assert "1 campagne(s) close(s) pas encore figée(s)" in result.stderr


def test_year_selection(carte, session, world):
    w, (hv, c24, c25) = world
    rows = _csv(carte("--all", "--year", "2024", "--format", "csv").out)
    assert [_without_date(r) for r in rows] == [_expected(session, c24, "87", "Haute-Vienne")]
    rows = _csv(carte("--all", "--year", "2025", "--format", "csv").out)
    assert [(r["Territoire"], r["Année"]) for r in rows] == [("23", "2025"), ("87", "2025")]
    # One territory's closed years, oldest first.
    rows = _csv(carte("--territory", "87", "--format", "csv").out)
    assert [r["Année"] for r in rows] == ["2024", "2025"]


def test_directory_changes_after_freezing_change_nothing(carte, session, world):
    w, (hv, c24, c25) = world
    before_csv = carte("--all", "--format", "csv").out
    before_table = carte("--all").out
    caf = hv.orgs["caf"]
    directory.update_structure(
        session, caf, StructureData(name="CAF renommée", type=caf.type, commune=caf.commune)
    )
    directory.merge_structures(session, hv.orgs["ml"], hv.orgs["siao"])  # one structure less
    hv.respond(c25, "ml1", [{"org": "caf", "nature": "formal"}])  # a late answer
    session.commit()
    assert carte("--all", "--format", "csv").out == before_csv
    assert carte("--all").out == before_table
    # The changes are real: freezing 2025 again takes them in.
    c25 = session.get(Campaign, c25.id)
    snapshot.freeze(session, c25)
    session.commit()
    after = {r["Territoire"]: r for r in _csv(carte("--all", "--format", "csv").out)}
    assert after["87"]["Structures"] == "3" and after["87"]["Répondants"] == "5"


def test_table_is_aligned_and_french(carte, world):
    result = carte("--all")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Territoire  Nom") and "Taux de réponse" in lines[0]
    assert set(lines[1].replace(" ", "")) == {"-"}
    creuse = next(line for line in lines if line.startswith("23 "))
    hv = next(line for line in lines if line.startswith("87 "))
    assert f"<{NBSP}3" in creuse and "—" in creuse and "Creuse" in creuse
    assert "80,0\u202f%" in hv  # French percent, one decimal
    # Aligned: every value ends in the same column as its header (numbers right-aligned).
    end = lines[0].index("Répondants") + len("Répondants")
    assert hv[:end].endswith(" 4") and creuse[:end].endswith(f"<{NBSP}3")


def test_output_file(carte, world, tmp_path):
    target = tmp_path / "chiffres.csv"
    result = carte("--all", "--format", "csv", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert "Écrit" in result.stdout and "2 ligne(s)" in result.stdout
    assert target.read_bytes().startswith("\ufeffTerritoire;".encode())
    assert target.read_bytes().decode("utf-8") == carte("--all", "--format", "csv").out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--all", "--year", "abc"], "Année « abc » invalide"),
        (["--all", "--year", "²"], "Année « ² » invalide"),
        (["--all", "--year", "2026"], "Aucune campagne close en 2026. Années closes : 2024, 2025."),
        ([], "Indiquez --all"),
        (["--all", "--territory", "87"], "--all et --territory s'excluent"),
        (["--all", "--format", "xml"], "Format « xml » inconnu"),
        (["--territory", "99"], "Territoire « 99 » inconnu."),
        (["--territory", "19"], "Aucune campagne close pour le territoire « 19 »."),
        (["--all", "--output", "/nonexistent-dir/x.csv"], "Impossible d'écrire"),
    ],
)
def test_bad_input_is_refused_in_french(carte, world, args, message):
    result = carte(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output and not result.stdout
    assert isinstance(result.exception, SystemExit)


def test_output_is_a_directory(carte, world, tmp_path):
    result = carte("--all", "--output", str(tmp_path))
    assert result.exit_code == 2 and "est un dossier" in result.stderr


def test_nothing_frozen_yet(carte, session):
    result = carte("--all")
    assert result.exit_code == 1
    assert "Aucune campagne close : rien à lister." in result.stderr


# --- the administrator's page --------------------------------------------------------------


@pytest.fixture
def admin_client(client, session, world):
    make_user(session, "root@example.org", role="admin")
    login(client, "root@example.org")
    return client


def test_admin_page_shows_the_table(admin_client, carte):
    page = admin_client.get("/admin/chiffres")
    assert page.status_code == 200
    html = page.text
    assert "<caption>Chiffres clés de la dernière campagne close de chaque territoire" in html
    assert '<th scope="col" class="num">Taux de réponse</th>' in html
    assert '<th scope="row"><a href="/t/87/figures/2025">87</a></th>' in html
    assert "Haute-Vienne" in html and "Creuse" in html
    assert "Corrèze" not in html and "Corse-du-Sud" not in html
    assert f"&lt;{NBSP}3" in html and "80,0\u202f%" in html
    assert 'aria-current="page">Chiffres clés</a>' in html
    assert "1 campagne close pas encore figée" in html
    assert 'href="/admin/chiffres.csv" download>Télécharger en CSV</a>' in html
    # The year selector is a plain GET form.
    assert '<form method="get" action="/admin/chiffres"' in html
    assert '<option value="2024">2024</option>' in html
    csv_response = admin_client.get("/admin/chiffres.csv")
    assert csv_response.status_code == 200
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_response.headers["content-disposition"]
    assert csv_response.content.decode("utf-8") == carte("--all", "--format", "csv").out


def test_admin_page_year(admin_client, carte):
    html = admin_client.get("/admin/chiffres?annee=2024").text
    assert "Chiffres clés des campagnes 2024" in html
    assert '<option value="2024" selected>2024</option>' in html
    assert "Haute-Vienne" in html and ">23</a>" not in html
    assert 'href="/admin/chiffres.csv?annee=2024"' in html
    body = admin_client.get("/admin/chiffres.csv?annee=2024").content.decode("utf-8")
    assert body == carte("--all", "--year", "2024", "--format", "csv").out
    for bad, message in (
        ("abc", "Année « abc » invalide"),
        ("2031", "Aucune campagne close en 2031"),
    ):
        page = admin_client.get(f"/admin/chiffres?annee={bad}")
        assert page.status_code == 404 and message in page.text and "<table" not in page.text
        assert admin_client.get(f"/admin/chiffres.csv?annee={bad}").status_code == 404


def test_admin_page_is_for_administrators_only(client, session, world):
    w, _ = world
    for path in ("/admin/chiffres", "/admin/chiffres.csv"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    make_user(session, "coord@example.org", territory=w.territory)
    make_user(session, "lecteur@example.org", role="viewer", territory=w.territory)
    for email in ("coord@example.org", "lecteur@example.org"):
        login(client, email)
        for path in ("/admin/chiffres", "/admin/chiffres.csv", "/admin/chiffres?annee=2025"):
            response = client.get(path)
            assert response.status_code == 404, (email, path)
            assert "Haute-Vienne" not in response.text

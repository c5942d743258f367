"""Exports read back with independent readers (xml.etree, csv, json), and the CLI."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
import zipfile

import pytest
import typer
from typer.testing import CliRunner

from app import cli_reports
from app.settings import get_settings
from reports import exports, figures
from reports.graph import build_graph
from tests.reports import scenario

GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"
PERSONAL = ("Personne", "@example.org")  # what the builder puts in names and e-mails


def _graphml(path):
    root = ET.parse(path).getroot()
    graph = root.find(f"{GRAPHML}graph")
    keys = {k.get("id"): k.get("attr.name") for k in root.findall(f"{GRAPHML}key")}
    nodes = {}
    for n in graph.findall(f"{GRAPHML}node"):
        nodes[n.get("id")] = {keys[d.get("key")]: d.text for d in n.findall(f"{GRAPHML}data")}
    edges = {}
    for e in graph.findall(f"{GRAPHML}edge"):
        edges[(e.get("source"), e.get("target"))] = {
            keys[d.get("key")]: d.text for d in e.findall(f"{GRAPHML}data")
        }
    return graph.get("edgedefault"), nodes, edges


def test_graphml_read_back_independently(session, tmp_path):
    _, c = scenario.build(session)
    g = build_graph(session, c)
    path = tmp_path / "carte.graphml"
    exports.export(g, "graphml", path)
    direction, nodes, edges = _graphml(path)
    assert direction == "directed"
    assert set(nodes) == {str(n) for n in g.nodes}
    assert set(edges) == {(str(u), str(v)) for u, v in g.edges}
    n, m = len(nodes), len(edges)
    assert m / (n * (n - 1)) == pytest.approx(figures.size(g)["density"])
    caf = next(k for k, a in nodes.items() if a["label"] == "CAF")
    ccas = next(k for k, a in nodes.items() if a["label"] == "CCAS")
    e = edges[(caf, ccas)]
    # Declared by 2 professionals: every count of people on the tie is 1 or 2, left out
    # (« < 3 », reports.privacy); counts of 0 and the tie itself stay.
    for key in ("carriers", "declarations", "formal", "practice_referral", "freq_weekly"):
        assert key not in e
    assert "thematique_logement-hebergement" not in e and "quality_mean" not in e
    assert e["freq_monthly"] == "0"
    # The CAF: 2 invited, left out too; whether it answered is not a count.
    assert "invited" not in nodes[caf] and nodes[caf]["answered"].lower() == "true"
    assert nodes[caf]["degree"] == "3"  # partners are structures, not people
    text = path.read_text(encoding="utf-8")
    assert not any(p in text for p in PERSONAL)
    assert "aucun nom" in text  # the notice travels with the file


def test_gexf_and_json(session, tmp_path):
    _, c = scenario.build(session)
    g = build_graph(session, c)
    exports.export(g, "gexf", tmp_path / "c.gexf")
    root = ET.parse(tmp_path / "c.gexf").getroot()
    ns = root.tag.split("}")[0] + "}"
    assert len(root.findall(f".//{ns}node")) == g.number_of_nodes() == 5
    assert len(root.findall(f".//{ns}edge")) == g.number_of_edges() == 5
    assert {x.get("label") for x in root.findall(f".//{ns}node")} == {
        "CAF",
        "CCAS",
        "SIAO",
        "MSA",
        "PROP",
    }
    exports.export(g, "json", tmp_path / "c.json")
    data = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert len(data["nodes"]) == 5 and len(data["links"]) == 5
    first = next(
        x for x in data["links"] if x["carriers"] == "< 3" and "referral" in x["practices"]
    )
    assert first["practices"] == {"referral": "< 3", "rights_access": "< 3"}
    assert first["quality_mean"] is None  # the mean of 1 or 2 answers is withheld
    for p in ("c.gexf", "c.json"):
        assert not any(s in (tmp_path / p).read_text(encoding="utf-8") for s in PERSONAL)


def test_csv_is_excel_friendly(session, tmp_path):
    _, c = scenario.build(session)
    g = build_graph(session, c)
    written = exports.export(g, "csv", tmp_path / "carte.csv")
    assert [p.name for p in written] == ["carte-noeuds.csv", "carte-liens.csv"]
    raw = written[1].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))
    assert len(rows) == 5
    caf_ccas = next(r for r in rows if (r["source"], r["cible"]) == ("CAF", "CCAS"))
    assert caf_ccas["professionnel·les déclarant"] == "< 3"
    assert caf_ccas["qualité moyenne"] == ""  # 2 answers: withheld
    assert caf_ccas["pratique : Orientation"] == "< 3"
    assert caf_ccas["pratique : Synthèse pluridisciplinaire"] == "0"
    nodes = list(
        csv.DictReader(written[0].read_bytes().decode("utf-8-sig").splitlines(), delimiter=";")
    )
    msa = next(r for r in nodes if r["nom"] == "MSA")
    assert (msa["invité·es"], msa["répondant·es"], msa["a répondu"]) == ("< 3", "0", "non")
    (zipped,) = exports.export(g, "csv", tmp_path / "carte.zip")
    with zipfile.ZipFile(zipped) as z:
        assert sorted(z.namelist()) == ["LISEZMOI.txt", "liens.csv", "noeuds.csv"]
        assert z.read("liens.csv") == raw
    for p in written:
        assert not any(s in p.read_text(encoding="utf-8-sig") for s in PERSONAL)


@pytest.fixture
def cli(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    app = typer.Typer()
    app.command("noop")(lambda: None)  # a group, so `export` is a sub-command as in `carte`
    cli_reports.register(app)
    yield lambda *args: CliRunner().invoke(app, list(args))
    get_settings.cache_clear()


def test_cli_export_writes_every_format(session, tmp_path, cli):
    scenario.build(session)
    for fmt, name in (
        ("graphml", "c.graphml"),
        ("gexf", "c.gexf"),
        ("json", "c.json"),
        ("csv", "c"),
    ):
        result = cli(
            "export",
            "--territory",
            "23",
            "--year",
            "2026",
            "--format",
            fmt,
            "--output",
            str(tmp_path / name),
        )
        assert result.exit_code == 0, result.output
        assert "Aucun nom" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "c-liens.csv", "c-noeuds.csv", "c.gexf", "c.graphml", "c.json",
    ]  # fmt: skip
    _, nodes, edges = _graphml(tmp_path / "c.graphml")
    assert (len(nodes), len(edges)) == (5, 5)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--territory", "99", "--year", "2026", "--format", "json"), "Territoire « 99 » inconnu"),
        (("--territory", "23", "--year", "1999", "--format", "json"), "Pas de campagne 1999"),
        (("--territory", "23", "--year", "2026", "--format", "pdf"), "Format « pdf » inconnu"),
    ],
)
def test_cli_errors_are_french_with_code_2(session, tmp_path, cli, args, message):
    scenario.build(session)
    result = cli("export", *args, "--output", str(tmp_path / "x"))
    assert result.exit_code == 2
    assert message in result.output
    assert not list(tmp_path.iterdir())

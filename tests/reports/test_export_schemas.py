"""Every graph export against its official schema, and safe whatever the database holds.

GEXF is validated against the GEXF 1.2draft XSD and GraphML against the GraphML 1.0 XSD, both
vendored under tests/schemas/ (sources and licences in its README), loaded without network.
Then names and communes holding characters XML 1.0 forbids are written straight into the
database (past the entry rule of survey/text.py, as an older version or a hand edit could
have): every export still parses with lxml, networkx and igraph, and still validates.
Issue 11, items 2 and 7; both databases.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import igraph
import networkx as nx
import pytest
from lxml import etree
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.cli import cli
from app.settings import get_settings
from survey.models import Organisation
from survey.text import strip_forbidden
from tests.accounts_helpers import login, make_user
from tests.conftest import TEST_SECRET
from tests.reports import scenario

SCHEMAS = Path(__file__).parents[1] / "schemas"
GRAPHML_BASE = "http://graphml.graphdrawing.org/xmlns/1.0/"
# The vendored GEXF files are gephi/gexf's, whose namespace reads ".../1.2"; the schema
# published as 1.2draft (what networkx and Gephi write) is the same text with ".../1.2draft".
GEXF_VENDORED_NS, GEXF_DRAFT_NS = "http://www.gexf.net/1.2", "http://www.gexf.net/1.2draft"
# What the database may hold although the entries refuse it (PostgreSQL cannot store NUL,
# and no driver can store a lone surrogate).
POISON = "\x01\x08\x0b\x0c\x1f\ufffe\uffff"


class _Vendored(etree.Resolver):
    """Schema documents come from tests/schemas only: never from the network."""

    def resolve(self, url, pubid, context):
        name = url.rsplit("/", 1)[-1]
        if url.startswith(GRAPHML_BASE):
            return self.resolve_filename(str(SCHEMAS / "graphml-1.0" / name), context)
        if url.endswith(".xsd") and (SCHEMAS / "gexf-1.2" / name).is_file():
            return self.resolve_string(_gexf_draft(name), context, base_url=url)
        return None


def _gexf_draft(name: str) -> str:
    text = (SCHEMAS / "gexf-1.2" / name).read_text(encoding="utf-8")
    return text.replace(f'"{GEXF_VENDORED_NS}', f'"{GEXF_DRAFT_NS}')


def _parser() -> etree.XMLParser:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_Vendored())
    return parser


@pytest.fixture(scope="module")
def gexf_schema() -> etree.XMLSchema:
    root = etree.fromstring(
        _gexf_draft("gexf.xsd").encode(),
        _parser(),
        base_url=str(SCHEMAS / "gexf-1.2" / "gexf.xsd"),
    )
    return etree.XMLSchema(root)


@pytest.fixture(scope="module")
def graphml_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "graphml-1.0" / "graphml.xsd"), _parser()))


def _valid(schema: etree.XMLSchema, data: bytes) -> etree._Element:
    """The parsed document (lxml: well-formed or raises), after schema validation."""
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    if not schema.validate(root):
        raise AssertionError(str(schema.error_log))
    return root


def test_the_schemas_refuse_what_they_should(gexf_schema, graphml_schema):
    """The vendored schemas do check: networkx's own GEXF (<graph name="">, issue 11 item 7)
    and a GraphML key with an unknown type fail."""
    g = nx.DiGraph()
    g.add_edge(1, 2)
    with pytest.raises(AssertionError, match="name"):
        _valid(gexf_schema, "\n".join(nx.generate_gexf(g)).encode())
    bad = b'<graphml xmlns="http://graphml.graphdrawing.org/xmlns"><key id="k" attr.type="text"/></graphml>'
    with pytest.raises(AssertionError, match="attr.type"):
        _valid(graphml_schema, bad)
    good = "\n".join(nx.generate_graphml(g)).encode()
    _valid(graphml_schema, good)


# --- the exports --------------------------------------------------------------------------


@pytest.fixture
def carte(database_url, engine, monkeypatch):
    """`carte …` (the real command, app.cli) on the test database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET)
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(cli, list(args))
    get_settings.cache_clear()


def _cli_exports(carte, tmp_path: Path) -> dict[str, bytes]:
    """{format: bytes} of `carte export` for 2026 in every format (csv as a zip)."""
    out = {}
    for fmt, name in (("gexf", "c.gexf"), ("graphml", "c.graphml"), ("json", "c.json"),
                      ("csv", "c.zip")):  # fmt: skip
        result = carte("export", "--territory", "23", "--year", "2026", "--format", fmt,
                       "--output", str(tmp_path / name))  # fmt: skip
        assert result.exit_code == 0, result.output
        out[fmt] = (tmp_path / name).read_bytes()
    return out


def _web_exports(client, query: str = "") -> dict[str, bytes]:
    out = {}
    for fmt in ("gexf", "graphml", "json", "csv"):
        r = client.get(f"/t/23/exports/2026/{fmt}{query}")
        assert r.status_code == 200, (fmt, r.status_code)
        out[fmt] = r.content
    return out


def _check_all(exports: dict[str, bytes], gexf_schema, graphml_schema, tmp_path: Path) -> dict:
    """Validate and read back every format with independent readers; returns the node labels
    each reader saw, by reader."""
    seen: dict[str, set[str]] = {}
    ns = {"g": GEXF_DRAFT_NS}
    root = _valid(gexf_schema, exports["gexf"])
    seen["lxml gexf"] = {n.get("label") for n in root.iterfind(".//g:node", ns)}
    (tmp_path / "r.gexf").write_bytes(exports["gexf"])
    g = nx.read_gexf(tmp_path / "r.gexf")
    seen["networkx gexf"] = {a["label"] for _, a in g.nodes(data=True)}

    root = _valid(graphml_schema, exports["graphml"])
    keys = {k.get("id"): k.get("attr.name") for k in root.iterfind("{*}key")}
    label_key = next(k for k, name in keys.items() if name == "label")
    seen["lxml graphml"] = {d.text for d in root.iterfind(f".//{{*}}data[@key='{label_key}']")}
    (tmp_path / "r.graphml").write_bytes(exports["graphml"])
    g = nx.read_graphml(tmp_path / "r.graphml")
    seen["networkx graphml"] = {a["label"] for _, a in g.nodes(data=True)}
    ig = igraph.Graph.Read_GraphML(str(tmp_path / "r.graphml"))
    assert ig.is_directed() and ig.vcount() == g.number_of_nodes()
    seen["igraph graphml"] = set(ig.vs["label"])

    data = json.loads(exports["json"])
    seen["json"] = {n["name"] for n in data["nodes"]}
    with zipfile.ZipFile(io.BytesIO(exports["csv"])) as z:
        rows = csv.DictReader(io.StringIO(z.read("noeuds.csv").decode("utf-8-sig")), delimiter=";")
        seen["csv"] = {r["nom"] for r in rows}
    return seen


def test_every_export_is_valid(session, carte, client, tmp_path, gexf_schema, graphml_schema):
    b, _ = scenario.build(session)
    make_user(session, "lecteur@example.org", role="viewer", territory=b.territory)
    session.commit()
    names = {"CAF", "CCAS", "SIAO", "MSA", "PROP"}
    seen = _check_all(_cli_exports(carte, tmp_path), gexf_schema, graphml_schema, tmp_path)
    assert all(labels == names for labels in seen.values()), seen
    login(client, "lecteur@example.org")
    for query in ("", "?nature=formal", "?type=caf"):  # the web zip, filtered or not
        seen = _check_all(_web_exports(client, query), gexf_schema, graphml_schema, tmp_path)
        assert seen["lxml gexf"] <= names and seen["igraph graphml"] == seen["lxml graphml"]


def _poison(session: Session, b) -> dict[str, str]:
    """Names and communes with forbidden characters, written past every entry rule; returns
    {stored name: name as the exports must show it}."""
    poison = POISON + ("\x00" if session.get_bind().dialect.name == "sqlite" else "")
    expected = {}
    for i, key in enumerate(("caf", "ccas", "siao", "msa", "prop")):
        org: Organisation = b.orgs[key]
        # One forbidden character per name, a different one each, plus all of them in one.
        org.name = f"{key.upper()}{poison[i % len(poison)]} n°{i}" if i else f"CAF{poison}x"
        org.commune = f"Gué{poison}ret"
        expected[org.name] = strip_forbidden(org.name)
        session.add(org)
    session.commit()
    session.expire_all()
    stored = set(session.exec(select(Organisation.name)).all())
    assert set(expected) <= stored  # the database really holds them
    return expected


def test_exports_of_forbidden_characters_in_the_database(
    session, carte, client, tmp_path, gexf_schema, graphml_schema
):
    b, _ = scenario.build(session)
    make_user(session, "lecteur@example.org", role="viewer", territory=b.territory)
    expected = set(_poison(session, b).values())
    assert "CAFx" in expected
    login(client, "lecteur@example.org")
    for exports in (_cli_exports(carte, tmp_path), _web_exports(client)):
        seen = _check_all(exports, gexf_schema, graphml_schema, tmp_path)
        for reader in ("lxml gexf", "networkx gexf", "lxml graphml", "networkx graphml",
                       "igraph graphml", "csv"):  # fmt: skip
            assert seen[reader] == expected, (reader, seen[reader])
        assert len(seen["json"]) == len(expected)  # JSON escapes them: still valid JSON
        assert "Gu\u00e9ret" in exports["graphml"].decode("utf-8")

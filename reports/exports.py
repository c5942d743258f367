"""Exports of a graph: GEXF and GraphML (Gephi), CSV nodes and links (Excel), JSON node-link.

Exports are at structure (or service) level: the graph holds no professional's name, e-mail
or id, so nothing personal can be written. Nested attributes (frequencies, practices,
thématiques) are flattened to one scalar column per code, always the whole vocabulary so
every file has the same columns; missing values (no quality given) are left out in
GEXF/GraphML and empty in CSV.

The « < 3 » rule (reports.privacy, docs/rgpd.md) holds in every format: a count of 1 or 2
professionals (invited, responded, carrying a structure's ties, declaring a tie, a nature, a
frequency, a practice…) is written « < 3 » in CSV and JSON and left out in GEXF and GraphML,
whose attributes stay typed as integers (an absent count there means « < 3 »); the mean
quality of a tie declared by 1 or 2 professionals is left out. Counts of structures and
links stay exact.

GEXF and GraphML are well-formed and valid against the official GEXF 1.2draft and GraphML
1.0 schemas (tests/reports/test_export_schemas.py), whatever text is in the database:
characters XML 1.0 forbids are refused at every entry (survey/text.py) and, for anything
stored before that rule or by hand, dropped here at write time.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import networkx as nx
from networkx.readwrite.gexf import GEXFWriter

from reports import privacy
from reports.structure import partner_count
from survey import cells, fields, vocab
from survey.text import strip_forbidden

FORMATS = ("gexf", "graphml", "csv", "json")

NOTICE = (
    "Export de la carte partenariale au niveau des structures : aucun nom ni adresse de "
    "professionnel·le. Contenu : les structures (type, commune, personnes invitées et "
    "répondantes) et les liens déclarés entre elles (nombre de professionnel·les qui les "
    "déclarent, formel / informel, fréquence, ce qui est construit ensemble, thématiques, "
    "qualité moyenne). Un effectif d'une ou deux personnes est noté « < 3 » (absent dans "
    "les fichiers GEXF et GraphML) et la qualité moyenne d'un lien déclaré par une ou deux "
    "personnes n'est pas donnée."
)

# Edge attributes counted per code, one column per code: the frequencies, and the partner
# questions the graph pivots (`survey.fields`, aggregate "tag_counts").
_FLAT = {
    "frequencies": ("freq", tuple(vocab.FREQUENCIES)),
    **{
        f.name: (f.tag_kind, tuple(f.vocabulary or ()))
        for f in fields.LINK_FIELDS
        if f.aggregate == "tag_counts" and f.tag_kind is not None
    },
}

# CSV headers in French (what Excel users read); GEXF/GraphML keep the code names.
_CSV_NODE_COLUMNS = {
    "id": "id",
    "name": "nom",
    "type": "type",
    "type_label": "type (libellé)",
    "commune": "commune",
    "proposed": "proposée",
    "invited": "invité·es",
    "responded": "répondant·es",
    "answered": "a répondu",
    "link_carriers": "professionnel·les portant ses liens",
    "degree": "partenaires (degré)",
}
_CSV_EDGE_COLUMNS = {
    "source": "source (id)",
    "source_name": "source",
    "target": "cible (id)",
    "target_name": "cible",
    "carriers": "professionnel·les déclarant",
    "declarations": "déclarations",
    "formal": "formel",
    "informal": "informel",
    "both": "les deux",
    "quality_mean": "qualité moyenne",
}


def _flatten(attrs: dict) -> dict:
    out: dict[str, object] = {}
    for key, value in attrs.items():
        if key in _FLAT:
            prefix, codes = _FLAT[key]
            value = value or {}
            for code in codes:
                count = value.get(code, 0)
                out[f"{prefix}_{code}"] = count if isinstance(count, str) else int(count)
        elif isinstance(value, dict | list | tuple | set):
            continue  # nothing else nested is exported
        elif value is not None:
            out[key] = value
    return out


def flat_graph(g: nx.DiGraph) -> nx.DiGraph:
    """A copy with scalar attributes only, a `label` per node (Gephi) and a `degree`; counts
    of 1 or 2 people read « < 3 » (reports.privacy.suppress_graph)."""
    g = privacy.suppress_graph(g)
    h = nx.DiGraph()
    h.graph.update(
        {k: v for k, v in g.graph.items() if isinstance(v, str | int | float) and v is not None}
    )
    h.graph["notice"] = NOTICE
    for n, a in g.nodes(data=True):
        flat = _flatten(a)
        flat["label"] = str(a.get("name", n))
        flat["degree"] = partner_count(g, n)
        h.add_node(n, **flat)
    for u, v, a in g.edges(data=True):
        h.add_edge(u, v, **_flatten(a))
    return h


def xml_text(h: nx.DiGraph) -> nx.DiGraph:
    """`h` (a flat graph, changed in place) without the characters XML 1.0 forbids in its text
    attributes: one such character in a name made the whole file unreadable. A count of
    people written « < 3 » is left out: GEXF and GraphML attributes keep one type, integer."""
    for _, a in h.nodes(data=True):
        for key in [k for k in privacy.NODE_PEOPLE if a.get(k) == privacy.SMALL_DATA]:
            del a[key]
    for _, _, a in h.edges(data=True):
        for key in [k for k, v in a.items() if v == privacy.SMALL_DATA]:
            del a[key]
    attribute_sets = [h.graph, *(a for _, a in h.nodes(data=True))]
    attribute_sets += [a for _, _, a in h.edges(data=True)]
    for attrs in attribute_sets:
        for key, value in attrs.items():
            if isinstance(value, str):
                attrs[key] = strip_forbidden(value)
    return h


def write_graphml(g: nx.DiGraph, path: Path) -> None:
    # The standard-library writer, not lxml's even when lxml is installed (it is in the
    # tests): the same code writes the file in production and under test.
    nx.write_graphml_xml(xml_text(flat_graph(g)), path, named_key_ids=True)


def write_gexf(g: nx.DiGraph, path: Path) -> None:
    writer = GEXFWriter(encoding="utf-8", prettyprint=True, version="1.2draft")
    writer.add_graph(xml_text(flat_graph(g)))
    # networkx always writes <graph name="">, which GEXF 1.2draft does not define.
    writer.graph_element.attrib.pop("name", None)
    with path.open("wb") as out:
        writer.write(out)


def write_json(g: nx.DiGraph, path: Path) -> None:
    data = nx.node_link_data(privacy.suppress_graph(g), edges="links")
    data["notice"] = NOTICE
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str), encoding="utf-8")


def _csv_text(header: list[str], rows: list[list[object]]) -> str:
    # survey.cells: no name or commune becomes a formula; BOM so that Excel reads UTF-8,
    # decimal comma as French Excel reads it.
    return cells.csv_text(
        header, rows, delimiter=";", lineterminator="\r\n", bom=True, decimal_comma=True
    )


def csv_tables(g: nx.DiGraph) -> tuple[str, str]:
    """(nodes CSV, links CSV): UTF-8 with BOM, semicolon, decimal comma."""
    h = flat_graph(g)
    flat_keys = [f"{p}_{c}" for p, codes in _FLAT.values() for c in codes]
    labels = {
        **{f"freq_{c}": f"fréquence : {lab}" for c, lab in vocab.FREQUENCIES.items()},
        **{f"practice_{c}": f"pratique : {lab}" for c, lab in vocab.PRACTICES.items()},
        **{f"thematique_{c}": f"thématique : {lab}" for c, lab in vocab.THEMATIQUES.items()},
    }
    node_rows = [
        [n if k == "id" else a.get(k) for k in _CSV_NODE_COLUMNS]
        for n, a in sorted(h.nodes(data=True), key=lambda x: str(x[1].get("label", "")).lower())
    ]
    edge_rows = []
    for u, v, a in sorted(
        h.edges(data=True),
        key=lambda e: (h.nodes[e[0]]["label"].lower(), h.nodes[e[1]]["label"].lower()),
    ):
        ends = {
            "source": u,
            "source_name": h.nodes[u]["label"],
            "target": v,
            "target_name": h.nodes[v]["label"],
        }
        edge_rows.append(
            [ends.get(k, a.get(k)) for k in _CSV_EDGE_COLUMNS] + [a.get(k, 0) for k in flat_keys]
        )
    return (
        _csv_text(list(_CSV_NODE_COLUMNS.values()), node_rows),
        # A pivot without a French label here (a question just added) keeps its code name.
        _csv_text(
            list(_CSV_EDGE_COLUMNS.values()) + [labels.get(k, k) for k in flat_keys], edge_rows
        ),
    )


def csv_paths(output: Path) -> tuple[Path, Path]:
    """PATH-noeuds.csv and PATH-liens.csv (a trailing .csv on PATH is dropped)."""
    stem = output.with_suffix("") if output.suffix.lower() == ".csv" else output
    return stem.with_name(stem.name + "-noeuds.csv"), stem.with_name(stem.name + "-liens.csv")


def write_csv(g: nx.DiGraph, output: Path) -> list[Path]:
    """Two files next to each other, or one zip (noeuds.csv, liens.csv, LISEZMOI.txt) when
    PATH ends with .zip."""
    nodes, edges = csv_tables(g)
    if output.suffix.lower() == ".zip":
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("noeuds.csv", nodes.encode("utf-8"))
            z.writestr("liens.csv", edges.encode("utf-8"))
            z.writestr("LISEZMOI.txt", NOTICE + "\n")
        return [output]
    nodes_path, edges_path = csv_paths(output)
    nodes_path.write_bytes(nodes.encode("utf-8"))
    edges_path.write_bytes(edges.encode("utf-8"))
    return [nodes_path, edges_path]


def export(g: nx.DiGraph, fmt: str, output: Path) -> list[Path]:
    """Write `g` in `fmt` (one of FORMATS) at `output`; returns the files written."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    output.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        return write_csv(g, output)
    {"gexf": write_gexf, "graphml": write_graphml, "json": write_json}[fmt](g, output)
    return [output]

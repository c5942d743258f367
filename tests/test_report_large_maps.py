"""The report of a large territory: family map, zone map, backbone, structure list, ego maps.

The demo territory is made "large" by lowering reports.backbone.BACKBONE_FROM (read when the
report is drawn); the drawings' label boxes are checked on a seeded graph of 150 structures.
"""

from __future__ import annotations

import random
import re

import networkx as nx
import pytest
from reportlab.platypus import Paragraph

from reports import backbone, figures, groupdraw, labels, mapdraw, pdf
from reports.groups import Group, GroupMap, GroupTie, by_family, by_zone, group_positions
from reports.pdf.large import most_connected
from reports.pdf.sections import large_maps
from reports.pdf.styles import styles
from reports.structure import partner_count
from survey import campaigns, demo
from survey import french as t
from survey.campaigns import get_campaign
from survey.vocab import FAMILIES, family_of
from tests.conftest import TEST_SECRET
from tests.test_report_pdf import pdf_text


def split_contents(pages: list[str]) -> tuple[str, str]:
    """The table of contents (the pages with dotted leaders after the cover) and the rest."""
    last = max(i for i in range(1, 4) if ". . . . ." in pages[i])
    return flat(" ".join(pages[1 : last + 1])), flat(" ".join(pages[last + 1 :]))


def flat(s: str) -> str:
    """Text with every run of spaces and line breaks made one space (pdf lines wrap)."""
    return re.sub(r"\s+", " ", s.replace("\u202f", " ").replace("\u00a0", " ")).strip()


@pytest.fixture
def demo_data(session):
    demo.load(session, TEST_SECRET)
    campaign = get_campaign(session, demo.TERRITORY_CODE, demo.CURRENT_YEAR)
    previous = campaigns.previous_campaign(session, campaign)
    return pdf.collect(session, campaign, previous)


@pytest.fixture
def large_report(demo_data, monkeypatch):
    """The demo's report drawn as a large territory's."""
    monkeypatch.setattr(backbone, "BACKBONE_FROM", 5)
    assert demo_data.graph.number_of_nodes() >= 5
    return demo_data, pdf.render(demo_data)


def test_large_report_leads_with_families_zones_and_backbone(large_report):
    d, data = large_report
    g = d.graph
    _, pages = pdf_text(data)
    contents, text = split_contents(pages)
    family = text.index("La carte par famille de structures")
    zone = text.index("La carte par zone", family)
    spine = text.index("L'ossature des partenariats", zone)
    assert family < zone < spine
    # Every family present in the graph is named (in the table beside the map).
    present = {family_of(g.nodes[n].get("type")).label for n in g.nodes}
    assert present and all(label in text[family:zone] for label in present)
    # The demo has zones: each zone holding a structure is named in the zone part.
    zones = {g.nodes[n].get("zone") for n in g.nodes} - {"", None}
    assert zones and all(z in text[zone:spine] for z in zones)
    # The backbone's sentence, computed on the same graph.
    bb = backbone.backbone(g)
    assert flat(bb.sentence()) in text
    # The formal-only map is dropped at this scale; the contents list the new sections.
    assert "Les liens formels seulement" not in text
    for title in (
        "La carte par famille de structures",
        "La carte par zone",
        "L'ossature des partenariats",
        "La liste des structures",
        "Les dix structures les plus reliées et leurs partenaires",
    ):
        assert title in contents


def test_large_report_annex_lists_every_structure_and_ten_ego_maps(large_report):
    d, data = large_report
    g = d.graph
    _, pages = pdf_text(data)
    _, text = split_contents(pages)
    start = text.index("La liste des structures")
    egos = text.index("Les dix structures les plus reliées et leurs partenaires", start)
    listed = text[start:egos]
    for n in g.nodes:
        assert flat(str(g.nodes[n]["name"])) in listed
    # The ten most connected, by partner count (ties by name), each with its ego map title
    # and its count of partners.
    ranked = sorted(g.nodes, key=lambda n: (-partner_count(g, n), g.nodes[n]["name"].lower()))
    after = text[egos:]
    for rank, n in enumerate(ranked[:10], start=1):
        head = flat(f"{rank}. {g.nodes[n]['name']} {t.plural(partner_count(g, n), 'partenaire')}")
        assert head in after
    assert f"11. {g.nodes[ranked[10]]['name']}" not in after


def test_small_report_keeps_the_structure_map(demo_data):
    assert demo_data.graph.number_of_nodes() < backbone.BACKBONE_FROM
    text = flat(" ".join(pdf_text(pdf.render(demo_data))[1]))
    assert "La carte des partenariats" in text and "Les liens formels seulement" in text
    assert "La carte par famille de structures" not in text
    assert "L'ossature des partenariats" not in text
    assert "Les dix structures les plus reliées" not in text


def test_heat_table_holds_the_group_matrix(demo_data):
    gm = by_family(demo_data.graph)
    grid = large_maps.heat_table(gm, styles())
    cells = grid._cellvalues
    m = gm.matrix()
    assert len(cells) == len(gm.groups) + 1
    for i, row in enumerate(cells[1:]):
        assert flat(row[0].getPlainText()) == flat(f"{i + 1}. {gm.groups[i].label}")
        values = [flat(p.getPlainText()) for p in row[1:] if isinstance(p, Paragraph)]
        assert values == [flat(t.integer(v)) for v in m[i]]
    # Every link of the graph is counted once in the upper triangle with the diagonal.
    assert sum(m[i][j] for i in range(len(m)) for j in range(i, len(m))) == len(
        figures.links(demo_data.graph)
    )


def _group(key: str, structures: int, invited: int = 10, responded: int = 5) -> Group:
    return Group(key, key.capitalize(), structures, invited, responded, 1, 0)


def test_sentences_name_the_heaviest_tie_the_densest_group_and_the_most_fragile():
    # Hand-made: A–B 30 links (24 formal, 6 fragile), A inside 40 (30 fragile),
    # B–C 25 links (20 fragile = 80 %), C inside 10 (10 fragile, but under 20 links).
    groups = [_group("a", 10), _group("b", 8), _group("c", 3)]
    groups[0] = Group("a", "Alpha", 10, 10, 5, 1, 40)
    ties = [
        GroupTie("a", "a", 40, 0, 30, 0, 50),
        GroupTie("a", "b", 30, 24, 6, 0, 60),
        GroupTie("b", "c", 25, 0, 20, 0, 30),
        GroupTie("c", "c", 10, 0, 10, 0, 10),
    ]
    gm = GroupMap("famille", groups, ties)
    s = [flat(x) for x in large_maps.sentences(gm)]
    # Heaviest tie between two groups: A–B, 30 links, 24/30 = 80 % formal.
    assert "relie « Alpha » et « B » : 30 liens" in s[0] and "80 %" in s[0]
    # Most links inside: Alpha, 40.
    assert "« Alpha »" in s[1] and "40 liens" in s[1]
    # Fragile among ties of >= 20 links: A inside 30/40 = 75 %, A–B 20 %, B–C 80 % -> B–C;
    # C inside (100 %) has only 10 links and is left out.
    assert "« B » et « C » : 80 %" in s[2] and "25 liens" in s[2]


def test_tie_width_grows_with_the_square_root_of_links():
    # W_MAX = 11 points for the heaviest; a quarter of its links: 11 * sqrt(1/4) = 5.5;
    # 1 link of 10,000: 11 * 0.01 = 0.11, raised to the minimum of 1.
    assert groupdraw.tie_width(400, 400) == pytest.approx(11.0)
    assert groupdraw.tie_width(100, 400) == pytest.approx(5.5)
    assert groupdraw.tie_width(1, 10_000) == pytest.approx(1.0)
    assert groupdraw.tie_width(0, 10) == 0.0


def _big_graph(n: int = 150, seed: int = 7) -> tuple[nx.DiGraph, dict]:
    """A seeded graph of `n` structures of every family, hubs and a crowded centre."""
    rnd = random.Random(seed)
    types = [next(iter(sorted(f.types))) for f in FAMILIES]
    g = nx.DiGraph()
    for i in range(n):
        g.add_node(
            i,
            name=f"Structure numéro {i} de la commune de Saint-Exemple",
            type=types[i % len(types)],
            answered=rnd.random() < 0.7,
            invited=4,
            responded=rnd.randint(0, 4),
        )
    for i in range(n):
        for _ in range(rnd.randint(2, 12)):
            j = int(abs(rnd.gauss(0, n / 6))) % n  # low numbers are hubs
            if j != i:
                g.add_edge(i, j, carriers=rnd.choice((1, 1, 2, 3)), formal=rnd.randint(0, 1))
    pos = {}
    for v in g.nodes:
        r = min(0.48, abs(rnd.gauss(0, 0.2)))
        a = rnd.random() * 6.283
        pos[v] = (0.5 + r * __import__("math").cos(a), 0.5 + r * __import__("math").sin(a))
    return g, pos


def _overlapping(boxes: list[tuple[float, float, float, float]]) -> list:
    return [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :] if labels.overlaps(a, b)]


def test_backbone_map_names_the_most_connected_without_overlapping_labels():
    g, pos = _big_graph()
    bb = backbone.backbone(g)
    wanted = backbone.named(g, bb)
    drawing = mapdraw.draw_named_map(g, pos, bb.kept, wanted, 16)
    assert len(wanted) == backbone.LABELS_NAMED
    assert len(drawing.named) >= 20 and set(drawing.named) <= set(wanted)
    assert len(drawing.labels) == len(drawing.named)
    assert _overlapping(drawing.labels) == []
    assert drawing.chart.image[:2] == b"\xff\xd8"  # a JPEG


def test_ego_maps_name_at_most_25_partners_without_overlap():
    g, _ = _big_graph()
    centres = most_connected(g, 3)
    drawings = mapdraw.draw_egos(g, centres, figures.links(g))
    for n, drawing in zip(centres, drawings, strict=True):
        partners = set(g.successors(n)) | set(g.predecessors(n))
        assert len(partners) > 25
        assert len(drawing.named) == 25 and set(drawing.named) <= partners
        # The 25 named are the most connected partners.
        top = sorted(partners, key=lambda m: (-partner_count(g, m), g.nodes[m]["name"].lower()))
        assert set(drawing.named) == set(top[:25])
        assert _overlapping(drawing.labels) == []
        written = " ".join(text for text, *_ in drawing.overlay)
        assert all(f"Structure numéro {m} " in written + " " for m in drawing.named)


def test_group_map_names_every_group_without_overlap():
    g, _ = _big_graph()
    gm = by_family(g)
    drawing = groupdraw.draw_group_map(gm, group_positions(gm))
    assert set(drawing.names) == {gr.key for gr in gm.groups}
    assert len(gm.groups) == len(FAMILIES)
    assert _overlapping(list(drawing.names.values())) == []


def test_zone_map_absent_without_zones():
    g, _ = _big_graph()
    assert by_zone(g) is None


def test_zone_map_of_nineteen_zones_names_every_zone_without_overlap():
    rnd = random.Random(3)
    names = [f"Zone {c} du territoire" for c in "ABCDEFGHIJKLMNOPQR"]
    gs = [Group(n, n, rnd.randint(3, 60), 50, rnd.randint(0, 50), 3, 0) for n in names]
    gs.append(Group("", "Hors zone", 12, 0, 0, 0, 0))
    ties = []
    for i, a in enumerate(gs):
        for b in gs[i:]:
            if a is b or rnd.random() < 0.35:
                n = rnd.randint(1, 900)
                ties.append(GroupTie(a.key, b.key, n, rnd.randint(0, n), rnd.randint(0, n), 0, n))
    ties.sort(key=lambda x: -x.links)
    gm = GroupMap("zone", gs, ties)
    drawing = groupdraw.draw_group_map(gm, group_positions(gm))
    assert set(drawing.names) == {gr.key for gr in gs}
    assert _overlapping(list(drawing.names.values()) + drawing.counts) == []

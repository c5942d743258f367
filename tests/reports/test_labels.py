"""Placement of the structures' names on the map (reports.labels), without a browser."""

from __future__ import annotations

import random
import re

import networkx as nx

from reports import labels, layout, svg
from reports.labels import overlaps
from tests.reports.handmade import node, tie

NAMES_TEXT = (
    "Centre communal d'action sociale CCAS de la Guéret Aubusson Mission locale Association "
    "France services Secours populaire Conseil départemental Creuse Maison des solidarités "
    "Bourganeuf Felletin"
)
WORDS = NAMES_TEXT.split(" ")
BOUNDS = (0.0, 0.0, 1000.0, 1000.0)


def _names(rng: random.Random, n: int) -> dict[int, str]:
    return {i: " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 5))) for i in range(n)}


def _random_map(seed: int, n: int = 60):
    rng = random.Random(seed)
    xy = {i: (rng.uniform(40, 960), rng.uniform(40, 960)) for i in range(n)}
    radius = {i: rng.uniform(6, 20) for i in range(n)}
    return xy, radius, _names(rng, n)


def _check(placed, xy, radius, size=15.0) -> None:
    items = list(placed.items())
    for n, lab in items:
        x0, y0, x1, y1 = lab.box
        assert BOUNDS[0] <= x0 < x1 <= BOUNDS[2] and BOUNDS[1] <= y0 < y1 <= BOUNDS[3]
        # The box is where the text goes: anchor on the box, as many lines as it is tall for.
        ax = {"start": x0, "end": x1, "middle": (x0 + x1) / 2}[lab.anchor]
        assert abs(ax - lab.x) < 1e-6
        assert y0 < lab.y < y1
        assert abs((y1 - y0) - size * (labels.LINE_HEIGHT * (len(lab.lines) - 1) + 1.17)) < 1e-6
        for m, (mx, my) in xy.items():
            r = radius[m]
            assert not overlaps(lab.box, (mx - r, my - r, mx + r, my + r)), (n, m)
    for i, (a, la) in enumerate(items):
        for b, lb in items[i + 1 :]:
            assert not overlaps(la.box, lb.box), (a, b)


def test_random_layouts_of_60_structures_have_no_overlapping_label():
    for seed in range(6):
        xy, radius, texts = _random_map(seed)
        order = sorted(xy, key=lambda n: -radius[n])
        placed = labels.place(order, xy, radius, texts, 15.0, BOUNDS)
        _check(placed, xy, radius)
        # Scattered marks leave room: (almost) everybody gets a name.
        assert len(placed) >= 57, (seed, len(placed))
        # The text of each label is its structure's name, maybe cut in lines at spaces.
        for n, lab in placed.items():
            assert " ".join(lab.lines) == texts[n]
        # Same input, same placement.
        assert labels.place(order, xy, radius, texts, 15.0, BOUNDS) == placed


def test_crowded_marks_leave_some_without_a_label_but_never_overlap():
    rng = random.Random(3)
    xy = {i: (rng.uniform(450, 550), rng.uniform(450, 550)) for i in range(40)}
    radius = dict.fromkeys(xy, 8.0)
    texts = _names(rng, 40)
    placed = labels.place(list(xy), xy, radius, texts, 15.0, BOUNDS)
    _check(placed, xy, radius)
    assert 0 < len(placed) < 40


def test_limit_keeps_the_most_important_first():
    xy, radius, texts = _random_map(7, 30)
    order = sorted(xy)
    placed = labels.place(order, xy, radius, texts, 15.0, BOUNDS, limit=5)
    assert len(placed) == 5
    assert set(placed) <= set(order[:10])


def test_wrap_and_width():
    assert labels.wrap("Centre communal d'action sociale de Guéret") == (
        "Centre communal d'action",
        "sociale de Guéret",
    )
    assert labels.wrap("CAF") == ("CAF",)
    assert max(map(len, labels.wrap("Association des amis de la Creuse à Guéret", 3))) <= 16
    assert labels.text_width("W", 15) > labels.text_width("i", 15) > 0
    assert labels.text_width("Guéret", 30) == 2 * labels.text_width("Guéret", 15)


def _graph(n: int, seed: int) -> nx.DiGraph:
    rng = random.Random(seed)
    g = nx.DiGraph()
    types = ["caf", "ccas-cias", "siao", "association", "mission-locale", "sante", "autre"]
    names = _names(rng, n)
    for i in range(n):
        g.add_node(i, **node(names[i], types[i % len(types)], 2, i % 3, 1))
    for i in range(n):
        for j in rng.sample(range(n), rng.randint(1, 4)):
            if i != j:
                g.add_edge(i, j, **tie(1, informal=1))
    return g


def _text_boxes(out: str) -> list[tuple[float, float]]:
    return [
        (float(x), float(y))
        for x, y in re.findall(r'<text class="label" x="([\d.]+)" y="([\d.]+)"', out)
    ]


def test_svg_map_of_60_structures_labels_nearly_all_of_them():
    g = _graph(60, 1)
    out = str(svg.render(g, layout.positions(g), svg.MapOptions(href=lambda n: f"/s/{n}")))
    labelled = re.findall(r'class="node [^"]*labelled', out)
    assert len(labelled) >= 55
    # Every structure has its name in the drawing (shown on hover and focus when not placed).
    assert len(_text_boxes(out)) == 60
    # The whole of each placed name is a click target, not only its strokes.
    assert out.count('class="hit"') == len(labelled)
    # A label set apart from its mark is joined to it by a line.
    for group in re.findall(r"<a class=\"node[^>]*>.*?</a>", out):
        assert group.count('class="leader"') <= 1


def test_svg_map_beyond_60_structures_labels_only_the_top_ones():
    g = _graph(90, 2)
    out = str(svg.render(g, layout.positions(g), svg.MapOptions(href=lambda n: f"/s/{n}")))
    labelled = re.findall(r'class="node [^"]*labelled[^"]*"[^>]*data-degree="(\d+)"', out)
    assert 1 <= len(labelled) <= svg.LABELS_MANY
    degrees = sorted((int(d) for d in re.findall(r'data-degree="(\d+)"', out)), reverse=True)
    # The labelled ones are among the most connected.
    assert min(int(d) for d in labelled) >= degrees[svg.LABELS_MANY * 3 - 1]
    assert len(_text_boxes(out)) == 90


def test_the_small_maps_place_their_names_at_the_size_their_page_shows():
    """A structure page's and « ma carte »'s map shows names at 20 units (.ego-map in
    carte.css): the placement must make room for 20, not for the big map's 15."""
    g = _graph(12, 3)
    pos = layout.positions(g)

    def hit_heights(font: float) -> list[float]:
        out = str(svg.render(g, pos, svg.MapOptions(label_font=font)))
        return sorted(float(h) for h in re.findall(r'class="hit"[^>]*height="([\d.]+)"', out))

    big, small_map = hit_heights(svg.LABEL_FONT), hit_heights(svg.EGO_LABEL_FONT)
    assert big and small_map
    # One line of a name: its box grows with the font size.
    assert small_map[0] >= big[0] * svg.EGO_LABEL_FONT / svg.LABEL_FONT * 0.95

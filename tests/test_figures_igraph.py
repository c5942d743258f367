"""all_figures computed with igraph against the pure networkx reference
(figures.all_figures_networkx): every figure equal (floats within 1e-9) but the communities,
which come from another Louvain; those are checked for determinism, validity and modularity.
On the demo, the large synthetic territory and random graphs."""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import igraph
import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from reports import figures
from reports.graph import build_graph
from survey import demo, vocab
from survey.db import make_engine
from survey.models import Campaign
from tests.conftest import TEST_SECRET
from tests.reports.handmade import five, node, star, tie, two_triangles

ROOT = Path(__file__).resolve().parents[1]
# How much lower igraph's modularity may be than networkx's: two runs of Louvain land on
# different local optima; a real regression (a wrong weight, a lost community) costs more.
MODULARITY_MARGIN = 0.02


def _close(a: object, b: object, where: str = "") -> None:
    """Equal, floats within 1e-9 (NaN equal to NaN), with the path of the first difference."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert list(a) == list(b), where
        for key in a:
            _close(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, int | float) and isinstance(b, int | float), where
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, abs=1e-9), where
    else:
        assert a == b, where


def _check_communities(g: nx.DiGraph, got: dict) -> None:
    """A partition of the linked structures, numbered from the largest, whose modularity is
    the one reported and not worse than networkx's Louvain by more than the margin."""
    u = figures.undirected(g)
    linked = {n for n in u if u.degree(n)}
    members = [m for c in got["communities"] for m in c["members"]]
    assert len(members) == len(set(members)) and set(members) == linked
    assert all(c["size"] == len(c["members"]) > 0 for c in got["communities"])
    assert [c["number"] for c in got["communities"]] == list(range(1, got["count"] + 1))
    assert [c["size"] for c in got["communities"]] == sorted(
        (c["size"] for c in got["communities"]), reverse=True
    )
    assert set(got["isolated"]) == set(u) - linked
    if not linked:
        assert got["modularity"] is None
        return
    sub = u.subgraph(linked)
    parts = [set(c["members"]) for c in got["communities"]]
    assert got["modularity"] == pytest.approx(
        nx.community.modularity(sub, parts, weight="weight"), abs=1e-9
    )
    reference = figures.communities(g, figures.NetworkxEngine(u))["modularity"]
    assert got["modularity"] >= reference - MODULARITY_MARGIN


def _check(g: nx.DiGraph, betweenness_k: int | None = None) -> None:
    got = figures.all_figures(g, betweenness_k)
    expected = figures.all_figures_networkx(g, betweenness_k)
    communities = got.pop("communities")
    expected.pop("communities")
    _close(got, expected)
    _check_communities(g, communities)


def test_handmade_graphs():
    for g in (five(), star(4), two_triangles(), nx.DiGraph()):
        _check(g)


def test_demo(session):
    demo.load(session, TEST_SECRET)
    campaigns = session.exec(select(Campaign).order_by(Campaign.id)).all()
    assert campaigns
    for campaign in campaigns:
        _check(build_graph(session, campaign))


def test_large_synthetic_territory(tmp_path):
    from bench import synth

    url = f"sqlite:///{tmp_path / 'large.sqlite3'}"
    synth.generate(url, "large", quiet=True)
    engine = make_engine(url)
    with Session(engine) as s:
        campaign = s.exec(select(Campaign).order_by(Campaign.year.desc())).first()
        g = build_graph(s, campaign)
    engine.dispose()
    assert g.number_of_nodes() == 400
    _check(g)


def test_sampled_betweenness_matches_networkx(monkeypatch):
    monkeypatch.setattr(figures, "EXACT_MAX", 10)  # sampling applies above 10 structures
    g = nx.DiGraph()
    for i in range(30):
        g.add_node(i, **node(f"S{i:02}", "caf", 1, i % 2, 1))
    for i in range(30):
        for j in (i + 1, i + 3, i * 7):
            if j % 30 != i:
                g.add_edge(i, j % 30, **tie(1 + i % 3))
    for k in (2, 5, 29):
        _check(g, betweenness_k=k)
        assert figures.all_figures(g, k)["centrality"]["betweenness_exact"] is False


@st.composite
def graphs(draw) -> nx.DiGraph:
    """Structure graphs shaped like build_graph's: some nodes isolated, some ties one-way,
    names that may repeat (ties broken by id), carriers from 1 to 4."""
    n = draw(st.integers(0, 24))
    g = nx.DiGraph()
    for i in range(n):
        responded = draw(st.integers(0, 2))
        g.add_node(
            i,
            **node(
                draw(st.sampled_from(["Alpha", "beta", "Gamma", "delta", f"S{i}"])),
                draw(st.sampled_from(["caf", "siao", "association"])),
                responded + draw(st.integers(0, 2)),
                responded,
                draw(st.integers(0, 3)),
            ),
        )
    if n > 1:
        pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(
            lambda p: p[0] != p[1]
        )
        for a, b in draw(st.lists(pairs, max_size=3 * n)):
            practice = draw(st.sampled_from([None, *vocab.PRACTICES]))
            g.add_edge(
                a,
                b,
                **tie(
                    draw(st.integers(1, 4)),
                    formal=draw(st.integers(0, 1)),
                    informal=draw(st.integers(0, 2)),
                    practices={practice: 1} if practice else None,
                ),
            )
    return g


@settings(max_examples=150, deadline=None)
@given(graphs())
def test_random_graphs(g):
    _check(g)


def test_graph_is_converted_once_per_call(monkeypatch):
    made = []

    class Counted(igraph.Graph):
        def __init__(self, *args, **kwargs):
            made.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(figures.igraph, "Graph", Counted)
    figures.all_figures(two_triangles())
    assert len(made) == 1  # betweenness and communities share one conversion


_RANDOM_GRAPH_COMMUNITIES = """
import json
import networkx as nx
from reports import figures
from tests.reports.handmade import node, tie
u = nx.gnp_random_graph(120, 0.06, seed=7)
g = nx.DiGraph()
g.add_nodes_from((n, node(f"S{n:03}", "caf", 1, 1, 2)) for n in u)
g.add_edges_from((a, b, tie(1 + (a * b) % 4)) for a, b in u.edges())
print(json.dumps(figures.communities(g)))
"""


def test_communities_are_the_same_run_to_run_and_process_to_process(capsys):
    other = subprocess.run(
        [sys.executable, "-c", _RANDOM_GRAPH_COMMUNITIES],
        cwd=ROOT,
        env=os.environ | {"PYTHONHASHSEED": "1"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    first = json.loads(other)
    assert first["count"] > 1 and first["modularity"] > 0  # not the trivial partition
    # The same here, twice, whatever Python's random state and after another Louvain run.
    random.seed(1234)
    figures.communities(two_triangles())
    for _ in range(2):
        exec(_RANDOM_GRAPH_COMMUNITIES, {})
        assert json.loads(capsys.readouterr().out) == first

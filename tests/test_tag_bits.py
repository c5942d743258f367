"""`DeclaredLink.tag_bits` (`survey.tagbits`): every writer keeps it equal to the link's tag
rows, the migration fills it, and the graph counted from it is the graph counted from the
tag rows (`reports.graph.build_graph_from_tag_rows`), edge for edge and attribute for
attribute, on the demo and on random territories."""

from __future__ import annotations

import itertools
from collections import defaultdict

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, union
from sqlmodel import Session, select

from reports import graph
from reports.graph import GraphFilter, build_graph, build_graph_from_tag_rows, build_service_graph
from survey import demo, fields, migrate, tagbits, vocab
from survey.db import make_engine
from survey.directory import merge_structures
from survey.models import Campaign, DeclaredLink, LinkTag
from survey.privacy import erase_professional
from tests.conftest import TEST_SECRET
from tests.factories import build_world
from tests.reports.builders import Builder
from tests.test_migrations import _load_demo, fresh_url  # noqa: F401 (a fixture)


def disagreements(session: Session) -> list[tuple[int, int, int]]:
    """(link, stored bits, bits of its tag rows) of every link where they differ."""
    tags: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for link_id, kind, code in session.exec(select(LinkTag.link_id, LinkTag.kind, LinkTag.code)):
        tags[link_id].append((kind, code))
    return [
        (link_id, bits, tagbits.tag_bits(tags[link_id]))
        for link_id, bits in session.exec(select(DeclaredLink.id, DeclaredLink.tag_bits))
        if link_id is not None and bits != tagbits.tag_bits(tags[link_id])
    ]


def assert_same_graph(a: nx.DiGraph, b: nx.DiGraph) -> None:
    assert a.graph == b.graph
    assert list(a.nodes(data=True)) == list(b.nodes(data=True))
    assert list(a.edges(data=True)) == list(b.edges(data=True))


def assert_same_as_tag_rows(session: Session, campaign: Campaign, flt: GraphFilter) -> None:
    assert_same_graph(
        build_graph(session, campaign, flt), build_graph_from_tag_rows(session, campaign, flt)
    )


def union_link_carriers(session: Session, campaign: Campaign, flt: GraphFilter) -> dict:
    """Structure → distinct professionals in the union of (src, pro) and (dst, pro) of the
    counted declarations: `link_carriers` by its definition, as the graph counted it before
    it summed its incoming ties' carriers instead."""
    source = graph.source_of(session, campaign)
    d = source.declarations(flt, source.canon())
    u = union(
        select(d.c.src.label("node"), d.c.pro.label("pro")),
        select(d.c.dst.label("node"), d.c.pro.label("pro")),
    ).subquery()
    return dict(session.execute(select(u.c.node, func.count()).group_by(u.c.node)).all())


def _service_graph_from_tag_rows(session, campaign, flt, monkeypatch) -> nx.DiGraph:
    real = graph.source_of
    with monkeypatch.context() as m:
        m.setattr(graph, "source_of", lambda s, c: graph.replace(real(s, c), tag_rows=True))
        return build_service_graph(session, campaign, flt)


# --- the layout ------------------------------------------------------------------------


def test_every_counted_tag_has_a_listed_bit():
    """A new code or question the graph counts is written at the end of FROZEN_LAYOUT (its
    bit is then fixed for ever); nothing listed twice; it fits the column."""
    missing = [t for t in tagbits.counted_tags() if t not in tagbits.FROZEN_LAYOUT]
    assert missing == [], f"append to survey.tagbits.FROZEN_LAYOUT: {missing}"
    assert len(set(tagbits.FROZEN_LAYOUT)) == len(tagbits.FROZEN_LAYOUT)
    assert len(tagbits.LAYOUT) <= tagbits.MAX_BITS
    assert {f.tag_kind for f in fields.LINK_FIELDS if f.aggregate == "tag_counts"} == tagbits.KINDS


def test_bits_of_tags_and_of_an_answer():
    assert tagbits.tag_bits([]) == 0
    assert tagbits.tag_bits([("frame", "agreement"), ("practice", "nope")]) == 0
    both = tagbits.tag_bits([("practice", "referral"), ("thematique", "famille")])
    assert both == tagbits.BIT[("practice", "referral")] | tagbits.BIT[("thematique", "famille")]

    class Answer:
        frames = ["agreement"]
        channels: list[str] = []
        practices = ["referral"]
        thematiques = ["famille"]

    assert tagbits.tag_bits_of(Answer()) == both


# --- every writer ------------------------------------------------------------------------


def test_the_demo_writes_bits_agreeing_with_its_tags_and_the_same_graphs(session, monkeypatch):
    assert demo.load(session, TEST_SECRET) is True
    assert disagreements(session) == []
    assert session.exec(select(DeclaredLink).where(DeclaredLink.tag_bits != 0)).first()
    campaign = session.exec(select(Campaign).where(Campaign.status == "open")).one()
    used = session.exec(
        select(LinkTag.code).where(LinkTag.kind == "thematique").distinct().order_by(LinkTag.code)
    ).all()
    filters = [
        GraphFilter(),
        *(GraphFilter(thematique=code) for code in used[:4]),
        GraphFilter(thematique="pas-une-thematique"),
        GraphFilter(nature="formal"),
        GraphFilter(frequency="monthly"),
        GraphFilter(org_types=frozenset({"caf", "ccas-cias", "siao"})),
        GraphFilter(nature="informal", thematique=used[0]),
    ]
    for flt in filters:
        assert_same_as_tag_rows(session, campaign, flt)
        assert_same_graph(
            build_service_graph(session, campaign, flt),
            _service_graph_from_tag_rows(session, campaign, flt, monkeypatch),
        )
    g = build_graph(session, campaign)
    assert any(a["practices"] for _, _, a in g.edges(data=True))
    assert any(a["thematiques"] for _, _, a in g.edges(data=True))


def _url(token: str, suffix: str = "") -> str:
    return f"/api/v1/questionnaire/{token}{suffix}"


def test_a_questionnaire_save_writes_the_bits_of_its_tags(client, session):
    world = build_world(session)
    body = client.get(_url(world.tokens["alice"])).json()
    body["links"] = [
        {"partner_organisation_id": world.orgs["caf"].id, "nature": "formal",
         "practices": ["referral", "handover"], "thematiques": ["famille", "sante"],
         "frames": ["agreement"], "channels": ["phone"]},
        {"partner_organisation_id": world.orgs["siao"].id, "nature": "informal",
         "practices": ["joint_support"]},
    ]  # fmt: skip
    assert client.put(_url(world.tokens["alice"]), json=body).status_code == 200
    assert client.post(_url(world.tokens["alice"], "/submit")).status_code == 200
    session.expire_all()
    assert disagreements(session) == []
    # A later save replaces the links: their bits follow.
    body = client.get(_url(world.tokens["alice"])).json()
    body["links"][0]["thematiques"] = ["mobilite"]
    assert client.put(_url(world.tokens["alice"]), json=body).status_code == 200
    session.expire_all()
    assert disagreements(session) == []
    caf = session.exec(
        select(DeclaredLink.tag_bits)
        .join(LinkTag, LinkTag.link_id == DeclaredLink.id)
        .where(LinkTag.code == "mobilite")
    ).one()
    assert caf & tagbits.BIT[("thematique", "mobilite")]
    assert not caf & tagbits.BIT[("thematique", "famille")]
    assert_same_as_tag_rows(session, world.this_year, GraphFilter())


def test_a_merge_unites_the_bits_as_it_unites_the_tags(session):
    b = Builder.start(session)
    c = b.campaign(2026, "open")
    b.org("caf", "caf")
    b.org("caf2", "caf")
    b.org("ccas", "ccas-cias")
    b.pro("ana", "ccas")
    b.respond(c, "ana", [
        {"org": "caf", "nature": "formal", "practices": ["referral"], "thematiques": ["famille"]},
        {"org": "caf2", "nature": "informal", "practices": ["handover", "referral"],
         "thematiques": ["sante"], "frames": ["agreement"]},
    ])  # fmt: skip
    session.commit()
    merge_structures(session, b.orgs["caf2"], b.orgs["caf"])
    session.commit()
    session.expire_all()
    assert disagreements(session) == []
    (bits,) = session.exec(select(DeclaredLink.tag_bits)).all()
    assert bits == tagbits.tag_bits(
        [("practice", "referral"), ("practice", "handover"),
         ("thematique", "famille"), ("thematique", "sante")]
    )  # fmt: skip
    assert_same_as_tag_rows(session, c, GraphFilter())


def test_an_erasure_keeps_bits_and_tags_in_agreement(session):
    world = build_world(session)
    erase_professional(session, world.pros["alice"], by="test")
    session.commit()
    assert disagreements(session) == []


def test_the_migration_fills_the_bits_of_the_links_already_there(fresh_url):  # noqa: F811
    migrate.upgrade(fresh_url, "0007")
    _load_demo(fresh_url)  # the demo without tag_bits, as a database at 0007 holds it
    migrate.upgrade(fresh_url)
    engine = make_engine(fresh_url)
    try:
        with Session(engine) as s:
            assert disagreements(s) == []
            assert s.exec(select(DeclaredLink).where(DeclaredLink.tag_bits != 0)).first()
    finally:
        engine.dispose()


# --- random territories ------------------------------------------------------------------

_PRACTICES = list(vocab.PRACTICES)
_THEMATIQUES = list(vocab.THEMATIQUES)
_codes = st.lists  # short name for the strategies below
_partner = st.fixed_dictionaries(
    {
        "org": st.integers(0, 5),
        "status": st.sampled_from(["new", "confirmed", "pending", "ended"]),
        "nature": st.sampled_from([None, *vocab.NATURES]),
        "frequency": st.sampled_from([None, *vocab.FREQUENCIES]),
        "practices": _codes(st.sampled_from(_PRACTICES), max_size=4, unique=True),
        "thematiques": _codes(st.sampled_from(_THEMATIQUES[:5]), max_size=3, unique=True),
        "frames": _codes(st.sampled_from(list(vocab.FRAMES)), max_size=2, unique=True),
    }
)
_response = st.tuples(
    st.integers(0, 5),  # the respondent's structure
    st.sampled_from(["submitted", "submitted", "draft"]),
    st.lists(_partner, max_size=6),
)
_filter = st.one_of(
    st.just(GraphFilter()),
    st.builds(GraphFilter, thematique=st.sampled_from(_THEMATIQUES[:5])),
    st.builds(GraphFilter, nature=st.sampled_from(["formal", "informal"])),
    st.builds(GraphFilter, frequency=st.sampled_from(list(vocab.FREQUENCIES))),
    st.builds(GraphFilter, org_types=st.just(frozenset({"caf", "association"}))),
)
_territories = itertools.count(1)


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    responses=st.lists(_response, min_size=1, max_size=8),
    merged=st.booleans(),
    flt=_filter,
)
def test_random_territories_give_the_same_graph(session, responses, merged, flt):
    """Each example in a territory of its own (graphs never cross territories)."""
    b = Builder.start(session, code=f"R{next(_territories)}", name="Aléatoire")
    c = b.campaign(2026, "open")
    types = ["caf", "association", "ccas-cias", "caf", "siao", "association"]
    for i, t in enumerate(types):
        b.org(f"o{i}", t)
    if merged:  # o5 merged into o0: its declarations count for o0
        b.orgs["o5"].merged_into_id = b.orgs["o0"].id
        b.orgs["o5"].status = "merged"
        session.add(b.orgs["o5"])
    for n, (org, status, partners) in enumerate(responses):
        b.pro(f"p{n}", f"o{org}")
        specs = [{**p, "org": f"o{p['org']}"} for p in partners]
        b.respond(c, f"p{n}", specs, status=status)
    session.flush()
    assert disagreements(session) == []
    assert_same_as_tag_rows(session, c, flt)
    expected = union_link_carriers(session, c, flt)
    g = build_graph(session, c, flt)
    assert {n: a["link_carriers"] for n, a in g.nodes(data=True)} == {
        n: expected.get(n, 0) for n in g
    }

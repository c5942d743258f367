"""The in-process cache of built graphs (reports/cache.py) and the paginated table view.

The world is tests/test_graph_pages.py's: territory 23 with 2025 (closed) and 2026 (open),
territory 19 beside it. Every change is made the way the application makes it (the
questionnaire's JSON API, survey.directory, survey.professionals, survey.links) and the
next view of the map must show it.
"""

from __future__ import annotations

import json
import re
import threading
from html import unescape

import networkx as nx
import pytest
from sqlmodel import Session, select

import app.routes.graph as graph_routes
from reports import cache, figures, pdf
from reports.graph import NO_FILTER, GraphFilter, build_graph
from survey import directory, links, professionals
from survey.models import Campaign, Organisation
from tests.accounts_helpers import login, make_user
from tests.conftest import TEST_SECRET
from tests.test_graph_pages import build


@pytest.fixture
def world(session):
    return build(session)


@pytest.fixture
def coordinator(client, session, world):
    make_user(session, "coord@example.org", territory=world[0].territory)
    login(client, "coord@example.org")
    return client


def same_graph(a: nx.DiGraph, b: nx.DiGraph) -> bool:
    """Equal node for node and edge for edge, attributes included."""
    return (
        a.graph == b.graph
        and list(a.nodes(data=True)) == list(b.nodes(data=True))
        and sorted(a.edges(data=True), key=str) == sorted(b.edges(data=True), key=str)
    )


def as_json(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def map_nodes(html: str) -> dict[str, dict[str, str]]:
    """{name: data-* attributes} of every structure drawn on the map page."""
    out = {}
    for tag in re.findall(r'<a class="node[^"]*" href="[^"]*" ([^>]*)>', html):
        attrs = {k: unescape(v) for k, v in re.findall(r'data-([a-z]+)="([^"]*)"', tag)}
        out[attrs["name"]] = attrs
    return out


def map_lines(html: str) -> set[tuple[str, str]]:
    return set(re.findall(r'<line class="link[^"]*" [^>]*data-s="(\d+)" data-t="(\d+)"', html))


def links_figure(html: str) -> str:
    m = re.search(r"<dt>Liens</dt><dd[^>]*>([^<]+)</dd>", html)
    assert m
    return m.group(1)


# --- the cache itself ----------------------------------------------------------------------


def test_cached_graph_equals_a_fresh_build_and_is_reused(session, world):
    _, c25, c26, _ = world
    gc = cache.cache_for(session)
    for campaign in (c25, c26):
        for flt in (NO_FILTER, GraphFilter(nature="formal")):
            g = cache.graph(session, campaign, flt)
            assert same_graph(g, build_graph(session, campaign, flt))
            builds = gc.builds
            assert cache.graph(session, campaign, flt) is g  # a hit: not built again
            assert gc.builds == builds
    figs = cache.all_figures(session, c25)
    assert as_json(figs) == as_json(figures.all_figures(build_graph(session, c25)))
    assert cache.all_figures(session, c25) is figs


def test_cached_graphs_are_frozen(session, world):
    g = cache.graph(session, world[1])
    with pytest.raises(nx.NetworkXError):
        g.add_node(999999)
    with pytest.raises(nx.NetworkXError):
        g.remove_edge(*next(iter(g.edges)))


def test_filters_are_cached_separately(session, world):
    _, c25, _, _ = world
    formal = GraphFilter(nature="formal")
    informal = GraphFilter(nature="informal")
    all_links = cache.graph(session, c25)
    g_formal = cache.graph(session, c25, formal)
    g_informal = cache.graph(session, c25, informal)
    assert len({id(all_links), id(g_formal), id(g_informal)}) == 3
    assert same_graph(g_formal, build_graph(session, c25, formal))
    assert same_graph(g_informal, build_graph(session, c25, informal))
    # 2025: caf1 → CCAS formal, the three others informal.
    assert all_links.number_of_edges() == 4
    assert g_formal.number_of_edges() == 1 and g_informal.number_of_edges() == 3
    assert cache.graph(session, c25, formal) is g_formal


def test_lru_is_bounded(session, world):
    _, c25, _, _ = world
    small = cache.GraphCache(max_entries=2)
    filters = [NO_FILTER, GraphFilter(nature="formal"), GraphFilter(nature="informal")]
    for flt in filters:
        small.entry(session, c25, flt)
    assert len(small) == 2 and small.builds == 3
    small.entry(session, c25, filters[2])  # still there
    assert small.builds == 3
    small.entry(session, c25, filters[0])  # the oldest went out
    assert small.builds == 4


def test_many_threads_missing_together_build_once(engine, session, world):
    campaign_id = world[1].id
    gc = cache.cache_for(session)
    gc.clear()
    builds = gc.builds
    got: list[nx.DiGraph] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def view() -> None:
        try:
            with Session(engine) as s:  # one session per thread, as per request
                campaign = s.get(Campaign, campaign_id)
                start.wait()
                got.append(cache.graph(s, campaign))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=view) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(got) == 6 and all(g is got[0] for g in got)
    assert gc.builds == builds + 1


def test_another_territory_never_gets_this_graph(client, session, world):
    b, _, c26, other = world
    mine = cache.graph(session, c26)
    c19 = session.exec(select(Campaign).where(Campaign.territory_id == other.territory.id)).one()
    g19 = cache.graph(session, c19)
    assert g19 is not mine
    assert g19.graph["territory_id"] == other.territory.id
    assert [a["name"] for _, a in g19.nodes(data=True)] == ["X"]
    # Through the pages: each coordinator sees their own territory's map only.
    make_user(session, "coord23@example.org", territory=b.territory)
    make_user(session, "coord19@example.org", territory=other.territory)
    login(client, "coord23@example.org")
    assert "CCAS" in map_nodes(client.get("/t/23/carte?annee=2026").text)
    login(client, "coord19@example.org")
    html = client.get("/t/19/carte?annee=2026").text
    assert set(map_nodes(html)) == {"X"}
    assert "CCAS" not in html
    assert client.get("/t/23/carte?annee=2026").status_code == 404


# --- invalidation: the next view shows every change ----------------------------------------


def _submit(client, token: str, partner_ids: list[int]) -> None:
    body = {
        "years_in_post": "1to3",
        "declared_partner_count": len(partner_ids),
        "links": [
            {
                "partner_organisation_id": oid,
                "nature": "informal",
                "frequency": "monthly",
                "practices": ["referral"],
            }
            for oid in partner_ids
        ],
    }
    r = client.post(f"/api/v1/questionnaire/{token}/submit", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "submitted"


def test_a_new_submission_then_a_resave_show_on_the_next_map_view(coordinator, session, world):
    b, _, c26, _ = world
    ml, msa, ccas = b.orgs["ml"].id, b.orgs["msa"].id, b.orgs["ccas"].id
    before = coordinator.get("/t/23/carte?annee=2026").text
    assert links_figure(before) == "3"
    assert map_nodes(before)["ML"]["answered"] == "0"
    gc = cache.cache_for(session)
    builds = gc.builds
    assert coordinator.get("/t/23/carte?annee=2026").text == before  # served from the cache
    assert gc.builds == builds

    token = links.ensure(session, TEST_SECRET, c26, b.pros["ml1"])
    session.commit()
    _submit(coordinator, token, [msa])  # the open campaign: ml1 answers, naming the MSA
    after = coordinator.get("/t/23/carte?annee=2026").text
    assert links_figure(after) == "4"
    assert map_nodes(after)["ML"]["answered"] == "1"
    assert (str(ml), str(msa)) in map_lines(after)
    assert same_graph(cache.graph(session, c26), build_graph(session, c26))

    # Re-saved (same number of responses): the MSA is replaced by the CCAS.
    _submit(coordinator, token, [ccas])
    again = coordinator.get("/t/23/carte?annee=2026").text
    lines = map_lines(again)
    assert (str(ml), str(msa)) not in lines and (str(ml), str(ccas)) in lines
    # The table view and the figures read the same cache.
    table = coordinator.get("/t/23/carte/tableau?annee=2026").text
    assert re.search(r"<td>ML</td><td>CCAS</td>", table)
    assert not re.search(r"<td>ML</td><td>MSA</td>", table)
    api = coordinator.get("/api/v1/t/23/figures/2026").json()
    assert api["size"]["links"] == 4


def test_a_rename_shows_on_the_next_view(coordinator, session, world):
    b, _, _, _ = world
    assert "CCAS" in map_nodes(coordinator.get("/t/23/carte?annee=2025").text)
    org = b.orgs["ccas"]
    directory.update_structure(
        session,
        org,
        directory.StructureData(name="CCAS de Guéret", type=org.type, commune=org.commune),
    )
    session.commit()
    names = map_nodes(coordinator.get("/t/23/carte?annee=2025").text)
    assert "CCAS de Guéret" in names and "CCAS" not in names
    caf = b.orgs["caf"].id
    page = coordinator.get(f"/t/23/structures/{caf}?annee=2025").text
    assert "CCAS de Guéret" in page


def test_a_merge_shows_on_the_next_view(coordinator, session, world):
    b, _, c26, _ = world
    html = coordinator.get("/t/23/carte?annee=2026").text
    assert "MSA" in map_nodes(html) and links_figure(html) == "3"
    directory.merge_structures(session, b.orgs["msa"], b.orgs["caf"])
    session.commit()
    html = coordinator.get("/t/23/carte?annee=2026").text
    assert "MSA" not in map_nodes(html)
    assert links_figure(html) == "2"  # msa1 → CAF is now inside the CAF
    assert same_graph(cache.graph(session, c26), build_graph(session, c26))


def test_merging_a_structure_only_named_by_others_shows_on_the_next_view(
    coordinator, session, world
):
    """No professional and no response of its own: only the link and the structure rows
    change (the structures part of the data version)."""
    b, c25, _, _ = world
    b.org("antenne", "mission-locale")
    b.respond(c25, "ml1", [{"org": "antenne", "nature": "formal", "frequency": "weekly"}])
    session.commit()
    html = coordinator.get("/t/23/carte?annee=2025").text
    assert "ANTENNE" in map_nodes(html) and links_figure(html) == "4"
    directory.merge_structures(session, b.orgs["antenne"], b.orgs["ml"])
    session.commit()
    html = coordinator.get("/t/23/carte?annee=2025").text
    assert "ANTENNE" not in map_nodes(html)
    assert links_figure(html) == "3"


def test_an_archive_shows_on_the_next_view(coordinator, session, world):
    b, _, _, _ = world
    lone = Organisation(territory_id=b.territory.id, name="Épicerie solidaire", type="association")
    session.add(lone)
    session.commit()
    assert "Épicerie solidaire" in map_nodes(coordinator.get("/t/23/carte?annee=2025").text)
    directory.archive_structure(session, session.get(Organisation, lone.id))
    session.commit()
    assert "Épicerie solidaire" not in map_nodes(coordinator.get("/t/23/carte?annee=2025").text)


def test_a_move_or_a_revoked_link_shows_on_the_next_view(coordinator, session, world):
    b, _, c26, _ = world
    nodes = map_nodes(coordinator.get("/t/23/carte?annee=2026").text)
    assert nodes["ML"]["invited"] == "1" and nodes["CCAS"]["invited"] == "1"
    pro = b.pros["ml1"]  # invited in 2026, has not answered: counted where they work now
    professionals.update_professional(
        session,
        pro,
        professionals.ProfessionalData(
            full_name=pro.full_name, email=pro.email, organisation_id=b.orgs["ccas"].id
        ),
    )
    session.commit()
    nodes = map_nodes(coordinator.get("/t/23/carte?annee=2026").text)
    assert nodes["ML"]["invited"] == "0" and nodes["CCAS"]["invited"] == "2"
    links.revoke(session, c26.id, pro.id)
    session.commit()
    nodes = map_nodes(coordinator.get("/t/23/carte?annee=2026").text)
    assert nodes["CCAS"]["invited"] == "1"


def test_pages_do_not_modify_the_cached_graphs_or_figures(coordinator, session, world):
    b, c25, c26, _ = world
    caf = b.orgs["caf"].id
    token = links.ensure(session, TEST_SECRET, c26, b.pros["caf1"])
    session.commit()
    paths = [
        "/t/23/carte?annee=2026", "/t/23/carte?annee=2025&nature=formal",
        "/t/23/carte/tableau?annee=2026", "/t/23/carte/tableau?annee=2026&tri=porteurs",
        "/t/23/figures/2026", "/t/23/figures/2025", f"/t/23/structures/{caf}?annee=2026",
        "/t/23/evolution", "/api/v1/t/23/graph/2026", "/api/v1/t/23/figures/2026",
        "/api/v1/t/23/evolution", "/t/23/exports/2026/json", "/t/23/exports/2026/graphml",
        f"/q/{token}/ma-carte",
    ]  # fmt: skip
    for _ in range(2):
        for path in paths:
            assert coordinator.get(path).status_code == 200, path
    pdf.collect(session, c26, c25)
    entries = list(cache.cache_for(session)._entries.values())
    assert len(entries) >= 3
    by_id = {c25.id: c25, c26.id: c26}
    for e in entries:
        campaign_id, _, flt = e.key
        fresh = build_graph(session, by_id[campaign_id], flt)
        assert same_graph(e.graph, fresh), e.key
        done = e.cached("all_figures")
        if done is not None:
            assert as_json(done) == as_json(figures.all_figures(fresh)), e.key


# --- the table view, paginated -------------------------------------------------------------


def table_rows(html: str) -> list[tuple[str, str, int]]:
    return [
        (a, b, int(n))
        for a, b, n in re.findall(
            r'<td>([^<]+)</td><td>([^<]+)</td>\s*<td class="num">(\d+)</td>', html
        )
    ]


def test_table_pages_links_with_count_and_navigation(coordinator, session, world, monkeypatch):
    b, c25, _, _ = world
    # ml1 answers too in 2025: {SIAO, ML} is then carried by two people, like {CAF, CCAS}.
    b.respond(c25, "ml1", [{"org": "siao", "nature": "informal", "frequency": "monthly"}])
    session.commit()
    monkeypatch.setattr(graph_routes, "TABLE_PAGE_SIZE", 2)

    first = coordinator.get("/t/23/carte/tableau?annee=2025")
    assert first.status_code == 200
    html = first.text
    assert table_rows(html) == [("CAF", "CCAS", 2), ("CAF", "SIAO", 1)]
    assert "1 à 2 sur 3 liens" in html
    assert "Liens (3)" in html
    assert 'id="structures"' in html  # the structures table is on the first page
    assert 'rel="prev"' not in html
    nxt = re.search(r'<a href="([^"]+)" rel="next">', html)
    assert nxt and unescape(nxt.group(1)) == "/t/23/carte/tableau?annee=2025&page=2#liens"
    assert "page suivante" in html

    second = coordinator.get("/t/23/carte/tableau?annee=2025&page=2").text
    assert table_rows(second) == [("SIAO", "ML", 2)]
    assert "3 à 3 sur 3 liens" in second
    assert 'id="structures"' not in second and "en page 1" in second
    prev = re.search(r'<a href="([^"]+)" rel="prev">', second)
    assert prev and unescape(prev.group(1)) == "/t/23/carte/tableau?annee=2025&page=1#liens"
    assert 'rel="next"' not in second and "Page précédente" in second

    # Sorted by carriers, the order is kept from page to page.
    by_carriers = coordinator.get("/t/23/carte/tableau?annee=2025&tri=porteurs").text
    assert table_rows(by_carriers) == [("CAF", "CCAS", 2), ("SIAO", "ML", 2)]
    nxt = re.search(r'<a href="([^"]+)" rel="next">', by_carriers)
    assert nxt and "tri=porteurs" in unescape(nxt.group(1))
    assert table_rows(coordinator.get(unescape(nxt.group(1))).text) == [("CAF", "SIAO", 1)]
    assert '<input type="hidden" name="tri" value="porteurs">' in by_carriers  # filter form

    # Filters are kept in the page links.
    informal = coordinator.get("/t/23/carte/tableau?annee=2025&nature=informal").text
    nxt = re.search(r'<a href="([^"]+)" rel="next">', informal)
    assert nxt and "nature=informal" in unescape(nxt.group(1))


def test_table_one_page_and_bad_page_numbers(coordinator, world):
    html = coordinator.get("/t/23/carte/tableau?annee=2025").text
    assert "1 à 3 sur 3 liens" in html
    assert 'class="pagination"' not in html
    r = coordinator.get("/t/23/carte/tableau?annee=2025&page=2")
    assert r.status_code == 404 and "1 page" in r.text
    for bad in ("abc", "0", "-1", "1e3", "²"):
        r = coordinator.get(f"/t/23/carte/tableau?annee=2025&page={bad}")
        assert r.status_code == 400 and "numéro de page" in r.text, bad
    r = coordinator.get("/t/23/carte/tableau?annee=2025&tri=hasard")
    assert r.status_code == 400 and "Tri inconnu" in r.text

"""A closed year never moves (issue 13): closing freezes a campaign; directory changes made
afterwards leave its figures API, map, GraphML export, obstacles and PDF as they were;
reopening discards the snapshot and closing again takes the changes in.

The territory is tests/test_graph_pages.py's: 2025 closed (3 links between 5 structures),
2026 open.
"""

from __future__ import annotations

import io
import zipfile
from html import unescape

import pytest
from sqlmodel import Session, select

from reports import cache, figures, pdf, snapshot
from reports.graph import GraphFilter, build_graph, build_service_graph, is_frozen
from survey import directory, privacy, professionals
from survey.campaigns import CampaignRefused
from survey.directory import StructureData
from survey.models import Campaign, Organisation
from survey.snapshots import CampaignSnapshot, SnapshotDeclaration
from tests.accounts_helpers import csrf_token, login, make_user
from tests.conftest import TEST_SECRET
from tests.test_graph_pages import build
from tests.test_report_pdf import pdf_text


@pytest.fixture
def world(session):
    b, c25, c26, other = build(session)
    snapshot.freeze(session, c25)  # what the close (or migration 0006) does
    session.commit()
    return b, c25, c26


@pytest.fixture
def coordinator(client, session, world):
    make_user(session, "coord@example.org", territory=world[0].territory)
    login(client, "coord@example.org")
    return client


def _unzipped(data: bytes) -> dict[str, bytes]:
    """The files of a zip (its entries carry the time they were written)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def observe(client, session: Session, c25: Campaign) -> dict:
    """Everything a reader gets of the closed year."""
    session.expire_all()
    campaign = session.get(Campaign, c25.id)
    assert campaign is not None
    graph_api = client.get("/api/v1/t/23/graph/2025")
    figures_api = client.get("/api/v1/t/23/figures/2025")
    formal = client.get("/api/v1/t/23/figures/2025?nature=formal")
    graphml = client.get("/t/23/exports/2025/graphml")
    csv = client.get("/t/23/exports/2025/csv")
    for r in (graph_api, figures_api, formal, graphml, csv):
        assert r.status_code == 200, r.text[:300]
    fresh_pdf = pdf.build_report(session, campaign, None)  # built again, not the stored one
    return {
        "figures": figures_api.json(),
        "formal": formal.json(),
        "graph": graph_api.json(),
        "graphml": graphml.content,
        "csv": _unzipped(csv.content),
        "obstacles": figures.obstacles(session, campaign),
        "service": sorted(build_service_graph(session, campaign).nodes(data="name")),
        "pdf": pdf_text(fresh_pdf)[1],
    }


def _create(session, b):
    directory.create_structure(
        session, b.territory.id, StructureData(name="Nouvelle association", type="association")
    )


def _rename(session, b):
    caf = b.orgs["caf"]
    directory.update_structure(
        session, caf, StructureData(name="CAF renommée", type=caf.type, commune=caf.commune)
    )


def _retype(session, b):
    caf = b.orgs["caf"]
    directory.update_structure(
        session, caf, StructureData(name=caf.name, type="association", commune=caf.commune)
    )


def _move(session, b):
    caf = b.orgs["caf"]
    directory.update_structure(
        session, caf, StructureData(name=caf.name, type=caf.type, commune="Aubusson")
    )


def _merge(session, b):
    directory.merge_structures(session, b.orgs["siao"], b.orgs["ccas"])


def _archive(session, b):
    professionals.deactivate(session, b.pros["msa1"])  # archiving asks that nobody works there
    directory.archive_structure(session, b.orgs["msa"])


def _leave(session, b):
    professionals.deactivate(session, b.pros["caf1"])


def _erase(session, b):
    privacy.erase_professional(session, b.pros["caf1"], "la personne, par son lien personnel")


CHANGES = {
    "create": _create,
    "rename": _rename,
    "retype": _retype,
    "move": _move,
    "merge": _merge,
    "archive": _archive,
    "leave": _leave,
    "erase": _erase,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_directory_change_leaves_the_closed_year_as_it_was(change, coordinator, session, world):
    b, c25, _ = world
    before = observe(coordinator, session, c25)
    CHANGES[change](session, b)
    session.commit()
    # The live graph of the closed year would have moved: the snapshot is what keeps it.
    after = observe(coordinator, session, c25)
    for part in before:
        assert after[part] == before[part], f"{change} changed the closed year's {part}"


@pytest.mark.parametrize("change", ["create", "rename", "retype", "merge", "archive"])
def test_reopening_then_closing_takes_the_change_in(change, coordinator, session, world):
    b, c25, c26 = world
    # Only the latest closed campaign reopens, with no other open: close 2026 first? No:
    # 2026 is open, so the 2025 campaign is reopened once 2026 is back to draft.
    c26.status = "draft"
    session.add(c26)
    session.commit()
    before = observe(coordinator, session, c25)
    CHANGES[change](session, b)
    session.commit()
    snapshot.reopen(session, c25, TEST_SECRET)
    session.commit()
    assert not is_frozen(session, c25)
    snapshot.close(session, c25)
    session.commit()
    assert is_frozen(session, c25)
    after = observe(coordinator, session, c25)
    assert after["graphml"] != before["graphml"] or after["figures"] != before["figures"]
    if change == "create":
        assert after["figures"]["size"]["structures"] == before["figures"]["size"]["structures"] + 1
    if change == "rename":
        assert b"CAF renomm" in after["graphml"] and b"CAF renomm" not in before["graphml"]
    if change == "merge":
        assert after["figures"]["size"]["structures"] == before["figures"]["size"]["structures"] - 1


def test_the_frozen_graph_equals_the_live_one_at_close(session, world):
    """Every view read from the frozen rows equals what the live tables gave at close."""
    b, c25, _ = world
    flts = [
        GraphFilter(),
        GraphFilter(nature="formal"),
        GraphFilter(nature="informal"),
        GraphFilter(thematique="logement-hebergement"),
        GraphFilter(frequency="monthly"),
        GraphFilter(org_types=frozenset({"caf", "ccas-cias"})),
    ]
    frozen = [build_graph(session, c25, f) for f in flts]
    frozen_service = build_service_graph(session, c25)
    snapshot.discard(session, c25)
    assert not is_frozen(session, c25)
    live = [build_graph(session, c25, f) for f in flts]
    for f, g1, g2 in zip(flts, frozen, live, strict=True):
        assert list(g1.nodes(data=True)) == list(g2.nodes(data=True)), f
        assert list(g1.edges(data=True)) == list(g2.edges(data=True)), f
    assert frozen[0].number_of_edges() == 4  # CAF→CCAS, CAF→SIAO, CCAS→CAF, SIAO→ML
    live_service = build_service_graph(session, c25)
    assert list(frozen_service.nodes(data=True)) == list(live_service.nodes(data=True))
    assert list(frozen_service.edges(data=True)) == list(live_service.edges(data=True))


def test_stored_figures_are_the_figures_of_the_stored_graph(session, world):
    _, c25, _ = world
    stored = snapshot.stored_figures(session, c25)
    assert stored is not None
    assert stored == figures.all_figures(build_graph(session, c25))
    assert stored["headline"]["links"] == 3
    # The cache serves them for a frozen campaign, without building its graph (the trend of
    # the territory reads them for every closed year).
    gc = cache.cache_for(session)
    gc.clear()
    builds = gc.builds
    assert cache.all_figures(session, c25) == stored
    assert cache.all_figures(session, c25, betweenness_k=300) == stored
    assert gc.builds == builds
    # A filtered view is not what was stored: that one is built.
    formal = cache.all_figures(session, c25, GraphFilter(nature="formal"))
    assert gc.builds == builds + 1
    assert formal == figures.all_figures(build_graph(session, c25, GraphFilter(nature="formal")))


def test_year_over_year_of_two_frozen_campaigns_ignores_later_departures(session, world):
    b, c25, c26 = world
    c26.status = "closed"
    session.add(c26)
    snapshot.freeze(session, c26)
    session.commit()
    before = cache.compare(session, c25, c26)
    professionals.deactivate(session, b.pros["ccas1"])
    professionals.deactivate(session, b.pros["ml1"])
    directory.archive_structure(session, b.orgs["ml"])
    session.commit()
    cache.cache_for(session).clear()
    assert cache.compare(session, c25, c26) == before
    assert before["counts"]["survived_carrier_leaving"] == 1  # {SIAO, ML}: siao1 left


def test_the_pdf_of_a_frozen_campaign_is_stored_and_served(coordinator, session, world):
    b, c25, _ = world
    assert snapshot.stored_pdf(session, c25) is None
    first = coordinator.get("/t/23/rapport/2025.pdf")
    assert first.status_code == 200 and first.content.startswith(b"%PDF")
    session.expire_all()
    assert snapshot.stored_pdf(session, c25) == first.content
    _rename(session, b)
    session.commit()
    again = coordinator.get("/t/23/rapport/2025.pdf")
    assert again.content == first.content
    # Reopening discards it with the rest of the snapshot.
    snapshot.discard(session, c25)
    session.commit()
    assert session.get(CampaignSnapshot, c25.id) is None


def test_closing_through_the_page_freezes_and_reopening_says_it_discards(
    coordinator, session, world
):
    b, c25, c26 = world
    page = coordinator.get("/t/23/campagnes/2026/clore")
    assert "seront figés" in page.text
    token = csrf_token(coordinator, "/t/23/campagnes/2026/clore")
    r = coordinator.post(
        "/t/23/campagnes/2026/clore", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303, r.text[:300]
    session.expire_all()
    assert is_frozen(session, session.get(Campaign, c26.id))
    assert session.exec(
        select(SnapshotDeclaration).where(SnapshotDeclaration.campaign_id == c26.id)
    ).first()
    confirm = coordinator.get("/t/23/campagnes/2026/rouvrir")
    assert "chiffres figés à la clôture seront effacés" in confirm.text
    token = csrf_token(coordinator, "/t/23/campagnes/2026/rouvrir")
    r = coordinator.post(
        "/t/23/campagnes/2026/rouvrir", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    session.expire_all()
    assert not is_frozen(session, session.get(Campaign, c26.id))


def test_reopening_a_campaign_that_is_not_the_latest_is_refused(session, world):
    _, c25, c26 = world
    c26.status = "closed"
    session.add(c26)
    snapshot.freeze(session, c26)
    session.commit()
    with pytest.raises(CampaignRefused) as exc:
        snapshot.reopen(session, c25, TEST_SECRET)
    assert "Seule la dernière campagne close (2026)" in exc.value.message
    session.rollback()
    assert is_frozen(session, c25)


def test_a_close_whose_snapshot_fails_leaves_the_campaign_open(
    coordinator, session, world, monkeypatch
):
    _, _, c26 = world

    def broken(session, campaign):
        raise RuntimeError("disk full")

    monkeypatch.setattr(snapshot, "freeze", broken)
    token = csrf_token(coordinator, "/t/23/campagnes/2026/clore")
    r = coordinator.post(
        "/t/23/campagnes/2026/clore", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 409
    text = unescape(r.text)
    assert "n'a pas pu être close" in text and "Elle reste ouverte" in text
    session.expire_all()
    assert session.get(Campaign, c26.id).status == "open"
    assert session.get(CampaignSnapshot, c26.id) is None


def test_freeze_missing_freezes_closed_campaigns_only(session):
    b, c25, c26, _ = build(session)
    session.commit()
    assert snapshot.freeze_missing(session) == 1
    session.commit()
    assert is_frozen(session, c25) and not is_frozen(session, c26)
    assert snapshot.freeze_missing(session) == 0
    names = {o.name for o in session.exec(select(Organisation))}
    assert "CAF" in names


def test_a_structure_merged_after_the_close_keeps_its_closed_year_page(coordinator, session, world):
    b, c25, _ = world
    siao = b.orgs["siao"]
    _merge(session, b)
    session.commit()
    page = unescape(coordinator.get(f"/t/23/structures/{siao.id}?annee=2025").text)
    assert "a été fusionnée dans" in page
    assert "figés à la clôture" in page and "comptée à part" in page
    assert "SIAO et ses partenaires en 2025" in page  # its 2025 ego map is drawn
    live = unescape(coordinator.get(f"/t/23/structures/{siao.id}?annee=2026").text)
    assert "ses liens sont comptés avec elle" in live
    assert "SIAO et ses partenaires en 2026" not in live


def test_closing_stores_year_over_year_with_the_previous_frozen_campaign(session, world):
    """Read as stored while neither campaign is frozen again; computed otherwise."""
    import json

    from reports.compare import carrier_departures, compare_graphs

    b, c25, c26 = world
    c26.status = "closed"
    session.add(c26)
    snapshot.freeze(session, c26)
    session.commit()
    stored = snapshot.stored_comparison(session, c25, c26)
    assert stored is not None and stored["years"] == [2025, 2026]
    computed = compare_graphs(
        build_graph(session, c25),
        build_graph(session, c26),
        carrier_departures(session, c25, c26),
    )
    assert stored == json.loads(json.dumps(computed))
    cache.cache_for(session).clear()
    assert cache.compare(session, c25, c26) is cache.compare(session, c25, c26)  # parsed once
    assert cache.compare(session, c25, c26) == stored
    # 2025 frozen again (reopened and closed): the stored comparison no longer applies.
    snapshot.freeze(session, c25)
    session.commit()
    assert snapshot.stored_comparison(session, c25, c26) is None
    fresh = cache.compare(session, c25, c26)
    assert fresh["counts"] == stored["counts"]


def test_year_over_year_reads_the_closed_year_with_todays_merges(session, world):
    """Merging a structure into another after 2025 closed: 2025's links to the absorbed one
    are its absorber's in the comparison with 2026, not « lost » beside a « new » twin. 2025
    itself, its figures and its page, stays as it was."""
    from reports.compare import compare

    b, c25, c26 = world
    siao, ccas, caf, ml = (b.orgs[k].id for k in ("siao", "ccas", "caf", "ml"))
    cache.cache_for(session).clear()
    before = cache.compare(session, c25, c26)
    figures_before = before["figures"]
    directory.merge_structures(session, b.orgs["siao"], b.orgs["ccas"])
    session.commit()
    for cmp in (cache.compare(session, c25, c26), compare(session, c25, c26)):
        pairs = {key: {(r["a"], r["b"]) for r in cmp[key]} for key in ("kept", "new", "lost")}
        assert all(siao not in pair for rows in pairs.values() for pair in rows), pairs
        # 2025 CAF–SIAO (1 carrier) is now CAF–CCAS, added to 2025's CAF–CCAS (2): kept.
        assert (min(caf, ccas), max(caf, ccas)) in pairs["kept"]
        kept = next(r for r in cmp["kept"] if {r["a"], r["b"]} == {caf, ccas})
        assert kept["carriers_before"] == 3
        # 2025 SIAO–ML is CCAS–ML, the link 2026's siao2 declared from the same structure.
        assert (min(ccas, ml), max(ccas, ml)) in pairs["kept"]
        # The closed year's figures as published; today's, merge included, beside them.
        assert {k: f["before"] for k, f in cmp["figures"].items()} == {
            k: f["before"] for k, f in figures_before.items()
        }

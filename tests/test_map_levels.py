"""The map by family and by zone (?niveau=famille, ?niveau=zone) and the backbone of a large
structure map, on a small territory worked out by hand (no JavaScript).

2025 (open) — structures: CAF and CPAM (caisses), CCAS (communes), ML (emploi), SIAO
(hébergement, silent). Professionals invited: caf1, caf2, cpam1, ccas1, ml1, siao1.
    caf1 → CPAM formal weekly; caf1 → CCAS informal monthly; caf2 → CCAS informal
    cpam1 → CAF formal; ccas1 → ML informal; ccas1 → CPAM informal; ml1 → SIAO informal
Links (unordered pairs, carriers):
    {CAF, CPAM} 2, formal, mutual       — inside the caisses
    {CAF, CCAS} 2, informal             — caisses ↔ communes
    {CPAM, CCAS} 1, informal (fragile)  — caisses ↔ communes
    {CCAS, ML} 1 (fragile)              — communes ↔ emploi
    {ML, SIAO} 1 (fragile)              — emploi ↔ hébergement
By family: caisses 2 structures, 3 invited, 3 responded (100 %), 1 link inside;
    communes 1 structure 1/1; emploi 1 structure 1/1; hébergement 1 structure 0/1 (0 %).
    Ties: caisses ↔ communes 2 links, 0 formal, 1 fragile (50 %); communes ↔ emploi 1;
    emploi ↔ hébergement 1; caisses loop 1 (100 % formal).
Zones: « Nord » = Guéret (CAF, CPAM, CCAS), « Sud » = Aubusson (ML); SIAO in Bourganeuf,
    in no zone (« Hors zone »). Nord loop 3 links, Nord ↔ Sud 1, Sud ↔ Hors zone 1.
The Corrèze next door has no zone.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlmodel import Session

from reports import backbone
from reports.graph import build_graph
from survey import zones
from tests.accounts_helpers import login, make_user
from tests.reports.builders import Builder


def build(session: Session):
    b = Builder.start(session)
    c25 = b.campaign(2025, "open")
    for key, type_ in (("caf", "caf"), ("cpam", "cpam"), ("ccas", "ccas-cias"),
                       ("ml", "mission-locale"), ("siao", "siao")):  # fmt: skip
        b.org(key, type_)
    b.orgs["ml"].commune = "Aubusson"
    b.orgs["siao"].commune = "Bourganeuf"
    for key, org in (("caf1", "caf"), ("caf2", "caf"), ("cpam1", "cpam"), ("ccas1", "ccas"),
                     ("ml1", "ml"), ("siao1", "siao")):  # fmt: skip
        b.pro(key, org)
    b.invite(c25, "caf1", "caf2", "cpam1", "ccas1", "ml1", "siao1")
    b.respond(c25, "caf1", [
        {"org": "cpam", "nature": "formal", "frequency": "weekly"},
        {"org": "ccas", "nature": "informal", "frequency": "monthly"},
    ])  # fmt: skip
    b.respond(c25, "caf2", [{"org": "ccas", "nature": "informal"}])
    b.respond(c25, "cpam1", [{"org": "caf", "nature": "formal"}])
    b.respond(c25, "ccas1", [{"org": "ml", "nature": "informal"},
                             {"org": "cpam", "nature": "informal"}])  # fmt: skip
    b.respond(c25, "ml1", [{"org": "siao", "nature": "informal"}])
    nord = zones.create_zone(session, b.territory.id, "Nord", "utas")
    zones.add_commune(session, nord, "Guéret")
    sud = zones.create_zone(session, b.territory.id, "Sud", "utas")
    zones.add_commune(session, sud, "Aubusson")
    other = Builder.start(session, "19", "Corrèze")
    c19 = other.campaign(2025, "open")
    other.org("x", "caf")
    other.org("y", "ccas-cias")
    other.pro("x1", "x")
    other.invite(c19, "x1")
    other.respond(c19, "x1", [{"org": "y", "nature": "formal"}])
    session.commit()
    return b, c25, other


@pytest.fixture
def world(session):
    return build(session)


@pytest.fixture
def coordinator(client, session, world):
    make_user(session, "coord@example.org", territory=world[0].territory)
    login(client, "coord@example.org")
    return client


@pytest.fixture
def viewer(client, session, world):
    make_user(session, "lecteur@example.org", role="viewer", territory=world[0].territory)
    login(client, "lecteur@example.org")
    return client


def T(response) -> str:
    """The page's text with entities decoded and French no-break spaces made plain."""
    return unescape(response.text).replace("\u202f", " ").replace("\u00a0", " ")


def table(html: str, table_id: str) -> list[list[str]]:
    """The rows of table `table_id` as lists of cell texts (tags stripped)."""
    m = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert m, f"no table {table_id}"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", m.group(0), re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)
        ]
        for r in rows
    ]


CAISSES = "Caisses de protection sociale"
COMMUNES = "Communes, CCAS, accueil de proximité"
EMPLOI = "Emploi, insertion, formation"
LOGEMENT = "Hébergement et logement"


def test_family_map_counts_groups_and_ties(coordinator):
    r = coordinator.get("/t/23/carte?annee=2025&niveau=famille")
    assert r.status_code == 200
    html = T(r)
    assert "Carte des partenariats 2025 par famille de structures" in html
    # The groups table, in vocab.FAMILIES order, figures worked out in the docstring.
    rows = table(html, "groupes")
    assert rows[1:] == [
        [CAISSES, "2", "2", "3", "3", "100 %", "1"],
        [COMMUNES, "1", "1", "1", "1", "100 %", "0"],
        [EMPLOI, "1", "1", "1", "1", "100 %", "0"],
        [LOGEMENT, "1", "0", "1", "0", "0 %", "0"],
    ]
    # Family × family: caisses–communes 2 (CAF–CCAS, CPAM–CCAS), diagonal 1 (CAF–CPAM).
    matrix = table(html, "tableau-croise")
    assert matrix[0][1:] == [CAISSES, COMMUNES, EMPLOI, LOGEMENT]
    assert [row[1:] for row in matrix[1:]] == [
        ["1", "2", "0", "0"],
        ["2", "0", "1", "0"],
        ["0", "1", "0", "1"],
        ["0", "0", "1", "0"],
    ]
    # The ties, heaviest first; CPAM–CCAS has one carrier: half the caisses–communes links
    # are fragile, none formal.
    ties = table(html, "liens-groupes")
    assert ties[1] == [f"{CAISSES} ↔ {COMMUNES}", "2", "0 %", "50 %", "0"]
    assert [f"{CAISSES}, entre elles", "1", "100 %", "0 %", "1"] in ties
    # The drawing: one focusable group per family with its figures in its title, each tie
    # titled in words, a title and a description.
    svg = re.search(r'<svg class="group-svg".*?</svg>', html, re.S).group(0)
    assert svg.count('class="group"') == 4
    assert '<title id="groupes-title">' in svg and '<desc id="groupes-desc">' in svg
    assert (
        f"<title>{CAISSES} : 2 structures (dont 2 ayant répondu), 100 % de réponse "
        "(3 sur 3 invité·es), 1 lien entre elles</title>"
    ) in svg
    assert f"<title>{CAISSES} ↔ {COMMUNES} : 2 liens, 0 % formels, 50 % fragiles</title>" in svg
    for label in (CAISSES, EMPLOI, LOGEMENT):
        assert label in svg
    # The caisses–communes tie is dashed (no formal link), the loop inside the caisses solid.
    assert re.search(r"0 % formels, 50 % fragiles</title><line [^>]*stroke-dasharray", svg)
    loop = re.search(r"entre elles : 1 lien, 100 % formels[^<]*</title><circle [^>]*/>", svg)
    assert loop and "dasharray" not in loop.group(0)
    # Each family links to the structure map filtered on its types.
    assert 'href="/t/23/carte?annee=2025&type=caf&type=cpam"' in r.text.replace("&amp;", "&")
    # « Par zone » is offered: the territory has zones; no map script at this level.
    assert 'name="niveau" value="zone"' in html
    assert "map.js" not in html


def test_family_map_follows_the_filters(coordinator):
    # Formal declarations only: CAF–CPAM alone is left, inside the caisses.
    html = T(coordinator.get("/t/23/carte?annee=2025&niveau=famille&nature=formal"))
    assert "Vue filtrée" in html
    matrix = table(html, "tableau-croise")
    assert matrix[1][0] == CAISSES and matrix[1][1] == "1"
    assert sum(int(c) for row in matrix[1:] for c in row[1:]) == 1
    ties = table(html, "liens-groupes")
    assert ties[1:] == [[f"{CAISSES}, entre elles", "1", "100 %", "0 %", "1"]]
    # Types: the caisses and the CCAS only; the niveau is kept by the form.
    r = coordinator.get("/t/23/carte?annee=2025&niveau=famille&type=caf&type=cpam&type=ccas-cias")
    html = T(r)
    assert [row[0] for row in table(html, "groupes")[1:]] == [CAISSES, COMMUNES]
    assert EMPLOI not in table(html, "tableau-croise")[0]
    assert re.search(r'name="niveau" value="famille" checked', html)


def test_zone_map(coordinator):
    html = T(coordinator.get("/t/23/carte?annee=2025&niveau=zone"))
    assert "Carte des partenariats 2025 par zone" in html
    rows = table(html, "groupes")
    # Nord: CAF, CPAM, CCAS, invited caf1, caf2, cpam1, ccas1 (all answered), 3 links inside.
    assert rows[1:] == [
        ["Nord", "3", "3", "4", "4", "100 %", "3"],
        ["Sud", "1", "1", "1", "1", "100 %", "0"],
        ["Hors zone", "1", "0", "1", "0", "0 %", "0"],
    ]
    assert [row[1:] for row in table(html, "tableau-croise")[1:]] == [
        ["3", "1", "0"],
        ["1", "0", "1"],
        ["0", "1", "0"],
    ]
    raw = html.replace("&amp;", "&")
    assert 'href="/t/23/carte?annee=2025&zone=Nord"' in raw
    assert "zone=Hors" not in raw  # « Hors zone » is no zone to filter on


def test_zone_level_without_zones_and_bad_values(client, session, world):
    make_user(session, "coord19@example.org", territory=world[2].territory)
    login(client, "coord19@example.org")
    r = client.get("/t/19/carte?annee=2025&niveau=zone")
    assert r.status_code == 200
    html = T(r)
    assert "la carte par zone n'est pas disponible" in html
    assert 'name="niveau" value="zone"' not in html  # not offered
    assert 'name="niveau" value="famille"' in html
    for query, message in (
        ("niveau=region", "Niveau de carte inconnu : « region »"),
        ("liens=quelques", "Valeur inconnue pour liens"),
    ):
        r = client.get(f"/t/19/carte?annee=2025&{query}")
        assert r.status_code == 400, query
        assert message in T(r)


def test_viewer_reads_no_count_of_one_or_two_people(viewer):
    r = viewer.get("/t/23/carte?annee=2025&niveau=famille")
    html = T(r)
    rows = {row[0]: row[1:] for row in table(html, "groupes")[1:]}
    # Caisses: 3 invited, 3 responded, shown. Communes: 1 invited → « < 3 », rate withheld.
    assert rows[CAISSES] == ["2", "2", "3", "3", "100 %", "1"]
    assert rows[COMMUNES] == ["1", "1", "< 3", "< 3", "non donné", "0"]
    # Hébergement: 1 invited, nobody answered: 0 is printed, the rate is still withheld.
    assert rows[LOGEMENT] == ["1", "0", "< 3", "0", "non donné", "0"]
    svg = re.search(r'<svg class="group-svg".*?</svg>', html, re.S).group(0)
    for m in re.finditer(r"<title>([^<]*)</title>", svg):
        assert not re.search(r"\b[12] sur|sur [12] invité", m.group(1)), m.group(1)
    assert "taux non donné" in svg
    # Link counts are not counts of people: the same as the coordinator's.
    assert table(html, "tableau-croise")[1][2] == "2"


def test_backbone_on_a_large_map(coordinator, session, world, monkeypatch):
    b, c25, _ = world
    # Five structures count as a large territory here.
    monkeypatch.setattr(backbone, "BACKBONE_FROM", 5)
    r = coordinator.get("/t/23/carte?annee=2025")
    html = T(r)
    # CPAM–CCAS is carried by one professional and is neither end's strongest link (CPAM:
    # CAF–CPAM, 2 carriers; CCAS: CAF–CCAS, 2): the disparity rule hides it.
    cpam, ccas = sorted((b.orgs["cpam"].id, b.orgs["ccas"].id))
    hidden_line = re.compile(
        rf'<line class="link[^"]*"[^>]*data-s="({cpam}|{ccas})" data-t="({cpam}|{ccas})"'
    )
    assert not hidden_line.search(html)
    bb = backbone.backbone(build_graph(session, c25))
    assert bb.total == 5 and bb.hidden >= 1
    assert html.count('<line class="link') == len(bb.kept) == 5 - bb.hidden
    assert unescape(bb.sentence()).replace("\u202f", " ").replace("\u00a0", " ") in html
    link = re.search(r'<a href="([^"]+)">Afficher tous les liens</a>', r.text)
    assert link
    r_all = coordinator.get(unescape(link.group(1)))
    everything = T(r_all)
    assert everything.count('<line class="link') == 5
    assert hidden_line.search(everything)
    assert "N'afficher que l'ossature" in everything
    assert 'name="liens" value="tous"' in everything  # kept when the filters change
    # Below the threshold nothing changes: every link, no sentence.
    monkeypatch.setattr(backbone, "BACKBONE_FROM", 80)
    plain = T(coordinator.get("/t/23/carte?annee=2025"))
    assert plain.count('<line class="link') == 5
    assert "Afficher tous les liens" not in plain and "ossature" not in plain


def test_structure_page_ego_map_shows_ties_among_partners(coordinator, world):
    b = world[0]
    caf, cpam, ccas, ml = (b.orgs[k].id for k in ("caf", "cpam", "ccas", "ml"))
    html = coordinator.get(f"/t/23/structures/{ccas}?annee=2025").text
    ego = re.search(r'<svg class="map-svg" id="ego-svg".*?</svg>', html, re.S)
    assert ego
    # CCAS's partners: CAF, CPAM, ML (SIAO is ML's partner, not CCAS's: not drawn).
    assert ego.group(0).count('class="node ') == 4
    lines = re.findall(r'<line class="link[^"]*"[^>]*data-s="(\d+)" data-t="(\d+)"', ego.group(0))
    pairs = {frozenset(map(int, p)) for p in lines}
    # Its three links, and CAF–CPAM between two of its partners.
    assert pairs == {
        frozenset({ccas, caf}),
        frozenset({ccas, cpam}),
        frozenset({ccas, ml}),
        frozenset({caf, cpam}),
    }

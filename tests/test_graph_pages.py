"""The graph pages, exports and JSON API on a small two-year territory worked out by hand.

2025 (closed) — invited caf1, ccas1, siao1, msa1, ml1:
    caf1 → CCAS formal weekly [referral]
    caf1 → SIAO informal monthly [referral; logement-hebergement]
    ccas1 → CAF informal monthly [rights_access]
    siao1 → ML informal occasional
    msa1, ml1 did not answer.
  links: {CAF,CCAS} mutual, 2 carriers, formal; {CAF,SIAO} one-sided (SIAO answered), fragile;
  {SIAO,ML} fragile, reciprocity unknown (ML silent). → 3 links, reciprocity 1/2, formal 1/3,
  fragile 2/3, response rate 3/5.
2026 (open) — siao1 has left, siao2 replaced them; caf2 arrived:
    caf1 → CCAS formal weekly; caf2 → CCAS informal weekly; ccas1 → CAF formal monthly
    siao2 → ML informal; msa1 → CAF informal
  links: {CAF,CCAS} 3 carriers (strengthened), {SIAO,ML} kept although its only carrier left
  (survived), {CAF,MSA} new (one-sided), {CAF,SIAO} lost.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html import unescape

import pytest
from sqlmodel import Session, select

from reports import figures
from reports.compare import compare
from reports.graph import GraphFilter, build_graph
from tests.accounts_helpers import login, make_user
from tests.reports.builders import Builder

PRO_KEYS = ("caf1", "caf2", "ccas1", "siao1", "siao2", "msa1", "ml1")


def build(session: Session):
    b = Builder.start(session)
    c25 = b.campaign(2025, "closed")
    c26 = b.campaign(2026, "open")
    for key, type_ in (("caf", "caf"), ("ccas", "ccas-cias"), ("siao", "siao"),
                       ("msa", "mutualite-sociale-agricole"), ("ml", "mission-locale")):  # fmt: skip
        b.org(key, type_)
    b.pro("caf1", "caf")
    b.pro("ccas1", "ccas")
    b.pro("siao1", "siao", active=False)
    b.pro("msa1", "msa")
    b.pro("ml1", "ml")
    b.invite(c25, "caf1", "ccas1", "siao1", "msa1", "ml1")
    b.respond(c25, "caf1", [
        {"org": "ccas", "nature": "formal", "frequency": "weekly", "practices": ["referral"]},
        {"org": "siao", "nature": "informal", "frequency": "monthly", "practices": ["referral"],
         "thematiques": ["logement-hebergement"]},
    ], obstacles=("turnover",))  # fmt: skip
    b.respond(c25, "ccas1", [{"org": "caf", "nature": "informal", "frequency": "monthly",
                              "practices": ["rights_access"]}])  # fmt: skip
    b.respond(c25, "siao1", [{"org": "ml", "nature": "informal", "frequency": "occasional"}])
    b.pro("caf2", "caf")
    b.pro("siao2", "siao")
    b.invite(c26, "caf1", "caf2", "ccas1", "siao2", "msa1", "ml1")
    b.respond(c26, "caf1", [{"org": "ccas", "nature": "formal", "frequency": "weekly"}])
    b.respond(c26, "caf2", [{"org": "ccas", "nature": "informal", "frequency": "weekly"}])
    b.respond(c26, "ccas1", [{"org": "caf", "nature": "formal", "frequency": "monthly",
                              "practices": ["rights_access"]}])  # fmt: skip
    b.respond(c26, "siao2", [{"org": "ml", "nature": "informal"}])
    b.respond(c26, "msa1", [{"org": "caf", "nature": "informal"}], obstacles=("lack_of_time",))
    other = Builder.start(session, "19", "Corrèze")
    other.campaign(2026, "open")
    other.org("x", "caf")
    session.commit()
    return b, c25, c26, other


@pytest.fixture
def world(session):
    return build(session)


@pytest.fixture
def coordinator(client, session, world):
    b = world[0]
    make_user(session, "coord@example.org", territory=b.territory)
    login(client, "coord@example.org")
    return client


@pytest.fixture
def viewer(client, session, world):
    make_user(session, "lecteur@example.org", role="viewer", territory=world[0].territory)
    login(client, "lecteur@example.org")
    return client


def _headline_value(html: str, title: str) -> str:
    m = re.search(rf"<dt>{title}</dt><dd[^>]*>([^<]+)</dd>", html)
    assert m, f"no headline figure {title}"
    return m.group(1).replace("&nbsp;", " ").strip()


# --- map -----------------------------------------------------------------------------------


def test_map_shows_the_network_and_its_headline_figures(coordinator, session, world):
    b, c25, _, _ = world
    r = coordinator.get("/t/23/carte?annee=2025")
    assert r.status_code == 200
    html = r.text
    assert _headline_value(html, "Liens") == "3"
    assert _headline_value(html, "Réciprocité") == "50 %"
    assert _headline_value(html, "Liens formels") == "33 %"
    assert _headline_value(html, "Liens fragiles") == "67 %"
    assert _headline_value(html, "Taux de réponse") == "60 %"
    g = build_graph(session, c25)
    h = figures.headline(g)
    assert h["links"] == 3 and h["reciprocity"] == 0.5
    # Every structure is a focusable link to its page, with a title.
    caf = b.orgs["caf"].id
    assert html.count('class="node ') == g.number_of_nodes() == 5
    assert f'href="/t/23/structures/{caf}?annee=2025"' in html
    assert "<title>CAF — CAF — 2 partenaires, a répondu</title>" in html
    # ML did not answer: drawn hollow ("silent"); CAF→SIAO is one-sided and fragile.
    ml_node = re.search(r'<a class="node ([^"]+)"[^>]*data-name="ML"', html)
    assert ml_node and "silent" in ml_node.group(1)
    siao, caf_s = str(b.orgs["siao"].id), str(caf)
    line = re.search(rf'<line class="([^"]+)"[^>]*data-s="{caf_s}" data-t="{siao}"[^>]*>', html)
    assert line and "one-sided" in line.group(1) and "fragile" in line.group(1)
    assert "marker-end" in line.group(0)
    # The legend explains every cue; the accessible table is linked.
    for text in ("Forme vide", "Pointillés", "Flèche", "Caisses de protection sociale"):
        assert text in html
    assert "/t/23/carte/tableau?annee=2025" in html
    scripts = re.findall(r'<script src="([^"]+)"', html)
    # Our own, nothing from the internet: print.js (every page) and map.js.
    assert scripts == ["http://testserver/static/print.js", "http://testserver/static/map.js"]


def test_map_search_without_javascript_folds_names_as_the_script_does(coordinator, session, world):
    """Accents, case, « ’ » or « ' » and hyphens do not count (it was a plain `in` on the
    lowered name: « gueret » missed « Guéret », a phone's « ’ » missed a typed « ' »)."""
    b = world[0]
    b.orgs["ccas"].name = "CCAS de Guéret"
    b.orgs["ml"].name = "Mission locale d’Aubusson-Felletin"
    session.commit()

    def highlighted(q: str) -> list[str]:
        html = coordinator.get("/t/23/carte", params={"annee": "2025", "recherche": q}).text
        return re.findall(r'class="node [^"]*highlight"[^>]*data-name="([^"]+)"', html)

    assert highlighted("gueret") == ["CCAS de Guéret"]
    assert highlighted("GUÉRET") == ["CCAS de Guéret"]
    assert highlighted("locale d'aubusson felletin") == ["Mission locale d’Aubusson-Felletin"]
    assert highlighted("ccas") == ["CCAS de Guéret"]
    assert highlighted("limoges") == []
    html = coordinator.get("/t/23/carte", params={"annee": "2025", "recherche": "limoges"}).text
    assert "Aucune structure ne contient « limoges »" in html


def test_year_lists_say_which_year_is_open_and_which_is_in_preparation(coordinator, world):
    """A year in preparation has no answers: listed as a plain year, its map and its
    comparison read as a network gone (« Liens 202 → 0 »)."""
    b = world[0]
    b.campaign(2027, "draft")
    b.session.commit()
    for path in ("/t/23/carte", "/t/23/evolution", "/t/23/exports"):
        html = coordinator.get(path).text
        options = re.findall(r"<option value=\"(\d{4})\"[^>]*>([^<]+)</option>", html)
        labels = {year: label for year, label in options}
        assert labels["2027"] == "2027 (en préparation)", path
        assert labels["2026"] == "2026 (en cours)", path
        assert labels["2025"] == "2025", path
    # Nothing answered yet: every structure alone, « 1 structure ».
    figures_page = coordinator.get("/t/23/figures/2027").text
    assert "la plus grande : 1 structure<" in figures_page


def test_map_defaults_to_latest_year_with_answers_and_handles_bad_input(coordinator):
    assert "Carte des partenariats 2026" in coordinator.get("/t/23/carte").text
    r = coordinator.get("/t/23/carte?annee=deux")
    assert r.status_code == 400 and "n'est pas une année valide" in unescape(r.text)
    r = coordinator.get("/t/23/carte?annee=1999")
    assert r.status_code == 404 and "Aucune campagne 1999" in r.text
    for query, message in (
        ("nature=secret", "Nature de lien inconnue"),
        ("type=inexistant", "Type de structure inconnu"),
        ("thematique=zzz", "Thématique inconnue"),
        ("frequence=jamais", "Fréquence inconnue"),
    ):
        r = coordinator.get(f"/t/23/carte?{query}")
        assert r.status_code == 400, query
        assert message in unescape(r.text)


def test_filters_recompute_the_figures(coordinator, session, world):
    _, c25, _, _ = world
    r = coordinator.get("/t/23/carte?annee=2025&nature=formal")
    assert "Vue filtrée" in r.text
    assert _headline_value(r.text, "Liens") == "1"  # only CAF–CCAS has a formal declaration
    assert _headline_value(r.text, "Liens formels") == "100 %"
    formal = figures.headline(build_graph(session, c25, GraphFilter(nature="formal")))
    assert formal["links"] == 1
    # Thématique: only CAF→SIAO cites logement-hebergement.
    r = coordinator.get("/t/23/carte?annee=2025&thematique=logement-hebergement")
    assert _headline_value(r.text, "Liens") == "1"
    # Types: CAF and CCAS only → 2 structures, 1 link.
    r = coordinator.get("/t/23/carte?annee=2025&type=caf&type=ccas-cias")
    assert _headline_value(r.text, "Structures") == "2"
    assert _headline_value(r.text, "Liens") == "1"
    assert r.text.count('class="node ') == 2
    # Same filters on the figures page and the API.
    api = coordinator.get("/api/v1/t/23/figures/2025?nature=informal").json()
    g = build_graph(session, c25, GraphFilter(nature="informal"))
    assert api["headline"] == figures.headline(g)
    assert api["headline"]["links"] == 3


def test_table_view_has_structures_and_links(coordinator):
    html = coordinator.get("/t/23/carte/tableau?annee=2025").text
    assert "Structures (5)" in html and "Liens (3)" in html
    assert "d'un seul côté" in html  # CAF → SIAO
    assert "inconnue (non-réponse)" in html  # SIAO → ML
    assert html.count('<span class="flag fragile">fragile</span>') == 2
    filtered = coordinator.get("/t/23/carte/tableau?annee=2025&nature=formal").text
    assert "Liens (1)" in filtered


# --- figures -------------------------------------------------------------------------------


def test_figures_page_matches_reports_figures(coordinator, session, world):
    _, _, c26, _ = world
    html = coordinator.get("/t/23/figures/2026").text
    f = figures.all_figures(build_graph(session, c26))
    assert f'<dd id="fig-links">{f["size"]["links"]}</dd>' in html
    assert f'<dd id="fig-ties">{f["size"]["ties"]}</dd>' in html
    density = f"{f['size']['density']:.4f}".replace(".", ",")
    assert f'<span id="fig-density">{density}</span>' in html
    for section in ("Qui a répondu", "Liens cités des deux côtés", "Ce qui est construit ensemble",
                    "Les structures les plus reliées", "Groupes de structures",
                    "Liens qui ne tiennent qu'à une personne", "Obstacles rencontrés"):  # fmt: skip
        assert section in html
    # Non-response is shown, never read as "no partnership".
    assert "structure sans réponse" in html or "structures sans réponse" in html
    assert "réciprocité est inconnue" in html
    assert "Manque de temps" in html  # msa1's obstacle
    assert "Accès et ouverture des droits" in html
    r = coordinator.get("/t/23/figures/2031")
    assert r.status_code == 404 and "Aucune campagne 2031" in r.text
    assert coordinator.get("/t/23/figures/abcd").status_code == 400


# --- structure page ------------------------------------------------------------------------


def test_structure_page_both_directions_carriers_and_evolution(coordinator, world):
    b = world[0]
    caf = b.orgs["caf"].id
    html = coordinator.get(f"/t/23/structures/{caf}?annee=2026").text
    assert "<h1>CAF</h1>" in html
    assert "Ses partenaires en 2026 (2)" in html
    row_ccas = re.search(r"<tr>\s*<th scope=\"row\"><a [^>]+>CCAS</a>.*?</tr>", html, re.S).group(0)
    assert "Réciproque" in row_ccas
    assert re.findall(r'<td class="num"[^>]*>(\d+)</td>', row_ccas) == ["2", "1"]  # here, there
    row_msa = re.search(r"<tr>\s*<th scope=\"row\"><a [^>]+>MSA</a>.*?</tr>", html, re.S).group(0)
    assert "Sans réciproque : MSA cite CAF, qui a répondu sans la citer" in row_msa
    assert "Accès et ouverture des droits" in html
    # Evolution since 2025: MSA new, SIAO lost, CCAS strengthened (2 → 3 people).
    evo = html.split('id="evolution"')[1]
    assert re.search(r"Nouveaux partenaires \(1\).*?MSA", evo, re.S)
    assert re.search(r"Partenaires perdus \(1\).*?SIAO", evo, re.S)
    assert "2 → 3 personnes" in evo
    # The ego map is there, with CAF highlighted.
    assert 'id="ego-svg"' in html
    assert re.search(
        r'class="node fam-protection answered[^"]* highlight"[^>]*data-name="CAF"', html
    )


def test_structure_page_bad_ids_and_other_territory(coordinator, world):
    other = world[3]
    assert coordinator.get("/t/23/structures/abc").status_code == 404
    assert coordinator.get("/t/23/structures/99999999").status_code == 404
    r = coordinator.get(f"/t/23/structures/{other.orgs['x'].id}")
    assert r.status_code == 404 and "CAF de" not in r.text
    ml = world[0].orgs["ml"].id
    html = coordinator.get(f"/t/23/structures/{ml}?annee=2025").text
    assert "ML n'a pas répondu en 2025" in html


# --- evolution -----------------------------------------------------------------------------


def test_evolution_page_lists_changes(coordinator, session, world):
    _, c25, c26, _ = world
    html = coordinator.get("/t/23/evolution?de=2025&a=2026").text
    cmp = compare(session, c25, c26)
    assert cmp["counts"]["new"] == 1 and cmp["counts"]["lost"] == 1
    for key in ("new", "lost", "kept", "strengthened"):
        assert f'<dd id="n-{key}">{cmp["counts"][key]}</dd>' in html
    assert re.search(r"Liens qui ont survécu au départ de ceux qui les portaient \(1\)", html)
    assert re.search(r"Liens perdus avec le départ de ceux qui les portaient \(0\)", html)
    assert "Taux de réponse" in html and "+" in html
    assert coordinator.get("/t/23/evolution").text.count("de 2025 à 2026") >= 1
    for query in ("de=2026&a=2025", "de=20x5", "de=2026"):
        r = coordinator.get(f"/t/23/evolution?{query}")
        assert r.status_code == 400, query
    assert coordinator.get("/t/23/evolution?de=2020&a=2026").status_code == 404
    api = coordinator.get("/api/v1/t/23/evolution?de=2025&a=2026").json()
    assert api["counts"] == cmp["counts"]


# --- exports -------------------------------------------------------------------------------


def test_graphml_export_matches_figures_page(coordinator, session, world):
    _, _, c26, _ = world
    page = coordinator.get("/t/23/exports?annee=2026").text
    assert "Aucun nom, aucune adresse e-mail" in page
    r = coordinator.get("/t/23/exports/2026/graphml")
    assert r.status_code == 200
    assert 'filename="carte-23-2026.graphml"' in r.headers["content-disposition"]
    root = ET.fromstring(r.content)
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    graph = root.find("g:graph", ns)
    nodes = graph.findall("g:node", ns)
    edges = graph.findall("g:edge", ns)
    n = len(nodes)
    density = len(edges) / (n * (n - 1))
    html = coordinator.get("/t/23/figures/2026").text
    assert f'<dd id="fig-structures">{n}</dd>' in html
    assert f'<dd id="fig-ties">{len(edges)}</dd>' in html
    assert f'<span id="fig-density">{density:.4f}</span>'.replace(".", ",") in html
    api = coordinator.get("/api/v1/t/23/figures/2026").json()
    assert api["size"]["density"] == pytest.approx(density)
    assert graph.get("edgedefault") == "directed"


def test_every_format_downloads_and_bad_format_is_404(coordinator):
    for fmt, magic in (("gexf", b"<?xml"), ("json", b"{"), ("csv", b"PK")):
        r = coordinator.get(f"/t/23/exports/2025/{fmt}")
        assert r.status_code == 200, fmt
        assert r.content.startswith(magic), fmt
    assert coordinator.get("/t/23/exports/2025/pdf").status_code == 404
    assert coordinator.get("/t/23/exports/2099/json").status_code == 404
    assert coordinator.get("/t/23/exports/2025/json?nature=x").status_code == 400


def test_no_professional_name_shown_to_a_viewer(viewer, world):
    b = world[0]
    secrets = [p.full_name for p in b.pros.values()] + [p.email for p in b.pros.values()]
    caf = b.orgs["caf"].id
    paths = [
        "/t/23/carte?annee=2025", "/t/23/carte?annee=2026", "/t/23/carte/tableau?annee=2026",
        "/t/23/figures/2025", "/t/23/figures/2026", f"/t/23/structures/{caf}?annee=2026",
        "/t/23/evolution", "/t/23/exports", "/api/v1/t/23/figures/2026",
        "/api/v1/t/23/graph/2026", "/api/v1/t/23/evolution",
    ] + [f"/t/23/exports/{y}/{f}" for y in (2025, 2026) for f in ("gexf", "graphml", "json")]  # fmt: skip
    for path in paths:
        r = viewer.get(path)
        assert r.status_code == 200, path
        body = r.content.decode("utf-8")
        for secret in secrets:
            assert secret not in body, (path, secret)
    import io
    import zipfile

    z = zipfile.ZipFile(io.BytesIO(viewer.get("/t/23/exports/2026/csv").content))
    text = "".join(z.read(name).decode("utf-8") for name in z.namelist())
    assert "CAF" in text
    assert not any(secret in text for secret in secrets)


# --- access --------------------------------------------------------------------------------


def test_other_territory_and_anonymous_get_nothing(client, session, world):
    other = world[3]
    paths = ["/t/23/carte", "/t/23/carte/tableau", "/t/23/figures/2026", "/t/23/evolution",
             "/t/23/exports", "/t/23/exports/2026/json",
             f"/t/23/structures/{world[0].orgs['caf'].id}"]  # fmt: skip
    api = ["/api/v1/t/23/figures/2026", "/api/v1/t/23/graph/2026", "/api/v1/t/23/evolution"]
    for path in paths:
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
    for path in api:
        assert client.get(path).status_code == 401
    make_user(session, "coord19@example.org", territory=other.territory)
    login(client, "coord19@example.org")
    for path in paths + api:
        r = client.get(path)
        assert r.status_code == 404, path
        assert "CCAS" not in r.text


# --- API -----------------------------------------------------------------------------------


def test_api_graph_has_positions_and_is_documented(coordinator, session, world):
    _, c25, _, _ = world
    data = coordinator.get("/api/v1/t/23/graph/2025").json()
    g = build_graph(session, c25)
    assert {n["id"] for n in data["nodes"]} == set(g.nodes)
    assert len(data["links"]) == g.number_of_edges()
    assert all(0 <= n["x"] <= 1 and 0 <= n["y"] <= 1 for n in data["nodes"])
    assert {n["family"] for n in data["nodes"]} >= {"protection", "logement"}
    assert coordinator.get("/api/v1/t/23/graph/2025").json() == data  # stable positions
    r = coordinator.get("/api/v1/t/23/graph/1990")
    assert r.status_code == 404 and r.json()["detail"] == "Aucune campagne 1990 pour ce territoire."
    r = coordinator.get("/api/v1/t/23/figures/2025?frequence=jamais")  # an enum: 422
    assert r.status_code == 422 and r.json()["errors"] == [
        {"field": "query.frequence", "message": "« jamais » n'est pas dans la liste proposée."}
    ]
    spec = coordinator.get("/openapi.json").json()
    for path in ("/api/v1/t/{code}/figures/{year}", "/api/v1/t/{code}/graph/{year}",
                 "/api/v1/t/{code}/evolution"):  # fmt: skip
        assert path in spec["paths"]
    params = {
        p["name"] for p in spec["paths"]["/api/v1/t/{code}/figures/{year}"]["get"]["parameters"]
    }
    assert {"type", "nature", "thematique", "frequence"} <= params


# --- the respondent's own map --------------------------------------------------------------


def test_own_map_before_and_after_submitting(client, session, world):
    from survey import links
    from survey.models import Response
    from tests.conftest import TEST_SECRET

    b, _, c26, _ = world
    token = links.issue(session, TEST_SECRET, c26, b.pros["ml1"])
    session.commit()
    r = client.get(f"/q/{token}/ma-carte")
    assert r.status_code == 200
    assert "Envoyez d'abord vos réponses" in r.text
    b.respond(c26, "ml1", [{"org": "siao", "nature": "informal", "frequency": "monthly",
                            "practices": ["referral"]}])  # fmt: skip
    session.commit()
    html = client.get(f"/q/{token}/ma-carte").text
    assert "Vos partenaires en 2026 (1)" in html
    assert "SIAO" in html and "Orientation" in html
    # ML in the 2025 map (previous closed campaign): one partner (SIAO), named by it.
    assert "ML dans la carte 2025" in html
    assert 'id="ma-carte-svg"' in html
    assert re.search(r'class="node fam-emploi silent[^"]* highlight"[^>]*data-name="ML"', html)
    assert "/t/23/" not in html  # no link into the workspace
    for p in b.pros.values():
        assert p.full_name not in html and p.email not in html
    assert session.get(Response, 1) is not None
    assert client.get("/q/pas-un-jeton/ma-carte").status_code == 404


# --- the SVG itself (no database) ----------------------------------------------------------


def test_svg_cues_on_a_hand_made_graph():
    from reports import layout, svg
    from survey import vocab
    from tests.reports.handmade import five

    g = five()
    g.nodes[1]["name"] = "A <&> « B »"
    pos = layout.positions(g)
    out = str(svg.render(g, pos, svg.MapOptions(href=None, id_prefix="t")))
    assert out.count('tabindex="0"') == 5  # focusable groups when there is no page to link to
    assert "A &lt;&amp;&gt; « B »" in out and "A <&>" not in out
    # D (4) and E (5) did not answer: hollow.
    for n in (4, 5):
        assert re.search(rf'class="node [^"]*silent[^"]*"[^>]*data-id="{n}"', out)
    assert re.search(r'class="node [^"]*answered[^"]*"[^>]*data-id="1"', out)
    # Links: A–B mutual (2+1 carriers), A→C, B→C, C→D one-sided and fragile.
    lines = re.findall(r"<line [^>]+>", out)
    assert len(lines) == 4
    mutual = [x for x in lines if 'data-mutual="1"' in x]
    assert len(mutual) == 1 and "marker-end" not in mutual[0] and "fragile" not in mutual[0]
    one_sided = [x for x in lines if "one-sided" in x]
    assert len(one_sided) == 3 and all('marker-end="url(#t-arrow)"' in x for x in one_sided)
    assert all("fragile" in x for x in one_sided)
    assert 'data-s="3" data-t="4"' in out  # C names D: the arrow points to D
    # Colour is never the only cue: each family has its own shape, named in the legend.
    shapes = {f.shape for f in vocab.FAMILIES}
    assert len(shapes) == len(vocab.FAMILIES) == len({f.colour for f in vocab.FAMILIES})
    assert vocab.family_of("caf").shape != vocab.family_of("siao").shape
    assert vocab.family_of("inconnu") is vocab.OTHER


def test_svg_with_400_structures_labels_only_the_largest():
    import random

    import networkx as nx

    from reports import layout, svg
    from tests.reports.handmade import node, tie

    rng = random.Random(1)
    g = nx.DiGraph()
    types = ["caf", "ccas-cias", "siao", "association", "mission-locale", "sante", "autre"]
    for i in range(400):
        g.add_node(i, **node(f"Structure {i}", types[i % len(types)], 2, i % 3, 1))
    for i in range(400):
        for j in rng.sample(range(400), 8):
            if i != j:
                g.add_edge(i, j, **tie(rng.choice([1, 1, 2, 3]), informal=1))
    pos = layout.positions(g)
    out = str(svg.render(g, pos, svg.MapOptions(href=lambda n: f"/s/{n}")))
    assert out.count("<title>") == 400
    assert out.count('href="/s/') == 400
    labelled = len(re.findall(r'class="node [^"]*labelled', out))
    assert 1 <= labelled <= svg.LABELS_MAX
    # Every position drawn stays inside the drawing.
    for x, y in re.findall(r'<text class="label" x="([\d.]+)" y="([\d.]+)"', out):
        assert 0 <= float(x) <= svg.SIZE and 0 <= float(y) <= svg.SIZE + 40
    spread = layout.spread(pos)
    assert all(0 <= x <= 1 and 0 <= y <= 1 for x, y in spread.values())


def test_every_structure_type_has_a_family():
    from survey import vocab

    families = {vocab.family_of(t).code for t in vocab.ORG_TYPES}
    assert families == {f.code for f in vocab.FAMILIES}
    types = [t for f in vocab.FAMILIES for t in f.types]
    assert len(types) == len(set(types))  # no type in two families
    assert set(types) <= set(vocab.ORG_TYPES)


def test_map_figures_headline_is_the_reports_headline(session, world):
    from app.graph_view import map_figures

    for c in world[1:3]:
        g = build_graph(session, c)
        assert map_figures(g)["headline"] == figures.headline(g)


def test_evolution_changes_are_those_of_the_printed_values(client, session):
    """The change column is computed from the two values as printed: « 40 % → 44 % » was
    « +3 pts » and « 0,318 → 0,378 » « +0,061 » from the unrounded figures."""
    from survey import demo
    from survey.models import Territory
    from tests.conftest import TEST_SECRET

    demo.load(session, TEST_SECRET)
    territory = session.exec(select(Territory).where(Territory.code == "23")).one()
    make_user(session, "coord-evol@example.org", territory=territory)
    login(client, "coord-evol@example.org")
    checked = {"pct": 0, "num": 0}
    for years in ({"de": "2024", "a": "2025"}, {"de": "2025", "a": "2026"}):
        html = unescape(client.get("/t/23/evolution", params=years).text).replace("\xa0", " ")
        for label, before, after, change in re.findall(
            r"<tr><th scope=\"row\">([^<]+)</th>\s*<td class=\"num\">([^<]+)</td>"
            r"<td class=\"num\">([^<]+)</td>\s*<td class=\"num\">([^<]+)</td></tr>",
            html,
        ):
            if before.endswith("%") and after.endswith("%"):
                shown = int(after[:-2]) - int(before[:-2])
                expected = (
                    "stable" if not shown else f"{shown:+d} pt" + ("s" if abs(shown) > 1 else "")
                )
                assert change.replace("−", "-") == expected, (label, before, after, change)
                checked["pct"] += 1
            elif "," in before and "," in after:
                shown_num = round(
                    float(after.replace(",", ".")) - float(before.replace(",", ".")), 3
                )
                assert float(change.replace(",", ".").replace("−", "-")) == shown_num, label
                checked["num"] += 1
    assert checked["pct"] >= 8 and checked["num"] >= 2, checked
    assert "Densité des citations" in html

"""Plain French first (issue 14, items 2, 7 and 8): /aide/chiffres from docs/metrics.md, the
figures page (plain title, « Comment lire », technical name linked to its definition), the
structure page's « X cite Y » and what weakened, the accessibility statement linked from
every footer, the favicon, and the two layout fixes checkable in the HTML.

The hand-built territory, 2025 (closed) then 2026 (open):
    2025  caf1 → CCAS informal; ccas1 → CAF informal      {CAF, CCAS}: 2 people, informal
    2026  caf1 → CCAS formal (ccas1 silent);              {CAF, CCAS}: 1 person, formal
          msa1 → CAF informal (CAF answered, does not cite MSA)
So on CAF's 2026 page {CAF, CCAS} is both strengthened (informal → formal) and weakened
(2 → 1 person), and MSA cites CAF without return.
"""

from __future__ import annotations

import re
from html import unescape

import pytest

from app.routes.help import ANCHORS, METRICS_DOC, inline, metrics_sections, parse_metrics
from tests.accounts_helpers import login, make_user
from tests.reports.builders import Builder


@pytest.fixture
def world(session):
    b = Builder.start(session)
    c25 = b.campaign(2025, "closed")
    c26 = b.campaign(2026, "open")
    for key, type_ in (
        ("caf", "caf"),
        ("ccas", "ccas-cias"),
        ("msa", "mutualite-sociale-agricole"),
    ):
        b.org(key, type_)
    b.pro("caf1", "caf")
    b.pro("ccas1", "ccas")
    b.pro("msa1", "msa")
    b.invite(c25, "caf1", "ccas1")
    b.respond(c25, "caf1", [{"org": "ccas", "nature": "informal"}], obstacles=("turnover",))
    b.respond(c25, "ccas1", [{"org": "caf", "nature": "informal"}])
    b.invite(c26, "caf1", "ccas1", "msa1")
    b.respond(c26, "caf1", [{"org": "ccas", "nature": "formal"}])
    b.respond(c26, "msa1", [{"org": "caf", "nature": "informal"}], obstacles=("lack_of_time",))
    session.commit()
    return b


def _as(client, session, b, role: str):
    make_user(session, f"{role}@example.org", role=role, territory=b.territory)
    login(client, f"{role}@example.org")
    return client


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _ids(html: str) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', html))


# --- /aide/chiffres -------------------------------------------------------------------------


def test_figures_help_is_the_french_part_of_metrics_md(client):
    r = client.get("/aide/chiffres")  # no account needed: definitions hold no data
    assert r.status_code == 200
    html = r.text
    ids = _ids(html)
    # One anchor per figure of the document, the ones the figures page links to included.
    for anchor in ("participation", "taille", "reciprocite", "formel", "ensemble", "centralite",
                   "communautes", "fragilite", "obstacles", "chiffres-cles"):  # fmt: skip
        assert anchor in ids, anchor
    assert '<h2 id="reciprocite">Réciprocité</h2>' in html
    text = _text(html)
    # The French definitions, formulas included; never the English paragraphs.
    assert "réciprocité = liens mutuels / (liens mutuels + liens à sens unique)" in text
    assert "Centralisation des degrés (Freeman)" in text
    assert "Among links whose two structures answered" not in text
    assert "**FR.**" not in html and "FR." not in text and "EN." not in text
    assert "Notation:" not in text and "Notations des formules" in text
    assert "<em>lien</em>" in html  # the document's italics kept


def test_every_section_of_metrics_md_has_a_heading_and_french_text():
    sections = metrics_sections()
    doc = METRICS_DOC.read_text(encoding="utf-8")
    assert len(sections) == doc.count("\n## ")
    assert all(s.blocks for s in sections)
    assert len({s.anchor for s in sections}) == len(sections)  # anchors are unique
    known = {s.anchor for s in sections}
    assert set(ANCHORS.values()) <= known, set(ANCHORS.values()) - known


def test_metrics_markdown_is_escaped_not_trusted():
    parsed = parse_metrics(
        "# Title\n\nEnglish intro.\n\n## Size — Taille [`size`]\n\n"
        "**FR.** Un <script>alert(1)</script> *nœud* et `code`.\n\n**EN.** English.\n"
    )
    assert [(s.anchor, s.title) for s in parsed] == [("taille", "Taille")]
    assert parsed[0].blocks == [inline("Un <script>alert(1)</script> *nœud* et `code`.")]
    assert str(parsed[0].blocks[0]) == (
        "Un &lt;script&gt;alert(1)&lt;/script&gt; <em>nœud</em> et <code>code</code>."
    )


# --- the figures page -----------------------------------------------------------------------


def test_each_figure_has_a_plain_title_how_to_read_and_a_linked_technical_name(
    client, session, world
):
    coordinator = _as(client, session, world, "coordinator")
    html = coordinator.get("/t/23/figures/2026").text
    help_ids = _ids(client.get("/aide/chiffres").text)
    links = re.findall(r'href="/aide/chiffres#([^"]+)"', html)
    assert links and set(links) <= help_ids, set(links) - help_ids
    # Each section (h2 with an id) reads: plain title, « Comment lire », technical name linked.
    sections = re.split(r'<h2 id="', html)[1:]
    figures = [s for s in sections if not s.startswith("filters-title")]
    assert len(figures) == 10
    for s in figures:
        name = s.split('"', 1)[0]
        assert "Comment lire :" in s, name
        assert re.search(r'class="technical-name">Noms? techniques? :', s), name
        assert 'href="/aide/chiffres#' in s, name
    text = _text(html)
    # Technical names are never the headline any more.
    for jargon in ("Densité (orientée)", "Intermédiarité (normalisée)", "docs/metrics.md"):
        assert jargon not in text, jargon
    assert not re.search(r"<h2[^>]*>[^<]*(Centralité|Communautés|Réciprocité)", html)
    assert "Le réseau tourne-t-il autour de quelques structures" in text
    assert "Nom technique : centralisation des degrés (Freeman)" in text


def test_obstacles_per_type_fit_in_three_columns(client, session, world):
    coordinator = _as(client, session, world, "coordinator")
    html = coordinator.get("/t/23/figures/2026").text
    table = re.search(r'<table class="obstacles-by-type stack">.*?</table>', html, re.S).group(0)
    assert table.count('<th scope="col"') == 3  # not one column per obstacle
    assert "Manque de temps (1)" in _text(table)


# --- the structure page ---------------------------------------------------------------------


def _section(html: str, title: str) -> str:
    part = html.split(f"<h3>{title}", 1)[1]
    return part.split("<h3>", 1)[0].split("<h2", 1)[0]


def test_structure_page_says_who_cites_whom_and_what_weakened(client, session, world):
    coordinator = _as(client, session, world, "coordinator")
    caf = world.orgs["caf"].id
    html = coordinator.get(f"/t/23/structures/{caf}?annee=2026").text
    text = _text(html)
    assert "cite cette structure" not in text.lower() and "citée par cette structure" not in text
    assert "Sans réciproque : MSA cite CAF, qui a répondu sans la citer" in text
    assert "Réciprocité inconnue : CAF cite CCAS, qui n'a pas répondu" in text
    weakened = _text(_section(html, "Liens affaiblis"))
    strengthened = _text(_section(html, "Liens renforcés"))
    assert "CCAS — 2 → 1 personne" in weakened
    assert "formel" not in weakened.split("personnes", 1)[1]  # only the hint says « informels »
    assert "CCAS — informel → formel" in strengthened and "→ 1" not in strengthened
    # A viewer reads « < 3 » for carriers: the direction is still said, not the numbers.
    client.cookies.clear()
    viewer = _as(client, session, world, "viewer")
    weakened = _text(_section(viewer.get(f"/t/23/structures/{caf}?annee=2026").text,
                              "Liens affaiblis"))  # fmt: skip
    assert "CCAS — porté par moins de personnes" in weakened and "2 → 1" not in weakened


# --- accessibility statement, footer, favicon, layout fixes ---------------------------------


def test_accessibility_statement_follows_the_rgaa_model(client, app):
    app.state.settings.contact_email = "accessibilite@departement.example"
    html = client.get("/accessibilite").text
    text = _text(html)
    for part in ("Déclaration d'accessibilité", "État de conformité", "RGAA), version 4.1",
                 "non conforme", "Contenus non accessibles", "Établissement de cette déclaration",
                 "Retour d'information et contact", "Voies de recours", "axe-core",
                 "clavier", "Défenseur des droits"):  # fmt: skip
        assert part in text, part
    assert 'href="mailto:accessibilite@departement.example' in html
    # Every page's footer links it (and the definitions).
    for path in ("/", "/login", "/aide/chiffres", "/accessibilite"):
        footer = client.get(path).text.split('<footer class="site-footer"', 1)[1]
        assert '<a href="/accessibilite">Accessibilité : non conforme</a>' in footer, path
        assert 'href="/aide/chiffres"' in footer, path


def test_favicon_is_served_and_linked(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"] == "image/x-icon"
    assert r.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    home = client.get("/").text
    assert '<link rel="icon" href="/favicon.ico"' in home
    svg = re.search(r'<link rel="icon" href="([^"]+\.svg)"', home).group(1)
    assert client.get(svg).content.startswith(b"<svg")


def test_erase_checkbox_sits_inside_its_label(client, session, world):
    coordinator = _as(client, session, world, "coordinator")
    pro = world.pros["msa1"].id
    html = coordinator.get(f"/t/23/professionnels/{pro}/effacer").text
    assert re.search(
        r'<label class="choice" for="confirmation"><input type="checkbox" id="confirmation"', html
    )

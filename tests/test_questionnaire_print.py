"""Printing through the personal link (app/routes/questionnaire_print.py): « Mes réponses »
at /q/{token}/imprimer and the blank paper questionnaire at /q/{token}/version-papier."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from survey import links, vocab
from survey.models import Body
from tests.factories import build_world

STATIC = Path(__file__).resolve().parent.parent / "app" / "static"


@pytest.fixture
def world(session):
    return build_world(session)


def text_of(html: str) -> str:
    """The page's text, tags removed and entities decoded, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def get_page(client, path: str) -> str:
    r = client.get(path)
    assert r.status_code == 200, r.text
    return r.text


def save_draft(client, token: str, world, **extra) -> None:
    """Bruno's draft through the JSON API: two partners, obstacles, a body, a comment."""
    body = {
        "function": "Assistant social",
        "years_in_post": "3to10",
        "declared_partner_count": 4,
        "links": [
            {
                "partner_organisation_id": world.orgs["ccas"].id,
                "nature": "both",
                "frames": ["agreement"],
                "frequency": "weekly",
                "practices": ["referral", "joint_support"],
                "practice_other": "Permanence commune",
                "has_named_contact": True,
                "contact_name": "Mme Durand",
            },
            {
                "partner_organisation_id": world.orgs["siao"].id,
                "partner_service_id": world.services["jour"].id,
                "nature": "informal",
                "practices": ["handover"],
            },
        ],
        "obstacles": ["turnover", "other"],
        "obstacle_other": "Zones blanches <b>réseau</b>",
        "body_ids": [world.bodies["siao"].id],
        "comment": "Merci pour la carte.",
        **extra,
    }
    r = client.put(f"/api/v1/questionnaire/{token}", json=body)
    assert r.status_code == 200, r.text


# --- « Mes réponses » ----------------------------------------------------------------------


def test_my_answers_show_partners_and_chosen_answers(client, world):
    token = world.tokens["bruno"]
    save_draft(client, token, world)
    r = client.get(f"/q/{token}/imprimer")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    html = r.text
    text = text_of(html)
    assert "<h1>Mes réponses 2026</h1>" in html
    assert "Brouillon enregistré, pas encore envoyé." in text
    assert "Bruno Petit — CAF de la Creuse" in text
    for expected in (
        "CCAS de Guéret",
        "SIAO de la Creuse — Centre de jour",
        "Les deux (Convention)",
        "Chaque semaine",
        "Orientation, Accompagnement conjoint ; Permanence commune",
        "Relais en fin d'accompagnement",
        "Oui : Mme Durand",
        "Assistant social",
        "De 3 à 10 ans",
        "Turn-over, Autre ; Zones blanches <b>réseau</b>",
        "Commission SIAO hebdomadaire",
        "Merci pour la carte.",
    ):
        assert expected in text, expected
    assert "<b>réseau</b>" not in html  # escaped like everywhere else
    # Read only, a print button that print.js reveals, the way back to the questionnaire.
    assert "<form" not in html and "<input" not in html
    assert '<button type="button" data-print hidden>Imprimer</button>' in html
    assert "ou Ctrl+P / menu Imprimer de votre navigateur" in text
    assert f'href="/q/{token}"' in html


def test_my_answers_after_submitting_and_before_answering(client, world):
    alice = world.tokens["alice"]
    # Nothing saved yet: last year's partners, as the questionnaire carries them forward.
    text = text_of(get_page(client, f"/q/{alice}/imprimer"))
    assert "Rien n'est encore enregistré pour 2026" in text
    assert "CAF de la Creuse" in text and "SIAO de la Creuse — 115" in text
    assert "MSA du Limousin" not in text  # « plus de contact » last year: not carried

    bruno = world.tokens["bruno"]
    save_draft(client, bruno, world, links=[
        {"partner_organisation_id": world.orgs["ccas"].id, "nature": "formal",
         "frequency": "monthly", "practices": ["rights_access"]},
    ])  # fmt: skip
    assert client.post(f"/api/v1/questionnaire/{bruno}/submit").status_code == 200
    text = text_of(get_page(client, f"/q/{bruno}/imprimer"))
    assert "Réponses envoyées." in text
    assert "Formel" in text and "Accès et ouverture des droits" in text


def test_my_answers_of_a_closed_campaign(client, world):
    text = text_of(get_page(client, f"/q/{world.tokens['alice_2025']}/imprimer"))
    assert "Mes réponses 2025" in text and "Réponses envoyées." in text
    assert "CAF de la Creuse" in text and "Formel (Convention)" in text
    assert "MSA du Limousin — plus de contact" in text


# --- the blank paper questionnaire ---------------------------------------------------------


def test_paper_version_lists_every_question_and_the_territory_bodies(client, session, world):
    session.add_all([
        Body(territory_id=world.territory.id, name="Ancienne commission", active=False),
        Body(territory_id=world.territory.id, name="Cellule de veille sociale"),
        Body(territory_id=world.other_territory.id, name="Commission de la Corrèze"),
    ])  # fmt: skip
    session.commit()
    token = world.tokens["alice"]
    html = get_page(client, f"/q/{token}/version-papier")
    text = text_of(html)
    assert "Questionnaire 2026 : vos partenariats" in text
    assert "Territoire 23 — Creuse · Enquête 2026" in text
    assert "Trois questions seulement sont essentielles" in text
    assert "Tout le reste est facultatif." in text
    # Blank: nothing about the holder of the link, so the sheet can be photocopied.
    for personal in ("Alice Martin", "CCAS de Guéret", "Conseillère"):
        assert personal not in text, personal
    assert "Nom et prénom :" in text
    assert "Avec combien de partenaires travaillez-vous ?" in text
    for label in [
        *vocab.YEARS_IN_POST.values(),
        *vocab.PRACTICES.values(),
        *vocab.NATURES.values(),
        *vocab.FREQUENCIES.values(),
        *vocab.OBSTACLES.values(),
    ]:
        assert label in text, label
    # The practices are numbered once, in the questionnaire's order, and circled in each row.
    legend = re.search(r'<ol class="practice-legend">(.*?)</ol>', html, re.S)
    assert legend and [unescape(x) for x in re.findall(r"<li>(.*?)</li>", legend.group(1))] == (
        list(vocab.PRACTICES.values())
    )
    # A real table: column headers, one row header per blank partner row.
    assert html.count('<th scope="col"') == 5
    assert html.count('<th scope="row"') == 10
    assert "Partenaire (structure ou service)" in text
    assert "Formel ou informel ?" in text
    # The territory's active bodies, in order; not an archived one nor another territory's.
    assert text.index("Cellule de veille sociale") < text.index("Commission SIAO hebdomadaire")
    assert "Ancienne commission" not in text and "Corrèze" not in text
    assert "Rendez ce questionnaire à la personne qui coordonne l'enquête" in text
    assert "avant le 31 décembre 2026" in text


def test_paper_version_without_bodies(client, session, world):
    text = text_of(get_page(client, f"/q/{world.tokens['chloe']}/version-papier"))
    assert "Territoire 19 — Corrèze" in text
    assert "Dans quelles commissions ou instances siégez-vous ?" in text
    assert "Commission SIAO hebdomadaire" not in text


# --- links that do not work ----------------------------------------------------------------


@pytest.mark.parametrize("page", ["imprimer", "version-papier"])
def test_unknown_or_revoked_link_is_404(client, session, world, page):
    r = client.get(f"/q/{'x' * 32}/{page}")
    assert r.status_code == 404
    assert "Ce lien n'est pas (ou plus) valable" in unescape(r.text)
    token = world.tokens["bruno"]
    assert client.get(f"/q/{token}/{page}").status_code == 200
    links.revoke(session, world.this_year.id, world.pros["bruno"].id)
    session.commit()
    assert client.get(f"/q/{token}/{page}").status_code == 404


# --- print stylesheet and script on every page ---------------------------------------------


def test_every_page_links_the_print_stylesheet_and_script(client, world):
    for path in ("/", f"/q/{world.tokens['alice']}", "/q/" + "x" * 32):
        html = client.get(path).text
        assert (
            '<link rel="stylesheet" href="http://testserver/static/print.css" media="print">'
            in html
        ), path
        assert '<script src="http://testserver/static/print.js" defer></script>' in html, path


def test_print_files_hide_the_controls_and_load_nothing_from_elsewhere():
    for name in ("print.css", "paper.css", "print.js"):
        source = (STATIC / name).read_text()
        assert not re.search(r"@import|url\(|https?:|//[a-z]", source), name
    css = re.sub(r"/\*.*?\*/", "", (STATIC / "print.css").read_text(), flags=re.S)
    hide = re.search(r"([^{}]*)\{\s*display: none !important;\s*\}", css)
    assert hide
    selectors = {s.strip() for s in hide.group(1).split(",")}
    for hidden in (".site-header nav", ".site-footer", ".skip-link", "button", ".actions"):
        assert hidden in selectors, hidden
    assert ".sticky-actions" in selectors and ".error-summary" not in selectors
    assert "details::details-content { content-visibility: visible; }" in css

"""The respondent's read-only directory at /q/{token}/repertoire (no account, personal link)."""

from __future__ import annotations

import html
import re

from sqlmodel import Session, select

from survey.models import Campaign, DeclaredLink, LinkTag, Response, Service
from tests.factories import build_world


def T(response) -> str:
    return html.unescape(response.text)


def test_respondent_directory_shows_consented_contacts_only(client, engine):
    with Session(engine) as s:
        w = build_world(s)
        world = {"caf": w.orgs["caf"].id, "siao": w.orgs["siao"].id,
                 "pro_alice": w.pros["alice"].id, "token_alice": w.tokens["alice"]}  # fmt: skip
        s.add_all([
            Service(organisation_id=world["caf"], name="Accueil", contact_name="Hélène Visible",
                    contact_phone="05 55 11 22 33", contact_consent=True),
            Service(organisation_id=world["caf"], name="Prestations", contact_name="Ivan Caché",
                    contact_email="ivan@caf.fr", contact_consent=False),
        ])  # fmt: skip
        resp = s.exec(select(Response).where(Response.professional_id == world["pro_alice"])).one()
        links = s.exec(select(DeclaredLink).where(DeclaredLink.response_id == resp.id)).all()
        caf_link = next(lk for lk in links if lk.partner_organisation_id == world["caf"])
        caf_link.contact_name, caf_link.contact_consent = "Julie Citée", True
        siao_link = next(lk for lk in links if lk.partner_organisation_id == world["siao"])
        siao_link.contact_name, siao_link.contact_consent = "Karl Sansaccord", False
        s.add(LinkTag(link_id=caf_link.id, kind="thematique", code="famille"))
        s.add_all([caf_link, siao_link])
        assert s.get(Campaign, resp.campaign_id).year == 2025
        s.commit()
    token = world["token_alice"]
    page = client.get(f"/q/{token}/repertoire")
    assert page.status_code == 200
    text = T(page)
    assert "CAF de la Creuse" in text and "CAF de la Corrèze" not in text
    assert "Hélène Visible" in text and "05 55 11 22 33" in text
    assert "Ivan Caché" not in text and "ivan@caf.fr" not in text
    assert "Julie Citée" in text and "citée en 2025" in text
    assert "Karl Sansaccord" not in text
    assert "Alice Martin" not in text and "Bruno Petit" not in text
    assert page.headers["cache-control"] == "no-store"

    by_theme = T(client.get(f"/q/{token}/repertoire", params={"thematique": "famille"}))
    assert "CAF de la Creuse" in by_theme and "SIAO de la Creuse" not in by_theme
    by_type = T(client.get(f"/q/{token}/repertoire", params={"type": "siao"}))
    assert "SIAO de la Creuse" in by_type and "CAF de la Creuse" not in by_type
    by_name = T(client.get(f"/q/{token}/repertoire", params={"q": "gueret"}))
    assert "CCAS de Guéret" in by_name
    assert client.get("/q/" + "x" * 32 + "/repertoire").status_code == 404


def _world_with_contacts(engine) -> dict:
    """Alice's 2025 links: CAF with Julie Citée (consent), SIAO with Karl Sansaccord (no
    consent); CAF services: Hélène Visible (consent), Ivan Caché (no consent). The factory
    already declares « Accès et ouverture des droits » with the CAF."""
    with Session(engine) as s:
        w = build_world(s)
        caf, siao = w.orgs["caf"], w.orgs["siao"]
        s.add_all([
            Service(organisation_id=caf.id, name="Accueil", contact_name="Hélène Visible",
                    contact_consent=True),
            Service(organisation_id=caf.id, name="Prestations", contact_name="Ivan Caché",
                    contact_consent=False),
        ])  # fmt: skip
        resp = s.exec(select(Response).where(Response.professional_id == w.pros["alice"].id)).one()
        links = s.exec(select(DeclaredLink).where(DeclaredLink.response_id == resp.id)).all()
        caf_link = next(lk for lk in links if lk.partner_organisation_id == caf.id)
        caf_link.contact_name, caf_link.contact_consent = "Julie Citée", True
        siao_link = next(lk for lk in links if lk.partner_organisation_id == siao.id)
        siao_link.contact_name, siao_link.contact_consent = "Karl Sansaccord", False
        s.add_all([
            LinkTag(link_id=caf_link.id, kind="thematique", code="famille"),
            LinkTag(link_id=siao_link.id, kind="thematique", code="logement-hebergement"),
        ])  # fmt: skip
        siao.missions = "Écoute 115, hébergement d'urgence et orientation."
        w.orgs["ccas"].missions = "Aides facultatives, domiciliation, hébergement temporaire."
        s.add_all([caf_link, siao_link, siao, w.orgs["ccas"]])
        s.commit()
        return {"token": w.tokens["alice"]}


def _plain(response) -> str:
    """The page's text without tags, spaces collapsed: sentences read as a person sees them."""
    return " ".join(re.sub(r"<[^>]+>", " ", T(response)).split())


def _entries(text: str) -> list[str]:
    return re.findall(r'<h2 id="s\d+">([^<]*)</h2>', text)


def test_search_finds_a_person_by_name_only_with_consent(client, engine):
    token = _world_with_contacts(engine)["token"]
    url = f"/q/{token}/repertoire"
    # A person a colleague named, with consent: accent- and case-insensitive.
    for q in ("Citée", "citee", "JULIE"):
        page = client.get(url, params={"q": q})
        assert page.status_code == 200
        assert _entries(T(page)) == ["CAF de la Creuse"], q
        assert "Personne trouvée : Julie Citée" in _plain(page)
    # A service's contact, with consent.
    page = client.get(url, params={"q": "helene visible"})
    assert _entries(T(page)) == ["CAF de la Creuse"]
    assert "Personne trouvée : Hélène Visible" in _plain(page)
    # Structure and person together narrow down.
    assert _entries(T(client.get(url, params={"q": "caf julie"}))) == ["CAF de la Creuse"]
    assert _entries(T(client.get(url, params={"q": "siao julie"}))) == []
    # Without consent: never found, never shown, and the answer says so in French.
    for q in ("Sansaccord", "Karl", "Ivan Caché", "cache"):
        page = client.get(url, params={"q": q})
        assert page.status_code == 200
        text = _plain(page)
        assert _entries(T(page)) == [], q
        assert "Sansaccord" not in text.replace(q, "") and "Ivan" not in text.replace(q, "")
        assert f"Aucune structure ni personne ne correspond à « {q} »" in text
        assert "accepté de figurer au répertoire" in text


def test_search_by_need_ranks_structures_in_plain_french(client, engine):
    token = _world_with_contacts(engine)["token"]
    url = f"/q/{token}/repertoire"
    page = client.get(url, params={"besoin": "hébergement d'urgence"})
    assert page.status_code == 200
    text = _plain(page)
    # SIAO: its missions say both words and colleagues declared « Logement et hébergement »
    # with it; the CCAS's missions only say « hébergement »; the CAF nothing.
    assert _entries(T(page)) == ["SIAO de la Creuse", "CCAS de Guéret"]
    assert "pour « hébergement d'urgence », de la plus utile à la moins utile" in text
    assert "ses missions parlent de « hébergement », « urgence »" in text
    assert "thème « Logement et hébergement », cité 1 fois par des collègues" in text
    # Everyday words reach a thématique whose label does not hold them.
    page = client.get(url, params={"besoin": "garde d'enfants"})
    assert _entries(T(page)) == ["CAF de la Creuse"] and "thème « Famille »" in _plain(page)
    # A way of working declared with the structure.
    page = client.get(url, params={"besoin": "ouverture des droits"})
    text = _plain(page)
    assert "CAF de la Creuse" in _entries(T(page))
    assert "des collègues travaillent avec elle pour « Accès et ouverture des droits »" in text
    # Accent-insensitive; filler words ignored.
    text = T(client.get(url, params={"besoin": "qui peut m'aider pour un HEBERGEMENT"}))
    assert _entries(text) == ["SIAO de la Creuse", "CCAS de Guéret"]
    # A phone's keyboard types « ’ »: « l’hébergement d’urgence » is « hébergement » and
    # « urgence », as with « ' » (the ASCII fold glued « lhebergement »).
    page = client.get(url, params={"besoin": "l’hébergement d’urgence"})
    assert _entries(T(page)) == ["SIAO de la Creuse", "CCAS de Guéret"]
    assert "ses missions parlent de « hébergement », « urgence »" in _plain(page)
    page = client.get(url, params={"besoin": "apiculture"})
    text = _plain(page)
    assert _entries(T(page)) == []
    assert "Aucune structure ne correspond à « apiculture »" in text


def test_bad_search_input_is_refused_in_french(client, engine):
    token = _world_with_contacts(engine)["token"]
    url = f"/q/{token}/repertoire"
    for field in ("q", "besoin"):
        page = client.get(url, params={field: "a" * 2000})
        assert page.status_code == 400
        text = _plain(page)
        assert "est trop long (2000 caractères) : 200 caractères au plus" in text
        assert "a" * 300 not in T(page) and _entries(T(page)) == []
        page = client.get(url, params={field: "Julie\x00"})
        assert page.status_code == 400 and "caractère invisible non autorisé" in T(page)
    # Up to 200 characters is an ordinary search.
    assert client.get(url, params={"q": "a" * 200}).status_code == 200

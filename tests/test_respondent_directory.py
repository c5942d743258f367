"""The respondent's read-only directory at /q/{token}/repertoire (no account, personal link)."""

from __future__ import annotations

import html

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

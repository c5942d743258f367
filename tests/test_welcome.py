"""The welcome sheet of a newcomer (survey/welcome.py): `/q/{token}/accueil`, its PDF and
`carte accueil`. Partners from the predecessor and a colleague merged, contacts only with
consent, no professional's name, instances, conventions, citing structures; on the demo, a
successor's sheet is not empty."""

from __future__ import annotations

import io
import re
from datetime import date
from html import unescape

import pytest
from pypdf import PdfReader
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app.cli import cli
from app.settings import get_settings
from survey import demo, link_throttle, links
from survey.models import (
    Body,
    BodyMember,
    Campaign,
    Convention,
    ConventionParty,
    DeclaredLink,
    Invitation,
    Professional,
    Response,
    ResponseBody,
    Service,
    Territory,
)
from survey.welcome import welcome_sheet
from tests.conftest import TEST_SECRET
from tests.factories import build_world

# Names that must never be printed: the professionals, and contacts who did not consent.
NEVER = ("Alice Martin", "Émile Roy", "Dora Blanc", "Bruno Petit", "Sans Accord", "Caché Jour")


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


@pytest.fixture
def world(session):
    """The factories' world, plus Dora who took over from Alice at the CCAS, her colleague
    Émile (submitted in 2026), and Bruno (CAF) who cites the CCAS in 2026."""
    w = build_world(session)
    ccas, caf, siao = w.orgs["ccas"], w.orgs["caf"], w.orgs["siao"]
    # The 115's contact agreed to be listed, the day centre's did not.
    w.services["siao115"].contact_name = "Marc Standard"
    w.services["siao115"].contact_consent = True
    w.services["jour"].contact_name = "Caché Jour"
    w.services["jour"].contact_consent = False
    session.add_all(w.services.values())
    dora = Professional(territory_id=w.territory.id, full_name="Dora Blanc", organisation_id=ccas.id,
                        took_over_from_id=w.pros["alice"].id)  # fmt: skip
    emile = Professional(
        territory_id=w.territory.id, full_name="Émile Roy", organisation_id=ccas.id
    )
    session.add_all([dora, emile])
    network = Body(territory_id=w.territory.id, name="Réseau précarité", kind="reseau")
    session.add(network)
    session.flush()
    w.pros |= {"dora": dora, "emile": emile}
    w.bodies["network"] = network
    resp = Response(campaign_id=w.this_year.id, professional_id=emile.id, organisation_id=ccas.id,
                    status="submitted", questionnaire_version="2026.1")  # fmt: skip
    bruno = Response(campaign_id=w.this_year.id, professional_id=w.pros["bruno"].id,
                     organisation_id=caf.id, status="submitted", questionnaire_version="2026.1")  # fmt: skip
    session.add_all([resp, bruno])
    session.flush()
    session.add_all([
        DeclaredLink(response_id=resp.id, position=0, partner_organisation_id=caf.id, status="new",
                     nature="informal", frequency="weekly", has_named_contact=True,
                     contact_name="Jeanne Accord", contact_consent=True),
        DeclaredLink(response_id=resp.id, position=1, partner_organisation_id=siao.id,
                     partner_service_id=w.services["jour"].id, status="new", nature="formal",
                     has_named_contact=True, contact_name="Sans Accord", contact_consent=False),
        DeclaredLink(response_id=bruno.id, position=0, partner_organisation_id=ccas.id,
                     status="new", nature="formal"),
        ResponseBody(response_id=resp.id, body_id=network.id),
        BodyMember(body_id=w.bodies["siao"].id, organisation_id=ccas.id),
    ])  # fmt: skip
    signed = Convention(territory_id=w.territory.id, title="Accès aux droits CCAS-CAF",
                        starts_on=date(2024, 1, 1))  # fmt: skip
    expired = Convention(territory_id=w.territory.id, title="Ancienne convention MSA",
                         starts_on=date(2018, 1, 1), ends_on=date(2020, 12, 31))  # fmt: skip
    session.add_all([signed, expired])
    session.flush()
    session.add_all([
        ConventionParty(convention_id=signed.id, organisation_id=ccas.id),
        ConventionParty(convention_id=signed.id, organisation_id=caf.id),
        ConventionParty(convention_id=expired.id, organisation_id=ccas.id),
        ConventionParty(convention_id=expired.id, organisation_id=w.orgs["msa"].id),
    ])  # fmt: skip
    w.tokens["dora"] = links.issue(session, TEST_SECRET, w.this_year, dora)
    session.commit()
    return w


def test_sheet_merges_predecessor_and_colleague(session, world):
    sheet = welcome_sheet(session, world.pros["dora"])
    assert sheet["structure"] == "CCAS de Guéret" and sheet["has_predecessor"]
    by_name = {(p["name"], p["service"]): p for p in sheet["partners"]}
    # The CAF, named by both, is one partner; the MSA link had ended: not a partner.
    assert set(by_name) == {
        ("CAF de la Creuse", ""),
        ("SIAO de la Creuse", "115"),
        ("SIAO de la Creuse", "Centre de jour"),
    }
    caf = by_name[("CAF de la Creuse", "")]
    assert caf["declared_by"] == ["votre prédécesseur·e", "un·e collègue"]
    assert caf["nature"] == "Formel, Informel"
    assert caf["frequency"] == "Chaque semaine, Chaque mois"
    assert caf["contacts"] == ["Jeanne Accord"]
    assert by_name[("SIAO de la Creuse", "115")]["contacts"] == ["Marc Standard"]
    assert by_name[("SIAO de la Creuse", "115")]["declared_by"] == ["votre prédécesseur·e"]
    assert by_name[("SIAO de la Creuse", "Centre de jour")]["contacts"] == []
    assert [(b["name"], b["how"]) for b in sheet["bodies"]] == [
        ("Commission SIAO hebdomadaire", "membre officiel"),
        ("Réseau précarité", "indiquée par un·e collègue"),
    ]
    assert [(c["title"], c["others"]) for c in sheet["conventions"]] == [
        ("Accès aux droits CCAS-CAF", ["CAF de la Creuse"])
    ]
    assert sheet["cited_by"] == ["CAF de la Creuse"] and sheet["cited_year"] == 2026
    assert not sheet["empty"]


def test_page_shows_the_sheet_without_names_or_unconsented_contacts(client, world):
    r = client.get(f"/q/{world.tokens['dora']}/accueil")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    text = text_of(r.text)
    assert "Fiche d'accueil : CCAS de Guéret" in text
    for expected in ("CAF de la Creuse", "Jeanne Accord", "Marc Standard", "Réseau précarité",
                     "Accès aux droits CCAS-CAF", "votre prédécesseur·e", "Télécharger en PDF"):  # fmt: skip
        assert expected in text, expected
    assert "MSA du Limousin" not in text  # ended link, expired convention
    for name in NEVER:
        assert name not in text, name
    assert f'href="/q/{world.tokens["dora"]}/accueil.pdf"' in r.text
    assert "paper.css" in r.text  # the print stylesheet


def test_pdf_carries_the_sheet_without_unconsented_contacts(client, world):
    r = client.get(f"/q/{world.tokens['dora']}/accueil.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = pdf_text(r.content)
    # Reproducible: the same sheet gives the same bytes.
    assert client.get(f"/q/{world.tokens['dora']}/accueil.pdf").content == r.content
    for expected in ("Fiche d'accueil", "CAF de la Creuse", "Jeanne Accord", "Marc Standard",
                     "Commission SIAO hebdomadaire", "Accès aux droits CCAS-CAF"):  # fmt: skip
        assert expected in text, expected
    for name in NEVER:
        assert name not in text, name


def test_no_nature_or_frequency_word_is_cut_in_the_partners_table():
    """A word wider than its column is broken in two: « Ponctuellemen / t » on the sheet
    handed to newcomers. Every word of these answers, with the comma that joins two of them,
    fits its column."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from reports import welcome_pdf
    from reports.pdf.flowables import PAD
    from reports.pdf.styles import TEXT_W, styles
    from survey import vocab

    welcome_pdf.register_fonts()
    cell = styles()["cell"]
    for column, labels in ((2, vocab.NATURES), (3, vocab.FREQUENCIES)):
        room = welcome_pdf.PARTNER_COLUMNS[column] * TEXT_W - 2 * PAD
        for label in labels.values():
            for word in label.split():
                width = stringWidth(word + ",", cell.fontName, cell.fontSize)
                assert width <= room, (word, width, room)


def test_revoked_or_unknown_link_is_404(client, session, world):
    token = world.tokens["dora"]
    links.revoke(session, world.this_year.id, world.pros["dora"].id)
    session.commit()
    for path in (f"/q/{token}/accueil", f"/q/{token}/accueil.pdf", "/q/" + "x" * 32 + "/accueil"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "Jeanne Accord" not in r.text


def test_unknown_links_are_throttled_here_too(client, world):
    unknown = "y" * 32
    for _ in range(link_throttle.FAILURES_ALLOWED):
        assert client.get(f"/q/{unknown}/accueil").status_code == 404
    assert client.get(f"/q/{unknown}/accueil.pdf").status_code == 429
    assert client.get(f"/q/{world.tokens['dora']}/accueil").status_code == 200


def test_questionnaire_offers_the_sheet_to_newcomers_only(client, world):
    assert "Votre fiche d'accueil" in client.get(f"/q/{world.tokens['dora']}").text
    # Alice answered last year (her questionnaire starts from it): no welcome link.
    assert "Votre fiche d'accueil" not in client.get(f"/q/{world.tokens['alice']}").text


@pytest.fixture
def carte(database_url, engine, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli, list(args))
    get_settings.cache_clear()


def test_cli_writes_the_pdf(carte, world, tmp_path):
    out = tmp_path / "fiche.pdf"
    result = carte("accueil", "--professional", str(world.pros["dora"].id), "--output", str(out))
    assert result.exit_code == 0, result.output
    text = pdf_text(out.read_bytes())
    assert "CCAS de Guéret" in text and "Jeanne Accord" in text
    for name in NEVER:
        assert name not in text, name


def test_cli_unknown_professional(carte, world, tmp_path):
    out = tmp_path / "fiche.pdf"
    result = carte("accueil", "--professional", "999999", "--output", str(out))
    assert result.exit_code == 1
    assert "Aucun·e professionnel·le n'a le numéro 999999" in result.output
    assert not out.exists()


def test_demo_successor_opens_a_non_empty_sheet(client, session: Session):
    assert demo.load(session, TEST_SECRET) is True
    territory = session.exec(select(Territory).where(Territory.code == "23")).one()
    current = session.exec(
        select(Campaign)
        .where(Campaign.territory_id == territory.id)
        .order_by(col(Campaign.year).desc())
    ).first()
    assert current is not None
    successor = session.exec(
        select(Professional)
        .join(Invitation, col(Invitation.professional_id) == Professional.id)
        .where(
            col(Professional.took_over_from_id).is_not(None),
            Invitation.campaign_id == current.id,
        )
        .order_by(col(Professional.id))
    ).first()
    assert successor is not None
    token = links.ensure(session, TEST_SECRET, current, successor)
    session.commit()
    r = client.get(f"/q/{token}/accueil")
    assert r.status_code == 200
    text = text_of(r.text)
    sheet = welcome_sheet(session, successor)
    assert sheet["partners"] and not sheet["empty"]
    assert sheet["partners"][0]["name"] in text
    # No professional's name, no contact who did not agree to be listed (unless the same name
    # was also given with consent elsewhere).
    consented = set(
        session.exec(
            select(DeclaredLink.contact_name).where(col(DeclaredLink.contact_consent))
        ).all()
    )
    hidden = (
        set(
            session.exec(
                select(DeclaredLink.contact_name).where(
                    col(DeclaredLink.contact_consent).is_(False), DeclaredLink.contact_name != ""
                )
            ).all()
        )
        - consented
    )
    hidden |= set(
        session.exec(
            select(Service.contact_name).where(
                col(Service.contact_consent).is_(False), Service.contact_name != ""
            )
        ).all()
    )
    people = set(session.exec(select(Professional.full_name)).all())
    for name in (hidden | people) - consented:
        assert name not in text, name

"""Every role in a real browser, on the demo territory « 23 — Creuse ».

A coordinator runs a year (prepare, close the old campaign, open the new one, import
professionals, map, filter, PDF report); a viewer reads and cannot change anything; a
respondent and a coordinator of another territory cannot reach Creuse data.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import col, select

from survey import demo, links
from survey.accounts import DEMO_ACCOUNTS, ensure_demo_accounts
from survey.models import (
    Campaign,
    DeclaredLink,
    Organisation,
    Professional,
    Response,
    Territory,
)
from tests.accounts_helpers import TEST_PASSWORD, make_user
from tests.conftest import TEST_SECRET

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
COORDINATOR = DEMO_ACCOUNTS[0][:2]
VIEWER = DEMO_ACCOUNTS[1][:2]


def shot(page, name: str, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"roles-{name}.png"), full_page=full_page)


def sign_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def csv_file(text: str, name: str = "equipe.csv") -> dict:
    return {"name": name, "mimeType": "text/csv", "buffer": text.encode("utf-8")}


def forge_creuse_partner(page, base: str, session, token: str) -> Organisation:
    """Save the questionnaire of `token` naming CAF de la Creuse by its id, as a hostile
    respondent would by editing the page; returns that structure."""
    caf = session.exec(select(Organisation).where(Organisation.name == "CAF de la Creuse")).one()
    page.goto(f"{base}/q/{token}")
    # The search field posts a name; edited, it posts the structure's id as a partner.
    page.evaluate(
        "id => { const s = document.querySelector('#l0-partner');"
        " s.name = 'l0-partner'; s.removeAttribute('list'); s.value = String(id); }",
        caf.id,
    )
    page.locator(".actions").get_by_role("button", name="Enregistrer", exact=True).click()
    return caf


@pytest.fixture
def creuse(session) -> Territory:
    """The demo territory with its demo coordinator and viewer accounts."""
    demo.load(session, TEST_SECRET)
    territory = session.exec(select(Territory).where(Territory.code == "23")).one()
    ensure_demo_accounts(session, territory)
    session.commit()
    return territory


@pytest.fixture
def haute_vienne(session, creuse) -> dict:
    """A second territory with its own open campaign, one structure, one professional."""
    territory = Territory(code="87", name="Haute-Vienne")
    session.add(territory)
    session.flush()
    org = Organisation(territory_id=territory.id, name="CCAS de Limoges", type="ccas-cias")
    session.add(org)
    session.flush()
    pro = Professional(
        territory_id=territory.id,
        full_name="Hélène Vienne",
        email="helene.vienne@example.org",
        organisation_id=org.id,
    )
    campaign = Campaign(territory_id=territory.id, year=2026, status="open")
    session.add_all([pro, campaign])
    session.flush()
    token = links.issue(session, TEST_SECRET, campaign, pro)
    session.commit()
    make_user(session, "coord-87@example.org", territory=territory)
    return {"territory": territory, "org": org, "pro": pro, "campaign": campaign, "token": token}


def test_coordinator_runs_a_year(live_server, page, session, creuse):
    base = live_server
    sign_in(page, base, *COORDINATOR)
    expect(page.locator("h1")).to_have_text("23 — Creuse")

    # --- prepare 2027: a draft; opening it requires closing 2026 first -------------------
    page.get_by_role("navigation", name="Espace du territoire").get_by_role(
        "link", name="Campagnes"
    ).click()
    page.get_by_label("Année").fill("2027")
    page.get_by_role("button", name="Préparer la campagne").click()
    expect(page.locator("h1")).to_contain_text("Campagne 2027")
    expect(page.locator(".notice.success")).to_contain_text("La campagne a été préparée")
    expect(page.get_by_role("link", name="Ouvrir la campagne 2027…")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("La campagne 2026 est ouverte : closez-la d'abord")
    shot(page, "1-prepared")

    page.get_by_role("link", name="campagne 2026").click()
    page.get_by_role("link", name="Clore la campagne 2026…").click()
    expect(page.locator("h1")).to_have_text("Clore la campagne 2026")
    page.get_by_role("button", name="Oui, clore la campagne 2026").click()
    expect(page.locator(".notice.success")).to_contain_text("La campagne est close")

    page.goto(f"{base}/t/23/campagnes/2027")
    page.get_by_role("link", name="Ouvrir la campagne 2027…").click()
    page.get_by_role("button", name="Oui, ouvrir la campagne 2027").click()
    notice = page.locator(".notice.success")
    expect(notice).to_contain_text("La campagne est ouverte")
    expect(notice).to_contain_text("lien(s) personnel(s) créé(s)")
    shot(page, "2-opened")
    session.expire_all()
    status = dict(
        session.exec(
            select(Campaign.year, Campaign.status).where(Campaign.territory_id == creuse.id)
        ).all()
    )
    assert status == {2024: "closed", 2025: "closed", 2026: "closed", 2027: "open"}

    # --- import professionals: one bad line, nothing saved; fixed file, confirmed ------
    page.get_by_role("link", name="Professionnels").first.click()
    page.get_by_role("link", name="Importer un fichier").click()
    header = "nom;email;structure;service;fonction\n"
    good = "Inès Nouvelle;ines.nouvelle@example.org;CAF de la Creuse;;Assistante sociale\n"
    bad = "Yann Inconnu;yann.inconnu@example.org;Structure qui n'existe pas;;Éducateur\n"
    page.get_by_label("Fichier à importer").set_input_files(csv_file(header + good + bad))
    page.get_by_role("button", name="Vérifier le fichier").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("1 ligne à corriger")
    expect(summary).to_contain_text("Ligne 3")
    expect(page.locator("tr.line-error")).to_have_count(1)
    expect(page.get_by_role("button", name="Confirmer l'import")).to_have_count(0)
    shot(page, "3-import-error", full_page=True)
    assert (
        session.exec(
            select(Professional).where(Professional.email == "ines.nouvelle@example.org")
        ).first()
        is None
    )

    fixed = bad.replace("Structure qui n'existe pas", "CCAS de Guéret")
    page.get_by_label("Fichier à importer").set_input_files(csv_file(header + good + fixed))
    page.get_by_role("button", name="Vérifier le fichier").click()
    expect(page.locator(".notice.success")).to_contain_text("2 professionnel(s) à ajouter")
    shot(page, "4-import-preview", full_page=True)
    page.get_by_role("button", name="Confirmer l'import").click()
    expect(page.locator("h1")).to_have_text("Professionnels")
    page.get_by_label("Rechercher").fill("example.org")
    page.get_by_label("Rechercher").fill("Nouvelle")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.locator("table.data tbody")).to_contain_text("Inès Nouvelle")
    session.expire_all()
    imported = {
        p.email: p
        for p in session.exec(
            select(Professional).where(
                col(Professional.email).in_(
                    ["ines.nouvelle@example.org", "yann.inconnu@example.org"]
                )
            )
        )
    }
    assert set(imported) == {"ines.nouvelle@example.org", "yann.inconnu@example.org"}
    assert all(p.territory_id == creuse.id for p in imported.values())

    # --- the map of 2026, filtered to formal links ---------------------------------------
    page.get_by_role("navigation", name="Espace du territoire").get_by_role(
        "link", name="Carte"
    ).click()
    page.get_by_label("Année").select_option("2026")
    page.get_by_role("button", name="Appliquer").click()
    expect(page.locator("h1")).to_have_text("Carte des partenariats 2026")
    links_all = int(
        page.locator(".headline > div", has_text="Liens").first.locator("dd").first.inner_text()
    )
    page.get_by_label("Nature des liens").select_option("formal")
    page.get_by_role("button", name="Appliquer").click()
    expect(page.locator(".filters-on")).to_contain_text("formel")
    assert "nature=formal" in page.url and "annee=2026" in page.url
    links_formal = int(
        page.locator(".headline > div", has_text="Liens").first.locator("dd").first.inner_text()
    )
    assert 0 < links_formal < links_all
    assert page.locator("#map-frame .node").count() > 10
    shot(page, "5-map-filtered")

    # --- the PDF report of 2026 ------------------------------------------------------------
    page.get_by_role("link", name="Tableau de bord").click()
    with page.expect_download() as info:
        page.get_by_role("link", name="Télécharger le rapport 2026").click()
    download = info.value
    assert download.suggested_filename == "rapport-23-2026.pdf"
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 10_000


def test_viewer_reads_but_cannot_change_anything(live_server, page, session, creuse):
    base = live_server
    sign_in(page, base, *VIEWER)
    expect(page.locator("main")).to_contain_text("Votre compte est en lecture seule")
    nav = page.get_by_role("navigation", name="Espace du territoire")
    expect(nav.get_by_role("link", name="Professionnels")).to_have_count(0)

    # Reads the map and the figures.
    page.goto(f"{base}/t/23/carte?annee=2025")
    expect(page.locator("h1")).to_have_text("Carte des partenariats 2025")
    assert page.locator("#map-frame .node").count() > 10
    shot(page, "6-viewer-map")
    page.get_by_role("link", name="Tous les chiffres").first.click()
    expect(page.locator("h1")).to_contain_text("2025")
    assert int(page.locator("#fig-structures").inner_text()) > 10
    assert int(page.locator("#fig-links").inner_text()) > 10
    shot(page, "6-viewer-figures")

    # No form that changes anything, on any page a coordinator would change things on.
    for path in ("/t/23/", "/t/23/campagnes", "/t/23/campagnes/2026", "/t/23/repertoire",
                 "/t/23/carte", "/t/23/figures/2026", "/t/23/exports"):  # fmt: skip
        page.goto(base + path)
        assert page.locator("main form[method=post]").count() == 0, path
        expect(page.locator("main")).not_to_contain_text("@example.org")
    expect(page.get_by_role("link", name="Clore la campagne 2026…")).to_have_count(0)
    shot(page, "7-viewer-campaign", full_page=True)

    # The coordinator-only pages are refused, and so is a forged POST with a valid token.
    response = page.goto(f"{base}/t/23/professionnels")
    assert response is not None and response.status == 403
    expect(page.locator("main")).to_contain_text("lecture seule")
    page.goto(f"{base}/t/23/")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token
    refused = page.request.post(
        f"{base}/t/23/campagnes",
        form={
            "year": "2030",
            "opens_on": "",
            "closes_on": "",
            "introduction": "",
            "csrf_token": token,
        },
        max_redirects=0,
    )
    assert refused.status == 403
    assert "Traceback" not in refused.text()
    closed = page.request.post(
        f"{base}/t/23/campagnes/2026/clore", form={"csrf_token": token}, max_redirects=0
    )
    assert closed.status == 403
    session.expire_all()
    assert session.exec(select(Campaign).where(Campaign.year == 2030)).first() is None
    assert (
        session.exec(
            select(Campaign.status).where(Campaign.territory_id == creuse.id, Campaign.year == 2026)
        ).one()
        == "open"
    )


def test_respondent_of_another_territory_cannot_reach_creuse(
    live_server, page, session, haute_vienne
):
    base = live_server
    token = haute_vienne["token"]
    page.goto(f"{base}/q/{token}")
    expect(page.locator("h1")).to_contain_text("Questionnaire 2026")
    expect(page.locator(".brand")).to_contain_text("87 — Haute-Vienne")
    expect(page.locator("main")).not_to_contain_text("Creuse")
    # The directory offered under the search field is this territory's only.
    expect(page.locator("#l0-partner")).to_have_attribute("list", "annuaire")
    options = page.eval_on_selector_all("#annuaire option", "os => os.map(o => o.value)")
    assert any("CCAS de Limoges" in o for o in options)
    assert not any("Creuse" in o or "Guéret" in o for o in options), options
    shot(page, "8-other-respondent")

    page.goto(f"{base}/q/{token}/repertoire")
    expect(page.locator("main")).to_contain_text("CCAS de Limoges")
    expect(page.locator("main")).not_to_contain_text("Creuse")

    # Naming a Creuse structure by its id (a forged option) is refused; no link is recorded.
    caf = forge_creuse_partner(page, base, session, token)
    expect(page.locator("#error-summary")).to_contain_text(
        "n'existe pas dans le répertoire de votre territoire"
    )
    session.expire_all()
    response = session.exec(
        select(Response).where(Response.professional_id == haute_vienne["pro"].id)
    ).first()
    if response is not None:
        partners = session.exec(
            select(DeclaredLink.partner_organisation_id).where(
                DeclaredLink.response_id == response.id
            )
        ).all()
        assert caf.id not in partners

    # Without an account, the Creuse workspace asks to sign in; nothing is shown.
    for path in ("/t/23/", "/t/23/carte", "/t/23/repertoire"):
        page.goto(base + path)
        expect(page.locator("h1")).not_to_contain_text("Creuse")
        assert "/login" in page.url, path
        expect(page.locator("main")).not_to_contain_text("CAF de la Creuse")


def test_refusal_does_not_name_a_structure_of_another_territory(
    live_server, page, session, haute_vienne
):
    forge_creuse_partner(page, live_server, session, haute_vienne["token"])
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("CAF de la Creuse", timeout=1000)


def test_coordinator_of_another_territory_gets_404_on_creuse(
    live_server, page, session, haute_vienne
):
    base = live_server
    sign_in(page, base, "coord-87@example.org", TEST_PASSWORD)
    expect(page.locator("h1")).to_have_text("87 — Haute-Vienne")
    caf = session.exec(select(Organisation).where(Organisation.name == "CAF de la Creuse")).one()
    for path in ("/t/23/", "/t/23/carte", "/t/23/campagnes/2026", "/t/23/professionnels",
                 f"/t/23/structures/{caf.id}", "/t/87/structures/" + str(caf.id)):  # fmt: skip
        response = page.goto(base + path)
        assert response is not None and response.status == 404, (path, response.status)
        expect(page.locator("main")).not_to_contain_text("CAF de la Creuse")
    shot(page, "9-other-coordinator-404")
    report = page.request.get(f"{base}/t/23/rapport/2026.pdf")
    assert report.status == 404 and not report.body().startswith(b"%PDF")

"""Issue 15 in a real browser, on the demo territory, as a coordinator would go:

1. create an instance with four official members (form, no script needed), then add one of
   the « membres absents » the coordination page suggests with its button;
2. import zones (two communes, one where the directory has no structure yet, accepted with
   the checkbox) and two conventions, through the preview and its confirmation;
3. read on the coordination page: the suggested absent members (the 2025 Commission SIAO
   lacks the CAF and the CPAM), the imported convention between two structures no
   professional links (« sans vie »), a « partenariat sans cadre » and a white zone.

axe finds no serious violation on the pages walked; screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from reports.coordination import coordination
from reports.graph import build_graph
from survey import campaigns
from survey.models import Body, BodyMember, Convention, Organisation, ZoneCommune
from tests.test_browser_accessibility import (  # noqa: F401 (demo_world is a fixture)
    ARTIFACTS,
    COORDINATOR,
    demo_world,
    problems,
    sign_in,
)

pytestmark = pytest.mark.browser

MEMBERS = ("SIAO de la Creuse", "CHRS La Passerelle", "CCAS de Guéret",
           "Conseil départemental de la Creuse")  # fmt: skip
LIFELESS = ("Mission locale de la Creuse", "CPAM de la Creuse")
ALIVE = ("CAF de la Creuse", "Conseil départemental de la Creuse")


def _upload(page, name: str, content: str) -> None:
    page.get_by_label("Fichier à importer").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": content.encode()}]
    )


def test_coordinator_records_instances_zones_conventions_and_reads_them(
    live_server,
    page,
    session,
    demo_world,  # noqa: F811
):
    orgs = {o.name: o.id for o in session.exec(select(Organisation))}
    current = campaigns.campaign_of(session, demo_world.id, 2026)
    ties = build_graph(session, current).to_undirected()
    # The data the test relies on: no tie between the two parties of the lifeless convention,
    # a tie between those of the other one.
    assert not ties.has_edge(orgs[LIFELESS[0]], orgs[LIFELESS[1]])
    assert ties.has_edge(orgs[ALIVE[0]], orgs[ALIVE[1]])

    sign_in(page, live_server, *COORDINATOR)
    found: list[str] = []

    # 1. An instance with four members.
    page.goto(f"{live_server}/t/23/instances/nouvelle")
    page.get_by_label("Nom de l'instance").fill("Commission de veille sociale")
    page.get_by_label("Fréquence des réunions").select_option("weekly")
    page.get_by_label("Structure porteuse (facultatif)").select_option(
        str(orgs["SIAO de la Creuse"])
    )
    for name in MEMBERS:
        page.get_by_label(name, exact=True).check()
    found += problems(page, "instance-new")
    page.get_by_role("button", name="Créer l'instance").click()
    expect(page).to_have_url(re.compile(r"/t/23/instances/\d+"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Commission de veille sociale")
    body = session.exec(select(Body).where(Body.name == "Commission de veille sociale")).one()
    members = set(
        session.exec(select(BodyMember.organisation_id).where(BodyMember.body_id == body.id))
    )
    assert members == {orgs[n] for n in MEMBERS}
    found += problems(page, "instance-page")

    # 2a. Zones: one commune already in its zone, one with no structure yet (accepted).
    page.goto(f"{live_server}/t/23/zones/import")
    _upload(page, "zones.csv",
            "commune;zone;type\nGuéret;UTAS de Guéret;UTAS\nChénérailles;UTAS de Guéret;UTAS\n")  # fmt: skip
    page.get_by_role("button", name="Vérifier le fichier").click()
    # Without the checkbox the unknown commune is a problem, and nothing is written.
    expect(page.locator(".error-summary")).to_contain_text("Chénérailles")
    assert not session.exec(select(ZoneCommune).where(ZoneCommune.commune == "Chénérailles")).all()
    _upload(page, "zones.csv",
            "commune;zone;type\nGuéret;UTAS de Guéret;UTAS\nChénérailles;UTAS de Guéret;UTAS\n")  # fmt: skip
    page.locator("#accepter").check()
    page.get_by_role("button", name="Vérifier le fichier").click()
    expect(page.get_by_role("button", name="Confirmer l'import")).to_be_visible()
    found += problems(page, "zones-preview")
    page.get_by_role("button", name="Confirmer l'import").click()
    expect(page).to_have_url(re.compile(r"/t/23/zones\?fait=importe$"))
    session.expire_all()
    assert session.exec(select(ZoneCommune).where(ZoneCommune.commune == "Chénérailles")).one()

    # 2b. Two conventions.
    page.goto(f"{live_server}/t/23/conventions/import")
    _upload(page, "conventions.csv",
            "type;intitule;reference;debut;fin;parties\n"
            f"convention;Accès aux soins des jeunes;;01/01/2025;;{LIFELESS[0]}|{LIFELESS[1]}\n"
            f"protocole;Prévention des ruptures de droits;P-2025-7;2025-06-01;2027-12-31;"
            f"{ALIVE[0]}|{ALIVE[1]}\n")  # fmt: skip
    page.get_by_role("button", name="Vérifier le fichier").click()
    expect(page.get_by_role("button", name="Confirmer l'import")).to_be_visible()
    found += problems(page, "conventions-preview")
    page.get_by_role("button", name="Confirmer l'import").click()
    expect(page).to_have_url(re.compile(r"/t/23/conventions\?fait=importe$"))
    session.expire_all()
    titles = set(session.exec(select(Convention.title)))
    assert {"Accès aux soins des jeunes", "Prévention des ruptures de droits"} <= titles

    # 3. The coordination page of the open year.
    page.goto(f"{live_server}/t/23/coordination?annee=2026")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expected = coordination(session, current)
    mine = next(i for i in expected["instances"]["items"] if i["id"] == body.id)
    assert mine["absent"], "the demo gives the new instance absent members"
    section = page.locator(f"article:has(#instance-{body.id}) details.absent-members")
    first = mine["absent"][0]["name"]
    expect(section).to_contain_text(first)
    # The convention between two structures no professional links is « sans vie »; the
    # other one is not.
    lifeless = page.locator("table:has(#without-life-caption)")
    expect(lifeless).to_contain_text("Accès aux soins des jeunes")
    expect(lifeless).not_to_contain_text("Prévention des ruptures de droits")
    # At least one frequent tie without frame, and a white zone.
    frameless = page.locator("table:has(#without-frame-caption) tbody tr")
    assert frameless.count() >= 1
    assert expected["official"]["without_frame"]
    a, b = (
        expected["official"]["without_frame"][0]["a"],
        expected["official"]["without_frame"][0]["b"],
    )
    expect(frameless.first).to_contain_text(a["name"])
    expect(frameless.first).to_contain_text(b["name"])
    white = page.locator("table:has(#white-caption)")
    assert expected["zones"]["white"]
    expect(white).to_contain_text(expected["zones"]["white"][0]["zone"])
    expect(white).to_contain_text("aucun lien")
    found += problems(page, "coordination-2026")

    # The « Ajouter comme membre » button adds the first suggestion and comes back here.
    if section.get_attribute("open") is None:  # more than five: the list starts folded
        section.locator("summary").click()
    section.get_by_role("button", name=re.compile("Ajouter comme membre")).first.click()
    expect(page).to_have_url(re.compile(rf"/t/23/coordination\?annee=2026#instance-{body.id}$"))
    session.expire_all()
    added = set(
        session.exec(select(BodyMember.organisation_id).where(BodyMember.body_id == body.id))
    )
    assert added - members == {mine["absent"][0]["id"]}

    # The SIAO-like case, on the last closed year: the Commission SIAO lacks the CAF and
    # the CPAM, whose professionals work with most of its members.
    page.goto(f"{live_server}/t/23/coordination?annee=2025")
    siao = session.exec(select(Body).where(Body.name == "Commission SIAO")).one()
    absent = page.locator(f"article:has(#instance-{siao.id}) details.absent-members")
    if absent.get_attribute("open") is None:
        absent.locator("summary").click()
    expect(absent).to_contain_text("CAF de la Creuse")
    expect(absent).to_contain_text("CPAM de la Creuse")
    page.screenshot(path=str(ARTIFACTS / "coordination-2025.png"), full_page=True)

    assert found == [], "\n".join(found)

"""Engagements (issue 17, items 1, 2 and 5): the domain, what the next map shows of each
kind, the pages (list, form pre-filled from every finding, detail, status, notes), the API
and the PDF section, on a territory worked out by hand.

Territory « 23 »: a 2025 campaign (closed, no answer: the year the engagements were read
from) and a 2026 one (open) whose answers are the map they are checked against.
Structures: A (caf), B (cpam), C (ccas), D (siao), E, F, G (associations) in Guéret, zone
« Nord »; H (ccas) in Aubusson, zone « Sud ». Everyone but G's has a professional; G's
structure has nobody, so it never answers.
    a1 → B formal, weekly; a1 → G informal       b1 answers, names nobody
    c1 → D informal; d1 → C informal             e1, f1 answer, name nobody
    h1 → D informal; h1 ticks the « Commission » (members C and D)
So in 2026:
    A–B: a tie, formal (a1 said formal), carried by one person, cited from A's side only
         while B answered → « devenu formel », « toujours cité que d'un côté ».
    C–D: informal both ways, two carriers (c1 and d1), mutual.
    E–F: no tie at all.
    A–G: a tie from A only, G did not answer: whether G would cite A is unknown.
    Zone Sud: its one respondent (h1) names a « logement » structure (D), none of the
    « protection » family (A, B): Sud × protection is still white, Sud × logement is not.
    Commission: C is a member, H a declared participant, A neither.
A second territory « 19 » holds structure X: naming it from « 23 » is a 404.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
from pypdf import PdfReader
from sqlmodel import Session, select

from reports import engagements as shows
from reports import pdf
from survey import engagements as eng
from survey.accounts import AuditEvent
from survey.directory import Invalid, normalize_name
from survey.models import (
    Body,
    BodyMember,
    Campaign,
    Engagement,
    EngagementNote,
    EngagementStructure,
    ResponseBody,
    Territory,
    Zone,
    ZoneCommune,
)
from tests.accounts_helpers import csrf_token, login, make_user
from tests.reports.builders import Builder


class World:
    def __init__(self, b: Builder, c25: Campaign, c26: Campaign, body: Body, other: Builder):
        self.b, self.c25, self.c26, self.body, self.other = b, c25, c26, body, other

    def id(self, key: str) -> int:
        return self.b.orgs[key].id  # type: ignore[return-value]


def build(session: Session) -> World:
    b = Builder.start(session)
    c25 = b.campaign(2025, "closed")
    c26 = b.campaign(2026, "open")
    for key, type_ in (("a", "caf"), ("b", "cpam"), ("c", "ccas-cias"), ("d", "siao"),
                       ("e", "association"), ("f", "association"), ("g", "association"),
                       ("h", "ccas-cias")):  # fmt: skip
        b.org(key, type_)
    b.orgs["h"].commune = "Aubusson"
    for key in ("a", "b", "c", "d", "e", "f", "h"):
        b.pro(key + "1", key)
    b.invite(c26, *b.pros)
    b.respond(c26, "a1", [{"org": "b", "nature": "formal", "frequency": "weekly"},
                          {"org": "g", "nature": "informal"}])  # fmt: skip
    for key in ("b1", "e1", "f1"):
        b.respond(c26, key, [])
    b.respond(c26, "c1", [{"org": "d", "nature": "informal"}])
    b.respond(c26, "d1", [{"org": "c", "nature": "informal"}])
    h1 = b.respond(c26, "h1", [{"org": "d", "nature": "informal"}])
    t = b.territory.id
    body = Body(territory_id=t, name="Commission", kind="commission")
    session.add(body)
    session.flush()
    for key in ("c", "d"):
        session.add(BodyMember(body_id=body.id, organisation_id=b.orgs[key].id))
    session.add(ResponseBody(response_id=h1.id, body_id=body.id))
    for name, commune in (("Nord", "Guéret"), ("Sud", "Aubusson")):
        zone = Zone(territory_id=t, name=name, kind="utas")
        session.add(zone)
        session.flush()
        session.add(ZoneCommune(zone_id=zone.id, key=normalize_name(commune), commune=commune))
    other = Builder.start(session, "19", "Corrèze")
    other.campaign(2026, "open")
    other.org("x", "caf")
    session.commit()
    return World(b, c25, c26, body, other)


@pytest.fixture
def world(session):
    return build(session)


@pytest.fixture
def coordinator(client, session, world):
    make_user(session, "coord@example.org", territory=world.b.territory)
    login(client, "coord@example.org")
    return client


@pytest.fixture
def viewer(client, session, world):
    make_user(session, "lecteur@example.org", role="viewer", territory=world.b.territory)
    login(client, "lecteur@example.org")
    return client


def text_of(html: str) -> str:
    main = html[html.index("<main") :] if "<main" in html else html
    main = re.sub(r"</?(a|strong|span)\b[^>]*>", "", main)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", main))).replace("\xa0", " ")


def make(session: Session, w: World, **kw) -> Engagement:
    """An engagement read from the 2025 map (kw: EngagementData fields, keys for ids)."""
    keys = kw.pop("keys", ())
    data = eng.EngagementData(
        title=kw.pop("title", "Un engagement"),
        structure_ids=[w.id(k) for k in keys],
        campaign_id=kw.pop("campaign_id", w.c25.id),
        **kw,
    )
    e = eng.create_engagement(session, w.b.territory.id, data)
    session.commit()
    return e


def form_data(w: World, **kw) -> dict:
    data = {"title": "Formaliser le lien entre A et B", "kind": "formalise",
            "status": "planned", "owner_id": str(w.id("a")), "due_on": "",
            "structures": [str(w.id("a")), str(w.id("b"))], "finding": "one_sided",
            "zone": "", "family": "", "body_id": "", "campaign_id": str(w.c25.id)}  # fmt: skip
    data.update(kw)
    return data


def count(session: Session, model) -> int:
    session.expire_all()
    return len(session.exec(select(model)).all())


# --- domain --------------------------------------------------------------------------------


def test_create_keeps_structures_in_order_and_cleans_the_title(session, world):
    e = make(session, world, title="  Formaliser   le lien ", kind="formalise",
             keys=("b", "a", "b"), finding="one_sided", owner_id=world.id("a"))  # fmt: skip
    assert e.title == "Formaliser le lien"
    assert eng.structure_ids(session, e) == [world.id("b"), world.id("a")]  # repeat dropped
    row = eng.engagement_row(session, e)
    assert (row.kind_label, row.status_label, row.owner.name, row.year) == (
        "Formaliser un partenariat", "Prévu", "A", 2025)  # fmt: skip


def test_validation_messages_are_french_and_nothing_is_written(session, world):
    bad = eng.EngagementData(title="", kind="nope", status="x", owner_id=None,
                             due_on=date.today() - timedelta(days=1))  # fmt: skip
    with pytest.raises(Invalid) as exc:
        eng.create_engagement(session, world.b.territory.id, bad)
    assert exc.value.errors["due_on"] == "La date d'échéance est avant la date de création."
    assert set(exc.value.errors) == {"title", "kind", "status", "due_on"}
    session.rollback()
    assert count(session, Engagement) == 0
    # A link finding names exactly two structures.
    with pytest.raises(Invalid) as exc:
        make(session, world, finding="fragile", keys=("a",))
    assert "deux structures" in exc.value.errors["structures"]


def test_due_date_is_checked_against_the_creation_date_on_update(session, world):
    e = make(session, world, due_on=date.today())
    e.created_at = datetime(2025, 9, 1, tzinfo=UTC)
    session.commit()
    data = eng.data_of(session, e)
    data.due_on = date(2025, 9, 2)  # before today, after creation: accepted
    eng.update_engagement(session, e, data)
    data.due_on = date(2025, 8, 31)
    with pytest.raises(Invalid, match="avant la date de création"):
        eng.update_engagement(session, e, data)


def test_another_territorys_structure_is_not_found(session, world):
    x = world.other.orgs["x"].id
    for data in (eng.EngagementData(title="T", structure_ids=[x]),
                 eng.EngagementData(title="T", owner_id=x),
                 eng.EngagementData(title="T", structure_ids=[10**12])):  # fmt: skip
        with pytest.raises(eng.NotFound):
            eng.create_engagement(session, world.b.territory.id, data)
        session.rollback()
    assert count(session, Engagement) == 0


def test_archived_structure_is_refused_unless_already_named(session, world):
    e = make(session, world, keys=("e",))
    world.b.orgs["e"].status = "archived"
    world.b.orgs["f"].status = "archived"
    session.commit()
    data = eng.data_of(session, e)
    eng.update_engagement(session, e, data)  # E was already named: kept
    data.structure_ids = [world.id("e"), world.id("f")]
    with pytest.raises(Invalid) as exc:
        eng.update_engagement(session, e, data)
    assert "« F » n'est pas une structure active" in exc.value.errors["structures"]


def test_status_and_notes(session, world):
    e = make(session, world)
    eng.set_status(session, e, "kept")
    with pytest.raises(Invalid):
        eng.set_status(session, e, "fini")
    eng.add_note(session, e, "  Première rencontre. ", date(2026, 1, 5))
    eng.add_note(session, e, "Convention signée.", date(2026, 2, 1))
    with pytest.raises(Invalid, match="Écrivez la note"):
        eng.add_note(session, e, "   ")
    session.commit()
    row = eng.engagement_row(session, e)
    assert row.status_label == "Tenu"
    assert [n.text for n in row.notes] == ["Convention signée.", "Première rencontre."]


# --- what the 2026 map shows ---------------------------------------------------------------


def shown(session: Session, w: World, **kw) -> dict:
    return shows.what_the_map_shows(session, make(session, w, **kw), w.c26)


def test_map_link_formalised_but_still_one_sided(session, world):
    # A–B: a1 said « formal » → formal; b1 answered without citing A → still one side.
    r = shown(session, world, kind="formalise", finding="one_sided", keys=("a", "b"))
    assert r["facts"] == [shows.FORMAL, shows.NOT_CITED]
    assert r["code"] == "partly"
    assert r["text"].startswith("Le lien est devenu formel")


def test_map_fragile_link_now_carried_by_two(session, world):
    # C–D: c1 and d1 each declare it: two carriers, both ways.
    r = shown(session, world, kind="meeting", finding="fragile", keys=("c", "d"))
    assert (r["code"], r["facts"]) == ("done", [shows.CARRIED])
    # A–B: a1 alone carries it.
    r = shown(session, world, kind="meeting", finding="fragile", keys=("a", "b"))
    assert (r["code"], r["facts"]) == ("not_yet", [shows.ONE_PERSON])


def test_map_frameless_link_still_informal_and_one_sided_now_mutual(session, world):
    # C–D: every declaration is « informal ».
    r = shown(session, world, kind="formalise", finding="without_frame", keys=("c", "d"))
    assert (r["code"], r["facts"]) == ("not_yet", [shows.NOT_FORMAL])
    # C–D cited both ways: the once uncited structure is now cited.
    r = shown(session, world, kind="other", finding="one_sided", keys=("c", "d"))
    assert (r["code"], r["facts"]) == ("done", [shows.CITED])


def test_map_no_tie_and_silent_partner(session, world):
    # E–F: nobody declares it.
    r = shown(session, world, kind="formalise", finding="one_sided", keys=("e", "f"))
    assert (r["code"], r["text"]) == ("no_tie", "Pas encore de lien déclaré")
    # A–G: G never answered, its silence says nothing.
    r = shown(session, world, kind="other", finding="one_sided", keys=("a", "g"))
    assert r["code"] == "unknown"
    assert "n'a pas répondu en 2026" in r["text"]


def test_map_white_zone(session, world):
    # Sud's respondent names D (logement), nobody of the protection family (A, B).
    r = shown(session, world, kind="white_zone", finding="white_zone", zone="Sud",
              family="protection")  # fmt: skip
    assert (r["code"], r["facts"]) == ("not_yet", [shows.STILL_WHITE])
    r = shown(session, world, kind="white_zone", finding="white_zone", zone="Sud",
              family="logement")  # fmt: skip
    assert (r["code"], r["facts"]) == ("done", [shows.NOT_WHITE])


def test_map_absent_member(session, world):
    body = world.body.id
    r = shown(session, world, kind="invite", finding="absent_member", body_id=body, keys=("c",))
    assert r["facts"] == [shows.MEMBER]  # C is an official member
    r = shown(session, world, kind="invite", finding="absent_member", body_id=body, keys=("h",))
    assert r["facts"] == [shows.PARTICIPANT]  # h1 ticked the Commission
    r = shown(session, world, kind="invite", finding="absent_member", body_id=body, keys=("a",))
    assert (r["code"], r["facts"]) == ("not_yet", [shows.NOT_AROUND])


def test_map_other_kind_and_same_year(session, world):
    assert shown(session, world, kind="other", keys=("a", "b"))["text"] == "—"
    # Read from the 2026 map itself: nothing to compare yet.
    r = shown(session, world, kind="formalise", finding="one_sided", keys=("a", "b"),
              campaign_id=world.c26.id)  # fmt: skip
    assert r["code"] == "same_year"


def test_map_follows_a_merge(session, world):
    # B merged into A's... rather: F merged into D; a C–F engagement reads C–D's tie.
    e = make(session, world, kind="meeting", finding="fragile", keys=("c", "f"))
    world.b.orgs["f"].status = "merged"
    world.b.orgs["f"].merged_into_id = world.id("d")
    session.commit()
    assert shows.what_the_map_shows(session, e, world.c26)["facts"] == [shows.CARRIED]


# --- pages ---------------------------------------------------------------------------------


def test_prefill_from_each_finding(coordinator, world):
    a, b, c25 = world.id("a"), world.id("b"), 2025
    r = coordinator.get(f"/t/23/engagements/nouvelle?constat=one_sided&a={a}&b={b}&annee={c25}")
    assert r.status_code == 200
    page = text_of(r.text)
    assert "un lien cité d'un seul côté" in page and "carte 2025" in page
    assert 'value="Formaliser le lien entre A et B"' in r.text
    assert f'value="{a}" id="structures' in r.text
    assert re.search(rf'value="{a}" id="[^"]+" checked', r.text)
    assert re.search(rf'value="{b}" id="[^"]+" checked', r.text)
    assert re.search(r'<option value="formalise" selected', r.text)
    assert 'name="finding" value="one_sided"' in r.text
    assert f'name="campaign_id" value="{world.c25.id}"' in r.text

    r = coordinator.get(f"/t/23/engagements/nouvelle?constat=fragile&a={a}&b={b}&annee=2025")
    assert "Faire porter le lien entre A et B par plusieurs personnes" in unescape(r.text)
    assert re.search(r'<option value="meeting" selected', r.text)

    r = coordinator.get(f"/t/23/engagements/nouvelle?constat=without_frame&a={a}&b={b}")
    assert 'name="finding" value="without_frame"' in r.text
    assert "Formaliser le lien entre A et B" in unescape(r.text)

    r = coordinator.get("/t/23/engagements/nouvelle?constat=white_zone&zone=Sud&famille=protection")
    assert "Couvrir la zone blanche Sud : caisses de protection sociale" in unescape(r.text)
    assert 'name="zone" value="Sud"' in r.text and 'name="family" value="protection"' in r.text

    body = world.body.id
    r = coordinator.get(
        f"/t/23/engagements/nouvelle?constat=absent_member&instance={body}&structure={a}"
    )
    assert "Inviter A à « Commission »" in unescape(r.text)
    assert f'name="body_id" value="{body}"' in r.text
    assert re.search(r'<option value="invite" selected', r.text)


def test_prefill_with_another_territorys_ids_is_404(coordinator, world):
    a, x = world.id("a"), world.other.orgs["x"].id
    for q in (f"constat=one_sided&a={a}&b={x}", f"constat=fragile&a=abc&b={a}",
              f"constat=absent_member&instance={world.body.id}&structure={x}",
              f"constat=absent_member&instance=999999&structure={a}",
              "constat=white_zone&zone=Sud&famille=nope", f"constat=one_sided&a={a}&b={a}&annee=1990"):  # fmt: skip
        r = coordinator.get(f"/t/23/engagements/nouvelle?{q}")
        assert r.status_code == 404, q


def test_create_from_a_finding_then_list_shows_the_2026_map(coordinator, session, world):
    token = csrf_token(coordinator, "/t/23/engagements/nouvelle")
    r = coordinator.post("/t/23/engagements/nouvelle",
                         data=form_data(world, csrf_token=token), follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    e = session.exec(select(Engagement)).one()
    assert r.headers["location"] == f"/t/23/engagements/{e.id}?fait=creee"
    assert (e.finding, e.campaign_id, e.owner_id) == ("one_sided", world.c25.id, world.id("a"))
    audit = session.exec(select(AuditEvent).where(AuditEvent.action == "engagement.create")).one()
    assert audit.target == f"engagement {e.id}"
    page = text_of(coordinator.get("/t/23/engagements").text)
    assert "Ce que montre la carte 2026" in page
    assert "Formaliser le lien entre A et B (carte 2025)" in page
    assert "Le lien est devenu formel ; le lien n'est toujours cité que d'un côté" in page


def test_due_date_before_creation_is_a_french_400(coordinator, session, world):
    token = csrf_token(coordinator, "/t/23/engagements/nouvelle")
    r = coordinator.post("/t/23/engagements/nouvelle",
                         data=form_data(world, csrf_token=token, due_on="2020-01-01", title=""))  # fmt: skip
    assert r.status_code == 400
    page = text_of(r.text)
    assert "La date d'échéance est avant la date de création." in page
    assert "Indiquez en quelques mots" in page  # every problem at once
    assert 'value="2020-01-01"' in r.text  # what was typed stays
    r = coordinator.post("/t/23/engagements/nouvelle",
                         data=form_data(world, csrf_token=token, due_on="31/02/2027"))  # fmt: skip
    assert r.status_code == 400
    assert "Indiquez une date d'échéance valide" in text_of(r.text)
    assert count(session, Engagement) == 0


def test_posting_another_territorys_structure_is_404(coordinator, session, world):
    token = csrf_token(coordinator, "/t/23/engagements/nouvelle")
    x = str(world.other.orgs["x"].id)
    for data in (form_data(world, structures=[str(world.id("a")), x]),
                 form_data(world, owner_id=x), form_data(world, campaign_id="999999")):  # fmt: skip
        r = coordinator.post("/t/23/engagements/nouvelle", data={**data, "csrf_token": token})
        assert r.status_code == 404
    assert count(session, Engagement) == 0 and count(session, EngagementStructure) == 0


def test_edit_status_and_note(coordinator, session, world):
    e = make(session, world, kind="formalise", finding="one_sided", keys=("a", "b"),
             title="Formaliser le lien entre A et B")  # fmt: skip
    base = f"/t/23/engagements/{e.id}"
    token = csrf_token(coordinator, f"{base}/modifier")
    r = coordinator.post(f"{base}/modifier", data=form_data(world, csrf_token=token,
                         title="Signer une convention A–B", due_on="31/12/2099"),
                         follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    r = coordinator.post(f"{base}/etat", data={"status": "in_progress", "csrf_token": token},
                         follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    r = coordinator.post(f"{base}/etat", data={"status": "fini", "csrf_token": token})
    assert r.status_code == 400 and "Choisissez l'état" in text_of(r.text)
    r = coordinator.post(f"{base}/notes", data={"text": "Rencontre le 5 mars.",
                         "written_on": "2026-03-05", "csrf_token": token}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    r = coordinator.post(f"{base}/notes", data={"text": " ", "csrf_token": token})
    assert r.status_code == 400 and "Écrivez la note" in text_of(r.text)
    page = text_of(coordinator.get(base).text)
    assert "Signer une convention A–B" in page and "En cours" in page
    assert "5 mars 2026 : Rencontre le 5 mars." in page
    assert "31 décembre 2099" in page
    assert count(session, EngagementNote) == 1


def test_viewer_reads_but_cannot_write(viewer, session, world):
    e = make(session, world, kind="formalise", finding="one_sided", keys=("a", "b"),
             title="Formaliser le lien entre A et B")  # fmt: skip
    page = viewer.get("/t/23/engagements")
    assert page.status_code == 200
    assert "Formaliser le lien entre A et B" in text_of(page.text)
    assert "Prendre un engagement" not in page.text
    detail = viewer.get(f"/t/23/engagements/{e.id}")
    assert "Le lien est devenu formel" in text_of(detail.text)
    assert "Ajouter la note" not in detail.text and "/modifier" not in detail.text
    assert viewer.get("/t/23/engagements/nouvelle").status_code == 403
    token = csrf_token(viewer, "/t/23/engagements")
    for path in ("nouvelle", f"{e.id}/modifier", f"{e.id}/etat", f"{e.id}/notes"):
        r = viewer.post(f"/t/23/engagements/{path}", data=form_data(world, csrf_token=token,
                        text="x", status="kept"))  # fmt: skip
        assert r.status_code == 403, path
    # The findings' « Prendre un engagement » links are for coordinators only.
    assert "Prendre un engagement" not in viewer.get("/t/23/coordination?annee=2026").text
    assert "Prendre un engagement" not in viewer.get("/t/23/figures/2026").text


def test_another_territorys_engagement_is_404(coordinator, session, world):
    o = world.other
    e = eng.create_engagement(session, o.territory.id, eng.EngagementData(title="Ailleurs"))
    session.commit()
    assert coordinator.get(f"/t/23/engagements/{e.id}").status_code == 404
    assert coordinator.get(f"/t/19/engagements/{e.id}").status_code == 404
    assert coordinator.get("/t/23/engagements/99999999999").status_code in (404, 422)


def test_findings_carry_the_engagement_links(coordinator, world):
    a, b = world.id("a"), world.id("b")
    figures = unescape(coordinator.get("/t/23/figures/2026").text)
    # A cites B and B answered without citing A: one-sided; a1 alone carries it: fragile.
    assert f"constat=one_sided&a={a}&b={b}&annee=2026" in figures
    assert f"constat=fragile&a={a}&b={b}&annee=2026" in figures
    coordination = unescape(coordinator.get("/t/23/coordination?annee=2026").text)
    assert "constat=white_zone&zone=Sud&famille=protection&annee=2026" in coordination
    assert "/t/23/engagements" in coordination


def test_coordination_findings_link_to_prefilled_engagements(client, session):
    """On tests/test_coordination_pages.py's territory: the CAF is an absent member of the
    Commission SIAO, CAF–CCAS a « partenariat sans cadre »; each link opens its form."""
    from tests.test_coordination_pages import build as coordination_world

    b, body = coordination_world(session)
    make_user(session, "coord@example.org", territory=b.territory)
    login(client, "coord@example.org")
    html = unescape(client.get("/t/23/coordination?annee=2026").text)
    caf, ccas = b.orgs["caf"].id, b.orgs["ccas"].id
    absent = f"constat=absent_member&instance={body.id}&structure={caf}&annee=2026"
    assert absent in html
    frameless = re.search(r"constat=without_frame&a=(\d+)&b=(\d+)&annee=2026", html)
    assert frameless is not None
    pairs = set(re.findall(r"constat=without_frame&a=(\d+)&b=(\d+)", html))
    assert {str(caf), str(ccas)} in [set(p) for p in pairs]
    form = unescape(client.get(f"/t/23/engagements/nouvelle?{absent}").text)
    assert 'value="Inviter CAF à « Commission SIAO »"' in form


# --- API and PDF ---------------------------------------------------------------------------


def test_api_lists_engagements_with_the_map(viewer, client, session, world):
    make(session, world, kind="formalise", finding="one_sided", keys=("a", "b"), title="A–B",
         owner_id=world.id("a"), due_on=date(2099, 1, 1))  # fmt: skip
    r = viewer.get("/api/v1/t/23/engagements")
    assert r.status_code == 200
    body = r.json()
    assert body["year"] == 2026
    [item] = body["engagements"]
    assert (item["title"], item["status"], item["year_read"], item["due_on"]) == (
        "A–B", "planned", 2025, "2099-01-01")  # fmt: skip
    assert [s["name"] for s in item["structures"]] == ["A", "B"]
    assert item["map"]["code"] == "partly"
    assert item["map"]["facts"][0] == "le lien est devenu formel"
    assert viewer.get("/api/v1/t/19/engagements").status_code == 404
    assert "/api/v1/t/{code}/engagements" in client.get("/openapi.json").json()["paths"]
    client.cookies.clear()
    assert client.get("/api/v1/t/23/engagements").status_code == 401


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    text = " ".join(p.extract_text() or "" for p in reader.pages)
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\xa0", " "))


def test_pdf_section(session, world):
    text = _pdf_text(pdf.build_report(session, world.c26, world.c25))
    assert "Ce que nous nous étions engagés à faire" in text
    assert "aucun engagement avant la carte 2026" in text
    make(session, world, kind="formalise", finding="one_sided", keys=("a", "b"),
         title="Formaliser le lien entre A et B")  # fmt: skip
    text = _pdf_text(pdf.build_report(session, world.c26, world.c25))
    assert "Formaliser le lien entre A et B" in text
    assert "Le lien est devenu formel" in text


# --- the demo ------------------------------------------------------------------------------


def test_demo_engagements(session):
    from reports.figures import Link
    from reports.graph import build_graph
    from survey import campaigns, demo
    from tests.conftest import TEST_SECRET

    demo.load(session, TEST_SECRET)
    territory = session.exec(select(Territory).where(Territory.code == "23")).one()
    rows = eng.list_engagements(session, territory.id)
    assert {r.engagement.status for r in rows} >= {"kept", "in_progress", "abandoned"}
    assert {r.year for r in rows} == {2025}
    formalise = next(r for r in rows if r.engagement.title.startswith("Formaliser le lien"))
    a, b = (o.id for o in formalise.structures)
    c25 = campaigns.campaign_of(session, territory.id, 2025)
    c26 = campaigns.campaign_of(session, territory.id, 2026)
    g25, g26 = build_graph(session, c25), build_graph(session, c26)
    # The precondition the demo was chosen for: informal in 2025, formal in 2026.
    assert not Link(a, b, g25.succ[a].get(b), g25.succ[b].get(a)).formal
    assert Link(a, b, g26.succ[a].get(b), g26.succ[b].get(a)).formal
    assert shows.FORMAL in shows.what_the_map_shows(session, formalise.engagement, c26)["facts"]
    assert all(r.notes for r in rows)  # each has a dated note

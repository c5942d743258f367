"""The coordination page, the zone filter and the instance highlight, on a territory worked
out by hand (2026, open).

Structures (commune → zone): SIAO, CHRS, CCAS, UTAS, CAF in Guéret (zone « Nord »); CPAM
and ML in Aubusson (zone « Sud »). Everyone is invited; ML and UTAS do not answer.
    caf1  → SIAO weekly (quality 1), CHRS monthly, CCAS weekly (quality 2)
    cpam1 → SIAO monthly (quality 1), CCAS occasional
    siao1 → CHRS weekly (quality 3); ticks the Commission SIAO
    chrs1 → SIAO monthly (quality 4); ticks the Commission SIAO
    ccas1 → (no partner) ticks nothing
Commission SIAO: members {SIAO, CHRS, CCAS, UTAS} (|M| = 4, threshold max(2, ⌈4/2⌉) = 2
    strong ties: two carriers, or weekly / monthly).
    CAF strongly tied to SIAO, CHRS, CCAS → 3 → absent; CPAM to SIAO (monthly) only, CCAS
    being occasional with one carrier → 1 → not absent.
    Participants SIAO, CHRS (one respondent each: « < 3 » for a viewer); members not
    declaring CCAS, UTAS.
Convention « Accès aux droits » CAF–UTAS since 2024: no tie CAF–UTAS → « sans vie ».
Partenariats sans cadre: CAF–CCAS (weekly, 1 carrier), CAF–SIAO (weekly, 1 carrier),
    CAF–CHRS (monthly), CPAM–SIAO (monthly): no convention, CAF and CPAM in no instance.
    SIAO–CHRS is weekly but both sit in the commission: framed.
Zones: Nord = 5 structures, Sud = 2. The Sud respondent (cpam1) names logement (SIAO) and
    communes (CCAS) only: Sud × protection, public and emploi are white zones.
Links: CAF–SIAO, CAF–CHRS, CAF–CCAS, CPAM–SIAO, CPAM–CCAS, SIAO–CHRS = 6; declared from
    Sud (cpam1) only: CPAM–SIAO, CPAM–CCAS = 2.
"""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest
from sqlmodel import Session

from survey.directory import normalize_name
from survey.models import (
    Body,
    BodyMember,
    Convention,
    ConventionParty,
    ResponseBody,
    Zone,
    ZoneCommune,
)
from tests.accounts_helpers import login, make_user
from tests.reports.builders import Builder


def build(session: Session) -> tuple[Builder, Body]:
    b = Builder.start(session)
    c26 = b.campaign(2026, "open")
    for key, type_ in (("siao", "siao"), ("chrs", "chrs"), ("ccas", "ccas-cias"),
                       ("utas", "services-departement"), ("caf", "caf"), ("cpam", "cpam"),
                       ("ml", "mission-locale")):  # fmt: skip
        b.org(key, type_)
    for key in ("cpam", "ml"):
        b.orgs[key].commune = "Aubusson"
    for key in ("siao", "chrs", "ccas", "utas", "caf", "cpam", "ml"):
        b.pro(key + "1", key)
    b.invite(c26, *b.pros)
    b.respond(c26, "caf1", [
        {"org": "siao", "nature": "informal", "frequency": "weekly", "quality": 1},
        {"org": "chrs", "nature": "informal", "frequency": "monthly"},
        {"org": "ccas", "nature": "informal", "frequency": "weekly", "quality": 2},
    ])  # fmt: skip
    b.respond(c26, "cpam1", [
        {"org": "siao", "nature": "informal", "frequency": "monthly", "quality": 1},
        {"org": "ccas", "nature": "informal", "frequency": "occasional"},
    ])  # fmt: skip
    siao1 = b.respond(c26, "siao1", [
        {"org": "chrs", "nature": "formal", "frequency": "weekly", "quality": 3,
         "frames": ["commission"]},
    ])  # fmt: skip
    chrs1 = b.respond(c26, "chrs1", [
        {"org": "siao", "nature": "formal", "frequency": "monthly", "quality": 4},
    ])  # fmt: skip
    b.respond(c26, "ccas1", [])
    t = b.territory.id
    body = Body(territory_id=t, name="Commission SIAO", kind="commission", frequency="weekly",
                convener_id=b.orgs["siao"].id)  # fmt: skip
    session.add(body)
    session.flush()
    for key in ("siao", "chrs", "ccas", "utas"):
        session.add(BodyMember(body_id=body.id, organisation_id=b.orgs[key].id))
    for r in (siao1, chrs1):
        session.add(ResponseBody(response_id=r.id, body_id=body.id))
    conv = Convention(territory_id=t, kind="convention", title="Accès aux droits",
                      starts_on=date(2024, 1, 1))  # fmt: skip
    session.add(conv)
    session.flush()
    for key in ("caf", "utas"):
        session.add(ConventionParty(convention_id=conv.id, organisation_id=b.orgs[key].id))
    for name, commune in (("Nord", "Guéret"), ("Sud", "Aubusson")):
        zone = Zone(territory_id=t, name=name, kind="utas")
        session.add(zone)
        session.flush()
        session.add(ZoneCommune(zone_id=zone.id, key=normalize_name(commune), commune=commune))
    other = Builder.start(session, "19", "Corrèze")
    other.campaign(2026, "open")
    other.org("x", "caf")
    other_body = Body(territory_id=other.territory.id, name="Ailleurs")
    session.add(other_body)
    session.commit()
    return b, body


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


def text_of(html: str) -> str:
    """The page's text, tags removed (links and emphasis without a space), spaces squeezed."""
    main = html[html.index("<main") :]
    main = re.sub(r"</?(a|strong|span)\b[^>]*>", "", main)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", main))).replace("\xa0", " ")


def rows(html: str) -> list[list[str]]:
    """The text of every cell of every table row."""
    return [
        [text_of("<main>" + c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)]
        for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S)
    ]


def row(html: str, first_cell: str) -> list[str]:
    """The cells of the first table row whose header cell starts with `first_cell`."""
    for cells in rows(html):
        if cells and cells[0].startswith(first_cell):
            return cells
    raise AssertionError(f"no row {first_cell!r}")


def pair_row(html: str, x: str, y: str) -> list[str]:
    """The counts of the row of pair {x, y} (its two structures in either order)."""
    for cells in rows(html):
        if len(cells) > 2 and {cells[0], cells[1]} == {x, y}:
            return cells[2:]
    raise AssertionError(f"no pair {x}–{y}")


# --- the coordination page -----------------------------------------------------------------


def test_coordinator_sees_the_four_parts_with_exact_counts(coordinator, world):
    b, body = world
    r = coordinator.get("/t/23/coordination?annee=2026")
    assert r.status_code == 200
    html, text = r.text, text_of(r.text)
    for title in ("Instances", "Conventions et partenariats", "Zones", "Qualité des liens"):
        assert f">{title}" in html, title
    # Membres absents: CAF (3 of 4 members) with the button; not CPAM (1 strong tie).
    assert row(html, "CAF")[:2] == ["CAF", "3 sur 4"]
    absent = re.search(r"<details class=\"absent-members\" open>.*?</details>", html, re.S)
    assert absent and "Membres absents : 1 structure" in text
    assert [r[0] for r in rows(absent.group(0))[1:]] == ["CAF"]
    forms = re.findall(
        rf'<form method="post" action="/t/23/instances/{body.id}/membres".*?</form>', html, re.S
    )
    assert len(forms) == 1
    assert f'name="organisation_id" value="{b.orgs["caf"].id}"' in forms[0]
    assert 'name="retour" value="/t/23/coordination?annee=2026#instance-' in forms[0]
    assert 'name="csrf_token"' in forms[0]
    assert "Membres dont personne ne déclare y participer : CCAS, UTAS." in text
    # Conventions: the one without life, and the frequent ties without frame (exact: 1).
    assert row(html, "Accès aux droits")[1:] == ["CAF, UTAS", "1er janvier 2024", "sans fin"]
    frameless = re.search(r'id="without-frame-caption".*?</table>', html, re.S).group(0)
    assert pair_row(frameless, "CAF", "CCAS") == ["1", "1"]
    assert pair_row(frameless, "CPAM", "SIAO") == ["1", "1"]
    assert f'href="/t/23/structures/{b.orgs["caf"].id}?annee=2026"' in frameless
    with pytest.raises(AssertionError):
        pair_row(frameless, "SIAO", "CHRS")  # both members of the commission
    # Zones: one row per zone, then the white zones of Sud.
    zones = re.search(r'id="zones-caption".*?</table>', html, re.S).group(0)
    assert row(zones, "Nord")[1:4] == ["5", "5", "4"]
    assert row(zones, "Sud")[1:4] == ["2", "2", "1"]
    white = re.search(r'id="white-caption".*?</table>', html, re.S).group(0)
    sud = row(white, "Sud")
    assert sud.count("aucun lien") == 3
    # Management pages are linked; no « < 3 » for a coordinator.
    for href in ("/t/23/instances", "/t/23/conventions", "/t/23/zones"):
        assert f'href="{href}"' in html
    assert "&lt; 3" not in zones


def test_the_button_adds_the_member_and_comes_back(coordinator, world):
    b, body = world
    html = coordinator.get("/t/23/coordination?annee=2026").text
    form = re.search(
        rf'<form method="post" action="(/t/23/instances/{body.id}/membres)".*?</form>', html, re.S
    )
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(0)))
    r = coordinator.post(form.group(1), data=fields, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/t/23/coordination?annee=2026#instance-{body.id}"
    html = coordinator.get(r.headers["location"]).text
    # CAF is a member now: 5 members, threshold max(2, ⌈5/2⌉) = 3; CPAM is tied to 2 → none.
    text = text_of(html)
    assert "5 membres officiels" in text and "Membres absents" not in text
    assert "Aucun membre absent" in text


def test_viewer_reads_less_than_three_and_no_button(viewer):
    r = viewer.get("/t/23/coordination")
    assert r.status_code == 200
    html = r.text
    assert "Ajouter comme membre" not in html
    zones = re.search(r'id="zones-caption".*?</table>', html, re.S).group(0)
    # Sud: 2 invited, 1 respondent → « < 3 » both, participation withheld.
    assert row(zones, "Sud")[1:5] == ["2", "< 3", "< 3", "n. d."]
    frameless = re.search(r'id="without-frame-caption".*?</table>', html, re.S).group(0)
    assert pair_row(frameless, "CAF", "CCAS") == ["< 3", "< 3"]
    # The absent members are still named (structures, not people).
    absent = re.search(r"<details class=\"absent-members\" open>.*?</details>", html, re.S)
    assert absent and "Membres absents : 1 structure" in text_of("<main>" + absent.group(0))
    assert row(absent.group(0), "CAF") == ["CAF", "3 sur 4", "< 3"]  # one carrier: caf1


def test_empty_states_say_what_to_do(client, session):
    b = Builder.start(session)
    b.campaign(2026, "open")
    session.commit()
    make_user(session, "coord@example.org", territory=b.territory)
    login(client, "coord@example.org")
    text = text_of(client.get("/t/23/coordination").text)
    assert "Aucune instance enregistrée" in text
    assert "Aucune convention en vigueur en 2026" in text
    assert "Aucune zone définie : importez vos zones" in text


def test_help_explains_the_coordination_figures(client):
    html = client.get("/aide/chiffres").text
    section = re.search(r'<section aria-labelledby="coordination">.*?</section>', html, re.S)
    assert section
    text = text_of("<main>" + section.group(0))
    for term in ("Membres absents", "Convention sans vie", "Partenariat sans cadre",
                 "zone blanche", "Qualité par paire de familles", "« < 3 »"):  # fmt: skip
        assert term in text, term


def test_other_territory_and_bad_year(coordinator):
    assert coordinator.get("/t/19/coordination").status_code == 404
    assert coordinator.get("/t/23/coordination?annee=2019").status_code == 404
    r = coordinator.get("/t/23/coordination?annee=deux")
    assert r.status_code == 400 and "n'est pas une année valide" in unescape(r.text)


# --- quality on the figures page -----------------------------------------------------------


def test_figures_page_carries_quality_and_frames(coordinator, viewer):
    html = viewer.get("/t/23/figures/2026").text
    assert 'id="qualite"' in html
    # protection × logement: caf1 → SIAO (1), cpam1 → SIAO (1): 2 answers, both difficult.
    assert row(html, "Caisses de protection sociale — Hébergement et logement")[1:] == [
        "< 3",
        "< 3",
        "n. d.",
    ]


# --- the zone filter -----------------------------------------------------------------------


def test_zone_filter_keeps_the_zones_declarations(coordinator):
    html = coordinator.get("/t/23/figures/2026").text
    assert re.search(r'<dd id="fig-links">6</dd>', html)
    assert '<option value="Sud">Sud</option>' in html
    html = coordinator.get("/t/23/figures/2026?zone=Sud").text
    # Only cpam1's declarations are left: CAF's ties (declared from Nord) are gone.
    assert re.search(r'<dd id="fig-links">2</dd>', html)
    assert '<option value="Sud" selected>Sud</option>' in html
    assert "zone : Sud" in text_of(html)
    m = coordinator.get("/t/23/carte?annee=2026&zone=Sud").text
    assert m.count('class="node ') == 7  # structures stay, their ties go
    assert "Toutes les zones" in m


def test_unknown_zone_is_a_400(coordinator):
    for url in ("/t/23/carte?zone=Ouest", "/t/23/figures/2026?zone=Ouest",
                "/t/23/carte/tableau?zone=Ouest"):  # fmt: skip
        r = coordinator.get(url)
        assert r.status_code == 400, url
        assert "Zone inconnue" in unescape(r.text)


# --- the instance highlight ----------------------------------------------------------------


def test_instance_highlight_lists_its_members(viewer, world):
    b, body = world
    html = viewer.get(f"/t/23/carte?annee=2026&instance={body.id}").text
    assert f'<option value="{body.id}" selected>Commission SIAO</option>' in html
    section = re.search(r'<section class="instance-members".*?</section>', html, re.S).group(0)
    assert "Membres de l'instance « Commission SIAO » (4)" in unescape(section)
    assert [unescape(n) for n in re.findall(r">([^<>]+)</a></li>", section)] == [
        "CCAS",
        "CHRS",
        "SIAO",
        "UTAS",
    ]
    highlighted = re.findall(r'<a class="node [^"]*highlight[^"]*"[^>]*data-name="([^"]+)"', html)
    assert sorted(highlighted) == ["CCAS", "CHRS", "SIAO", "UTAS"]
    # Another territory's instance, or not an id: 400 in French.
    other = viewer.get(f"/t/23/carte?instance={body.id + 1}")
    assert other.status_code == 400 and "Instance inconnue" in unescape(other.text)
    assert viewer.get("/t/23/carte?instance=abc").status_code == 400


# --- a closed campaign ---------------------------------------------------------------------


def test_a_closed_year_shows_what_was_frozen(coordinator, session, world):
    from reports import snapshot
    from survey.campaigns import get_campaign

    b, body = world
    campaign = get_campaign(session, "23", 2026)
    snapshot.close(session, campaign)
    session.commit()
    # CAF joins the commission after the close: the closed year does not change.
    session.add(BodyMember(body_id=body.id, organisation_id=b.orgs["caf"].id))
    session.commit()
    html = coordinator.get("/t/23/coordination?annee=2026").text
    assert "figés à sa clôture" in text_of(html)
    assert row(html, "CAF")[:2] == ["CAF", "3 sur 4"]
    assert "Ajouter comme membre" not in html  # a closed year's figures are frozen
    # The map highlights the members as frozen, and offers the frozen zones.
    m = coordinator.get(f"/t/23/carte?annee=2026&instance={body.id}&zone=Nord").text
    section = re.search(r'<section class="instance-members".*?</section>', m, re.S).group(0)
    assert "(4)" in section and ">CAF<" not in section
    assert '<option value="Nord" selected>Nord</option>' in m

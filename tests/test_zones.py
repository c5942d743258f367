"""Zones: sub-territories as sets of communes, their import and export, structures placed
by hand, and the pages.

The territory is tests.factories' Creuse miniature (four active structures in Guéret, one
archived without commune, the Corrèze next door) plus two structures added here, in
Aubusson and in Bourganeuf.
"""

from __future__ import annotations

import html
import re

import pytest
from sqlmodel import Session, select

from survey import zones as z
from survey.directory import Invalid, Refused
from survey.models import Organisation, Zone, ZoneCommune
from survey.tabular import Table, read_table
from tests.accounts_helpers import audit_details, login_as, post_form
from tests.factories import build_world


def T(response) -> str:
    """The page text with HTML entities decoded."""
    return html.unescape(response.text)


def _table(text: str) -> Table:
    return read_table(text.encode(), "zones.csv", z.ZONE_ALIASES)


def _add_structures(session: Session, territory_id: int) -> dict[str, Organisation]:
    orgs = {
        "aubusson": Organisation(territory_id=territory_id, name="CCAS d'Aubusson",
                                 type="ccas-cias", commune="Aubusson"),
        "bourganeuf": Organisation(territory_id=territory_id, name="France services de Bourganeuf",
                                   type="france-service", commune="BOURGANEUF"),
    }  # fmt: skip
    session.add_all(orgs.values())
    session.flush()
    return orgs


def _zones(session: Session, territory_id: int) -> dict[str, tuple[str, list[str]]]:
    """Zone name -> (kind, communes) for the territory."""
    session.expire_all()
    return {
        r.zone.name: (r.zone.kind, [c.commune for c in r.communes])
        for r in z.list_zones(session, territory_id)
    }


# --- the rules -----------------------------------------------------------------------------


@pytest.fixture
def w(session):
    world = build_world(session)
    world.orgs.update(_add_structures(session, world.territory.id))
    session.commit()
    return world


def test_create_rename_and_names_taken(session, w):
    zone = z.create_zone(session, w.territory.id, "  UTAS   Nord ", "utas")
    assert (zone.name, zone.kind) == ("UTAS Nord", "utas")
    with pytest.raises(Invalid) as caught:
        z.create_zone(session, w.territory.id, "utas nord", "epci")
    assert caught.value.errors == {"name": "Une zone porte déjà ce nom : « UTAS Nord »."}
    with pytest.raises(Invalid) as caught:
        z.create_zone(session, w.territory.id, "", "pays")
    assert set(caught.value.errors) == {"name", "kind"}
    # The same name in another territory is another zone.
    z.create_zone(session, w.other_territory.id, "UTAS Nord", "utas")
    z.update_zone(session, zone, "UTAS du Nord", "bassin")
    assert (zone.name, zone.kind) == ("UTAS du Nord", "bassin")
    z.update_zone(session, zone, "UTAS DU NORD", "bassin")  # its own name, recased
    session.commit()
    assert list(_zones(session, w.territory.id)) == ["UTAS DU NORD"]


def test_structures_fall_in_their_communes_zone_unless_placed_by_hand(session, w):
    nord = z.create_zone(session, w.territory.id, "Nord", "utas")
    sud = z.create_zone(session, w.territory.id, "Sud", "utas")
    assert z.add_commune(session, nord, "Gueret") is True
    assert z.add_commune(session, nord, "GUÉRET") is False  # already there
    assert z.add_commune(session, sud, "Aubusson") is True
    z.set_structure_zone(session, w.orgs["caf"], sud)
    session.commit()
    zones = z.structure_zones(session, w.territory.id)
    assert zones[w.orgs["ccas"].id] == (nord.id, "Nord")
    assert zones[w.orgs["caf"].id] == (sud.id, "Sud")  # by hand wins
    assert zones[w.orgs["aubusson"].id] == (sud.id, "Sud")
    assert w.orgs["bourganeuf"].id not in zones
    counts = {r.zone.name: r.structures for r in z.list_zones(session, w.territory.id)}
    assert counts == {"Nord": 3, "Sud": 2}  # ccas, siao, msa | caf, aubusson
    placed = {p.organisation.name: p for p in z.placements(session, w.territory.id)}
    assert placed["CAF de la Creuse"].by_commune.name == "Nord"
    assert placed["CAF de la Creuse"].zone.name == "Sud"
    z.set_structure_zone(session, w.orgs["caf"], None)
    assert z.structure_zones(session, w.territory.id)[w.orgs["caf"].id] == (nord.id, "Nord")
    with pytest.raises(Refused):
        z.set_structure_zone(session, w.orgs["old"], sud)  # archived


def test_add_commune_refusals(session, w):
    nord = z.create_zone(session, w.territory.id, "Nord", "utas")
    sud = z.create_zone(session, w.territory.id, "Sud", "utas")
    z.add_commune(session, nord, "Guéret")
    with pytest.raises(Invalid) as caught:
        z.add_commune(session, sud, "gueret")
    assert caught.value.errors["commune"].startswith(
        "Chevauchement : « gueret » est déjà dans la zone « Nord »"
    )
    with pytest.raises(Invalid) as caught:
        z.add_commune(session, sud, "Aubuson")
    assert "Commune inconnue" in caught.value.errors["commune"]
    assert "Vouliez-vous dire « Aubusson » ?" in caught.value.errors["commune"]
    with pytest.raises(Invalid):
        z.add_commune(session, sud, "  ")
    assert z.add_commune(session, sud, "Felletin", accept_unknown=True) is True


def test_delete_clears_structures_placed_by_hand(session, w):
    nord = z.create_zone(session, w.territory.id, "Nord", "utas")
    z.add_commune(session, nord, "Guéret")
    z.set_structure_zone(session, w.orgs["aubusson"], nord)
    session.commit()
    nord_id = nord.id
    assert z.delete_zone(session, nord) == 1
    session.commit()
    session.expire_all()
    assert session.get(Organisation, w.orgs["aubusson"].id).zone_id is None
    assert session.exec(select(ZoneCommune).where(ZoneCommune.zone_id == nord_id)).all() == []
    assert z.structure_zones(session, w.territory.id) == {}


def test_remove_commune(session, w):
    nord = z.create_zone(session, w.territory.id, "Nord", "utas")
    z.add_commune(session, nord, "Guéret")
    assert z.remove_commune(session, nord, "gueret").commune == "Guéret"
    assert z.remove_commune(session, nord, "gueret") is None
    assert z.communes_of(session, nord) == []


# --- import and export (domain) ------------------------------------------------------------

GOOD = "commune;zone;type\nGuéret;UTAS Nord;UTAS\nBOURGANEUF;UTAS Nord;\nAubusson;Bassin Sud;bassin de vie\n"


def test_good_file_creates_zones_and_adds_communes(session, w):
    preview = z.preview_zone_import(session, w.territory.id, _table(GOOD))
    assert preview.ok, [line.errors for line in preview.lines]
    assert [(line.action, line.note) for line in preview.lines] == [
        ("add", "nouvelle zone"), ("add", ""), ("add", "nouvelle zone")]  # fmt: skip
    assert z.zone_import_summary(preview) == "3 commune(s) à ajouter, 0 déjà là, 2 zone(s) à créer."
    assert _zones(session, w.territory.id) == {}  # the preview writes nothing
    z.apply_zone_import(session, w.territory.id, _table(GOOD))
    session.commit()
    assert _zones(session, w.territory.id) == {
        "Bassin Sud": ("bassin", ["Aubusson"]),
        "UTAS Nord": ("utas", ["BOURGANEUF", "Guéret"]),
    }
    # Again: every commune is « déjà là », nothing is added or removed.
    again = "commune;zone\nGUERET;utas nord\n"
    preview = z.preview_zone_import(session, w.territory.id, _table(again))
    assert preview.ok and [line.action for line in preview.lines] == ["present"]
    z.apply_zone_import(session, w.territory.id, _table(again))
    session.commit()
    assert _zones(session, w.territory.id)["UTAS Nord"] == ("utas", ["BOURGANEUF", "Guéret"])
    headers, rows = z.export_zones(session, w.territory.id)
    assert headers == ["commune", "zone", "type"]
    assert rows == [["Aubusson", "Bassin Sud", "bassin"], ["BOURGANEUF", "UTAS Nord", "utas"],
                    ["Guéret", "UTAS Nord", "utas"]]  # fmt: skip


@pytest.mark.parametrize(
    "line, message",
    [
        ("Gueret;Autre zone;", "Chevauchement : « Gueret » figure déjà ligne 2 dans la zone « UTAS Nord »"),
        ("Guéret;UTAS Nord;UTAS", "Cette ligne figure déjà ligne 2."),
        ("Aubuson;Bassin Sud;", "Commune inconnue : aucune structure de l'annuaire n'est à « Aubuson ». "
                                "Vouliez-vous dire « Aubusson » ?"),
        ("Felletin;Bassin Sud;", "Commune inconnue"),
        (";Bassin Sud;", "La commune est vide."),
        ("Aubusson;;", "Le nom de la zone est vide."),
        ("Aubusson;Bassin Sud;canton", "Type de zone « canton » inconnu"),
        ("Aubusson;UTAS Nord;EPCI", "La zone « UTAS Nord » a le type « UTAS » ligne 2."),
    ],
)  # fmt: skip
def test_each_bad_line_is_named_and_nothing_is_written(session, w, line, message):
    text = "commune;zone;type\nGuéret;UTAS Nord;UTAS\n" + line + "\n"
    preview = z.preview_zone_import(session, w.territory.id, _table(text))
    assert not preview.ok
    assert [e.line for e in preview.error_lines] == [3]
    assert any(message in e for e in preview.error_lines[0].errors), preview.error_lines[0].errors
    with pytest.raises(Refused):
        z.apply_zone_import(session, w.territory.id, _table(text))
    session.rollback()
    assert _zones(session, w.territory.id) == {}


def test_a_commune_of_another_zone_overlaps(session, w):
    sud = z.create_zone(session, w.territory.id, "Sud", "epci")
    z.add_commune(session, sud, "Aubusson")
    session.commit()
    text = "commune;zone;type\nAubusson;Nord;\nGuéret;Sud;utas\n"
    preview = z.preview_zone_import(session, w.territory.id, _table(text))
    assert preview.error_lines[0].errors == [
        "Chevauchement : « Aubusson » est déjà dans la zone « Sud » ; "
        "une commune n'appartient qu'à une zone."
    ]
    assert preview.error_lines[1].errors == [
        "La zone « Sud » est du type « EPCI » : corrigez la colonne type ou modifiez la zone."
    ]


def test_unknown_communes_can_be_accepted_but_not_overlaps(session, w):
    text = "commune;zone\nFelletin;Sud\nAubusson;Sud\n"
    assert not z.preview_zone_import(session, w.territory.id, _table(text)).ok
    preview = z.preview_zone_import(session, w.territory.id, _table(text), accept_unknown=True)
    assert preview.ok
    assert "Cochez" not in str(preview.lines)
    z.apply_zone_import(session, w.territory.id, _table(text), accept_unknown=True)
    session.commit()
    assert _zones(session, w.territory.id) == {"Sud": ("autre", ["Aubusson", "Felletin"])}
    overlap = "commune;zone\nfelletin;Nord\n"
    preview = z.preview_zone_import(session, w.territory.id, _table(overlap), accept_unknown=True)
    assert "Chevauchement" in preview.error_lines[0].errors[0]


def test_missing_columns(session, w):
    preview = z.preview_zone_import(session, w.territory.id, _table("commune;secteurs\nGuéret;x\n"))
    assert "« zone »" in preview.file_errors[0]


# --- pages ---------------------------------------------------------------------------------

USERS = {
    "coord@creuse.fr": ("coordinator", "23"),
    "lecteur@creuse.fr": ("viewer", "23"),
    "coord@correze.fr": ("coordinator", "19"),
}


@pytest.fixture
def world(engine):
    with Session(engine) as s:
        built = build_world(s)
        built.orgs.update(_add_structures(s, built.territory.id))
        ids = {k: o.id for k, o in built.orgs.items()}
        ids["territory"] = built.territory.id
        ids["foreign"] = built.foreign_org.id
        s.commit()
    return ids


def _login(client, engine, email: str) -> None:
    login_as(client, engine, email, *USERS[email])


def _post(client, url, data=None, files=None, token_page="/t/23/zones"):
    return post_form(client, url, token_page, data, files)


def _stored(engine, territory_id: int):
    with Session(engine) as s:
        return _zones(s, territory_id)


def _audits(engine, action: str) -> list[str]:
    return audit_details(engine, action)


def _zone_id(engine, name: str) -> int:
    with Session(engine) as s:
        return s.exec(select(Zone).where(Zone.name == name)).one().id


def test_coordinator_manages_a_zone_through_the_pages(client, world, engine):
    _login(client, engine, "coord@creuse.fr")
    bad = _post(client, "/t/23/zones/nouvelle", {"name": "", "kind": "utas"})
    assert bad.status_code == 400 and "Indiquez le nom de la zone." in T(bad)
    ok = _post(client, "/t/23/zones/nouvelle", {"name": "UTAS Nord", "kind": "utas"})
    assert ok.status_code == 303
    zone_id = _zone_id(engine, "UTAS Nord")
    page = f"/t/23/zones/{zone_id}"
    assert "La zone a été créée" in T(client.get(ok.headers["location"]))

    unknown = _post(client, f"{page}/communes", {"commune": "Gueret-Ville"}, token_page=page)
    assert unknown.status_code == 400 and "Commune inconnue" in T(unknown)
    assert 'value="Gueret-Ville"' in T(unknown)
    added = _post(client, f"{page}/communes", {"commune": "gueret"}, token_page=page)
    assert added.status_code == 303
    text = T(client.get(page))
    assert "gueret" in text and "CCAS de Guéret" in text and "Retirer" in text
    assert _post(client, f"{page}/communes", {"commune": "Felletin", "accepter": "1"},
                 token_page=page).status_code == 303  # fmt: skip
    assert _stored(engine, world["territory"]) == {"UTAS Nord": ("utas", ["Felletin", "gueret"])}

    removed = _post(client, f"{page}/communes/retirer", {"commune": "felletin"}, token_page=page)
    assert removed.status_code == 303
    missing = _post(client, f"{page}/communes/retirer", {"commune": "felletin"}, token_page=page)
    assert missing.status_code == 404

    renamed = _post(client, f"{page}/modifier", {"name": "UTAS de Guéret", "kind": "utas"},
                    token_page=page)  # fmt: skip
    assert renamed.status_code == 303
    assert _audits(engine, "zone.update") == ["« UTAS Nord » renommée « UTAS de Guéret »"]

    listing = T(client.get("/t/23/zones"))
    assert "UTAS de Guéret" in listing and "gueret" in listing

    # Place the CCAS d'Aubusson by hand, then back to its commune.
    structures = "/t/23/zones/structures"
    r = _post(
        client, f"{structures}/{world['aubusson']}", {"zone": str(zone_id)}, token_page=structures
    )
    assert r.status_code == 303
    assert "à la main" in T(client.get(structures))
    with Session(engine) as s:
        assert s.get(Organisation, world["aubusson"]).zone_id == zone_id
    assert _post(client, f"{structures}/{world['aubusson']}", {"zone": "abc"},
                 token_page=structures).status_code == 404  # fmt: skip
    assert _post(client, f"{structures}/{world['old']}", {"zone": str(zone_id)},
                 token_page=structures).status_code == 409  # fmt: skip

    confirm = client.get(f"{page}/supprimer")
    assert "CCAS d'Aubusson" in T(confirm) and "retrouvera la zone de sa commune" in T(confirm)
    assert _post(client, f"{page}/supprimer", token_page=page).status_code == 303
    assert _stored(engine, world["territory"]) == {}
    with Session(engine) as s:
        assert s.get(Organisation, world["aubusson"]).zone_id is None
    assert _audits(engine, "zone.delete") == [
        "UTAS de Guéret : 1 commune(s), 1 structure(s) placée(s) à la main"]  # fmt: skip


def test_import_preview_option_and_confirm(client, world, engine):
    _login(client, engine, "coord@creuse.fr")
    page = "/t/23/zones/import"
    form = T(client.get(page))
    assert "Accepter les communes où l'annuaire n'a encore aucune structure" in form
    text = "commune;zone\nGuéret;Nord\nFelletin;Sud\ngueret;Sud\n"
    r = _post(client, page, files={"fichier": ("z.csv", text.encode("cp1252"), "text/csv")},
              token_page=page)  # fmt: skip
    assert r.status_code == 422
    assert "Ligne 3 : Commune inconnue" in T(r)
    assert "Ligne 4 : Chevauchement : « gueret » figure déjà ligne 2 dans la zone « Nord »" in T(r)
    assert _stored(engine, world["territory"]) == {}

    text = "commune;zone\nGuéret;Nord\nFelletin;Sud\n"
    refused = _post(client, page, files={"fichier": ("z.csv", text.encode(), "text/csv")},
                    token_page=page)  # fmt: skip
    assert refused.status_code == 422
    r = _post(client, page, {"accepter": "1"},
              files={"fichier": ("z.csv", text.encode(), "text/csv")}, token_page=page)  # fmt: skip
    assert r.status_code == 200
    assert "2 commune(s) à ajouter, 0 déjà là, 2 zone(s) à créer." in T(r)
    assert _stored(engine, world["territory"]) == {}
    payload = re.search(r'name="payload" value="([^"]+)"', T(r)).group(1)
    ok = _post(
        client, f"{page}/confirmer", {"payload": payload, "filename": "z.csv"}, token_page=page
    )
    assert ok.status_code == 303
    assert _stored(engine, world["territory"]) == {
        "Nord": ("autre", ["Guéret"]), "Sud": ("autre", ["Felletin"])}  # fmt: skip
    assert _audits(engine, "zone.import") == ["2 commune(s) ajoutée(s), 2 zone(s) créée(s)"]
    # A tampered payload is refused in French; a conventions import does not take it.
    bad = _post(client, f"{page}/confirmer", {"payload": payload[:-4] + "AAAA"}, token_page=page)
    assert bad.status_code == 400 and "envoyez le fichier à nouveau" in T(bad)
    other = _post(
        client, "/t/23/conventions/import/confirmer", {"payload": payload}, token_page=page
    )
    assert other.status_code == 400
    export = client.get("/t/23/zones/export?format=csv-excel")
    assert read_table(export.content, "z.csv").rows == [
        {"commune": "Guéret", "zone": "Nord", "type": "autre"},
        {"commune": "Felletin", "zone": "Sud", "type": "autre"},
    ]
    assert client.get("/t/23/zones/export?format=pdf").status_code == 400


def test_bad_upload_is_a_french_4xx(client, world, engine):
    _login(client, engine, "coord@creuse.fr")
    page = "/t/23/zones/import"
    r = _post(client, page, files={"fichier": ("z.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 50,
                                                "application/vnd.ms-excel")}, token_page=page)  # fmt: skip
    assert r.status_code == 400 and ".xls" in T(r)
    r = _post(client, page, token_page=page)
    assert r.status_code == 400 and "Choisissez un fichier" in T(r)


def _one_zone(engine, world) -> int:
    with Session(engine) as s:
        zone = z.create_zone(s, world["territory"], "Zone témoin", "epci")
        z.add_commune(s, zone, "Guéret")
        s.commit()
        return zone.id


def test_viewer_reads_but_cannot_write(client, world, engine):
    zone_id = _one_zone(engine, world)
    _login(client, engine, "lecteur@creuse.fr")
    assert "Zone témoin" in T(client.get("/t/23/zones"))
    detail = T(client.get(f"/t/23/zones/{zone_id}"))
    assert "Guéret" in detail and "Retirer" not in detail
    assert "Zone témoin" in T(client.get("/t/23/zones/structures"))
    assert "Zone témoin" in client.get("/t/23/zones/export").text
    for url in ("/t/23/zones/nouvelle", "/t/23/zones/import", f"/t/23/zones/{zone_id}/supprimer"):
        assert client.get(url).status_code == 403, url
    for url, data in (
        ("/t/23/zones/nouvelle", {"name": "x", "kind": "utas"}),
        (f"/t/23/zones/{zone_id}/supprimer", {}),
        (f"/t/23/zones/{zone_id}/communes/retirer", {"commune": "gueret"}),
        (f"/t/23/zones/structures/{world['caf']}", {"zone": str(zone_id)}),
    ):
        assert _post(client, url, data).status_code == 403, url
    assert _stored(engine, world["territory"]) == {"Zone témoin": ("epci", ["Guéret"])}


def test_another_territorys_zones_are_404(client, world, engine):
    zone_id = _one_zone(engine, world)
    _login(client, engine, "coord@correze.fr")
    page = "/t/19/zones"
    assert "Zone témoin" not in T(client.get(page))
    for url in (f"/t/19/zones/{zone_id}", f"/t/19/zones/{zone_id}/modifier",
                f"/t/19/zones/{zone_id}/supprimer"):  # fmt: skip
        assert client.get(url).status_code == 404, url
    for url, data in (
        (f"/t/19/zones/{zone_id}/supprimer", {}),
        (f"/t/19/zones/{zone_id}/modifier", {"name": "x", "kind": "utas"}),
        (f"/t/19/zones/{zone_id}/communes/retirer", {"commune": "gueret"}),
        (f"/t/19/zones/structures/{world['caf']}", {"zone": "commune"}),
    ):
        assert _post(client, url, data, token_page=page).status_code == 404, url
    # A Corrèze structure cannot be placed in a Creuse zone.
    r = _post(client, f"/t/19/zones/structures/{world['foreign']}", {"zone": str(zone_id)},
              token_page=page)  # fmt: skip
    assert r.status_code == 404
    assert client.get(f"/t/23/zones/{zone_id}").status_code in (403, 404)
    assert _stored(engine, world["territory"]) == {"Zone témoin": ("epci", ["Guéret"])}
    with Session(engine) as s:
        assert s.get(Organisation, world["foreign"]).zone_id is None

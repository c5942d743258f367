"""Instances (bodies) managed by coordinators: the rules (survey/instances.py), the pages
(app/routes/instances.py), the import and export, isolation between territories and the
viewer's read-only access. Every test runs on SQLite and, with TEST_DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

import html
import io
import re

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from survey import directory as d
from survey import instances as inst
from survey.models import Body, BodyMember, Organisation
from survey.questionnaire import bodies_to_show
from survey.tabular import Table, read_table, write_csv
from tests.accounts_helpers import audit_details, login_as, post_form
from tests.factories import build_world
from tests.test_isolation import creuse_rows, snapshot

SIAO_BODY = "Commission SIAO hebdomadaire"


def T(response) -> str:
    """The page text with HTML entities decoded (apostrophes come escaped)."""
    return html.unescape(response.text)


def _table(csv_text: str) -> Table:
    return read_table(csv_text.encode("utf-8"), "instances.csv", inst.INSTANCE_ALIASES)


def _members(session: Session, body: Body) -> list[str]:
    return [o.name for o in inst.instance_row(session, body).members]


def _body(session: Session, territory_id: int, name: str) -> Body:
    return session.exec(
        select(Body).where(Body.territory_id == territory_id, Body.name == name)
    ).one()


def _merge_ccas_duplicate(session: Session, w) -> Organisation:
    """« CCAS Guéret » proposed by a respondent, then merged into « CCAS de Guéret »."""
    dup = Organisation(territory_id=w.territory.id, name="CCAS Guéret", type="ccas-cias",
                       status="proposed")  # fmt: skip
    session.add(dup)
    session.flush()
    d.merge_structures(session, dup, w.orgs["ccas"])
    session.commit()
    return dup


# --- the rules -----------------------------------------------------------------------------


def test_create_cleans_stores_and_lists_with_members(session):
    w = build_world(session)
    caf, ccas, siao = w.orgs["caf"], w.orgs["ccas"], w.orgs["siao"]
    data = inst.InstanceData(
        name="  Commission   logement ",
        kind="commission",
        convener_id=siao.id,
        frequency="monthly",
        thematiques=["sante", "logement-hebergement", "sante"],
        description=" Les demandes de logement d'urgence. ",
    )
    body = inst.create_instance(session, w.territory.id, data, [ccas.id, caf.id, ccas.id])
    session.commit()
    assert (body.name, body.active, body.convener_id) == ("Commission logement", True, siao.id)
    # Thématiques in the vocabulary's order, each once.
    assert body.thematiques == "logement-hebergement,sante"
    rows = inst.list_instances(session, w.territory.id)
    assert [r.body.name for r in rows] == ["Commission logement", SIAO_BODY]
    row = rows[0]
    assert [o.name for o in row.members] == ["CAF de la Creuse", "CCAS de Guéret"]
    assert (row.kind_label, row.frequency_label) == ("Commission", "Chaque mois")
    assert row.thematique_labels == ["Logement et hébergement", "Santé"]
    assert row.convener is not None and row.convener.name == "SIAO de la Creuse"
    # Another territory never sees it.
    assert inst.list_instances(session, w.other_territory.id) == []
    assert inst.get_instance(session, w.other_territory.id, body.id) is None


def test_validation_gives_french_messages_per_field(session):
    w = build_world(session)
    with pytest.raises(d.Invalid) as exc:
        inst.create_instance(
            session,
            w.territory.id,
            inst.InstanceData(name="commission siao HEBDOMADAIRE", kind="comite",
                              frequency="daily", thematiques=["jardinage"],
                              description="x" * 501, convener_id=w.foreign_org.id),
            [w.orgs["old"].id],
        )  # fmt: skip
    errors = exc.value.errors
    assert errors == {
        "name": f"Une instance porte déjà ce nom : « {SIAO_BODY} ».",
        "kind": "Choisissez un type d'instance dans la liste.",
        "frequency": "Choisissez une fréquence dans la liste (ou « non précisée »).",
        "thematiques": "Une thématique cochée n'est pas dans la liste : cochez-les à nouveau.",
        "description": "La description est trop longue : 500 caractères au maximum.",
        "convener_id": "Choisissez la structure porteuse dans la liste.",
        "members": "« Ancienne association » est archivée : seule une structure active peut "
        "être choisie.",
    }
    for name, message in (
        ("   ", "Indiquez le nom de l'instance."),
        ("x" * 201, "Le nom est trop long : 200 caractères au maximum."),
    ):
        with pytest.raises(d.Invalid) as exc:
            inst.create_instance(session, w.territory.id, inst.InstanceData(name=name))
        assert exc.value.errors == {"name": message}
    # Another territory's structure is not a member candidate either.
    with pytest.raises(d.Invalid) as exc:
        inst.create_instance(
            session, w.territory.id, inst.InstanceData(name="Réseau"), [w.foreign_org.id]
        )
    assert exc.value.errors == {
        "members": "Un des membres cochés n'est pas une structure du répertoire."
    }
    with pytest.raises(d.Invalid) as exc:
        inst.create_instance(session, w.territory.id, inst.InstanceData(name="Réseau\x07"))
    assert "caractère invisible" in exc.value.errors["name"]
    session.rollback()
    assert [b.name for b in session.exec(select(Body))] == [SIAO_BODY]


def test_members_add_remove_and_merged_structures(session):
    w = build_world(session)
    body = w.bodies["siao"]
    org, added = inst.add_member(session, body, w.orgs["caf"].id)
    assert (org.name, added) == ("CAF de la Creuse", True)
    assert inst.add_member(session, body, w.orgs["caf"].id)[1] is False  # already a member
    # A structure merged since stands for the one it was merged into.
    dup = _merge_ccas_duplicate(session, w)
    org, added = inst.add_member(session, body, dup.id)
    assert (org.name, added) == ("CCAS de Guéret", True)
    assert inst.add_member(session, body, w.orgs["ccas"].id)[1] is False
    assert _members(session, body) == ["CAF de la Creuse", "CCAS de Guéret"]
    with pytest.raises(d.Refused) as exc:
        inst.add_member(session, body, w.orgs["old"].id)
    assert "archivée" in exc.value.message
    for foreign in (w.foreign_org.id, 999_999):
        with pytest.raises(inst.UnknownStructure):
            inst.add_member(session, body, foreign)
    removed = inst.remove_member(session, body, w.orgs["ccas"].id)
    assert removed.name == "CCAS de Guéret"
    with pytest.raises(d.Refused) as exc:
        inst.remove_member(session, body, w.orgs["ccas"].id)
    assert exc.value.message == "« CCAS de Guéret » n'est pas membre de cette instance."
    session.commit()
    assert _members(session, body) == ["CAF de la Creuse"]


def test_a_member_merged_later_is_read_as_its_target_once(session):
    w = build_world(session)
    dup = Organisation(territory_id=w.territory.id, name="CCAS Guéret", type="ccas-cias")
    session.add(dup)
    session.flush()
    body = inst.create_instance(
        session, w.territory.id, inst.InstanceData(name="CLIC"), [dup.id, w.orgs["ccas"].id]
    )
    body.convener_id = dup.id
    session.commit()
    d.merge_structures(session, dup, w.orgs["ccas"])
    session.commit()
    row = inst.instance_row(session, body)
    assert [o.name for o in row.members] == ["CCAS de Guéret"]
    assert row.convener is not None and row.convener.name == "CCAS de Guéret"
    # Removing the target removes the rows that named the merged structure too.
    inst.remove_member(session, body, w.orgs["ccas"].id)
    session.commit()
    assert session.exec(select(BodyMember).where(BodyMember.body_id == body.id)).all() == []


def test_update_replaces_members_and_keeps_an_archived_one(session):
    w = build_world(session)
    caf, ccas, msa = w.orgs["caf"], w.orgs["ccas"], w.orgs["msa"]
    body = inst.create_instance(
        session, w.territory.id, inst.InstanceData(name="Cellule MSA"), [caf.id, msa.id]
    )
    session.commit()
    d.archive_structure(session, msa)  # archived since it joined
    session.commit()
    data = inst.data_of(body)
    data.frequency = "quarterly"
    inst.update_instance(session, body, data, [msa.id, ccas.id])
    session.commit()
    assert _members(session, body) == ["CCAS de Guéret", "MSA du Limousin"]
    assert body.frequency == "quarterly"
    # Without member ids the members stay as they are.
    inst.update_instance(session, body, inst.InstanceData(name="Cellule MSA", kind="reseau"))
    session.commit()
    assert _members(session, body) == ["CCAS de Guéret", "MSA du Limousin"]
    # An archived structure that is not a member yet cannot join.
    with pytest.raises(d.Invalid) as exc:
        inst.update_instance(session, body, inst.data_of(body), [w.orgs["old"].id])
    assert "archivée" in exc.value.errors["members"]


def test_archive_restore_and_the_questionnaire_list(session):
    w = build_world(session)
    body = inst.create_instance(session, w.territory.id, inst.InstanceData(name="Réseau santé"))
    session.commit()
    shown = [b.name for b in bodies_to_show(session, w.territory.id)]
    assert shown == [SIAO_BODY, "Réseau santé"]
    inst.archive_instance(session, body)
    session.commit()
    assert [b.name for b in bodies_to_show(session, w.territory.id)] == [SIAO_BODY]
    # Whoever ticked it still sees it.
    assert "Réseau santé" in [b.name for b in bodies_to_show(session, w.territory.id, [body.id])]
    with pytest.raises(d.Refused, match="déjà archivée"):
        inst.archive_instance(session, body)
    inst.restore_instance(session, body)
    with pytest.raises(d.Refused, match="n'est pas archivée"):
        inst.restore_instance(session, body)


# --- import and export (rules) -------------------------------------------------------------

GOOD = (
    "nom;type;structure_porteuse;frequence;thematiques;membres;description\n"
    "Commission SIAO hebdomadaire;commission;SIAO de la Creuse;Chaque semaine;"
    "logement-hebergement;caf de la creuse | CCAS de Gueret;Orientations\n"
    "Réseau santé;Réseau;;monthly;Santé | Mobilité;MSA du Limousin;\n"
)


def test_import_creates_and_updates_then_export_reads_back(session):
    w = build_world(session)
    inst.add_member(session, w.bodies["siao"], w.orgs["msa"].id)
    session.commit()
    table = _table(GOOD)
    preview = inst.preview_instance_import(session, w.territory.id, table)
    assert preview.ok, [line.errors for line in preview.lines]
    assert [line.action for line in preview.lines] == ["update", "create"]
    assert inst.import_summary(preview) == "1 instance(s) à créer, 1 à mettre à jour."
    assert session.exec(select(Body).where(Body.name == "Réseau santé")).first() is None
    inst.apply_instance_import(session, w.territory.id, table)
    session.commit()
    siao = _body(session, w.territory.id, SIAO_BODY)
    assert (siao.kind, siao.frequency, siao.thematiques) == (
        "commission",
        "weekly",
        "logement-hebergement",
    )
    assert siao.convener_id == w.orgs["siao"].id and siao.description == "Orientations"
    # The members of the file replaced the MSA.
    assert _members(session, siao) == ["CAF de la Creuse", "CCAS de Guéret"]
    sante = _body(session, w.territory.id, "Réseau santé")
    assert (sante.kind, sante.frequency, sante.thematiques) == (
        "reseau",
        "monthly",
        "mobilite,sante",
    )
    assert _members(session, sante) == ["MSA du Limousin"]
    assert inst.import_audit(preview) == "1 créée(s), 1 mise(s) à jour"

    headers, rows = inst.export_instances(session, w.territory.id)
    assert headers == inst.INSTANCE_COLUMNS
    assert rows[0] == ["Commission SIAO hebdomadaire", "Commission", "SIAO de la Creuse",
                       "Chaque semaine", "Logement et hébergement",
                       "CAF de la Creuse | CCAS de Guéret", "Orientations"]  # fmt: skip
    # The export imports back unchanged: every line an update, nothing moves.
    exported = read_table(write_csv(headers, rows, excel_fr=True), "x.csv", inst.INSTANCE_ALIASES)
    before = [(r.body.name, r.body.kind, r.body.thematiques, [o.id for o in r.members])
              for r in inst.list_instances(session, w.territory.id)]  # fmt: skip
    preview = inst.preview_instance_import(session, w.territory.id, exported)
    assert preview.ok and [line.action for line in preview.lines] == ["update", "update"]
    inst.apply_instance_import(session, w.territory.id, exported)
    session.commit()
    after = [(r.body.name, r.body.kind, r.body.thematiques, [o.id for o in r.members])
             for r in inst.list_instances(session, w.territory.id)]  # fmt: skip
    assert after == before


def test_import_absent_columns_keep_values_and_merged_names_resolve(session):
    w = build_world(session)
    dup = _merge_ccas_duplicate(session, w)
    body = w.bodies["siao"]
    body.frequency, body.thematiques = "weekly", "sante"
    session.commit()
    inst.apply_instance_import(
        session, w.territory.id, _table(f"Nom;Membres\n{SIAO_BODY};{dup.name}|CCAS de Guéret\n")
    )
    session.commit()
    body = _body(session, w.territory.id, SIAO_BODY)
    assert (body.frequency, body.thematiques) == ("weekly", "sante")
    assert _members(session, body) == ["CCAS de Guéret"]


HEAD = "nom;type;structure_porteuse;frequence;thematiques;membres;description\n"


@pytest.mark.parametrize(
    "line, message",
    [
        ("Réseau;;;;;CAF de la Creusse;",
         "Membre « CAF de la Creusse » inconnu : vouliez-vous dire « CAF de la Creuse » ?"),
        ("Réseau;;;;;Boulangerie Martin;",
         "Membre « Boulangerie Martin » inconnu : ajoutez la structure d'abord au répertoire."),
        ("Réseau;;;;;CAF de la Corrèze;",  # another territory's structure is unknown here
         "Membre « CAF de la Corrèze » inconnu : vouliez-vous dire « CAF de la Creuse » ?"),
        ("Réseau;;Siao Creuse;;;;",
         "Structure porteuse « Siao Creuse » inconnue : vouliez-vous dire « SIAO de la Creuse » ?"),
        ("Réseau;;;;;Ancienne association;",
         "Membres : « Ancienne association » est archivée : seule une structure active peut "
         "être choisie."),
        ("Réseau;;Ancienne association;;;;",
         "Structure porteuse : « Ancienne association » est archivée"),
        ("Réseau;comité;;;;;", "Type « comité » inconnu : choisissez parmi « Commission »"),
        ("Réseau;;;tous les jours;;;", "Fréquence « tous les jours » inconnue"),
        ("Réseau;;;;Logement;;",
         "Thématique « Logement » inconnue : vouliez-vous dire « Logement et hébergement » ?"),
        ("Réseau;;;;Jardinage;;",
         "Thématique « Jardinage » inconnue : voir la liste des thématiques de data·inclusion."),
        (";commission;;;;;", "Indiquez le nom de l'instance."),
        ("x" * 201 + ";;;;;;", "Le nom est trop long : 200 caractères au maximum."),
        ("Réseau;;;;;;" + "x" * 501, "La description est trop longue : 500 caractères"),
        ("Réseau;;;;;;\x07", "caractère invisible"),
        ("Réseau;;;;;;\nréseau;;;;;;", "Cette instance figure déjà ligne 2."),
    ],
)  # fmt: skip
def test_import_refuses_each_bad_line_and_writes_nothing(session, line, message):
    w = build_world(session)
    table = _table(HEAD + line + "\n")
    before = snapshot(session, creuse_rows(session, w.territory.id))
    preview = inst.preview_instance_import(session, w.territory.id, table)
    assert not preview.ok
    errors = [e for line in preview.lines for e in line.errors]
    assert any(message in e for e in errors), errors
    with pytest.raises(d.Refused):
        inst.apply_instance_import(session, w.territory.id, table)
    session.rollback()
    assert snapshot(session, creuse_rows(session, w.territory.id)) == before


def test_import_file_problems(session):
    w = build_world(session)
    preview = inst.preview_instance_import(session, w.territory.id, _table("titre;membres\nX;\n"))
    assert preview.file_errors[0].startswith("Colonne obligatoire absente : « nom ».")
    preview = inst.preview_instance_import(session, w.territory.id, _table("nom;membres\n"))
    assert preview.file_errors == ["Le fichier ne contient aucune ligne de données."]


# --- the pages -----------------------------------------------------------------------------


@pytest.fixture
def world(engine):
    with Session(engine) as s:
        w = build_world(s)
        return {
            "territory": w.territory.id,
            "other": w.other_territory.id,
            **{k: o.id for k, o in w.orgs.items()},
            "foreign": w.foreign_org.id,
            "siao_body": w.bodies["siao"].id,
            "token_bruno": w.tokens["bruno"],
        }


USERS = {
    "coord@creuse.fr": ("coordinator", "23"),
    "lecteur@creuse.fr": ("viewer", "23"),
    "coord@correze.fr": ("coordinator", "19"),
}


def _login(client, engine, email: str) -> None:
    login_as(client, engine, email, *USERS[email])


def _post(client, url, data=None, token_page="/t/23/instances", **kw):
    return post_form(client, url, token_page, data, **kw)


def _audits(engine, action: str) -> list[str]:
    return audit_details(engine, action)


class Unchanged:
    """Every row of the given territories, to check that a refused write changed nothing."""

    def __init__(self, engine, *territory_ids: int) -> None:
        self.engine = engine
        with Session(engine) as s:
            self.owned = [creuse_rows(s, t) for t in territory_ids]
            self.before = [snapshot(s, owned) for owned in self.owned]

    def check(self) -> None:
        with Session(self.engine) as s:
            assert [snapshot(s, owned) for owned in self.owned] == self.before


def _instance(engine, name: str) -> tuple[int, list[str]]:
    with Session(engine) as s:
        body = s.exec(select(Body).where(Body.name == name)).one()
        return body.id, _members(s, body)


def test_create_form_errors_then_success(client, world, engine):
    _login(client, engine, "coord@creuse.fr")
    form = client.get("/t/23/instances/nouvelle")
    assert form.status_code == 200
    page = T(form)
    # Structures as checkboxes grouped by family; thématiques as checkboxes; no script needed.
    assert "<legend>Caisses de protection sociale</legend>" in page
    assert f'name="members" value="{world["caf"]}"' in page
    assert 'name="thematiques" value="sante"' in page
    assert "Ancienne association" not in page and "CAF de la Corrèze" not in page
    fields = {"name": "", "kind": "commission", "frequency": "weekly",
              "convener_id": str(world["siao"]), "description": "Orientations du 115",
              "thematiques": ["logement-hebergement"], "members": [str(world["caf"])]}  # fmt: skip
    bad = _post(client, "/t/23/instances/nouvelle", fields)
    assert bad.status_code == 400
    page = T(bad)
    assert "Rien n'a été enregistré" in page and 'href="#name"' in page
    assert "Indiquez le nom de l'instance." in page
    # What was typed and ticked is kept.
    assert "Orientations du 115" in page
    assert f'value="{world["caf"]}" id="members" checked' in page
    assert 'value="logement-hebergement" id="thematiques-logement-hebergement" checked' in page
    assert f'<option value="{world["siao"]}" selected>' in page
    # Values no form offers: refused next to their field, never a server error.
    for odd, message in (
        ({"members": ["²"]}, "Un des membres cochés n'est pas une structure du répertoire."),
        ({"members": [str(world["foreign"])]}, "n'est pas une structure du répertoire."),
        ({"convener_id": "abc"}, "Choisissez la structure porteuse dans la liste."),
        ({"kind": "comité"}, "Choisissez un type d'instance dans la liste."),
        ({"thematiques": ["jardinage"]}, "Une thématique cochée n'est pas dans la liste"),
    ):
        r = _post(client, "/t/23/instances/nouvelle", {**fields, "name": "Commission 115", **odd})
        assert r.status_code == 400 and message in T(r), odd
    assert _audits(engine, "body.create") == []

    ok = _post(client, "/t/23/instances/nouvelle", {**fields, "name": "Commission 115",
                                                     "members": [str(world["caf"]),
                                                                 str(world["ccas"])]})  # fmt: skip
    assert ok.status_code == 303
    page = T(client.get(ok.headers["location"]))
    assert "L'instance a été créée." in page
    assert "CAF de la Creuse" in page and "CCAS de Guéret" in page
    assert "Chaque semaine" in page and "Logement et hébergement" in page
    assert "SIAO de la Creuse" in page
    assert _audits(engine, "body.create") == ["Commission 115"]
    listing = T(client.get("/t/23/instances"))
    row = re.search(r"Commission 115</a></th>(.*?)</tr>", listing, re.S).group(1)
    assert "Commission" in row and "SIAO de la Creuse" in row and ">2<" in row


def test_edit_form_is_filled_and_replaces_members(client, world, engine):
    with Session(engine) as s:
        body = s.get(Body, world["siao_body"])
        inst.add_member(s, body, world["caf"])
        inst.add_member(s, body, world["msa"])
        s.commit()
    _login(client, engine, "coord@creuse.fr")
    url = f"/t/23/instances/{world['siao_body']}/modifier"
    page = T(client.get(url))
    assert f'value="{SIAO_BODY}"' in page
    assert f'value="{world["msa"]}" id="members-{world["msa"]}" checked' in page
    assert f'value="{world["ccas"]}" id="members-{world["ccas"]}">' in page
    r = _post(client, url, {"name": SIAO_BODY, "kind": "coordination", "frequency": "",
                            "members": [str(world["ccas"]), str(world["msa"])]})  # fmt: skip
    assert r.status_code == 303
    _, members = _instance(engine, SIAO_BODY)
    assert members == ["CCAS de Guéret", "MSA du Limousin"]
    assert "Instance de coordination" in T(client.get(f"/t/23/instances/{world['siao_body']}"))
    assert _audits(engine, "body.update") == [SIAO_BODY]


def test_add_and_remove_members_from_the_instance_page(client, world, engine):
    _login(client, engine, "coord@creuse.fr")
    body = world["siao_body"]
    base = f"/t/23/instances/{body}"
    page = T(client.get(base))
    assert "Aucun membre enregistré." in page
    assert f'<option value="{world["caf"]}">CAF de la Creuse</option>' in page
    r = _post(client, f"{base}/membres", {"organisation_id": str(world["caf"])})
    assert r.status_code == 303 and r.headers["location"] == f"{base}?fait=membre-ajoute"
    page = T(client.get(r.headers["location"]))
    assert "La structure fait maintenant partie des membres." in page
    assert f'action="{base}/membres/{world["caf"]}/retirer"' in page
    # Already chosen: no longer offered in the select.
    assert f'<option value="{world["caf"]}">' not in page
    # The « membres absents » button comes back to the page it was pressed on.
    back = "/t/23/coordination?annee=2026#absents"
    r = _post(client, f"{base}/membres", {"organisation_id": str(world["msa"]), "retour": back})
    assert r.status_code == 303 and r.headers["location"] == back
    for elsewhere in ("https://example.org/t/23/", "//example.org/t/23/", "/t/19/instances",
                      "/t/23/x\r\nSet-Cookie: a=b"):  # fmt: skip
        r = _post(client, f"{base}/membres",
                  {"organisation_id": str(world["ccas"]), "retour": elsewhere})  # fmt: skip
        assert r.status_code == 303 and r.headers["location"].startswith(base + "?fait=")
    assert _instance(engine, SIAO_BODY)[1] == ["CAF de la Creuse", "CCAS de Guéret",
                                               "MSA du Limousin"]  # fmt: skip
    assert len(_audits(engine, "body.member_add")) == 3
    # Bad ids: a French 4xx, the page again, nothing changed.
    unchanged = Unchanged(engine, world["territory"], world["other"])
    for value, status, message in (
        ("", 400, "Choisissez dans la liste la structure à ajouter"),
        ("²", 400, "Choisissez dans la liste la structure à ajouter"),
        (str(world["foreign"]), 404, "Cette structure n'existe pas dans ce territoire."),
        ("99999", 404, "Cette structure n'existe pas dans ce territoire."),
        (str(world["old"]), 409, "« Ancienne association » est archivée"),
    ):
        r = _post(client, f"{base}/membres", {"organisation_id": value})
        assert (r.status_code, message in T(r)) == (status, True), value
        assert SIAO_BODY in T(r)
        unchanged.check()
    r = _post(client, f"{base}/membres/{world['msa']}/retirer")
    assert r.status_code == 303
    assert "La structure ne fait plus partie des membres." in T(client.get(r.headers["location"]))
    r = _post(client, f"{base}/membres/{world['msa']}/retirer")
    assert r.status_code == 409 and "« MSA du Limousin » n'est pas membre" in T(r)
    r = _post(client, f"{base}/membres/{world['foreign']}/retirer")
    assert r.status_code == 404
    assert _instance(engine, SIAO_BODY)[1] == ["CAF de la Creuse", "CCAS de Guéret"]
    assert _audits(engine, "body.member_remove") == [
        f"« MSA du Limousin » retirée de « {SIAO_BODY} »"
    ]


def test_archive_restore_and_the_questionnaire(client, world, engine):
    _login(client, engine, "coord@creuse.fr")
    r = _post(client, "/t/23/instances/nouvelle", {"name": "Réseau parentalité", "kind": "reseau"})
    body_id = _instance(engine, "Réseau parentalité")[0]
    # The instance created here is offered to respondents.
    questionnaire = T(client.get(f"/q/{world['token_bruno']}"))
    assert "Réseau parentalité" in questionnaire
    assert re.search(f'name="body_ids" id="[^"]+" value="{body_id}"', questionnaire)
    r = _post(client, f"/t/23/instances/{body_id}/archiver")
    assert r.status_code == 303
    assert "L'instance a été archivée" in T(client.get(r.headers["location"]))
    listing = T(client.get("/t/23/instances"))
    archived = listing[listing.index("Instances archivées") :]
    assert "Réseau parentalité" in archived and SIAO_BODY not in archived
    assert "Réseau parentalité" not in T(client.get(f"/q/{world['token_bruno']}"))
    r = _post(client, f"/t/23/instances/{body_id}/archiver")
    assert r.status_code == 409 and "Cette instance est déjà archivée." in T(r)
    r = _post(client, f"/t/23/instances/{body_id}/reactiver")
    assert r.status_code == 303
    assert "Réseau parentalité" in T(client.get(f"/q/{world['token_bruno']}"))
    assert len(_audits(engine, "body.archive")) == len(_audits(engine, "body.restore")) == 1


PAGE_BAD = (
    "Nom;Type;Structure porteuse;Fréquence;Thématiques;Membres;Description\r\n"
    "Commission logement;Commission;SIAO de la Creuse;Chaque mois;Logement et hébergement;"
    "CAF de la Creuse | CCAS Gueret | Mission locale;\r\n"
)


def test_import_pages_preview_refuse_then_confirm(client, world, engine):
    _login(client, engine, "coord@creuse.fr")
    page = "/t/23/instances/import"
    form = T(client.get(page))
    assert "nom ; type ; structure_porteuse" in form and "séparés par « | »" in form
    unchanged = Unchanged(engine, world["territory"])
    r = _post(client, page, files={"fichier": ("instances.csv", PAGE_BAD.encode("cp1252"),
                                               "text/csv")}, token_page=page)  # fmt: skip
    assert r.status_code == 422
    text = T(r)
    assert "Rien n'a été enregistré : 1 ligne à corriger" in text
    assert "Membre « Mission locale » inconnu : ajoutez la structure d'abord" in text
    assert "Membre « CCAS Gueret » inconnu : vouliez-vous dire « CCAS de Guéret » ?" in text
    assert "Confirmer l" not in text
    unchanged.check()
    fixed = PAGE_BAD.replace(" | Mission locale", "").replace("CCAS Gueret", "ccas de gueret")
    fixed = fixed.encode("cp1252")
    r = _post(client, page, files={"fichier": ("instances.csv", fixed, "text/csv")},
              token_page=page)  # fmt: skip
    assert r.status_code == 200 and "1 instance(s) à créer, 0 à mettre à jour." in T(r)
    unchanged.check()  # the preview writes nothing
    payload = re.search(r'name="payload" value="([^"]+)"', T(r)).group(1)
    # Not replayable as a structure import.
    r2 = _post(client, "/t/23/repertoire/import/confirmer", {"payload": payload}, token_page=page)
    assert r2.status_code == 400
    unchanged.check()
    ok = _post(client, page + "/confirmer", {"payload": payload, "filename": "instances.csv"},
               token_page=page)  # fmt: skip
    assert ok.status_code == 303 and ok.headers["location"] == "/t/23/instances?fait=importe"
    assert "L'import est terminé." in T(client.get(ok.headers["location"]))
    assert _instance(engine, "Commission logement")[1] == ["CAF de la Creuse", "CCAS de Guéret"]
    assert _audits(engine, "body.import") == ["1 créée(s), 0 mise(s) à jour"]


@pytest.mark.parametrize("fmt", ["csv", "csv-excel", "xlsx"])
def test_viewers_export(client, world, engine, fmt):
    with Session(engine) as s:
        inst.add_member(s, s.get(Body, world["siao_body"]), world["caf"])
        s.commit()
    _login(client, engine, "lecteur@creuse.fr")
    r = client.get("/t/23/instances/export", params={"format": fmt})
    assert r.status_code == 200
    assert r.headers["content-disposition"].endswith(f'instances-23.{fmt.split("-")[0]}"')
    if fmt == "xlsx":
        assert load_workbook(io.BytesIO(r.content)).worksheets[0]["A1"].value == "nom"
    table = read_table(r.content, "x.xlsx" if fmt == "xlsx" else "x.csv", inst.INSTANCE_ALIASES)
    assert [(row["nom"], row["membres"]) for row in table.rows] == [(SIAO_BODY, "CAF de la Creuse")]
    r = client.get("/t/23/instances/export", params={"format": "pdf"})
    assert r.status_code == 400 and "Format d'export inconnu" in T(r)


def test_viewer_reads_but_cannot_change_anything(client, world, engine):
    with Session(engine) as s:
        inst.add_member(s, s.get(Body, world["siao_body"]), world["caf"])
        s.commit()
    _login(client, engine, "lecteur@creuse.fr")
    listing = T(client.get("/t/23/instances"))
    assert SIAO_BODY in listing and "Créer une instance" not in listing
    page = T(client.get(f"/t/23/instances/{world['siao_body']}"))
    assert "CAF de la Creuse" in page
    assert "Retirer" not in page and "Modifier" not in page and "Ajouter un membre" not in page
    unchanged = Unchanged(engine, world["territory"])
    base = f"/t/23/instances/{world['siao_body']}"
    for url, data in [
        ("/t/23/instances/nouvelle", {"name": "Intrus"}),
        (f"{base}/modifier", {"name": "Intrus"}),
        (f"{base}/archiver", {}),
        (f"{base}/reactiver", {}),
        (f"{base}/membres", {"organisation_id": str(world["msa"])}),
        (f"{base}/membres/{world['caf']}/retirer", {}),
        ("/t/23/instances/import/confirmer", {"payload": "x"}),
    ]:
        r = _post(client, url, data)
        assert r.status_code == 403, url
        assert "lecture seule" in T(r)
        unchanged.check()
    for url in ("/t/23/instances/nouvelle", f"{base}/modifier", "/t/23/instances/import"):
        assert client.get(url).status_code == 403, url


def test_another_territory_gets_404_and_changes_nothing(client, world, engine):
    with Session(engine) as s:
        correze = inst.create_instance(s, world["other"], inst.InstanceData(name="CLIC Tulle"))
        s.commit()
        correze_id = correze.id
    _login(client, engine, "coord@correze.fr")
    assert client.get("/t/23/instances").status_code == 404
    assert client.get("/t/23/instances/export").status_code == 404
    listing = T(client.get("/t/19/instances"))
    assert "CLIC Tulle" in listing and SIAO_BODY not in listing
    r = client.get(f"/t/19/instances/{world['siao_body']}")
    assert r.status_code == 404 and "Cette instance n'existe pas dans ce territoire." in T(r)
    assert client.get(f"/t/19/instances/{world['siao_body']}/modifier").status_code == 404
    unchanged = Unchanged(engine, world["territory"], world["other"])
    body = world["siao_body"]
    for url, data in (
        (f"/t/19/instances/{body}/modifier", {"name": "Intrus"}),
        (f"/t/19/instances/{body}/archiver", {}),
        (f"/t/19/instances/{body}/membres", {"organisation_id": str(world["foreign"])}),
        (f"/t/19/instances/{body}/membres/{world['caf']}/retirer", {}),
        # A Creuse structure through Corrèze's own instance.
        (f"/t/19/instances/{correze_id}/membres", {"organisation_id": str(world["caf"])}),
        (f"/t/19/instances/{correze_id}/membres/{world['caf']}/retirer", {}),
        (f"/t/19/instances/{2**40}/archiver", {}),
    ):
        r = _post(client, url, data, token_page="/t/19/instances")
        assert r.status_code == 404, url
        unchanged.check()

"""The respondent's questionnaire page /q/{token}, driven as a browser without JavaScript would:
read the form, change some fields, post what the form would send."""

from __future__ import annotations

from html import unescape
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from sqlmodel import select

from app import forms
from survey.models import DeclaredLink, LinkTag, Organisation, Response
from tests.factories import build_world


@pytest.fixture
def world(session):
    return build_world(session)


class FormReader(HTMLParser):
    """What a browser would post: the successful controls of the first POST form."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: list[tuple[str, str]] = []
        self.ids: set[str] = set()
        self.forms = 0
        self.controls: list[str] = []
        self.label_fors: set[str] = set()
        self.unfenced_choices = 0
        self._fieldsets = 0
        self._in_form = False
        self._select: str | None = None
        self._select_value: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "label" and a.get("for"):
            self.label_fors.add(a["for"])
        if tag == "fieldset":
            self._fieldsets += 1
        if tag in ("select", "textarea") or (
            tag == "input" and a.get("type", "text") not in ("hidden", "submit")
        ):
            self.controls.append(a.get("id", "(sans id)"))
            single = a.get("name", "").endswith(("contact_consent", "remove"))
            if a.get("type") in ("radio", "checkbox") and not single and not self._fieldsets:
                self.unfenced_choices += 1
        if tag == "form" and a.get("method") == "post":
            self.forms += 1
            self._in_form = self.forms == 1
        if not self._in_form:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button"):
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select, self._select_value = a.get("name"), ""
        elif tag == "option" and self._select is not None and "selected" in a:
            self._select_value = a.get("value", "")
        elif tag == "textarea":
            self._textarea, self._text = a.get("name"), ""

    def handle_data(self, data):
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "fieldset":
            self._fieldsets -= 1
        if tag == "form":
            self._in_form = False
        elif tag == "select" and self._select is not None:
            self.fields.append((self._select, self._select_value or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, self._text))
            self._textarea = None


def read_form(html: str) -> FormReader:
    reader = FormReader()
    reader.feed(html)
    return reader


def setf(fields: list[tuple[str, str]], name: str, *values: str) -> list[tuple[str, str]]:
    """Replace every value of `name` (a radio choice, a set of checkboxes, a text)."""
    return [(k, v) for k, v in fields if k != name] + [(name, v) for v in values]


def value(fields, name: str) -> list[str]:
    return [v for k, v in fields if k == name]


def row_tag(html: str, partner_name: str) -> str:
    """The opening `<fieldset class="partner …">` tag of the row (or card) naming the partner."""
    start = html.index(f'<span class="partner-name">{partner_name}</span>')
    row = html.rfind('<fieldset class="partner', 0, start)
    return html[row : html.index(">", row) + 1]


def slot_of_partner(html: str, partner_name: str) -> str:
    """The `l{n}-` prefix of the row (or card) whose legend names the partner."""
    tag = row_tag(html, partner_name)
    slot = tag.index('data-slot="') + len('data-slot="')
    return "l" + tag[slot : tag.index('"', slot)] + "-"


def page(client, token: str, **params) -> str:
    r = client.get(f"/q/{token}", params=params)
    assert r.status_code == 200, r.text
    return r.text


def post(client, token: str, fields, action: str = "save"):
    """Post as a browser does: urlencoded UTF-8, repeated names for checkboxes."""
    return client.post(
        f"/q/{token}",
        content=urlencode([*fields, ("action", action)]),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


def stored(session, world) -> Response | None:
    session.expire_all()
    return session.exec(
        select(Response).where(
            Response.campaign_id == world.this_year.id,
            Response.professional_id == world.pros["alice"].id,
        )
    ).first()


# --- showing ---------------------------------------------------------------------------


def test_page_shows_last_year_partners_to_confirm(client, world):
    html = page(client, world.tokens["alice"])
    assert '<html lang="fr">' in html
    assert "Vos partenaires de l'an dernier</h2>" in unescape(html)
    assert "Alice Martin" in html and "CCAS de Guéret" in html
    # Last year's partners come first, in last year's order, each as one review row whose
    # answers travel in hidden fields, with no choice made yet.
    assert html.index("CAF de la Creuse</span>") < html.index("SIAO de la Creuse — 115</span>")
    assert html.index("SIAO de la Creuse — 115</span>") < html.index('id="ajouter"')
    assert "Ancienne association</span>" not in html and "MSA du Limousin</span>" not in html
    fields = read_form(html).fields
    caf = slot_of_partner(html, "CAF de la Creuse")
    siao = slot_of_partner(html, "SIAO de la Creuse — 115")
    for name in ("CAF de la Creuse", "SIAO de la Creuse — 115"):
        assert 'class="partner review-row pending"' in row_tag(html, name)
    assert value(fields, caf + "origin") == ["carried"]
    assert value(fields, caf + "nature") == ["formal"]
    assert value(fields, caf + "frames") == ["agreement"]
    assert value(fields, caf + "quality") == ["3"]
    assert value(fields, siao + "channels") == ["phone"]
    assert value(fields, siao + "partner") == [
        f"{world.orgs['siao'].id}:{world.services['siao115'].id}"
    ]
    assert value(fields, caf + "status") == [] and value(fields, siao + "status") == []
    choices = [("confirmed", "Inchangé"), ("edit", "À modifier"), ("ended", "Plus de contact")]
    for choice, label in choices:
        assert html.count(f'value="{choice}"> <span>{label}</span>') == 2
    assert f'name="action" value="edit:{caf[1:-1]}"' in html
    assert 'name="action" value="confirm_all"' in html and "Tout est comme l" in html
    assert "0 partenaire sur 2 vérifié" in html
    # Last year's answers about the person are carried: function, years in post moved on.
    assert value(fields, "function") == ["Conseillère"]
    assert value(fields, "years_in_post") == ["1to3"]
    assert value(fields, "declared_partner_count") == [""]
    # One empty slot for a returning respondent: a search field over the directory (one
    # datalist per page, structures and services), a foreign structure never offered.
    assert html.count('<span class="partner-name">Nouveau partenaire</span>') == 1
    assert html.count('<datalist id="annuaire">') == 1
    assert '<option value="CAF de la Creuse (Guéret)">' in html
    assert '<option value="SIAO de la Creuse — 115">' in html
    assert 'name="l2-partner_search" id="l2-partner" list="annuaire"' in html
    assert "<select" not in html
    assert "CAF de la Corrèze" not in html
    assert "Votre partenaire n'est pas dans la liste ?" in html
    assert "jamais dans le rapport" in html


def test_every_control_has_a_label_and_groups_a_legend(client, world):
    html = page(client, world.tokens["alice"])
    reader = read_form(html)
    assert reader.controls
    assert set(reader.controls) - reader.label_fors == set()
    # Every radio or checkbox sits in a fieldset with a legend.
    assert html.count("<fieldset") == html.count("<legend")
    assert reader.unfenced_choices == 0


def test_unknown_token_is_404_in_french(client, world):
    r = client.get("/q/" + "x" * 32)
    assert r.status_code == 404
    assert "Ce lien n'est pas (ou plus) valable" in unescape(r.text)
    assert '<html lang="fr">' in r.text
    assert post(client, "x" * 32, []).status_code == 404


# --- saving ----------------------------------------------------------------------------


def test_draft_save_keeps_values_after_reload(client, session, world):
    token = world.tokens["alice"]
    html = page(client, token)
    fields = read_form(html).fields
    caf = slot_of_partner(html, "CAF de la Creuse")
    siao = slot_of_partner(html, "SIAO de la Creuse — 115")
    # CAF confirmed with a changed answer, SIAO « Inchangé » as it stands.
    fields = setf(fields, caf + "status", "confirmed")
    fields = setf(fields, caf + "frequency", "weekly")
    fields = setf(fields, siao + "status", "confirmed")
    fields = setf(fields, "function", "Conseillère en ESF")
    fields = setf(fields, "comment", "Un commentaire\navec deux lignes")
    fields = setf(fields, "obstacles", "turnover", "lack_of_time")
    r = post(client, token, fields)
    assert r.status_code == 303
    assert r.headers["location"] == f"/q/{token}?enregistre=1"

    html = page(client, token, enregistre="1")
    assert "Votre brouillon est enregistré" in html
    assert "2 partenaires sur 2 vérifiés" in html
    fields = read_form(html).fields
    caf = slot_of_partner(html, "CAF de la Creuse")
    siao = slot_of_partner(html, "SIAO de la Creuse — 115")
    # Both are confirmed and keep their answers (the changed frequency included; how a
    # changed partner is shown: tests/test_questionnaire_review.py).
    assert value(fields, caf + "status") == ["edit"]  # changed: shown open, « À modifier »
    assert value(fields, caf + "frequency") == ["weekly"]
    assert "partner review-row confirmed" in row_tag(html, "SIAO de la Creuse — 115")
    assert value(fields, siao + "status") == ["confirmed"]
    assert value(fields, siao + "frequency") == ["weekly"]  # last year's, unchanged
    assert value(fields, "function") == ["Conseillère en ESF"]
    assert value(fields, "comment") == ["Un commentaire\navec deux lignes"]
    assert sorted(value(fields, "obstacles")) == ["lack_of_time", "turnover"]
    # Last year's order is kept.
    assert html.index("CAF de la Creuse</span>") < html.index("SIAO de la Creuse — 115</span>")
    # What the reloaded page posts back is what is stored: saving it changes nothing.
    assert post(client, token, fields).status_code == 303
    response = stored(session, world)
    links = session.exec(select(DeclaredLink).where(DeclaredLink.response_id == response.id)).all()
    by_partner = {lk.partner_organisation_id: lk for lk in links}
    assert by_partner[world.orgs["caf"].id].status == "confirmed"
    assert by_partner[world.orgs["caf"].id].frequency == "weekly"
    assert by_partner[world.orgs["siao"].id].status == "confirmed"
    assert by_partner[world.orgs["siao"].id].frequency == "weekly"
    assert response.status == "draft" and response.function == "Conseillère en ESF"


def test_submit_with_pending_partner_is_refused_with_summary_and_typed_values(
    client, session, world
):
    token = world.tokens["alice"]
    html = page(client, token)
    fields = read_form(html).fields
    caf = slot_of_partner(html, "CAF de la Creuse")
    fields = setf(fields, caf + "status", "confirmed")
    fields = setf(fields, "comment", "Texte tapé à garder")
    fields = setf(fields, "years_in_post", "3to10")
    r = post(client, token, fields, "submit")
    assert r.status_code == 422
    html = r.text
    summary = html[
        html.index('class="error-summary"') : html.index("</ul>", html.index("error-summary"))
    ]
    assert 'role="alert"' in summary and 'tabindex="-1"' in summary and "<h2" in summary
    siao = slot_of_partner(html, "SIAO de la Creuse — 115")
    link = f'href="#{siao}status"'
    assert link in summary
    assert "SIAO de la Creuse — 115 : Indiquez si vous travaillez toujours" in summary
    # Only that partner is to fix: the summary has one item.
    assert summary.count("<li>") == 1
    # The link target exists (the row's first choice), the row is open and flagged, and
    # the field's message sits in it, before its choices.
    reader = read_form(html)
    assert f"{siao}status" in reader.ids
    tag = row_tag(html, "SIAO de la Creuse — 115")
    assert "card edit pending with-errors" in tag
    row = html[html.index(tag) :]
    assert row.index(f'id="{siao}status-error"') < row.index(f'id="{siao}status"')
    assert row.index('<span class="tag error">À corriger</span>') < row.index(f'id="{siao}status"')
    # What was typed is all still there.
    assert value(reader.fields, "comment") == ["Texte tapé à garder"]
    assert value(reader.fields, "years_in_post") == ["3to10"]
    assert value(reader.fields, slot_of_partner(html, "CAF de la Creuse") + "status") == [
        "confirmed"
    ]
    assert "<title>Erreur : " in html
    assert stored(session, world) is None


def test_confirm_and_end_then_submit_is_stored(client, session, world):
    token = world.tokens["alice"]
    html = page(client, token)
    fields = read_form(html).fields
    caf = slot_of_partner(html, "CAF de la Creuse")
    siao = slot_of_partner(html, "SIAO de la Creuse — 115")
    fields = setf(fields, caf + "status", "confirmed")
    fields = setf(fields, caf + "practices", "rights_access", "referral")
    fields = setf(fields, caf + "has_named_contact", "yes")
    fields = setf(fields, caf + "contact_name", "Mme Dupont")
    fields = setf(fields, caf + "contact_consent", "on")
    fields = setf(fields, siao + "status", "ended")
    fields = setf(fields, "years_in_post", "3to10")
    fields = setf(fields, "body_ids", str(world.bodies["siao"].id))
    # The partner count is left blank (it is no longer carried from last year).
    assert value(fields, "declared_partner_count") == [""]
    r = post(client, token, fields, "submit")
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/q/{token}?envoye=1"
    html = page(client, token, envoye="1")
    assert "Merci, vos réponses ont bien été envoyées" in html
    assert "jusqu'à la clôture de l'enquête, le 31\u00a0décembre 2026" in html
    # The blank count became the one partner still worked with: nothing to warn about, and
    # it comes back blank, as typed (app.forms.state_from_answers).
    assert "Ce n'est pas bloquant" not in unescape(html)
    assert value(read_form(html).fields, "declared_partner_count") == [""]
    # The ended partner stays one line, « Plus de contact » checked.
    siao = slot_of_partner(html, "SIAO de la Creuse — 115")
    assert "partner review-row ended" in row_tag(html, "SIAO de la Creuse — 115")
    assert value(read_form(html).fields, siao + "status") == ["ended"]

    response = stored(session, world)
    assert response.status == "submitted" and response.submitted_at is not None
    assert response.years_in_post == "3to10" and response.declared_partner_count == 1
    links = session.exec(select(DeclaredLink).where(DeclaredLink.response_id == response.id)).all()
    by_partner = {lk.partner_organisation_id: lk for lk in links}
    caf_link = by_partner[world.orgs["caf"].id]
    assert caf_link.status == "confirmed" and caf_link.carried_from_id is not None
    assert caf_link.contact_name == "Mme Dupont" and caf_link.contact_consent is True
    tags = set(
        session.exec(select(LinkTag.kind, LinkTag.code).where(LinkTag.link_id == caf_link.id)).all()
    )
    assert tags == {
        ("frame", "agreement"),
        ("practice", "rights_access"),
        ("practice", "referral"),
    }
    assert by_partner[world.orgs["siao"].id].status == "ended"
    assert by_partner[world.orgs["siao"].id].partner_service_id == world.services["siao115"].id

    # Still editable after submitting, and it stays submitted.
    fields = read_form(html).fields
    fields = setf(fields, "comment", "Ajout après envoi")
    assert post(client, token, fields).status_code == 303
    response = stored(session, world)
    assert response.status == "submitted" and response.comment == "Ajout après envoi"


def test_write_in_partner_becomes_proposed_organisation(client, session, world):
    token = world.tokens["bruno"]
    html = page(client, token)
    # A first-time respondent: no review list, three empty slots to add partners, and the
    # write-in asks for a name and a commune only (no type select).
    assert 'id="s-review"' not in html and "Vos partenaires</h2>" in html
    assert html.count('<span class="partner-name">Nouveau partenaire</span>') == 3
    assert 'id="l0-write_in_name"' in html and 'id="l0-write_in_commune"' in html
    assert "write_in_type" not in html
    fields = read_form(html).fields
    assert value(fields, "emplacements") == ["3"]
    fields = setf(fields, "l0-write_in_name", "Épicerie solidaire d'Aubusson")
    fields = setf(fields, "l0-write_in_commune", "Aubusson")
    fields = setf(fields, "l1-partner_search", "CCAS de Guéret (Guéret)")
    # A type posted by an older page is still accepted.
    fields = setf(fields, "l2-write_in_name", "Banque alimentaire de la Creuse")
    fields = setf(fields, "l2-write_in_type", "association")
    r = post(client, token, fields, "more")
    assert r.status_code == 303, r.text
    # « Ajouter un autre partenaire » saves and comes back with one more empty slot.
    assert r.headers["location"].endswith("?enregistre=1&emplacements=4#ajouter")
    org = session.exec(
        select(Organisation).where(Organisation.name == "Épicerie solidaire d'Aubusson")
    ).one()
    assert org.status == "proposed" and org.type == "autre" and org.commune == "Aubusson"
    assert org.territory_id == world.territory.id
    assert org.proposed_by_id == world.pros["bruno"].id
    typed = session.exec(
        select(Organisation).where(Organisation.name == "Banque alimentaire de la Creuse")
    ).one()
    assert typed.status == "proposed" and typed.type == "association"

    html = page(client, token, enregistre="1", emplacements="4")
    # The three partners now have their questions; four empty slots were asked for.
    assert "Épicerie solidaire d&#39;Aubusson</span>" in html
    assert "CCAS de Guéret</span>" in html
    assert "Banque alimentaire de la Creuse</span>" in html
    assert html.count('<span class="partner-name">Nouveau partenaire</span>') == 4
    # The proposed structures can be found again in this respondent's directory.
    assert '<option value="Épicerie solidaire d&#39;Aubusson (Aubusson)">' in html
    # Saving again does not propose the structures twice.
    assert post(client, token, read_form(html).fields).status_code == 303
    assert (
        len(session.exec(select(Organisation).where(Organisation.status == "proposed")).all()) == 2
    )


def test_new_partner_can_be_removed(client, session, world):
    token = world.tokens["bruno"]
    fields = setf(read_form(page(client, token)).fields, "l0-partner", str(world.orgs["siao"].id))
    assert post(client, token, fields).status_code == 303
    html = page(client, token)
    assert "Retirer ce partenaire" in html
    fields = setf(read_form(html).fields, "l0-remove", "on")
    assert post(client, token, fields).status_code == 303
    response = session.exec(
        select(Response).where(Response.professional_id == world.pros["bruno"].id)
    ).one()
    assert (
        session.exec(select(DeclaredLink).where(DeclaredLink.response_id == response.id)).all()
        == []
    )


# --- refusing --------------------------------------------------------------------------


def _bruno_with_one_partner(client, world) -> list[tuple[str, str]]:
    token = world.tokens["bruno"]
    fields = setf(read_form(page(client, token)).fields, "l0-partner", str(world.orgs["ccas"].id))
    fields = setf(fields, "declared_partner_count", "1")
    fields = setf(fields, "comment", "Premier commentaire")
    assert post(client, token, fields).status_code == 303
    return read_form(page(client, token)).fields


def _bruno_unchanged(session, world) -> None:
    session.expire_all()
    response = session.exec(
        select(Response).where(Response.professional_id == world.pros["bruno"].id)
    ).one()
    assert response.comment == "Premier commentaire" and response.declared_partner_count == 1
    partners = session.exec(
        select(DeclaredLink.partner_organisation_id).where(DeclaredLink.response_id == response.id)
    ).all()
    assert partners == [world.orgs["ccas"].id]


def test_oversized_comment_is_refused_and_kept_in_page(client, session, world):
    fields = _bruno_with_one_partner(client, world)
    fields = setf(fields, "comment", "é" * 6000)
    r = post(client, world.tokens["bruno"], fields)
    assert r.status_code == 422
    assert 'href="#f-comment"' in r.text
    assert "Texte trop long : 5000 caractères au maximum." in r.text
    assert value(read_form(r.text).fields, "comment") == ["é" * 6000]
    _bruno_unchanged(session, world)


def test_foreign_organisation_is_refused(client, session, world):
    fields = _bruno_with_one_partner(client, world)
    fields = setf(fields, "l1-partner", str(world.foreign_org.id))
    r = post(client, world.tokens["bruno"], fields)
    assert r.status_code == 422
    assert "Ce partenaire n'existe pas dans le répertoire de votre territoire" in unescape(r.text)
    assert 'href="#l1-partner"' in r.text
    # The faulty slot is shown again with the search field over the directory to choose
    # another partner; the foreign structure's name is never shown.
    assert 'name="l1-partner_search" id="l1-partner" list="annuaire"' in r.text
    assert 'id="l1-partner-error"' in r.text
    assert "CAF de la Corrèze" not in r.text
    _bruno_unchanged(session, world)
    # Typing its name is no way round: it is not in this territory's directory.
    fields = setf(fields, "l1-partner")
    fields = setf(fields, "l1-partner_search", "CAF de la Corrèze (Tulle)")
    r = post(client, world.tokens["bruno"], fields)
    assert r.status_code == 422
    assert "n'est pas dans le répertoire" in unescape(r.text)
    assert 'href="#l1-partner"' in r.text
    _bruno_unchanged(session, world)


@pytest.mark.parametrize(
    "name, bad, target, message",
    [
        ("declared_partner_count", "beaucoup", "f-declared_partner_count", "nombre entier"),
        ("years_in_post", "toujours", "f-years_in_post", "durée"),
        ("obstacles", "pas-un-code", "f-obstacles", "pas une réponse possible"),
        ("body_ids", "abc", "f-body_ids", "instance"),
        ("body_ids", "999999", "f-body_ids", "instance"),
        ("l0-nature", "peut-être", "l0-nature", "formel"),
        ("l0-quality", "excellent", "l0-quality", "nombre entier"),
        ("l0-has_named_contact", "peut-être", "l0-has_named_contact", "oui ou par non"),
        ("l0-partner", "12:abc", "l0-partner", "Choisissez un partenaire"),
        ("l0-partner", "99999999999999999999", "l0-partner", "Choisissez un partenaire"),
        ("l0-frames", "agreement", "l0-frames", "cochée deux fois"),
    ],
)
def test_bad_input_is_refused_with_message_at_the_field(
    client, session, world, name, bad, target, message
):
    fields = _bruno_with_one_partner(client, world)
    # A checkbox posted twice is the duplicate case; everything else is one bad value.
    fields = setf(fields, name, *([bad, bad] if name == "l0-frames" else [bad]))
    r = post(client, world.tokens["bruno"], fields)
    assert r.status_code == 422, r.text
    assert f'href="#{target}"' in r.text
    assert message in r.text
    assert f'id="{target}-error"' in r.text
    _bruno_unchanged(session, world)


def test_duplicate_partner_is_refused(client, session, world):
    fields = _bruno_with_one_partner(client, world)
    fields = setf(fields, "l1-partner", str(world.orgs["ccas"].id))
    r = post(client, world.tokens["bruno"], fields)
    assert r.status_code == 422
    assert "Ce partenaire figure déjà plus haut" in r.text
    _bruno_unchanged(session, world)


def test_malformed_utf8_is_400_in_french(client, session, world):
    _bruno_with_one_partner(client, world)
    token = world.tokens["bruno"]
    for body in (b"comment=%FF%FE&action=save", b"comment=\xff\xfe&action=save"):
        r = client.post(
            f"/q/{token}",
            content=body,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 400
        assert "illisible" in r.text and "Rien n'a été enregistré" in unescape(r.text)
    r = client.post(
        f"/q/{token}",
        content=(
            b'--x\r\nContent-Disposition: form-data; name="comment"\r\n\r\n\xff\xfe\r\n'
            b'--x\r\nContent-Disposition: form-data; name="formulaire_complet"\r\n\r\n1\r\n'
            b"--x--\r\n"
        ),
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert r.status_code == 400 and "format attendu" in r.text
    _bruno_unchanged(session, world)


def test_junk_fields_and_too_many_slots_never_raise(client, session, world):
    _bruno_with_one_partner(client, world)
    token = world.tokens["bruno"]
    junk = [("l0-partner", str(world.orgs["ccas"].id)), ("l99999-partner", "1"), ("x-y", "z")]
    junk += [(f"l{i}-partner", str(world.orgs["caf"].id)) for i in range(1, 205)]
    r = post(client, token, [*junk, (forms.END_MARKER, "1")])
    assert r.status_code == 422
    assert "Trop de partenaires : 200 au maximum." in r.text
    # A body cut short (no end marker) is refused rather than saved as an emptied form.
    r = post(client, token, [("action", "save")])
    assert r.status_code == 400 and "incomplet" in r.text
    _bruno_unchanged(session, world)


def test_parse_is_total_on_junk():
    parsed = forms.parse(
        [("l0-partner", "abc"), ("l0-status", "x"), ("declared_partner_count", "")]
    )
    assert parsed.answers is None
    assert parsed.problems[0].field == "links.0.partner_organisation_id"
    assert forms.field_id("links.0.partner_service_id", parsed.slot_of) == "l0-partner"
    assert forms.field_id("links.0.write_in.type", [4]) == "l4-write_in_type"
    assert forms.field_id("comment", []) == "f-comment"


# --- campaign not open -----------------------------------------------------------------


def test_closed_campaign_is_read_only(client, session, world):
    token = world.tokens["alice_2025"]
    html = page(client, token)
    assert "<form" not in html
    assert "L'enquête 2025 est close" in html
    assert "CAF de la Creuse" in html and "Convention" in html
    assert "Plus de contact" in html  # MSA, marked ended last year
    r = post(client, token, [("comment", "trop tard")])
    assert r.status_code == 409
    assert "Rien n'a été enregistré" in r.text and "<form" not in r.text


def test_draft_campaign_says_not_open_yet(client, session, world):
    world.this_year.status = "draft"
    session.add(world.this_year)
    session.commit()
    html = page(client, world.tokens["bruno"])
    assert "n'est pas encore ouvert" in html and "1er\u00a0mars 2026" in html
    assert "<form" not in html

"""« Ressemble à »: a merge is suggested only when two structure names are really alike."""

from __future__ import annotations

import html
import re

import pytest
from sqlmodel import Session, select

from survey import directory as d
from survey.models import Organisation, Territory
from survey.similarity import Named, compare_names, suggestion_score, words
from tests.accounts_helpers import login, make_user
from tests.factories import build_world

COMMUNES = ("Guéret", "Felletin", "Bourganeuf", "La Souterraine", "Boussac", "Aubusson")
CREUSE = ("Creuse",)
ALIASES = {"23": "Creuse"}

# Pairs the demo used to suggest (issue 14): nothing in common but « de » and a place.
UNRELATED = [
    (Named("Collectif d'entraide de Felletin", "associations", "Felletin"),
     Named("Centre hospitalier de Guéret", "sante", "Guéret")),
    (Named("Garage solidaire de La Souterraine", "associations", "La Souterraine"),
     Named("France services de Bourganeuf", "communes", "Bourganeuf")),
    # The same pairs with nothing known but the names: still never suggested.
    (Named("Collectif d'entraide de Felletin"), Named("Centre hospitalier de Guéret")),
    (Named("Garage solidaire de La Souterraine"), Named("France services de Bourganeuf")),
    # Sharing only a place or a generic word is not being alike.
    (Named("CCAS de Guéret"), Named("Centre hospitalier de Guéret")),
    (Named("Centre social de Guéret"), Named("Centre hospitalier de Guéret")),
    (Named("Épicerie solidaire de Bourganeuf"), Named("France services de Bourganeuf")),
    # Same words, another commune: another structure.
    (Named("France services de Boussac"), Named("France services de Bourganeuf")),
    (Named("Mission locale", "emploi", "Guéret"), Named("Mission locale", "emploi", "Aubusson")),
    # Alike names, types known and of different families.
    (Named("Accueil de jour", "logement", "Guéret"), Named("Accueil de jour", "sante", "Guéret")),
]  # fmt: skip

NEAR_DUPLICATES = [
    (Named("CCAS Guéret"), Named("C.C.A.S. de Guéret", "communes", "Guéret")),
    (Named("Mission locale de la Creuse"), Named("Mission Locale Creuse")),
    (Named("UDAF 23"), Named("U.D.A.F. 23")),
    (Named("UDAF 23", "associations"), Named("UDAF de la Creuse", "associations", "Guéret")),
    (Named("Caf 23", "protection"), Named("CAF de la Creuse", "protection", "Guéret")),
    (Named("CCAS de Guéret"), Named("Centre communal d'action sociale de Guéret")),
    (Named("Restos du coeur"), Named("Restos du cœur de la Creuse")),
    (Named("Secours pop Gueret", "associations", "Guéret"),
     Named("Secours populaire de Guéret", "associations", "Guéret")),
    (Named("Missions locales Creuse"), Named("Mission locale de la Creuse")),
]  # fmt: skip


@pytest.mark.parametrize(("a", "b"), UNRELATED, ids=lambda n: n.name)
def test_unrelated_names_are_never_suggested(a, b):
    assert suggestion_score(a, b, COMMUNES, CREUSE, ALIASES) is None
    assert suggestion_score(b, a, COMMUNES, CREUSE, ALIASES) is None


@pytest.mark.parametrize(("a", "b"), NEAR_DUPLICATES, ids=lambda n: n.name)
def test_near_duplicates_are_suggested(a, b):
    score = suggestion_score(a, b, COMMUNES, CREUSE, ALIASES)
    assert score is not None and score >= 0.75
    assert suggestion_score(b, a, COMMUNES, CREUSE, ALIASES) == score


def test_normalisation():
    assert words("C.C.A.S. de la Creuse") == ["ccas", "creuse"]
    assert words("L'Épicerie d'Aubusson et du Pays") == ["epicerie", "aubusson", "pays"]
    assert words("U.D.A.F 23") == ["udaf", "23"]
    assert compare_names("CCAS Guéret", "ccas de gueret").score == 1.0
    # Numbers are compared exactly: UDAF 23 is not UDAF 87.
    assert compare_names("UDAF 23", "UDAF 87").shared == ("udaf",)
    assert compare_names("UDAF 23", "UDAF 87").score < 0.75


def test_names_in_any_script_keep_their_words():
    """Names were folded to ASCII: « Straße » lost its « ß », a Greek or Cyrillic name lost
    every letter and so was never suggested, whatever its look-alike."""
    assert words("Œuvre d’Orient") == ["oeuvre", "orient"]
    assert words("Straße") == ["strasse"]
    assert words("Κέντρο Υγείας") == ["κεντρο", "υγειασ"]
    greek = Named("Κέντρο Υγείας Αθήνας")
    assert suggestion_score(greek, Named("Κεντρο υγειας Αθηνας"), COMMUNES, CREUSE) == 1.0
    assert suggestion_score(greek, Named("Σύλλογος Γονέων"), COMMUNES, CREUSE) is None
    assert compare_names("Москва помощь", "Москва").shared == ("москва",)


def test_a_type_or_commune_unknown_needs_closer_names():
    a = Named("Secours populaire Guéret", "associations", "Guéret")
    b = Named("Secours populaire de la Creuse", "associations", "Guéret")
    assert suggestion_score(a, b, COMMUNES, CREUSE) is not None
    # Without the commune, the name alone must be closer (0.75): it is not.
    c = Named("Secours populaire solidarité Guéret")
    d_ = Named("Secours populaire de la Creuse")
    assert 0.6 <= compare_names(c.name, d_.name, {"gueret", "creuse"}).score < 0.75
    assert suggestion_score(c, d_, COMMUNES, CREUSE) is None


def _add(session, territory_id, name, type_, commune, status="active") -> Organisation:
    org = Organisation(
        territory_id=territory_id, name=name, type=type_, commune=commune, status=status
    )
    session.add(org)
    session.flush()
    return org


def test_directory_suggestions(session):
    w = build_world(session)
    tid = w.territory.id
    _add(session, tid, "Centre hospitalier de Guéret", "sante", "Guéret")
    _add(session, tid, "France services de Bourganeuf", "france-service", "Bourganeuf")
    udaf = _add(session, tid, "UDAF de la Creuse", "udaf", "Guéret")
    felletin = _add(session, tid, "Collectif d'entraide de Felletin", "association", "Felletin",
                    "proposed")  # fmt: skip
    garage = _add(session, tid, "Garage solidaire de La Souterraine", "association",
                  "La Souterraine", "proposed")  # fmt: skip
    ccas = _add(session, tid, "C.C.A.S. Guéret", "autre", "", "proposed")
    udaf23 = _add(session, tid, "U.D.A.F. 23", "autre", "", "proposed")
    session.commit()
    assert d.merge_suggestions(session, felletin) == []
    assert d.merge_suggestions(session, garage) == []
    assert [o.name for o in d.merge_suggestions(session, ccas)] == ["CCAS de Guéret"]
    assert d.merge_suggestions(session, udaf23) == [udaf]
    # The merge form still offers every active structure, the look-alikes first.
    candidates = d.merge_candidates(session, udaf23)
    assert candidates[0] == udaf
    assert len(candidates) == len(
        session.exec(
            select(Organisation).where(Organisation.territory_id == tid,
                                       Organisation.status == "active")
        ).all()
    )  # fmt: skip
    # Another territory's structure is never suggested.
    other = _add(session, w.other_territory.id, "CCAS de Guéret", "ccas-cias", "Guéret")
    session.commit()
    assert other not in d.merge_suggestions(session, ccas)


def test_proposed_page_shows_only_real_look_alikes(client, engine):
    with Session(engine) as s:
        w = build_world(s)
        tid = w.territory.id
        _add(s, tid, "Centre hospitalier de Guéret", "sante", "Guéret")
        felletin = _add(s, tid, "Collectif d'entraide de Felletin", "association", "Felletin",
                        "proposed").id  # fmt: skip
        ccas = _add(s, tid, "C.C.A.S. Guéret", "autre", "", "proposed").id
        ccas_id = w.orgs["ccas"].id
        territory = s.exec(select(Territory).where(Territory.code == "23")).one()
        make_user(s, "coord@creuse.fr", role="coordinator", territory=territory)
        s.commit()
    login(client, "coord@creuse.fr")
    page = html.unescape(client.get("/t/23/repertoire/propositions").text)
    rows = {m[0]: m[1] for m in re.findall(r'<tr>\s*<th scope="row"><a href="[^"]*/(\d+)">.*?</th>(.*?)</tr>', page, re.S)}  # fmt: skip
    assert "Centre hospitalier" not in rows[str(felletin)]
    assert "Aucune structure au nom proche" in rows[str(felletin)]
    assert "CCAS de Guéret" in rows[str(ccas)]
    form = html.unescape(client.get(f"/t/23/repertoire/{ccas}/fusionner").text)
    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]*)<', form)
    assert options[0] == (str(ccas_id), "CCAS de Guéret (Guéret) — nom proche")
    assert sum("nom proche" in label for _, label in options) == 1
    form = html.unescape(client.get(f"/t/23/repertoire/{felletin}/fusionner").text)
    assert "Aucune structure existante n'a un nom proche" in form
    assert "nom proche</option>" not in form

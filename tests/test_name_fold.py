"""One fold for names (`survey.directory.normalize_name`): case, accents, ligatures,
punctuation and spacing do not count; letters of every script do."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.forms import search_key
from survey.directory import normalize_name
from survey.models import Organisation
from tests.factories import build_world


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("CCAS de Guéret", "ccas de gueret"),
        ("L’Œuvre de la Creuse", "l'oeuvre de la creuse"),  # ’ and ' alike, Œ spelt out
        ("ÆGIS", "aegis"),
        ("Straße", "STRASSE"),
        ("Mission locale (Creuse)", "mission locale — creuse"),
        ("Saint-Martin-d’Ardèche", "saint martin d ardeche"),
        ("C.C.A.S.", "c c a s"),
        ("Centre\u00a0social  Nord", "centre social nord"),
    ],
)
def test_names_that_fold_alike(a, b):
    assert normalize_name(a) == normalize_name(b)
    assert search_key(a) == normalize_name(a)  # the form's partner search: the same fold


@pytest.mark.parametrize(
    ("name", "folded"),
    [
        ("Œuilly", "oeuilly"),
        ("Ελληνική Ένωση", "ελληνικη ενωση"),
        ("Москва", "москва"),
        ("جمعية", "جمعية"),
        ("Saint-Martin-d’Ardèche", "saint martin d ardeche"),
    ],
)
def test_letters_of_every_script_are_kept(name, folded):
    """The ASCII fold dropped them: « Œuilly » keyed « uilly » and a name in another script
    keyed « », so every such name matched every other."""
    assert normalize_name(name) == folded


def test_different_names_stay_apart():
    names = ["Москва", "Київ", "Ελλάδα", "Œuvre", "uvre", "CAF", "CAF 23"]
    assert len({normalize_name(n) for n in names}) == len(names)


@pytest.fixture
def world(session):
    return build_world(session)


def test_write_in_matches_a_structure_spelt_with_a_ligature(client, session, world):
    """A partner written in as « L’Œuvre de la Creuse » is the structure « L'Oeuvre de la
    Creuse » already in the directory, not a new proposal."""
    existing = Organisation(
        territory_id=world.territory.id, name="L'Oeuvre de la Creuse", type="association"
    )
    session.add(existing)
    session.commit()
    body = {"links": [{"write_in": {"name": "L’Œuvre de la Creuse", "type": "association"}}]}
    r = client.put(f"/api/v1/questionnaire/{world.tokens['bruno']}", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["links"][0]["partner_organisation_id"] == existing.id
    proposed = session.exec(select(Organisation).where(Organisation.status == "proposed")).all()
    assert proposed == []

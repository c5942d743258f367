"""The report's coordination sections and their sentences.

The sentences are checked on hand-written figures (the shape of reports.coordination, as
spec'd), the PDF on the territory of tests/test_coordination_pages.py (worked out there).
"""

from __future__ import annotations

import re

from sqlmodel import select

from reports import findings, pdf
from reports.pdf.sections import coordination as sections
from survey import french as t
from survey.models import Campaign
from tests.reports.builders import Builder
from tests.test_coordination_pages import build
from tests.test_report_pdf import pdf_text, plain


def ref(i: int, name: str) -> dict:
    return {"id": i, "name": name, "type_label": name, "family": "protection"}


def absent(i: int, name: str, tied: int, members: int = 4, carriers: int | str = 3) -> dict:
    return ref(i, name) | {"tied_members": tied, "members": members, "carriers": carriers}


def figures(**parts) -> dict:
    """Empty coordination figures, with `parts` replacing their sections."""
    d = {
        "year": 2026,
        "instances": {"items": [], "similar": [], "outside": []},
        "official": {"in_force": [], "without_life": [], "without_frame": []},
        "zones": {
            "items": [],
            "unzoned": {"structures": 0, "invited": 0, "responded": 0},
            "white": [],
        },  # fmt: skip
        "quality": {"pairs": [], "frames": [], "formal_declarations": 0},
    }
    for key, value in parts.items():
        d[key] = d[key] | value
    return d


def squash(s: str) -> str:
    return re.sub(r"[\s\u00a0\u202f\u2011-]+", "", s)


# --- sentences -----------------------------------------------------------------------------


def test_absent_members_sentence_names_them_and_counts_members():
    inst = {"name": "Commission SIAO", "active": True}
    two = inst | {"absent": [absent(5, "CAF", 3), absent(6, "CPAM", 3)]}
    assert findings.absent_sentence(two) == t.text(
        "« Commission SIAO » ne compte ni « CAF » ni « CPAM » parmi ses membres, alors que "
        "leurs professionnels sont liés à 3 de ses 4 membres."
    )
    two["absent"][1]["tied_members"] = 2
    assert "respectivement à 3 et 2 de ses 4 membres" in findings.absent_sentence(two)
    one = inst | {"absent": [absent(5, "CAF", 2)]}
    assert "ne compte pas «\u00a0CAF\u00a0» parmi ses membres, alors que ses professionnels" in (
        findings.absent_sentence(one)
    )
    # More than two: the two most tied named, the others counted.
    four = inst | {"absent": [absent(1, "A", 4), absent(2, "B", 3), absent(3, "C", 3),
                              absent(4, "D", 2)]}  # fmt: skip
    assert findings.absent_sentence(four) == (
        "«\u00a0Commission SIAO\u00a0» ne compte ni «\u00a0A\u00a0» ni «\u00a0B\u00a0» parmi "
        "ses membres, alors que leurs professionnels sont liés respectivement à 4 et 3 de ses "
        "4 membres ; 2\u00a0autres structures sont liées à au moins 2 de ses membres."
    )
    assert findings.absent_sentence(inst | {"absent": []}) is None


def test_the_findings_name_the_three_instances_missing_most_and_count_the_others():
    # Five instances each missing one structure; instance k's is tied to k of its 5 members,
    # so the score grows with k: instances 5, 4 and 3 are named, 1 and 2 counted.
    items = [
        {"id": k, "name": f"Instance {k}", "active": True,
         "absent": [absent(10 + k, f"S{k}", k, members=5)]}
        for k in range(1, 6)
    ]  # fmt: skip
    said = [f.sentence for f in findings.instance_findings(figures(instances={"items": items}))]
    named = [re.search(r"« (Instance \d) »", t.text(x).replace("\u00a0", " ")) for x in said]
    assert [m.group(1) for m in named if m] == ["Instance 5", "Instance 4", "Instance 3"]
    assert (
        said[3] == "2\u00a0autres instances ont aussi des membres absents : le tableau les nomme."
    )
    assert len(said) == 4
    # Three or fewer: each named, nothing counted.
    said = [f.sentence for f in findings.instance_findings(figures(instances={"items": items[:3]}))]
    assert len(said) == 3 and not any("autres instances" in x for x in said)


def test_withheld_counts_stay_withheld_in_sentences():
    d = figures(
        official={
            "without_frame": [
                {
                    "a": ref(1, "CAF"),
                    "b": ref(2, "CCAS"),
                    "carriers": "< 3",
                    "declarations": "< 3",
                    "frequent": "< 3",
                }
            ]
        },  # fmt: skip
        quality={
            "pairs": [
                # 2 answers: share withheld by the public copy → no sentence.
                {
                    "a": "protection",
                    "a_label": "Caisses",
                    "b": "logement",
                    "b_label": "Logement",
                    "answers": "< 3",
                    "difficult": "< 3",
                    "share": None,
                },  # fmt: skip
                # 6 answers, 3 difficult: 50 % → a sentence.
                {
                    "a": "communes",
                    "a_label": "Communes",
                    "b": "communes",
                    "b_label": "Communes",
                    "answers": 6,
                    "difficult": 3,
                    "share": 0.5,
                },  # fmt: skip
            ],
            "frames": [],
            "formal_declarations": 0,
        },
    )
    (frameless,) = findings.official_findings(d)
    assert "moins de trois professionnels déclarent ce lien" in frameless.sentence
    assert "<" not in frameless.sentence
    (quality,) = findings.quality_findings(d)
    assert quality.sentence.startswith("50\u202f% des réponses")
    assert "entre structures «\u00a0communes\u00a0»" in quality.sentence
    assert "(3 sur 6)" in quality.sentence


def test_white_zones_make_one_sentence_per_zone():
    white = [
        {"zone_id": 1, "zone": "Sud", "family": f, "family_label": label, "respondents": 1}
        for f, label in (
            ("protection", "Caisses de protection sociale"),
            ("emploi", "Emploi, insertion, formation"),
        )  # fmt: skip
    ]
    (x,) = findings.zone_findings(figures(zones={"white": white}))
    assert x.sentence == (
        "Dans la zone «\u00a0Sud\u00a0», aucun des professionnels qui y travaillent et ont "
        "répondu ne déclare de lien avec une structure de la famille «\u00a0caisses de "
        "protection sociale\u00a0» ni «\u00a0emploi, insertion, formation\u00a0»."
    )


def test_the_summary_may_pick_one_coordination_finding(session):
    data = pdf.collect(session, _campaign(session))
    assert data.coordination is not None
    facts = findings.Facts(data.graph, data.figures, data.obstacles, None, None, data.coordination)
    assert "coordination" in {x.kind for x in findings.candidates(facts)}
    assert len([x for x in data.findings if x.kind == "coordination"]) <= 1


# --- the PDF -------------------------------------------------------------------------------


def _campaign(session) -> Campaign:
    """The 2026 campaign of the hand-made territory (tests/test_coordination_pages.py)."""
    b, _ = build(session)
    return session.exec(select(Campaign).where(Campaign.territory_id == b.territory.id)).one()


def _report(session) -> str:
    _, pages = pdf_text(pdf.build_report(session, _campaign(session)))
    return "\n".join(pages)


def test_report_carries_the_four_sections_and_their_findings(session):
    text = _report(session)
    for title in (sections.TITLE, sections.INSTANCES_TITLE, sections.OFFICIAL_TITLE,
                  sections.ZONES_TITLE, sections.QUALITY_TITLE):  # fmt: skip
        assert plain(t.text(title)) in text, title
    flat = squash(text)
    sentence = (
        "« Commission SIAO » ne compte pas « CAF » parmi ses membres, alors que ses "
        "professionnels sont liés à 3 de ses 4 membres."
    )
    assert squash(sentence) in flat
    assert squash("L'accord « Accès aux droits » (convention), signé par « CAF » et « UTAS »") in (
        flat
    )
    assert squash("Dans la zone « Sud »") in flat
    # The département reads the public copy: one carrier is « moins de trois », never « 1 ».
    assert squash("moins de trois professionnels déclarent ce lien") in flat
    assert "Personne" not in text  # no professional's name (« Personne Caf1 »…)


def test_sections_with_nothing_to_show_say_so(session):
    b = Builder.start(session)
    campaign = b.campaign(2026, "open")
    b.org("caf", "caf")
    session.commit()
    _, pages = pdf_text(pdf.build_report(session, campaign))
    text = plain("\n".join(pages))
    for sentence in ("Aucune instance n'est enregistrée pour ce territoire.",
                     "Aucune convention enregistrée en vigueur en 2026.",
                     "Aucune zone n'est définie pour ce territoire."):  # fmt: skip
        assert plain(t.text(sentence)) in text, sentence

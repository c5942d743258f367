"""The report's sentences and tables say what their own figures say (a tester's defects on
the demo's 2025 and 2026 reports): one « Autres types » column, the turn-over's true rank,
point changes from the percentages as printed, agreeing counts, frameless partnerships as
their table row has them, never a count of one or two people."""

from __future__ import annotations

import re

import pytest

from reports import compare, findings, privacy
from reports.pdf.sections import evolution, obstacles
from survey import french as t

NBSP, NNBSP = "\u00a0", "\u202f"


def plain(s: str) -> str:
    return s.replace(NBSP, " ").replace(NNBSP, " ")


# --- 1. one « Autres types » column ----------------------------------------------------------


def _type(label: str, respondents: int, turnover: int = 0) -> dict:
    return {"type_label": label, "respondents": respondents, "obstacles": {"turnover": turnover}}


def test_small_types_and_the_smaller_columns_share_one_others_column():
    # The demo's 2025 shape: the pooled small types (21 respondents) outnumber every named
    # type, and there are more named types than columns.
    named = [
        _type("UTAS", 8, 3),
        _type("CAF", 5, 1),
        _type("SIAO", 4, 1),
        _type("CARSAT", 3),
        _type("CCAS", 3, 1),
        _type("CPAM", 3, 2),
        _type("MSA", 3),
        _type("Mission locale", 3, 1),
        _type("CHRS", 3),
    ]
    small = [_type(f"Type {i}", 1 + i % 2, i % 2) for i in range(14)]
    pooled = privacy.pool_small_groups(
        named + small, "respondents", "type_label", "Autres types (moins de 3)", ("obstacles",)
    )
    columns = obstacles._at_most(pooled, obstacles.TYPE_COLUMNS)
    heads = [obstacles._short_type(r["type_label"]) for r in columns]
    assert heads.count(obstacles.OTHERS) == 1 and heads[-1] == obstacles.OTHERS
    assert heads[:-1] == ["UTAS", "CAF", "SIAO", "CARSAT", "CCAS"]
    assert len(columns) == obstacles.TYPE_COLUMNS + 1
    # Nobody lost or counted twice.
    assert sum(r["respondents"] for r in columns) == sum(r["respondents"] for r in named + small)
    total_turnover = sum(r["obstacles"]["turnover"] for r in named + small)
    assert sum(r["obstacles"].get("turnover", 0) for r in columns) == total_turnover
    note = plain(obstacles._others_note(columns))
    assert "moins de trois répondants" in note and "cinq plus représentés" in note


def test_few_types_keep_their_columns_and_the_small_ones_pool_at_the_end():
    rows = [_type("CAF", 5), _type("CPAM", 1), _type("MSA", 2), _type("UTAS", 4)]
    pooled = privacy.pool_small_groups(
        rows, "respondents", "type_label", "Autres types (x)", ("obstacles",)
    )
    columns = obstacles._at_most(pooled, obstacles.TYPE_COLUMNS)
    assert [obstacles._short_type(r["type_label"]) for r in columns] == [
        "CAF",
        "UTAS",
        "Autres types",
    ]
    assert columns[-1]["respondents"] == 3
    note = plain(obstacles._others_note(columns))
    assert note.startswith("Les types qui comptent moins de trois répondants")
    no_small = obstacles._at_most([_type("CAF", 5), _type("UTAS", 4)], obstacles.TYPE_COLUMNS)
    assert [r["type_label"] for r in no_small] == ["CAF", "UTAS"]
    assert obstacles._others_note(no_small) == ""


# --- 2. the turn-over's rank ----------------------------------------------------------------


def _obstacles(respondents: int, **counts: int) -> dict:
    totals = sorted(counts.items(), key=lambda x: (-x[1], x[0]))
    return {
        "respondents": respondents,
        "totals": [
            {"code": c, "label": obstacles.obstacle_label(c), "responses": n} for c, n in totals
        ],
        "by_type": [],
    }


def test_turnover_is_said_most_cited_only_when_it_is():
    first = plain(findings.turnover_sentence(_obstacles(40, turnover=12, lack_of_time=9)))
    assert "est le frein le plus cité par les professionnels (12 répondants sur 40)" in first
    assert "à égalité" not in first
    # The demo's case: turn-over third in the chart.
    third = plain(
        findings.turnover_sentence(
            _obstacles(56, lack_of_time=20, unreachable_platforms=18, turnover=14, other=3)
        )
    )
    assert (
        "est le troisième frein le plus cité par les professionnels (14 répondants sur 56)" in third
    )
    assert "le frein le plus cité" not in third and "citent le plus" not in third
    tied = plain(findings.turnover_sentence(_obstacles(30, turnover=9, lack_of_time=9)))
    assert (
        "est le frein le plus cité par les professionnels, à égalité avec « manque de temps »"
        in tied
    )


def test_turnover_sentence_without_citations_or_with_few():
    few = plain(findings.turnover_sentence(_obstacles(30, lack_of_time=9, turnover=2)))
    assert "par moins de trois répondants sur 30" in few
    assert not re.search(r"\b2 répondants", few)
    none = plain(findings.turnover_sentence(_obstacles(30, lack_of_time=9)))
    assert none.startswith("Aucun répondant ne cite le turn-over")
    nobody = plain(findings.turnover_sentence(_obstacles(0)))
    assert "cit" not in nobody.split(":")[0]


# --- 3. point changes from the percentages as printed ---------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "shown"),
    [
        (0.3449, 0.4049, "+6 pts"),  # 34 % → 40 % (the raw change, 6.0, agrees)
        (0.3449, 0.4051, "+7 pts"),  # 34 % → 41 %, though the raw change rounds to 6
        (0.6049, 0.5251, "−7 pts"),  # 60 % → 53 %, though the raw change rounds to −8
        (0.3151, 0.3549, "+3 pts"),  # 32 % → 35 %, though the raw change rounds to 4
        (0.40, 0.45, "+5 pts"),
        (0.404, 0.396, "stable"),  # 40 % → 40 %
        (0.404, 0.414, "+1 pt"),
        (None, 0.4, "—"),
        ("—", 0.4, "—"),  # a withheld rate
    ],
)
def test_points_are_the_difference_of_the_printed_percentages(before, after, shown):
    assert plain(compare.points_text(before, after)) == shown


def test_shown_points_agree_with_french_percent_everywhere():
    values = [i / 1000 for i in range(0, 1001)] + [i / 200 for i in range(0, 201)]
    for a in values[::7]:
        for b in values[::11]:
            shown_a = int(plain(t.percent(a)).removesuffix(" %"))
            shown_b = int(plain(t.percent(b)).removesuffix(" %"))
            assert compare.shown_points(a, b) == shown_b - shown_a


# --- 4. « Ce qui a changé »: agreement, the loss of a formal frame, no zero sentence --------


COUNTS = {
    "kept": 185,
    "new": 41,
    "lost": 17,
    "strengthened": 81,
    "became_formal": 27,
    "more_carriers": 66,
    "weakened": 14,
    "not_observed": 0,
    "newly_observed": 5,
}


def test_weakened_links_lose_their_formal_frame():
    lines = [plain(x) for x in evolution.change_lines(COUNTS)]
    assert lines[-1] == "14 se sont affaiblis (moins de personnes, ou perte du cadre formel)."
    assert not any("plus de cadre formel" in x for x in lines)
    assert lines[0] == "185 partenariats sont toujours là ;"
    one = [plain(x) for x in evolution.change_lines({k: 1 for k in COUNTS})]
    assert one[1] == "1 est nouveau ;" and one[-1].startswith("1 s'est affaibli (")
    zero = [plain(x) for x in evolution.change_lines(dict.fromkeys(COUNTS, 0))]
    assert zero[1] == "aucun n'est nouveau ;" and zero[3] == "aucun ne s'est renforcé ;"
    assert not any(re.match(r"0\b", x) for x in zero)


def test_a_zero_count_of_unobserved_links_is_left_out():
    note = plain(evolution.unobserved_note(COUNTS, 2024) or "")
    assert not re.search(r"\b0 liens?\b", note)
    assert note == (
        "5 liens apparaissent seulement parce que des structures silencieuses l'an dernier "
        "ont répondu : ils ne sont comptés ni comme perdus ni comme nouveaux."
    )
    both = plain(
        evolution.unobserved_note({**COUNTS, "not_observed": 4, "newly_observed": 2}, 2025) or ""
    )
    assert both.startswith("4 liens de 2025 n'ont pas pu être observés cette année")
    assert " et 2 apparaissent seulement " in both
    one = plain(
        evolution.unobserved_note({**COUNTS, "newly_observed": 0, "not_observed": 1}, 2025) or ""
    )
    assert one.startswith("1 lien de 2025 n'a pas pu être observé cette année")
    assert one.endswith("il n'est compté ni comme perdu ni comme nouveau.")
    assert evolution.unobserved_note({**COUNTS, "newly_observed": 0}, 2024) is None


# --- 5. frameless partnerships said as their table row has them -----------------------------


def _frameless(carriers: int | str, frequent: int | str) -> str:
    d = {
        "official": {
            "without_life": [],
            "without_frame": [
                {
                    "a": {"id": 1, "name": "CAF de la Creuse"},
                    "b": {"id": 2, "name": "CPAM de la Creuse"},
                    "carriers": carriers,
                    "declarations": carriers,
                    "frequent": frequent,
                }
            ],
        }
    }
    (finding,) = findings.official_findings(d)
    return plain(finding.sentence)


def test_frameless_sentence_follows_its_table_row():
    # The demo's row « CAF | CPAM | 4 | < 3 »: four carriers, fewer than three say weekly or
    # monthly.
    for frequent in ("< 3", 2, 1):
        said = _frameless(4, frequent)
        assert said == (
            "« CAF de la Creuse » et « CPAM de la Creuse » travaillent ensemble sans convention, "
            "sans instance commune et sans cadre déclaré : 4 professionnels déclarent ce lien, "
            "dont moins de trois qui disent travailler ensemble chaque semaine ou chaque mois."
        )
    assert "4 professionnels déclarent ce lien, et tous disent" in _frameless(4, 4)
    assert "5 professionnels déclarent ce lien, dont 3 qui disent" in _frameless(5, 3)


@pytest.mark.parametrize(("carriers", "frequent"), [(2, 1), (1, 1), (2, 2), ("< 3", "< 3")])
def test_frameless_sentence_never_prints_one_or_two_people(carriers, frequent):
    said = _frameless(carriers, frequent)
    assert "moins de trois professionnels déclarent ce lien" in said
    assert not re.search(r"\b[12]\b", said), said

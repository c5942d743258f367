"""A viewer's campaign follow-up: no « < 3 » comes back by subtraction (reports.privacy).

The tester's table (/t/23/campagnes/2026, « Réponses par structure »): a structure's
invited is the sum of its not started, drafts and submitted; the overall counts and the rows
per type of structure are the sums of the structures' rows. Hiding only the cells of 1 or 2
let « 4 | < 3 | 0 | 3 » read as 1 not started. `protect_table` hides enough others.
"""

from __future__ import annotations

import html as html_lib
import itertools
import re
from collections import defaultdict

import pytest

from reports import privacy
from tests.accounts_helpers import login, make_user
from tests.reports.builders import Builder

SMALL, HIDDEN = privacy.SMALL_DATA, privacy.HIDDEN
COLS = ("invited", "not_started", "draft", "submitted")
ROW = [("T", ("N", "D", "S"))]

# Structure → (type, not started, drafts, submitted). The first three are the tester's.
STRUCTURES = {
    "CARSAT Centre-Ouest": ("carsat", 1, 0, 3),
    "CAF de la Creuse": ("caf", 3, 0, 2),
    "Conseil départemental": ("departements", 5, 1, 6),
    "CCAS de Guéret": ("ccas-cias", 3, 0, 3),
    "CCAS d'Aubusson": ("ccas-cias", 2, 2, 4),
    "SIAO": ("siao", 0, 0, 1),
}


# --- the helper on hand-made rows -----------------------------------------------------------


def row(t: int, n: int, d: int, s: int) -> list[int | str]:
    out = privacy.protect_table({"T": t, "N": n, "D": d, "S": s}, ROW)
    return [out[k] for k in "TNDS"]


def test_the_testers_rows_keep_their_secret():
    # 1 not started of 4: « < 3 » + « < 3 » + (3 or more) = 4 is 1 + 0 or 0 + 1.
    assert row(4, 1, 0, 3) == [4, SMALL, SMALL, HIDDEN]
    # 2 submitted of 5: 0 + 2, 1 + 1, 2 + 0, 1 + 0…
    assert row(5, 3, 0, 2) == [5, HIDDEN, SMALL, SMALL]
    # 1 draft of 12: 12 = (3 or more) + 1 or 2 + (3 or more).
    assert row(12, 5, 1, 6) == [12, HIDDEN, SMALL, HIDDEN]


def test_rows_without_small_counts_or_whose_total_would_tell():
    assert row(9, 0, 0, 9) == [9, 0, 0, 9]  # nothing small: nothing hidden
    assert row(6, 3, 1, 2) == [6, HIDDEN, SMALL, SMALL]
    # A total of « < 3 »: which status the one or two people are in is not said.
    assert row(1, 0, 0, 1) == [SMALL, SMALL, SMALL, SMALL]
    assert row(2, 0, 1, 1) == [SMALL, SMALL, SMALL, SMALL]
    # 6 = three « < 3 » is 2 + 2 + 2; 7 = « < 3 » + two « masqué » is 1 + 3 + 3: such
    # totals are hidden, with their neighbours (5 = 2 + 2 + 1, 8 = 2 + 3 + 3) so that a
    # hidden total does not tell either.
    assert row(6, 2, 2, 2) == [HIDDEN, SMALL, SMALL, SMALL]
    assert row(5, 2, 2, 1) == [HIDDEN, SMALL, SMALL, SMALL]
    assert row(7, 1, 3, 3) == [HIDDEN, SMALL, HIDDEN, HIDDEN]
    assert row(8, 2, 3, 3) == [HIDDEN, SMALL, HIDDEN, HIDDEN]
    assert row(9, 1, 3, 5) == [9, SMALL, HIDDEN, HIDDEN]


def test_a_column_total_hides_a_second_cell_of_the_column():
    """Two structures and their total row, only the columns as lines: a lone « < 3 » in a
    column would be the total minus the other structure's count."""
    values = {("a", "N"): 1, ("b", "N"): 7, ("all", "N"): 8}
    out = privacy.protect_table(values, [], [(("all", "N"), [("a", "N"), ("b", "N")])])
    assert out == {("a", "N"): SMALL, ("b", "N"): HIDDEN, ("all", "N"): 8}


def test_no_row_gives_a_small_count_back_to_whoever_knows_the_rule():
    """Every row of up to 15 people: group the rows by what a viewer reads; wherever a row
    holds 1 or 2 people in a hidden cell, the rows that read the same differ in that cell.
    The reader knows the whole rule, « the smallest was hidden » included: this is all they
    can deduce."""
    seen: dict[tuple, list[tuple[int, ...]]] = defaultdict(list)
    for n, d, s in itertools.product(range(16), repeat=3):
        if 0 < n + d + s <= 15:
            values = (n + d + s, n, d, s)
            seen[tuple(row(*values))].append(values)
    assert len(seen) > 100
    for shown, rows in seen.items():
        for i, mark in enumerate(shown):
            if mark in (SMALL, HIDDEN) and any(privacy.is_small(r[i]) for r in rows):
                assert len({r[i] for r in rows}) >= 2, (shown, rows)


# --- the page ---------------------------------------------------------------------------------


@pytest.fixture
def world(session):
    b = Builder.start(session)
    campaign = b.campaign(2026, "open")
    for name, (kind, not_started, drafts, submitted) in STRUCTURES.items():
        key = re.sub(r"\W", "", name).lower()
        b.org(key, kind).name = name
        for i, status in enumerate(
            ["not_started"] * not_started + ["draft"] * drafts + ["submitted"] * submitted
        ):
            b.pro(f"{key}{i}", key)
            b.invite(campaign, f"{key}{i}")
            if status != "not_started":
                b.respond(campaign, f"{key}{i}", [], status=status)
    session.commit()
    return b


def _cell(text: str) -> int | str:
    text = re.sub(r"<[^>]+>", "", text).replace("&lt;", "<").replace("&nbsp;", " ")
    text = html_lib.unescape(text).replace("\u00a0", " ").strip()
    return int(text) if text.isdigit() else text


def _table(html: str, label: str) -> dict[str, list]:
    """The rows of the table `label`: name → [invited, not started, draft, submitted, rate]."""
    table = re.search(rf'aria-label="{label}">(.*?)</table>', html, re.S)
    assert table, label
    rows = {}
    for tr in re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", table.group(1), re.S):
        name, rest = tr.split("</th>", 1)
        cells = re.findall(r"<td[^>]*>(.*?)</td>", rest, re.S)
        rows[_cell(name)] = [_cell(c) for c in cells[:4]] + [_cell(cells[4])]
    return rows


def _overall(html: str) -> list[int | str]:
    ul = re.search(r'<ul class="followup-counts">(.*?)</ul>', html, re.S)
    assert ul
    return [_cell(c) for c in re.findall(r"<strong>(.*?)</strong>", ul.group(1))]


def _possible(mark: int | str, bound: int) -> set[int]:
    """What a reader knows of a cell: its number, 0 to 2 for « < 3 » (a 0 hiding another
    reads « < 3 » too), 3 and more for « masqué »."""
    if isinstance(mark, int):
        return {mark}
    if mark == SMALL:
        return {0, 1, 2}
    assert mark == HIDDEN, mark
    return set(range(3, bound + 1))


def _unrecoverable(total: int | str, parts: list[int | str], bound: int) -> list[str]:
    """Hidden cells of a line (total = sum of parts) that the shown numbers pin down."""
    cells = [total, *parts]
    options = [sorted(_possible(c, bound)) for c in cells]
    solutions = [v for v in itertools.product(*options) if v[0] == sum(v[1:])]
    return [
        f"cell {i} is always {solutions[0][i]}"
        for i, c in enumerate(cells)
        if not isinstance(c, int) and len({v[i] for v in solutions}) < 2
    ]


def test_a_viewer_cannot_recover_a_small_count_by_subtraction(client, session, world):
    make_user(session, "lecteur@example.org", role="viewer", territory=world.territory)
    login(client, "lecteur@example.org")
    page = client.get("/t/23/campagnes/2026")
    assert page.status_code == 200
    html = page.text
    by_org = _table(html, "Réponses par structure")
    by_type = _table(html, "Réponses par type de structure")
    overall = _overall(html)
    assert set(by_org) == set(STRUCTURES)
    bound = sum(sum(v[1:]) for v in STRUCTURES.values())
    rows = {**by_org, **{f"type {k}": v for k, v in by_type.items()}, "Ensemble": overall}
    for name, cells in rows.items():
        total, parts = cells[0], cells[1:4]
        masked = [c for c in parts if not isinstance(c, int)]
        if masked:
            # The unknown remainder is spread over two hidden cells at least, or the total
            # is hidden.
            assert len(masked) >= 2 or not isinstance(total, int), (name, cells)
        assert _unrecoverable(total, parts, bound) == [], (name, cells)
        if len(cells) > 4 and not (isinstance(total, int) and isinstance(cells[3], int)):
            rate = str(cells[4])  # no rate to multiply back
            assert rate.startswith("—") and "%" not in rate, (name, cells)
    # Down each column: the overall count is the sum of the structures' counts.
    for i, column in enumerate(COLS):
        down = [cells[i] for cells in by_org.values()]
        if any(not isinstance(c, int) for c in down):
            assert sum(not isinstance(c, int) for c in down) >= 2 or not isinstance(
                overall[i], int
            ), (column, overall[i], down)
            assert _unrecoverable(overall[i], down, bound) == [], (column, overall[i], down)
    # The tester's three rows. (CARSAT's total is hidden too: the SIAO's 1 invited would
    # otherwise be the overall invited minus every other structure's.)
    assert by_org["CARSAT Centre-Ouest"][1:4] == [SMALL, SMALL, HIDDEN]
    assert by_org["CAF de la Creuse"][:4] == [5, HIDDEN, SMALL, SMALL]
    assert by_org["Conseil départemental"][:4] == [12, HIDDEN, SMALL, HIDDEN]
    assert "« masqué »" in html


def test_a_coordinator_still_reads_every_count(client, session, world):
    make_user(session, "coord@example.org", territory=world.territory)
    login(client, "coord@example.org")
    html = client.get("/t/23/campagnes/2026").text
    by_org = _table(html, "Réponses par structure")
    for name, (_, n, d, s) in STRUCTURES.items():
        assert by_org[name][:4] == [n + d + s, n, d, s], name
    assert HIDDEN not in html and "&lt; 3" not in html

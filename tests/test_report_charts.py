"""The report's charts checked on the data they are drawn from, not only on their text
(issue 19): a bar drawn at its true length for 1 or 2 people reveals what « < 3 » hides.

`reports.charts.hbars` is replaced by a recorder that keeps its items (label, bar length,
printed value) and then draws as usual.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from reports import charts, pdf
from reports.pdf.fonts import register_fonts
from reports.pdf.sections import obstacles
from reports.pdf.styles import styles
from tests.factories import build_world
from tests.test_report_pdf import _answer_2026

SMALL = "<\u00a03"  # « < 3 » as printed


@pytest.fixture
def drawn(monkeypatch) -> list[list[tuple[str, float, str]]]:
    """The items of every horizontal bar chart drawn while the test runs."""
    calls: list[list[tuple[str, float, str]]] = []
    real = charts.hbars

    def recording(items, *args, **kwargs):
        calls.append(list(items))
        return real(items, *args, **kwargs)

    monkeypatch.setattr(charts, "hbars", recording)
    return calls


def _obstacles(counts: dict[str, int]) -> dict:
    totals = [
        {"code": code, "label": code, "responses": n}
        for code, n in sorted(counts.items(), key=lambda x: -x[1])
    ]
    by_type = [
        {"type": "caf", "type_label": "CAF", "respondents": 9, "obstacles": dict(counts)},
    ]
    return {"respondents": 9, "totals": totals, "by_type": by_type}


def test_obstacle_bars_of_one_or_two_people_do_not_show_their_length(drawn):
    counts = {"lack_of_time": 7, "turnover": 3, "admin_delays": 2, "other": 1}
    register_fonts()
    ctx = SimpleNamespace(data=SimpleNamespace(obstacles=_obstacles(counts)), styles=styles())
    obstacles.section(ctx)  # type: ignore[arg-type]
    assert len(drawn) == 1
    bars = {label: (length, printed) for label, length, printed in drawn[0]}
    assert bars == {
        "lack_of_time": (7, "7"),
        "turnover": (3, "3"),
        # The same bar for 1 and 2, and not their length: only « < 3 » is said.
        "admin_delays": (0, SMALL),
        "other": (0, SMALL),
    }


def test_no_chart_of_the_report_draws_a_hidden_count(session, drawn):
    """Every bar of the whole report whose value is printed « < 3 » has no length: the
    chart says nothing the text hides (Bruno alone cites turn-over here)."""
    world = build_world(session)
    _answer_2026(session, world)
    pdf.build_report(session, world.this_year, world.last_year)
    items = [item for call in drawn for item in call]
    hidden = [(label, length) for label, length, printed in items if printed == SMALL]
    assert hidden, "the world has no count of 1 or 2 drawn in a chart"
    assert all(length == 0 for _, length in hidden), hidden

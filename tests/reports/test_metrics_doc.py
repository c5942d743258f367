"""docs/metrics.md names every figure function, and each named function exists."""

from __future__ import annotations

import re
from pathlib import Path

from reports import figures

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def test_every_figure_is_documented_once_and_exists():
    named = re.findall(r"\[`(\w+)`\]", DOC.read_text(encoding="utf-8"))
    assert len(named) == len(set(named))
    for name in named:
        assert callable(getattr(figures, name)), name
    # all_figures serves every graph figure (obstacles read the database; the headline is
    # rebuilt from the others and checked in test_figures).
    served = set(figures.all_figures.__code__.co_names)
    assert set(named) - {"obstacles", "headline"} <= served

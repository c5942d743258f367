"""docs/architecture.md names real files: every path it quotes exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"


def test_every_quoted_path_exists():
    text = DOC.read_text(encoding="utf-8")
    paths = set(re.findall(r"`((?:app|reports|survey|tests|migrations|docs)/[\w./]*)`", text))
    assert len(paths) > 20
    templates = ROOT / "app" / "templates" / "questionnaire"
    for name in re.findall(r"`(\w+\.html)`", text):
        assert (templates / name).exists() or (ROOT / "app/templates/graph" / name).exists(), name
    for path in paths:
        assert (ROOT / path).exists(), path

"""docs/security.md cites tests as proofs: every cited test file and function must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "security.md"


def cited_tests(text: str) -> list[tuple[str, str]]:
    """(file, function) pairs; `::name` alone refers to the last file named before it."""
    out = []
    current = None
    for match in re.finditer(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`", text):
        path, name = match.groups()
        if path:
            current = path
        if name:
            assert current, f"::{name} cited before any test file"
            out.append((current, name))
    return out


def test_every_cited_test_exists():
    cited = cited_tests(DOC.read_text())
    assert len(cited) >= 40
    missing = []
    for path, name in cited:
        file = ROOT / path
        if not file.exists() or not re.search(rf"^def {name}\(", file.read_text(), re.M):
            missing.append(f"{path}::{name}")
    assert not missing, missing


def test_the_check_sees_a_missing_test():
    assert cited_tests("`tests/test_x.py::test_a`, `::test_b`") == [
        ("tests/test_x.py", "test_a"),
        ("tests/test_x.py", "test_b"),
    ]

"""The toy question of `tests/toy_question_checks.py`, in a process of its own: the
registry is read once, when the application is imported, so the toy must be registered
before (`-p tests.toy_question`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_toy_question_through_the_registry():
    # A temporary SQLite database: the PostgreSQL one belongs to this process's tests.
    env = {
        k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "REQUIRE_POSTGRES")
    }
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.toy_question",
         "-k", "sqlite", "tests/toy_question_checks.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert re.search(r"^5 passed, 5 deselected", run.stdout, re.MULTILINE), run.stdout[-2000:]

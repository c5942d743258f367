"""Drive mutmut for bench/mutation.sh: one module, its own test files, then its score.

`python bench/mutation_run.py run MODULE JOBS TEST...` runs mutmut in the current directory
(a scratch directory made by the script) with `only_mutate` narrowed to MODULE and the test
selection narrowed to TEST...: [tool.mutmut] in pyproject.toml stays the plain default.
`python bench/mutation_run.py recheck MODULE JOBS EQUIVALENT_FILE TEST...` runs the survivors
again (mutmut keeps a verdict otherwise, even when a new test would now kill the mutant).
`python bench/mutation_run.py score MODULE EQUIVALENT_FILE` prints the module's counts.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path


def run(module: str, jobs: str, tests: list[str], names: list[str] | None = None) -> None:
    from mutmut import configuration

    cfg = configuration.config()
    cfg.only_mutate = [module]
    if tests:
        # mutmut forgets every verdict when the test selection changes; a tests/test_bite_*.py
        # file appearing must not cost a full run, so it is left out of that comparison
        # (mutmut still finds its tests as new ones and maps them).
        stable = [t for t in tests if "test_bite_" not in t]
        cfg.pytest_add_cli_args_test_selection = stable
        fingerprint = cfg.config_fingerprint()
        cfg.pytest_add_cli_args_test_selection = [
            t for t in tests if t.startswith("-") or Path(t).exists()
        ]
        cfg.config_fingerprint = lambda: fingerprint  # type: ignore[method-assign]
    from mutmut.__main__ import cli

    cli(["run", "--max-children", jobs, *(names or [])])


def results(module: str) -> dict[str, int | None]:
    meta = Path("mutants") / (module + ".meta")
    if not meta.exists():
        return {}
    return json.loads(meta.read_text())["exit_code_by_key"]


def recheck(module: str, jobs: str, equivalent_file: str, tests: list[str]) -> None:
    """Run the survivors again: mutmut keeps a verdict until asked, and new tests may kill them."""
    from mutmut.stats import status_by_exit_code

    equivalent = equivalent_names(Path(equivalent_file), module)
    names = [
        name
        for name, code in sorted(results(module).items())
        if status_by_exit_code[code] in ("survived", "no tests", "suspicious")
        and name not in equivalent
    ]
    if names:
        run(module, jobs, tests, names)


def equivalent_names(path: Path, module: str) -> set[str]:
    """Mutant names listed in `path` (one per line, `name  reason`) for `module`."""
    prefix = module.removesuffix(".py").replace("/", ".") + "."
    names = set()
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            words = line.split("#", 1)[0].split()
            if words and words[0].startswith(prefix):
                names.add(words[0])
    return names


def score(module: str, equivalent_file: str) -> None:
    from mutmut.stats import status_by_exit_code

    found = results(module)
    equivalent = equivalent_names(Path(equivalent_file), module)
    counts: Counter[str] = Counter()
    survivors = []
    for name, code in sorted(found.items()):
        status = status_by_exit_code[code]
        if status in ("survived", "no tests") and name in equivalent:
            status = "equivalent"
        elif status in ("survived", "no tests", "suspicious"):
            survivors.append(f"{name} ({status})")
        counts[status] += 1
    total = len(found)
    caught = counts["killed"] + counts["timeout"] + counts["caught by type check"]
    # An interrupted run leaves mutants not checked: the score is then over those checked.
    counted = total - counts["equivalent"] - counts["not checked"]
    ratio = 100 * caught / counted if counted else 100.0
    details = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
    partial = " PARTIAL" if counts["not checked"] else ""
    print(f"{module}: {ratio:.1f} %{partial} ({caught} / {counted}; {total} mutants: {details})")
    for line in survivors:
        print(f"  not killed: {line}")


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "run":
        run(args[0], args[1], args[2:])
    elif command == "recheck":
        recheck(args[0], args[1], args[2], args[3:])
    elif command == "score":
        score(args[0], args[1])
    else:
        sys.exit(f"unknown command {command!r}")

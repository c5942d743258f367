#!/usr/bin/env bash
# Mutation testing with mutmut (docs/testing.md): slow, so run by hand, not in CI.
#
#   bench/mutation.sh                      # the nine modules, one after the other
#   bench/mutation.sh app/security.py      # one or more modules
#   MUTATION_JOBS=2 bench/mutation.sh ...  # more child processes (default 1: shared machine)
#
# Each module runs in var/mutation/<module>/ (symlinks to the sources, mutmut's mutants/ inside)
# on the SQLite suite only, without the browser tests, and with only the test files that
# exercise it (listed below). A second run reuses mutmut's results and runs the survivors again
# (a new test may kill them); delete the directory to start over. Survivors judged equivalent are listed in bench/mutation_equivalent.txt.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=$ROOT/.venv/bin/python
JOBS=${MUTATION_JOBS:-1}
EQUIVALENT=$ROOT/bench/mutation_equivalent.txt

if ! "$PY" -c 'import mutmut' 2>/dev/null; then
  "$ROOT/.venv/bin/pip" install -e "$ROOT[mutation]"
fi
unset TEST_DATABASE_URL REQUIRE_POSTGRES REQUIRE_BROWSER

ALL=(
  app/security.py
  survey/links.py
  survey/link_throttle.py
  survey/privacy.py
  reports/privacy.py
  reports/figures.py
  reports/graph.py
  reports/compare.py
  survey/questionnaire.py
)

# The test files that exercise each module (mutmut then maps each function to the tests
# among these that reach it). The whole suite would cost a stats run of 10+ minutes.
tests_for() {
  case "$1" in
    app/security.py)
      # Not the route walks (tests/test_isolation.py, two of tests/test_csrf.py): half a minute
      # each per surviving mutant; tests/test_bite_security.py checks CSRF on one route.
      echo tests/test_auth.py tests/test_csrf.py tests/test_deps.py tests/test_viewer_accounts.py \
        --deselect=tests/test_csrf.py::test_writes_without_the_token_are_refused_and_change_nothing \
        --deselect=tests/test_csrf.py::test_odd_tokens_are_refused_with_403_on_every_csrf_route \
        tests/test_bite_security.py ;;
    survey/links.py)
      echo tests/test_links.py tests/test_bite_links.py ;;
    survey/link_throttle.py)
      echo tests/test_link_guessing.py tests/test_bite_link_throttle.py ;;
    survey/privacy.py)
      echo tests/test_rgpd.py tests/test_tag_bits.py tests/test_audit_retention.py \
        tests/test_field_registry.py tests/test_frozen_campaigns.py tests/test_bite_survey_privacy.py ;;
    reports/privacy.py)
      # Pure functions on dicts: the page tests that reach them add minutes, not kills.
      echo tests/reports/test_small_counts.py tests/test_bite_reports_privacy.py ;;
    reports/figures.py)
      # Not the test reading all_figures' own names (__code__.co_names): under mutmut the
      # function is a trampoline whose code names none of them, and the stats run fails.
      echo tests/reports/test_figures.py tests/reports/test_metrics_doc.py tests/test_figures_all.py \
        tests/test_figures_igraph.py tests/test_bite_figures.py \
        --deselect=tests/reports/test_metrics_doc.py::test_every_figure_is_documented_once_and_exists ;;
    reports/graph.py)
      echo tests/reports/test_graph.py tests/reports/test_graph_merges.py tests/test_graph_cache.py \
        tests/test_bite_graph.py ;;
    reports/compare.py)
      echo tests/reports/test_compare.py tests/test_bite_compare.py ;;
    survey/questionnaire.py)
      echo tests/test_questionnaire_rules.py tests/test_questionnaire_stored.py \
        tests/test_questionnaire_api.py tests/test_questionnaire_write_path.py \
        tests/test_bite_questionnaire.py ;;
    *) echo "Module inconnu : $1" >&2; return 1 ;;
  esac
}

modules=("$@")
[ ${#modules[@]} -eq 0 ] && modules=("${ALL[@]}")

for module in "${modules[@]}"; do
  selection=$(tests_for "$module") || exit 2
  read -r -a tests <<<"$selection"
  name=${module%.py}
  work=$ROOT/var/mutation/${name//\//.}
  mkdir -p "$work"
  for entry in app survey reports migrations tests bench docs alembic.ini pyproject.toml README.md; do
    ln -sfn "$ROOT/$entry" "$work/$entry"
  done
  echo "== $module (tests: ${tests[*]}; $JOBS job(s); load $(cut -d' ' -f1-3 /proc/loadavg))"
  start=$(date +%s)
  # mutmut redraws its progress line: the log keeps it, the terminal gets the outcome.
  if ! (cd "$work" && "$PY" "$ROOT/bench/mutation_run.py" run "$module" "$JOBS" "${tests[@]}" &&
    "$PY" "$ROOT/bench/mutation_run.py" recheck "$module" "$JOBS" "$EQUIVALENT" "${tests[@]}") \
    >"$work/run.log" 2>&1; then
    tr '\r' '\n' <"$work/run.log" | tail -n 30
    echo "mutmut a échoué sur $module (journal : $work/run.log)" >&2
    exit 1
  fi
  elapsed=$(($(date +%s) - start))
  (cd "$work" && "$PY" "$ROOT/bench/mutation_run.py" score "$module" "$EQUIVALENT")
  echo "   took ${elapsed}s (load $(cut -d' ' -f1-3 /proc/loadavg))"
done

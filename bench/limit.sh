#!/usr/bin/env bash
# The write path against its limit, back to back in one run (PostgreSQL only):
#   1. bench/load.py --flow submit: the API submission of 15 partners through the whole web
#      stack (`carte serve --workers W`, C concurrent respondents, closed loop), with the
#      answers whose rows bench/submit_limit.sql writes (`--answers limit`: 15 links, 30 tag
#      rows; ANSWERS=varied sends the bench's spread of answers, about 70 tag rows);
#   2. pgbench with bench/submit_limit.sql: the same rows written as plain SQL, C clients,
#      on the same database right after, for the same duration;
# then both rates and their ratio (web / pgbench), and the CPU each spent per submission
# (web: server processes + the database's backends; pgbench: backends + pgbench). The rates
# need a machine left to the bench (other jobs take CPU from the Python workers far more
# than from pgbench's 32 backends); CPU per submission holds when the machine is shared.
#
#   bench/limit.sh [database]            # default carte_limit, created if missing (emptied)
#   DURATION=20 CONCURRENCY=32 WORKERS=2 RUNS=3 ANSWERS=limit bench/limit.sh carte_limit
#
# Everything on 127.0.0.1 (PGHOST/PGPORT/PGUSER, default 127.0.0.1:5432, postgres). The
# database is dedicated to the bench: load.py empties it and migrates it to the head.
# RUNS > 1 repeats the pair and also prints the best of each and the ratio of the bests.
set -euo pipefail

DB=${1:-carte_limit}
DURATION=${DURATION:-20}
CONCURRENCY=${CONCURRENCY:-32}
WORKERS=${WORKERS:-2}
RUNS=${RUNS:-1}
ANSWERS=${ANSWERS:-limit}
# Enough respondents that the run ends on DURATION, not for want of respondents.
RESPONDENTS=${RESPONDENTS:-$((DURATION * 1200))}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
case $PGHOST in 127.0.0.1 | localhost | ::1) ;; *) echo "loopback only (PGHOST=$PGHOST)" >&2; exit 2 ;; esac

cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
URL="postgresql+psycopg://$PGUSER@$PGHOST:$PGPORT/$DB"
OUT=$(mktemp -d /tmp/carte_limit.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }

if [ -z "$(psql -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
    psql -d postgres -c "CREATE DATABASE \"$DB\""
fi

web_rates=() sql_rates=() cpu_ratios=()
for run in $(seq 1 "$RUNS"); do
    echo "== run $run/$RUNS: $(date -u '+%Y-%m-%d %H:%M:%S') UTC, load average $(cut -d' ' -f1-3 /proc/loadavg), answers $ANSWERS"
    # 1. The web stack (load.py empties the database, migrates it, prepares the territory).
    "$PY" -m bench.load --url "$URL" --flow submit --answers "$ANSWERS" --workers "$WORKERS" \
        --concurrency "$CONCURRENCY" --respondents "$RESPONDENTS" --duration "$DURATION" \
        --json "$OUT/load.json" | sed 's/^/  load: /'
    web=$("$PY" -c 'import json, sys; print("%.1f" % json.load(open(sys.argv[1]))["submissions_per_s"])' "$OUT/load.json")

    # 2. What pgbench needs: a response row for every respondent of the bench's open
    # campaign (those who did not submit get a draft), ids without gaps (pgbench draws them
    # in [rmin, rmax]), and 16 structures from the smallest id on (partners min(id) + 1…15).
    psql -d "$DB" <<'SQL'
INSERT INTO response (campaign_id, professional_id, organisation_id, status,
                      questionnaire_version, function, obstacle_other, body_other, comment,
                      created_at, updated_at)
SELECT i.campaign_id, p.id, p.organisation_id, 'draft', 'bench', '', '', '', '', now(), now()
FROM invitation i JOIN professional p ON p.id = i.professional_id
WHERE NOT EXISTS (SELECT 1 FROM response r
                  WHERE r.campaign_id = i.campaign_id AND r.professional_id = p.id);
ANALYZE;
SQL
    read -r rmin rmax count orgs < <(psql -d "$DB" -AtF' ' -c \
        "SELECT min(id), max(id), count(*), (SELECT count(*) FROM organisation
                WHERE id BETWEEN (SELECT min(id) FROM organisation) + 1
                             AND (SELECT min(id) FROM organisation) + 15) FROM response")
    if [ "$count" -ne $((rmax - rmin + 1)) ] || [ "$orgs" -ne 15 ]; then
        echo "response ids $rmin..$rmax hold $count rows, $orgs partners: not what the pgbench script needs" >&2
        exit 1
    fi
    # CPU of pgbench's run: its backends (sampled, they exit with it) and pgbench itself.
    # pgbench starts once the sampler has imported its module: on a busy machine that import
    # took longer than the whole pgbench run, and its backends' CPU was then missed.
    rm -f "$OUT/done" "$OUT/ready"
    "$PY" -c 'import sys; from pathlib import Path; from bench.load import sample_database_cpu
Path(sys.argv[3]).touch(); print(sample_database_cpu(sys.argv[1], Path(sys.argv[2])))' \
        "$DB" "$OUT/done" "$OUT/ready" >"$OUT/pgcpu" &
    sampler=$!
    while [ ! -e "$OUT/ready" ]; do
        kill -0 "$sampler" 2>/dev/null || { echo "the CPU sampler exited" >&2; exit 1; }
        sleep 0.1
    done
    TIMEFORMAT='%U %S'
    { time pgbench -n -f bench/submit_limit.sql -D rmin="$rmin" -D rmax="$rmax" \
        -c "$CONCURRENCY" -j 2 -T "$DURATION" "$DB" >"$OUT/pgbench.txt"; } 2>"$OUT/pgbench.time"
    touch "$OUT/done"
    wait "$sampler"
    sql=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$OUT/pgbench.txt" | head -1)
    txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$OUT/pgbench.txt")
    sed -n '/^number of failed\|^latency average\|^tps/s/^/  pgbench: /p' "$OUT/pgbench.txt"

    # CPU per submission, web: server processes + this database's backends (other jobs on
    # the machine excluded); pgbench: its backends + pgbench.
    read -r web_cpu <<<"$("$PY" -c 'import json, sys; c = json.load(open(sys.argv[1]))["cpu_seconds"]; n = json.load(open(sys.argv[1]))["submissions"]
print("%.2f" % ((c["server"] + c.get("pg_this_db", c["postgresql"])) / n * 1000))' "$OUT/load.json")"
    sql_cpu=$(awk -v pg="$(cat "$OUT/pgcpu")" -v t="$(cat "$OUT/pgbench.time")" -v n="$txns" \
        'BEGIN { split(t, u, " "); printf "%.2f", (pg + u[1] + u[2]) / n * 1000 }')
    echo "  pgbench: CPU per transaction $sql_cpu ms (backends + pgbench)"

    ratio=$(awk -v a="$web" -v b="$sql" 'BEGIN { printf "%.2f", a / b }')
    cpu_ratio=$(awk -v a="$sql_cpu" -v b="$web_cpu" 'BEGIN { printf "%.2f", a / b }')
    echo "run $run: web $web submissions/s, pgbench $sql transactions/s, ratio $ratio;" \
        "CPU per submission web $web_cpu ms, pgbench $sql_cpu ms, CPU ratio $cpu_ratio"
    web_rates+=("$web") sql_rates+=("$sql") cpu_ratios+=("$cpu_ratio")
done

best() { printf '%s\n' "$@" | sort -g | tail -1; }
if [ "$RUNS" -gt 1 ]; then
    bw=$(best "${web_rates[@]}") bs=$(best "${sql_rates[@]}")
    ratios=""
    for i in "${!web_rates[@]}"; do
        ratios+=$(awk -v a="${web_rates[$i]}" -v b="${sql_rates[$i]}" 'BEGIN { printf " %.2f", a / b }')
    done
    echo "best of $RUNS: web $bw submissions/s, pgbench $bs transactions/s," \
        "ratio $(awk -v a="$bw" -v b="$bs" 'BEGIN { printf "%.2f", a / b }') (ratio of each run:$ratios)"
    echo "best CPU ratio of $RUNS: $(best "${cpu_ratios[@]}") (each run: ${cpu_ratios[*]})"
fi

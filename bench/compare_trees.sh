#!/usr/bin/env bash
# A paired comparison of two source trees, each with its own .venv (e.g. a
# `git worktree` of the commit before a change, and the change):
#   1. instructions per booking POST in each (python -m bench.instructions);
#   2. K load runs per tree, alternating A, B, A, B, … so that the shared
#      machine's drift falls on both alike: the README's "booking POST, 16
#      clients, many resources" row on PostgreSQL, measured as bench.run
#      does (production.ini's 2 workers × 4 threads under pserve, 5 app runs
#      of 2 s, each paired with a psycopg loop and a pgbench run; medians),
#      but that row alone: under a minute a run.
# Usage: bench/compare_trees.sh TREE_A TREE_B [K]      (K: 3 by default)
set -euo pipefail
[ $# -ge 2 ] || { sed -n 2,11p "$0"; exit 2; }
A=$(realpath "$1"); B=$(realpath "$2"); K=${3:-3}

# The load command (the same in both trees: bench.booking_load's own parts).
read -r -d '' LOAD <<'EOF' || true
from sqlalchemy import select
from booking.models import User
from bench.booking_load import RAW, Baselines, app_run, combine
from bench.common import database, python_speed_ms, seed
from bench.stack import Server
speed = python_speed_ms()
with database("postgresql") as db:
    world = seed(db, resources=RAW.stop, bookings=0, customers=16)
    with db.session() as s:
        world["customer_ids"] = s.scalars(select(User.id).order_by(User.id)).all()
    baselines = Baselines(db, world, 2.0, False)
    with Server(db.url) as server:
        runs = [baselines.paired(lambda run=run: app_run(
            db, server, world, "many resources", 16, run, 2.0, 5000), 16) for run in range(5)]
r = combine(runs)
print(f"{r['req_per_s']} req/s, p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, "
      f"409 {r['conflicts_409']}, 5xx {r['errors_5xx']}, other {r['other']}, "
      f"violations {r['capacity_violations']}, "
      f"app/psycopg {r['app_over_psycopg']}; runs {r['req_per_s_runs']} req/s; "
      f"python loop {speed}->{python_speed_ms()} ms")
EOF

for tree in "$A" "$B"; do
    echo "== instructions, $tree ($(git -C "$tree" rev-parse --short HEAD))"
    (cd "$tree" && .venv/bin/python -m bench.instructions)
done
for i in $(seq 1 "$K"); do
    for tree in "$A" "$B"; do
        echo "== load $i/$K, $tree: $(cd "$tree" && .venv/bin/python -c "$LOAD")"
    done
done

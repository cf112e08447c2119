"""The benchmark scripts run (tiny sizes), so they never rot: ``bench.run
--smoke`` must finish, and its JSON must hold every section of issue 8 with
the correctness checks passed (no 5xx, no capacity violation, no duplicate
email)."""

import json
import subprocess
import sys
from pathlib import Path

import psycopg

from .database import postgresql_available

ROOT = Path(__file__).resolve().parent.parent


def test_bench_smoke_run_produces_results():
    pg = postgresql_available()
    args = [sys.executable, "-m", "bench.run", "--smoke", "--backend", "sqlite"]
    if pg:
        args += ["--backend", "postgresql"]
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-5000:]
    results = json.loads((ROOT / "bench" / "results" / "smoke.json").read_text())
    backends = {"sqlite", "postgresql"} if pg else {"sqlite"}

    # 1. Booking POSTs through the real stack at 1, 4, 16 clients, both scenarios,
    # and 16 clients on servers of 1 to 4 workers of 2 to 8 threads.
    load = results["booking_load"]
    assert {(r["backend"], r["scenario"], r["clients"]) for r in load
            if r["scenario"] != "server sweep"} == {
        (b, s, c) for b in backends for s in ("many resources", "one resource")
        for c in (1, 4, 16)}
    assert {(r["backend"], r["workers"], r["threads"]) for r in load
            if r["scenario"] == "server sweep"} == {
        (b, w, t) for b in backends
        for w, t in ((1, 2), (1, 8), (2, 2), (2, 4), (2, 8), (4, 2))}
    for row in load:
        assert row["errors_5xx"] == 0 and row["capacity_violations"] == 0, row
        assert len(row["req_per_s_runs"]) == row["repeats"], row  # each run kept
        assert row["requests"] > 0 and row["created"] > 0, row
        assert row["p50_ms"] and row["p95_ms"] and row["p99_ms"], row
        if row["scenario"] != "one resource":
            assert row["created"] == row["requests"], row
        elif row["clients"] > 1:
            assert row["conflicts_409"] > 0, row
    if pg:
        raw = results["booking_raw"]
        assert {(r["method"], r["clients"]) for r in raw} == {
            ("psycopg, one connection", 1), ("pgbench", 1), ("pgbench", 4), ("pgbench", 16)}
        assert all(r["tps"] > 0 and r["capacity_violations"] == 0 for r in raw)
        # One psycopg loop and one pgbench run beside each many-resources app run.
        assert [r["repeats"] for r in raw] == [3, 1, 1, 1]
        assert all(r["app_over_psycopg"] > 0 for r in load
                   if r["backend"] == "postgresql" and r["scenario"] != "one resource")
        assert all(len(r["app_over_psycopg_runs"]) == r["repeats"] for r in load
                   if r["backend"] == "postgresql" and r["scenario"] == "many resources")
        assert all(r["app_over_pgbench"] > 0 for r in load
                   if r["backend"] == "postgresql" and r["scenario"] != "one resource")

    # 2 and 4. Availability and the staff calendar at three sizes, with plans.
    availability = results["availability"]
    assert {r["backend"] for r in availability} == backends
    assert all(len([r for r in availability if r["backend"] == b]) == 3 for b in backends)
    for row in availability:
        assert row["free_slots"] > 0 and row["http_p95_ms"] and row["calendar_p95_ms"], row
        assert row["http_p50_ratio"] is not None, row
    if pg:
        assert len(results["plans"]) == 3
        for plans in results["plans"].values():
            assert all("Execution Time" in plan for plan in plans.values()), plans

    # Venues near me (the maps bench), pages on the demo data.
    assert {r["backend"] for r in results["near_me"]} == backends
    assert {r["backend"] for r in results["pages"]} == backends
    paired = [r for r in results["pages"] if "ratio" in r]
    assert {r["backend"] for r in paired} == backends
    assert all(r["ratio"] > 0 and r["paused_median_ms"] > 0 for r in paired), paired

    # 3. Memory and 5. the worker: PostgreSQL only.
    if pg:
        (memory,) = results["memory"]
        assert memory["requests"] >= 200 and memory["errors_5xx"] == 0, memory
        assert memory["rss_before_kb"] > 0 and memory["growth_pct"] is not None
        assert {r["workers"] for r in results["worker"]} == {1, 4}
        assert all(r["duplicates"] == 0 for r in results["worker"])

    # The machine's speed at the run's start and end, so runs can be compared.
    assert results["python_loop_ms"]["start"] > 0 and results["python_loop_ms"]["end"] > 0


def test_settle_vacuums_and_analyzes_every_table(postgresql_db):
    from bench.common import libpq, settle

    def last_maintenance():
        with psycopg.connect(libpq(postgresql_db.url)) as connection:
            return dict(connection.execute(
                "SELECT relname, (last_vacuum, last_analyze) FROM pg_stat_user_tables"
                " WHERE relname IN ('bookings', 'audit_log', 'outbox')").fetchall())

    before = last_maintenance()
    settle(postgresql_db)
    after = last_maintenance()
    assert set(after) == {"bookings", "audit_log", "outbox"}
    for table, (vacuumed, analyzed) in after.items():
        assert vacuumed is not None and analyzed is not None, table
        assert after[table] != before[table], table


def test_settle_leaves_sqlite_alone(sqlite_db):
    from bench.common import settle

    settle(sqlite_db)  # no PostgreSQL statement sent to SQLite

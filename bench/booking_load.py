"""Bookings through the real stack, beside the raw database ceiling.

The app: ``pserve`` with a production-like INI (``bench.stack``): waitress
in production.ini's worker processes and threads (``booking.serve``), and a
load generator in another process
(``bench.loadgen``) POSTing ``/api/v1/t/bench/bookings`` with bearer
tokens, at 1, 4 and 16 concurrent clients (one keep-alive connection each):

- *many resources*: each client books its own resources' slots (little
  contention: every request should be a 201);
- *one resource*: every client books the same slots of one resource in the
  same order (full contention: one 201 per slot, the rest 409).

Beside them, the server sweep: many resources at 16 clients with 1 to 4
worker processes of 2 to 8 threads (one process runs Python on one core at
a time: more threads add switching, not throughput; more processes use the
other core).

The raw baseline, on PostgreSQL, in the same run and on the same schema:
the guard's transaction (``SELECT … FOR UPDATE`` on the resource row, the
sum of overlapping seats, ``INSERT`` of the booking, commit) issued with
psycopg on one connection in a loop, and by ``pgbench`` with a custom script
at the same number of clients, each just after or (alternately) just before
the many-resources app run it is paired with. The app's rate is quoted as
the median of its runs' ratios to both; the server sweep's, against the
baselines' medians (measured minutes apart: a rougher figure).

Each figure is the median of ``repeats`` runs bounded in time and count (5
for the many-resources rows, which carry the paired ratios; 3 for the
others); after each run an SQL check counts capacity violations (must be 0).
Before each run, the app's or a baseline's, the database is vacuumed and
analyzed (``common.settle``), so that no run pays for the autovacuum work
the one before it left. The rows keep each run's rate and ratios.

``python -m bench.booking_load [--smoke] [--backend …]``
"""

import argparse
import os
import re
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

import psycopg
from sqlalchemy import make_url, select

from booking.models import User

from .common import (NOW, ZONE, capacity_violations, database, libpq, median_of,
                     python_speed_ms, seed, settle, summary_ms)
from .loadgen import drive
from .stack import Server

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENTS = (1, 4, 16)
SPREAD, CONTENDED, RAW = range(0, 100), range(100, 150), range(150, 170)
DAYS_PER_RUN = 5  # 72 runs fit in the resources' year of advance booking
#: (workers, threads) of the server sweep.
SERVER_SWEEP = ((1, 2), (1, 8), (2, 2), (2, 4), (2, 8), (4, 2))
PGBENCH = shutil.which("pgbench") or "/usr/bin/pgbench"
#: The first instant the raw transactions book (far from the app's slots).
RAW_EPOCH = datetime(2030, 1, 1, tzinfo=UTC)

COLUMNS = ["backend", "scenario", "workers", "threads", "clients", "repeats", "requests", "created", "conflicts_409",
           "errors_5xx", "other", "req_per_s", "p50_ms", "p95_ms", "p99_ms",
           "capacity_violations", "pgbench_tps", "app_over_pgbench", "app_over_psycopg"]
RAW_COLUMNS = ["method", "clients", "repeats", "tps", "p50_ms", "p95_ms", "p99_ms",
               "capacity_violations"]

# -- the raw transaction -------------------------------------------------------

LOCK_SQL = "SELECT id FROM resources WHERE id = %(rid)s::int FOR UPDATE"
# The same predicate as AvailabilityService.occupancy (literal status set, so
# the partial index applies; the lower bound on block_start is MAX_BLOCK).
COUNT_SQL = """SELECT COALESCE(SUM(seats), 0) FROM bookings
WHERE resource_id = %(rid)s::int AND status IN ('held', 'confirmed')
  AND block_start < %(end)s AND block_start > %(start)s - interval '1 day'
  AND block_end > %(start)s"""
INSERT_SQL = """INSERT INTO bookings (tenant_id, reference, resource_id, customer_id,
  starts_at, ends_at, block_start, block_end, seats, exclusive, status, price, currency,
  payment_status, note, cancel_reason, sequence, created_at, updated_at)
VALUES (%(tenant)s::int, %(reference)s, %(rid)s::int, %(customer)s::int, %(start)s, %(end)s,
  %(start)s, %(end)s, 1, true, 'confirmed', 0, 'EUR', 'not_required', '', '', 0, now(), now())"""

PGBENCH_SCRIPT = """\\set rid :rid0 + (:client_id % :rids)
\\set h random(0, 99999999)
BEGIN;
SELECT id FROM resources WHERE id = :rid FOR UPDATE;
SELECT COALESCE(SUM(seats), 0) AS taken FROM bookings WHERE resource_id = :rid AND status IN ('held', 'confirmed') AND block_start < timestamptz '2030-01-01 00:00+00' + (:h + 1) * interval '1 hour' AND block_start > timestamptz '2030-01-01 00:00+00' + (:h - 24) * interval '1 hour' AND block_end > timestamptz '2030-01-01 00:00+00' + :h * interval '1 hour' \\gset
\\if :taken = 0
INSERT INTO bookings (tenant_id, reference, resource_id, customer_id, starts_at, ends_at, block_start, block_end, seats, exclusive, status, price, currency, payment_status, note, cancel_reason, sequence, created_at, updated_at) VALUES (:tenant, substr(md5(random()::text), 1, 12), :rid, :customer, timestamptz '2030-01-01 00:00+00' + :h * interval '1 hour', timestamptz '2030-01-01 00:00+00' + (:h + 1) * interval '1 hour', timestamptz '2030-01-01 00:00+00' + :h * interval '1 hour', timestamptz '2030-01-01 00:00+00' + (:h + 1) * interval '1 hour', 1, true, 'confirmed', 0, 'EUR', 'not_required', '', '', 0, now(), now());
\\endif
END;
"""


def psycopg_loop(db, world, seconds, limit, first_hour):
    """The guard's transaction on one connection, in a loop; one resource,
    consecutive hours from ``first_hour`` (never overlapping)."""
    rid = world["resource_ids"][RAW[0]]
    latencies = []
    with psycopg.connect(libpq(db.url)) as connection:
        started = time.perf_counter()
        for n in range(limit):
            if time.perf_counter() - started > seconds:
                break
            begun = time.perf_counter()
            start = RAW_EPOCH + timedelta(hours=first_hour + n)
            values = {"rid": rid, "start": start, "end": start + timedelta(hours=1),
                      "tenant": world["tenant_id"], "customer": world["customer_ids"][0],
                      "reference": f"P{first_hour + n}"}
            connection.execute(LOCK_SQL, values)
            taken = connection.execute(COUNT_SQL, values).fetchone()[0]
            if taken == 0:
                connection.execute(INSERT_SQL, values)
            connection.commit()
            latencies.append(time.perf_counter() - begun)
        elapsed = time.perf_counter() - started
    return {"tps": round(len(latencies) / elapsed, 1), **summary_ms(latencies),
            "transactions": len(latencies)}


def pgbench(db, world, clients, seconds=None, transactions=None):
    """pgbench running the same transaction; ``-T seconds`` or ``-t
    transactions`` per client. Latencies from its per-transaction log."""
    url = make_url(db.url)
    with tempfile.TemporaryDirectory() as directory:
        script = os.path.join(directory, "guard.sql")
        with open(script, "w") as handle:
            handle.write(PGBENCH_SCRIPT)
        args = [PGBENCH, "-n", "-M", "prepared", "-f", script, "-c", str(clients),
                "-j", str(min(clients, 2)), "-h", url.host or "127.0.0.1",
                "-p", str(url.port or 5432), "-U", url.username or "postgres",
                "-D", f"rid0={world['resource_ids'][RAW[1]]}", "-D", f"rids={len(RAW) - 1}",
                "-D", f"tenant={world['tenant_id']}", "-D", f"customer={world['customer_ids'][0]}",
                "-l", "--log-prefix", os.path.join(directory, "log")]
        args += ["-T", str(seconds)] if seconds else ["-t", str(transactions)]
        environ = {**os.environ, "PGPASSWORD": url.password or ""}
        result = subprocess.run(args + [url.database], capture_output=True, text=True,
                                env=environ, timeout=(seconds or 30) + 60)
        if result.returncode != 0:
            raise SystemExit(f"pgbench failed: {result.stderr[-2000:]}")
        match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", result.stdout)
        latencies = []
        for name in os.listdir(directory):
            if name.startswith("log"):
                with open(os.path.join(directory, name)) as log:
                    latencies += [int(line.split()[2]) / 1e6 for line in log if line.strip()]
    return {"tps": round(float(match.group(1)), 1), **summary_ms(latencies),
            "transactions": len(latencies)}


# -- the app -------------------------------------------------------------------

def slot_start(day, hour):
    return datetime.combine(day, clock_time(hour), tzinfo=ZONE).isoformat()


def plan_spread(world, clients, run, per_client):
    """Each client its own resources of SPREAD, its own slots in the run's days."""
    first = NOW.astimezone(ZONE).date() + timedelta(days=1 + run * DAYS_PER_RUN)
    ids = [world["resource_ids"][n] for n in SPREAD]
    plans = []
    for index in range(clients):
        mine = ids[index::clients]
        requests = []
        for n in range(per_client):
            day, rest = divmod(n, 12 * len(mine))
            hour, resource = divmod(rest, len(mine))
            if day >= DAYS_PER_RUN:
                break
            requests.append(["POST", "/api/v1/t/bench/bookings", {
                "resource_id": mine[resource], "start": slot_start(first + timedelta(days=day),
                                                                   8 + hour)}])
        plans.append({"headers": {"Authorization": f"Bearer {world['tokens'][index]}"},
                      "requests": requests})
    return plans


def plan_contended(world, clients, run, per_client):
    """Every client the same slots of one resource (its own for this run)."""
    resource_id = world["resource_ids"][CONTENDED[run]]
    first = NOW.astimezone(ZONE).date() + timedelta(days=1)
    requests = [["POST", "/api/v1/t/bench/bookings", {
        "resource_id": resource_id,
        "start": slot_start(first + timedelta(days=n // 12), 8 + n % 12)}]
        for n in range(min(per_client, 12 * 360))]
    return [{"headers": {"Authorization": f"Bearer {world['tokens'][index]}"},
             "requests": requests} for index in range(clients)]


def app_run(db, server, world, scenario, clients, run, seconds, per_client):
    planner = plan_spread if scenario == "many resources" else plan_contended
    plan = planner(world, clients, run, per_client)
    settle(db)
    report = drive({"base": server.base, "seconds": seconds,
                    "clients": plan})
    statuses = report["statuses"]
    requests = sum(statuses.values())
    return {
        "requests": requests, "created": statuses.get("201", 0),
        "conflicts_409": statuses.get("409", 0),
        "errors_5xx": sum(n for code, n in statuses.items()
                          if code.startswith("5") or code == "connection_error"),
        "other": sum(n for code, n in statuses.items()
                     if code not in ("201", "409") and not code.startswith("5")
                     and code != "connection_error"),
        "req_per_s": round(requests / report["elapsed"], 1),
        **summary_ms(report["latencies"]),
        "capacity_violations": capacity_violations(db),
    }


def combine(runs):
    """One row from repeated runs: medians of rates, percentiles and paired
    ratios, sums of counts; and each run's rate and ratios, in run order."""
    row = {key: sum(run[key] for run in runs)
           for key in ("requests", "created", "conflicts_409", "errors_5xx", "other",
                       "capacity_violations")}
    for key in ("req_per_s", "p50_ms", "p95_ms", "p99_ms"):
        row[key] = median_of(runs, key)
    for key in ("app_over_psycopg", "app_over_pgbench"):
        if all(key in run for run in runs):
            row[key] = median_of(runs, key)
    for key in ("req_per_s", "app_over_psycopg", "app_over_pgbench"):
        if all(key in run for run in runs):
            row[f"{key}_runs"] = [run[key] for run in runs]
    return row


class Baselines:
    """The raw transaction's runs, each paired with the app run made just
    before or just after it (alternately, so that neither side always
    inherits what the other leaves behind: autovacuum, dirty pages): the
    machine is shared and its speed drifts within minutes, so an app run is
    divided by the baselines measured beside it, and the row quotes the
    median of those ratios."""

    def __init__(self, db, world, seconds, smoke):
        self.db, self.world, self.seconds, self.smoke = db, world, seconds, smoke
        self.psycopg, self.pgbench = [], {}

    def paired(self, app_run_now, clients):
        """Run ``app_run_now()`` and both baselines, in the order of this
        pair's turn; return the app run with its ratios to them."""
        baselines_first = len(self.psycopg) % 2 == 1
        if baselines_first:
            loop, bench = self.measure(clients)
        run = app_run_now()
        if not baselines_first:
            loop, bench = self.measure(clients)
        run["app_over_psycopg"] = round(run["req_per_s"] / loop["tps"], 3)
        run["app_over_pgbench"] = round(run["req_per_s"] / bench["tps"], 3)
        return run

    def measure(self, clients):
        settle(self.db)
        loop = psycopg_loop(self.db, self.world, self.seconds, 200 if self.smoke else 100_000,
                            first_hour=len(self.psycopg) * 1_000_000)
        settle(self.db)
        bench = (pgbench(self.db, self.world, clients, transactions=20) if self.smoke
                 else pgbench(self.db, self.world, clients, seconds=max(1, round(self.seconds))))
        self.psycopg.append(loop)
        self.pgbench.setdefault(clients, []).append(bench)
        return loop, bench

    def rows(self):
        """The raw table: medians of every paired run, per method and clients."""
        groups = [("psycopg, one connection", 1, self.psycopg)]
        groups += [("pgbench", clients, runs) for clients, runs in sorted(self.pgbench.items())]
        return [{"method": method, "clients": clients, "repeats": len(runs),
                 "tps": median_of(runs, "tps"),
                 **{k: median_of(runs, k) for k in ("p50_ms", "p95_ms", "p99_ms")},
                 "capacity_violations": capacity_violations(self.db)}
                for method, clients, runs in groups]


def measure(backend, smoke=False):
    # Smoke: one short run each (it only proves the scripts work). The
    # many-resources rows carry the paired ratios: 5 runs each, not 3.
    repeats, seconds, per_client = (1, 0.4, 10) if smoke else (3, 2.0, 5_000)
    paired_repeats = repeats if smoke else 5
    rows, raw = [], []
    with database(backend) as db:
        world = seed(db, resources=RAW.stop, bookings=0, customers=max(CLIENTS))
        with db.session() as s:
            world["customer_ids"] = s.scalars(select(User.id).order_by(User.id)).all()
        baselines = Baselines(db, world, seconds, smoke) if backend == "postgresql" else None
        run = 0
        with Server(db.url) as server:
            for scenario in ("many resources", "one resource"):
                for clients in CLIENTS:
                    runs = []
                    for _ in range(paired_repeats if scenario == "many resources" else repeats):
                        def app_run_now(run=run):
                            return app_run(db, server, world, scenario, clients, run, seconds,
                                           per_client)
                        if baselines and scenario == "many resources":
                            runs.append(baselines.paired(app_run_now, clients))
                        else:
                            runs.append(app_run_now())
                        run += 1
                    rows.append({"backend": backend, "scenario": scenario,
                                 "workers": server.workers, "threads": server.threads,
                                 "clients": clients,
                                 "repeats": len(runs), **combine(runs)})
            server_log = server.output()
        for workers, threads in SERVER_SWEEP:
            with Server(db.url, workers=workers, threads=threads) as server:
                runs = []
                for _ in range(repeats):
                    runs.append(app_run(db, server, world, "many resources", max(CLIENTS), run,
                                        seconds, per_client))
                    run += 1
                rows.append({"backend": backend, "scenario": "server sweep",
                             "workers": workers, "threads": threads,
                             "clients": max(CLIENTS), "repeats": repeats, **combine(runs)})
                server_log += server.output()
        if baselines:
            raw = baselines.rows()
    # Paired ratios where the row has them; the server sweep's against the
    # medians of every baseline run.
    one_connection = raw[0]["tps"] if raw else None
    by_clients = {row["clients"]: row["tps"] for row in raw if row["method"] == "pgbench"}
    for row in rows:
        baseline = by_clients.get(row["clients"])
        row["pgbench_tps"] = baseline
        spread = row["scenario"] != "one resource"
        if "app_over_pgbench" not in row:
            row["app_over_pgbench"] = (round(row["req_per_s"] / baseline, 3)
                                       if baseline and spread else None)
        if "app_over_psycopg" not in row:
            row["app_over_psycopg"] = (round(row["req_per_s"] / one_connection, 3)
                                       if one_connection and spread else None)
    if any(row["errors_5xx"] for row in rows):
        print(f"server log (5xx seen):\n{server_log}")
    return rows, raw


def main():
    from .run import table, write_results
    parser = argparse.ArgumentParser(prog="bench.booking_load")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    rows, raw = [], []
    speed = {"start": python_speed_ms()}
    for backend in args.backend or ["sqlite", "postgresql"]:
        measured, baseline = measure(backend, args.smoke)
        rows += measured
        raw += baseline
    speed["end"] = python_speed_ms()
    table("Booking POST through pserve/waitress (load generator in another process)",
          rows, COLUMNS)
    table("Raw guard transaction (lock + sum + insert) on PostgreSQL", raw, RAW_COLUMNS)
    print(f"A fixed Python loop (the machine's speed), ms: {speed}")
    write_results("booking_load", {"booking_load": rows, "booking_raw": raw,
                                   "python_loop_ms": speed}, args.smoke)


if __name__ == "__main__":
    main()

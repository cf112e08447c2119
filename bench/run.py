"""``python -m bench.run [--smoke] [--backend sqlite|postgresql] [--only SECTION]``:
run the benchmarks, print a table per section, write JSON to bench/results/
(``smoke.json`` with ``--smoke``, else ``run-<timestamp>.json``).

Sections (issue 8's "What to measure"):

- ``booking_load`` / ``booking_raw``: booking POSTs through pserve/waitress
  at 1, 4, 16 clients, little and full contention, beside the raw guard
  transaction (psycopg, pgbench) — with the ratio app/raw, 5xx and capacity
  violations after each run (``bench.booking_load``);
- ``availability`` / ``plans``: one resource's week and the staff week
  calendar of 100 resources at 10k, 100k, 1M bookings, with the ratio to
  the smallest size and EXPLAIN (ANALYZE, BUFFERS) of the hot queries
  (``bench.availability``);
- ``near_me``: venues near me over 10,000 venues (``bench.near_me``);
- ``memory``: the server's RSS over sustained traffic (``bench.memory``);
- ``worker``: outbox emails per second, 1 and 4 workers (``bench.worker``);
- ``pages``: the customer's calendar page on the demo data (``bench.pages``).

PostgreSQL-only sections are skipped without it. ``--smoke`` uses tiny
sizes (seconds); the test suite runs it.
"""

import argparse
import json
import os
import platform
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SECTIONS = ("booking_load", "availability", "near_me", "memory", "worker", "pages")


def table(title, rows, columns):
    print(f"\n{title}")
    print(" | ".join(columns))
    print(" | ".join("---" for _ in columns))
    for row in rows:
        print(" | ".join(str(row.get(c)) for c in columns))


def write_results(prefix, results, smoke):
    """JSON into bench/results/: ``<prefix>-smoke.json`` or a timestamped file."""
    out = os.path.join(HERE, "results")
    os.makedirs(out, exist_ok=True)
    name = f"{prefix}-smoke.json" if smoke else f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path = os.path.join(out, name)
    with open(path, "w") as handle:
        json.dump(results, handle, indent=2, default=str)
    return path


def main():
    from . import availability, booking_load, memory, near_me, pages, worker
    from .common import python_speed_ms

    parser = argparse.ArgumentParser(prog="bench.run")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds")
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--only", action="append", choices=SECTIONS,
                        help="run only these sections (repeatable)")
    args = parser.parse_args()
    backends = args.backend or ["sqlite", "postgresql"]
    sections = args.only or list(SECTIONS)
    smoke = args.smoke
    repeats = 3 if smoke else 20

    results = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                          f"Python {platform.python_version()}, load average "
                          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at start",
               "smoke": smoke, "backends": backends, "durations_s": {},
               "python_loop_ms": {"start": python_speed_ms()}}
    for name in SECTIONS:
        results.setdefault(name, [])
    results["booking_raw"], results["plans"] = [], {}

    def timed_section(name, action):
        if name not in sections:
            return
        started = time.perf_counter()
        action()
        results["durations_s"][name] = round(time.perf_counter() - started, 1)

    def run_booking_load():
        for backend in backends:
            rows, raw = booking_load.measure(backend, smoke)
            results["booking_load"] += rows
            results["booking_raw"] += raw

    def run_availability():
        for backend in backends:
            rows, plans = availability.measure(backend, smoke)
            results["availability"] += rows
            results["plans"].update({f"{backend}, {size} bookings": p
                                     for size, p in plans.items()})

    def run_near_me():
        for backend in backends:
            results["near_me"] += near_me.measure(backend, 500 if smoke else 10_000, repeats)

    def run_memory():
        results["memory"].append(
            memory.measure("postgresql", 2_000, 12.0, 100) if smoke else memory.measure())

    def run_worker():  # SKIP LOCKED workers: a PostgreSQL measure
        results["worker"] = worker.measure_all(*((200, 1) if smoke else (2_000, 3)))

    def run_pages():
        results["pages"] = [row for backend in backends for row in pages.measure(backend, repeats)]

    timed_section("booking_load", run_booking_load)
    timed_section("availability", run_availability)
    timed_section("near_me", run_near_me)
    if "postgresql" in backends:
        timed_section("memory", run_memory)
        timed_section("worker", run_worker)
    timed_section("pages", run_pages)

    table("Booking POST through pserve/waitress (load generator in another process; "
          "medians of 3 runs)", results["booking_load"], booking_load.COLUMNS)
    table("Raw guard transaction (lock + sum + insert) on PostgreSQL, same run",
          results["booking_raw"], booking_load.RAW_COLUMNS)
    if results["plans"]:
        largest = max(results["plans"], key=lambda key: int(key.split(", ")[1].split()[0]))
        for name, plan in results["plans"][largest].items():
            print(f"\nEXPLAIN (ANALYZE, BUFFERS), {name}, {largest}:\n{plan}")
    table("Availability (one resource, a week) and staff week calendar, by bookings",
          results["availability"], availability.COLUMNS)
    table("Venues near me (search: service and GET /api/v1/near)", results["near_me"],
          near_me.COLUMNS)
    table("Server RSS over sustained traffic (pserve, PostgreSQL)", results["memory"],
          memory.COLUMNS)
    table("Outbox drained by booking-worker into a local SMTP server", results["worker"],
          worker.COLUMNS)
    table("Pages through the WSGI app (demo data)", results["pages"],
          ["backend", "page", "repeats", "median_ms", "p95_ms", "paused_median_ms", "ratio"])
    results["python_loop_ms"]["end"] = python_speed_ms()
    print(f"\nSeconds per section: {results['durations_s']}")
    print(f"A fixed Python loop (the machine's speed), ms: {results['python_loop_ms']}")
    out = os.path.join(HERE, "results")
    os.makedirs(out, exist_ok=True)
    name = "smoke.json" if smoke else f"run-{time.strftime('%Y%m%d-%H%M%S')}.json"
    with open(os.path.join(out, name), "w") as handle:
        json.dump(results, handle, indent=2, default=str)
    return results


if __name__ == "__main__":
    main()

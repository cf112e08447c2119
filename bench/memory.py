"""The server's memory under sustained traffic: the resident set size
(``VmRSS`` of the serving processes, summed over the workers, from /proc) before and after
100,000 requests (2,000 with ``--smoke``), on PostgreSQL.

The server is the real stack (``bench.stack``); a load generator in
another process (``bench.loadgen``) sends a mix of JSON availability
requests (three in four, each resource's week) and public HTML pages (the
tenant's, the venue's, a resource's calendar) over keep-alive connections
from 8 client threads. RSS is read after start-up, after a warm-up of 5,000
requests (every worker's caches and templates filled: the baseline), and after each quarter of the run, so
a leak shows as a slope. The run is bounded in time as well as in count
(120 s by default: on a busy 2-core machine that is fewer than 100,000
requests; the number actually made is reported, ``--seconds 900`` lets the
whole 100,000 through).

``python -m bench.memory [--smoke] [--requests N] [--seconds S]``
"""

import argparse
from datetime import timedelta

from .common import NOW, ZONE, database, seed
from .loadgen import drive
from .stack import Server

COLUMNS = ["backend", "requests", "seconds", "req_per_s", "errors_5xx", "status_4xx",
           "rss_start_kb", "rss_before_kb", "rss_after_kb", "growth_pct", "rss_trace_kb"]
CLIENTS = 8


def paths(world, days=28):
    """The request mix: availability of each resource's week (3 in 4) and pages."""
    venue = world["venue_id"]
    today = NOW.astimezone(ZONE).date()
    pages = ["/t/bench/", f"/t/bench/venues/{venue}/"]
    mix = []
    for n, resource in enumerate(world["resource_ids"]):
        first = today + timedelta(days=n % days)
        mix += [["GET", f"/api/v1/t/bench/venues/{venue}/resources/{resource}/availability"
                        f"?from={first}&to={first + timedelta(days=6)}", None]] * 3
        mix.append(["GET", pages[n % 2] if n % 3 else
                    f"/t/bench/venues/{venue}/resources/{resource}/", None])
    return mix


def phase(server, mix, count, seconds):
    share = -(-count // CLIENTS)  # rounded up
    plans = [{"requests": mix[n:] + mix[:n], "cycle": True, "limit": share}
             for n in range(CLIENTS)]
    report = drive({"base": server.base, "seconds": seconds, "clients": plans})
    statuses = report["statuses"]
    failed = sum(n for code, n in statuses.items() if not code.startswith(("2", "3", "4")))
    refused = sum(n for code, n in statuses.items() if code.startswith("4"))
    return sum(statuses.values()), report["elapsed"], failed, refused


def measure(backend="postgresql", requests=100_000, seconds=120.0, warmup=5_000):
    with database(backend) as db:
        world = seed(db, resources=20, bookings=4_000, customers=4)
        mix = paths(world)
        with Server(db.url) as server:
            start = server.rss_kb()
            phase(server, mix, warmup, 60)
            before = server.rss_kb()
            trace, made, spent, errors, refused = [], 0, 0.0, 0, 0
            for quarter in range(4):
                done, elapsed, failed, denied = phase(
                    server, mix, requests // 4, max(1.0, (seconds - spent) / (4 - quarter)))
                made, spent = made + done, spent + elapsed
                errors, refused = errors + failed, refused + denied
                trace.append(server.rss_kb())
            after = trace[-1]
    return {"backend": backend, "requests": made, "seconds": round(spent, 1),
            "req_per_s": round(made / spent, 1), "errors_5xx": errors,
            "status_4xx": refused,
            "rss_start_kb": start, "rss_before_kb": before, "rss_after_kb": after,
            "growth_pct": round(100 * (after - before) / before, 1), "rss_trace_kb": trace}


def main():
    from .run import table, write_results
    parser = argparse.ArgumentParser(prog="bench.memory")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--requests", type=int)
    parser.add_argument("--seconds", type=float)
    args = parser.parse_args()
    requests = args.requests or (2_000 if args.smoke else 100_000)
    seconds = args.seconds or (30.0 if args.smoke else 120.0)
    row = measure("postgresql", requests, seconds, 200 if args.smoke else 5_000)
    table("Server RSS over sustained traffic (pserve, PostgreSQL)", [row], COLUMNS)
    write_results("memory", {"memory": [row]}, args.smoke)


if __name__ == "__main__":
    main()

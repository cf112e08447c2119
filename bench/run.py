"""``python -m bench.run [--smoke] [--backend sqlite|postgresql]``: run the
benchmarks, print a table, write JSON to bench/results/."""

import argparse
import json
import os
import platform
import time

from . import availability, booking_load, pages

HERE = os.path.dirname(os.path.abspath(__file__))


def table(title, rows, columns):
    print(f"\n{title}")
    print(" | ".join(columns))
    print(" | ".join("---" for _ in columns))
    for row in rows:
        print(" | ".join(str(row[c]) for c in columns))


def main():
    parser = argparse.ArgumentParser(prog="bench.run")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds")
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    backends = args.backend or ["sqlite", "postgresql"]
    bookings, repeats = (2_000, 3) if args.smoke else (100_000, 20)
    clients, per_client = (2, 5) if args.smoke else (16, 60)

    results = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                          f"Python {platform.python_version()}",
               "smoke": args.smoke, "availability": [], "booking_load": [], "pages": []}
    for backend in backends:
        results["availability"].append(availability.measure(backend, bookings, repeats))
        results["booking_load"].append(booking_load.measure(backend, clients, per_client))
        results["pages"].append(pages.measure(backend, repeats))

    table("Availability: one resource, one week", results["availability"],
          ["backend", "bookings", "repeats", "free_slots", "service_median_ms",
           "service_p95_ms", "http_median_ms", "http_p95_ms"])
    table("Booking POST through waitress (distinct slots)", results["booking_load"],
          ["backend", "clients", "requests", "created", "errors_5xx", "bookings_per_s",
           "p50_ms", "p95_ms", "capacity_violations"])
    table("Pages through the WSGI app (demo data)", results["pages"],
          ["backend", "page", "repeats", "median_ms", "p95_ms"])
    out = os.path.join(HERE, "results")
    os.makedirs(out, exist_ok=True)
    name = "smoke.json" if args.smoke else f"run-{time.strftime('%Y%m%d-%H%M%S')}.json"
    with open(os.path.join(out, name), "w") as handle:
        json.dump(results, handle, indent=2)
    return results


if __name__ == "__main__":
    main()

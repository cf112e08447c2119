"""CPU instructions per booking POST, counted by valgrind's callgrind: a
figure that, unlike a rate, does not drift with the shared machine's load.

The set-up is that of ``bench.profile_booking``: ``POST
/api/v1/t/bench/bookings`` through the WSGI app in process (WebTest,
PostgreSQL at 127.0.0.1:5432, 100 resources, distinct slots, no
contention), 20 warm-up POSTs first. This process makes and seeds the
database, then runs a child process twice under ``valgrind
--tool=callgrind``: once making N POSTs, once 2N (on later slots). Both
children pay the same start-up (imports, app, warm-up), so

    instructions per POST = (Ir(2N) - Ir(N)) / N

counts the POSTs alone. Only the app's process is counted, not PostgreSQL.
At N = 200 the two children take about 2.5 minutes together.

``python -m bench.instructions [--requests N]``
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from datetime import timedelta

from .booking_load import slot_start
from .common import NOW, ZONE, database, dispose, seed, wsgi_app

VALGRIND = "/usr/bin/valgrind"
WARM_UP = 20


def bodies(world, first, count):
    """Booking bodies ``first`` … ``first + count - 1``: distinct slots, 100
    resources a day (as bench.profile_booking)."""
    day_one = NOW.astimezone(ZONE).date() + timedelta(days=1)
    return [{"resource_id": world["resource_ids"][n % 100],
             "start": slot_start(day_one + timedelta(days=n // 1200), 8 + (n // 100) % 12)}
            for n in range(first, first + count)]


def child(job):
    """Under callgrind: the app on the seeded database, warm-up, then the POSTs."""
    from tests.database import Database

    app = wsgi_app(Database("postgresql", job["url"]))
    headers = {"Authorization": f"Bearer {job['token']}"}
    for body in bodies(job, job["first"], WARM_UP + job["requests"]):
        app.post_json("/api/v1/t/bench/bookings", body, headers=headers, status=201)
    dispose(app)


def instructions(url, world, requests, first):
    """Ir of one child process making ``requests`` POSTs (after the warm-up)."""
    job = {"url": url, "token": world["tokens"][0], "resource_ids": world["resource_ids"],
           "requests": requests, "first": first}
    with tempfile.TemporaryDirectory() as directory:
        out = os.path.join(directory, "callgrind.out")
        subprocess.run([VALGRIND, "--tool=callgrind", "-q", f"--callgrind-out-file={out}",
                        sys.executable, "-m", "bench.instructions", "--child", json.dumps(job)],
                       check=True, env={**os.environ, "PYTHONHASHSEED": "0"})
        with open(out) as handle:
            return int(re.search(r"^summary: (\d+)", handle.read(), re.M).group(1))


def main():
    parser = argparse.ArgumentParser(prog="bench.instructions")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(json.loads(args.child))
    n = args.requests
    with database("postgresql") as db:
        world = seed(db, resources=100, bookings=0, customers=1)
        single = instructions(db.url, world, n, first=0)
        double = instructions(db.url, world, 2 * n, first=WARM_UP + n)
    print(f"instructions per booking POST: {(double - single) / n / 1e6:.2f} M (N={n})")


if __name__ == "__main__":
    main()

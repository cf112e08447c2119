"""Where the time of a booking POST goes: ``cProfile`` around
``POST /api/v1/t/bench/bookings`` through the WSGI app in process (WebTest,
PostgreSQL, distinct slots, no contention), with the SQL statements each
POST sends counted from the engine. Not part of ``bench.run``.

``python -m bench.profile_booking [--requests N] [--top N] [--backend …]``
"""

import argparse
import cProfile
import io
import pstats
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import event


from .booking_load import slot_start
from .common import NOW, ZONE, database, dispose, seed, wsgi_app


def profile(backend, requests, top, dump=None):
    with database(backend) as db:
        world = seed(db, resources=100, bookings=0, customers=1)
        app = wsgi_app(db)
        headers = {"Authorization": f"Bearer {world['tokens'][0]}"}
        first = NOW.astimezone(ZONE).date() + timedelta(days=1)
        bodies = [{"resource_id": world["resource_ids"][n % 100],
                   "start": slot_start(first + timedelta(days=n // 1200), 8 + (n // 100) % 12)}
                  for n in range(requests + 20)]
        for body in bodies[:20]:  # warm-up: first-request caches, templates, pools
            app.post_json("/api/v1/t/bench/bookings", body, headers=headers, status=201)
        statements, spent = Counter(), Counter()

        def count(conn, cursor, statement, parameters, context, executemany):
            conn.info["bench.started"] = time.perf_counter()

        def done(conn, cursor, statement, parameters, context, executemany):
            key = " ".join(statement.split())[:100]
            statements[key] += 1
            spent[key] += time.perf_counter() - conn.info.pop("bench.started")

        app_engine = _engine(app)
        event.listen(app_engine, "before_cursor_execute", count)
        event.listen(app_engine, "after_cursor_execute", done)
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for body in bodies[20:]:
            app.post_json("/api/v1/t/bench/bookings", body, headers=headers, status=201)
        profiler.disable()
        elapsed = time.perf_counter() - started
        event.remove(app_engine, "before_cursor_execute", count)
        event.remove(app_engine, "after_cursor_execute", done)
        dispose(app)
    if dump:
        profiler.dump_stats(dump)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    print(out.getvalue())
    print(f"{requests} POSTs in {elapsed:.2f} s under the profiler: "
          f"{1000 * elapsed / requests:.1f} ms each")
    print(f"SQL statements per POST: {sum(statements.values()) / requests:.1f} "
          f"(per POST: count, ms in the driver call; commit not included)")
    for statement, n in statements.most_common():
        print(f"  {n / requests:4.1f} {1000 * spent[statement] / requests:6.2f} ms  {statement}")


def _engine(test_app):
    app = test_app.app
    while not hasattr(app, "registry"):
        app = app.app
    return app.registry["dbsession_factory"].kw["bind"]


def main():
    parser = argparse.ArgumentParser(prog="bench.profile_booking")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--backend", default="postgresql", choices=["sqlite", "postgresql"])
    parser.add_argument("--dump", help="also write the raw profile here (pstats format)")
    args = parser.parse_args()
    profile(args.backend, args.requests, args.top, args.dump)


if __name__ == "__main__":
    main()

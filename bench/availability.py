"""Availability with many bookings, and how it scales.

One tenant with 10 venues of 100 resources (1,000 resources, open
08:00-20:00 every day). Bookings are generated in the database itself
(``INSERT … SELECT`` over ``generate_series`` on PostgreSQL, a recursive
CTE on SQLite: seconds per million rows, no Python loop), in steps, so the
same data set is measured at each size (10k, 100k, 1M bookings):

- one resource's week of free slots: the service (``free_slots``) and the
  JSON endpoint through the WSGI app (WebTest, in process): p50/p95;
- the staff week calendar of a venue with 100 resources
  (``GET /t/bench/manage/venues/{id}/?view=week`` as a manager, HTML);
- the ratio of each figure to the one at the smallest size (the shape:
  flat or log n, never linear);
- on PostgreSQL, ``EXPLAIN (ANALYZE, BUFFERS)`` of the hot queries, as the
  app issues them (captured from the engine, same parameters): the
  availability occupancy query (a week), the guard's overlap query (one
  slot), the calendar's bookings query.

Each resource gets 8 bookings a day (08, 09, 11, 12, 14, 15, 17, 18 h; one
in ten cancelled), filling the measured week first and then the days around
it, so from 100k bookings on the measured week looks the same and only the
rest of the table grows. On SQLite the generator converts local times with
a fixed UTC+1 (it has no time zones): after the DST change the bookings sit
an hour later on the wall clock, which changes nothing measured here.
After each step the database is analyzed (on PostgreSQL also vacuumed, as
autovacuum would: the figures are not taken while it runs).

``python -m bench.availability [--smoke] [--backend …]``
"""

import argparse
from datetime import timedelta

from sqlalchemy import event, text

from booking.models import (Membership, OpeningHours, Resource, Role, Tenant, User, Venue)
from booking.passwords import hash_password
from booking.security import new_api_token
from booking.services.availability import AvailabilityService
from booking.services.staff_calendar import StaffCalendarService

from .common import NOW, ZONE, database, dispose, settle, summary_ms, timed, wsgi_app

COLUMNS = ["backend", "bookings", "generate_s", "free_slots", "service_p50_ms",
           "service_p95_ms", "http_p50_ms", "http_p95_ms", "http_p50_ratio",
           "calendar_resources", "calendar_p50_ms", "calendar_p95_ms", "calendar_p50_ratio"]

COLUMNS_LIST = ("tenant_id, reference, resource_id, customer_id, starts_at, ends_at, "
                "block_start, block_end, seats, exclusive, status, price, currency, "
                "payment_status, note, cancel_reason, sequence, created_at, updated_at")
# k: the resource's k-th booking; j = k / 8 its day, in the order: the
# measured week (days 1..7 after NOW), then alternately after and before it.
DAY_OFFSET = ("CASE WHEN j < 7 THEN 1 + j WHEN (j - 7) % 2 = 0 THEN 8 + (j - 7) / 2 "
              "ELSE 1 - (j - 6) / 2 END")
HOUR = "8 + k % 8 + (k % 8) / 2"  # 8, 9, 11, 12, 14, 15, 17, 18
STATUS = "CASE WHEN n % 10 = 3 THEN 'cancelled' ELSE 'confirmed' END"

GENERATE_PG = f"""
INSERT INTO bookings ({COLUMNS_LIST})
SELECT :tenant, 'G' || n, :rid0 + n % :resources, :cid0 + n % :customers,
       s, s + interval '1 hour', s, s + interval '1 hour', 1, true, {STATUS},
       0, 'EUR', 'not_required', '', '', 0, :now, :now
FROM (SELECT n, ((CAST(:day0 AS date) + CAST({DAY_OFFSET} AS integer))
                 + make_interval(hours => CAST({HOUR} AS integer))) AT TIME ZONE 'Europe/Paris' AS s
      FROM (SELECT n, n / :resources AS k, n / :resources / 8 AS j
            FROM generate_series(CAST(:low AS bigint), CAST(:high AS bigint) - 1) AS n) AS q
     ) AS g
"""

GENERATE_SQLITE = f"""
INSERT INTO bookings ({COLUMNS_LIST})
WITH RECURSIVE seq(n) AS (SELECT :low UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < :high),
q AS (SELECT n, n / :resources AS k, n / :resources / 8 AS j FROM seq),
g AS (SELECT n, strftime('%Y-%m-%d %H:%M:%S.000000', :day0, ({DAY_OFFSET}) || ' days',
                         ({HOUR} - 1) || ' hours') AS s,
             strftime('%Y-%m-%d %H:%M:%S.000000', :day0, ({DAY_OFFSET}) || ' days',
                      ({HOUR}) || ' hours') AS e
      FROM q)
SELECT :tenant, 'G' || n, :rid0 + n % :resources, :cid0 + n % :customers,
       s, e, s, e, 1, 1, {STATUS}, 0, 'EUR', 'not_required', '', '', 0, :now, :now
FROM g
"""


def seed_world(db, venues, per_venue, customers=50):
    """The tenant, its venues and resources, a manager with an API token."""
    with db.session() as s:
        tenant = Tenant(slug="bench", name="Bench Club", time_zone="Europe/Paris",
                        currency="EUR", created_at=NOW)
        s.add(tenant)
        s.flush()
        places = [Venue(tenant_id=tenant.id, name=f"Venue {v}", created_at=NOW)
                  for v in range(venues)]
        s.add_all(places)
        s.flush()
        s.add_all(OpeningHours(tenant_id=tenant.id, venue_id=venue.id, weekday=d,
                               opens_minute=8 * 60, closes_minute=20 * 60)
                  for venue in places for d in range(7))
        resources = [Resource(tenant_id=tenant.id, venue_id=venue.id, name=f"Court {v}-{i:03d}",
                              capacity=1, min_notice_minutes=0, max_advance_days=365)
                     for v, venue in enumerate(places) for i in range(per_venue)]
        s.add_all(resources)
        users = [User(email=f"c{i}@bench.test", password_hash="-", created_at=NOW)
                 for i in range(customers)]
        s.add_all(users)
        manager = User(email="manager@bench.test", password_hash=hash_password("bench-pw-1"),
                       created_at=NOW)
        s.add(manager)
        s.flush()
        s.add(Membership(tenant_id=tenant.id, user_id=manager.id, role=Role.MANAGER))
        token, _row = new_api_token(s, manager, NOW)
        resource_ids = [r.id for r in resources]
        customer_ids = [u.id for u in users]
        world = {"tenant_id": tenant.id, "venue_ids": [v.id for v in places],
                 "resource_ids": resource_ids, "customer_ids": customer_ids, "token": token,
                 "per_venue": per_venue}
    for ids in (resource_ids, customer_ids):  # the generator counts from the first
        if ids != list(range(ids[0], ids[0] + len(ids))):
            raise SystemExit("the benchmark expects consecutive ids in a fresh database")
    return world


def generate(db, world, low, high):
    """Bookings number ``low`` to ``high - 1`` (see the module's docstring)."""
    sql = GENERATE_PG if db.backend == "postgresql" else GENERATE_SQLITE
    now = NOW if db.backend == "postgresql" else NOW.strftime("%Y-%m-%d %H:%M:%S.%f")
    params = {"tenant": world["tenant_id"], "rid0": world["resource_ids"][0],
              "resources": len(world["resource_ids"]), "cid0": world["customer_ids"][0],
              "customers": len(world["customer_ids"]), "now": now,
              "day0": NOW.astimezone(ZONE).date().isoformat()}
    step = 200_000  # bounded statements (SQLite's recursive CTE is kept in memory)
    with db.engine.begin() as connection:
        for start in range(low, high, step):
            connection.execute(text(sql), {**params, "low": start,
                                           "high": min(start + step, high)})
    if db.backend == "postgresql":
        settle(db)  # vacuumed and analyzed: read as after autovacuum, not during it
    else:
        with db.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")


class Capture:
    """The statements an engine runs while the block runs."""

    def __init__(self, engine):
        self.engine = engine
        self.statements = []

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self.record)
        return self

    def record(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append((statement, parameters))

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self.record)

    def find(self, *fragments):
        for statement, parameters in self.statements:
            if all(fragment in statement for fragment in fragments):
                return statement, parameters
        return None


def explain(db, captured):
    if captured is None:
        return None
    statement, parameters = captured
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement,
                                          parameters).all()
    return "\n".join(row[0] for row in rows)


def plans(db, world, resource, first, last):
    """EXPLAIN (ANALYZE, BUFFERS) of the hot queries, as the app sends them."""
    venue_id = world["venue_ids"][0]
    with db.session() as s:
        resource = s.get(Resource, resource)
        service = AvailabilityService(s, NOW)
        with Capture(db.engine) as week:
            service.free_slots(resource, first, last)
        start = NOW + timedelta(days=2)
        with Capture(db.engine) as guard:
            service.occupancy(resource, start, start + timedelta(hours=1))
        with Capture(db.engine) as calendar:
            StaffCalendarService(s, NOW).calendar(s.get(Venue, venue_id), first, "week")
    return {
        "availability occupancy (one resource, a week)": explain(db, week.find("FROM bookings")),
        "guard overlap (one resource, one slot)": explain(db, guard.find("FROM bookings")),
        "staff calendar bookings (a venue, a week)": explain(
            db, calendar.find("FROM bookings", "JOIN users")),
    }


def measure_size(db, world, app, size, repeats, calendar_repeats):
    resource_id = world["resource_ids"][world["per_venue"] // 2]
    venue_id = world["venue_ids"][0]
    first = NOW.astimezone(ZONE).date() + timedelta(days=1)
    last = first + timedelta(days=6)
    with db.session() as s:
        resource = s.get(Resource, resource_id)
        service = AvailabilityService(s, NOW)
        free = len(service.free_slots(resource, first, last))
        service_samples = timed(lambda: service.free_slots(resource, first, last), repeats)
    url = (f"/api/v1/t/bench/venues/{venue_id}/resources/{resource_id}"
           f"/availability?from={first}&to={last}")
    http_samples = timed(lambda: app.get(url), repeats)
    headers = {"Authorization": f"Bearer {world['token']}"}
    page = f"/t/bench/manage/venues/{venue_id}/?view=week&date={first}"
    shown = app.get(page, headers=headers)
    if shown.status_int != 200 or "Court 0-000" not in shown.text:
        raise SystemExit(f"the staff calendar did not render for the manager: {shown.status}")
    calendar_samples = timed(lambda: app.get(page, headers=headers), calendar_repeats)
    service_ms, http_ms, calendar_ms = (summary_ms(service_samples), summary_ms(http_samples),
                                        summary_ms(calendar_samples))
    return {
        "backend": db.backend, "bookings": size, "free_slots": free, "repeats": repeats,
        "service_p50_ms": service_ms["p50_ms"], "service_p95_ms": service_ms["p95_ms"],
        "http_p50_ms": http_ms["p50_ms"], "http_p95_ms": http_ms["p95_ms"],
        "calendar_resources": world["per_venue"], "calendar_repeats": calendar_repeats,
        "calendar_p50_ms": calendar_ms["p50_ms"], "calendar_p95_ms": calendar_ms["p95_ms"],
    }


def measure(backend, smoke=False):
    """Rows (one per size) and, on PostgreSQL, the plans at each size."""
    import time
    if smoke:
        venues, per_venue, sizes, repeats, calendar_repeats = 2, 20, (500, 2_000, 5_000), 3, 3
    else:
        venues, per_venue, sizes, repeats, calendar_repeats = (
            10, 100, (10_000, 100_000, 1_000_000), 30, 5)
    rows, explained = [], {}
    with database(backend) as db:
        world = seed_world(db, venues, per_venue)
        app = wsgi_app(db)
        made = 0
        for size in sizes:
            started = time.perf_counter()
            generate(db, world, made, size)
            generated = time.perf_counter() - started
            made = size
            row = measure_size(db, world, app, size, repeats, calendar_repeats)
            row["generate_s"] = round(generated, 1)
            rows.append(row)
            if backend == "postgresql":
                first = NOW.astimezone(ZONE).date() + timedelta(days=1)
                explained[str(size)] = plans(
                    db, world, world["resource_ids"][per_venue // 2], first,
                    first + timedelta(days=6))
        dispose(app)
    base = rows[0]
    for row in rows:
        for key in ("http_p50", "calendar_p50", "service_p50"):
            row[f"{key}_ratio"] = (round(row[f"{key}_ms"] / base[f"{key}_ms"], 2)
                                   if base[f"{key}_ms"] else None)
    return rows, explained


def print_plans(explained):
    if not explained:
        return
    size = max(explained, key=int)
    for name, plan in explained[size].items():
        print(f"\nEXPLAIN (ANALYZE, BUFFERS), {name}, {int(size):,} bookings:\n{plan}")


def main():
    from .run import table, write_results
    parser = argparse.ArgumentParser(prog="bench.availability")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    rows, explained = [], {}
    for backend in args.backend or ["sqlite", "postgresql"]:
        measured, backend_plans = measure(backend, args.smoke)
        rows += measured
        explained.update(backend_plans)
    print_plans(explained)
    table("Availability and staff calendar by number of bookings", rows, COLUMNS)
    write_results("availability", {"availability": rows, "plans": explained}, args.smoke)


if __name__ == "__main__":
    main()

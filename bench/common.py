"""Databases and data for the benchmarks. Each run makes its own SQLite file
and its own PostgreSQL database (dropped afterwards); traffic stays on
127.0.0.1."""

import contextlib
import gc
import random
import statistics
import tempfile
import time as clock
from datetime import UTC, datetime, time, timedelta
from operator import itemgetter
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import insert, make_url

from booking.models import Booking, OpeningHours, Resource, Role, Tenant, User, Venue, Membership
from booking.passwords import hash_password
from booking.security import new_api_token
from tests.database import postgresql_available, postgresql_database, sqlite_database

ZONE = ZoneInfo("Europe/Paris")
#: The instant every benchmark treats as "now" (a Monday, 10:00 in Paris).
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@contextlib.contextmanager
def database(backend):
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as directory, sqlite_database(directory) as db:
            yield db
    else:
        if not postgresql_available():
            raise SystemExit("PostgreSQL is not reachable at 127.0.0.1:5432")
        with postgresql_database() as db:
            yield db


def libpq(url):
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def settle(db):
    """Before a measured run on PostgreSQL: the database vacuumed and
    analyzed, so that no run pays for the autovacuum work the writes before
    it left (the pgbench baseline writes several times the rows of the app
    run it is paired with; the availability data is generated in bulk just
    before it is read). No checkpoint: the full-page writes after one cost a
    writer of random keys (pgbench's references) more than the app."""
    if db.backend != "postgresql":
        return
    with psycopg.connect(libpq(db.url), autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")


def python_speed_ms(rounds=5):
    """How long a fixed piece of Python work takes here now (ms, median of
    ``rounds``): 200,000 small dicts made and sorted, tens of megabytes, so
    that it slows down as the app does when the shared machine's
    neighbours crowd its caches (a tight loop in a few registers does not).
    A run records it at its start and end, so that runs can be told apart."""
    timings = []
    for _ in range(rounds):
        started = clock.perf_counter()
        rows = [{"id": n, "name": f"resource {n * 7919 % 200_000}"} for n in range(200_000)]
        rows.sort(key=itemgetter("name"))
        timings.append(clock.perf_counter() - started)
    return round(statistics.median(timings) * 1000, 1)


def median_ms(samples):
    return statistics.median(samples) * 1000


def percentile_ms(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000


def seed(db, resources=100, bookings=100_000, customers=16, seed_value=7):
    """One tenant, one venue open 08:00-20:00 every day, ``resources``
    exclusive resources, ``bookings`` bookings spread over the weeks around
    NOW, and ``customers`` customers with API tokens."""
    rng = random.Random(seed_value)
    with db.session() as s:
        tenant = Tenant(slug="bench", name="Bench Club", time_zone="Europe/Paris",
                        currency="EUR", created_at=NOW)
        s.add(tenant)
        s.flush()
        venue = Venue(tenant_id=tenant.id, name="Bench venue", created_at=NOW)
        s.add(venue)
        s.flush()
        s.add_all(OpeningHours(tenant_id=tenant.id, venue_id=venue.id, weekday=d,
                               opens_minute=8 * 60, closes_minute=20 * 60) for d in range(7))
        rows = [Resource(tenant_id=tenant.id, venue_id=venue.id, name=f"Court {i}",
                         capacity=1, min_notice_minutes=0, max_advance_days=365)
                for i in range(resources)]
        s.add_all(rows)
        s.flush()
        resource_ids = [r.id for r in rows]
        password = hash_password("bench-password-1")
        users = [User(email=f"c{i}@bench.test", password_hash=password, created_at=NOW)
                 for i in range(customers)]
        s.add_all(users)
        owner = User(email="owner@bench.test", password_hash=password, created_at=NOW)
        s.add(owner)
        s.flush()
        s.add(Membership(tenant_id=tenant.id, user_id=owner.id, role=Role.OWNER))
        tokens = [new_api_token(s, user, NOW)[0] for user in users]
        tenant_id, venue_id = tenant.id, venue.id
        customer_ids = [u.id for u in users]

    # Past and future bookings, 12 hourly slots a day, per resource.
    per_resource = max(1, bookings // resources)
    days_back = per_resource // 12 // 2
    first_day = NOW.astimezone(ZONE).date() - timedelta(days=days_back)
    batch = []
    made = 0
    for index, resource_id in enumerate(resource_ids):
        for n in range(per_resource):
            if made >= bookings:
                break
            day = first_day + timedelta(days=n // 12)
            start = datetime.combine(day, time(8 + n % 12), tzinfo=ZONE).astimezone(UTC)
            end = start + timedelta(hours=1)
            status = "cancelled" if rng.random() < 0.1 else "confirmed"
            batch.append({
                "tenant_id": tenant_id, "reference": f"B{index:03d}{n:05d}",
                "resource_id": resource_id, "customer_id": rng.choice(customer_ids),
                "starts_at": start, "ends_at": end, "block_start": start, "block_end": end,
                "seats": 1, "exclusive": True, "status": status, "price": 0,
                "currency": "EUR", "payment_status": "not_required", "note": "",
                "cancel_reason": "", "sequence": 0, "created_at": NOW, "updated_at": NOW,
            })
            made += 1
            if len(batch) >= 5000:
                _flush(db, batch)
    _flush(db, batch)
    if db.backend == "postgresql":
        with db.engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
    return {"tenant_id": tenant_id, "venue_id": venue_id, "resource_ids": resource_ids,
            "tokens": tokens, "bookings": made}


def _flush(db, batch):
    if batch:
        with db.engine.begin() as connection:
            connection.execute(insert(Booking.__table__), batch)
        batch.clear()


def summary_ms(samples):
    """p50/p95/p99 of ``samples`` (seconds) in milliseconds, rounded."""
    if not samples:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    return {"p50_ms": round(median_ms(samples), 2),
            "p95_ms": round(percentile_ms(samples, 0.95), 2),
            "p99_ms": round(percentile_ms(samples, 0.99), 2)}


def median_of(rows, key):
    """The median of ``key`` over repeated runs (``None`` values skipped)."""
    values = [row[key] for row in rows if row.get(key) is not None]
    return round(statistics.median(values), 2) if values else None


def timed(action, repeats):
    """``repeats`` timings (seconds) of ``action()`` after one warm-up call."""
    import time as clock
    action()
    samples = []
    for _ in range(repeats):
        started = clock.perf_counter()
        action()
        samples.append(clock.perf_counter() - started)
    return samples


#: The invariant of tests/db/invariants.py as one SQL statement (window
#: functions: PostgreSQL and SQLite alike), so that it stays fast on
#: hundreds of thousands of rows: for every resource and instant, the seats
#: of active bookings (a held one only until its hold expires) never exceed
#: the capacity. Ends sort before starts at the same instant ([start, end)).
CAPACITY_VIOLATIONS_SQL = """
WITH active AS (
    SELECT resource_id, block_start, block_end, seats FROM bookings
    WHERE status IN ('held', 'confirmed')
      AND NOT (status = 'held' AND hold_expires_at <= :now)
), events AS (
    SELECT resource_id, block_start AS at, seats AS delta FROM active
    UNION ALL
    SELECT resource_id, block_end AS at, -seats AS delta FROM active
), levels AS (
    SELECT resource_id, at, SUM(delta) OVER (
        PARTITION BY resource_id ORDER BY at, delta ROWS UNBOUNDED PRECEDING) AS level
    FROM events
)
SELECT COUNT(*) FROM levels JOIN resources ON resources.id = levels.resource_id
WHERE levels.level > resources.capacity
"""


def capacity_violations(db):
    """How many (resource, instant) pairs exceed the resource's capacity."""
    from sqlalchemy import text
    # SQLite keeps instants as naive UTC text with microseconds.
    now = NOW if db.backend == "postgresql" else NOW.strftime("%Y-%m-%d %H:%M:%S.%f")
    with db.engine.connect() as connection:
        return connection.execute(text(CAPACITY_VIOLATIONS_SQL), {"now": now}).scalar()


def wsgi_app(db):
    """The app in process (WebTest) on ``db``, with production.ini's
    process settings and the benchmark's frozen clock."""
    import webtest

    from booking import main
    from booking.clock import FrozenClock

    return webtest.TestApp(main({}, **db.settings, **{
        "booking.secret": "b" * 40, "booking.clock": FrozenClock(NOW),
        "booking.gc_freeze": "true"}))


def dispose(test_app):
    """Close the pooled connections of a WebTest app (whatever wraps it)."""
    app = test_app.app
    while not hasattr(app, "registry"):
        app = app.app
    app.registry["dbsession_factory"].kw["bind"].dispose()
    gc.unfreeze()  # wsgi_app froze what was alive then, the benchmark's data too

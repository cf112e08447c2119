"""Venues near me with many venues: ``search`` through the service and the
JSON endpoint through the WSGI app, around a dense city and a sparse
place, at the default and the largest radius.

``python -m bench.near_me [--venues N] [--repeats N] [--backend …]`` runs it
alone; ``bench.run`` includes it.
"""

import argparse
import json
import os
import random
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from booking.models import Booking, OpeningHours, Resource, Tenant, User, Venue
from booking.services.discovery import search

from .common import NOW, ZONE, database, median_ms, percentile_ms, timed, wsgi_app

#: Cities the venues cluster around (half of them), the rest spread over France.
CITIES = [(48.8566, 2.3522), (45.7640, 4.8357), (43.2965, 5.3698), (43.6047, 1.4442),
          (43.7102, 7.2620), (47.2184, -1.5536), (48.5734, 7.7521), (44.8378, -0.5792),
          (50.6292, 3.0573), (48.1173, -1.6778)]
QUERIES = [("Paris centre", CITIES[0], 10), ("Paris centre", CITIES[0], 100),
           ("countryside", (46.5, 2.5), 10), ("countryside", (46.5, 2.5), 100)]
HERE = os.path.dirname(os.path.abspath(__file__))


def seed_venues(db, venues, seed_value=11):
    """``venues`` venues of 100 tenants, open 08:00-20:00, with two courts
    each whose first two slots of today are booked."""
    rng = random.Random(seed_value)
    with db.session() as s:
        tenants = [Tenant(slug=f"near-{n}", name=f"Near {n}", time_zone="Europe/Paris",
                          currency="EUR", created_at=NOW) for n in range(100)]
        s.add_all(tenants)
        customer = User(email="near@bench.test", password_hash="-", created_at=NOW)
        s.add(customer)
        s.flush()
        tenant_ids, customer_id = [t.id for t in tenants], customer.id
    rows = []
    for n in range(venues):
        if n % 2:
            lat, lon = rng.choice(CITIES)
            lat, lon = rng.gauss(lat, 0.15), rng.gauss(lon, 0.2)
        else:
            lat, lon = rng.uniform(42.5, 51), rng.uniform(-4.5, 8)
        rows.append({"tenant_id": tenant_ids[n % 100], "name": f"Venue {n}", "address": "",
                     "latitude": lat, "longitude": lon, "location_status": "manual",
                     "locate_attempts": 0, "created_at": NOW})
    with db.engine.begin() as connection:
        connection.execute(insert(Venue.__table__), rows)
        venue_rows = connection.execute(select(Venue.id, Venue.tenant_id)).all()
        connection.execute(insert(OpeningHours.__table__), [
            {"tenant_id": t, "venue_id": v, "resource_id": None, "weekday": d,
             "opens_minute": 8 * 60, "closes_minute": 20 * 60}
            for v, t in venue_rows for d in range(7)])
        connection.execute(insert(Resource.__table__), [
            {"tenant_id": t, "venue_id": v, "name": f"Court {k}", "kind": "court",
             "description": "", "capacity": 1, "slot_minutes": 60, "buffer_before_minutes": 0,
             "buffer_after_minutes": 0, "min_notice_minutes": 0, "max_advance_days": 90,
             "price": 1000, "active": True}
            for v, t in venue_rows for k in range(2)])
        resources = connection.execute(select(Resource.id, Resource.tenant_id)).all()
        today = NOW.astimezone(ZONE).date()
        bookings = []
        for r, t in resources:
            for hour in (10, 11):
                start = datetime(today.year, today.month, today.day, hour,
                                 tzinfo=ZONE).astimezone(UTC)
                end = start + timedelta(hours=1)
                bookings.append({
                    "tenant_id": t, "reference": f"N{r}-{hour}", "resource_id": r,
                    "customer_id": customer_id, "starts_at": start, "ends_at": end,
                    "block_start": start, "block_end": end, "seats": 1, "exclusive": True,
                    "status": "confirmed", "price": 0, "currency": "EUR",
                    "payment_status": "not_required", "note": "", "cancel_reason": "",
                    "sequence": 0, "created_at": NOW, "updated_at": NOW})
        connection.execute(insert(Booking.__table__), bookings)
    if db.backend == "postgresql":
        with db.engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
    return len(venue_rows)


def measure(backend, venues=10_000, repeats=20):
    rows = []
    with database(backend) as db:
        made = seed_venues(db, venues)
        app = wsgi_app(db)
        for label, (lat, lon), radius in QUERIES:
            with db.session() as s:
                found = search(s, NOW, lat, lon, radius)
                service = timed(lambda: search(s, NOW, lat, lon, radius), repeats)
            url = f"/api/v1/near?lat={lat}&lon={lon}&radius={radius}"
            http = timed(lambda: app.get(url), repeats)
            rows.append({
                "backend": backend, "venues": made, "query": label, "radius_km": radius,
                "found": found.total, "repeats": repeats,
                "service_median_ms": round(median_ms(service), 2),
                "service_p95_ms": round(percentile_ms(service, 0.95), 2),
                "http_median_ms": round(median_ms(http), 2),
                "http_p95_ms": round(percentile_ms(http, 0.95), 2),
            })
        app.app.app.registry["dbsession_factory"].kw["bind"].dispose()
    return rows


COLUMNS = ["backend", "venues", "query", "radius_km", "found", "repeats", "service_median_ms",
           "service_p95_ms", "http_median_ms", "http_p95_ms"]


def main_cli():
    from .run import table

    parser = argparse.ArgumentParser(prog="bench.near_me")
    parser.add_argument("--venues", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    rows = [row for backend in args.backend or ["sqlite", "postgresql"]
            for row in measure(backend, args.venues, args.repeats)]
    table("Venues near me (search: service and GET /api/v1/near)", rows, COLUMNS)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    name = f"near_me-{time.strftime('%Y%m%d-%H%M%S')}.json"
    with open(os.path.join(HERE, "results", name), "w") as handle:
        json.dump({"near_me": rows}, handle, indent=2)


if __name__ == "__main__":
    main_cli()

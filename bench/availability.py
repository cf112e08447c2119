"""One resource's week of free slots, with many bookings in the database:
through the service, and through the WSGI app (the JSON endpoint)."""

import time
from datetime import timedelta

import webtest

from booking import main
from booking.clock import FrozenClock
from booking.models import Resource
from booking.services.availability import AvailabilityService

from .common import NOW, ZONE, database, median_ms, percentile_ms, seed


def measure(backend, bookings, repeats):
    with database(backend) as db:
        world = seed(db, resources=100, bookings=bookings)
        resource_id = world["resource_ids"][len(world["resource_ids"]) // 2]
        first = NOW.astimezone(ZONE).date() + timedelta(days=1)
        last = first + timedelta(days=6)

        service_samples = []
        with db.session() as s:
            resource = s.get(Resource, resource_id)
            service = AvailabilityService(s, NOW)
            slots = service.free_slots(resource, first, last)  # warm-up
            for _ in range(repeats):
                started = time.perf_counter()
                service.free_slots(resource, first, last)
                service_samples.append(time.perf_counter() - started)

        app = webtest.TestApp(main({}, **db.settings, **{
            "booking.secret": "b" * 40, "booking.clock": FrozenClock(NOW)}))
        url = (f"/api/v1/t/bench/venues/{world['venue_id']}/resources/{resource_id}"
               f"/availability?from={first}&to={last}")
        app.get(url)
        http_samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            app.get(url)
            http_samples.append(time.perf_counter() - started)
        app.app.app.registry["dbsession_factory"].kw["bind"].dispose()
        return {
            "backend": backend, "bookings": world["bookings"], "repeats": repeats,
            "free_slots": len(slots),
            "service_median_ms": round(median_ms(service_samples), 2),
            "service_p95_ms": round(percentile_ms(service_samples, 0.95), 2),
            "http_median_ms": round(median_ms(http_samples), 2),
            "http_p95_ms": round(percentile_ms(http_samples, 0.95), 2),
        }

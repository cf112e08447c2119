"""The double-booking guard under real concurrency.

A real server (waitress, 16 threads) on a loopback port; each attempt is a
client thread with its own HTTP connection, and the server thread serving
it has its own database connection. A barrier releases them together.
"""

import collections
import threading
import time
from datetime import datetime
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from booking.models import Booking, Role

from .. import builders as b
from ..conftest import NOW
from ..functional.api import IN_A_WEEK, at
from ..servers import serve
from .invariants import capacity_violations

SERVER_THREADS = 16


@pytest.fixture
def server(app):
    with serve(app, threads=SERVER_THREADS) as url:
        yield url


@pytest.fixture
def arena(db):
    """A tenant with an exclusive court, a class of 10, and 50 customers."""
    with db.session() as s:
        tenant = b.tenant(s, slug="arena")
        venue = b.venue(s, tenant, hours="every day 08:00-20:00")
        court = b.resource(s, venue, capacity=1)
        courts = [b.resource(s, venue, capacity=1) for _ in range(4)]
        yoga = b.resource(s, venue, capacity=10)
        customers = [b.user(s) for _ in range(50)]
        owner = b.member(s, tenant, Role.OWNER)
        return {
            "slug": tenant.slug, "court": court.id, "courts": [c.id for c in courts],
            "yoga": yoga.id, "tokens": [b.token(s, c) for c in customers],
            "owner_token": b.token(s, owner),
        }


def race(calls):
    """Run ``calls`` (each ``f(session) -> status``) at once; return their
    statuses and the seconds from release to the last answer."""
    barrier = threading.Barrier(len(calls))

    def attempt(call):
        with requests.Session() as http:  # its own connection
            barrier.wait(timeout=60)
            return call(http)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        statuses = list(pool.map(attempt, calls))
    return statuses, time.perf_counter() - started


def post_booking(server, slug, token, resource_id, start, seats=1):
    def call(http):
        return http.post(
            f"{server}/api/v1/t/{slug}/bookings",
            json={"resource_id": resource_id, "start": start, "seats": seats},
            headers={"Authorization": f"Bearer {token}"}, timeout=60,
        ).status_code

    return call


def active_count(db, resource_id):
    with db.session() as s:
        return s.scalar(select(func.sum(Booking.seats)).where(
            Booking.resource_id == resource_id, Booking.status == "confirmed"))


def assert_invariant(db):
    with db.session() as s:
        assert capacity_violations(s, NOW) == []


def test_fifty_attempts_at_one_exclusive_slot_make_one_booking(db, server, arena):
    start = at(IN_A_WEEK, 10)
    statuses, seconds = race([
        post_booking(server, arena["slug"], token, arena["court"], start) for token in arena["tokens"]
    ])
    assert collections.Counter(statuses) == {201: 1, 409: 49}
    assert active_count(db, arena["court"]) == 1
    assert_invariant(db)
    print(f"\n[{db.backend}] 50 attempts at one slot answered in {seconds:.2f}s "
          f"({50 / seconds:.0f} requests/s)")


def test_thirty_attempts_at_a_class_of_ten_fill_it_exactly(db, server, arena):
    start = at(IN_A_WEEK, 10)
    statuses, seconds = race([
        post_booking(server, arena["slug"], token, arena["yoga"], start)
        for token in arena["tokens"][:30]
    ])
    assert collections.Counter(statuses) == {201: 10, 409: 20}
    assert active_count(db, arena["yoga"]) == 10
    assert_invariant(db)


def test_attempts_on_distinct_slots_all_succeed(db, server, arena):
    calls = [
        post_booking(server, arena["slug"], token, arena["courts"][i % 4], at(IN_A_WEEK, 8 + i // 4))
        for i, token in enumerate(arena["tokens"][:48])
    ]
    statuses, seconds = race(calls)
    assert collections.Counter(statuses) == {201: 48}
    assert_invariant(db)
    print(f"\n[{db.backend}] 48 bookings on distinct slots in {seconds:.2f}s "
          f"({48 / seconds:.0f} bookings/s)")


def test_reschedules_racing_new_bookings_keep_the_invariant(db, server, arena):
    slug, court = arena["slug"], arena["court"]
    movers, bookers = arena["tokens"][:10], arena["tokens"][10:20]
    target = at(IN_A_WEEK, 19)
    booking_ids = []
    with requests.Session() as http:
        for hour, token in zip(range(8, 18), movers):
            response = http.post(f"{server}/api/v1/t/{slug}/bookings",
                                 json={"resource_id": court, "start": at(IN_A_WEEK, hour)},
                                 headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 201
            booking_ids.append(response.json()["id"])

    def reschedule(token, booking_id):
        def call(http):
            return http.post(f"{server}/api/v1/t/{slug}/bookings/{booking_id}/reschedule",
                             json={"start": target},
                             headers={"Authorization": f"Bearer {token}"}, timeout=60).status_code
        return call

    calls = [reschedule(token, booking_id) for token, booking_id in zip(movers, booking_ids)]
    calls += [post_booking(server, slug, token, court, target) for token in bookers]
    statuses, _ = race(calls)
    winners = [s for s in statuses if s in (200, 201)]
    assert len(winners) == 1 and statuses.count(409) == 19
    with db.session() as s:
        at_target = s.scalar(select(func.count()).select_from(Booking).where(
            Booking.resource_id == court, Booking.status == "confirmed",
            Booking.starts_at == _parse(target)))
        assert at_target == 1
        # The losers of the race kept their own slots.
        confirmed = s.scalar(select(func.count()).select_from(Booking).where(
            Booking.resource_id == court, Booking.status == "confirmed"))
        assert confirmed == (10 if winners == [200] else 11)
    assert_invariant(db)


def _parse(iso):
    return datetime.fromisoformat(iso)

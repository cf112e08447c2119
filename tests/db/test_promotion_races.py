"""Promo code limits and voucher balances under real concurrency, on both databases: threads
released together by a barrier, each booking a different slot (so that
only the code is shared) in its own session and transaction."""

import collections
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime

import pytest
import requests
from sqlalchemy import func, select

from booking.models import (Booking, CodeUse, PromoCode, Resource, Tenant, User, Voucher,
                            VoucherEntry)
from booking.services.booking import BookingRequest, BookingService
from booking.services.errors import DomainError
from booking.services.pricing import (CodeGuesses, CodeRefused, PricingService, Who,
                                      voucher_digest)
from booking.services.throttle import TooManyAttempts

from .. import builders as b
from ..conftest import NOW
from ..servers import serve

DAY = date(2026, 3, 10)
ATTEMPTS = 30
LIMIT = 10


@pytest.fixture
def shop(db):
    """Three courts open 08:00–18:00 (30 one-hour slots), 30 customers and
    a code of 25 % limited to 10 uses."""
    with db.session() as s:
        tenant = b.tenant(s)
        venue = b.venue(s, tenant, hours="every day 08:00-18:00")
        courts = [b.resource(s, venue, capacity=1, price=2000).id for _ in range(3)]
        customers = [b.user(s).id for _ in range(ATTEMPTS)]
        s.add(PromoCode(tenant_id=tenant.id, code="TEN", percent=25, max_uses=LIMIT,
                        created_at=NOW))
        return {"tenant": tenant.id, "courts": courts, "customers": customers}


def slot(index):
    from zoneinfo import ZoneInfo

    return datetime(DAY.year, DAY.month, DAY.day, 8 + index // 3,
                    tzinfo=ZoneInfo("Europe/Paris"))


def race(db, shop, attempts, **request):
    barrier = threading.Barrier(attempts)

    def attempt(index):
        barrier.wait(timeout=60)
        try:
            with db.session() as s:
                BookingService(s, NOW).book(BookingRequest(
                    s.get(Tenant, shop["tenant"]),
                    s.get(Resource, shop["courts"][index % 3]),
                    s.get(User, shop["customers"][index]), slot(index), **request))
            return "booked"
        except CodeRefused as refused:
            return refused.reason
        except DomainError as other:  # anything else is a failure of the test
            return f"{type(other).__name__}: {other.message}"

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        return collections.Counter(pool.map(attempt, range(attempts)))


def test_thirty_bookings_with_a_code_of_ten_uses_make_exactly_ten(db, shop):
    outcomes = race(db, shop, ATTEMPTS, code="ten")
    assert outcomes == {"booked": LIMIT, "used_up": ATTEMPTS - LIMIT}
    with db.session() as s:
        prices = s.scalars(select(Booking.price)).all()
        assert prices == [1500] * LIMIT  # every one at the discounted price
        assert s.scalar(select(PromoCode.uses)) == LIMIT
        assert s.scalar(select(func.count()).select_from(CodeUse)) == LIMIT


@pytest.fixture
def server(app):
    with serve(app, threads=16) as url:
        yield url


def api_race(db, server, shop, attempts, **fields):
    """``attempts`` customers POST a booking each (distinct slots, with
    ``fields``) through the server at once: ``Counter`` of ``(201, price)``
    or ``(status, error reason)``."""
    with db.session() as s:
        slug = s.get(Tenant, shop["tenant"]).slug
        tokens = [b.token(s, s.get(User, user_id)) for user_id in shop["customers"][:attempts]]
    barrier = threading.Barrier(attempts)

    def attempt(index):
        with requests.Session() as http:
            barrier.wait(timeout=60)
            response = http.post(
                f"{server}/api/v1/t/{slug}/bookings",
                json={"resource_id": shop["courts"][index % 3], "start": slot(index).isoformat(),
                      **fields},
                headers={"Authorization": f"Bearer {tokens[index]}"}, timeout=60)
        if response.status_code == 201:
            return 201, response.json()["price"]
        return response.status_code, response.json()["error"].get("reason")

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        return collections.Counter(pool.map(attempt, range(attempts)))


def test_thirty_api_bookings_with_a_code_of_ten_uses_make_exactly_ten(db, server, shop):
    outcomes = api_race(db, server, shop, ATTEMPTS, code="Ten")
    assert outcomes == {(201, 1500): LIMIT, (400, "used_up"): ATTEMPTS - LIMIT}
    with db.session() as s:
        assert s.scalar(select(PromoCode.uses)) == LIMIT


def test_twenty_api_bookings_paying_with_one_voucher_never_take_it_below_zero(db, server, shop):
    with db.session() as s:
        tenant = s.get(Tenant, shop["tenant"])
        s.add(Voucher(tenant_id=tenant.id, digest=voucher_digest("GIFT-RACE-0000-0001"),
                      hint="0001", currency=tenant.currency, initial=10000, balance=10000,
                      created_at=NOW))
    outcomes = api_race(db, server, shop, 20, voucher="gift-race-0000-0001")
    # 2,000 a booking: five are paid in full by the voucher; the others
    # find it empty (or, quoted before it emptied, no longer holding enough).
    assert outcomes[(201, 0)] == 5
    assert sum(count for (status, _), count in outcomes.items() if status == 201) == 5
    with db.session() as s:
        assert s.scalar(select(Voucher.balance)) == 0
        assert s.scalar(select(func.sum(VoucherEntry.amount))) == -10000


def test_thirty_parallel_wrong_codes_from_one_address_get_ten_answers(db, shop):
    barrier = threading.Barrier(ATTEMPTS)

    def attempt(index):
        barrier.wait(timeout=60)
        with db.session() as s:
            try:
                answer = PricingService(s, NOW).try_code(
                    s.get(Tenant, shop["tenant"]), s.get(Resource, shop["courts"][0]),
                    slot(0), 1, f"GUESS{index}", Who(), "203.0.113.9")
            except TooManyAttempts:
                return "throttled"
            return answer.reason

    with ThreadPoolExecutor(max_workers=ATTEMPTS) as pool:
        outcomes = collections.Counter(pool.map(attempt, range(ATTEMPTS)))
    assert outcomes == {"unknown": CodeGuesses.PER_ADDRESS,
                        "throttled": ATTEMPTS - CodeGuesses.PER_ADDRESS}

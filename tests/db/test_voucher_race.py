"""A voucher's balance under real concurrency: many bookings of different
slots (so the resource guard does not serialise them) pay with one voucher
at once. Each attempt is a thread with its own connection and its own
committed transaction, through the booking service every surface uses; a
barrier releases them together. Transient errors are tried again, as
pyramid_retry does for a request."""

import collections
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import transaction
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from booking.models import (
    Booking,
    Resource,
    Tenant,
    User,
    Voucher,
    VoucherEntry,
    get_tm_session,
    is_transient_error,
)
from booking.services.booking import BookingRequest, BookingService
from booking.services.pricing import VoucherRefused
from booking.services.vouchers import VoucherService

from .. import builders as b
from ..conftest import NOW

ATTEMPTS = 20
PRICE = 1000
BALANCE = 5 * PRICE
RETRIES = 5


def book_with_voucher(db, ids, index, code, barrier):
    """One customer books slot ``index`` paying with ``code``: ``booked``
    or ``refused``."""
    court_id = ids["courts"][index % len(ids["courts"])]
    start = NOW + timedelta(days=7, hours=index // len(ids["courts"]))
    barrier.wait(timeout=60)
    for _attempt in range(RETRIES):
        manager = transaction.TransactionManager(explicit=True)
        try:
            with manager:
                s = get_tm_session(db.session_factory, manager, write=True)
                BookingService(s, NOW).book(BookingRequest(
                    s.get(Tenant, ids["tenant"]), s.get(Resource, court_id),
                    s.get(User, ids["customers"][index]), start, voucher=code))
            return "booked"
        except VoucherRefused:
            return "refused"
        except DBAPIError as exc:
            if not is_transient_error(exc):
                raise
    return "gave up"


def test_concurrent_bookings_take_exactly_the_balance(db):
    with db.session() as s:
        tenant = b.tenant(s, currency="EUR")
        venue = b.venue(s, tenant, hours="every day 08:00-20:00")
        courts = [b.resource(s, venue, capacity=1, price=PRICE) for _ in range(4)]
        ids = {"tenant": tenant.id, "courts": [court.id for court in courts],
               "customers": [b.user(s).id for _ in range(ATTEMPTS)]}
        voucher, code = VoucherService(s, NOW).issue(tenant, None, BALANCE)
        voucher_id = voucher.id
    barrier = threading.Barrier(ATTEMPTS)
    with ThreadPoolExecutor(max_workers=ATTEMPTS) as pool:
        outcomes = list(pool.map(
            lambda index: book_with_voucher(db, ids, index, code, barrier), range(ATTEMPTS)))
    assert collections.Counter(outcomes) == {"booked": BALANCE // PRICE,
                                             "refused": ATTEMPTS - BALANCE // PRICE}
    with db.session() as s:
        assert s.get(Voucher, voucher_id).balance == 0
        amounts = s.scalars(select(VoucherEntry.amount)
                            .where(VoucherEntry.voucher_id == voucher_id)
                            .order_by(VoucherEntry.id)).all()
        assert sum(amounts) == 0
        running = [sum(amounts[:n]) for n in range(1, len(amounts) + 1)]
        assert min(running) >= 0  # never below zero, line after line
        assert amounts == [BALANCE] + [-PRICE] * (BALANCE // PRICE)
        paid = s.execute(select(func.count(), func.sum(Booking.voucher_amount))
                         .where(Booking.voucher_id == voucher_id)).one()
        assert tuple(paid) == (BALANCE // PRICE, BALANCE)
        assert s.scalar(select(func.count()).select_from(Booking)) == BALANCE // PRICE

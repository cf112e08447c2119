"""The booking service's rules, on both databases."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from booking.models import (
    AuditLog,
    Booking,
    BookingStatus,
    PaymentStatus,
    Resource,
    Tenant,
    User,
    Venue,
)
from booking.services.booking import BookingRequest, BookingService
from booking.services.errors import Conflict, PolicyViolation, ValidationError

from .. import builders as b
from ..conftest import NOW

PARIS = ZoneInfo("Europe/Paris")
TOMORROW = date(2026, 3, 3)
IN_A_WEEK = date(2026, 3, 9)


def paris(day, hour, minute=0):
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def ids(db):
    with db.session() as s:
        tenant = b.tenant(s, cancellation_window_minutes=24 * 60, hold_minutes=15)
        venue = b.venue(s, tenant, hours="every day 09:00-18:00")
        court = b.resource(s, venue, capacity=1, price=2000, max_advance_days=30)
        yoga = b.resource(s, venue, capacity=10, price=1000)
        return dict(tenant=tenant.id, venue=venue.id, court=court.id, yoga=yoga.id,
                    customer=b.user(s).id, other=b.user(s).id)


def load(s, ids):
    return (s.get(Tenant, ids["tenant"]), s.get(Resource, ids["court"]),
            s.get(Resource, ids["yoga"]), s.get(User, ids["customer"]), s.get(User, ids["other"]))


def count(db, model, *where):
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def book(db, ids, resource="court", start=None, seats=1, customer="customer", now=NOW, **kw):
    with db.session() as s:
        tenant, court, yoga, customer_row, other = load(s, ids)
        resource_row = {"court": court, "yoga": yoga}[resource]
        user = {"customer": customer_row, "other": other}[customer]
        booking, created = BookingService(s, now).book(BookingRequest(
            tenant, resource_row, user, start or paris(TOMORROW, 10), seats, actor_id=user.id, **kw
        ))
        return booking.id, created


class TestBook:
    def test_book_confirms_and_prices(self, db, ids):
        booking_id, created = book(db, ids, seats=1)
        with db.session() as s:
            booking = s.get(Booking, booking_id)
            assert created and booking.status == BookingStatus.CONFIRMED
            assert (booking.price, booking.currency) == (2000, "EUR")
            assert booking.payment_status == PaymentStatus.DUE_AT_VENUE
            assert booking.ends_at - booking.starts_at == timedelta(hours=1)
            assert len(booking.reference) == 8

    def test_book_writes_audit_row(self, db, ids):
        booking_id, _ = book(db, ids)
        with db.session() as s:
            row = s.scalar(select(AuditLog).where(AuditLog.target_id == booking_id))
            assert (row.action, row.actor_id, row.target_type) == ("booking.created", ids["customer"], "booking")

    def test_book_refuses_taken_exclusive_slot(self, db, ids):
        book(db, ids)
        with pytest.raises(Conflict, match="already booked"):
            book(db, ids, customer="other")
        assert count(db, Booking) == 1

    def test_book_refuses_slot_off_grid(self, db, ids):
        with pytest.raises(ValidationError) as error:
            book(db, ids, start=paris(TOMORROW, 10, 30))
        assert error.value.field == "start"
        assert count(db, Booking) == 0

    def test_book_refuses_slot_outside_opening_hours(self, db, ids):
        with pytest.raises(ValidationError, match="not a slot"):
            book(db, ids, start=paris(TOMORROW, 19))

    def test_book_refuses_past(self, db, ids):
        with pytest.raises(ValidationError, match="past"):
            book(db, ids, start=paris(date(2026, 3, 1), 10))

    def test_book_refuses_too_soon(self, db, ids):
        with db.session() as s:
            s.get(Resource, ids["court"]).min_notice_minutes = 180
        with pytest.raises(ValidationError, match="too soon"):
            book(db, ids, start=paris(date(2026, 3, 2), 12))

    def test_book_refuses_too_far_ahead(self, db, ids):
        with pytest.raises(ValidationError, match="too far ahead"):
            book(db, ids, start=paris(date(2026, 4, 10), 10))

    def test_book_refuses_closed_slot(self, db, ids):
        with db.session() as s:
            b.closure(s, s.get(Venue, ids["venue"]), paris(TOMORROW, 0), paris(IN_A_WEEK, 0))
        with pytest.raises(Conflict, match="closed"):
            book(db, ids)

    @pytest.mark.parametrize("seats", [0, 11])
    def test_book_refuses_seats_outside_capacity(self, db, ids, seats):
        with pytest.raises(ValidationError) as error:
            book(db, ids, resource="yoga", seats=seats)
        assert error.value.field == "seats"

    def test_capacity_fills_then_refuses(self, db, ids):
        book(db, ids, resource="yoga", seats=6)
        book(db, ids, resource="yoga", seats=4, customer="other")
        with pytest.raises(Conflict, match="already booked"):
            book(db, ids, resource="yoga", seats=1)

    def test_capacity_refuses_more_than_left(self, db, ids):
        book(db, ids, resource="yoga", seats=8)
        with pytest.raises(Conflict, match="only 2 seat"):
            book(db, ids, resource="yoga", seats=3, customer="other")

    def test_idempotency_key_returns_first_booking(self, db, ids):
        first, created = book(db, ids, idempotency_key="k-1")
        again, created_again = book(db, ids, idempotency_key="k-1")
        assert (created, created_again, again) == (True, False, first)
        assert count(db, Booking) == 1

    def test_idempotency_key_reused_for_other_booking_conflicts(self, db, ids):
        book(db, ids, idempotency_key="k-1")
        with pytest.raises(Conflict) as error:
            book(db, ids, start=paris(TOMORROW, 11), idempotency_key="k-1")
        assert error.value.field == "idempotency_key"

    def test_stale_hold_is_expired_by_the_next_booking(self, db, ids):
        held, _ = book(db, ids, hold_for_payment=True)
        later = NOW + timedelta(minutes=16)
        taken, _ = book(db, ids, customer="other", now=later)
        with db.session() as s:
            assert s.get(Booking, held).status == BookingStatus.EXPIRED
            assert s.get(Booking, taken).status == BookingStatus.CONFIRMED
            actions = s.scalars(select(AuditLog.action).where(AuditLog.target_id == held)).all()
            assert "booking.expired" in actions

    def test_stale_hold_elsewhere_is_left_to_the_sweep(self, db, ids):
        held, _ = book(db, ids, hold_for_payment=True)
        later = NOW + timedelta(minutes=16)
        book(db, ids, start=paris(TOMORROW, 11), customer="other", now=later)
        with db.session() as s:
            assert s.get(Booking, held).status == BookingStatus.HELD
            assert BookingService(s, later).expire_stale_holds() == 1

    def test_live_hold_blocks_the_slot(self, db, ids):
        book(db, ids, hold_for_payment=True)
        with pytest.raises(Conflict):
            book(db, ids, customer="other", now=NOW + timedelta(minutes=14))


def cancel(db, ids, booking_id, now=NOW, by_staff=False):
    with db.session() as s:
        tenant = load(s, ids)[0]
        booking = s.get(Booking, booking_id)
        return BookingService(s, now).cancel(tenant, booking, actor_id=ids["customer"],
                                             reason="ill", by_staff=by_staff).status


class TestCancel:
    def test_cancel_inside_window(self, db, ids):
        booking_id, _ = book(db, ids, start=paris(IN_A_WEEK, 10))
        assert cancel(db, ids, booking_id) == BookingStatus.CANCELLED
        assert count(db, AuditLog, AuditLog.action == "booking.cancelled") == 1

    def test_cancel_bumps_the_sequence_of_the_calendar_event(self, db, ids):
        booking_id, _ = book(db, ids, start=paris(IN_A_WEEK, 10))
        cancel(db, ids, booking_id)
        with db.session() as s:
            assert s.get(Booking, booking_id).sequence == 1

    def test_cancel_denied_when_window_closed(self, db, ids):
        booking_id, _ = book(db, ids, start=paris(TOMORROW, 10))  # 24 h window closes at 10:00 today
        with pytest.raises(PolicyViolation, match="window has closed"):
            cancel(db, ids, booking_id, now=NOW + timedelta(minutes=1))

    def test_staff_cancel_allowed_after_window(self, db, ids):
        booking_id, _ = book(db, ids, start=paris(TOMORROW, 10))
        assert cancel(db, ids, booking_id, now=NOW + timedelta(hours=5), by_staff=True) == "cancelled"

    def test_cancel_twice_conflicts(self, db, ids):
        booking_id, _ = book(db, ids, start=paris(IN_A_WEEK, 10))
        cancel(db, ids, booking_id)
        with pytest.raises(Conflict, match="already cancelled"):
            cancel(db, ids, booking_id)

    def test_cancelled_slot_can_be_booked_again(self, db, ids):
        booking_id, _ = book(db, ids, start=paris(IN_A_WEEK, 10))
        cancel(db, ids, booking_id)
        book(db, ids, start=paris(IN_A_WEEK, 10), customer="other")
        assert count(db, Booking, Booking.status == "confirmed") == 1


def reschedule(db, ids, booking_id, start, resource="court", now=NOW, by_staff=False):
    with db.session() as s:
        tenant, court, yoga, *_ = load(s, ids)
        booking = s.get(Booking, booking_id)
        moved = BookingService(s, now).reschedule(
            tenant, booking, {"court": court, "yoga": yoga}[resource], start,
            actor_id=ids["customer"], by_staff=by_staff,
        )
        return moved.starts_at, moved.sequence


class TestReschedule:
    def test_reschedule_moves_and_bumps_sequence(self, db, ids):
        booking_id, _ = book(db, ids, start=paris(IN_A_WEEK, 10))
        starts_at, sequence = reschedule(db, ids, booking_id, paris(IN_A_WEEK, 11))
        assert (starts_at, sequence) == (paris(IN_A_WEEK, 11), 1)
        assert count(db, AuditLog, AuditLog.action == "booking.rescheduled") == 1

    def test_reschedule_conflict_keeps_old_slot(self, db, ids):
        booking_id, _ = book(db, ids, start=paris(IN_A_WEEK, 10))
        book(db, ids, start=paris(IN_A_WEEK, 11), customer="other")
        with pytest.raises(Conflict):
            reschedule(db, ids, booking_id, paris(IN_A_WEEK, 11))
        with db.session() as s:
            booking = s.get(Booking, booking_id)
            assert (booking.starts_at, booking.status, booking.sequence) == (paris(IN_A_WEEK, 10), "confirmed", 0)

    def test_reschedule_within_own_block_is_allowed(self, db, ids):
        booking_id, _ = book(db, ids, resource="yoga", seats=10, start=paris(IN_A_WEEK, 10))
        starts_at, _ = reschedule(db, ids, booking_id, paris(IN_A_WEEK, 11), resource="yoga")
        assert starts_at == paris(IN_A_WEEK, 11)

    def test_reschedule_to_another_resource(self, db, ids):
        booking_id, _ = book(db, ids, start=paris(IN_A_WEEK, 10))
        reschedule(db, ids, booking_id, paris(IN_A_WEEK, 10), resource="yoga")
        with db.session() as s:
            booking = s.get(Booking, booking_id)
            assert (booking.resource_id, booking.exclusive) == (ids["yoga"], False)

    def test_reschedule_to_same_time_refused(self, db, ids):
        booking_id, _ = book(db, ids, start=paris(IN_A_WEEK, 10))
        with pytest.raises(ValidationError, match="current time"):
            reschedule(db, ids, booking_id, paris(IN_A_WEEK, 10))

    def test_reschedule_denied_when_window_closed(self, db, ids):
        booking_id, _ = book(db, ids, start=paris(TOMORROW, 10))
        with pytest.raises(PolicyViolation):
            reschedule(db, ids, booking_id, paris(IN_A_WEEK, 10), now=NOW + timedelta(hours=1))

    def test_reschedule_cancelled_booking_conflicts(self, db, ids):
        booking_id, _ = book(db, ids, start=paris(IN_A_WEEK, 10))
        cancel(db, ids, booking_id)
        with pytest.raises(Conflict):
            reschedule(db, ids, booking_id, paris(IN_A_WEEK, 11))

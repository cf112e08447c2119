"""The booking service's front-desk operations and walk-in customers, on
both databases."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from booking.models import AuditLog, Booking, BookingStatus, Resource, Tenant, User
from booking.passwords import verify_password
from booking.services.accounts import authenticate
from booking.services.booking import BookingRequest, BookingService
from booking.services.desk import FrontDesk
from booking.services.customers import walk_in_contact
from booking.services.errors import Conflict, ValidationError

from .. import builders as b
from ..conftest import NOW

PARIS = ZoneInfo("Europe/Paris")
TOMORROW = date(2026, 3, 3)


def paris(day, hour, minute=0):
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def ids(db):
    with db.session() as s:
        tenant = b.tenant(s, hold_minutes=15)
        venue = b.venue(s, tenant, hours="every day 09:00-18:00")
        court = b.resource(s, venue, capacity=1, min_notice_minutes=24 * 60, max_advance_days=7)
        return dict(tenant=tenant.id, venue=venue.id, court=court.id,
                    customer=b.user(s).id, other=b.user(s).id, staff=b.user(s).id)


def book(db, ids, start, customer="customer", now=NOW, **kw):
    with db.session() as s:
        booking, _ = BookingService(s, now).book(BookingRequest(
            s.get(Tenant, ids["tenant"]), s.get(Resource, ids["court"]),
            s.get(User, ids[customer]), start, actor_id=ids[customer], **kw))
        return booking.id


def act(db, ids, operation, booking_id, now=NOW):
    with db.session() as s:
        service = BookingService(s, now)
        if operation in ("check_in", "mark_no_show"):
            service = FrontDesk(service)
        booking = getattr(service, operation)(s.get(Tenant, ids["tenant"]),
                                              s.get(Booking, booking_id), ids["staff"])
        return booking.status, booking.checked_in_at


def audit_actions(db, booking_id):
    with db.session() as s:
        return s.scalars(select(AuditLog.action).where(AuditLog.target_id == booking_id)
                         .order_by(AuditLog.id)).all()


class TestStaffBooking:
    def test_staff_skip_minimum_notice(self, db, ids):
        with pytest.raises(ValidationError, match="too soon"):
            book(db, ids, paris(date(2026, 3, 2), 12))
        assert book(db, ids, paris(date(2026, 3, 2), 12), by_staff=True)

    def test_staff_skip_maximum_advance(self, db, ids):
        with pytest.raises(ValidationError, match="too far ahead"):
            book(db, ids, paris(date(2026, 4, 20), 12))
        assert book(db, ids, paris(date(2026, 4, 20), 12), by_staff=True)

    def test_staff_cannot_book_the_past(self, db, ids):
        with pytest.raises(ValidationError, match="in the past"):
            book(db, ids, paris(date(2026, 3, 2), 9), by_staff=True)

    def test_staff_cannot_book_off_the_grid(self, db, ids):
        with pytest.raises(ValidationError, match="not a slot"):
            book(db, ids, paris(TOMORROW, 10, 30), by_staff=True)

    def test_staff_cannot_book_a_closure(self, db, ids):
        with db.session() as s:
            b.closure(s, s.get(Resource, ids["court"]).venue, paris(TOMORROW, 0),
                      paris(TOMORROW, 23), reason="Works")
        with pytest.raises(Conflict, match="closed"):
            book(db, ids, paris(TOMORROW, 10), by_staff=True)

    def test_staff_cannot_overbook(self, db, ids):
        book(db, ids, paris(TOMORROW, 10), by_staff=True)
        with pytest.raises(Conflict, match="already booked"):
            book(db, ids, paris(TOMORROW, 10), customer="other", by_staff=True)

    def test_staff_reschedule_skips_notice(self, db, ids):
        booking_id = book(db, ids, paris(TOMORROW, 12), by_staff=True)
        with db.session() as s:
            moved = BookingService(s, NOW).reschedule(
                s.get(Tenant, ids["tenant"]), s.get(Booking, booking_id),
                s.get(Resource, ids["court"]), paris(date(2026, 3, 2), 15),
                actor_id=ids["staff"], by_staff=True)
            assert moved.starts_at == paris(date(2026, 3, 2), 15)


class TestConfirm:
    def test_live_hold_is_confirmed(self, db, ids):
        booking_id = book(db, ids, paris(TOMORROW, 10), hold_for_payment=True, by_staff=True)
        assert act(db, ids, "confirm", booking_id)[0] == BookingStatus.CONFIRMED
        with db.session() as s:
            assert s.get(Booking, booking_id).hold_expires_at is None
        assert audit_actions(db, booking_id) == ["booking.created", "booking.confirmed"]

    def test_expired_hold_is_confirmed_when_slot_is_free(self, db, ids):
        booking_id = book(db, ids, paris(TOMORROW, 10), hold_for_payment=True, by_staff=True)
        later = NOW + timedelta(hours=1)
        assert act(db, ids, "confirm", booking_id, now=later)[0] == BookingStatus.CONFIRMED
        assert audit_actions(db, booking_id)[-2:] == ["booking.expired", "booking.confirmed"]

    def test_expired_hold_is_refused_when_slot_was_taken(self, db, ids):
        booking_id = book(db, ids, paris(TOMORROW, 10), hold_for_payment=True, by_staff=True)
        later = NOW + timedelta(hours=1)
        book(db, ids, paris(TOMORROW, 10), customer="other", now=later, by_staff=True)
        with pytest.raises(Conflict, match="already booked"):
            act(db, ids, "confirm", booking_id, now=later)

    def test_confirmed_booking_cannot_be_confirmed(self, db, ids):
        booking_id = book(db, ids, paris(TOMORROW, 10), by_staff=True)
        with pytest.raises(Conflict, match="cannot be confirmed"):
            act(db, ids, "confirm", booking_id)


class TestCheckIn:
    def test_refused_more_than_an_hour_before(self, db, ids):
        booking_id = book(db, ids, paris(TOMORROW, 10), by_staff=True)
        with pytest.raises(Conflict, match="check-in is open from"):
            act(db, ids, "check_in", booking_id, now=paris(TOMORROW, 8, 59))

    def test_allowed_from_an_hour_before(self, db, ids):
        booking_id = book(db, ids, paris(TOMORROW, 10), by_staff=True)
        status, checked_in_at = act(db, ids, "check_in", booking_id, now=paris(TOMORROW, 9))
        assert (status, checked_in_at) == (BookingStatus.CONFIRMED, paris(TOMORROW, 9))
        assert audit_actions(db, booking_id)[-1] == "booking.checked_in"

    def test_refused_once_the_booking_ended(self, db, ids):
        booking_id = book(db, ids, paris(TOMORROW, 10), by_staff=True)
        with pytest.raises(Conflict):
            act(db, ids, "check_in", booking_id, now=paris(TOMORROW, 11))

    def test_refused_twice(self, db, ids):
        booking_id = book(db, ids, paris(TOMORROW, 10), by_staff=True)
        act(db, ids, "check_in", booking_id, now=paris(TOMORROW, 10))
        with pytest.raises(Conflict, match="already checked in"):
            act(db, ids, "check_in", booking_id, now=paris(TOMORROW, 10, 5))

    def test_refused_for_a_held_booking(self, db, ids):
        booking_id = book(db, ids, paris(TOMORROW, 10), hold_for_payment=True, by_staff=True)
        with pytest.raises(Conflict, match="only a confirmed booking"):
            act(db, ids, "check_in", booking_id, now=NOW + timedelta(minutes=1))


class TestNoShow:
    def test_refused_before_the_start(self, db, ids):
        booking_id = book(db, ids, paris(TOMORROW, 10), by_staff=True)
        with pytest.raises(Conflict, match="has not started yet"):
            act(db, ids, "mark_no_show", booking_id, now=paris(TOMORROW, 9, 59))

    def test_marked_after_the_start(self, db, ids):
        booking_id = book(db, ids, paris(TOMORROW, 10), by_staff=True)
        assert act(db, ids, "mark_no_show", booking_id,
                   now=paris(TOMORROW, 10, 15))[0] == BookingStatus.NO_SHOW
        assert audit_actions(db, booking_id)[-1] == "booking.no_show"

    def test_refused_when_checked_in(self, db, ids):
        booking_id = book(db, ids, paris(TOMORROW, 10), by_staff=True)
        act(db, ids, "check_in", booking_id, now=paris(TOMORROW, 9, 30))
        with pytest.raises(Conflict, match="has checked in"):
            act(db, ids, "mark_no_show", booking_id, now=paris(TOMORROW, 10, 30))

    def test_frees_nothing_twice(self, db, ids):
        booking_id = book(db, ids, paris(TOMORROW, 10), by_staff=True)
        act(db, ids, "mark_no_show", booking_id, now=paris(TOMORROW, 10, 30))
        with pytest.raises(Conflict, match="only a confirmed booking"):
            act(db, ids, "mark_no_show", booking_id, now=paris(TOMORROW, 10, 31))


class TestWalkInContact:
    def test_cleans_what_the_desk_typed(self):
        assert walk_in_contact(" New@Example.TEST ", " New ", "06") == (
            "New", "06", "new@example.test")

    def test_accepts_a_name_alone(self):
        assert walk_in_contact("", "Walk In", "") == ("Walk In", "", "")

    def test_refuses_a_bad_email(self):
        with pytest.raises(ValidationError) as caught:
            walk_in_contact("no-at-sign", "", "")
        assert caught.value.field == "email"

    def test_refuses_a_long_phone(self):
        with pytest.raises(ValidationError) as caught:
            walk_in_contact("a@example.test", "", "0" * 41)
        assert caught.value.field == "phone"

    def test_refuses_no_way_to_name_the_customer(self):
        with pytest.raises(ValidationError) as caught:
            walk_in_contact("", " ", "")
        assert caught.value.field == "name"

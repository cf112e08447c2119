"""Reminders at the tenant's offsets, on both databases: due at the right
instant (real elapsed time, across the DST change), never for a cancelled
booking nor one made after the moment, and never twice."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking.models import Booking, OutboxMessage, Resource, Tenant, User
from booking.services.booking import BookingRequest, BookingService
from booking.services.notifications import Notifier
from booking.services.reminders import schedule_due_reminders, still_relevant

from .. import builders as b
from ..conftest import NOW

PARIS = ZoneInfo("Europe/Paris")
#: Monday after the spring change (Sunday 29 March 2026, 02:00 → 03:00 in Paris).
MONDAY_AFTER_DST = datetime(2026, 3, 30, 9, 0, tzinfo=PARIS)
#: Sunday of the change, at noon: 24 real hours before is Saturday 11:00 in Paris.
SUNDAY_OF_DST = datetime(2026, 3, 29, 12, 0, tzinfo=PARIS)
TOMORROW_10 = datetime(2026, 3, 3, 10, 0, tzinfo=PARIS)


@pytest.fixture
def ids(db):
    with db.session() as s:
        tenant = b.tenant(s, slug="club", reminder_offsets=[24 * 60, 2 * 60])
        venue = b.venue(s, tenant, hours="every day 08:00-20:00")
        court = b.resource(s, venue, name="Court", capacity=1)
        return dict(tenant=tenant.id, court=court.id, customer=b.user(s, locale="fr").id)


def book(db, ids, start, made_at=NOW, **kw):
    with db.session() as s:
        booking, _ = BookingService(s, made_at).book(BookingRequest(
            s.get(Tenant, ids["tenant"]), s.get(Resource, ids["court"]),
            s.get(User, ids["customer"]), start, **kw))
        return booking.id


def schedule(db, now):
    with db.session() as s:
        return schedule_due_reminders(s, now, Notifier(s, now))


def reminders(db):
    with db.session() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reminder")
                         .order_by(OutboxMessage.id)).all()
        s.expunge_all()
        return rows


def utc(*args):
    return datetime(*args, tzinfo=UTC)


class TestDueInstant:
    def test_not_due_a_minute_before_its_moment(self, db, ids):
        book(db, ids, MONDAY_AFTER_DST)
        assert schedule(db, utc(2026, 3, 29, 6, 59)) == 0

    def test_due_24_real_hours_before_on_the_day_of_the_dst_change(self, db, ids):
        booking_id = book(db, ids, MONDAY_AFTER_DST)
        due = datetime(2026, 3, 29, 9, 0, tzinfo=PARIS)  # = 07:00 UTC
        assert due == utc(2026, 3, 29, 7, 0)
        assert schedule(db, due) == 1
        (message,) = reminders(db)
        assert message.booking_id == booking_id
        assert message.dedupe_key.endswith(":1440") and message.due_at == due

    def test_offsets_are_real_hours_not_wall_clock_hours(self, db, ids):
        book(db, ids, SUNDAY_OF_DST)  # 10:00 UTC; 24 h earlier is Saturday 11:00 CET
        assert schedule(db, datetime(2026, 3, 28, 10, 59, tzinfo=PARIS)) == 0
        assert schedule(db, datetime(2026, 3, 28, 11, 0, tzinfo=PARIS)) == 1

    def test_second_offset_comes_at_its_own_moment(self, db, ids):
        book(db, ids, MONDAY_AFTER_DST)
        schedule(db, utc(2026, 3, 29, 7, 0))
        assert schedule(db, MONDAY_AFTER_DST - timedelta(hours=2, minutes=1)) == 0
        assert schedule(db, MONDAY_AFTER_DST - timedelta(hours=2)) == 1
        assert [m.dedupe_key.rsplit(":", 1)[1] for m in reminders(db)] == ["1440", "120"]

    def test_reminder_shows_the_venue_time(self, db, ids):
        book(db, ids, MONDAY_AFTER_DST)
        schedule(db, utc(2026, 3, 29, 7, 0))
        (message,) = reminders(db)
        assert "lundi 30 mars 2026, 09:00" in message.body_text
        assert "09:00" in message.body_html and message.locale == "fr"

    def test_tenant_offsets_are_used(self, db, ids):
        with db.session() as s:
            s.get(Tenant, ids["tenant"]).reminder_offsets = [30]
        book(db, ids, TOMORROW_10)
        assert schedule(db, TOMORROW_10 - timedelta(hours=2)) == 0
        assert schedule(db, TOMORROW_10 - timedelta(minutes=30)) == 1

    def test_tenant_without_offsets_gets_none(self, db, ids):
        with db.session() as s:
            s.get(Tenant, ids["tenant"]).reminder_offsets = []
        book(db, ids, TOMORROW_10)
        assert schedule(db, TOMORROW_10 - timedelta(minutes=1)) == 0


class TestNoReminder:
    def test_none_for_a_cancelled_booking(self, db, ids):
        booking_id = book(db, ids, MONDAY_AFTER_DST)
        with db.session() as s:
            booking = s.get(Booking, booking_id)
            BookingService(s, NOW).cancel(s.get(Tenant, ids["tenant"]), booking, by_staff=True)
        assert schedule(db, utc(2026, 3, 29, 7, 0)) == 0

    def test_none_for_a_held_booking(self, db, ids):
        book(db, ids, TOMORROW_10, hold_for_payment=True)
        assert schedule(db, TOMORROW_10 - timedelta(hours=2)) == 0

    def test_none_whose_moment_had_passed_when_booked(self, db, ids):
        made_at = TOMORROW_10 - timedelta(hours=10)
        book(db, ids, TOMORROW_10, made_at=made_at)
        assert schedule(db, made_at) == 0
        assert schedule(db, TOMORROW_10 - timedelta(hours=3)) == 0

    def test_later_offset_still_comes_for_a_late_booking(self, db, ids):
        book(db, ids, TOMORROW_10, made_at=TOMORROW_10 - timedelta(hours=10))
        assert schedule(db, TOMORROW_10 - timedelta(hours=2)) == 1
        assert reminders(db)[0].dedupe_key.endswith(":120")

    def test_none_once_the_booking_started(self, db, ids):
        book(db, ids, TOMORROW_10)
        assert schedule(db, TOMORROW_10) == 0

    def test_only_the_latest_when_several_moments_passed(self, db, ids):
        book(db, ids, MONDAY_AFTER_DST)
        assert schedule(db, MONDAY_AFTER_DST - timedelta(hours=1)) == 1
        (message,) = reminders(db)
        assert message.dedupe_key.endswith(":120")

    def test_running_twice_adds_nothing(self, db, ids):
        book(db, ids, MONDAY_AFTER_DST)
        now = utc(2026, 3, 29, 8, 0)
        assert schedule(db, now) == 1
        assert schedule(db, now) == 0
        assert schedule(db, now + timedelta(minutes=5)) == 0
        assert len(reminders(db)) == 1


class TestStillRelevant:
    def queued_reminder(self, db, ids):
        booking_id = book(db, ids, TOMORROW_10)
        schedule(db, TOMORROW_10 - timedelta(hours=2))
        (message,) = reminders(db)
        return booking_id, message

    def relevant(self, db, message, now):
        with db.session() as s:
            return still_relevant(s, s.get(OutboxMessage, message.id), now)

    def test_reminder_of_a_confirmed_future_booking(self, db, ids):
        _, message = self.queued_reminder(db, ids)
        assert self.relevant(db, message, TOMORROW_10 - timedelta(hours=1))

    def test_reminder_of_a_cancelled_booking(self, db, ids):
        booking_id, message = self.queued_reminder(db, ids)
        with db.session() as s:
            BookingService(s, NOW).cancel(s.get(Tenant, ids["tenant"]),
                                          s.get(Booking, booking_id), by_staff=True)
        assert not self.relevant(db, message, TOMORROW_10 - timedelta(hours=1))

    def test_reminder_of_a_started_booking(self, db, ids):
        _, message = self.queued_reminder(db, ids)
        assert not self.relevant(db, message, TOMORROW_10)

    def test_reminder_of_a_moved_booking(self, db, ids):
        booking_id, message = self.queued_reminder(db, ids)
        with db.session() as s:
            booking = s.get(Booking, booking_id)
            BookingService(s, TOMORROW_10 - timedelta(hours=2)).reschedule(
                s.get(Tenant, ids["tenant"]), booking, booking.resource,
                TOMORROW_10 + timedelta(hours=3), by_staff=True)
        assert not self.relevant(db, message, TOMORROW_10 - timedelta(hours=1))

    def test_other_kinds_stay_relevant(self, db, ids):
        booking_id = book(db, ids, TOMORROW_10)
        with db.session() as s:
            Notifier(s, NOW).booking_cancelled(s.get(Booking, booking_id))
        with db.session() as s:
            for message in s.scalars(select(OutboxMessage)):
                assert still_relevant(s, message, TOMORROW_10 + timedelta(days=1))

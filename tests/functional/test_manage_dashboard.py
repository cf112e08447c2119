"""The staff dashboard: today's and tomorrow's bookings per venue (venue
local days), today's occupancy, holds about to expire, recent
cancellations, and each member seeing only the venues they work at."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from booking.models import Booking, Venue

from .. import builders as b
from ..conftest import NOW
from .api import PARIS, TOMORROW
from .site import sign_in

TODAY = NOW.astimezone(PARIS).date()
_references = itertools.count(1)


def paris(day, hour, minute=0):
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS).astimezone(UTC)


def add_booking(world, resource="court", start=None, minutes=60, seats=1, status="confirmed",
                hold_expires_at=None, updated_at=NOW, cancel_reason="", customer="customer"):
    """A booking row written directly, in any state the dashboard must show."""
    start = start or paris(TOMORROW, 10)
    end = start + timedelta(minutes=minutes)
    with world.db.session() as s:
        booking = Booking(
            tenant_id=world.tenant_id, reference=f"REF{next(_references):05d}",
            resource_id=getattr(world, f"{resource}_id"),
            customer_id=world.user_ids[customer], starts_at=start, ends_at=end,
            block_start=start, block_end=end, seats=seats, exclusive=resource != "yoga",
            status=status, hold_expires_at=hold_expires_at, price=0, currency="EUR",
            cancel_reason=cancel_reason, contact_name="Test User",
            created_at=NOW - timedelta(days=30),
            updated_at=updated_at,
        )
        s.add(booking)
        s.flush()
        return booking.reference


def dashboard(testapp, world, who="owner"):
    sign_in(testapp, world.emails[who])
    return testapp.get(f"/t/{world.slug}/manage/")


def venue_section(page, venue_id):
    return page.html.select_one(f"section[aria-labelledby=venue-{venue_id}]")


def day_text(page, world, day):
    return venue_section(page, world.venue_id).select_one(f"section[data-day={day}]").text


def occupancy(page, world, resource):
    row = page.html.select_one(f"tr[data-resource='{getattr(world, resource + '_id')}']")
    return row.select_one(".occupancy").get_text()


class TestDays:
    def test_today_and_tomorrow_listed_with_details_and_link(self, testapp, world):
        today = add_booking(world, "yoga", paris(TODAY, 18), seats=3)
        tomorrow = add_booking(world, "court", paris(TOMORROW, 10), customer="other_customer")
        page = dashboard(testapp, world)
        assert today in day_text(page, world, "today")
        assert tomorrow in day_text(page, world, "tomorrow")
        row = page.html.find("a", string=today).find_parent("tr")
        cells = [cell.get_text(" ", strip=True) for cell in row.select("th, td")]
        assert cells[:5] == ["6:00\u202fPM–7:00\u202fPM", "Yoga", "Test User", "3", "confirmed"]
        assert page.html.find("a", string=tomorrow)["href"].endswith(
            f"/t/{world.slug}/manage/bookings/{self.id_of(world, tomorrow)}/")

    def test_days_are_the_venues_local_days(self, testapp, world):
        # 23:30 UTC on Monday is already Tuesday 00:30 in Paris.
        late = add_booking(world, "court", datetime(2026, 3, 2, 23, 30, tzinfo=UTC))
        page = dashboard(testapp, world)
        assert late not in day_text(page, world, "today")
        assert late in day_text(page, world, "tomorrow")

    def test_cancelled_and_expired_bookings_are_not_listed(self, testapp, world):
        cancelled = add_booking(world, "court", paris(TODAY, 15), status="cancelled")
        expired = add_booking(world, "court", paris(TODAY, 16), status="held",
                              hold_expires_at=NOW - timedelta(minutes=1))
        later = add_booking(world, "court", paris(TODAY + timedelta(days=2), 10))
        text = day_text(dashboard(testapp, world), world, "today")
        assert cancelled not in text and expired not in text and later not in text

    @staticmethod
    def id_of(world, reference):
        with world.db.session() as s:
            return s.scalar(select(Booking.id).where(Booking.reference == reference))


class TestOccupancy:
    def test_court_share_of_seat_minutes_booked_today(self, testapp, world):
        # Open 08:00-20:00: 12 one-hour slots of one seat. Three used: 25 %.
        add_booking(world, "court", paris(TODAY, 8))
        add_booking(world, "court", paris(TODAY, 11))
        add_booking(world, "court", paris(TODAY, 14), status="held",
                    hold_expires_at=NOW + timedelta(minutes=10))
        add_booking(world, "court", paris(TODAY, 15), status="cancelled")
        add_booking(world, "court", paris(TOMORROW, 11))
        assert occupancy(dashboard(testapp, world), world, "court") == "25%"

    def test_class_counts_seats(self, testapp, world):
        # 12 slots of 10 seats: 7,200 seat-minutes; 18 seats of an hour: 15 %.
        add_booking(world, "yoga", paris(TODAY, 9), seats=10)
        add_booking(world, "yoga", paris(TODAY, 12), seats=8)
        assert occupancy(dashboard(testapp, world), world, "yoga") == "15%"

    def test_closures_reduce_the_available_time(self, testapp, world):
        with world.db.session() as s:
            b.closure(s, s.get(Venue, world.venue_id), paris(TODAY, 8), paris(TODAY, 14))
        add_booking(world, "court", paris(TODAY, 15))
        add_booking(world, "court", paris(TODAY, 16))
        add_booking(world, "court", paris(TODAY, 17))
        assert occupancy(dashboard(testapp, world), world, "court") == "50%"

    def test_empty_day_is_zero(self, testapp, world):
        assert occupancy(dashboard(testapp, world), world, "court") == "0%"


class TestHoldsAndCancellations:
    def test_holds_expiring_within_15_minutes(self, testapp, world):
        soon = add_booking(world, "court", paris(TOMORROW, 9), status="held",
                           hold_expires_at=NOW + timedelta(minutes=14))
        later = add_booking(world, "court", paris(TOMORROW, 10), status="held",
                            hold_expires_at=NOW + timedelta(minutes=16))
        gone = add_booking(world, "court", paris(TOMORROW, 11), status="held",
                           hold_expires_at=NOW)
        holds = venue_section(dashboard(testapp, world), world.venue_id).select_one(
            ".dashboard-holds").text
        assert soon in holds and "10:14\u202fAM" in holds
        assert later not in holds and gone not in holds

    def test_cancellations_of_the_last_week_newest_first_with_reason(self, testapp, world):
        older = add_booking(world, "court", paris(TOMORROW, 9), status="cancelled",
                            updated_at=NOW - timedelta(days=6), cancel_reason="Flu")
        newer = add_booking(world, "yoga", paris(TOMORROW, 10), status="cancelled",
                            updated_at=NOW - timedelta(hours=1), cancel_reason="Rain")
        stale = add_booking(world, "court", paris(TOMORROW, 11), status="cancelled",
                            updated_at=NOW - timedelta(days=8))
        items = venue_section(dashboard(testapp, world), world.venue_id).select(
            ".dashboard-cancellations li")
        assert [newer in items[0].text, older in items[1].text] == [True, True]
        assert "Rain" in items[0].text and "Flu" in items[1].text
        assert len(items) == 2 and stale not in " ".join(item.text for item in items)


class TestQueries:
    def statements(self, testapp, world):
        count = itertools.count()

        def counter(*args):
            next(count)

        event.listen(Engine, "before_cursor_execute", counter)
        try:
            testapp.get(f"/t/{world.slug}/manage/")
        finally:
            event.remove(Engine, "before_cursor_execute", counter)
        return next(count)

    def test_query_count_does_not_grow_with_bookings(self, testapp, world):
        sign_in(testapp, world.emails["owner"])
        add_booking(world, "court", paris(TODAY, 11))
        few = self.statements(testapp, world)
        assert few > 0
        for hour in range(12, 20):
            add_booking(world, "court", paris(TODAY, hour), customer="other_customer")
            add_booking(world, "yoga", paris(TOMORROW, hour), status="cancelled")
            add_booking(world, "annexe_room", paris(TOMORROW, hour), status="held",
                        hold_expires_at=NOW + timedelta(minutes=5))
        assert self.statements(testapp, world) == few


class TestScope:
    def test_owner_sees_every_venue(self, testapp, world):
        page = dashboard(testapp, world)
        assert venue_section(page, world.venue_id) and venue_section(page, world.other_venue_id)

    def test_venue_staff_see_only_their_venue(self, testapp, world):
        centre = add_booking(world, "court", paris(TODAY, 11))
        annexe = add_booking(world, "annexe_room", paris(TODAY, 11), status="held",
                             hold_expires_at=NOW + timedelta(minutes=5))
        cancelled = add_booking(world, "annexe_room", paris(TODAY, 12), status="cancelled")
        page = dashboard(testapp, world, "staff")
        assert venue_section(page, world.other_venue_id) is None
        assert centre in page.text
        assert annexe not in page.text and cancelled not in page.text
        assert "Annexe room" not in page.text

    def test_other_venue_staff_see_only_theirs(self, testapp, world):
        centre = add_booking(world, "court", paris(TODAY, 11))
        page = dashboard(testapp, world, "other_venue_staff")
        assert venue_section(page, world.venue_id) is None
        assert venue_section(page, world.other_venue_id)
        assert centre not in page.text

    @pytest.mark.parametrize("who", ["customer", "other_tenant_owner"])
    def test_outsiders_get_not_found(self, testapp, world, who):
        sign_in(testapp, world.emails[who])
        testapp.get(f"/t/{world.slug}/manage/", status=404)

    def test_anonymous_is_asked_to_sign_in(self, testapp, world):
        assert "/login?next=" in testapp.get(f"/t/{world.slug}/manage/", status=303).location

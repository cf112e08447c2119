"""Times in words on the days the clocks change: a wall time that happens
twice says which (the zone's abbreviation), in emails as on pages."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking.i18n import Formatter
from booking.models import OutboxMessage, User
from booking.services.booking import BookingRequest, BookingService

from .. import builders as b

@pytest.mark.parametrize("zone, wall, fold, expected", [
    ("Australia/Sydney", (2026, 4, 5, 2, 30), 0, "2:30 AM AEDT"),
    ("Australia/Sydney", (2026, 4, 5, 2, 30), 1, "2:30 AM AEST"),
    ("Australia/Sydney", (2026, 4, 5, 9, 0), 0, "9:00 AM"),
    ("Europe/Paris", (2026, 10, 25, 2, 15), 1, "2:15 AM CET"),
    ("Europe/Paris", (2026, 3, 29, 3, 15), 0, "3:15 AM"),
    ("Australia/Lord_Howe", (2026, 4, 5, 1, 45), 0, "1:45 AM +11"),
    ("Australia/Lord_Howe", (2026, 4, 5, 1, 45), 1, "1:45 AM +1030"),
])
def test_a_wall_time_that_happens_twice_says_which(zone, wall, fold, expected):
    instant = datetime(*wall, tzinfo=ZoneInfo(zone), fold=fold)
    assert Formatter("en").time(instant, zone).replace("\u202f", " ") == expected


@pytest.mark.parametrize("zone, day, first, expected", [
    # The clocks go back an hour at 03:00.
    ("Australia/Sydney", date(2026, 4, 5), "02:30 AEDT", "2:30 AM AEDT – 2:00 AM AEST"),
    # Half an hour back at 02:00.
    ("Australia/Lord_Howe", date(2026, 4, 5), "01:30 +11", "1:30 AM +11 – 1:30 AM +1030"),
    # An hour back at 01:00: midnight to one o'clock happens twice.
    ("America/Havana", date(2026, 11, 1), "00:30 CDT", "12:30 AM CDT – 12:00 AM CST"),
])
def test_the_confirmation_of_a_booking_in_the_repeated_hour_says_which_hours(
        db, zone, day, first, expected):
    """30 minutes from the first of a repeated wall time: it ends at a wall
    time that reads earlier, not before it starts."""
    with db.session() as s:
        tenant = b.tenant(s, time_zone=zone)
        venue = b.venue(s, tenant, hours="every day 00:00-24:00")
        room = b.resource(s, venue, slot_minutes=30, capacity=1)
        now = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=2)
        [start] = [slot.start for slot in BookingService(s, now).availability.free_slots(
            room, day, day) if slot.start.astimezone(ZoneInfo(zone)).strftime("%H:%M %Z") == first]
        customer = b.user(s)
        BookingService(s, now).book(BookingRequest(tenant, room, s.get(User, customer.id),
                                                   start))
        body = s.scalars(select(OutboxMessage.body_text)).one()
    assert expected in body.replace("\u202f", " ")

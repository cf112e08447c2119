"""Times in words on the days the clocks change: a wall time that happens
twice says which (the zone's abbreviation), in emails as on pages."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking.i18n import Formatter
from booking.models import OutboxMessage, User
from booking.services.booking import BookingRequest, BookingService

from .. import builders as b

SYDNEY = ZoneInfo("Australia/Sydney")


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


def test_the_confirmation_of_a_booking_in_the_repeated_hour_says_which_hours(db):
    """30 minutes from 02:30+11:00: it ends at 02:00+10:00, not before it starts."""
    with db.session() as s:
        tenant = b.tenant(s, time_zone="Australia/Sydney")
        venue = b.venue(s, tenant, hours="every day 00:00-24:00")
        room = b.resource(s, venue, slot_minutes=30, capacity=1)
        now = datetime(2026, 4, 4, tzinfo=UTC)
        [start] = [slot.start for slot in BookingService(s, now).availability.free_slots(
            room, date(2026, 4, 5), date(2026, 4, 5))
            if slot.start.astimezone(SYDNEY).strftime("%H:%M %Z") == "02:30 AEDT"]
        customer = b.user(s)
        BookingService(s, now).book(BookingRequest(tenant, room, s.get(User, customer.id),
                                                   start))
        body = s.scalars(select(OutboxMessage.body_text)).one()
    assert "2:30 AM AEDT – 2:00 AM AEST" in body.replace("\u202f", " ")

"""Popular times on deterministic data: local hours (across a DST change),
levels relative to the busiest hour, which bookings count."""

import itertools
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from booking.models import Booking, Resource
from booking.services.popularity import popular_times

from .. import builders as b
from ..conftest import NOW

PARIS = ZoneInfo("Europe/Paris")
#: Monday 13 April 2026: its twelve weeks cover the change to summer time
#: on Sunday 29 March.
AFTER_DST = datetime(2026, 4, 13, 12, tzinfo=PARIS)
_references = itertools.count()


@pytest.fixture
def place(db):
    with db.session() as s:
        tenant = b.tenant(s, time_zone="Europe/Paris")
        venue = b.venue(s, tenant)
        court = b.resource(s, venue, name="Court")
        yoga = b.resource(s, venue, name="Yoga", kind="class", capacity=10)
        return SimpleNamespace(db=db, court=court.id, yoga=yoga.id, customer=b.user(s).id)


def add(place, start, minutes=60, status="confirmed", seats=1, resource=None):
    resource_id = resource or place.court
    end = start + timedelta(minutes=minutes)
    with place.db.session() as s:
        s.add(Booking(
            tenant_id=s.get(Resource, resource_id).tenant_id, reference=f"P{next(_references)}",
            resource_id=resource_id, customer_id=place.customer, starts_at=start, ends_at=end,
            block_start=start, block_end=end, seats=seats, exclusive=False, status=status,
            hold_expires_at=start if status == "held" else None, price=0, currency="EUR",
            created_at=start, updated_at=start,
        ))


def levels(place, now=NOW, resource=None):
    with place.db.session() as s:
        found = popular_times(s, s.get(Resource, resource or place.court), now)
        return found.levels


def paris(month, day, hour, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=PARIS)


def test_local_hours_hold_across_a_dst_change(place):
    add(place, paris(3, 24, 10))  # a Tuesday, 09:00 UTC
    add(place, paris(3, 31, 10))  # the next Tuesday, 08:00 UTC
    assert levels(place, AFTER_DST) == {(1, 10): 4}


def test_levels_are_relative_to_the_busiest_hour(place):
    for week in range(4):
        add(place, paris(2, 3, 10) + timedelta(weeks=week))
    for week in range(2):
        add(place, paris(2, 3, 11) + timedelta(weeks=week))
    add(place, paris(2, 4, 18))
    assert levels(place) == {(1, 10): 4, (1, 11): 2, (2, 18): 1}


def test_only_confirmed_completed_and_no_show_bookings_count(place):
    for status, hour in [("confirmed", 9), ("completed", 10), ("no_show", 11),
                         ("cancelled", 12), ("expired", 13), ("held", 14)]:
        add(place, paris(2, 3, hour), status=status)
    assert sorted(levels(place)) == [(1, 9), (1, 10), (1, 11)]


def test_only_the_last_twelve_weeks_count(place):
    add(place, NOW - timedelta(weeks=12) + timedelta(hours=1))
    add(place, NOW - timedelta(weeks=12) - timedelta(hours=1))
    add(place, NOW + timedelta(days=1))
    assert levels(place) == {(0, 11): 4}


def test_a_booking_counts_in_every_hour_it_covers(place):
    add(place, paris(2, 3, 10), minutes=90)
    assert levels(place) == {(1, 10): 4, (1, 11): 2}


def test_seats_weigh_in_the_load(place):
    add(place, paris(2, 3, 10), seats=4, resource=place.yoga)
    add(place, paris(2, 3, 11), seats=1, resource=place.yoga)
    assert levels(place, resource=place.yoga) == {(1, 10): 4, (1, 11): 1}


def test_other_resources_do_not_count(place):
    add(place, paris(2, 3, 10), resource=place.yoga)
    assert levels(place) == {}


def test_resource_page_shows_popular_times_as_a_table(testapp, place):
    add(place, paris(2, 3, 10))
    add(place, paris(2, 3, 10) + timedelta(weeks=1))
    add(place, paris(2, 3, 11))
    with place.db.session() as s:
        court = s.get(Resource, place.court)
        url = f"/t/{court.venue.tenant.slug}/venues/{court.venue_id}/resources/{court.id}/"
    table = testapp.get(url).html.select_one("table.popular")
    assert [th.text for th in table.select("thead th")] == ["10", "11"]
    tuesday = table.select("tbody tr")[1]
    assert [td["class"] for td in tuesday.select("td")] == [["level-4"], ["level-2"]]
    assert tuesday.select_one("td .visually-hidden").text == "as busy as it gets"
    assert "style=" not in str(table)


def test_resource_page_without_history_says_so(testapp, world):
    page = testapp.get(f"/t/{world.slug}/venues/{world.venue_id}/resources/{world.court_id}/")
    assert "Not enough bookings yet" in page.text

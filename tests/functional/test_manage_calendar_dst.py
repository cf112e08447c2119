"""The staff day and week views on the days the clocks change: every booking
and free slot once, no row for a skipped wall time, the repeated hour's rows
both there and told apart; in zones that change by an hour, by half an hour
(Lord Howe) and at midnight (Santiago, Havana), on both databases."""

import itertools
import re
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest

from booking.models import Booking, Role

from .. import builders as b
from .site import sign_in

_references = itertools.count(1)

#: (zone, day, slot minutes, bookings as (hour, minute, fold, minutes)).
CASES = {
    # 02:00 → 03:00: no 02:00 row; a booking from 01:00 to 03:00 takes an hour.
    "paris-spring": ("Europe/Paris", date(2026, 3, 29), 60,
                     [(1, 0, 0, 60), (3, 0, 0, 60)]),
    # 03:00 → 02:00: two 02:00 rows.
    "paris-fall": ("Europe/Paris", date(2026, 10, 25), 60,
                   [(2, 0, 0, 60), (2, 0, 1, 60), (4, 0, 0, 60)]),
    # The case: 02:00+11:00 to 02:00+10:00.
    "sydney-fall": ("Australia/Sydney", date(2026, 4, 5), 60,
                    [(2, 0, 0, 60), (2, 0, 1, 60), (5, 0, 0, 60)]),
    # 02:00+11:00 → 01:30+10:30: a booking from 01:00 ends at 01:30 (+10:30).
    "lord-howe-fall": ("Australia/Lord_Howe", date(2026, 4, 5), 30,
                       [(1, 0, 0, 60), (1, 30, 1, 30), (3, 0, 0, 30)]),
    # 02:00+10:30 → 02:30+11:00.
    "lord-howe-spring": ("Australia/Lord_Howe", date(2026, 10, 4), 30,
                         [(1, 30, 0, 60), (3, 0, 0, 30)]),
    # Midnight is skipped: the day begins at 01:00.
    "santiago-spring": ("America/Santiago", date(2026, 9, 6), 60,
                        [(1, 0, 0, 60), (2, 0, 0, 60)]),
    # 24:00 → 23:00: the day's last hour happens twice.
    "santiago-fall": ("America/Santiago", date(2026, 4, 4), 60,
                      [(22, 0, 0, 60), (23, 0, 0, 60), (23, 0, 1, 60)]),
    # 01:00 → 00:00: the day's first hour happens twice.
    "havana-fall": ("America/Havana", date(2026, 11, 1), 60,
                    [(0, 0, 0, 60), (0, 0, 1, 60), (1, 0, 0, 60)]),
}


def local(day, hour, minute, fold, zone):
    return datetime(day.year, day.month, day.day, hour, minute, fold=fold,
                    tzinfo=zone).astimezone(UTC)


@pytest.fixture(params=sorted(CASES))
def case(request, db):
    name, day, slot, wanted = CASES[request.param]
    zone = ZoneInfo(name)
    with db.session() as s:
        tenant = b.tenant(s, time_zone=name)
        venue = b.venue(s, tenant, hours="every day 00:00-24:00")
        resource = b.resource(s, venue, name="Court", capacity=1, slot_minutes=slot)
        staff = b.member(s, tenant, Role.STAFF, venue=venue)
        customer = b.user(s)
        bookings = {}
        for hour, minute, fold, minutes in wanted:
            starts_at = local(day, hour, minute, fold, zone)
            ends_at = starts_at + timedelta(minutes=minutes)
            booking = Booking(
                tenant_id=tenant.id, reference=f"D{next(_references):07d}",
                resource_id=resource.id, customer_id=customer.id,
                starts_at=starts_at, ends_at=ends_at, block_start=starts_at,
                block_end=ends_at, seats=1, status="confirmed", price=0, currency="EUR",
                created_at=b.EPOCH, updated_at=b.EPOCH,
            )
            s.add(booking)
            s.flush()
            bookings[booking.id] = (starts_at, ends_at)
        return SimpleNamespace(zone=zone, day=day, slot=slot, bookings=bookings,
                               url=f"/t/{tenant.slug}/manage/venues/{venue.id}/",
                               resource_id=resource.id, email=staff.email)


def show(testapp, case, view):
    sign_in(testapp, case.email)
    return testapp.get(case.url, {"view": view, "date": case.day.isoformat()})


def day_bounds(case):
    """The day's first instant and the next day's, found by walking UTC."""
    return first_of(case.day, case.zone), first_of(case.day + timedelta(days=1), case.zone)


def first_of(day, zone):
    instant = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=1)
    while instant.astimezone(zone).date() < day:
        instant += timedelta(minutes=15)
    return instant


def rows_of(page):
    """``[(row id, instant, label)]`` of the day grid, in order."""
    rows = []
    for th in page.html.select("table.staff-calendar tbody th[scope=row]"):
        time_tag = th.select_one("time")
        instant = datetime.fromisoformat(time_tag["datetime"])
        rows.append((th["id"], instant, time_tag.get_text(" ", strip=True).replace("\u202f", " ")))
    return rows


def wall_of(label):
    hour, minute, half = re.match(r"(\d{1,2}):(\d\d) ([AP]M)", label).groups()
    return int(hour) % 12 + (12 if half == "PM" else 0), int(minute)


def test_rows_are_the_days_existing_wall_times_each_once(testapp, case):
    rows = rows_of(show(testapp, case, "day"))
    start, end = day_bounds(case)
    # Every instant of the day whose wall time is on the slot step: the day
    # is open around the clock, so the rows are all of them.
    expected, instant = [], start
    while instant < end:
        wall = instant.astimezone(case.zone)
        if (wall.hour * 60 + wall.minute) % case.slot == 0:
            expected.append(instant)
        instant += timedelta(minutes=15)
    assert [instant for _, instant, _ in rows] == expected
    for _, instant, label in rows:  # each labelled with its own wall time
        wall = instant.astimezone(case.zone)
        assert wall_of(label) == (wall.hour, wall.minute), label
    labels = [label for _, _, label in rows]
    assert len(set(labels)) == len(labels), labels  # the repeated hour's rows told apart
    ids = [row_id for row_id, _, _ in rows]
    assert len(set(ids)) == len(ids)


def test_every_booking_once_on_the_day_at_its_rows(testapp, case):
    page = show(testapp, case, "day")
    rows = rows_of(page)
    ids = [row_id for row_id, _, _ in rows]
    bounds = [instant for _, instant, _ in rows] + [day_bounds(case)[1]]
    for booking_id, (starts_at, ends_at) in case.bookings.items():
        links = page.html.select(f'table.staff-calendar a[href$="/manage/bookings/{booking_id}/"]')
        assert len(links) == 1, (booking_id, starts_at)
        cell = links[0].find_parent("td")
        top = ids.index(cell["headers"][0])
        span = int(cell.get("rowspan", 1))
        # Its rows run from its start to its end, in real time.
        assert bounds[top] == starts_at and bounds[top + span] == ends_at
        assert len(cell.select("li.booking")) == 1


def test_free_slots_once_and_in_their_row(testapp, case):
    page = show(testapp, case, "day")
    rows = rows_of(page)
    ids = [row_id for row_id, _, _ in rows]
    bounds = [instant for _, instant, _ in rows] + [day_bounds(case)[1]]
    starts = []
    for link in page.html.select("table.staff-calendar a.slot"):
        query = parse_qs(urlparse(link["href"]).query)
        start = datetime.fromisoformat(query["start"][0])
        starts.append(start)
        top = ids.index(link.find_parent("td")["headers"][0])
        assert bounds[top] <= start < bounds[top + 1]
        assert not any(s < start + timedelta(minutes=case.slot) and start < e
                       for s, e in case.bookings.values())
    assert starts and len(set(starts)) == len(starts)
    week = show(testapp, case, "week")
    cell = week.html.select_one(f'td[headers="r{case.resource_id} w{case.day:%Y%m%d}"]')
    assert int(cell.select_one("a.free-count").get_text().split()[0]) == len(starts)


def test_every_booking_once_on_the_week(testapp, case):
    page = show(testapp, case, "week")
    cell = page.html.select_one(f'td[headers="r{case.resource_id} w{case.day:%Y%m%d}"]')
    for booking_id in case.bookings:
        assert len(page.html.select(f'a[href$="/manage/bookings/{booking_id}/"]')) == 1
        assert cell.select_one(f'a[href$="/manage/bookings/{booking_id}/"]') is not None

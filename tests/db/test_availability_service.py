"""Free slots against a real database: closures, notice, advance, seats."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from booking.models import Booking, BookingStatus, OpeningHours
from booking.services.availability import AvailabilityService

from .. import builders as b
from ..conftest import NOW

PARIS = ZoneInfo("Europe/Paris")
TODAY = date(2026, 3, 2)  # a Monday; NOW is 10:00 in Paris
TOMORROW = TODAY + timedelta(days=1)


def paris(day, hour, minute=0):
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


def make_world(s, **resource_kw):
    tenant = b.tenant(s)
    venue = b.venue(s, tenant, hours="every day 09:00-12:00")
    resource = b.resource(s, venue, **resource_kw)
    return tenant, venue, resource


def insert_booking(s, resource, start, seats=1, status=BookingStatus.CONFIRMED, minutes=60,
                   block_after=0, hold_expires_at=None, block_before=0):
    row = Booking(
        tenant_id=resource.tenant_id, reference=f"R{start:%d%H%M}{seats}{status[:2]}",
        resource_id=resource.id, customer_id=b.user(s).id,
        starts_at=start, ends_at=start + timedelta(minutes=minutes),
        block_start=start - timedelta(minutes=block_before),
        block_end=start + timedelta(minutes=minutes + block_after),
        seats=seats, exclusive=resource.capacity == 1, status=status,
        hold_expires_at=hold_expires_at, price=0, currency="EUR",
        created_at=NOW, updated_at=NOW,
    )
    s.add(row)
    s.flush()
    return row


def free_starts(s, resource, first=TOMORROW, last=TOMORROW):
    return [slot.start for slot in AvailabilityService(s, NOW).free_slots(resource, first, last)]


def test_free_slots_follow_opening_hours(db):
    with db.session() as s:
        _, _, resource = make_world(s)
        assert free_starts(s, resource) == [paris(TOMORROW, h) for h in (9, 10, 11)]


def test_resource_hours_override_venue_hours(db):
    with db.session() as s:
        _, _, resource = make_world(s, hours="every day 18:00-20:00")
        assert free_starts(s, resource) == [paris(TOMORROW, 18), paris(TOMORROW, 19)]


def test_venue_closure_removes_overlapping_slots(db):
    with db.session() as s:
        _, venue, resource = make_world(s)
        b.closure(s, venue, paris(TOMORROW, 9, 30), paris(TOMORROW, 10, 30))
        assert free_starts(s, resource) == [paris(TOMORROW, 11)]


def test_resource_closure_leaves_other_resources_open(db):
    with db.session() as s:
        _, venue, resource = make_world(s)
        other = b.resource(s, venue)
        b.closure(s, venue, paris(TOMORROW, 0), paris(TOMORROW + timedelta(days=1), 0), resource=resource)
        assert free_starts(s, resource) == []
        assert len(free_starts(s, other)) == 3


def test_min_notice_hides_slots_too_soon(db):
    with db.session() as s:
        _, _, resource = make_world(s, min_notice_minutes=60)
        # NOW is 10:00 in Paris: 10:00 is past notice, 11:00 is exactly an hour away.
        assert free_starts(s, resource, TODAY, TODAY) == [paris(TODAY, 11)]


def test_past_slots_are_never_offered(db):
    with db.session() as s:
        _, _, resource = make_world(s)
        assert free_starts(s, resource, TODAY - timedelta(days=1), TODAY) == [
            paris(TODAY, 10), paris(TODAY, 11)
        ]


def test_max_advance_hides_slots_too_far_ahead(db):
    with db.session() as s:
        _, _, resource = make_world(s, max_advance_days=2)
        starts = free_starts(s, resource, TODAY, TODAY + timedelta(days=5))
        assert max(starts) <= NOW + timedelta(days=2)
        assert paris(TODAY + timedelta(days=2), 9) in starts
        assert paris(TODAY + timedelta(days=2), 11) not in starts


def test_exclusive_booking_takes_its_slot(db):
    with db.session() as s:
        _, _, resource = make_world(s)
        insert_booking(s, resource, paris(TOMORROW, 10))
        assert free_starts(s, resource) == [paris(TOMORROW, 9), paris(TOMORROW, 11)]


def test_cancelled_booking_frees_its_slot(db):
    with db.session() as s:
        _, _, resource = make_world(s)
        insert_booking(s, resource, paris(TOMORROW, 10), status=BookingStatus.CANCELLED)
        assert len(free_starts(s, resource)) == 3


def test_capacity_counts_seats_left(db):
    with db.session() as s:
        _, _, resource = make_world(s, capacity=10)
        insert_booking(s, resource, paris(TOMORROW, 9), seats=4)
        insert_booking(s, resource, paris(TOMORROW, 9), seats=6)
        insert_booking(s, resource, paris(TOMORROW, 10), seats=3)
        slots = AvailabilityService(s, NOW).slots(resource, TOMORROW, TOMORROW)
        assert [slot.seats_left for slot in slots] == [0, 7, 10]
        assert free_starts(s, resource) == [paris(TOMORROW, 10), paris(TOMORROW, 11)]


def test_live_hold_takes_seats(db):
    with db.session() as s:
        _, _, resource = make_world(s)
        insert_booking(s, resource, paris(TOMORROW, 9), status=BookingStatus.HELD,
                       hold_expires_at=NOW + timedelta(minutes=5))
        assert paris(TOMORROW, 9) not in free_starts(s, resource)


def test_expired_hold_frees_seats(db):
    with db.session() as s:
        _, _, resource = make_world(s)
        insert_booking(s, resource, paris(TOMORROW, 9), status=BookingStatus.HELD,
                       hold_expires_at=NOW - timedelta(minutes=1))
        assert paris(TOMORROW, 9) in free_starts(s, resource)


def test_buffer_of_a_booking_blocks_the_slot_it_reaches(db):
    with db.session() as s:
        _, _, resource = make_world(s)
        # Booked 09:00-10:00 with 30 minutes of turnover: 10:00 is blocked too.
        insert_booking(s, resource, paris(TOMORROW, 9), block_after=30)
        assert free_starts(s, resource) == [paris(TOMORROW, 11)]


def test_other_resources_bookings_do_not_count(db):
    with db.session() as s:
        _, venue, resource = make_world(s)
        other = b.resource(s, venue)
        insert_booking(s, other, paris(TOMORROW, 9))
        assert len(free_starts(s, resource)) == 3


def test_venue_time_zone_overrides_tenant_zone(db):
    with db.session() as s:
        tenant = b.tenant(s, time_zone="Europe/Paris")
        venue = b.venue(s, tenant, hours="every day 09:00-10:00", time_zone="America/New_York")
        resource = b.resource(s, venue)
        starts = free_starts(s, resource)
        assert starts == [datetime(2026, 3, 3, 9, tzinfo=ZoneInfo("America/New_York"))]


def test_dst_day_in_paris_through_the_database(db):
    with db.session() as s:
        tenant = b.tenant(s)
        venue = b.venue(s, tenant, hours="every day 00:00-24:00")
        resource = b.resource(s, venue)
        day = date(2026, 3, 29)
        starts = free_starts(s, resource, day, day)
        assert len(starts) == 23 and len(set(starts)) == 23
        assert all(start.tzinfo == UTC for start in starts)


def test_prefetched_rows_give_the_same_slots_without_queries(db):
    """The staff calendar loads many resources' rows at once; what it then
    computes must equal the per-resource answer, and ask nothing more."""
    from sqlalchemy import event

    with db.session() as s:
        tenant, venue, court = make_world(s, capacity=1, buffer_after_minutes=15,
                                          slot_minutes=45)
        yoga = b.resource(s, venue, capacity=5)
        own = b.resource(s, venue, capacity=2)
        for weekday in range(7):
            s.add(OpeningHours(tenant_id=tenant.id, venue_id=venue.id, resource_id=own.id,
                               weekday=weekday, opens_minute=14 * 60, closes_minute=17 * 60))
        insert_booking(s, court, paris(TOMORROW, 9), minutes=45, block_after=15)
        insert_booking(s, yoga, paris(TOMORROW, 10), seats=4)
        insert_booking(s, own, paris(TOMORROW, 15), seats=2)
        b.closure(s, venue, paris(TOMORROW, 11), paris(TOMORROW, 12), resource=yoga)
        resources = [court, yoga, own]
        last = TOMORROW + timedelta(days=6)
        expected = {r.id: AvailabilityService(s, NOW).slots(r, TOMORROW, last) for r in resources}
        service = AvailabilityService(s, NOW)
        service.prefetch(resources, paris(TOMORROW, 0) - timedelta(days=1),
                         paris(last, 0) + timedelta(days=2))
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(s.get_bind(), "before_cursor_execute", listener)
        try:
            got = {r.id: service.slots(r, TOMORROW, last) for r in resources}
        finally:
            event.remove(s.get_bind(), "before_cursor_execute", listener)
        assert got == expected
        assert statements == []


def test_staff_week_offers_the_free_slots_each_resource_has_on_its_own(db):
    """The week loads its bookings once, for showing and for seats: its free
    counts equal each resource's own availability, and it shows what staff
    should see (cancelled and live holds, not holds that ran out)."""
    from booking.services.staff_calendar import StaffCalendarService

    monday, sunday = TODAY, TODAY + timedelta(days=6)
    with db.session() as s:
        tenant, venue, court = make_world(s, buffer_after_minutes=15, slot_minutes=45)
        night = b.resource(s, venue, hours="every day 00:00-24:00", buffer_before_minutes=30)
        shown = [
            insert_booking(s, court, paris(TOMORROW, 9), minutes=45, block_after=15),
            insert_booking(s, court, paris(TOMORROW, 10), status=BookingStatus.CANCELLED),
            insert_booking(s, court, paris(TOMORROW + timedelta(days=1), 10),
                           status=BookingStatus.HELD, hold_expires_at=NOW + timedelta(hours=1)),
        ]
        insert_booking(s, court, paris(TOMORROW + timedelta(days=1), 9),
                       status=BookingStatus.HELD, hold_expires_at=NOW - timedelta(minutes=1))
        # Booked when its set-up was longer: the span reaches into Sunday night.
        insert_booking(s, night, paris(sunday + timedelta(days=1), 0, 30), block_before=90)
        b.closure(s, venue, paris(TOMORROW + timedelta(days=2), 9),
                  paris(TOMORROW + timedelta(days=2), 10))
        b.closure(s, venue, paris(sunday, 20), paris(sunday, 21), resource=night)
        expected = {}
        for resource in (court, night):
            for slot in AvailabilityService(s, NOW).slots(resource, monday, sunday):
                if slot.seats_left > 0 and slot.start > NOW:
                    key = (resource.id, slot.start.astimezone(PARIS).date())
                    expected[key] = expected.get(key, 0) + 1

        week = StaffCalendarService(s, NOW).calendar(venue, TOMORROW, "week")

        got = {(row.column.resource_id, cell.day): cell.free
               for row in week.week for cell in row.days if cell.free}
        assert got == expected
        assert expected[night.id, sunday] == 24 // 1.5 - 1 - 1  # the closure, the set-up
        assert sorted(e.id for row in week.week for cell in row.days for e in cell.bookings) \
            == sorted(row.id for row in shown)


def test_staff_week_reads_each_kind_of_row_once_whatever_the_buffers(db):
    """The week of a venue asks a fixed number of statements: the prefetched
    days hold every blocked span its slots ask about (buffers included), so
    no resource falls back to queries of its own."""
    from sqlalchemy import event

    from booking.services.staff_calendar import StaffCalendarService

    with db.session() as s:
        tenant, venue, court = make_world(s, buffer_before_minutes=30, buffer_after_minutes=15,
                                          slot_minutes=45)
        for n in range(5):
            b.resource(s, venue, capacity=n + 1)
        insert_booking(s, court, paris(TOMORROW, 9), minutes=45, block_after=15)
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(s.get_bind(), "before_cursor_execute", listener)
        try:
            week = StaffCalendarService(s, NOW).calendar(venue, TOMORROW, "week")
        finally:
            event.remove(s.get_bind(), "before_cursor_execute", listener)
        assert len(week.week) == 6
        # resources, bookings (shown and taking seats), closures, opening hours
        assert len(statements) == 4, statements


def test_staff_day_prefetch_covers_set_up_before_a_midnight_clock_change(db):
    """Cairo skips 00:00-01:00 on 2026-04-24: the first slot's set-up starts
    before the day's first instant, and must still be among the prefetched rows."""
    from sqlalchemy import event

    from booking.services.staff_calendar import StaffCalendarService

    with db.session() as s:
        tenant = b.tenant(s, time_zone="Africa/Cairo")
        venue = b.venue(s, tenant, hours=[(d, 0, 24 * 60) for d in range(7)])
        b.resource(s, venue, slot_minutes=15, buffer_before_minutes=30)
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(s.get_bind(), "before_cursor_execute", listener)
        try:
            day = StaffCalendarService(s, NOW).calendar(venue, date(2026, 4, 24), "day")
        finally:
            event.remove(s.get_bind(), "before_cursor_execute", listener)
        assert any(cell.free for row in day.days[0].rows for cell in row.cells)
        assert len(statements) == 4, statements


def test_free_slots_count_a_booking_the_session_has_not_flushed_yet(db):
    with db.session() as s:
        _, _, resource = make_world(s)
        customer = b.user(s)
        start = paris(TOMORROW, 10)
        assert len(free_starts(s, resource)) == 3  # its venue and tenant loaded
        s.add(Booking(
            tenant_id=resource.tenant_id, reference="UNFLUSHED", resource_id=resource.id,
            customer_id=customer.id, starts_at=start, ends_at=start + timedelta(hours=1),
            block_start=start, block_end=start + timedelta(hours=1), seats=1, exclusive=True,
            status=BookingStatus.CONFIRMED, price=0, currency="EUR",
            created_at=NOW, updated_at=NOW,
        ))
        assert free_starts(s, resource) == [paris(TOMORROW, 9), paris(TOMORROW, 11)]

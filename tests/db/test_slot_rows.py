"""The rows a booking's slot check reads, loaded in one round trip
(``AvailabilityService.loaded_for_slot``), against the three queries they
replace."""

from datetime import timedelta

import pytest
from sqlalchemy import event

from booking.models import BookingStatus
from booking.services.availability import AvailabilityService
from booking.services.slots import zone_of

from .. import builders as b
from ..conftest import NOW
from .test_availability_service import TOMORROW, insert_booking, make_world, paris

DAY_AFTER = TOMORROW + timedelta(days=1)


def world_with_every_kind_of_row(s):
    """A venue open 09-12 with a closure; ``court`` on the venue's hours
    with a closure of its own, bookings of every status, a buffer reaching
    in and another resource's booking; ``hall`` with hours of its own."""
    tenant, venue, court = make_world(s, capacity=3)
    hall = b.resource(s, venue, hours="every day 18:00-20:00")
    b.closure(s, venue, paris(TOMORROW, 11), paris(TOMORROW, 12))
    b.closure(s, venue, paris(TOMORROW, 9), paris(TOMORROW, 10), resource=court)
    b.closure(s, venue, paris(TOMORROW, 18), paris(TOMORROW, 19), resource=hall)
    bookings = [
        insert_booking(s, court, paris(TOMORROW, 10), seats=2),
        insert_booking(s, court, paris(TOMORROW, 10), status=BookingStatus.CANCELLED),
        insert_booking(s, court, paris(TOMORROW, 11), status=BookingStatus.HELD,
                       hold_expires_at=NOW + timedelta(hours=1)),
        insert_booking(s, court, paris(TOMORROW, 9), status=BookingStatus.HELD,
                       hold_expires_at=NOW - timedelta(minutes=1)),
        insert_booking(s, court, paris(TOMORROW, 8), block_after=90),
        insert_booking(s, hall, paris(TOMORROW, 19)),
    ]
    return court, hall, bookings


SPANS = [(paris(TOMORROW, h, m), paris(TOMORROW, h + 1, m)) for h in range(7, 20)
         for m in (0, 30)]


def answers(service, resource, start, end, exclude=None):
    """What a slot check asks, in comparable form."""
    occupancy = service.occupancy(resource, start, end, exclude)
    return (
        dict(service.weekly_hours(resource)),
        sorted(tuple(row) for row in service.closures(resource, start, end)),
        [occupancy.seats(a, z) for a, z in SPANS if a < end and z > start],
        occupancy.stale_holds,
    )


def test_slot_rows_in_one_round_trip_answer_as_the_three_queries(db):
    with db.session() as s:
        court, hall, bookings = world_with_every_kind_of_row(s)
        service = AvailabilityService(s, NOW)
        for resource in (court, hall):
            for start, end in [(paris(TOMORROW, 7), paris(TOMORROW, 21)),
                               (paris(TOMORROW, 10), paris(TOMORROW, 11)),
                               (paris(DAY_AFTER, 9), paris(DAY_AFTER, 12))]:
                for exclude in (None, bookings[0].id):
                    queried = answers(service, resource, start, end, exclude)
                    with service.loaded_for_slot(resource, start, end, exclude):
                        loaded = answers(service, resource, start, end, exclude)
                    assert loaded == queried, (resource.name, start, exclude)
        # The world is not empty: each kind of row reaches the answers.
        with service.loaded_for_slot(court, paris(TOMORROW, 7), paris(TOMORROW, 21)):
            hours, closures, seats, stale = answers(
                service, court, paris(TOMORROW, 7), paris(TOMORROW, 21))
        assert hours[TOMORROW.weekday()] == [(9 * 60, 12 * 60)]
        assert len(closures) == 2 and max(seats) == 3 and stale == 1  # 2 at 10, a hold at 11


def statements_sent(s, action):
    """The SQL statements ``action()`` sends."""
    sent = []
    listener = lambda *args: sent.append(args[2])  # noqa: E731
    event.listen(s.get_bind(), "before_cursor_execute", listener)
    try:
        action()
    finally:
        event.remove(s.get_bind(), "before_cursor_execute", listener)
    return sent


@pytest.mark.parametrize("excluded", [None, 0], ids=["new booking", "moving booking 0"])
def test_a_slot_check_reads_its_rows_in_one_statement(db, excluded):
    with db.session() as s:
        court, _, bookings = world_with_every_kind_of_row(s)
        exclude = None if excluded is None else bookings[excluded].id
        service = AvailabilityService(s, NOW)
        start, end = paris(TOMORROW, 10), paris(TOMORROW, 11)
        zone_of(court)  # its venue and tenant loaded, as a request loads them

        def check():
            with service.loaded_for_slot(court, start, end, exclude):
                service.is_on_grid(court, start)
                service.weekly_hours(court)
                service.closures(court, start, end)
                service.occupancy(court, start, end, exclude)

        sent = statements_sent(s, check)
        assert len(sent) == 1, sent


def test_a_question_beyond_the_loaded_span_is_queried(db):
    with db.session() as s:
        court, _, _ = world_with_every_kind_of_row(s)
        service = AvailabilityService(s, NOW)
        start, end = paris(TOMORROW, 10), paris(TOMORROW, 11)
        wider = (paris(TOMORROW, 7), paris(TOMORROW, 21))
        with service.loaded_for_slot(court, start, end):
            sent = statements_sent(s, lambda: (service.closures(court, *wider),
                                               service.occupancy(court, *wider)))
            assert len(sent) == 2
            assert len(service.closures(court, *wider)) == 2


def test_rows_prefetched_before_a_slot_check_answer_again_after_it_failed(db):
    """The staff calendar's prefetched rows survive a slot check inside it,
    even one that ended in an exception."""
    with db.session() as s:
        court, hall, _ = world_with_every_kind_of_row(s)
        service = AvailabilityService(s, NOW)
        start, end = paris(TOMORROW, 7), paris(TOMORROW, 21)
        service.prefetch([court, hall], start, end)
        before = answers(service, hall, start, end)
        with pytest.raises(RuntimeError):
            with service.loaded_for_slot(court, paris(TOMORROW, 10), paris(TOMORROW, 11)):
                raise RuntimeError("a check failed")
        assert statements_sent(s, lambda: answers(service, hall, start, end)) == []
        assert answers(service, hall, start, end) == before


def test_rows_loaded_for_a_slot_are_forgotten_when_the_check_ends(db):
    """A booking made after the check is counted by what reads next."""
    with db.session() as s:
        court, _, _ = world_with_every_kind_of_row(s)
        service = AvailabilityService(s, NOW)
        start, end = paris(DAY_AFTER, 10), paris(DAY_AFTER, 11)
        with service.loaded_for_slot(court, start, end):
            assert service.occupancy(court, start, end).seats(start, end) == 0
        insert_booking(s, court, start)
        assert service.occupancy(court, start, end).seats(start, end) == 1


def test_rows_loaded_without_one_booking_do_not_answer_with_it(db):
    """Rows that leave out booking X do not answer a question that counts
    X (nor the other way round): the service queries instead."""
    with db.session() as s:
        court, _, bookings = world_with_every_kind_of_row(s)
        service = AvailabilityService(s, NOW)
        start, end = paris(TOMORROW, 10), paris(TOMORROW, 11)
        # 2 seats of bookings[0] and 1 of the 08:00 booking's clean-up until 10:30
        with service.loaded_for_slot(court, start, end, exclude_booking_id=bookings[0].id):
            assert service.occupancy(court, start, end).seats(start, end) == 3
            assert service.occupancy(court, start, end, bookings[0].id).seats(start, end) == 1
        with service.loaded_for_slot(court, start, end):
            assert service.occupancy(court, start, end, bookings[0].id).seats(start, end) == 1

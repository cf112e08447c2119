"""Popular times of a resource: how busy each local hour of each weekday
usually is, from the seats of its confirmed, completed and no-show
bookings of the last twelve weeks.

Each booking adds its seats × minutes to every local hour it covers (in the
venue's zone, so an hour keeps its wall-clock meaning across DST changes).
An hour's level is its share of the busiest hour's load, in five steps:
0 (nothing booked) to 4 (as busy as it gets). The query reads one
resource's bookings within the period; on PostgreSQL it is served by the
index ``ix_bookings_resource_starts_at`` on ``(resource_id, starts_at)``.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from ..models import Booking, BookingStatus
from .slots import zone_of

WEEKS = 12
LEVELS = 4
COUNTED = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)


@dataclass(frozen=True, slots=True)
class PopularTimes:
    #: ``{(weekday, hour): level}`` with Monday 0; absent cells are level 0.
    levels: dict
    #: The local hours that had any booking, sorted.
    hours: list
    bookings: int

    def level(self, weekday, hour):
        return self.levels.get((weekday, hour), 0)


def history_query(resource, now, weeks=WEEKS):
    """``(starts_at, ends_at, seats)`` of the counted bookings of
    ``resource`` that started in the ``weeks`` before ``now``."""
    return select(Booking.starts_at, Booking.ends_at, Booking.seats).where(
        Booking.resource_id == resource.id,
        Booking.starts_at >= now - timedelta(weeks=weeks),
        Booking.starts_at < now,
        Booking.status.in_([str(status) for status in COUNTED]),
    )


def hourly_load(rows, zone):
    """``{(weekday, hour): seat-minutes}`` in local time. The walk is in UTC,
    from one local hour boundary to the next, so a DST change neither
    stretches nor shrinks an hour."""
    load = defaultdict(int)
    minute = timedelta(minutes=1)
    for starts_at, ends_at, seats in rows:
        instant = starts_at
        while instant < ends_at:
            local = instant.astimezone(zone)
            to_next_hour = timedelta(hours=1) - timedelta(
                minutes=local.minute, seconds=local.second, microseconds=local.microsecond)
            until = min(instant + to_next_hour, ends_at)
            load[local.weekday(), local.hour] += seats * ((until - instant) // minute)
            instant = until
    return load


def popular_times(dbsession, resource, now, weeks=WEEKS):
    rows = dbsession.execute(history_query(resource, now, weeks)).all()
    load = hourly_load(rows, zone_of(resource))
    peak = max(load.values(), default=0)
    levels = {
        cell: max(1, -(-value * LEVELS // peak))
        for cell, value in load.items() if value > 0
    }
    return PopularTimes(levels=levels, hours=sorted({hour for _, hour in levels}),
                        bookings=len(rows))

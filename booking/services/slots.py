"""Slots in wall-clock time: the zones of venues, opening hours expanded
into instants, and the seats that bookings take.

Opening hours are local wall times in the venue's IANA zone; they are
expanded day by day into instants with ``zoneinfo``. A wall time that does
not exist (the spring DST gap) yields no slot; a wall time that exists twice
(the autumn overlap) yields one slot, at its first occurrence. Nothing here
reads the database (``booking.services.availability`` does).
"""

import bisect
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..models.resource import MAX_BLOCK_MINUTES

MAX_BLOCK = timedelta(minutes=MAX_BLOCK_MINUTES)


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    end: datetime
    seats_left: int


def venue_zone(venue):
    """The IANA zone of a venue: its own, else its tenant's."""
    return ZoneInfo(venue.time_zone or venue.tenant.time_zone)


def zone_of(resource):
    """The IANA zone a resource's opening hours are written in."""
    return venue_zone(resource.venue)


def valid_time_zone(name):
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        return False
    return True


def local_instant(day, minute, zone):
    """The instant of wall time ``minute`` after midnight on ``day`` in
    ``zone``, or ``None`` if the clocks skip it (DST gap). For a wall time
    that happens twice, the first occurrence."""
    wall = datetime.combine(day, time(minute // 60, minute % 60))
    instant = wall.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return instant


@lru_cache(maxsize=4096)  # the same days' opening and closing times, for every resource
def wall_instant(day, minute, zone):
    """The instant of wall time ``minute`` (up to 1440) on ``day``; a
    wall time in a DST gap resolves to the instant after the gap."""
    day += timedelta(days=minute // (24 * 60))
    minute %= 24 * 60
    wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
    return wall.astimezone(UTC)


@lru_cache(maxsize=4096)  # a calendar asks it for every resource of the same days
def steady_midnight(day, zone):
    """The instant ``day`` begins in ``zone`` if the day has no clock change
    (24 hours between its midnights, one UTC offset at both), else ``None``.
    On such a day wall time ``m`` minutes after midnight is midnight plus
    ``m`` minutes (tz data has no day with two changes that cancel out)."""
    start = wall_instant(day, 0, zone)
    end = wall_instant(day + timedelta(days=1), 0, zone)
    if end - start != timedelta(days=1) or start.astimezone(zone).utcoffset() != \
            end.astimezone(zone).utcoffset():
        return None
    return start


def expand_slots(hours, zone, slot_minutes, first_day, last_day, before=0, after=0):
    """Candidate ``(start, end)`` instants, sorted, from weekly ``hours``
    (``{weekday: [(opens_minute, closes_minute), ...]}``) for the local days
    ``first_day`` to ``last_day`` inclusive.

    Each slot's blocked span (``before`` minutes of set-up, the slot,
    ``after`` minutes of turnover) lies within an opening range, and the
    spans follow each other back to back from the opening time."""
    length = timedelta(minutes=slot_minutes)
    blocked = length + timedelta(minutes=after)
    step = before + slot_minutes + after
    seen = set()
    slots = []
    day = first_day
    while day <= last_day:
        midnight = steady_midnight(day, zone)
        for opens, closes in hours.get(day.weekday(), ()):
            closing = wall_instant(day, closes, zone)
            for minute in range(opens + before, closes - slot_minutes - after + 1, step):
                if midnight is not None:  # no clock change: plain arithmetic
                    start = midnight + timedelta(minutes=minute)
                else:
                    start = local_instant(day, minute, zone)
                if start is None or start in seen:
                    continue
                if start + blocked > closing:
                    continue  # a DST change made the day shorter than its wall times
                seen.add(start)
                slots.append((start, start + length))
        day += timedelta(days=1)
    slots.sort()
    return slots


@lru_cache(maxsize=256)  # small entries (a day of 5-minute slots is ~44 KB)
def day_slots(spans, zone, slot_minutes, day, before, after):
    """:func:`expand_slots` of one local ``day`` open ``spans``
    (``((opens, closes), ...)``), as a tuple."""
    return tuple(expand_slots({day.weekday(): spans}, zone, slot_minutes, day, day,
                              before, after))


def candidate_slots(hours, zone, slot_minutes, first_day, last_day, before=0, after=0):
    """:func:`expand_slots`, a day at a time from :func:`day_slots`: a
    venue's resources share their hours and slot lengths, so a page of
    many resources expands each day once. Days follow each other and a
    slot starts on its own local day, so the days joined are in order."""
    slots = []
    day = first_day
    while day <= last_day:
        spans = hours.get(day.weekday())
        if spans:
            slots += day_slots(tuple(spans), zone, slot_minutes, day, before, after)
        day += timedelta(days=1)
    return slots


class Occupancy:
    """Seats taken by active bookings, answered per period by bisecting the
    bookings sorted by the start of their blocked span. ``stale_holds``
    counts the held bookings found in the period whose hold ran out: they
    take no seat (and are not among ``rows``)."""

    def __init__(self, rows, stale_holds=0):
        self.stale_holds = stale_holds
        rows = sorted(rows)
        self._starts = [row[0] for row in rows]
        self._rows = rows

    def seats(self, block_start, block_end):
        low = bisect.bisect_left(self._starts, block_start - MAX_BLOCK)
        high = bisect.bisect_left(self._starts, block_end)
        return sum(
            seats for start, end, seats in self._rows[low:high] if end > block_start
        )

    def seats_each(self, spans):
        """:meth:`seats` of each ``(block_start, block_end)`` of ``spans``,
        in one pass: ``spans`` come sorted by start, with ends that never
        go down (a resource's slots, all of one length)."""
        starts, rows = self._starts, self._rows
        count = len(rows)
        low = high = 0
        for block_start, block_end in spans:
            floor = block_start - MAX_BLOCK
            while low < count and starts[low] < floor:
                low += 1
            while high < count and starts[high] < block_end:
                high += 1
            yield (sum(seats for _, end, seats in rows[low:high] if end > block_start)
                   if low < high else 0)


def local_text(instant, zone):
    """An instant as the wall time of ``zone``, for messages: ``2026-12-04 18:00 CET``."""
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def row_instants(day, zone, step):
    """``(instants, changes)``: the instants the rows of ``day`` start at,
    in order, and whether the clocks change that day. A row starts at each
    wall time on the ``step`` that exists that day, at each of its
    occurrences, and at the day's first instant (which is not on the step
    when the clocks change at midnight by less than it)."""
    midnight = steady_midnight(day, zone)
    if midnight is not None:
        return [midnight + timedelta(minutes=m) for m in range(0, 24 * 60, step)], False
    instants = {wall_instant(day, 0, zone)}
    for m in range(0, 24 * 60, step):
        wall = datetime.combine(day, time(m // 60, m % 60))
        for fold in (0, 1):
            instant = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
            # A wall time in the gap reads as another one once converted back.
            if instant.astimezone(zone).replace(tzinfo=None) == wall:
                instants.add(instant)
    return sorted(instants), True

"""The staff calendar of a venue, a day or a week of its resources.

The day is a grid: the resources side by side, a row per time step in the
venue's local time, and on it the bookings, the free slots and the closures.
Rows and everything on them are placed by instants, not wall-clock minutes:
on a day the clocks change, a wall time that is skipped has no row, one that
happens twice has two (told apart by their offset), and a booking across the
change covers the rows of the time it really takes.
Rows cover the opening hours of the day (of any resource), widened to take
in any booking outside them. Everything that overlaps in a column (several
bookings of a class, a cancelled booking and its replacement, a free slot
with seats left next to its bookings) is merged into one *block*: one table
cell spanning its rows, so the grid is always a valid table.

The week is an overview: a row per resource, a column per day, and in each
cell that day's bookings and closures and the number of free slots (which
the day's grid offers for booking). A grid of every time row of every
resource for seven days is unreadable past a few resources, and slow to
render (a venue of 100 resources is ~8,000 cells a day).
"""

import math
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ..models import Booking, BookingStatus, Closure, Resource, User
from ..models.booking import ACTIVE_STATUSES
from .availability import AvailabilityService
from .slots import MAX_BLOCK, row_instants, venue_zone, wall_instant

DAY_MINUTES = 24 * 60
#: The statuses the calendar shows (an expired hold is not shown).
SHOWN_STATUSES = (BookingStatus.HELD, BookingStatus.CONFIRMED, BookingStatus.CANCELLED,
                  BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
MIN_STEP, MAX_STEP = 15, 60


def customer_label(name, email):
    """How a customer is named to staff: their name, else their email."""
    return name or email


@dataclass(frozen=True)
class Column:
    resource_id: int
    name: str
    capacity: int
    active: bool


class Entry(NamedTuple):
    """A booking as the calendar shows it (a tuple: a week of a large venue
    makes thousands)."""

    id: int
    reference: str
    resource_id: int
    customer: str
    seats: int
    capacity: int
    status: str
    starts_at: object
    ends_at: object


class FreeSlot(NamedTuple):
    resource_id: int
    start: object
    end: object
    seats_left: int


@dataclass(frozen=True)
class ClosedPeriod:
    #: ``None`` when the whole venue is closed.
    resource_id: int | None
    resource_name: str | None
    starts_at: object
    ends_at: object
    reason: str


@dataclass
class Cell:
    column: Column
    top: int = 0
    rowspan: int = 1
    #: Outside the resource's opening hours (an empty cell only).
    off: bool = False
    closures: list = field(default_factory=list)
    bookings: list = field(default_factory=list)
    free: list = field(default_factory=list)

    @property
    def empty(self):
        return not (self.closures or self.bookings or self.free)


@dataclass
class Row:
    #: The local wall time of the row's start, in minutes from midnight.
    minute: int
    start: object
    cells: list
    #: Unique within the day: the wall minute, "b" added for the second
    #: occurrence of a wall time that happens twice.
    key: str = ""
    #: The zone's abbreviation or offset, on a day the clocks change (else "").
    offset: str = ""


@dataclass
class Day:
    day: date
    rows: list
    closures: list


@dataclass
class DaySummary:
    """One resource on one day, as the week shows it."""

    day: date
    closures: list
    bookings: list
    #: Free slots still bookable (the day's grid offers them).
    free: int
    #: No opening hours that weekday.
    off: bool


@dataclass
class WeekRow:
    column: Column
    days: list


@dataclass
class StaffCalendar:
    zone: ZoneInfo
    view: str
    date: date
    today: date
    previous: date
    next: date
    step: int
    columns: list
    #: The shown local days (one, or seven from Monday).
    dates: list
    #: The day's grid (``view="day"``; empty for the week).
    days: list
    #: A row per resource (``view="week"``; empty for the day).
    week: list
    #: The closures overlapping the shown days.
    closures: list


class StaffCalendarService:
    def __init__(self, dbsession, now):
        self.dbsession = dbsession
        self.now = now
        self.availability = AvailabilityService(dbsession, now)

    def calendar(self, venue, shown, view="day"):
        """The calendar of ``venue`` around the local day ``shown``: that
        day, or (``view="week"``) its week from Monday."""
        zone = venue_zone(venue)
        first = shown if view == "day" else shown - timedelta(days=shown.weekday())
        count = 1 if view == "day" else 7
        last = first + timedelta(days=count - 1)
        start, end = wall_instant(first, 0, zone), wall_instant(last, DAY_MINUTES, zone)

        resources = self.resources(venue)
        # A slot's blocked span ends inside its day (expand_slots checks) and
        # starts at most its set-up buffer before the slot, which may reach
        # back past the day's first instant when a DST gap skips midnight.
        # The rows read for the slots (active bookings, closures) start there.
        reach = start - timedelta(minutes=max(
            (r.buffer_before_minutes for r in resources), default=0))
        rows = self.bookings(venue, resources, reach, end)
        venue_closures = self.closures(venue, reach, end)
        entries = self.entries(rows, resources, start, end)
        booked = {entry.resource_id for entry in entries}
        shown_resources = [r for r in resources if r.active or r.id in booked]
        columns = [Column(r.id, r.name, r.capacity, r.active) for r in shown_resources]
        active = [row for row in rows if row.status in ACTIVE_STATUSES]
        self.availability.prefetch(shown_resources, reach, end, closures=venue_closures,
                                   bookings=active)
        hours = {r.id: self.availability.weekly_hours(r) for r in shown_resources}
        free = [
            FreeSlot(r.id, slot.start, slot.end, slot.seats_left)
            for r in shown_resources if r.active
            for slot in self.availability.slots(r, first, last)
            if slot.seats_left > 0 and slot.start > self.now
        ]
        names = {r.id: r.name for r in resources}
        closures = [ClosedPeriod(c.resource_id, names.get(c.resource_id), c.starts_at, c.ends_at,
                                 c.reason)
                    for c in venue_closures if c.starts_at < end and c.ends_at > start]
        step = grid_step(shown_resources, hours)
        dates = [first + timedelta(days=n) for n in range(count)]
        entries, free = by_resource(entries), by_resource(free)
        if view == "day":
            days = [self.day(first, zone, step, columns, hours, entries, free, closures)]
            week = []
        else:
            days = []
            week = self.week(dates, zone, columns, hours, entries, free, closures)
        stride = timedelta(days=count)
        return StaffCalendar(
            zone=zone, view=view, date=shown, today=self.now.astimezone(zone).date(),
            previous=shown - stride, next=shown + stride, step=step, columns=columns,
            dates=dates, days=days, week=week, closures=closures,
        )

    def resources(self, venue):
        return self.dbsession.scalars(
            select(Resource)
            .where(Resource.venue_id == venue.id, Resource.tenant_id == venue.tenant_id)
            .order_by(Resource.name, Resource.id)
        ).all()

    def bookings(self, venue, resources, start, end):
        """The bookings of ``resources`` (the venue's) in a shown status whose
        blocked span overlaps [start, end), in order: the ones the calendar
        shows and the ones that take seats from its free slots, in one query."""
        return self.dbsession.execute(
            select(Booking.id, Booking.reference, Booking.resource_id, Booking.seats,
                   Booking.status, Booking.hold_expires_at, Booking.starts_at,
                   Booking.ends_at, Booking.block_start, Booking.block_end,
                   Booking.contact_name,
                   func.coalesce(User.email, Booking.contact_email).label("email"))
            .outerjoin(User, User.id == Booking.customer_id)  # a walk-in has no account
            .where(Booking.tenant_id == venue.tenant_id,
                   Booking.resource_id.in_([r.id for r in resources]),
                   # No blocked span is longer than MAX_BLOCK, and a booking
                   # starts inside its span: a bounded range of each
                   # resource's bookings by start.
                   Booking.starts_at > start - MAX_BLOCK, Booking.starts_at < end + MAX_BLOCK,
                   Booking.block_start < end, Booking.block_end > start,
                   Booking.status.in_([str(s) for s in SHOWN_STATUSES]))
            .order_by(Booking.starts_at, Booking.id)
        ).all()

    def entries(self, rows, resources, start, end):
        """The :class:`Entry` of each booking row overlapping [start, end)
        (an expired hold is not shown)."""
        capacities = {r.id: r.capacity for r in resources}
        now, held = self.now, BookingStatus.HELD
        return [  # unpacked, not read by name: a week of a large venue is thousands of rows
            Entry(id, reference, resource_id, customer_label(name, email), seats,
                  capacities[resource_id], status, starts, ends)
            for (id, reference, resource_id, seats, status, hold_expires_at, starts, ends,
                 _block_start, _block_end, name, email) in rows
            if starts < end and ends > start and (status != held or hold_expires_at > now)
        ]

    def closures(self, venue, start, end):
        """The closures of the venue or of its resources overlapping [start, end)."""
        return self.dbsession.execute(
            select(Closure.venue_id, Closure.resource_id, Closure.starts_at, Closure.ends_at,
                   Closure.reason)
            .where(Closure.venue_id == venue.id, Closure.tenant_id == venue.tenant_id,
                   Closure.starts_at < end, Closure.ends_at > start)
            .order_by(Closure.starts_at, Closure.id)
        ).all()

    def day(self, day, zone, step, columns, hours, entries, free, closures):
        """The grid of ``day``; ``entries`` and ``free`` by resource id."""
        start, end = wall_instant(day, 0, zone), wall_instant(day, DAY_MINUTES, zone)
        todays = [c for c in closures if c.starts_at < end and c.ends_at > start]
        entries = {rid: [e for e in items if e.starts_at < end and e.ends_at > start]
                   for rid, items in entries.items()}
        free = {rid: [s for s in items if start <= s.start < end] for rid, items in free.items()}
        ranges = {rid: hours[rid].get(day.weekday(), []) for rid in hours}
        edges = {wall_instant(day, m, zone)
                 for m in {m for spans in ranges.values() for span in spans for m in span}}
        edges.update(min(max(i, start), end) for items in entries.values() for e in items
                     for i in (e.starts_at, e.ends_at))
        if not columns or not edges:
            return Day(day, [], todays)
        points, changes = row_instants(day, zone, step)
        points.append(end)
        # The rows from the one holding the first edge to the one holding
        # the last; ``bounds`` has each row's start and the last row's end.
        low = max(bisect_right(points, min(edges)) - 1, 0)
        high = min(max(bisect_left(points, max(edges)), low + 1), len(points) - 1)
        bounds = points[low:high + 1]
        rows = [grid_row(instant, day, zone, changes) for instant in bounds[:-1]]
        minutes = [row.minute for row in rows]
        first, last = bounds[0], bounds[-1]

        def span(starts_at, ends_at):
            """The rows ``(top, bottom)`` a period covers; (0, 0) if none."""
            since, until = max(starts_at, first), min(ends_at, last)
            if until <= since:
                return 0, 0
            top = bisect_right(bounds, since) - 1
            return top, max(bisect_left(bounds, until), top + 1)

        for column in columns:
            rid = column.resource_id
            items = [(span(c.starts_at, c.ends_at), "closures", c) for c in todays
                     if c.resource_id in (None, rid)]
            items += [(span(e.starts_at, e.ends_at), "bookings", e) for e in entries.get(rid, ())]
            items += [(span(s.start, s.end), "free", s) for s in free.get(rid, ())]
            blocks = merge(column, items, len(rows))
            opening = ranges.get(rid, [])
            row = 0
            while row < len(rows):
                cell = blocks.get(row) or Cell(column, off=not any(
                    opens <= minutes[row] < closes for opens, closes in opening))
                rows[row].cells.append(cell)
                row += cell.rowspan
        return Day(day, rows, todays)

    def week(self, dates, zone, columns, hours, entries, free, closures):
        """A :class:`WeekRow` per column; ``entries`` and ``free`` by resource id."""
        bounds = [(day, wall_instant(day, 0, zone), wall_instant(day, DAY_MINUTES, zone))
                  for day in dates]
        rows = []
        for column in columns:
            rid = column.resource_id
            closed = [c for c in closures if c.resource_id in (None, rid)]
            booked, offered = entries.get(rid, ()), free.get(rid, ())
            weekly = hours.get(rid, {})
            rows.append(WeekRow(column, [
                DaySummary(
                    day=day,
                    closures=[c for c in closed if c.starts_at < end and c.ends_at > start],
                    bookings=[e for e in booked if e.starts_at < end and e.ends_at > start],
                    free=sum(1 for s in offered if start <= s.start < end),
                    off=not weekly.get(day.weekday()),
                ) for day, start, end in bounds
            ]))
        return rows


def by_resource(items):
    """``{resource_id: [item, ...]}``, each list in the order of ``items``."""
    grouped = defaultdict(list)
    for item in items:
        grouped[item.resource_id].append(item)
    return grouped


def merge(column, items, row_count):
    """``{first row: Cell}`` of the blocks made of overlapping ``items``
    (``((top, bottom), kind, item)``), clipped to the grid."""
    blocks = {}
    current, bottom = None, 0
    for (top, end), kind, item in sorted(items, key=lambda i: i[0]):
        top, end = max(top, 0), min(end, row_count)
        if top >= row_count or end <= top:
            continue
        if current is None or top >= bottom:
            current, bottom = Cell(column, top=top), end
            blocks[top] = current
        bottom = max(bottom, end)
        current.rowspan = bottom - current.top
        getattr(current, kind).append(item)
    return blocks


def grid_row(instant, day, zone, changes):
    """The :class:`Row` starting at ``instant`` of ``day`` (no cells yet)."""
    local = instant.astimezone(zone)
    minute = (local.date() - day).days * DAY_MINUTES + local.hour * 60 + local.minute
    return Row(minute, instant, [], key=f"{minute:04d}{'b' if local.fold else ''}",
               offset=local.tzname() if changes else "")


def grid_step(resources, hours):
    """Row height in minutes: the largest that the slots (with their
    buffers) and opening times fall on, kept between 15 minutes and an hour."""
    step = 0
    for resource in resources:
        step = math.gcd(step, resource.slot_minutes, resource.buffer_before_minutes,
                        resource.buffer_after_minutes)
    for weekly in hours.values():
        for spans in weekly.values():
            for opens, closes in spans:
                step = math.gcd(step, opens, closes)
    return min(max(step or MAX_STEP, MIN_STEP), MAX_STEP)

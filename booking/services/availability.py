"""Free slots of a resource.

Its opening hours, expanded into instants (``booking.services.slots``),
less closures, minimum notice, maximum advance and the seats of active
bookings (buffers included).
"""

import bisect
import contextlib
from collections import defaultdict, namedtuple
from datetime import timedelta
from operator import itemgetter

from sqlalchemy import Integer, String, bindparam, literal_column, null, or_, select, text
from sqlalchemy import cast, union_all

from ..models import Booking, BookingStatus, Closure, OpeningHours
from ..models.booking import ACTIVE_STATUS_SQL
from ..models.types import UTCDateTime
from .slots import MAX_BLOCK, Occupancy, Slot, candidate_slots, zone_of

_START = itemgetter(0)
#: Rows loaded ahead for [start, end): ``rows[resource_id]`` is (hours,
#: closures, bookings); the bookings leave out booking ``excluded`` (or none).
Loaded = namedtuple("Loaded", "start end excluded rows")


# The queries of one resource that every availability check runs (a
# booking's slot check runs them as one: SLOT_ROWS), built once with their
# values bound per call: building a statement and its cache key costs
# SQLAlchemy more than running it.
RESOURCE_HOURS = select(
    OpeningHours.resource_id,
    OpeningHours.weekday,
    OpeningHours.opens_minute,
    OpeningHours.closes_minute,
).where(
    OpeningHours.venue_id == bindparam("venue_id"),
    OpeningHours.tenant_id == bindparam("tenant_id"),
    or_(OpeningHours.resource_id.is_(None),
        OpeningHours.resource_id == bindparam("resource_id")),
)
RESOURCE_CLOSURES = select(Closure.starts_at, Closure.ends_at, Closure.reason).where(
    Closure.venue_id == bindparam("venue_id"),
    Closure.tenant_id == bindparam("tenant_id"),
    or_(Closure.resource_id.is_(None), Closure.resource_id == bindparam("resource_id")),
    Closure.starts_at < bindparam("end"),
    Closure.ends_at > bindparam("start"),
)
#: ``after`` is ``start`` less the longest blocked span: it bounds the scan
#: of the index on ``block_start``.
RESOURCE_BOOKINGS = select(
    Booking.block_start, Booking.block_end, Booking.seats, Booking.status,
    Booking.hold_expires_at,
).where(
    Booking.resource_id == bindparam("resource_id"),
    text(ACTIVE_STATUS_SQL),
    Booking.block_start < bindparam("end"),
    Booking.block_start > bindparam("after"),
    Booking.block_end > bindparam("start"),
)
RESOURCE_BOOKINGS_BUT_ONE = RESOURCE_BOOKINGS.where(Booking.id != bindparam("booking_id"))

#: The columns of :data:`SLOT_ROWS`, each branch filling its own.
SLOT_COLUMNS = {
    "resource_id": Integer, "weekday": Integer, "opens_minute": Integer,
    "closes_minute": Integer, "starts_at": UTCDateTime, "ends_at": UTCDateTime,
    "reason": String, "seats": Integer, "status": String, "hold_expires_at": UTCDateTime,
}


def _branch(kind, **columns):
    """One branch of :data:`SLOT_ROWS`: ``kind``, then every column of
    :data:`SLOT_COLUMNS`, NULL cast to the column's type where the branch
    has none: PostgreSQL types a union's columns branch by branch, and
    SQLAlchemy takes its result types from the first branch."""
    return select(literal_column(f"'{kind}'", String).label("kind"), *(
        columns[name].label(name) if name in columns else cast(null(), type_).label(name)
        for name, type_ in SLOT_COLUMNS.items()
    ))


#: What checking one slot reads, in one round trip: :data:`RESOURCE_HOURS`,
#: :data:`RESOURCE_CLOSURES` and :data:`RESOURCE_BOOKINGS` (the bookings'
#: blocked spans as ``starts_at``/``ends_at``), but the booking
#: ``booking_id`` (NULL for none), as one ``UNION ALL``.
SLOT_ROWS = union_all(
    _branch("hours", resource_id=OpeningHours.resource_id, weekday=OpeningHours.weekday,
            opens_minute=OpeningHours.opens_minute,
            closes_minute=OpeningHours.closes_minute)
    .where(RESOURCE_HOURS.whereclause),
    _branch("closure", starts_at=Closure.starts_at, ends_at=Closure.ends_at,
            reason=Closure.reason)
    .where(RESOURCE_CLOSURES.whereclause),
    _branch("booking", starts_at=Booking.block_start, ends_at=Booking.block_end,
            seats=Booking.seats, status=Booking.status,
            hold_expires_at=Booking.hold_expires_at)
    .where(RESOURCE_BOOKINGS.whereclause,
           or_(bindparam("booking_id", type_=Integer).is_(None),
               Booking.id != bindparam("booking_id", type_=Integer))),
)


def resource_scope(resource):
    """The values binding :data:`RESOURCE_HOURS` and
    :data:`RESOURCE_CLOSURES` to ``resource``."""
    return {"venue_id": resource.venue_id, "tenant_id": resource.tenant_id,
            "resource_id": resource.id}


class AvailabilityService:
    def __init__(self, dbsession, now):
        self.dbsession = dbsession
        self.now = now
        #: Rows loaded ahead by :meth:`prefetch` for many resources at once.
        self._prefetched = None

    def prefetch(self, resources, start, end, closures=None, bookings=None):
        """Load the opening hours, closures and active bookings of
        ``resources`` around [start, end) in three queries, so that a page
        showing many resources (the staff calendar) does not query per
        resource. Later calls inside that period read these rows.

        A caller that has loaded the closures or the active bookings for
        itself passes them instead (rows with the attributes selected
        below, each overlapping [start, end)): the staff calendar shows the
        same rows it would otherwise load twice."""
        ids = [resource.id for resource in resources]
        if not ids:
            return
        venue_ids = {resource.venue_id for resource in resources}
        tenant_id = resources[0].tenant_id
        hours = self.dbsession.execute(
            select(OpeningHours.venue_id, OpeningHours.resource_id, OpeningHours.weekday,
                   OpeningHours.opens_minute, OpeningHours.closes_minute)
            .where(OpeningHours.tenant_id == tenant_id, OpeningHours.venue_id.in_(venue_ids))
        ).all()
        if closures is None:
            closures = self.dbsession.execute(
                select(Closure.venue_id, Closure.resource_id, Closure.starts_at, Closure.ends_at,
                       Closure.reason)
                .where(Closure.tenant_id == tenant_id, Closure.venue_id.in_(venue_ids),
                       Closure.starts_at < end, Closure.ends_at > start)
            ).all()
        if bookings is None:
            bookings = self.dbsession.execute(
                select(Booking.resource_id, Booking.block_start, Booking.block_end,
                       Booking.seats, Booking.status, Booking.hold_expires_at)
                .where(Booking.resource_id.in_(ids), text(ACTIVE_STATUS_SQL),
                       Booking.block_start < end, Booking.block_start > start - MAX_BLOCK,
                       Booking.block_end > start)
            ).all()
        own_hours, venue_hours = defaultdict(list), defaultdict(list)
        for r in hours:
            group = (own_hours[r.resource_id] if r.resource_id is not None
                     else venue_hours[r.venue_id])
            group.append((r.weekday, r.opens_minute, r.closes_minute))
        venue_closures, own_closures = defaultdict(list), defaultdict(list)
        for c in closures:
            group = (own_closures[c.resource_id] if c.resource_id is not None
                     else venue_closures[c.venue_id])
            group.append((c.starts_at, c.ends_at, c.reason))
        active = defaultdict(list)
        for b in bookings:
            active[b.resource_id].append(
                (b.block_start, b.block_end, b.seats, b.status, b.hold_expires_at))
        self._prefetched = Loaded(start, end, None, {
            resource.id: (
                own_hours[resource.id] or venue_hours[resource.venue_id],
                venue_closures[resource.venue_id] + own_closures[resource.id],
                active[resource.id],
            ) for resource in resources
        })

    @contextlib.contextmanager
    def loaded_for_slot(self, resource, start, end, exclude_booking_id=None):
        """Inside the block, what checking a slot of ``resource`` whose
        blocked span is [start, end) reads comes from one round trip
        (:data:`SLOT_ROWS`) instead of three: its opening hours, its
        closures and its active bookings (but ``exclude_booking_id``'s)
        overlapping the span. Rows read before a change; the block must
        end before anything reads availability after it."""
        rows = self._run(SLOT_ROWS, {**resource_scope(resource), "start": start, "end": end,
                                     "after": start - MAX_BLOCK,
                                     "booking_id": exclude_booking_id}).all()
        own_hours, venue_hours, closures, bookings = [], [], [], []
        for row in rows:
            if row.kind == "hours":
                (venue_hours if row.resource_id is None else own_hours).append(
                    (row.weekday, row.opens_minute, row.closes_minute))
            elif row.kind == "closure":
                closures.append((row.starts_at, row.ends_at, row.reason))
            else:
                bookings.append((row.starts_at, row.ends_at, row.seats, row.status,
                                 row.hold_expires_at))
        saved = self._prefetched
        self._prefetched = Loaded(start, end, exclude_booking_id,
                                  {resource.id: (own_hours or venue_hours, closures, bookings)})
        try:
            yield
        finally:
            self._prefetched = saved

    def _loaded(self, resource, start=None, end=None):
        """The prefetched rows of ``resource`` when they cover [start, end)."""
        if self._prefetched is None:
            return None
        loaded = self._prefetched
        if resource.id not in loaded.rows or (
                start is not None and not loaded.start <= start <= end <= loaded.end):
            return None
        return loaded.rows[resource.id]

    def weekly_hours(self, resource):
        """``{weekday: [(opens_minute, closes_minute), ...]}`` for
        ``resource``: its own rows if it has any, else its venue's."""
        loaded = self._loaded(resource)
        if loaded is not None:
            hours = defaultdict(list)
            for weekday, opens, closes in loaded[0]:
                hours[weekday].append((opens, closes))
            for ranges in hours.values():
                ranges.sort()
            return hours
        rows = self._run(RESOURCE_HOURS, resource_scope(resource)).all()
        own = [row for row in rows if row.resource_id is not None]
        hours = defaultdict(list)
        for row in own or rows:
            hours[row.weekday].append((row.opens_minute, row.closes_minute))
        for ranges in hours.values():
            ranges.sort()
        return hours

    def closures(self, resource, start, end):
        """Closure periods of the resource or its venue overlapping [start, end)."""
        loaded = self._loaded(resource, start, end)
        if loaded is not None:
            return [c for c in loaded[1] if c[0] < end and c[1] > start]
        return self._run(
            RESOURCE_CLOSURES, {**resource_scope(resource), "start": start, "end": end}
        ).all()

    def occupancy(self, resource, start, end, exclude_booking_id=None):
        """Active bookings whose blocked span overlaps [start, end)."""
        loaded = self._loaded(resource, start, end)
        # Bookings loaded leaving out one booking answer only for that one.
        if loaded is not None and self._prefetched.excluded == exclude_booking_id:
            return self._occupancy([row for row in loaded[2] if row[0] < end and row[1] > start])
        values = {"resource_id": resource.id, "start": start, "end": end,
                  "after": start - MAX_BLOCK}
        if exclude_booking_id is None:
            rows = self._run(RESOURCE_BOOKINGS, values)
        else:
            rows = self._run(RESOURCE_BOOKINGS_BUT_ONE,
                             {**values, "booking_id": exclude_booking_id})
        return self._occupancy(rows.all())

    def _run(self, statement, values):
        """Run one of the prebuilt column queries above on the session's
        connection. They read no mapped objects, and the ORM's execute path
        costs ~0.23 M instructions per statement (2 % of a booking POST);
        the session is flushed first, as autoflush would."""
        if self.dbsession.autoflush:
            self.dbsession.flush()
        return self.dbsession.connection().execute(statement, values)

    def _occupancy(self, rows):
        """The :class:`Occupancy` of active booking ``rows``, each
        ``(block_start, block_end, seats, status, hold_expires_at)``; a hold
        that ran out takes no seat."""
        now = self.now
        taking = [(block_start, block_end, seats)
                  for block_start, block_end, seats, status, hold_expires_at in rows
                  if status != BookingStatus.HELD or hold_expires_at > now]
        return Occupancy(taking, stale_holds=len(rows) - len(taking))

    def candidates(self, resource, zone, first_day, last_day):
        """The resource's slots ``(start, end)`` of the local days
        ``first_day``..``last_day`` by its opening hours alone, sorted."""
        return candidate_slots(
            self.weekly_hours(resource), zone, resource.slot_minutes, first_day, last_day,
            resource.buffer_before_minutes, resource.buffer_after_minutes,
        )

    def bookable_window(self, resource):
        """The first and last instants a slot of ``resource`` may start at now."""
        earliest = self.now + timedelta(minutes=resource.min_notice_minutes)
        latest = self.now + timedelta(days=resource.max_advance_days)
        return earliest, latest

    def slots(self, resource, first_day, last_day, exclude_booking_id=None):
        """Every slot of the local days ``first_day``..``last_day`` that is
        open, bookable now and not closed, with its seats left (possibly 0)."""
        zone = zone_of(resource)
        candidates = self.candidates(resource, zone, first_day, last_day)
        earliest, latest = self.bookable_window(resource)
        candidates = candidates[bisect.bisect_left(candidates, earliest, key=_START):
                                bisect.bisect_right(candidates, latest, key=_START)]
        if not candidates:
            return []
        before = timedelta(minutes=resource.buffer_before_minutes)
        after = timedelta(minutes=resource.buffer_after_minutes)
        span_start, span_end = candidates[0][0], candidates[-1][1]
        closed = self.closures(resource, span_start, span_end)
        if closed:
            candidates = [
                (start, end) for start, end in candidates
                if not any(c_start < end and c_end > start for c_start, c_end, _ in closed)
            ]
        taken = self.occupancy(resource, span_start - before, span_end + after, exclude_booking_id)
        capacity = resource.capacity
        return [
            Slot(start, end, max(capacity - seats, 0))
            for (start, end), seats in zip(candidates, taken.seats_each(
                (start - before, end + after) for start, end in candidates))
        ]

    def free_slots(self, resource, first_day, last_day):
        return [
            slot for slot in self.slots(resource, first_day, last_day) if slot.seats_left > 0
        ]

    def closed_days(self, resource, first_day, last_day):
        """``{day: reason}`` for the local days on which the resource does
        not open at all: no opening hours that weekday (reason ``""``), or
        every slot of the day inside a closure (its reason)."""
        zone = zone_of(resource)
        hours = self.weekly_hours(resource)
        by_day = defaultdict(list)
        for start, end in self.candidates(resource, zone, first_day, last_day):
            by_day[start.astimezone(zone).date()].append((start, end))
        closures = []
        if by_day:
            first_start = min(s for slots in by_day.values() for s, _ in slots)
            last_end = max(e for slots in by_day.values() for _, e in slots)
            closures = self.closures(resource, first_start, last_end)
        closed = {}
        day = first_day
        while day <= last_day:
            slots = by_day.get(day, [])
            if not hours.get(day.weekday()) or not slots:
                closed[day] = ""
            else:
                covering = [
                    reason for c_start, c_end, reason in closures
                    if any(c_start < end and c_end > start for start, end in slots)
                ]
                if all(any(c_start < end and c_end > start for c_start, c_end, _ in closures)
                       for start, end in slots):
                    closed[day] = covering[0] if covering else ""
            day += timedelta(days=1)
        return closed

    def nearest_free(self, resource, around, count=5):
        """Up to ``count`` free slots closest in time to ``around``."""
        zone = zone_of(resource)
        day = around.astimezone(zone).date()
        slots = self.free_slots(resource, day - timedelta(days=7), day + timedelta(days=14))
        slots = [slot for slot in slots if slot.start != around]
        return sorted(slots, key=lambda slot: abs(slot.start - around))[:count]

    def is_on_grid(self, resource, start):
        """Whether ``start`` (an aware instant) begins a slot of the
        resource's opening hours, ignoring notice, closures and bookings."""
        zone = zone_of(resource)
        day = start.astimezone(zone).date()
        # The local day of a slot's start is unambiguous, but look at the
        # neighbours too so that a DST edge never hides a real slot.
        candidates = self.candidates(
            resource, zone, day - timedelta(days=1), day + timedelta(days=1)
        )
        return any(slot_start == start for slot_start, _ in candidates)

"""The invariant, checked from the database: for every resource and every
instant, the seats of active bookings never exceed its capacity."""

from collections import defaultdict

from sqlalchemy import select, text

from booking.models import Booking, Resource
from booking.models.booking import ACTIVE_STATUS_SQL


def capacity_violations(session, now):
    capacity = dict(session.execute(select(Resource.id, Resource.capacity)).all())
    events = defaultdict(list)
    rows = session.execute(
        select(Booking.resource_id, Booking.block_start, Booking.block_end, Booking.seats,
               Booking.status, Booking.hold_expires_at).where(text(ACTIVE_STATUS_SQL))
    )
    for resource_id, start, end, seats, status, hold_expires_at in rows:
        if status == "held" and hold_expires_at <= now:
            continue
        events[resource_id] += [(start, seats), (end, -seats)]
    violations = []
    for resource_id, changes in events.items():
        level = 0
        # Ends sort before starts at the same instant: [start, end) periods.
        for instant, delta in sorted(changes, key=lambda change: (change[0], change[1])):
            level += delta
            if level > capacity[resource_id]:
                violations.append((resource_id, instant, level))
    return violations

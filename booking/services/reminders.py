"""Reminders before bookings, at each tenant's offsets (minutes before the start).

Offsets are real elapsed time, not wall-clock time: the 24-hour reminder of
a booking on the day after a DST change comes exactly 24 hours before its
start, which is 23 or 25 hours by the venue's clocks.

The worker calls :func:`schedule_due_reminders` on every pass, with the
:class:`Notifier` of its unit of work. A reminder
is due once its moment (start − offset) has come, for a confirmed booking
that has not started. None is sent whose moment had already passed when
the booking was made (the confirmation says it all), and when several
moments have passed (a worker that was down), only the latest is sent:
the customer gets one reminder, not a burst. Dedupe keys make a second
pass, or a second worker, add nothing.
"""

from datetime import UTC, timedelta

from sqlalchemy import select

from ..models import Booking, BookingStatus, OutboxMessage, Tenant
from .notifications import reminder_key, still_relevant

__all__ = ["due_offset", "schedule_due_reminders", "still_relevant"]

#: Dedupe keys looked up per query.
CHUNK = 500


def reminder_offsets(dbsession):
    """``{tenant_id: offsets}``, minutes, positive, largest first."""
    return {
        tenant_id: sorted({int(m) for m in offsets or () if int(m) > 0}, reverse=True)
        for tenant_id, offsets in dbsession.execute(select(Tenant.id, Tenant.reminder_offsets))
    }


def due_offset(starts_at, created_at, offsets, now):
    """The offset whose reminder is due at ``now`` (the latest moment that
    has come and had not yet passed when the booking was made), or ``None``."""
    for offset in sorted(offsets):
        moment = starts_at - timedelta(minutes=offset)
        if moment <= now:
            return offset if created_at <= moment else None
    return None


def schedule_due_reminders(dbsession, now, notifier):
    """Queue every reminder whose moment has come, through ``notifier``
    (``find_service(Notifier)``: it knows the site's URL and sender);
    returns how many were queued. Only bookings starting within the largest
    offset are read."""
    now = now.astimezone(UTC)  # arithmetic in real time, whatever zone ``now`` is in
    offsets = reminder_offsets(dbsession)
    horizon = max((max(o) for o in offsets.values() if o), default=0)
    if not horizon:
        return 0
    candidates = dbsession.execute(
        select(Booking.id, Booking.tenant_id, Booking.starts_at, Booking.created_at,
               Booking.sequence)
        .where(Booking.status == BookingStatus.CONFIRMED,
               Booking.starts_at > now,
               Booking.starts_at <= now + timedelta(minutes=horizon))
        .order_by(Booking.starts_at, Booking.id)
    ).all()
    due = {}
    for row in candidates:
        offset = due_offset(row.starts_at, row.created_at, offsets.get(row.tenant_id, ()), now)
        if offset is not None:
            due[reminder_key(row, offset)] = (row.id, offset)
    for key in queued(dbsession, list(due)):
        del due[key]
    count = 0
    for booking_id, offset in due.values():
        booking = dbsession.get(Booking, booking_id)
        if notifier.reminder(booking, offset) is not None:
            count += 1
    return count


def queued(dbsession, keys):
    """Those of ``keys`` already in the outbox."""
    found = set()
    for start in range(0, len(keys), CHUNK):
        found.update(dbsession.scalars(
            select(OutboxMessage.dedupe_key)
            .where(OutboxMessage.dedupe_key.in_(keys[start:start + CHUNK]))
        ))
    return found

"""Schedules as staff configure them: a venue's resources, its weekly
opening hours (the venue's default and a resource's own) and its closures,
each change with its audit row.

The forms that feed these methods are read by the staff views
(``booking.views.manage.forms``); the texts here show hours as the forms
and the audit log write them. The writes run in the request's transaction;
those that could race with a booking (a lower capacity, a closure) take
the booking guard's lock first.
"""

from collections import defaultdict

from sqlalchemy import delete, select, text
from sqlalchemy.orm import selectinload

from ..i18n import _
from ..models import Booking, Closure, OpeningHours, Resource
from . import audit
from .actions import REFUND_ALL
from .slots import local_text, zone_of
from .catalog import clock_text, venue_resources
from .errors import ValidationError

#: The weekday fields of the hours form; Monday is 0.
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_MINUTES = 24 * 60
#: ``ACTIVE_STATUS_SQL`` qualified (bookings are read joined to their resource).
ACTIVE_BOOKINGS_SQL = "bookings.status IN ('held', 'confirmed')"


# -- texts ---------------------------------------------------------------------

def day_text(ranges):
    """``[(540, 720), (840, 1080)]`` → ``"09:00-12:00, 14:00-18:00"``."""
    return ", ".join(f"{clock_text(opens)}-{clock_text(closes)}" for opens, closes in ranges)


def week_texts(hours):
    """``{weekday: ranges}`` → ``{field: text}``, as the form shows it."""
    return {field: day_text(hours.get(weekday, ())) for weekday, field in enumerate(WEEKDAYS)}


def described(hours):
    """``{"monday": "09:00-12:00", …}`` for the audit log; closed days left out."""
    return {field: text for field, text in week_texts(hours).items() if text}


def price_text(minor):
    return f"{minor // 100}.{minor % 100:02d}"


def _owner(resource):
    """The rows of one scope: the venue's default, or a resource's own."""
    return (OpeningHours.resource_id.is_(None) if resource is None
            else OpeningHours.resource_id == resource.id)


class ScheduleService:
    """Reads and writes of a venue's schedule. ``actions`` are the booking
    use cases (:class:`~booking.services.actions.BookingActions`): a closure
    cancels its bookings through them, with the refund and the emails any
    cancellation by the venue gives; ``formatter`` (the request's) shows
    instants in messages in the reader's language."""

    def __init__(self, dbsession, now, actions, formatter=None):
        self.dbsession = dbsession
        self.now = now
        self.actions = actions
        self.bookings = actions.bookings
        self.formatter = formatter

    def when(self, instant, zone):
        if self.formatter is None:
            return local_text(instant, zone)
        return self.formatter.datetime(instant, zone)

    def audit(self, tenant_id, actor_id, action, target_type, target_id, **details):
        audit.record(self.dbsession, tenant_id, actor_id, action, target_type, target_id,
                     self.now, **details)

    # -- hours

    def hours(self, venue, resource=None):
        """The rows of one scope (the venue's default, or a resource's own)
        as ``{weekday: ranges}``."""
        hours = defaultdict(list)
        for row in self.dbsession.scalars(
            select(OpeningHours).where(OpeningHours.tenant_id == venue.tenant_id,
                                       OpeningHours.venue_id == venue.id, _owner(resource))
            .order_by(OpeningHours.weekday, OpeningHours.opens_minute)
        ):
            hours[row.weekday].append((row.opens_minute, row.closes_minute))
        return dict(hours)

    def has_hours(self, venue):
        """Whether ``venue`` has default opening hours."""
        return self.dbsession.scalar(select(OpeningHours.id).where(
            OpeningHours.tenant_id == venue.tenant_id, OpeningHours.venue_id == venue.id,
            OpeningHours.resource_id.is_(None)).limit(1)) is not None

    def venues_with_hours(self, tenant):
        """The ids of the tenant's venues that have default opening hours."""
        return set(self.dbsession.scalars(
            select(OpeningHours.venue_id).where(OpeningHours.tenant_id == tenant.id,
                                                OpeningHours.resource_id.is_(None))
            .group_by(OpeningHours.venue_id)))

    def resources_with_own_hours(self, venue):
        """The ids of the venue's resources that have hours of their own."""
        return set(self.dbsession.scalars(
            select(OpeningHours.resource_id).where(
                OpeningHours.tenant_id == venue.tenant_id, OpeningHours.venue_id == venue.id,
                OpeningHours.resource_id.is_not(None)).group_by(OpeningHours.resource_id)))

    def replace_hours(self, venue, resource, hours, actor_id=None):
        """Make ``hours`` the rows of the scope; an empty ``hours`` for a
        resource means it follows the venue's again. A change is audited
        (``opening_hours.updated``, old and new). Returns whether it changed."""
        old = self.hours(venue, resource)
        self.dbsession.execute(delete(OpeningHours).where(
            OpeningHours.tenant_id == venue.tenant_id, OpeningHours.venue_id == venue.id,
            _owner(resource)))
        for weekday, ranges in sorted(hours.items()):
            for opens, closes in ranges:
                self.dbsession.add(OpeningHours(
                    tenant_id=venue.tenant_id, venue_id=venue.id,
                    resource_id=resource.id if resource else None,
                    weekday=weekday, opens_minute=opens, closes_minute=closes))
        self.dbsession.flush()
        if old == hours:
            return False
        self.audit(venue.tenant_id, actor_id, "opening_hours.updated",
                   "resource" if resource else "venue", resource.id if resource else venue.id,
                   venue_id=venue.id, old=described(old), new=described(hours))
        return True

    # -- resources

    def venue_resources(self, venue):
        """The venue's resources, inactive ones included (active first)."""
        return venue_resources(self.dbsession, venue.tenant_id, venue.id, include_inactive=True)

    def active_bookings(self, resource_ids, starts_before=None, ends_after=None):
        """Bookings of ``resource_ids`` holding seats now (held with time
        left, or confirmed) whose slot ends after ``ends_after`` (default:
        now) and starts before ``starts_before``."""
        query = (select(Booking).options(selectinload(Booking.customer))
                 .where(Booking.resource_id.in_(resource_ids), text(ACTIVE_BOOKINGS_SQL),
                        Booking.ends_at > (ends_after or self.now))
                 .order_by(Booking.starts_at, Booking.id))
        if starts_before is not None:
            query = query.where(Booking.starts_at < starts_before)
        return [b for b in self.dbsession.scalars(query) if b.holds_seats(self.now)]

    def future_bookings(self, resource):
        """How many bookings of ``resource`` still hold seats from now on."""
        return len(self.active_bookings([resource.id]))

    def peak(self, resource):
        """``(seats, instant)``: the most seats of ``resource`` booked at
        one instant from now on, and when; ``(0, None)`` if none."""
        events = []
        for booking in self.active_bookings([resource.id]):
            if booking.block_end > self.now:
                events.append((max(booking.block_start, self.now), booking.seats))
                events.append((booking.block_end, -booking.seats))
        seats, peak, when = 0, 0, None
        for instant, change in sorted(events, key=lambda e: (e[0], e[1])):
            seats += change
            if seats > peak:
                peak, when = seats, instant
        return peak, when

    def save_resource(self, resource, values):
        """Apply ``values`` to ``resource``; return ``{field: [old, new]}``.
        A capacity below the seats already booked is refused, under the
        booking guard's lock so that no booking slips in meanwhile."""
        if resource.id is not None and values["capacity"] < resource.capacity:
            self.bookings.lock_resources(resource.id)
            seats, when = self.peak(resource)
            if seats > values["capacity"]:
                raise ValidationError(_(
                    "cannot be lower than ${seats}: ${seats} seats are booked at ${time}",
                    mapping={"seats": seats, "time": self.when(when, zone_of(resource))},
                ), field="capacity")
        changes = {}
        for field, value in values.items():
            old = getattr(resource, field)
            if old != value:
                changes[field] = [old, value]
                setattr(resource, field, value)
        if resource.id is None:
            self.dbsession.add(resource)
        self.dbsession.flush()
        return changes

    def create_resource(self, venue, values, actor_id):
        """A new active resource of ``venue`` from ``values``, audited."""
        resource = Resource(tenant_id=venue.tenant_id, venue_id=venue.id, active=True)
        self.save_resource(resource, values)
        self.audit(venue.tenant_id, actor_id, "resource.created", "resource", resource.id,
                   venue_id=venue.id, **{field: getattr(resource, field) for field in values})
        return resource

    def update_resource(self, resource, values, actor_id):
        """Apply ``values`` (see :meth:`save_resource`); a change is audited."""
        changes = self.save_resource(resource, values)
        if changes:
            self.audit(resource.tenant_id, actor_id, "resource.updated", "resource",
                       resource.id, changes=changes)
        return changes

    def set_active(self, resource, active, actor_id):
        """Let ``resource`` take bookings or not; a change is audited. Its
        bookings are kept: returns how many of them are still to come."""
        if resource.active != active:
            resource.active = active
            self.audit(resource.tenant_id, actor_id,
                       "resource.activated" if active else "resource.deactivated",
                       "resource", resource.id)
        return 0 if active else self.future_bookings(resource)

    # -- closures

    def current_closures(self, venue):
        """The venue's closures not over yet, in order."""
        return self.dbsession.scalars(
            select(Closure).where(Closure.tenant_id == venue.tenant_id,
                                  Closure.venue_id == venue.id, Closure.ends_at > self.now)
            .order_by(Closure.starts_at, Closure.id)
        ).all()

    def venue_resource_ids(self, venue):
        return self.dbsession.scalars(select(Resource.id).where(
            Resource.tenant_id == venue.tenant_id, Resource.venue_id == venue.id)).all()

    def covered_bookings(self, venue, resource, starts_at, ends_at):
        """Active bookings of the venue's resources (or of ``resource``)
        whose slot overlaps [starts_at, ends_at), under the booking guard's
        lock: until the transaction ends, none can be added."""
        ids = [resource.id] if resource else self.venue_resource_ids(venue)
        if not ids:
            return []
        self.bookings.lock_resources(*ids)
        return self.active_bookings(ids, starts_before=ends_at,
                                    ends_after=max(starts_at, self.now))

    def close_period(self, tenant, venue, values, covered, *, cancel, actor_id):
        """Close the venue (or ``values["resource"]``) over the period of
        ``values``: add the closure, cancel the ``covered`` bookings when
        ``cancel`` (as staff, with the closure's reason; what was paid online
        is refunded in full and their customers are emailed) or keep them,
        and audit the closure with the ids cancelled and kept. Call after
        :meth:`covered_bookings`, in the same transaction (its lock keeps
        ``covered`` complete)."""
        resource = values["resource"]
        closure = Closure(tenant_id=tenant.id, venue_id=venue.id,
                          resource_id=resource.id if resource else None,
                          starts_at=values["starts_at"], ends_at=values["ends_at"],
                          reason=values["reason"])
        self.dbsession.add(closure)
        self.dbsession.flush()
        if cancel:  # the venue closes: what was paid online goes back in full
            for booking in covered:
                self.actions.cancel(tenant, booking, actor_id=actor_id,
                                    reason=closure.reason or "closure", by_staff=True,
                                    refund=REFUND_ALL)
        ids = [booking.id for booking in covered]
        self.audit(tenant.id, actor_id, "closure.created", "closure", closure.id,
                   **self.closure_details(closure),
                   cancelled_bookings=ids if cancel else [], kept_bookings=[] if cancel else ids)
        return closure

    def delete_closure(self, closure, actor_id):
        """Remove ``closure`` (its bookings were cancelled or kept when it
        was made), audited."""
        self.audit(closure.tenant_id, actor_id, "closure.deleted", "closure", closure.id,
                   **self.closure_details(closure))
        self.dbsession.delete(closure)

    @staticmethod
    def closure_details(closure):
        return {"venue_id": closure.venue_id, "resource_id": closure.resource_id,
                "starts_at": closure.starts_at.isoformat(),
                "ends_at": closure.ends_at.isoformat(), "reason": closure.reason}

"""The staff dashboard: each venue's today and tomorrow at a glance.

Days are the venue's local days. Every figure costs a fixed number of
queries per venue (bookings, holds, cancellations) and per resource
(opening hours and closures, through the availability service), never one
per booking.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload

from ..models import AuditLog, Booking, BookingStatus, Membership, OpeningHours, Resource, Venue
from .availability import AvailabilityService
from .slots import venue_zone, wall_instant

#: Holds that expire sooner than this are flagged for the desk.
EXPIRY_WARNING = timedelta(minutes=15)
#: How far back the list of cancellations reaches, and how long it gets.
CANCELLATIONS_SINCE = timedelta(days=7)
MAX_CANCELLATIONS = 20
#: A day list longer than this is cut (the calendar shows everything).
MAX_BOOKINGS = 500
#: Statuses whose seats count as used; a hold counts only while it lasts.
USED_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
#: Statuses that are not listed among the day's bookings.
HIDDEN_STATUSES = (BookingStatus.CANCELLED, BookingStatus.EXPIRED)


@dataclass
class ResourceLoad:
    """Seat-minutes booked and open on one resource for one day."""

    resource: Resource
    booked: int
    available: int

    @property
    def ratio(self):
        """Booked over available, or ``None`` when it does not open."""
        return self.booked / self.available if self.available else None


@dataclass
class VenueDay:
    venue: object
    zone: ZoneInfo
    today: object
    tomorrow: object
    #: ``{day: [Booking]}`` for today and tomorrow, by start time.
    bookings: dict
    occupancy: list
    expiring_holds: list
    cancellations: list


#: The setup checklist of a new business, in the order to follow.
SETUP_STEPS = ("venue", "resource", "hours", "team", "payments")


@dataclass(frozen=True)
class SetupState:
    """Which steps of the setup checklist are done, read from the data: a
    venue, a resource, opening hours (of a venue or a resource), a second
    member of the team, the settings (prices' currency, refund policy)
    saved once. ``venue_id`` is the first venue, where the next steps go."""

    done: dict
    venue_id: int | None

    @property
    def complete(self):
        return all(self.done.values())


def setup_state(dbsession, tenant):
    """The :class:`SetupState` of ``tenant``, in one query."""
    def any_row(model, *conditions):
        return exists().where(model.tenant_id == tenant.id, *conditions)

    row = dbsession.execute(select(
        select(func.min(Venue.id)).where(Venue.tenant_id == tenant.id).scalar_subquery(),
        any_row(Resource),
        any_row(OpeningHours),
        select(func.count()).where(Membership.tenant_id == tenant.id).scalar_subquery(),
        any_row(AuditLog, AuditLog.action == "tenant.settings_changed"),
    )).one()
    venue_id, resource, hours, members, settings = row
    done = {"venue": venue_id is not None, "resource": bool(resource), "hours": bool(hours),
            "team": members > 1, "payments": bool(settings)}
    return SetupState(done={step: done[step] for step in SETUP_STEPS}, venue_id=venue_id)


class Dashboard:
    def __init__(self, dbsession, now):
        self.dbsession = dbsession
        self.now = now
        self.availability = AvailabilityService(dbsession, now)

    def setup_state(self, tenant):
        """The :class:`SetupState` of ``tenant``."""
        return setup_state(self.dbsession, tenant)

    def venue_days(self, tenant, venues):
        """A :class:`VenueDay` for each of ``venues`` (of ``tenant``)."""
        venue_ids = [venue.id for venue in venues]
        resources = defaultdict(list)
        for resource in self.dbsession.scalars(
            select(Resource)
            .where(Resource.tenant_id == tenant.id, Resource.venue_id.in_(venue_ids))
            .order_by(Resource.name, Resource.id)
        ):
            resources[resource.venue_id].append(resource)
        return [self.venue_day(tenant, venue, resources[venue.id]) for venue in venues]

    def venue_day(self, tenant, venue, resources):
        zone = venue_zone(venue)
        today = self.now.astimezone(zone).date()
        tomorrow = today + timedelta(days=1)
        resource_ids = [resource.id for resource in resources]
        bookings = self.bookings(tenant, resource_ids, wall_instant(today, 0, zone),
                                 wall_instant(tomorrow + timedelta(days=1), 0, zone))
        by_day = {today: [], tomorrow: []}
        for booking in bookings:
            day = booking.starts_at.astimezone(zone).date()
            if day in by_day and booking.status_at(self.now) not in HIDDEN_STATUSES:
                by_day[day].append(booking)
        todays = [b for b in bookings if b.starts_at.astimezone(zone).date() == today]
        return VenueDay(
            venue=venue, zone=zone, today=today, tomorrow=tomorrow, bookings=by_day,
            occupancy=[self.load(resource, zone, today, todays)
                       for resource in resources if resource.active],
            expiring_holds=self.expiring_holds(tenant, resource_ids),
            cancellations=self.cancellations(tenant, resource_ids),
        )

    def _query(self, tenant, resource_ids):
        return (
            select(Booking)
            .options(joinedload(Booking.customer))
            .where(Booking.tenant_id == tenant.id, Booking.resource_id.in_(resource_ids))
        )

    def bookings(self, tenant, resource_ids, start, end):
        """Bookings of the resources that start in [start, end), any status."""
        return self.dbsession.scalars(
            self._query(tenant, resource_ids)
            .where(Booking.starts_at >= start, Booking.starts_at < end)
            .order_by(Booking.starts_at, Booking.id)
            .limit(MAX_BOOKINGS)
        ).all()

    def expiring_holds(self, tenant, resource_ids):
        """Held bookings whose hold runs out within :data:`EXPIRY_WARNING`."""
        return self.dbsession.scalars(
            self._query(tenant, resource_ids)
            .where(Booking.status == BookingStatus.HELD,
                   Booking.hold_expires_at > self.now,
                   Booking.hold_expires_at <= self.now + EXPIRY_WARNING)
            .order_by(Booking.hold_expires_at, Booking.id)
            .limit(MAX_BOOKINGS)
        ).all()

    def cancellations(self, tenant, resource_ids):
        """The latest cancellations of the last week, newest first."""
        return self.dbsession.scalars(
            self._query(tenant, resource_ids)
            .where(Booking.status == BookingStatus.CANCELLED,
                   Booking.updated_at >= self.now - CANCELLATIONS_SINCE)
            .order_by(Booking.updated_at.desc(), Booking.id.desc())
            .limit(MAX_CANCELLATIONS)
        ).all()

    def load(self, resource, zone, day, bookings):
        """Seat-minutes of ``resource`` booked on ``day`` (from the day's
        ``bookings``) against those its opening hours offer, closures
        taken away."""
        slots = self.availability.candidates(resource, zone, day, day)
        if slots:
            closures = self.availability.closures(resource, slots[0][0], slots[-1][1])
            slots = [(start, end) for start, end in slots
                     if not any(c_start < end and c_end > start for c_start, c_end, _ in closures)]
        available = sum(minutes(start, end) for start, end in slots) * resource.capacity
        booked = sum(
            minutes(booking.starts_at, booking.ends_at) * booking.seats
            for booking in bookings
            if booking.resource_id == resource.id and self.uses_seats(booking)
        )
        return ResourceLoad(resource, booked, available)

    def uses_seats(self, booking):
        if booking.status == BookingStatus.HELD:
            return booking.holds_seats(self.now)
        return booking.status in USED_STATUSES


def minutes(start, end):
    return int((end - start).total_seconds() // 60)

"""Venues near a point, sorted by distance, with their next free slot.

The search prefilters in SQL on a bounding box of (latitude, longitude)
(index ``ix_venues_latitude_longitude``), reading only ids and coordinates,
then computes the exact great-circle distance in Python, keeps the venues
within the radius and sorts them. Full rows and next free slots are loaded
for one page of results only, so the work per request stays bounded
whatever the number of venues.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, or_, select, text

from ..adapters.maps import GeocoderUnavailable
from ..i18n import _
from ..models import (Booking, BookingStatus, Closure, OpeningHours, Resource, Tenant, Venue,
                      write_session)
from ..models.booking import ACTIVE_STATUS_SQL
from ..models.resource import MAX_BLOCK_MINUTES
from ..models.tenant import TenantStatus
from .errors import DomainError, ValidationError
from .geocoding import DEFAULT_MAX_AGE, bounding_boxes, distance_km, locate
from .slots import Occupancy, Slot, expand_slots, venue_zone
from .throttle import WindowCounter

MAX_RADIUS_KM = 100
DEFAULT_RADIUS_KM = 10
PAGE_SIZE = 20
#: How far ahead the next free slot is looked for.
NEXT_SLOT_DAYS = 14
#: The first look covers this many days; only venues with nothing free in
#: it are looked at again over the rest of the horizon.
FIRST_LOOK_DAYS = 2


@dataclass(frozen=True, slots=True)
class NextSlot:
    resource: Resource
    slot: Slot


@dataclass(frozen=True, slots=True)
class NearbyVenue:
    venue: Venue
    distance_km: float
    next_free: NextSlot | None


@dataclass(frozen=True, slots=True)
class NearbyPage:
    venues: list
    total: int
    page: int
    pages: int


def box_condition(latitude, longitude, radius_km):
    """The SQL condition of the bounding box around the point: two boxes
    when it crosses the antimeridian, every longitude around a pole."""
    return or_(*(
        and_(Venue.latitude.between(min_lat, max_lat), Venue.longitude.between(min_lon, max_lon))
        for min_lat, max_lat, min_lon, max_lon in bounding_boxes(latitude, longitude, radius_km)
    ))


def venues_within(dbsession, latitude, longitude, radius_km):
    """``[(distance_km, venue_id)]`` of active tenants' located venues
    within ``radius_km``, nearest first (ties by id)."""
    rows = dbsession.execute(
        select(Venue.id, Venue.latitude, Venue.longitude)
        .join(Tenant, Tenant.id == Venue.tenant_id)
        .where(box_condition(latitude, longitude, radius_km),
               Tenant.status == TenantStatus.ACTIVE, Tenant.deletion_requested_at.is_(None),
               Tenant.verified.is_(True))
    ).all()
    found = []
    for venue_id, lat, lon in rows:
        distance = distance_km(latitude, longitude, lat, lon)
        if distance <= radius_km:
            found.append((distance, venue_id))
    found.sort()
    return found


def search(dbsession, now, latitude, longitude, radius_km=DEFAULT_RADIUS_KM, page=1,
           page_size=PAGE_SIZE):
    """One page of the venues near the point, each with its next free slot."""
    found = venues_within(dbsession, latitude, longitude, radius_km)
    pages = max(1, -(-len(found) // page_size))
    chosen = found[(page - 1) * page_size: page * page_size]
    venues = {
        venue.id: venue for venue in dbsession.scalars(
            select(Venue).where(Venue.id.in_([venue_id for _, venue_id in chosen]))
        )
    }
    next_free = NextFreeSlots(dbsession, now).for_venues(list(venues.values()))
    return NearbyPage(
        venues=[NearbyVenue(venues[venue_id], distance, next_free.get(venue_id))
                for distance, venue_id in chosen],
        total=len(found), page=page, pages=pages,
    )


class NextFreeSlots:
    """The earliest free slot of each venue among its active resources,
    computed for many venues with a handful of queries (the same rules as
    :class:`~booking.services.availability.AvailabilityService`)."""

    def __init__(self, dbsession, now):
        self.dbsession = dbsession
        self.now = now

    def for_venues(self, venues, days=NEXT_SLOT_DAYS):
        """``{venue_id: NextSlot}`` for the venues with a free slot in ``days``."""
        if not venues:
            return {}
        resources = self.dbsession.scalars(
            select(Resource).where(Resource.venue_id.in_([v.id for v in venues]),
                                   Resource.active.is_(True))
            .order_by(Resource.venue_id, Resource.name, Resource.id)
        ).all()
        hours = self.weekly_hours([v.id for v in venues])
        found = {}
        bounds = (self.now, self.now + timedelta(days=min(days, FIRST_LOOK_DAYS)),
                  self.now + timedelta(days=days))
        for start, end in zip(bounds, bounds[1:]):
            pending = [r for r in resources if r.venue_id not in found]
            if pending and start < end:
                self.look(pending, hours, start, end, found)
        return found

    def weekly_hours(self, venue_ids):
        """``{(venue_id, resource_id or None): {weekday: [(opens, closes)]}}``."""
        rows = self.dbsession.execute(
            select(OpeningHours.venue_id, OpeningHours.resource_id, OpeningHours.weekday,
                   OpeningHours.opens_minute, OpeningHours.closes_minute)
            .where(OpeningHours.venue_id.in_(venue_ids))
        ).all()
        hours = defaultdict(lambda: defaultdict(list))
        for venue_id, resource_id, weekday, opens, closes in rows:
            hours[venue_id, resource_id][weekday].append((opens, closes))
        for by_day in hours.values():
            for ranges in by_day.values():
                ranges.sort()
        return hours

    def look(self, resources, hours, start, end, found):
        """Record in ``found`` each venue's earliest free slot starting in
        [start, end) among ``resources``."""
        ids = [r.id for r in resources]
        venue_ids = list({r.venue_id for r in resources})
        closures = defaultdict(list)
        for row in self.dbsession.execute(
            select(Closure.venue_id, Closure.resource_id, Closure.starts_at, Closure.ends_at)
            .where(Closure.venue_id.in_(venue_ids), Closure.starts_at < end + timedelta(days=1),
                   Closure.ends_at > start)
        ):
            closures[row.venue_id].append(row)
        bookings = defaultdict(list)
        for row in self.dbsession.execute(
            select(Booking.resource_id, Booking.block_start, Booking.block_end, Booking.seats,
                   Booking.status, Booking.hold_expires_at)
            .where(Booking.resource_id.in_(ids), text(ACTIVE_STATUS_SQL),
                   Booking.block_start < end + timedelta(days=1),
                   Booking.block_start > start - timedelta(minutes=2 * MAX_BLOCK_MINUTES))
        ):
            if row.status != BookingStatus.HELD or row.hold_expires_at > self.now:
                bookings[row.resource_id].append((row.block_start, row.block_end, row.seats))
        for resource in resources:
            slot = self.first_free(resource, hours, start, end, closures[resource.venue_id],
                                   Occupancy(bookings[resource.id]))
            best = found.get(resource.venue_id)
            if slot is not None and (best is None or slot.start < best.slot.start):
                found[resource.venue_id] = NextSlot(resource, slot)

    def first_free(self, resource, hours, start, end, closures, occupancy):
        zone = venue_zone(resource.venue)
        weekly = hours.get((resource.venue_id, resource.id)) or hours.get(
            (resource.venue_id, None), {})
        earliest = max(start, self.now + timedelta(minutes=resource.min_notice_minutes))
        latest = min(end, self.now + timedelta(days=resource.max_advance_days))
        if earliest > latest:
            return None
        before = timedelta(minutes=resource.buffer_before_minutes)
        after = timedelta(minutes=resource.buffer_after_minutes)
        candidates = expand_slots(
            weekly, zone, resource.slot_minutes, earliest.astimezone(zone).date(),
            latest.astimezone(zone).date(), resource.buffer_before_minutes,
            resource.buffer_after_minutes,
        )
        mine = [c for c in closures if c.resource_id in (None, resource.id)]
        for slot_start, slot_end in candidates:
            if slot_start < earliest or slot_start > latest or slot_start >= end:
                continue
            if any(c.starts_at < slot_end and c.ends_at > slot_start for c in mine):
                continue
            left = resource.capacity - occupancy.seats(slot_start - before, slot_end + after)
            if left > 0:
                return Slot(slot_start, slot_end, left)
        return None


#: Address searches per visitor's address in a window: each new address
#: may wait for the provider's one-request-per-second slot.
ADDRESS_SEARCHES, ADDRESS_SEARCH_WINDOW = 30, timedelta(minutes=10)


class AddressSearchUnavailable(DomainError):
    """The geocoder did not answer an address search."""

    status = 503
    code = "unavailable"


class TooManyAddressSearches(DomainError):
    status = 429
    code = "too_many_attempts"


class DiscoveryService:
    """The search near a place, for the site and the API.
    ``session_factory`` opens the short transactions of the address-search
    count, which is kept whatever becomes of the request's, and of the
    geocoder's cache (answers younger than ``max_age`` are reused)."""

    def __init__(self, dbsession, now, session_factory, geocoder, max_age=DEFAULT_MAX_AGE):
        self.dbsession = dbsession
        self.now = now
        self.session_factory = session_factory
        self.geocoder = geocoder
        self.max_age = max_age

    def search(self, latitude, longitude, radius_km=DEFAULT_RADIUS_KM, page=1):
        return search(self.dbsession, self.now, latitude, longitude, radius_km, page)

    @property
    def address_search_available(self):
        """Whether an address can be searched (the geocoder is not the offline one)."""
        return not self.geocoder.offline

    def locate(self, address, client_addr):
        """The :class:`~booking.adapters.maps.Place` of ``address``, searched
        for the visitor at ``client_addr`` (counted, see
        :meth:`address_search_wait`). Raises, each naming the ``address``
        field: ``ValidationError`` when there is no address search here or
        no place at this address, :class:`TooManyAddressSearches` while the
        visitor must wait, :class:`AddressSearchUnavailable` when the
        geocoder does not answer."""
        if not self.address_search_available:
            raise ValidationError(_("address search is not available here: give coordinates "
                                    "or use your location"), field="address")
        wait = self.address_search_wait(client_addr)
        if wait is not None:
            raise TooManyAddressSearches(
                _("too many address searches from your address: try again in ${minutes} "
                  "minute(s), or use your location", mapping={"minutes": wait}),
                field="address")
        try:
            place = locate(self.session_factory, self.geocoder, address, self.now, self.max_age)
        except GeocoderUnavailable:
            raise AddressSearchUnavailable(
                _("address search is not answering right now: try again in a moment, or use "
                  "your location"), field="address") from None
        if place is None:
            raise ValidationError(_("no place was found at this address"), field="address")
        return place

    def address_search_wait(self, client_addr):
        """Minutes the visitor at ``client_addr`` must wait before searching
        another address, or ``None`` (and the search is counted). Counted in
        a transaction of its own: the search itself writes nothing."""
        key = f"near-address:{client_addr}"
        with write_session(self.session_factory) as session:
            counter = WindowCounter(session, self.now, ADDRESS_SEARCH_WINDOW)
            return counter.reserve(key, ADDRESS_SEARCHES)

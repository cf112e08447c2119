"""What else to offer when a slot is taken, in three ranked groups:

- ``same_resource``: the free slots of the same resource nearest in time to
  the wanted start (before or after; on a tie the earlier first);
- ``same_venue``: the same start on similar resources of the same venue
  (same kind, active, enough capacity), closest in price first, then the
  capacity closest to the wanted resource's, then by name;
- ``other_venues``: the same start at the tenant's other venues, one
  resource per venue (ranked as above), the nearest venues first when both
  venues have coordinates, the others after them by name.

Every slot offered has at least the wanted seats left. Only the wanted
resource's tenant is ever looked at.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from ..models import Resource, Venue
from .availability import AvailabilityService
from .geocoding import distance_km
from .slots import zone_of

DEFAULT_LIMIT = 3
#: The same resource is searched from a week before to two weeks after.
DAYS_BEFORE, DAYS_AFTER = 7, 14
#: At most this many similar resources are checked per group, so that a
#: venue with hundreds of them stays cheap.
MAX_CANDIDATES = 30


@dataclass(frozen=True, slots=True)
class Alternative:
    resource: Resource
    start: object
    end: object
    seats_left: int
    distance_km: float | None = None


@dataclass
class Alternatives:
    same_resource: list = field(default_factory=list)
    same_venue: list = field(default_factory=list)
    other_venues: list = field(default_factory=list)

    def __bool__(self):
        return bool(self.same_resource or self.same_venue or self.other_venues)


class AlternativesFinder:
    def __init__(self, dbsession, now):
        self.dbsession = dbsession
        self.availability = AvailabilityService(dbsession, now)

    def find(self, resource, start, seats=1, limit=DEFAULT_LIMIT):
        """The alternatives to the taken slot of ``resource`` at ``start``.
        A flush that failed (PostgreSQL's exclusion constraint) leaves the
        session waiting for a rollback; the work of the attempt is lost
        anyway (a 409, a doomed transaction), so roll it back and read on."""
        if not self.dbsession.is_active:
            self.dbsession.rollback()
        return Alternatives(
            same_resource=self.same_resource(resource, start, seats, limit),
            same_venue=self.same_venue(resource, start, seats, limit),
            other_venues=self.other_venues(resource, start, seats, limit),
        )

    def same_resource(self, resource, start, seats, limit):
        day = start.astimezone(zone_of(resource)).date()
        slots = self.availability.free_slots(
            resource, day - timedelta(days=DAYS_BEFORE), day + timedelta(days=DAYS_AFTER)
        )
        slots = [s for s in slots if s.start != start and s.seats_left >= seats]
        slots.sort(key=lambda s: (abs(s.start - start), s.start))
        return [Alternative(resource, s.start, s.end, s.seats_left) for s in slots[:limit]]

    def similar(self, resource, seats, venue_ids):
        """Active resources of the tenant like ``resource`` in ``venue_ids``,
        best first."""
        rows = self.dbsession.scalars(
            select(Resource).where(
                Resource.tenant_id == resource.tenant_id,
                Resource.venue_id.in_(venue_ids),
                Resource.id != resource.id,
                Resource.kind == resource.kind,
                Resource.capacity >= seats,
                Resource.active.is_(True),
            )
        ).all()
        return sorted(rows, key=lambda r: (abs(r.price - resource.price),
                                           abs(r.capacity - resource.capacity), r.name, r.id))

    def free_at(self, resource, start, seats):
        """The slot of ``resource`` starting at ``start`` if ``seats`` fit."""
        day = start.astimezone(zone_of(resource)).date()
        for slot in self.availability.slots(resource, day, day):
            if slot.start == start:
                return slot if slot.seats_left >= seats else None
        return None

    def same_venue(self, resource, start, seats, limit):
        found = []
        for other in self.similar(resource, seats, [resource.venue_id])[:MAX_CANDIDATES]:
            slot = self.free_at(other, start, seats)
            if slot is not None:
                found.append(Alternative(other, slot.start, slot.end, slot.seats_left))
                if len(found) == limit:
                    break
        return found

    def other_venues(self, resource, start, seats, limit):
        here = resource.venue
        venues = self.dbsession.scalars(
            select(Venue).where(Venue.tenant_id == resource.tenant_id, Venue.id != here.id)
        ).all()
        distances = {venue.id: venue_distance(here, venue) for venue in venues}
        venues.sort(key=lambda v: (distances[v.id] is None, distances[v.id] or 0, v.name, v.id))
        by_venue = {}
        for other in self.similar(resource, seats, [v.id for v in venues]):
            by_venue.setdefault(other.venue_id, []).append(other)
        found, checked = [], 0
        for venue in venues:
            for other in by_venue.get(venue.id, []):
                if checked == MAX_CANDIDATES:
                    return found
                checked += 1
                slot = self.free_at(other, start, seats)
                if slot is not None:
                    found.append(Alternative(other, slot.start, slot.end, slot.seats_left,
                                             distances[venue.id]))
                    break
            if len(found) == limit:
                break
        return found


def venue_distance(one, other):
    """Kilometres between two venues, ``None`` unless both are located."""
    if None in (one.latitude, one.longitude, other.latitude, other.longitude):
        return None
    return distance_km(one.latitude, one.longitude, other.latitude, other.longitude)

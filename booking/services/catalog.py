"""What the tenants offer, as the public pages list it: the open tenants,
a tenant's venues with their active resources and opening hours, a
resource's popular times.

:func:`tenant_venues` and :func:`venue_resources` are also the lookups of
the traversal trees (the public tree and the staff area's), so that both
list a tenant's venues and a venue's resources the same way.
"""

from collections import defaultdict

from sqlalchemy import select

from ..models import OpeningHours, Resource, Tenant, TenantStatus, Venue
from .popularity import popular_times


def clock_text(minute):
    """``540`` → ``"09:00"``."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def tenant_venues(dbsession, tenant_id):
    """The tenant's venues, by name."""
    return dbsession.scalars(
        select(Venue).where(Venue.tenant_id == tenant_id).order_by(Venue.name, Venue.id)
    ).all()


def venue_resources(dbsession, tenant_id, venue_id, include_inactive=False):
    """The venue's resources by name: the active ones, or all of them with
    the active ones first."""
    query = select(Resource).where(Resource.venue_id == venue_id, Resource.tenant_id == tenant_id)
    if not include_inactive:
        query = query.where(Resource.active.is_(True))
    return dbsession.scalars(
        query.order_by(Resource.active.desc(), Resource.name, Resource.id)).all()


class Catalog:
    def __init__(self, dbsession, now):
        self.dbsession = dbsession
        self.now = now

    def open_tenants(self):
        """The tenants that take bookings, by name."""
        return self.dbsession.scalars(
            select(Tenant)
            .where(Tenant.status == TenantStatus.ACTIVE, Tenant.deletion_requested_at.is_(None),
                   Tenant.verified.is_(True))
            .order_by(Tenant.name)
        ).all()

    def venues(self, tenant):
        return tenant_venues(self.dbsession, tenant.id)

    def resources_by_venue(self, tenant, venues):
        """``{venue_id: [active resources by name]}`` for ``venues``."""
        by_venue = {venue.id: [] for venue in venues}
        for resource in self.dbsession.scalars(
            select(Resource)
            .where(Resource.tenant_id == tenant.id, Resource.active.is_(True))
            .order_by(Resource.name, Resource.id)
        ):
            by_venue[resource.venue_id].append(resource)
        return by_venue

    def hours_by_venue(self, tenant):
        """``{venue_id: [(weekday, [(opens, closes), ...]), ...]}``, Monday
        first, times as ``"09:00"``: the venues' default opening hours."""
        return self._hours(OpeningHours.tenant_id == tenant.id)

    def venue_hours(self, venue):
        """One venue's entry of :meth:`hours_by_venue` (``[]`` without hours)."""
        return self._hours(OpeningHours.tenant_id == venue.tenant_id,
                           OpeningHours.venue_id == venue.id).get(venue.id, [])

    def _hours(self, *conditions):
        rows = self.dbsession.execute(
            select(OpeningHours.venue_id, OpeningHours.weekday, OpeningHours.opens_minute,
                   OpeningHours.closes_minute)
            .where(*conditions, OpeningHours.resource_id.is_(None))
            .order_by(OpeningHours.weekday, OpeningHours.opens_minute)
        ).all()
        hours = defaultdict(lambda: defaultdict(list))
        for venue_id, weekday, opens, closes in rows:
            hours[venue_id][weekday].append((clock_text(opens), clock_text(closes)))
        return {venue_id: [(day, days.get(day, [])) for day in range(7)]
                for venue_id, days in hours.items()}

    def popular_times(self, resource):
        return popular_times(self.dbsession, resource, self.now)

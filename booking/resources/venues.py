from pyramid.authorization import Allow

from ..models import Venue
from ..security import Permission, manager, venue_staff
from ..services.catalog import tenant_venues
from .base import Node, scoped_row, suspension_acl
from .tenants import STAFF_GRANTS


class VenueCollection(Node):
    """``/t/{slug}/venues``: the tenant's venues."""

    __acl__ = []

    def __getitem__(self, key):
        venue = scoped_row(self.dbsession, Venue, key, tenant_id=self.tenant.id)
        return VenueContext(self, key, self.request, venue)

    def venues(self):
        """The tenant's venues, by name (the staff area lists them the same way)."""
        return tenant_venues(self.dbsession, self.tenant.id)


class VenueContext(Node):
    """``/t/{slug}/venues/{id}``. Staff scoped to this venue act here (a
    local role); managers may change its configuration."""

    def __init__(self, parent, name, request, venue):
        super().__init__(parent, name, request)
        self.venue = venue

    def __acl__(self):
        return suspension_acl(self.tenant, [
            (Allow, venue_staff(self.venue.id), STAFF_GRANTS),
            (Allow, manager(self.tenant.id), Permission.ADMIN),
        ])

    def __getitem__(self, key):
        from .bookables import ResourceCollection

        if key == "resources":
            return ResourceCollection(self, key, self.request)
        raise KeyError(key)

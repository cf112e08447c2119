"""Bookable resources (courts, rooms, classes). The module is not called
``resources.py`` to keep "traversal resource" and "bookable resource" apart."""

from pyramid.authorization import Allow, Deny, Everyone
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from ..models import Resource, Venue
from ..security import Permission, manager, owner, staff, venue_staff
from ..services.catalog import venue_resources
from .base import Node, scoped_row, suspension_acl
from .tenants import STAFF_GRANTS

P = Permission

#: Built once (every booking through the API looks its resource up), the
#: values bound per call.
TENANT_RESOURCE = select(Resource).where(
    Resource.id == bindparam("resource_id"), Resource.tenant_id == bindparam("tenant_id")
).options(
    # The venue comes in the same row; its tenant is the one traversal
    # loaded already (found in the session, no statement, no columns twice).
    joinedload(Resource.venue).lazyload(Venue.tenant)
)


class ResourceCollection(Node):
    """``/t/{slug}/venues/{id}/resources``: the venue's resources."""

    __acl__ = []

    @property
    def venue(self):
        return self.__parent__.venue

    def __getitem__(self, key):
        resource = scoped_row(self.dbsession, Resource, key, tenant_id=self.tenant.id,
                              venue_id=self.venue.id)
        return ResourceContext(self, key, self.request, resource)

    def resources(self, include_inactive=False):
        return venue_resources(self.dbsession, self.tenant.id, self.venue.id, include_inactive)


class ResourceContext(Node):
    """``…/resources/{id}``. An inactive resource is visible to its staff
    only, and bookable by nobody."""

    def __init__(self, parent, name, request, resource):
        super().__init__(parent, name, request)
        self.resource = resource

    @property
    def venue(self):
        return self.resource.venue

    def __acl__(self):
        acl = [(Allow, manager(self.tenant.id), P.ADMIN)]
        if not self.resource.active:
            staff_only = (P.VIEW, P.MANAGE)
            acl += [
                (Allow, owner(self.tenant.id), staff_only),
                (Allow, manager(self.tenant.id), staff_only),
                (Allow, staff(self.tenant.id), staff_only),
                (Allow, venue_staff(self.venue.id), staff_only),
                (Deny, Everyone, (P.VIEW, P.BOOK, P.CANCEL, P.MANAGE)),
            ]
        else:
            acl.append((Allow, venue_staff(self.venue.id), STAFF_GRANTS))
        return suspension_acl(self.tenant, acl)


def resource_context(tenant_context, resource_id):
    """The context of resource ``resource_id`` of the tenant, placed in the
    tree as traversal would place it (so its ACL is the same), or ``None``."""
    resource = tenant_context.request.dbsession.scalar(
        TENANT_RESOURCE, {"resource_id": resource_id, "tenant_id": tenant_context.tenant.id})
    if resource is None:
        return None
    return place_resource(tenant_context, resource)


def place_resource(tenant_context, resource):
    """The context of ``resource`` (of the tenant, loaded with its venue),
    placed in the tree as traversal would place it."""
    from .venues import VenueCollection, VenueContext

    request = tenant_context.request
    venues = VenueCollection(tenant_context, "venues", request)
    venue = VenueContext(venues, str(resource.venue_id), request, resource.venue)
    resources = ResourceCollection(venue, "resources", request)
    return ResourceContext(resources, str(resource.id), request, resource)

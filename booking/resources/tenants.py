from pyramid.authorization import Allow, Authenticated, Everyone
from sqlalchemy import select

from ..models import Tenant
from ..security import Permission, manager, member, owner, staff
from .base import Node, suspension_acl

P = Permission
OWNER_GRANTS = (P.VIEW, P.BOOK, P.CANCEL, P.MANAGE, P.ADMIN)
STAFF_GRANTS = (P.VIEW, P.BOOK, P.CANCEL, P.MANAGE)


class TenantCollection(Node):
    """``/t``: tenants by slug."""

    __acl__ = []

    def __getitem__(self, slug):
        tenant = self.dbsession.scalar(select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            raise KeyError(slug)
        return TenantContext(self, slug, self.request, tenant)


class TenantContext(Node):
    """``/t/{slug}``: the business, its public face and its staff's roles."""

    is_tenant = True

    def __init__(self, parent, name, request, tenant):
        super().__init__(parent, name, request)
        self._tenant = tenant

    def __acl__(self):
        tenant_id = self.tenant.id
        return suspension_acl(self.tenant) or [
            (Allow, owner(tenant_id), OWNER_GRANTS),
            (Allow, manager(tenant_id), STAFF_GRANTS),
            (Allow, staff(tenant_id), STAFF_GRANTS),
            (Allow, member(tenant_id), P.VIEW),
            (Allow, Everyone, P.VIEW),
            (Allow, Authenticated, P.BOOK),
        ]

    def __getitem__(self, key):
        from .bookings import BookingCollection
        from .manage import ManageContext
        from .venues import VenueCollection

        if key == "venues":
            return VenueCollection(self, key, self.request)
        if key == "bookings":
            return BookingCollection(self, key, self.request)
        if key == "manage":
            return ManageContext(self, key, self.request)
        raise KeyError(key)

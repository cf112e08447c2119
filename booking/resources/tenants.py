from pyramid.authorization import DENY_ALL, Allow, Authenticated, Everyone
from sqlalchemy import bindparam, select

from ..models import Tenant
from ..security import Permission, manager, member, owner, staff
from ..services.tenants import is_open
from .base import Node, suspension_acl

P = Permission
OWNER_GRANTS = (P.VIEW, P.BOOK, P.CANCEL, P.MANAGE, P.ADMIN)
STAFF_GRANTS = (P.VIEW, P.BOOK, P.CANCEL, P.MANAGE)

#: Every request under ``/t/`` runs it: built once, the slug bound per call
#: (building a statement costs SQLAlchemy more than running it).
TENANT_BY_SLUG = select(Tenant).where(Tenant.slug == bindparam("slug"))


class TenantCollection(Node):
    """``/t``: tenants by slug."""

    __acl__ = []

    def __getitem__(self, slug):
        tenant = self.dbsession.scalar(TENANT_BY_SLUG, {"slug": slug})
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
        tenant = self.tenant
        acl = suspension_acl(tenant, [
            (Allow, owner(tenant.id), OWNER_GRANTS),
            (Allow, manager(tenant.id), STAFF_GRANTS),
            (Allow, staff(tenant.id), STAFF_GRANTS),
            (Allow, member(tenant.id), P.VIEW),
            (Allow, Everyone, P.VIEW),
            (Allow, Authenticated, P.BOOK),
        ])
        # A closed tenant inherits nothing: what it grants is all there is.
        return acl if is_open(tenant) else acl + [DENY_ALL]

    def __getitem__(self, key):
        from .bookings import BookingCollection
        from .manage import ManageContext
        from .promotions import OfferCollection, PromoCodeCollection, PromotionsContext
        from .venues import VenueCollection
        from .vouchers import VoucherCollection

        if key == "venues":
            return VenueCollection(self, key, self.request)
        if key == "bookings":
            return BookingCollection(self, key, self.request)
        if key == "manage":
            return ManageContext(self, key, self.request)
        if key == "vouchers":
            return VoucherCollection(self, key, self.request)
        # The promotions' API (the staff pages have them below ``manage``).
        promotions = {"offers": OfferCollection, "codes": PromoCodeCollection,
                      "promotions": PromotionsContext}
        if key in promotions:
            return promotions[key](self, key, self.request)
        raise KeyError(key)

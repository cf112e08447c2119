"""A tenant's promotions: its automatic offers, its promo codes and their
report. The same nodes hang below the staff area (``/t/{slug}/manage/
offers``, the HTML pages) and below the tenant (``/api/v1/t/{slug}/offers``,
the API); the views tell the two places apart by containment.

Owners and managers run promotions; the tenant's other members (staff,
venue staff) may see that the place exists and are refused (403), as on
the staff area's configuration pages; anybody else finds nothing (404).
While the tenant is closed, nobody changes them.
"""

from pyramid.authorization import DENY_ALL, Allow

from ..models import Offer, PromoCode
from ..security import Permission, manager, member, owner
from .base import StaffNode, scoped_row, suspension_acl

P = Permission
CONFIGURE = (P.VIEW, P.MANAGE, P.ADMIN)


def promotions_acl(tenant):
    return suspension_acl(tenant, [
        (Allow, owner(tenant.id), CONFIGURE),
        (Allow, manager(tenant.id), CONFIGURE),
        (Allow, member(tenant.id), P.VIEW),
        DENY_ALL,
    ])


class PromotionsNode(StaffNode):
    def __acl__(self):
        return promotions_acl(self.tenant)


class OfferCollection(PromotionsNode):
    """``…/offers``: the tenant's automatic offers; ``{id}`` is one of them."""

    def __getitem__(self, key):
        offer = scoped_row(self.dbsession, Offer, key, tenant_id=self.tenant.id)
        return OfferContext(self, key, self.request, offer)


class OfferContext(StaffNode):
    """One offer: ``pause``, ``resume``, ``end``."""

    __acl__ = []

    def __init__(self, parent, name, request, offer):
        super().__init__(parent, name, request)
        self.offer = offer


class PromoCodeCollection(PromotionsNode):
    """``…/codes``: the tenant's promo codes; ``{id}`` is one of them."""

    def __getitem__(self, key):
        code = scoped_row(self.dbsession, PromoCode, key, tenant_id=self.tenant.id)
        return PromoCodeContext(self, key, self.request, code)


class PromoCodeContext(StaffNode):
    """One promo code: ``pause``, ``resume``, ``end``."""

    __acl__ = []

    def __init__(self, parent, name, request, code):
        super().__init__(parent, name, request)
        self.code = code


class PromotionsContext(PromotionsNode):
    """``…/promotions``: the ``report`` of offers and codes over a period."""

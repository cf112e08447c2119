"""``/t/{slug}/vouchers``: gift vouchers. On the site, anyone sees the
page (buy one, check a code's balance) and a signed-in customer buys; in
the API (``/api/v1/t/{slug}/vouchers``) owners and managers list, issue,
read and void them. A voucher itself (``…/vouchers/{id}``) is theirs only:
anyone else is told it is not there."""

from pyramid.authorization import DENY_ALL, Allow, Authenticated, Everyone

from ..models import Voucher
from ..security import Permission, manager, owner
from .base import Node, scoped_row, suspension_acl

P = Permission
CONFIGURE = (P.VIEW, P.MANAGE, P.ADMIN)


def voucher_staff_acl(tenant, *public):
    """Owners and managers run the vouchers; ``public`` grants come after."""
    return suspension_acl(tenant, [
        (Allow, owner(tenant.id), CONFIGURE),
        (Allow, manager(tenant.id), CONFIGURE),
        *public,
        DENY_ALL,
    ])


class VoucherCollection(Node):
    def __acl__(self):
        return voucher_staff_acl(self.tenant, (Allow, Everyone, P.VIEW),
                                 (Allow, Authenticated, P.BOOK))

    def __getitem__(self, key):
        voucher = scoped_row(self.dbsession, Voucher, key, tenant_id=self.tenant.id)
        return VoucherContext(self, key, self.request, voucher)


class VoucherContext(Node):
    def __init__(self, parent, name, request, voucher):
        super().__init__(parent, name, request)
        self.voucher = voucher

    def __acl__(self):
        return voucher_staff_acl(self.tenant)

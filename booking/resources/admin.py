"""``/admin/``: the platform's administration. Only platform administrators
(the ``platform:admin`` principal, from ``users.is_platform_admin``) are let
in; to everybody else, tenant owners included, it does not exist (404).

The grant sits on this context, not on the root: a platform administrator
runs the platform (tenants, the audit log) and does not inherit any right
inside a tenant's tree."""

from pyramid.authorization import DENY_ALL, Allow
from sqlalchemy import select

from ..models import Tenant
from ..security import PLATFORM_ADMIN, Permission
from .base import Node


class AdminNode(Node):
    """A place in ``/admin/``: always behind a second factor
    (``booking.second_factor``)."""

    second_factor_required = True


class AdminContext(AdminNode):
    """``/admin/``: the tenants (search, sizes); ``audit`` the log of every
    tenant; ``tenants/{slug}/…`` acts on one tenant."""

    __acl__ = [(Allow, PLATFORM_ADMIN, (Permission.VIEW, Permission.ADMIN)), DENY_ALL]

    def __getitem__(self, key):
        if key == "tenants":
            return AdminTenants(self, key, self.request)
        raise KeyError(key)


class AdminTenants(AdminNode):
    """``/admin/tenants``: tenants by slug."""

    __acl__ = []

    def __getitem__(self, slug):
        tenant = self.dbsession.scalar(select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            raise KeyError(slug)
        return AdminTenant(self, slug, self.request, tenant)


class AdminTenant(AdminNode):
    """``/admin/tenants/{slug}``: suspend or reactivate it."""

    __acl__ = []

    def __init__(self, parent, name, request, tenant):
        super().__init__(parent, name, request)
        self.row = tenant

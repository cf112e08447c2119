"""Building blocks of the traversal tree.

A *collection* looks its children up with a query scoped to its parent (the
tenant, the venue) and turns a miss into ``KeyError``, which Pyramid answers
with 404: a row of another tenant is never reachable through the tree.
"""

from pyramid.authorization import DENY_ALL, Allow, Authenticated, Deny, Everyone
from sqlalchemy import select

from ..security import Permission
from ..services.tenants import is_open


class Node:
    """A location in the tree: ``__name__``, ``__parent__`` and the request."""

    def __init__(self, parent, name, request):
        self.__parent__ = parent
        self.__name__ = name
        self.request = request

    @property
    def dbsession(self):
        return self.request.dbsession

    @property
    def tenant_context(self):
        node = self
        while node is not None:
            if getattr(node, "is_tenant", False):
                return node
            node = node.__parent__
        return None

    @property
    def tenant(self):
        """The tenant this node belongs to (a ``Tenant`` row)."""
        return self.tenant_context._tenant


class StaffNode(Node):
    """A place in the staff area: an anonymous visitor is asked to sign in;
    where the tenant requires it, a member is asked for a second factor
    (``booking.second_factor``)."""

    requires_sign_in = True

    @property
    def second_factor_required(self):
        return self.tenant.require_mfa


def object_id(key):
    """Turn a path segment into a row id, or raise ``KeyError`` (404)."""
    if not (key.isascii() and key.isdigit()) or len(key) > 9:
        raise KeyError(key)
    return int(key)


#: What each kind of principal keeps while its tenant is closed.
STAFF_PREFIXES = ("tenant:", "venue:")
READ_ONLY = (Permission.VIEW,)
CUSTOMER_KEEPS = (Permission.VIEW, Permission.CANCEL)


def _kept(principal):
    if principal.startswith(STAFF_PREFIXES) or principal == Authenticated:
        return READ_ONLY
    if principal.startswith("user:"):
        return CUSTOMER_KEEPS
    return ()  # Everyone: the public sees nothing (404)


def suspension_acl(tenant, acl):
    """``acl`` as it applies under ``tenant``. While the tenant is closed
    (suspended by the platform, or its deletion requested) the grants shrink:
    its members (owners, managers, staff, venue staff) keep only ``view``, so
    the tree and the staff area are read-only to them; signed-in users keep
    ``view`` (their own bookings' list); a booking's customer keeps ``view``
    and ``cancel``; the public keeps nothing. Nobody books, manages or
    configures. Deny entries stay as they are."""
    if is_open(tenant):
        return list(acl)
    closed = []
    for ace in acl:
        action, principal, permissions = ace
        if action == Deny:
            closed.append(ace)
            continue
        granted = {permissions} if isinstance(permissions, str) else set(permissions)
        kept = tuple(p for p in _kept(principal) if p in granted)
        if kept:
            closed.append((Allow, principal, kept))
    return closed


def scoped_row(dbsession, model, key, **scope):
    """The row of ``model`` whose id is the path segment ``key`` and whose
    columns match ``scope`` (its tenant, its venue), or ``KeyError`` (404).
    Every lookup of the tree goes through here, so none forgets the tenant."""
    query = select(model).where(model.id == object_id(key))
    for column, value in scope.items():
        query = query.where(getattr(model, column) == value)
    row = dbsession.scalar(query)
    if row is None:
        raise KeyError(key)
    return row


class SecretLink:
    """A context reached by a secret in the URL (a calendar feed, an
    invitation): holding the secret is the authorization, so everybody may
    ``view`` it; the collection finds it by the secret's SHA-256 digest."""

    __acl__ = [(Allow, Everyone, Permission.VIEW), DENY_ALL]

    def __init__(self, parent, name, row):
        self.__parent__ = parent
        self.__name__ = name
        self.row = row

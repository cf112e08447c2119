"""Building blocks of the traversal tree.

A *collection* looks its children up with a query scoped to its parent (the
tenant, the venue) and turns a miss into ``KeyError``, which Pyramid answers
with 404: a row of another tenant is never reachable through the tree.
"""

from pyramid.authorization import DENY_ALL, Allow, Everyone
from sqlalchemy import select

from ..security import Permission, owner


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


def object_id(key):
    """Turn a path segment into a row id, or raise ``KeyError`` (404)."""
    if not (key.isascii() and key.isdigit()) or len(key) > 9:
        raise KeyError(key)
    return int(key)


def suspension_acl(tenant):
    """A suspended tenant denies everything but ``view`` to its owners. Every
    context below a tenant starts its ACL with this, because a child's own
    grants are read before its parent's."""
    if tenant.is_active:
        return None
    return [(Allow, owner(tenant.id), Permission.VIEW), DENY_ALL]


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

"""The staff area (``/t/{slug}/manage/…``). Every view declares its
permission; the tree's ACLs (``booking.resources.manage``) decide who has
it. Templates extend ``manage/layout.jinja2``, whose navigation shows only
what the requester may open."""

from pyramid.renderers import render_to_response

from ...resources.manage import ManageContext
from ...security import Permission


def manage_context(context):
    """The ``ManageContext`` above ``context`` (or ``context`` itself)."""
    node = context
    while node is not None and not isinstance(node, ManageContext):
        node = node.__parent__
    return node


class ManageView:
    """Base of the staff views: the tenant, the staff area's root, the
    signed-in user, pages with the area's navigation."""

    def __init__(self, context, request):
        self.context = context
        self.request = request
        self.tenant = context.tenant
        self.manage = manage_context(context)

    @property
    def user(self):
        return self.request.identity.user

    def url(self, *elements, **kw):
        """A URL below the staff area: ``self.url("bookings", "new")``."""
        return self.request.resource_url(self.manage, *elements, **kw)

    def page(self, template, status=200, **data):
        request = self.request
        data = {
            "tenant": self.tenant,
            "manage": self.manage,
            "venues": self.manage.venues(),
            "can_configure": request.has_permission(Permission.ADMIN, self.manage),
            "sees_people": request.has_permission(Permission.VIEW, self.manage["people"]),
            **data,
        }
        response = render_to_response(template, data, request=request)
        response.status_int = status
        return response

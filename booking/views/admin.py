"""``/admin/``: the platform administrators' pages: the tenants (search,
size, suspend, reactivate) and the audit log of every tenant. The context's
ACL lets only platform administrators in; to anybody else it is a 404."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config, view_defaults
from ..i18n import _
from ..resources import AdminContext, AdminTenant
from ..security import Permission
from ..services import tenants
from ..services.platform import PlatformService
from .forms import integer, optional, query, string

TENANTS_PER_PAGE = 50
AUDIT_PER_PAGE = 50
MAX_PAGE = 100_000


def page_number(request, fields):
    """The clean query string (``page`` from 1) with ``fields`` besides."""
    return query(request, {"page": optional(integer(minimum=1, maximum=MAX_PAGE,
                                                    from_text=True), default=1),
                           **fields})


def pages(total, per_page):
    return max(1, -(-total // per_page))


@view_defaults(context=AdminContext, permission=Permission.VIEW)
class AdminPages:
    def __init__(self, context, request):
        self.context = context
        self.request = request

    @view_config(request_method="GET", renderer="admin/tenants.jinja2")
    def tenants(self):
        request = self.request
        params = page_number(request, {"q": optional(string(200), default="")})
        platform = request.find_service(PlatformService)
        rows, total = platform.tenants(params["q"], limit=TENANTS_PER_PAGE,
                                       offset=(params["page"] - 1) * TENANTS_PER_PAGE)
        return {
            "tenants": rows, "total": total, "q": params["q"], "page": params["page"],
            "pages": pages(total, TENANTS_PER_PAGE),
            "sizes": platform.sizes([t.id for t in rows]),
            "recent_days": tenants.RECENT_DAYS,
        }

    @view_config(name="audit", request_method="GET", renderer="admin/audit.jinja2")
    def audit(self):
        request = self.request
        params = page_number(request, {"tenant": optional(string(40), default="")})
        entries, total = request.find_service(PlatformService).audit_log(
            params["tenant"], limit=AUDIT_PER_PAGE, offset=(params["page"] - 1) * AUDIT_PER_PAGE)
        return {"entries": entries, "tenant": params["tenant"], "page": params["page"],
                "pages": pages(total, AUDIT_PER_PAGE), "total": total}


@view_defaults(context=AdminTenant, request_method="POST", permission=Permission.ADMIN)
class AdminTenantActions:
    def __init__(self, context, request):
        self.context = context
        self.request = request

    def done(self, message):
        request = self.request
        request.session.flash(request.translate(message))
        return HTTPSeeOther(request.resource_url(request.root, "admin", "",
                                                 query={"q": self.context.row.slug}))

    @view_config(name="suspend")
    def suspend(self):
        tenant = self.context.row
        self.request.find_service(PlatformService).suspend(tenant,
                                                           self.request.identity.user.id)
        return self.done(_("${tenant} is suspended.", mapping={"tenant": tenant.slug}))

    @view_config(name="reactivate")
    def reactivate(self):
        tenant = self.context.row
        self.request.find_service(PlatformService).reactivate(tenant,
                                                              self.request.identity.user.id)
        return self.done(_("${tenant} is active again.", mapping={"tenant": tenant.slug}))

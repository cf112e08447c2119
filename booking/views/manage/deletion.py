"""``/t/{slug}/manage/deletion``: an owner deletes the business. The request
(the business's name typed again, to confirm) closes it at once; the worker
purges it with everything it owns once ``booking.tenant_deletion_grace_days``
have passed. Until then an owner may cancel the deletion."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config, view_defaults

from ...i18n import _
from ...resources.manage import Deletion
from ...security import Permission
from ...services.business import BusinessService
from ..auth import form_text
from . import ManageView
from .dashboard import purge_day


@view_defaults(context=Deletion)
class DeletionView(ManageView):
    def show(self, errors=None, status=200):
        tenant = self.tenant
        return self.page(
            "manage/deletion.jinja2", status=status, errors=errors or {},
            purge_day=purge_day(self.request, tenant) if tenant.deletion_requested_at else None,
            grace_days=self.business.grace_days)

    @property
    def business(self):
        return self.request.find_service(BusinessService)

    @view_config(request_method="GET", permission=Permission.VIEW)
    def get(self):
        return self.show()

    @view_config(request_method="POST", permission=Permission.ADMIN)
    def request_deletion(self):
        typed = form_text(self.request, "confirm_name", 400).strip()
        if typed != self.tenant.name.strip():
            return self.show({"confirm_name": _("does not match the name of the business")},
                             status=400)
        self.business.request_deletion(self.tenant, self.user.id)
        self.request.session.flash(self.request.translate(_(
            "${business} is closed and will be deleted on ${date}.",
            mapping={"business": self.tenant.name,
                     "date": self.request.format.date(purge_day(self.request, self.tenant))})))
        return HTTPSeeOther(self.request.resource_url(self.context))

    @view_config(name="cancel", request_method="POST", permission=Permission.ADMIN)
    def cancel(self):
        self.business.cancel_deletion(self.tenant, self.user.id)
        self.request.session.flash(self.request.translate(_(
            "The deletion is cancelled: ${business} is open again.",
            mapping={"business": self.tenant.name})))
        return HTTPSeeOther(self.url())

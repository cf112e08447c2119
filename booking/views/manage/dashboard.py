"""``/t/{slug}/manage/``: the staff dashboard, one section per venue the
requester works at; for those who configure a business not fully set up,
the setup checklist; while the business is closed, why."""

from babel.numbers import format_percent
from pyramid.view import view_config

from ...i18n import _
from ...resources.manage import ManageContext
from ...security import Permission
from ...services.business import BusinessService
from ...services.dashboard import Dashboard
from . import ManageView


def purge_day(request, tenant):
    """The tenant's local day on which its pending deletion happens."""
    return request.find_service(BusinessService).purge_day(tenant)


class DashboardView(ManageView):
    @view_config(context=ManageContext, request_method="GET", permission=Permission.VIEW)
    def show(self):
        request = self.request
        days = request.find_service(Dashboard).venue_days(self.tenant, self.manage.venues())
        return self.page("manage/dashboard.jinja2", days=days, percent=self.percent,
                         checklist=self.checklist(), deletion=self.deletion())

    def percent(self, ratio):
        return format_percent(ratio, locale=self.request.locale_name)

    def checklist(self):
        """``[(label, url, done)]`` for those who configure, until every
        step is done; otherwise ``None``."""
        if not self.request.has_permission(Permission.ADMIN, self.manage):
            return None
        state = self.request.find_service(Dashboard).setup_state(self.tenant)
        if state.complete:
            return None
        venue = state.venue_id
        urls = {
            "venue": self.url("venues", "new"),
            "resource": (self.url("venues", str(venue), "resources", "new") if venue
                         else self.url("venues", "new")),
            "hours": self.url("venues", str(venue), "hours") if venue else self.url("venues", "new"),
            "team": self.url("people", ""),
            "payments": self.url("settings"),
        }
        labels = {
            "venue": _("Add a venue: where your customers come"),
            "resource": _("Add a resource: a court, a room, a table, a class…"),
            "hours": _("Set opening hours: a resource with hours can be booked"),
            "team": _("Invite your staff"),
            "payments": _("Choose how customers pay and your refund policy"),
        }
        return [(labels[step], urls[step], done) for step, done in state.done.items()]

    def deletion(self):
        """When the business will be purged, for its owners; else ``None``."""
        tenant = self.tenant
        place = self.manage["deletion"]
        if tenant.deletion_requested_at is None or not self.request.has_permission(
                Permission.ADMIN, place):
            return None
        return {"date": purge_day(self.request, tenant), "url": self.request.resource_url(place)}

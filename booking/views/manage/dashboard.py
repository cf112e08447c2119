"""``/t/{slug}/manage/``: the staff dashboard, one section per venue the
requester works at."""

from babel.numbers import format_percent
from pyramid.view import view_config

from ...resources.manage import ManageContext
from ...security import Permission
from ...services.dashboard import Dashboard
from . import ManageView


class DashboardView(ManageView):
    @view_config(context=ManageContext, request_method="GET", permission=Permission.MANAGE)
    def show(self):
        request = self.request
        days = Dashboard(request.dbsession, request.now).venue_days(
            self.tenant, self.manage.venues()
        )
        return self.page("manage/dashboard.jinja2", days=days, percent=self.percent)

    def percent(self, ratio):
        return format_percent(ratio, locale=self.request.locale_name)

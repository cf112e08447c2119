"""The staff calendar of a venue (``/t/{slug}/manage/venues/{id}/``): a day
or a week of its resources side by side, with bookings, free slots and
closures. The data comes from :mod:`booking.services.staff_calendar`."""

from pyramid.view import view_config

from ...i18n import _
from ...resources.manage import ManagedVenue
from ...security import Permission
from ...services.staff_calendar import StaffCalendarService, venue_zone
from ..forms import day, optional, parse
from . import ManageView

VIEWS = ("day", "week")


def calendar_view(value):
    """``day`` or ``week``."""
    if value not in VIEWS:
        raise ValueError(_("must be day or week"))
    return value


class VenueCalendar(ManageView):
    @view_config(context=ManagedVenue, request_method="GET", permission=Permission.VIEW)
    def calendar(self):
        request = self.request
        # An empty field (the date picker left blank) means its default.
        given = {key: value for key, value in request.GET.items() if value.strip()}
        clean = parse(given, {"view": optional(calendar_view, default="day"),
                              "date": optional(day)})
        venue = self.context.venue
        shown = clean["date"] or request.now.astimezone(venue_zone(venue)).date()
        calendar = request.find_service(StaffCalendarService).calendar(venue, shown,
                                                                       clean["view"])
        return self.page("manage/calendar/calendar.jinja2", venue=venue, calendar=calendar,
                         calendar_url=request.resource_url(self.context))

"""Weekly opening hours in the staff area: the venue's default
(``/manage/venues/{id}/hours``) and a resource's own
(``…/resources/{rid}/hours``), one text field per weekday. A resource with
hours of its own uses only those; "the venue's hours" removes them."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ...i18n import _
from ...resources.manage import ManagedResource, ManagedVenue
from ...security import Permission
from ...services.schedule import WEEKDAYS, ScheduleService, week_texts
from . import ManageView
from .forms import parse_week

VENUE, OWN = "venue", "own"


class HoursPages(ManageView):
    @property
    def venue(self):
        return self.context.venue

    @property
    def resource(self):
        return getattr(self.context, "resource", None)

    @property
    def schedule(self):
        return self.request.find_service(ScheduleService)

    def zone_name(self):
        return self.venue.time_zone or self.tenant.time_zone

    def form_page(self, texts, source, errors=None, status=200):
        venue_hours = self.schedule.hours(self.venue)
        return self.page(
            "manage/hours/edit.jinja2", status=status, venue=self.venue, resource=self.resource,
            texts=texts, source=source, errors=errors or {}, weekdays=WEEKDAYS,
            zone_name=self.zone_name(), venue_texts=week_texts(venue_hours),
        )

    @view_config(context=ManagedVenue, name="hours", request_method="GET",
                 permission=Permission.ADMIN)
    @view_config(context=ManagedResource, name="hours", request_method="GET",
                 permission=Permission.ADMIN)
    def show(self):
        schedule = self.schedule
        own = schedule.hours(self.venue, self.resource) if self.resource else None
        if self.resource is not None and not own:
            return self.form_page(week_texts(schedule.hours(self.venue)), VENUE)
        return self.form_page(week_texts(own or schedule.hours(self.venue)), OWN)

    @view_config(context=ManagedVenue, name="hours", request_method="POST",
                 permission=Permission.ADMIN)
    @view_config(context=ManagedResource, name="hours", request_method="POST",
                 permission=Permission.ADMIN)
    def save(self):
        request, resource = self.request, self.resource
        source = request.POST.get("source", OWN) if resource is not None else OWN
        hours, errors = ({}, {}) if source == VENUE else parse_week(request.POST)
        if source not in (VENUE, OWN):
            errors["source"] = _("is not one of the choices offered")
        elif source == OWN and resource is not None and not hours and not errors:
            errors[WEEKDAYS[0]] = _(
                "give this resource at least one opening range, or choose the venue's hours "
                "(to stop its bookings, deactivate it)")
        if errors:
            texts = {field: request.POST.get(field, "") for field in WEEKDAYS}
            return self.form_page(texts, source, errors, status=400)
        self.schedule.replace_hours(self.venue, resource, hours, actor_id=self.user.id)
        if resource is None:
            message = _("The opening hours of ${venue} are saved.",
                        mapping={"venue": self.venue.name})
        elif source == VENUE:
            message = _("${name} follows the venue's opening hours.",
                        mapping={"name": resource.name})
        else:
            message = _("${name} has its own opening hours.", mapping={"name": resource.name})
        request.session.flash(request.translate(message))
        return HTTPSeeOther(request.resource_url(self.context, "hours"))

"""A venue's resources in the staff area: the list, a new one, the edit
form, deactivate and activate. Configuration: owners and managers only."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ...i18n import _
from ...models import ResourceKind
from ...resources.manage import ManagedResource, ManagedResources
from ...security import Permission
from ...services.errors import ValidationError
from ...services.schedule import ScheduleService
from . import ManageView
from .forms import parse_resource, resource_form_values

KIND_LABELS = {
    ResourceKind.ROOM: _("Room"), ResourceKind.COURT: _("Court"), ResourceKind.TABLE: _("Table"),
    ResourceKind.CLASS: _("Class (seats)"), ResourceKind.APPOINTMENT: _("Appointment"),
}
NEW_RESOURCE = {"name": "", "kind": ResourceKind.ROOM, "description": "", "capacity": 1,
                "slot_minutes": 60, "buffer_before_minutes": 0, "buffer_after_minutes": 0,
                "min_notice_minutes": 60, "max_advance_days": 90, "price": "0.00"}


class ResourceView(ManageView):
    @property
    def venue(self):
        return self.context.venue

    @property
    def schedule(self):
        return self.request.find_service(ScheduleService)

    def form_page(self, values, errors=None, status=200, resource=None):
        future = self.schedule.future_bookings(resource) if resource else 0
        return self.page("manage/resources/form.jinja2", status=status, venue=self.venue,
                         resource=resource, values=values, errors=errors or {},
                         kinds=KIND_LABELS, future_bookings=future)

    def typed(self):
        """The visitor's input, as typed, for the form shown again."""
        return {field: self.request.POST.get(field, "") for field in NEW_RESOURCE}

    def list_url(self):
        return self.url("venues", self.venue.id, "resources", "")


class ResourcePages(ResourceView):
    @view_config(context=ManagedResources, request_method="GET", permission=Permission.ADMIN)
    def index(self):
        resources = self.context.resources()
        own_hours = self.schedule.resources_with_own_hours(self.venue)
        return self.page("manage/resources/index.jinja2", venue=self.venue,
                         resources=resources, own_hours=own_hours, kinds=KIND_LABELS)

    @view_config(context=ManagedResources, name="new", request_method="GET",
                 permission=Permission.ADMIN)
    def new(self):
        return self.form_page(dict(NEW_RESOURCE))

    @view_config(context=ManagedResources, name="new", request_method="POST",
                 permission=Permission.ADMIN)
    def create(self):
        request = self.request
        values, errors = parse_resource(request.POST)
        if errors:
            return self.form_page(self.typed(), errors, status=400)
        resource = self.schedule.create_resource(self.venue, values, self.user.id)
        request.session.flash(request.translate(_(
            "${name} is created. It follows the venue's opening hours unless you give it "
            "its own.", mapping={"name": resource.name})))
        return HTTPSeeOther(self.list_url())


class OneResourcePages(ResourceView):
    @property
    def resource(self):
        return self.context.resource

    @view_config(context=ManagedResource, request_method="GET", permission=Permission.ADMIN)
    def edit(self):
        return self.form_page(resource_form_values(self.resource), resource=self.resource)

    @view_config(context=ManagedResource, request_method="POST", permission=Permission.ADMIN)
    def update(self):
        request = self.request
        values, errors = parse_resource(request.POST)
        if not errors:
            try:
                self.schedule.update_resource(self.resource, values, self.user.id)
            except ValidationError as exc:
                request.tm.doom()  # nothing of this attempt is kept
                errors = {exc.field: exc.message}
        if errors:
            return self.form_page(self.typed(), errors, status=400, resource=self.resource)
        request.session.flash(request.translate(_("${name} is saved.",
                                                  mapping={"name": self.resource.name})))
        return HTTPSeeOther(self.list_url())

    @view_config(context=ManagedResource, name="deactivate", request_method="POST",
                 permission=Permission.ADMIN)
    def deactivate(self):
        return self.set_active(False)

    @view_config(context=ManagedResource, name="activate", request_method="POST",
                 permission=Permission.ADMIN)
    def activate(self):
        return self.set_active(True)

    def set_active(self, active):
        request, resource = self.request, self.resource
        mapping = {"name": resource.name,
                   "count": self.schedule.set_active(resource, active, self.user.id)}
        if active:
            message = _("${name} takes bookings again.", mapping=mapping)
        elif mapping["count"]:
            message = _("${name} takes no more bookings. Its ${count} future booking(s) are "
                        "kept: cancel them from the bookings list if they cannot take place.",
                        mapping=mapping)
        else:
            message = _("${name} takes no more bookings.", mapping=mapping)
        request.session.flash(request.translate(message))
        return HTTPSeeOther(self.list_url())


"""A venue's closures in the staff area: the current and future ones, a
form to add one (the whole venue or one resource, local times in the
venue's zone) and delete buttons.

A closure over active bookings is not created at once: a confirmation page
lists them and asks whether to cancel them or keep them. Bookings cancelled
by a closure are recorded in the audit log (``booking.cancelled``) with the
closure's reason as the reason ("closure" when it has none), and the
closure's own audit row lists them; their customers are emailed. The
closure is one use case of :class:`~booking.services.schedule.ScheduleService`.
"""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ...i18n import _
from ...resources.manage import ManagedClosure, ManagedClosures
from ...security import Permission
from ...services.schedule import ScheduleService
from ...services.slots import venue_zone
from . import ManageView
from .forms import parse_closure

FORM_FIELDS = ("scope", "starts_at", "ends_at", "reason")
CANCEL, KEEP = "cancel", "keep"


class ClosurePages(ManageView):
    @property
    def venue(self):
        return self.closures_node().venue

    @property
    def zone(self):
        return venue_zone(self.venue)

    @property
    def schedule(self):
        return self.request.find_service(ScheduleService)

    def resources(self):
        return self.schedule.venue_resources(self.venue)

    def list_url(self):
        return self.request.resource_url(self.closures_node())

    def closures_node(self):
        node = self.context
        return node if isinstance(node, ManagedClosures) else node.__parent__

    def index_page(self, values=None, errors=None, status=200):
        resources = self.resources()
        closures = self.schedule.current_closures(self.venue)
        return self.page(
            "manage/closures/index.jinja2", status=status, venue=self.venue, zone=self.zone,
            closures=closures, resources=resources, names={r.id: r.name for r in resources},
            values=values or {"scope": "venue"}, errors=errors or {},
        )

    @view_config(context=ManagedClosures, request_method="GET", permission=Permission.ADMIN)
    def index(self):
        return self.index_page()

    @view_config(context=ManagedClosures, request_method="POST", permission=Permission.ADMIN)
    def create(self):
        request = self.request
        typed = {field: request.POST.get(field, "") for field in FORM_FIELDS}
        values, errors = parse_closure(request.POST, self.zone, self.resources(), request.now)
        decision = request.POST.get("decision")
        if decision not in (None, CANCEL, KEEP):
            errors["decision"] = _("is not one of the choices offered")
        if errors:
            return self.index_page(typed, errors, status=400)
        schedule = self.schedule
        covered = schedule.covered_bookings(self.venue, values["resource"],
                                            values["starts_at"], values["ends_at"])
        shown = request.POST.get("covered", "")
        current = ",".join(str(booking.id) for booking in covered)
        if covered and (decision is None or shown != current):
            return self.page(
                "manage/closures/confirm.jinja2", venue=self.venue, zone=self.zone,
                values=values, typed=typed, bookings=covered, covered=current,
                changed=decision is not None,
            )
        cancel = decision == CANCEL
        schedule.close_period(self.tenant, self.venue, values, covered, cancel=cancel,
                              actor_id=self.user.id)
        if covered and cancel:
            message = _("The closure is added and ${count} booking(s) are cancelled.",
                        mapping={"count": len(covered)})
        elif covered:
            message = _("The closure is added; its ${count} booking(s) are kept.",
                        mapping={"count": len(covered)})
        else:
            message = _("The closure is added.")
        request.session.flash(request.translate(message))
        return HTTPSeeOther(self.list_url())

    @view_config(context=ManagedClosure, name="delete", request_method="POST",
                 permission=Permission.ADMIN)
    def delete(self):
        request = self.request
        self.schedule.delete_closure(self.context.closure, self.user.id)
        request.session.flash(request.translate(_("The closure is deleted.")))
        return HTTPSeeOther(self.list_url())

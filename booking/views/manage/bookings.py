"""The staff bookings section: the list of the requester's venues (and its
CSV export), booking for a walk-in or phone customer, and one booking with
its history, its payments and the front-desk actions (confirm, check in,
no-show, cancel, move, refund). Every change is a use case of
:class:`~booking.services.actions.BookingActions`, the one the site and the
API call too; what is shown comes from
:class:`~booking.services.queries.BookingQueries`."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config, view_defaults

from ...i18n import _
from ...models import BookingStatus
from ...resources.manage import ManagedBooking, ManagedBookings
from ...security import Permission
from ...services.actions import BookingActions
from ...services.booking import BookingRequest
from ...services.customers import customer_email
from ...services.errors import DomainError
from ...services.queries import BookingFilter, BookingQueries
from ...services.slots import zone_of
from ..forms import Field, day, instant, integer, line, optional, parse_form, string
from . import ManageView
from .payments import CANCEL_REFUNDS, refund_fields

PAGE_SIZE = 100
#: The list shows a week unless asked; at most a year at once.
DEFAULT_DAYS, MAX_DAYS = 7, 366
CSV_LIMIT = 50_000
#: Service fields named as the forms name them.
FORM_FIELD = {"start": "when", "resource_id": "resource"}


def choice(choices):
    """One of ``choices``."""

    def parse_choice(value):
        if value not in choices:
            raise ValueError(_("must be one of ${choices}",
                               mapping={"choices": ", ".join(choices)}))
        return value

    return parse_choice


def local_datetime(value):
    """A ``datetime-local`` value, YYYY-MM-DDTHH:MM: a wall time."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(_("must be a date and time, YYYY-MM-DDTHH:MM")) from None
    if parsed.tzinfo is not None:
        raise ValueError(_("must be a local date and time, without a UTC offset"))
    return parsed


def email_address(value):
    """An email address, normalized as accounts store it."""
    try:
        return customer_email(value)
    except DomainError as exc:
        raise ValueError(exc.message) from None


def wall_to_instant(wall, zone):
    """The one instant of wall time ``wall`` in ``zone``; a ValueError when
    the clocks skip it or show it twice."""
    first, second = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
            raise ValueError(_("does not exist in ${zone}: the clocks skip it (daylight "
                               "saving time)", mapping={"zone": zone.key}))
        raise ValueError(_("happens twice in ${zone} (the clocks go back): choose another "
                           "time", mapping={"zone": zone.key}))
    return first


def wall_value(instant_value, zone):
    """An instant as the value of a ``datetime-local`` input in ``zone``."""
    return instant_value.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


class BookingsView(ManageView):
    """What the views of this section share."""

    def actions(self):
        return self.request.find_service(BookingActions)

    def queries(self):
        return self.request.find_service(BookingQueries)

    def managed_resource(self, resource_id):
        """The resource ``resource_id`` of this tenant, if the requester may
        manage it (its venue is in their scope); else ``None``."""
        venue_id = self.queries().venue_of_resource(self.tenant, resource_id)
        if venue_id is None:
            return None
        try:
            context = self.manage["venues"][str(venue_id)]["resources"][str(resource_id)]
        except KeyError:
            return None
        if not self.request.has_permission(Permission.MANAGE, context):
            return None
        return context.resource

    def bookable_resources(self, venues):
        return self.queries().bookable_resources(self.tenant, venues)

    def refused(self, exc):
        """Forget the attempt; the status a domain error is answered with."""
        self.request.tm.doom()
        return exc.status


@view_defaults(context=ManagedBookings, permission=Permission.MANAGE)
class BookingList(BookingsView):
    FILTERS = {
        "from": optional(day), "to": optional(day),
        "venue": optional(integer(1, from_text=True)),
        "resource": optional(integer(1, from_text=True)),
        "status": optional(string(16)), "q": optional(string(200)),
        "page": optional(integer(1, 10_000, from_text=True), default=1),
    }

    def chosen(self, venues):
        """The filters of the query string, and ``{field: message}``."""
        clean, errors = parse_form(self.request.GET, self.FILTERS)
        today = self.request.now.astimezone(ZoneInfo(self.tenant.time_zone)).date()
        first = clean.get("from") or today
        last = clean.get("to") or first + timedelta(days=DEFAULT_DAYS - 1)
        if clean.get("from") and clean.get("to") and last < first:
            errors.setdefault("to", _("must not be before the first day"))
        elif last - first > timedelta(days=MAX_DAYS):
            errors.setdefault("to", _("must be at most ${days} days after the first day",
                                      mapping={"days": MAX_DAYS}))
        if clean.get("venue") is not None and clean["venue"] not in {v.id for v in venues}:
            errors.setdefault("venue", _("is not one of your venues"))
        if clean.get("resource") is not None and self.managed_resource(clean["resource"]) is None:
            errors.setdefault("resource", _("is not one of the resources you manage"))
        if clean.get("status") is not None and clean["status"] not in set(BookingStatus):
            errors.setdefault("status", _("must be one of ${statuses}",
                                          mapping={"statuses": ", ".join(BookingStatus)}))
        chosen = BookingFilter(first, last, clean.get("venue"), clean.get("resource"),
                               clean.get("status"), clean.get("q"))
        return chosen, clean.get("page") or 1, errors

    @view_config(request_method="GET", permission=Permission.VIEW)
    def list(self):
        venues = self.manage.venues()
        chosen, page, errors = self.chosen(venues)
        data = {"chosen": chosen, "errors": errors, "statuses": list(BookingStatus),
                "resources": self.bookable_resources(venues), "bookings": [], "total": 0,
                "page_number": page, "pages": 1, "query": dict(self.request.GET)}
        if errors:
            return self.page("manage/bookings/list.jinja2", status=400, **data)
        data["bookings"], data["total"] = self.queries().staff_page(
            self.tenant, venues, chosen, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        data["pages"] = max(1, -(-data["total"] // PAGE_SIZE))
        return self.page("manage/bookings/list.jinja2", **data)

    @view_config(name="export.csv", request_method="GET", permission=Permission.VIEW)
    def export(self):
        venues = self.manage.venues()
        chosen, _page, errors = self.chosen(venues)
        if errors:
            field = sorted(errors)[0]
            raise DomainError(errors[field], field=field)
        text = self.queries().staff_csv(self.tenant, venues, chosen, CSV_LIMIT)
        response = Response(body=text.encode("utf-8"),
                            content_type="text/csv", charset="utf-8")
        response.content_disposition = (
            f'attachment; filename="bookings-{chosen.first}-{chosen.last}.csv"')
        return response


@view_defaults(context=ManagedBookings, name="new", permission=Permission.MANAGE)
class WalkIn(BookingsView):
    """Booking for a customer at the desk or on the phone."""

    FIELDS = {
        "resource": Field(integer(1, from_text=True)), "when": Field(local_datetime),
        "email": optional(email_address, default=""), "name": optional(line(200), default=""),
        "phone": optional(line(40), default=""),
        "seats": optional(integer(1, 10_000, from_text=True), default=1),
        "note": optional(string(1000), default=""),
    }

    def form(self, status=200, values=None, errors=None, message=None):
        venues = self.manage.venues()
        return self.page("manage/bookings/new.jinja2", status=status, values=values or {},
                         errors=errors or {}, message=message,
                         resources=self.bookable_resources(venues))

    @view_config(request_method="GET")
    def show(self):
        values = {"seats": "1"}
        clean, errors = parse_form(self.request.GET, {"resource": optional(integer(
            1, from_text=True)), "start": optional(instant)})
        resource = clean.get("resource") and self.managed_resource(clean["resource"])
        if clean.get("resource") and resource is None:
            raise HTTPNotFound()
        if resource is not None:
            values["resource"] = str(resource.id)
            if clean.get("start"):
                values["when"] = wall_value(clean["start"], zone_of(resource))
        errors = {FORM_FIELD.get(name, name): problem for name, problem in errors.items()}
        return self.form(400 if errors else 200, values, errors)

    @view_config(request_method="POST")
    def create(self):
        request = self.request
        values = {name: request.POST.get(name, "") for name in self.FIELDS}
        clean, errors = parse_form(request.POST, self.FIELDS)
        resource = clean.get("resource") and self.managed_resource(clean["resource"])
        if clean.get("resource") and resource is None:
            raise HTTPNotFound()
        if resource is not None and clean.get("when"):
            try:
                clean["start"] = wall_to_instant(clean["when"], zone_of(resource))
            except ValueError as exc:
                errors["when"] = exc.args[0]
        if errors:
            return self.form(400, values, errors)
        try:
            booking, _created = self.actions().book_walk_in(
                BookingRequest(self.tenant, resource, None, clean["start"], clean["seats"],
                               note=clean["note"], actor_id=self.user.id),
                clean["email"], clean["name"], clean["phone"])
        except DomainError as exc:
            status = self.refused(exc)
            if status == 400 and exc.field:
                return self.form(400, values, {FORM_FIELD.get(exc.field, exc.field): exc.message})
            return self.form(status, values, message=exc.message)
        request.session.flash(request.translate(_(
            "Booked: reference ${reference}.", mapping={"reference": booking.reference})))
        return HTTPSeeOther(self.url("bookings", str(booking.id), ""))


@view_defaults(context=ManagedBooking, permission=Permission.MANAGE)
class BookingDesk(BookingsView):
    """One booking, its history and what the desk can do with it."""

    def __init__(self, context, request):
        super().__init__(context, request)
        self.booking = context.booking

    def detail(self, status=200, message=None, errors=None, values=None, refund_values=None):
        booking, now = self.booking, self.request.now
        panel = self.queries().payment_panel(booking)
        zone = zone_of(booking.resource)
        actions = self.actions().desk_actions(booking)
        actions["refund"] = (panel["refundable"] > 0
                             and self.request.has_permission(Permission.ADMIN, self.context))
        entries = self.queries().history(booking, zone,
                                         lambda at: self.request.format.datetime(at, zone))
        return self.page(
            "manage/bookings/detail.jinja2", status=status, booking=booking,
            resource=booking.resource, venue=booking.resource.venue, zone=zone,
            status_now=booking.status_at(now), actions=actions, message=message,
            errors=errors or {}, history=entries,
            messages=self.queries().messages(booking),
            values={"when": wall_value(booking.starts_at, zone),
                    "resource": str(booking.resource_id), **(values or {})},
            move_resources=self.bookable_resources([booking.resource.venue]),
            refund_values=refund_values or {}, cancel_refunds=CANCEL_REFUNDS, **panel,
        )

    @view_config(request_method="GET", permission=Permission.VIEW)
    def show(self):
        return self.detail()

    def act(self, change, done, values=None, refund_values=None):
        """Run ``change``; flash ``done`` and go back to the booking, or show
        why it was refused."""
        try:
            change()
        except DomainError as exc:
            status = self.refused(exc)
            errors = {FORM_FIELD.get(exc.field, exc.field): exc.message} if status == 400 else {}
            return self.detail(status, message=exc.message, errors=errors, values=values,
                               refund_values=refund_values)
        self.request.session.flash(self.request.translate(done))
        return HTTPSeeOther(self.request.resource_url(self.context))

    @view_config(name="confirm", request_method="POST")
    def confirm(self):
        return self.act(
            lambda: self.actions().confirm(self.tenant, self.booking, actor_id=self.user.id),
            _("The booking is confirmed."))

    @view_config(name="check-in", request_method="POST")
    def check_in(self):
        return self.act(
            lambda: self.actions().check_in(self.tenant, self.booking, actor_id=self.user.id),
            _("The customer is checked in."))

    @view_config(name="no-show", request_method="POST")
    def no_show(self):
        return self.act(
            lambda: self.actions().mark_no_show(self.tenant, self.booking,
                                                actor_id=self.user.id),
            _("The booking is marked as a no-show."))

    @view_config(name="cancel", request_method="POST")
    def cancel(self):
        """Cancel; the money left on a paid booking is refunded in full, as
        the policy gives a customer, or not (``refund``)."""
        clean, errors = parse_form(self.request.POST, {
            "reason": optional(string(1000), ""),
            "refund": optional(choice(CANCEL_REFUNDS))})
        if errors:
            field = sorted(errors)[0]
            return self.detail(400, message=errors[field], errors=errors)
        return self.act(lambda: self.actions().cancel(
            self.tenant, self.booking, actor_id=self.user.id, reason=clean["reason"] or "",
            by_staff=True, refund=clean["refund"]), _("The booking is cancelled."))

    @view_config(name="refund", request_method="POST", permission=Permission.ADMIN)
    def refund(self):
        """Give back part or all of what is left of the booking's payment."""
        request = self.request
        fields = refund_fields(self.queries().payment_panel(self.booking)["refundable"])
        values = {name: value if isinstance(value := request.POST.get(name, ""), str) else ""
                  for name in fields}
        clean, errors = parse_form(request.POST, fields)
        if errors:
            field = sorted(errors)[0]
            return self.detail(400, message=errors[field], errors=errors, refund_values=values)
        amount = request.format.money(clean["amount"], self.booking.currency)
        return self.act(
            lambda: self.actions().refund(self.booking, clean["amount"], actor_id=self.user.id,
                                          reason=clean["refund_reason"]),
            _("${amount} is refunded to the customer.", mapping={"amount": amount}),
            refund_values=values)

    @view_config(name="move", request_method="POST")
    def move(self):
        values = {name: self.request.POST.get(name, "") for name in ("when", "resource")}
        clean, errors = parse_form(self.request.POST, {
            "when": Field(local_datetime), "resource": Field(integer(1, from_text=True))})
        resource = clean.get("resource") and self.managed_resource(clean["resource"])
        if clean.get("resource") and resource is None:
            errors["resource"] = _("is not one of the resources you manage")
        if resource is not None and clean.get("when"):
            try:
                clean["start"] = wall_to_instant(clean["when"], zone_of(resource))
            except ValueError as exc:
                errors["when"] = exc.args[0]
        if errors:
            field = sorted(errors)[0]
            return self.detail(400, message=errors[field], errors=errors, values=values)
        return self.act(lambda: self.actions().move(
            self.tenant, self.booking, resource, clean["start"], actor_id=self.user.id,
            by_staff=True), _("The booking has moved."), values=values)

"""A customer's own bookings: the list, one booking (with its payment),
cancel (with the refund the tenant's policy gives), reschedule and the
"add to calendar" file. The buttons follow the ACL: outside the
cancellation window they are gone, and the server refuses too.

A refund that the provider cannot take now refuses the cancellation as a
whole (nothing changes, the customer is asked to try again): a cancelled
paid booking is never left without its refund."""


from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.response import Response
from pyramid.view import view_config, view_defaults

from .. import ics
from ..i18n import _
from ..models import BookingStatus
from ..resources import BookingCollection, BookingContext
from ..resources.bookables import resource_context
from ..security import Permission
from ..services.actions import BookingActions
from ..services.errors import Conflict, RefundNotMade, ValidationError
from ..services.policy import cancellation_deadline
from ..services.queries import BookingQueries
from ..services.slots import zone_of
from .calendar import first_day, week_of
from .checkout import allow_checkout_forms, payment_state, send_to_checkout
from .forms import Field, instant, optional, parse_form, string


@view_config(context=BookingCollection, renderer="booking/list.jinja2",
             permission=Permission.VIEW)
def my_bookings(context, request):
    now = request.now
    bookings = request.find_service(BookingQueries).of_customer(context.tenant,
                                                                request.identity.user)
    upcoming = [b for b in reversed(bookings) if b.ends_at > now and b.holds_seats(now)]
    past = [b for b in bookings if b not in upcoming]
    return {"tenant": context.tenant, "upcoming": upcoming, "past": past}


def summary(booking, tenant):
    return f"{booking.resource.name} · {tenant.name}"


def location(booking):
    venue = booking.resource.venue
    return ", ".join(part for part in (venue.name, venue.address) if part)


@view_defaults(context=BookingContext)
class BookingPages:
    def __init__(self, context, request):
        self.context = context
        self.request = request
        self.booking = context.booking
        self.tenant = context.tenant

    def page(self, template, status=200, **extra):
        booking, request = self.booking, self.request
        data = {
            "tenant": self.tenant, "booking": booking, "resource": booking.resource,
            "venue": booking.resource.venue, "zone": zone_of(booking.resource),
            "deadline": cancellation_deadline(booking, self.tenant),
            "can_change": request.has_permission(Permission.CANCEL, self.context),
            "status": booking.status_at(request.now),
            "refunded": request.find_service(BookingQueries).refunded(booking),
            "here": request.resource_url(self.context),
            "bookings_url": request.resource_url(self.context.__parent__), **extra,
        }
        response = render_to_response(template, data, request=self.request)
        response.status_int = status
        if template == "booking/payment.jinja2":
            allow_checkout_forms(request, response)
        return response

    @view_config(request_method="GET", permission=Permission.VIEW)
    def show(self):
        """The booking; held for an online payment, where that stands."""
        request, booking = self.request, self.booking
        state = payment_state(request, booking)
        if state is not None:
            return self.page("booking/payment.jinja2", state=state,
                             returned=request.GET.get("checkout") == "cancelled")
        notice = None
        if request.GET.get("paid") == "1" and booking.status == BookingStatus.CONFIRMED:
            notice = _("Payment received: your booking is confirmed.")
        return self.page("booking/show.jinja2", notice=notice)

    @view_config(name="booking.ics", request_method="GET", permission=Permission.VIEW)
    def calendar_file(self):
        booking, tenant = self.booking, self.tenant
        body = ics.calendar([ics.booking_event(
            booking, tenant, self.request.now, summary(booking, tenant), location(booking),
            self.request.translate(_("Booking reference ${reference}",
                                     mapping={"reference": booking.reference})),
        )])
        response = Response(body=body.encode("utf-8"), content_type="text/calendar",
                            charset="utf-8")
        response.content_disposition = f'attachment; filename="booking-{booking.reference}.ics"'
        return response

    @view_config(name="cancel", request_method="POST", permission=Permission.CANCEL)
    def cancel(self):
        request = self.request
        clean, errors = parse_form(request.POST, {"reason": optional(string(1000), default="")})
        if errors:
            return self.page("booking/show.jinja2", status=400, errors=errors)
        try:
            cancellation = request.find_service(BookingActions).cancel(
                self.tenant, self.booking, actor_id=request.identity.user.id,
                reason=clean["reason"] or "",
                by_staff=bool(request.has_permission(Permission.MANAGE, self.context)),
            )
        except Conflict as exc:
            request.tm.doom()  # nothing of this attempt is kept
            return self.page("booking/show.jinja2", status=409, message=exc.message)
        except RefundNotMade as exc:
            request.tm.doom()  # cancel and refund together, or neither
            return self.page("booking/show.jinja2", status=exc.status, message=_(
                "We could not reach our payment provider to refund you, so your booking "
                "is not cancelled: nothing has changed. Please try again in a few minutes."
            ) if exc.retry else exc.message)
        request.session.flash(request.translate(self.cancelled_message(cancellation)))
        return HTTPSeeOther(request.resource_url(self.context))

    @view_config(name="pay", request_method="POST", permission=Permission.VIEW)
    def pay(self):
        """Pay for a held booking (again): the same pending payment while the
        hold lasts. Anything else goes back to the booking's page."""
        request, booking = self.request, self.booking
        here = request.resource_url(self.context)
        if payment_state(request, booking) is None:
            if booking.status == BookingStatus.CONFIRMED:
                message = _("This booking is confirmed: there is nothing to pay.")
            else:
                message = _("This booking is ${status}: there is nothing to pay. Nothing was "
                            "charged.", mapping={"status": booking.status_at(request.now)})
            request.session.flash(request.translate(message))
            return HTTPSeeOther(here)
        return send_to_checkout(request, booking, here, self.page)

    def cancelled_message(self, cancellation):
        if cancellation.refund is not None:
            amount = self.request.format.money(cancellation.refund.amount,
                                               self.booking.currency)
            return _("Your booking is cancelled. ${amount} is refunded to your card; it may "
                     "take a few days to show on your statement.", mapping={"amount": amount})
        if cancellation.was_paid:
            return _("Your booking is cancelled. Under the venue's refund policy, nothing is "
                     "refunded.")
        return _("Your booking is cancelled.")

    def reschedule_page(self, status=200, message=None):
        resource = self.booking.resource
        first = first_day(self.request, zone_of(resource))
        week = week_of(self.request, resource, first, exclude_booking=self.booking)
        return self.page("booking/reschedule.jinja2", status=status, week=week, message=message)

    @view_config(name="reschedule", request_method="GET", permission=Permission.CANCEL)
    def choose_new_slot(self):
        return self.reschedule_page()

    @view_config(name="reschedule", request_method="POST", permission=Permission.CANCEL)
    def reschedule(self):
        request = self.request
        clean, errors = parse_form(request.POST, {"start": Field(instant)})
        if errors:
            raise ValidationError(errors["start"], field="start")
        target = resource_context(self.context.tenant_context, self.booking.resource_id)
        if target is None or not request.has_permission(Permission.BOOK, target):
            return self.reschedule_page(409, _("This resource is not taking bookings."))
        try:
            request.find_service(BookingActions).move(
                self.tenant, self.booking, target.resource, clean["start"],
                actor_id=request.identity.user.id,
                by_staff=bool(request.has_permission(Permission.MANAGE, self.context)),
            )
        except (Conflict, ValidationError) as exc:
            request.tm.doom()  # nothing of this attempt is kept
            status = 409 if isinstance(exc, Conflict) else 400
            return self.reschedule_page(status, exc.message)
        request.session.flash(request.translate(_("Your booking has moved.")))
        return HTTPSeeOther(request.resource_url(self.context))

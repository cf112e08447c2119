"""Booking a slot on the site: choose a slot → seats and a note → sign in or
create an account (inline) → review → confirm → the booking's page.

An inline account answers the same whether or not its address had one: the
visitor goes on as a guest (not signed in; their address is not confirmed
yet), the booking is made at once, and the email tells the rest (see
:meth:`BookingActions.book_for_guest`); a guest lands back on the
resource's page, told to check their email.

The review is shown after a redirect (the choice waits in the session), and
the confirm form carries an idempotency key, so a double submit makes one
booking. A slot taken meanwhile is said plainly, with ranked alternatives.
"""

import uuid
from datetime import timedelta

from pyramid.httpexceptions import HTTPForbidden, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.view import view_config, view_defaults

from ..i18n import _
from ..resources import ResourceContext
from ..security import Permission
from ..services import AvailabilityService
from ..services.actions import BookingActions
from ..services.alternatives import AlternativesFinder
from ..services.booking import BookingRequest
from ..services.marketing import MarketingService
from ..services.errors import Conflict, ValidationError
from ..services.policy import deadline_for
from ..services.pricing import CodeRefused, PricingService, VoucherRefused, Who
from ..services.registration import AccountService
from ..services.slots import zone_of
from ..services.accounts import AddressNotConfirmed
from ..services.throttle import TooManyAttempts
from .auth import known_device_cookie, needs_second_step, password_accepted, sign_in
from .checkout import allow_checkout_forms, payment_terms, send_to_checkout
from .discovery import distance_text
from .forms import Field, instant, integer, optional, parse_form, string
from .my_bookings import BookingPages

PENDING = "pending_booking"
GUEST = "booking_guest"


def choice_fields(resource):
    return {
        "start": Field(instant),
        "seats": optional(integer(1, resource.capacity, from_text=True), default=1),
        "note": optional(string(1000), default=""),
        # As typed: the pricing service reads them without case or spaces.
        "code": optional(string(64), default=""),
        "voucher": optional(string(64), default=""),
    }


def guest_who(guest):
    """Whom a code counts for a guest of the inline account: the new
    account, or the address typed (see :meth:`BookingActions.book_for_guest`)."""
    if guest.get("user_id") is not None:
        return Who(guest["user_id"])
    return Who(None, guest.get("email") or "")


def refusal_errors(outcome):
    """``{field: message}`` of a refused code or voucher, else ``{}``."""
    if isinstance(outcome, (CodeRefused, VoucherRefused)):
        return {outcome.field: outcome.message}
    return {}


def free_slot(request, resource, start):
    """The slot of ``resource`` starting at ``start`` if it has a seat left."""
    zone = zone_of(resource)
    day = start.astimezone(zone).date()
    for slot in request.find_service(AvailabilityService).slots(resource, day, day):
        if slot.start == start and slot.seats_left > 0:
            return slot
    return None


def slot_taken(request, context, start, message, seats=1, status=409):
    """The plain answer to a slot that is gone, with ranked alternatives:
    other times of this resource, the same time on similar resources here
    and at the nearest other venues."""
    resource = context.resource
    alternatives = request.find_service(AlternativesFinder).find(resource, start, seats or 1)
    response = render_to_response("booking/slot_taken.jinja2", {
        "tenant": context.tenant, "resource": resource, "venue": resource.venue,
        "zone": zone_of(resource), "message": message, "alternatives": alternatives,
        "seats": seats or 1, "distance_text": lambda km: distance_text(request, km),
    }, request=request)
    response.status_int = status
    return response


@view_defaults(context=ResourceContext)
class BookingFlow:
    def __init__(self, context, request):
        self.context = context
        self.request = request
        self.resource = context.resource

    def details_page(self, slot, values, errors=(), status=200):
        request = self.request
        response = render_to_response("booking/details.jinja2", {
            "tenant": self.context.tenant, "resource": self.resource,
            "venue": self.resource.venue, "zone": zone_of(self.resource), "slot": slot,
            "values": values, "errors": dict(errors),
        }, request=request)
        response.status_int = status
        return response

    @view_config(name="book", request_method="GET", permission=Permission.VIEW)
    def details(self):
        clean, errors = parse_form(self.request.GET, choice_fields(self.resource))
        if "start" in errors:
            raise ValidationError(errors["start"], field="start")
        slot = free_slot(self.request, self.resource, clean["start"])
        if slot is None:
            return slot_taken(self.request, self.context, clean["start"],
                              _("This slot is no longer free."), clean.get("seats"))
        values = {"seats": clean.get("seats") or 1, "note": clean.get("note") or "",
                  "account": "signin", "email": "", "name": "", "phone": "",
                  # A voucher's code is a bearer secret: never taken from a URL.
                  "code": clean.get("code") or "", "voucher": ""}
        return self.details_page(slot, values)

    @view_config(name="book", request_method="POST", permission=Permission.VIEW)
    def choose(self):
        request = self.request
        post = request.POST
        clean, errors = parse_form(post, choice_fields(self.resource))
        if "start" in errors:
            raise ValidationError(errors["start"], field="start")
        slot = free_slot(request, self.resource, clean["start"])
        if slot is None:
            return slot_taken(request, self.context, clean["start"],
                              _("This slot is no longer free."), clean.get("seats"))
        if not errors and clean["seats"] > slot.seats_left:
            errors["seats"] = _("only ${left} place(s) left at this time",
                                mapping={"left": slot.seats_left})
        values = {key: post.get(key, "") if isinstance(post.get(key, ""), str) else ""
                  for key in ("seats", "note", "account", "email", "name", "phone", "code",
                              "voucher")}
        values["account"] = values["account"] or "signin"
        status = 400
        if not errors and (clean["code"] or clean["voucher"]):
            # Before the account step: a refused code changes nothing else.
            who = (Who(request.identity.user.id) if request.identity is not None
                   else Who(None, values["email"]))
            try:
                errors.update(refusal_errors(self.try_code(clean, who)))
            except TooManyAttempts as exc:
                response = self.details_page(slot, values, {"code": exc.message}, status=429)
                response.headers["Retry-After"] = str(exc.extra["retry_after"])
                return response
        if not errors and request.identity is None:
            try:
                user = self.account(values, post.get("password", ""), errors)
            except (TooManyAttempts, AddressNotConfirmed) as exc:
                errors["email"], status = exc.message, exc.status
                user = None
            if user is not None and needs_second_step(request, user):
                # The second step first, then back to this choice.
                return password_accepted(request, user, request.resource_url(
                    self.context, "book", query={"start": post.get("start"), "seats": clean["seats"],
                                                 "note": clean["note"], "code": clean["code"]}))
            if user is not None:
                sign_in(request, user)
        if errors:
            return self.details_page(slot, values, errors, status=status)
        request.session[PENDING] = {
            "resource_id": self.resource.id, "start": clean["start"].isoformat(),
            "seats": clean["seats"], "note": clean["note"],
            "code": clean["code"], "voucher": clean["voucher"],
            # One key per choice: every review of it confirms one booking.
            "key": uuid.uuid4().hex,
        }
        return HTTPSeeOther(request.resource_url(self.context, "review"))

    def try_code(self, clean, who):
        """The quote with the code and voucher of ``clean``, or the refusal
        to show; a code that names nothing counts against the client's
        address (answered, not raised, so that the count is kept)."""
        return self.request.find_service(PricingService).try_code(
            self.context.tenant, self.resource, clean["start"], clean["seats"],
            clean["code"] or None, who, self.request.client_addr,
            voucher=clean["voucher"] or None)

    def who(self):
        """Whom a code counts for: the signed-in customer or the guest."""
        request = self.request
        if request.identity is not None:
            return Who(request.identity.user.id)
        return guest_who(request.session.get(GUEST) or {})

    def account(self, values, password, errors):
        """Sign in or register inline; record problems in ``errors``."""
        request = self.request
        if not isinstance(password, str):
            errors["password"] = _("must be text")
            return None
        accounts = request.find_service(AccountService)
        if values["account"] == "register":
            problems = accounts.registration_problems(values["name"], values["email"], password,
                                                      values["phone"])
            if problems:
                errors.update(problems)
                return None
            new = accounts.register(values["name"], values["email"], password,
                                    request.client_addr, values["phone"],
                                    locale=request.locale_name, send_link=False)
            request.session[GUEST] = {
                "user_id": new.id if new is not None else None,
                "email": values["email"], "name": values["name"], "phone": values["phone"]}
            return None
        user = accounts.authenticate(values["email"], password, request.client_addr,
                                     known_device_cookie(request))
        if user is None:
            errors["password"] = _("The email or the password is wrong.")
        return user

    def review_data(self, pending, refusal=None):
        """The review of the ``pending`` choice, priced by the pricing
        service; a code or voucher refused by now shows its ``refusal``
        and no confirm button."""
        resource, tenant = self.resource, self.context.tenant
        seats = pending["seats"]
        start = instant(pending["start"])
        end = start + timedelta(minutes=resource.slot_minutes)
        deadline = deadline_for(start, tenant)
        code, voucher = pending.get("code") or "", pending.get("voucher") or ""
        quote = None
        if refusal is None:
            try:
                quote = self.request.find_service(PricingService).quote(
                    tenant, resource, start, seats, code=code or None, who=self.who(),
                    voucher=voucher or None)
            except (CodeRefused, VoucherRefused) as exc:
                refusal = exc
        return {
            "tenant": tenant, "resource": resource, "venue": resource.venue,
            "zone": zone_of(resource), "start": start, "end": end, "seats": seats,
            "note": pending["note"], "quote": quote, "price": quote.total if quote else 0,
            "refusal": refusal, "code": code, "voucher": voucher,
            # A valid code that an automatic offer beat: the customer is told.
            "offer_won": bool(code and quote and quote.line("code") is None),
            "deadline": deadline, "changeable": deadline >= self.request.now,
            "key": pending["key"], **payment_terms(self.request, tenant),
            "offers_wording": self.request.find_service(MarketingService).wording(
                tenant, self.request.locale_name),
        }

    def review_page(self, pending, refusal, status):
        response = render_to_response("booking/review.jinja2",
                                      self.review_data(pending, refusal), request=self.request)
        response.status_int = status
        return response

    def booker(self):
        """Who books: the signed-in user's permission to book here, or a
        guest of the inline account (the service checks the business is open)."""
        request = self.request
        if request.identity is not None:
            return request.has_permission(Permission.BOOK, self.context)
        return request.session.get(GUEST) is not None

    @view_config(name="review", request_method="GET", permission=Permission.VIEW,
                 renderer="booking/review.jinja2")
    def review(self):
        pending = self.request.session.get(PENDING)
        if not self.booker():
            return HTTPSeeOther(self.request.resource_url(self.context))
        if not pending or pending.get("resource_id") != self.resource.id:
            return HTTPSeeOther(self.request.resource_url(self.context))
        data = self.review_data(pending)
        if data["refusal"] is not None:
            self.request.response.status_int = 409  # refused since it was chosen
        if self.request.find_service(BookingActions).needs_checkout(data["price"]):
            allow_checkout_forms(self.request, self.request.response)
        return data

    @view_config(name="confirm", request_method="POST", permission=Permission.VIEW)
    def confirm(self):
        request = self.request
        fields = {**choice_fields(self.resource), "key": Field(string(32, min_length=32))}
        clean, errors = parse_form(request.POST, fields)
        if errors:
            field, message = next(iter(errors.items()))
            raise ValidationError(message, field=field)
        if not self.booker():
            raise HTTPForbidden()
        actions = request.find_service(BookingActions)
        user = request.identity.user if request.identity is not None else None
        pending = {**clean, "start": clean["start"].isoformat()}
        if clean["code"] or clean["voucher"]:
            # The same check as the form's (and its count of wrong codes):
            # this form may be posted without the details step.
            try:
                refusal = self.try_code(clean, self.who())
            except TooManyAttempts as exc:
                response = self.review_page(pending, exc, 429)
                response.headers["Retry-After"] = str(exc.extra["retry_after"])
                return response
            if refusal_errors(refusal):
                return self.review_page(pending, refusal, 409)
        asked = BookingRequest(self.context.tenant, self.resource, user, clean["start"],
                               clean["seats"], note=clean["note"],
                               actor_id=user.id if user else None,
                               idempotency_key=clean["key"],
                               code=clean["code"] or None, voucher=clean["voucher"] or None)
        try:
            if user is None:
                booking, created = actions.book_for_guest(asked, request.session[GUEST])
            else:
                booking, created = actions.book(asked)
        except Conflict as exc:
            request.tm.doom()  # nothing of this attempt is kept
            return slot_taken(request, self.context, clean["start"], exc.message,
                              clean["seats"])
        except (CodeRefused, VoucherRefused) as exc:
            # Taken by other bookings meanwhile (the code's last use, the
            # voucher's balance): nothing is booked at a surprise price.
            request.tm.doom()
            return self.review_page(pending, exc, 409)
        if request.POST.get("offers") == "yes":  # the unchecked-by-default box
            request.find_service(MarketingService).agree_on_booking(booking, request.locale_name)
        request.session.pop(PENDING, None)
        if user is None:
            return self.guest_booked(booking, created)
        if actions.awaits_online_payment(booking):
            return self.checkout(booking)
        mapping = {"reference": booking.reference}
        if created:
            message = _("Booked! Your reference is ${reference}.", mapping=mapping)
        elif booking.holds_seats(request.now):
            message = _("You had already booked this: your reference is ${reference}.",
                        mapping=mapping)
        else:
            message = _("This booking (${reference}) was cancelled: choose a time again to book.",
                        mapping=mapping)
        request.session.flash(request.translate(message))
        bookings = self.context.tenant_context["bookings"]
        return HTTPSeeOther(request.resource_url(bookings, str(booking.id), ""))

    def guest_booked(self, booking, created):
        """A guest's booking: the same answer whoever's the address; its page
        is for its customer, signed in, so the guest goes back to the resource."""
        request = self.request
        back = request.resource_url(self.context)
        request.session.pop(GUEST, None)
        if request.find_service(BookingActions).awaits_online_payment(booking):
            return send_to_checkout(request, booking, back, self.payment_not_started)
        message = (_("Booked! Your reference is ${reference}. We have emailed you the "
                     "details: check your email.", mapping={"reference": booking.reference})
                   if created else
                   _("You had already booked this: your reference is ${reference}.",
                     mapping={"reference": booking.reference}))
        request.session.flash(request.translate(message))
        return HTTPSeeOther(back)

    def payment_not_started(self, template, status, **data):
        request = self.request
        request.session.flash(request.translate(_(
            "The payment could not start: nothing was charged, and the slot is released "
            "soon. Please try again.")))
        return HTTPSeeOther(request.resource_url(self.context))

    def checkout(self, booking):
        """A booking held until paid online: off to the provider's checkout
        (the same one on a double submit)."""
        context = self.context.tenant_context["bookings"][str(booking.id)]
        return send_to_checkout(self.request, booking, self.request.resource_url(context),
                                BookingPages(context, self.request).page)

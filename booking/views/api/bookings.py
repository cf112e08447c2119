"""Create, list, read, cancel and reschedule bookings."""

from pyramid.view import view_config, view_defaults

from ...i18n import _
from ...models import BookingStatus
from ...resources import BookingCollection, BookingContext
from ...resources.bookables import place_resource, resource_context
from ...security import Permission
from ...services.actions import BookingActions
from ...services.alternatives import AlternativesFinder
from ...services.booking import BookingRequest
from ...services.errors import Conflict, ValidationError
from ...services.pricing import CodeRefused, PricingService, VoucherRefused, Who
from ...services.queries import BookingQueries
from ..forms import (
    Field,
    day,
    instant,
    integer,
    json_body,
    optional,
    parse,
    query,
    string,
    time_zone,
)
from ..errors import error_response
from .discovery import alternatives_json
from .serialize import booking_json

MAX_IDEMPOTENCY_KEY = 255


def idempotency_key(request):
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
        raise ValidationError(
            _("must be 1 to ${length} printable characters",
              mapping={"length": MAX_IDEMPOTENCY_KEY}),
            field="Idempotency-Key",
        )
    return key


def booking_page(request, booking):
    """The booking's page on the site, where the provider sends the customer
    back after the checkout."""
    slug = booking.resource.venue.tenant.slug
    return f"{request.application_url}/t/{slug}/bookings/{booking.id}/"


def bookable_resource(request, tenant_context, resource_id, as_staff=False, resource=None):
    """The resource the body names, if the caller may book it (and, acting
    as staff, if it is within the venues they manage). ``resource``: the
    row, when the caller has loaded it already."""
    context = (place_resource(tenant_context, resource) if resource is not None
               else resource_context(tenant_context, resource_id))
    if context is None or not request.has_permission(Permission.VIEW, context):
        raise ValidationError(_("does not name a resource of this business"), field="resource_id")
    if as_staff and not request.has_permission(Permission.MANAGE, context):
        raise ValidationError(_("is outside the venues you manage"), field="resource_id")
    if not request.has_permission(Permission.BOOK, context):
        raise Conflict(_("this resource is not taking bookings"), field="resource_id")
    return context.resource


def refusal_response(request, outcome):
    """The 400 of a refused code or voucher (``error.reason`` says why), or
    ``None`` when ``outcome`` is a quote. Answered, not raised: the count of
    wrong codes that :meth:`PricingService.try_code` made is kept."""
    if not isinstance(outcome, (CodeRefused, VoucherRefused)):
        return None
    return error_response(request, outcome.status, outcome.code, outcome.message,
                          outcome.field, reason=outcome.reason)


@view_defaults(context=BookingCollection, route_name="api", renderer="json")
class BookingCollectionApi:
    def __init__(self, context, request):
        self.context = context
        self.request = request

    @view_config(request_method="POST", permission=Permission.BOOK)
    def create(self):
        request = self.request
        data = parse(json_body(request), {
            "resource_id": Field(integer(minimum=1)),
            "start": Field(instant),
            "seats": optional(integer(minimum=1, maximum=10_000), default=1),
            "note": optional(string(1000), default=""),
            # Any case: the pricing service reads them without case or spaces.
            "code": optional(string(64), default=""),
            "voucher": optional(string(64), default=""),
        })
        key = idempotency_key(request)
        actions = request.find_service(BookingActions)
        tenant_context = self.context.tenant_context
        resource = bookable_resource(request, tenant_context, data["resource_id"],
                                     resource=actions.resource_to_book(tenant_context.tenant,
                                                                       data["resource_id"]))
        user = request.identity.user
        if data["code"] or data["voucher"]:
            refused = refusal_response(request, request.find_service(PricingService).try_code(
                self.context.tenant, resource, data["start"], data["seats"],
                data["code"] or None, Who(user.id), request.client_addr,
                voucher=data["voucher"] or None))
            if refused is not None:
                return refused
        try:
            booking, created = actions.book(BookingRequest(
                self.context.tenant, resource, user, data["start"], data["seats"],
                note=data["note"], actor_id=user.id, idempotency_key=key,
                code=data["code"] or None, voucher=data["voucher"] or None))
        except Conflict as exc:
            if exc.field != "start":  # not about the slot: nothing to offer
                raise
            found = request.find_service(AlternativesFinder).find(resource, data["start"],
                                                                  data["seats"])
            raise Conflict(exc.message, field=exc.field, **exc.extra,
                           alternatives=alternatives_json(found)) from exc
        checkout_url = None
        if actions.awaits_online_payment(booking):
            # Raises PaymentNotStarted (503, nothing charged) when the
            # provider cannot start it: the same request may be sent again.
            checkout_url = actions.start_checkout(booking,
                                                  booking_page(request, booking)).checkout_url
        body = booking_json(booking)
        if checkout_url is not None:
            body["checkout_url"] = checkout_url
        request.response.status_int = 201
        if not created:
            request.response.headers["Idempotent-Replayed"] = "true"
        return body

    @view_config(request_method="GET", permission=Permission.VIEW)
    def list(self):
        request = self.request
        params = query(request, {
            "status": optional(string(16)),
            "from": optional(day),
            "to": optional(day),
            "tz": optional(time_zone),
            "limit": optional(integer(1, 200, from_text=True), default=50),
            "offset": optional(integer(0, 100_000, from_text=True), default=0),
        })
        if params["status"] is not None and params["status"] not in set(BookingStatus):
            raise ValidationError(
                _("must be one of ${statuses}", mapping={"statuses": ", ".join(BookingStatus)}),
                field="status",
            )
        identity = request.identity
        # Days in each booking's venue's zone, as availability reads them;
        # ``tz`` reads them in one zone instead.
        bookings = request.find_service(BookingQueries).visible(
            self.context.tenant, identity.user, identity.memberships,
            status=params["status"], first=params["from"], last=params["to"],
            zone=params["tz"], limit=params["limit"], offset=params["offset"],
        )
        return {"bookings": [booking_json(booking) for booking in bookings]}


@view_defaults(context=BookingContext, route_name="api", renderer="json")
class BookingApi:
    def __init__(self, context, request):
        self.context = context
        self.request = request

    @view_config(request_method="GET", permission=Permission.VIEW)
    def show(self):
        return booking_json(self.context.booking)

    @view_config(name="cancel", request_method="POST", permission=Permission.CANCEL)
    def cancel(self):
        request = self.request
        data = parse(json_body(request, allow_empty=True), {
            "reason": optional(string(1000), default=""),
            "refund": optional(string(16)),
        })
        by_staff = bool(request.has_permission(Permission.MANAGE, self.context))
        cancellation = request.find_service(BookingActions).cancel(
            self.context.tenant, self.context.booking, actor_id=request.identity.user.id,
            reason=data["reason"], by_staff=by_staff, refund=data["refund"],
        )
        return booking_json(cancellation.booking)

    @view_config(name="reschedule", request_method="POST", permission=Permission.CANCEL)
    def reschedule(self):
        request = self.request
        data = parse(json_body(request), {
            "start": Field(instant),
            "resource_id": optional(integer(minimum=1)),
        })
        booking = self.context.booking
        by_staff = bool(request.has_permission(Permission.MANAGE, self.context))
        resource_id = data["resource_id"] or booking.resource_id
        resource = bookable_resource(request, self.context.tenant_context, resource_id,
                                     as_staff=by_staff)
        booking = request.find_service(BookingActions).move(
            self.context.tenant, booking, resource, data["start"],
            actor_id=request.identity.user.id, by_staff=by_staff,
        )
        return booking_json(booking)

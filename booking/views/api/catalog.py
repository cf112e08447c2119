"""What a tenant offers: the tenant, its venues, resources and free slots."""

from datetime import timedelta

from pyramid.view import view_config

from ...i18n import _
from ...resources import (
    ResourceCollection,
    ResourceContext,
    TenantContext,
    VenueCollection,
    VenueContext,
)
from ...security import Permission
from ...services import AvailabilityService
from ...services.errors import ValidationError
from ...services.pricing import PricingService, Who
from ...services.slots import zone_of
from ..forms import Field, day, instant, integer, optional, query, string, time_zone
from .bookings import refusal_response
from .serialize import quote_json, resource_json, tenant_json, venue_json

MAX_RANGE_DAYS = 62
#: How far from today a query may look, back and ahead.
MAX_DAYS_BACK, MAX_DAYS_AHEAD = 366, 2 * 366

api_view = dict(route_name="api", renderer="json", request_method="GET", permission=Permission.VIEW)


@view_config(context=TenantContext, **api_view)
def tenant(context, request):
    return tenant_json(context.tenant)


@view_config(context=VenueCollection, **api_view)
def venues(context, request):
    return {"venues": [venue_json(venue) for venue in context.venues()]}


@view_config(context=VenueContext, **api_view)
def venue(context, request):
    return venue_json(context.venue)


@view_config(context=ResourceCollection, **api_view)
def resources(context, request):
    return {"resources": [resource_json(resource) for resource in context.resources()]}


@view_config(context=ResourceContext, **api_view)
def resource(context, request):
    return resource_json(context.resource)


def availability_range(request, zone):
    """``from``/``to`` (local dates, inclusive) from the query string;
    by default the seven days from today."""
    params = query(request, {"from": optional(day), "to": optional(day), "tz": optional(time_zone)})
    today = request.now.astimezone(zone).date()
    first = params["from"] or today
    last = params["to"] or first + timedelta(days=6)
    if last < first:
        raise ValidationError(_("must not be before 'from'"), field="to")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise ValidationError(_("the range may cover at most ${days} days",
                                mapping={"days": MAX_RANGE_DAYS}), field="to")
    if first < today - timedelta(days=MAX_DAYS_BACK):
        raise ValidationError(_("is more than ${days} days in the past",
                                mapping={"days": MAX_DAYS_BACK}), field="from")
    if last > today + timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationError(_("is more than ${days} days ahead",
                                mapping={"days": MAX_DAYS_AHEAD}), field="to")
    return first, last, params["tz"]


@view_config(context=ResourceContext, name="availability", **api_view)
def availability(context, request):
    resource = context.resource
    zone = zone_of(resource)
    first, last, shown_zone = availability_range(request, zone)
    shown_zone = shown_zone or zone
    slots = request.find_service(AvailabilityService).free_slots(resource, first, last)
    return {
        "resource_id": resource.id,
        "time_zone": str(shown_zone),
        "slots": [
            {
                "start": slot.start.astimezone(shown_zone).isoformat(),
                "end": slot.end.astimezone(shown_zone).isoformat(),
                "seats_left": slot.seats_left,
            }
            for slot in slots
        ],
    }


@view_config(context=ResourceContext, name="quote", **api_view)
def quote(context, request):
    """``?start=&seats=&code=``: the price a booking would get, as its
    breakdown, or the refusal of the code (400, ``error.reason``). Codes that
    name nothing count against the caller's address, as when booking."""
    params = query(request, {
        "start": Field(instant),
        "seats": optional(integer(1, 10_000, from_text=True), default=1),
        "code": optional(string(64), default=""),
    })
    identity = request.identity
    outcome = request.find_service(PricingService).try_code(
        context.tenant, context.resource, params["start"], params["seats"],
        params["code"] or None, Who(identity.user.id if identity is not None else None),
        request.client_addr)
    return refusal_response(request, outcome) or quote_json(outcome)

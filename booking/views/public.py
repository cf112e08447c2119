"""The public face of tenants: their venues, resources and free slots."""

from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from ..i18n import _
from ..resources import ResourceContext, Root, TenantContext, VenueContext
from ..security import Permission
from ..services.catalog import Catalog
from ..services.pricing import PricingService, offer_label
from .calendar import week_of
from .discovery import location_query, map_links, venue_distance_text, visitor_point


@view_config(context=Root, renderer="public/home.jinja2", permission=NO_PERMISSION_REQUIRED)
def home(context, request):
    return {"tenants": request.find_service(Catalog).open_tenants()}


@view_config(context=TenantContext, renderer="public/tenant.jinja2", permission=Permission.VIEW)
def tenant_home(context, request):
    tenant, catalog = context.tenant, request.find_service(Catalog)
    venues = context["venues"].venues()
    return {
        "tenant": tenant,
        "venues": venues,
        "resources_by_venue": catalog.resources_by_venue(tenant, venues),
        "hours_by_venue": catalog.hours_by_venue(tenant),
        "maps_by_venue": {venue.id: map_links(venue) for venue in venues},
    }


def where_is(request, venue):
    """The map links and the visitor's distance (``?lat=&lon=``, see
    :mod:`booking.views.discovery`) for a venue's pages."""
    point = visitor_point(request)
    return {"maps": map_links(venue, point), "distance": venue_distance_text(request, venue, point),
            "location": location_query(point)}


@view_config(context=VenueContext, renderer="public/venue.jinja2", permission=Permission.VIEW)
def venue_page(context, request):
    venue = context.venue
    return {
        "tenant": context.tenant,
        "venue": venue,
        "resources": context["resources"].resources(),
        "hours": request.find_service(Catalog).venue_hours(venue),
        **where_is(request, venue),
    }


@view_config(context=ResourceContext, renderer="public/resource.jinja2",
             permission=Permission.VIEW)
def resource_page(context, request):
    resource = context.resource
    week = week_of(request, resource)
    return {
        "tenant": context.tenant,
        "resource": resource,
        "venue": resource.venue,
        "week": week,
        "marks": offer_marks(request, context.tenant, resource, week),
        "popular": request.find_service(Catalog).popular_times(resource),
        **where_is(request, resource.venue),
    }


def offer_marks(request, tenant, resource, week):
    """``{start: (mark, price)}`` of the week's slots an automatic offer
    applies to: "−20% · Off-peak" and the price it makes (one price check
    for the page, see :meth:`PricingService.marks`)."""
    starts = [slot.start for day in week.days for slot in day.slots]
    marks = request.find_service(PricingService).marks(tenant, resource, starts)
    money = request.format.money
    texts = {}  # one text per offer and price, however many slots show it
    for offer, price in marks.values():
        if (offer.id, price) not in texts:
            texts[offer.id, price] = (
                f"{offer_label(offer, tenant.currency, money)} · {offer.name} · "
                + request.translate(_("${price} instead of ${base}", mapping={
                    "price": money(price, tenant.currency),
                    "base": money(resource.price, tenant.currency)})))
    return {start: texts[offer.id, price] for start, (offer, price) in marks.items()}

"""The public face of tenants: their venues, resources and free slots."""

from collections import defaultdict

from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config
from sqlalchemy import select

from ..models import OpeningHours, Resource, Tenant, TenantStatus, Venue
from ..resources import ResourceContext, Root, TenantContext, VenueContext
from ..security import Permission
from ..services.popularity import popular_times
from .calendar import week_of
from .discovery import location_query, map_links, venue_distance_text, visitor_point


@view_config(context=Root, renderer="public/home.jinja2", permission=NO_PERMISSION_REQUIRED)
def home(context, request):
    tenants = request.dbsession.scalars(
        select(Tenant)
        .where(Tenant.status == TenantStatus.ACTIVE, Tenant.deletion_requested_at.is_(None))
        .order_by(Tenant.name)
    ).all()
    return {"tenants": tenants}


def opening_hours_by_venue(dbsession, tenant_id):
    """``{venue_id: [(weekday, [(opens, closes), ...]), ...]}``, Monday first."""
    rows = dbsession.execute(
        select(OpeningHours.venue_id, OpeningHours.weekday, OpeningHours.opens_minute,
               OpeningHours.closes_minute)
        .where(OpeningHours.tenant_id == tenant_id, OpeningHours.resource_id.is_(None))
        .order_by(OpeningHours.weekday, OpeningHours.opens_minute)
    ).all()
    hours = defaultdict(lambda: defaultdict(list))
    for venue_id, weekday, opens, closes in rows:
        hours[venue_id][weekday].append((f"{opens // 60:02d}:{opens % 60:02d}",
                                         f"{closes // 60:02d}:{closes % 60:02d}"))
    return {venue_id: [(day, days.get(day, [])) for day in range(7)]
            for venue_id, days in hours.items()}


@view_config(context=TenantContext, renderer="public/tenant.jinja2", permission=Permission.VIEW)
def tenant_home(context, request):
    tenant = context.tenant
    venues = request.dbsession.scalars(
        select(Venue).where(Venue.tenant_id == tenant.id).order_by(Venue.name, Venue.id)
    ).all()
    resources = request.dbsession.scalars(
        select(Resource)
        .where(Resource.tenant_id == tenant.id, Resource.active.is_(True))
        .order_by(Resource.name, Resource.id)
    ).all()
    by_venue = {venue.id: [] for venue in venues}
    for resource in resources:
        by_venue[resource.venue_id].append(resource)
    return {
        "tenant": tenant,
        "venues": venues,
        "resources_by_venue": by_venue,
        "hours_by_venue": opening_hours_by_venue(request.dbsession, tenant.id),
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
        "hours": opening_hours_by_venue(request.dbsession, context.tenant.id).get(venue.id, []),
        **where_is(request, venue),
    }


@view_config(context=ResourceContext, renderer="public/resource.jinja2",
             permission=Permission.VIEW)
def resource_page(context, request):
    resource = context.resource
    return {
        "tenant": context.tenant,
        "resource": resource,
        "venue": resource.venue,
        "week": week_of(request, resource),
        "popular": popular_times(request.dbsession, resource, request.now),
        **where_is(request, resource.venue),
    }

"""The public face of tenants: their venues, resources and free slots."""

from collections import defaultdict

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config
from sqlalchemy import select

from ..models import OpeningHours, Resource, Tenant, TenantStatus, Venue
from ..resources import ResourceContext, Root, TenantContext, VenueContext
from ..security import Permission
from .calendar import week_of


@view_config(context=Root, renderer="public/home.jinja2", permission=NO_PERMISSION_REQUIRED)
def home(context, request):
    tenants = request.dbsession.scalars(
        select(Tenant).where(Tenant.status == TenantStatus.ACTIVE).order_by(Tenant.name)
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
    }


@view_config(context=VenueContext, permission=Permission.VIEW)
def venue_page(context, request):
    """A venue is shown on its tenant's page."""
    url = request.resource_url(context.tenant_context, anchor=f"venue-{context.venue.id}")
    return HTTPSeeOther(url)


@view_config(context=ResourceContext, renderer="public/resource.jinja2",
             permission=Permission.VIEW)
def resource_page(context, request):
    resource = context.resource
    return {
        "tenant": context.tenant,
        "resource": resource,
        "venue": resource.venue,
        "week": week_of(request, resource),
    }

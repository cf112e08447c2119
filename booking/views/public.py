"""The public face of tenants: their venues, resources and free slots."""

from datetime import timedelta

from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config
from sqlalchemy import select

from ..models import Resource, Tenant, TenantStatus, Venue
from ..resources import ResourceContext, Root, TenantContext
from ..security import Permission
from ..services import AvailabilityService
from ..services.availability import zone_of
from ..services.errors import ValidationError
from .forms import day, optional, query


@view_config(context=Root, renderer="public/home.jinja2", permission=NO_PERMISSION_REQUIRED)
def home(context, request):
    tenants = request.dbsession.scalars(
        select(Tenant).where(Tenant.status == TenantStatus.ACTIVE).order_by(Tenant.name)
    ).all()
    return {"tenants": tenants}


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
    return {"tenant": tenant, "venues": venues, "resources_by_venue": by_venue}


@view_config(context=ResourceContext, renderer="public/resource.jinja2",
             permission=Permission.VIEW)
def resource_page(context, request):
    resource = context.resource
    zone = zone_of(resource)
    today = request.now.astimezone(zone).date()
    params = query(request, {"from": optional(day)})
    first = params["from"] or today
    if not today - timedelta(days=366) <= first <= today + timedelta(days=732):
        raise ValidationError("is too far from today", field="from")
    last = first + timedelta(days=6)
    slots = request.find_service(AvailabilityService).free_slots(resource, first, last)
    days = [first + timedelta(days=offset) for offset in range(7)]
    by_day = {d: [] for d in days}
    for slot in slots:
        by_day[slot.start.astimezone(zone).date()].append(slot)
    return {
        "tenant": context.tenant,
        "resource": resource,
        "venue": resource.venue,
        "zone": str(zone),
        "days": days,
        "slots_by_day": by_day,
        "previous_week": first - timedelta(days=7),
        "next_week": first + timedelta(days=7),
    }

"""A tenant's life on the platform: open or closed, suspended and
reactivated by the platform, deleted at its owner's request and purged by
the worker once the grace period has passed.

A tenant is *open* while it is active and no deletion is pending. A closed
tenant is 404 to the public, read-only to its staff and takes no bookings
(the ACLs of :mod:`booking.resources` apply it; the booking service refuses
too). Every change is audited in the tenant's own log.
"""

import logging
from datetime import timedelta

from sqlalchemy import delete, func, or_, select
from zope.sqlalchemy import mark_changed

from ..i18n import _
from ..models import Booking, Resource, Tenant, TenantStatus, Venue
from ..models.meta import Base
from . import audit
from .errors import Conflict

log = logging.getLogger(__name__)

DEFAULT_GRACE_DAYS = 30
#: Bookings counted in a tenant's size: those made in this many last days.
RECENT_DAYS = 30


def is_open(tenant):
    """Active, and its owner has not asked for it to be deleted."""
    return tenant.status == TenantStatus.ACTIVE and tenant.deletion_requested_at is None


def deletion_date(tenant, grace_days):
    """When a tenant whose deletion is pending will be purged."""
    return tenant.deletion_requested_at + timedelta(days=grace_days)


def suspend(dbsession, tenant, actor_id, now):
    if tenant.status == TenantStatus.SUSPENDED:
        raise Conflict(_("${tenant} is already suspended", mapping={"tenant": tenant.slug}),
                       field="status")
    tenant.status = TenantStatus.SUSPENDED
    audit.record(dbsession, tenant.id, actor_id, "tenant.suspended", "tenant", tenant.id, now)


def reactivate(dbsession, tenant, actor_id, now):
    if tenant.status == TenantStatus.ACTIVE:
        raise Conflict(_("${tenant} is already active", mapping={"tenant": tenant.slug}),
                       field="status")
    tenant.status = TenantStatus.ACTIVE
    audit.record(dbsession, tenant.id, actor_id, "tenant.reactivated", "tenant", tenant.id, now)


def request_deletion(dbsession, tenant, actor_id, now):
    if tenant.deletion_requested_at is not None:
        raise Conflict(_("the deletion of this business is already scheduled"), field="status")
    tenant.deletion_requested_at = now
    audit.record(dbsession, tenant.id, actor_id, "tenant.deletion_requested", "tenant",
                 tenant.id, now)


def cancel_deletion(dbsession, tenant, actor_id, now):
    if tenant.deletion_requested_at is None:
        raise Conflict(_("no deletion of this business is scheduled"), field="status")
    tenant.deletion_requested_at = None
    audit.record(dbsession, tenant.id, actor_id, "tenant.deletion_cancelled", "tenant",
                 tenant.id, now)


def tenant_tables():
    """The tables with a ``tenant_id`` column, children before parents."""
    return [table for table in reversed(Base.metadata.sorted_tables)
            if "tenant_id" in table.c and table.name != Tenant.__tablename__]


def purge(dbsession, tenant_id):
    """Delete the tenant and every row it owns, in every table (children
    first, so no foreign key is in the way whatever its ``ON DELETE``).
    Users stay: their memberships, bookings and audit rows here go."""
    counts = {}
    for table in tenant_tables():
        result = dbsession.execute(delete(table).where(table.c.tenant_id == tenant_id))
        counts[table.name] = result.rowcount
    dbsession.execute(delete(Tenant.__table__).where(Tenant.__table__.c.id == tenant_id))
    # Core statements only: tell the transaction there is something to commit.
    mark_changed(dbsession)
    return counts


def purge_due(dbsession, now, grace_days=DEFAULT_GRACE_DAYS):
    """Purge every tenant whose deletion was requested at least
    ``grace_days`` ago; return their slugs."""
    due = (Tenant.deletion_requested_at.is_not(None),
           Tenant.deletion_requested_at <= now - timedelta(days=grace_days))
    purged = []
    for tenant_id, slug in dbsession.execute(
            select(Tenant.id, Tenant.slug).where(*due).order_by(Tenant.id)).all():
        # Locked and asked again: an owner may have cancelled the deletion
        # since the list was read.
        if dbsession.scalar(select(Tenant.id).where(Tenant.id == tenant_id, *due)
                            .with_for_update()) is None:
            continue
        counts = purge(dbsession, tenant_id)
        log.info("tenant %s purged (%s rows)", slug, sum(counts.values()))
        purged.append(slug)
    return purged


def search(dbsession, text="", limit=50, offset=0):
    """Tenants whose name or slug contains ``text``, by name; and how many
    match in all."""
    query = select(Tenant)
    if text:
        pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace(
            "_", "\\_") + "%"
        query = query.where(or_(func.lower(Tenant.name).like(pattern, escape="\\"),
                                Tenant.slug.like(pattern, escape="\\")))
    total = dbsession.scalar(select(func.count()).select_from(query.subquery()))
    tenants = dbsession.scalars(query.order_by(Tenant.name, Tenant.id)
                                .limit(limit).offset(offset)).all()
    return tenants, total


def sizes(dbsession, tenant_ids, now):
    """``{tenant_id: {"venues", "resources", "bookings"}}``: venues, resources
    and bookings made in the last :data:`RECENT_DAYS` days. One grouped
    query per measure, whatever the number of tenants."""
    result = {tenant_id: {"venues": 0, "resources": 0, "bookings": 0}
              for tenant_id in tenant_ids}
    if not tenant_ids:
        return result
    measures = {
        "venues": (Venue, ()),
        "resources": (Resource, ()),
        "bookings": (Booking, (Booking.created_at >= now - timedelta(days=RECENT_DAYS),)),
    }
    for name, (model, conditions) in measures.items():
        rows = dbsession.execute(
            select(model.tenant_id, func.count())
            .where(model.tenant_id.in_(tenant_ids), *conditions)
            .group_by(model.tenant_id)
        )
        for tenant_id, count in rows:
            result[tenant_id][name] = count
    return result

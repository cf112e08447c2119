"""The platform administrators' work: the tenants (search, sizes, suspend,
reactivate), the audit log of every tenant, and who administers the
platform. The staff area's ``/admin/`` and the console scripts
(``booking-tenant``, ``booking-admin``) go through it."""

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ..models import AuditLog, Tenant, User, normalize_email
from . import tenants


class PlatformService:
    def __init__(self, dbsession, now):
        self.dbsession = dbsession
        self.now = now

    def tenants(self, text="", limit=50, offset=0):
        """``(tenants, total)``: those whose name or slug contains ``text``
        (every one with ``limit=None``)."""
        return tenants.search(self.dbsession, text, limit=limit, offset=offset)

    def tenant(self, slug):
        """The tenant of ``slug``, or ``None``."""
        return self.dbsession.scalar(select(Tenant).where(Tenant.slug == slug))

    def sizes(self, tenant_ids):
        return tenants.sizes(self.dbsession, tenant_ids, self.now)

    def suspend(self, tenant, actor_id):
        tenants.suspend(self.dbsession, tenant, actor_id, self.now)

    def reactivate(self, tenant, actor_id):
        tenants.reactivate(self.dbsession, tenant, actor_id, self.now)

    def user(self, email):
        """The user of ``email`` (in any case), or ``None``."""
        return self.dbsession.scalar(select(User).where(User.email == normalize_email(email)))

    def set_platform_admin(self, user, is_admin):
        """Make ``user`` a platform administrator or no longer one; whether
        that changed anything. Principals are computed on every request:
        it applies at once."""
        if user.is_platform_admin == is_admin:
            return False
        user.is_platform_admin = is_admin
        return True

    def audit_log(self, tenant_slug="", limit=50, offset=0):
        """``(entries, total)``: the audit rows of every tenant (or of the
        tenant ``tenant_slug``), newest first, each as ``(row, tenant slug,
        actor email or None)``."""
        conditions = []
        if tenant_slug:
            tenant_id = self.dbsession.scalar(select(Tenant.id).where(Tenant.slug == tenant_slug))
            conditions.append(AuditLog.tenant_id == tenant_id)
        actor = aliased(User)
        total = self.dbsession.scalar(select(func.count(AuditLog.id)).where(*conditions))
        entries = self.dbsession.execute(
            select(AuditLog, Tenant.slug, actor.email)
            .join(Tenant, Tenant.id == AuditLog.tenant_id)
            .outerjoin(actor, actor.id == AuditLog.actor_id)
            .where(*conditions)
            .order_by(AuditLog.at.desc(), AuditLog.id.desc())
            .limit(limit).offset(offset)
        ).all()
        return entries, total

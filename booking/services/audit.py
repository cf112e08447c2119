"""The audit log: one row per change, written in the transaction of the
change, read back as a record's history."""

from sqlalchemy import select

from ..models import AuditLog, User


def record(dbsession, tenant_id, actor_id, action, target_type, target_id, at, **details):
    """Note that ``actor_id`` did ``action`` to ``target_type`` ``target_id``."""
    dbsession.add(AuditLog(
        tenant_id=tenant_id, actor_id=actor_id, action=action, target_type=target_type,
        target_id=target_id, at=at, details=details,
    ))


def history(dbsession, tenant_id, target_type, target_id, limit=200):
    """The latest ``limit`` changes to one record, oldest first, with their
    actors (or None)."""
    newest_first = dbsession.execute(
        select(AuditLog, User)
        .outerjoin(User, User.id == AuditLog.actor_id)
        .where(AuditLog.tenant_id == tenant_id, AuditLog.target_type == target_type,
               AuditLog.target_id == target_id)
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .limit(limit)
    ).all()
    return newest_first[::-1]

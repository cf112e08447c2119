"""The audit log: one row per change, written in the transaction of the
change, read back as a record's history."""

from sqlalchemy import insert, select
from zope.sqlalchemy import mark_changed

from ..models import AuditLog, User


#: Built once (every change writes one); inline: no RETURNING of an id nothing reads.
RECORD = insert(AuditLog.__table__).inline()


def record(dbsession, tenant_id, actor_id, action, target_type, target_id, at, **details):
    """Note that ``actor_id`` did ``action`` to ``target_type`` ``target_id``.
    The row goes in at once through a Core ``INSERT`` of the table, on the
    session's connection: nothing reads it back as an object, so it need
    not pass through the session's unit of work or its execute path."""
    dbsession.connection().execute(RECORD, {
        "tenant_id": tenant_id, "actor_id": actor_id, "action": action,
        "target_type": target_type, "target_id": target_id, "at": at, "details": details,
    })
    mark_changed(dbsession)  # a Core statement: the transaction must commit it


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

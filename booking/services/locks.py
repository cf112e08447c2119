"""The double-booking guard's lock: every change to a resource's bookings
first serialises with every other change to that resource.

On PostgreSQL the resources' rows are locked (``SELECT … FOR UPDATE``, in id
order, so that two changes never wait on each other) and read afresh, so
that the capacity, price and hours checked are those of the locked row. On
SQLite a writing transaction started with ``BEGIN IMMEDIATE`` holds the
database's only write lock already, so nothing is read before it is held.
"""

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from ..models import Resource, Venue

#: The resources' rows, in id order, read afresh. Built once, the ids bound
#: per call.
LOCK_RESOURCES = (
    select(Resource)
    .where(Resource.id.in_(bindparam("ids", expanding=True)))
    .order_by(Resource.id)
    .with_for_update(of=Resource)
    .execution_options(populate_existing=True)
)

#: A resource of a tenant, loaded for a booking: locked as it is loaded, so
#: that the lock costs no statement of its own (its venue comes in the same
#: row; only the resource's row is locked).
LOAD_RESOURCE_LOCKED = (
    select(Resource)
    .where(Resource.id == bindparam("resource_id"), Resource.tenant_id == bindparam("tenant_id"))
    .options(joinedload(Resource.venue).lazyload(Venue.tenant))
    .with_for_update(of=Resource)
    .execution_options(populate_existing=True)
)


class ResourceLocks:
    """The resources locked by one session, remembered for as long as the
    locks last: the current transaction, or savepoint (rolling one back
    releases the locks taken in it)."""

    def __init__(self, dbsession):
        self.dbsession = dbsession
        self._held = (None, set())

    def held(self):
        current = self.dbsession.get_nested_transaction() or self.dbsession.get_transaction()
        if self._held[0] is not current:
            self._held = (current, set())
        return self._held[1]

    def lock(self, *resource_ids):
        """Serialise with every other change to these resources until the
        transaction ends."""
        connection = self.dbsession.connection()
        if connection.dialect.name == "sqlite":
            if connection.get_execution_options().get("sqlite_begin") != "immediate":
                raise RuntimeError(
                    "booking changes on SQLite need a write transaction (BEGIN IMMEDIATE): "
                    "open the session with get_tm_session(..., write=True)"
                )
            return
        held = self.held()
        wanted = set(resource_ids) - held
        if wanted:
            self.dbsession.execute(LOCK_RESOURCES, {"ids": sorted(wanted)}).all()
            held |= wanted

    def load_locked(self, tenant, resource_id):
        """Resource ``resource_id`` of ``tenant`` with its venue, locked by
        its load (:meth:`lock` then takes no second lock), or None."""
        resource = self.dbsession.scalar(
            LOAD_RESOURCE_LOCKED, {"resource_id": resource_id, "tenant_id": tenant.id})
        if resource is not None:
            self.held().add(resource.id)
        return resource

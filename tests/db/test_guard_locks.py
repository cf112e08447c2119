"""The guard remembers the resources it locked only for as long as the locks
last: a booking service kept across transactions, or across a savepoint
rolled back, locks again (PostgreSQL: the locks are row locks)."""

import pytest
import transaction
from sqlalchemy import event

from booking.models import get_tm_session
from booking.services.booking import BookingService

from .. import builders as b
from ..conftest import NOW


@pytest.fixture
def pg(postgresql_db):
    yield postgresql_db
    postgresql_db.clean()


@pytest.fixture
def resource_id(pg):
    with pg.session() as s:
        return b.resource(s, b.venue(s, b.tenant(s))).id


@pytest.fixture
def locks(pg):
    """The locking statements sent to the database."""
    sent = []

    def record(conn, cursor, statement, *args):
        if "FOR UPDATE" in statement:
            sent.append(statement)

    event.listen(pg.engine, "before_cursor_execute", record)
    yield sent
    event.remove(pg.engine, "before_cursor_execute", record)


def test_guard_locks_a_resource_once_in_a_transaction(pg, resource_id, locks):
    manager = transaction.TransactionManager(explicit=True)
    service = BookingService(get_tm_session(pg.session_factory, manager, write=True), NOW)
    with manager:
        service.lock_resources(resource_id)
        service.lock_resources(resource_id)
    assert len(locks) == 1


def test_guard_locks_again_in_the_next_transaction(pg, resource_id, locks):
    manager = transaction.TransactionManager(explicit=True)
    service = BookingService(get_tm_session(pg.session_factory, manager, write=True), NOW)
    with manager:
        service.lock_resources(resource_id)
    with manager:
        service.lock_resources(resource_id)
    assert len(locks) == 2


def test_guard_locks_again_after_a_savepoint_rolled_back(pg, resource_id, locks):
    manager = transaction.TransactionManager(explicit=True)
    session = get_tm_session(pg.session_factory, manager, write=True)
    service = BookingService(session, NOW)
    with manager:
        session.connection()
        savepoint = session.begin_nested()
        service.lock_resources(resource_id)
        savepoint.rollback()
        service.lock_resources(resource_id)
    assert len(locks) == 2

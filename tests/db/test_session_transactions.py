"""Sessions and their transaction managers: zope.sqlalchemy's events are
listened to once on the session factory, and each session follows the
manager it names (``get_tm_session``)."""

import pytest
import transaction
from sqlalchemy import func, select

from booking.models import Tenant, get_tm_session

from .. import builders as b


def tenants(db):
    with db.session_factory() as s:
        return s.scalar(select(func.count()).select_from(Tenant))


def test_a_session_commits_with_its_own_manager_not_another(db):
    first = transaction.TransactionManager(explicit=True)
    second = transaction.TransactionManager(explicit=True)
    first.begin()
    second.begin()
    b.tenant(get_tm_session(db.session_factory, first, write=True), slug="kept")
    get_tm_session(db.session_factory, second)  # joined to nothing it writes
    second.commit()
    assert tenants(db) == 0
    first.commit()
    assert tenants(db) == 1


def test_a_session_aborted_with_its_manager_writes_nothing(db):
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    b.tenant(get_tm_session(db.session_factory, manager, write=True))
    manager.abort()
    assert tenants(db) == 0


def test_a_core_write_marks_the_transaction_for_commit(db):
    """An ORM DML statement (no flush of objects) is seen by the events:
    the manager commits it rather than rolling a read-only session back."""
    from sqlalchemy import update

    with db.session() as s:
        b.tenant(s, slug="before")
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        s = get_tm_session(db.session_factory, manager)
        s.execute(update(Tenant).values(name="renamed"))
    with db.session_factory() as s:
        assert s.scalar(select(Tenant.name)) == "renamed"


def test_a_session_without_a_manager_joins_no_transaction(db):
    """A plain session from the factory is its own: the thread's default
    transaction manager neither commits nor tracks it."""
    with transaction.manager:
        with db.session_factory() as s:
            b.tenant(s)
            assert transaction.get()._resources == []
    assert tenants(db) == 0


def test_committing_a_session_directly_under_a_manager_is_refused(db):
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    s = get_tm_session(db.session_factory, manager)
    b.tenant(s)
    with pytest.raises(AssertionError, match="transaction manager"):
        s.commit()
    manager.abort()

"""Transient database errors are replayed by pyramid_retry; when the
attempts are spent the client gets a clear 503 and nothing is written."""

import threading
import time

import pytest
import webtest
from sqlalchemy import func, select, text

from booking import main
from booking.models import Booking

from ..conftest import app_settings
from ..functional.api import IN_A_WEEK, at, book

LOCK_WAIT_MS = 200


@pytest.fixture
def impatient_testapp(db, clock):
    app = main({}, **app_settings(db, **{
        "booking.pg_lock_timeout_ms": str(LOCK_WAIT_MS),
        "booking.sqlite_busy_timeout_ms": str(LOCK_WAIT_MS),
    }))
    yield webtest.TestApp(app)
    app.app.registry["dbsession_factory"].kw["bind"].dispose()


def hold_lock(db, world, seconds):
    """Lock what a booking needs, from another connection, for ``seconds``."""
    ready = threading.Event()

    def holder():
        with db.engine.connect() as connection:
            if db.backend == "postgresql":
                connection.execute(text("SELECT 1 FROM resources WHERE id = :id FOR UPDATE"),
                                   {"id": world.court_id})
            else:
                connection.execution_options(sqlite_begin="immediate")
                connection.exec_driver_sql("UPDATE tenants SET name = name WHERE 0")
            ready.set()
            time.sleep(seconds)
            connection.rollback()

    thread = threading.Thread(target=holder)
    thread.start()
    ready.wait(10)
    return thread


def bookings(world):
    with world.db.session() as s:
        return s.scalar(select(func.count()).select_from(Booking))


def test_lock_held_too_long_is_503_and_nothing_written(impatient_testapp, world):
    thread = hold_lock(world.db, world, seconds=3 * LOCK_WAIT_MS / 1000 + 1.5)
    try:
        response = book(impatient_testapp, world, start=at(IN_A_WEEK, 10), status=503)
    finally:
        thread.join()
    assert response.json["error"]["code"] == "unavailable"
    assert "nothing was saved" in response.json["error"]["message"]
    assert response.headers["Retry-After"] == "1"
    assert bookings(world) == 0


def test_lock_released_during_retries_succeeds(impatient_testapp, world):
    thread = hold_lock(world.db, world, seconds=LOCK_WAIT_MS * 1.5 / 1000)
    try:
        book(impatient_testapp, world, start=at(IN_A_WEEK, 10), status=201)
    finally:
        thread.join()
    assert bookings(world) == 1


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_connection_cut_by_the_server_is_replayed_on_a_new_one(impatient_testapp, world):
    """No pre-ping: a pooled connection that PostgreSQL has dropped fails on
    its first statement, and the request is replayed on a fresh connection."""
    book(impatient_testapp, world, start=at(IN_A_WEEK, 9), status=201)
    engine = impatient_testapp.app.app.registry["dbsession_factory"].kw["bind"]
    assert not engine.pool._pre_ping
    with engine.connect() as pooled:  # the pool's only connection, back in it after
        backend = pooled.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    assert engine.pool.checkedin() == 1
    with world.db.engine.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"),
                                  {"pid": backend}).scalar()
    book(impatient_testapp, world, start=at(IN_A_WEEK, 10), status=201)
    assert bookings(world) == 2


def test_connection_lost_at_commit_is_not_replayed():
    """At COMMIT the outcome is unknown (it may have committed): a replay
    could book twice. SQLAlchemy raises it without a statement."""
    from sqlalchemy.exc import OperationalError

    from booking.models import is_transient_error

    lost = OSError("server closed the connection unexpectedly")
    in_statement = OperationalError("SELECT 1", {}, lost, connection_invalidated=True)
    in_commit = OperationalError(None, None, lost, connection_invalidated=True)
    assert is_transient_error(in_statement)
    assert not is_transient_error(in_commit)

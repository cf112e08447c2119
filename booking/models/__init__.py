"""Database plumbing: engine, session factory, the per-request session.

The shape is the Pyramid cookiecutter's: ``request.dbsession`` is bound to
the request's transaction manager (``pyramid_tm``), and ``pyramid_retry``
replays the whole request on transient database errors.
"""

import contextlib
import os
import sqlite3
import weakref
from operator import attrgetter

import zope.sqlalchemy
from sqlalchemy import engine_from_config, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import configure_mappers, sessionmaker

from .. import crypto

from .audit import AuditLog  # noqa: F401
from .booking import ACTIVE_STATUSES, Booking, BookingStatus, PaymentStatus  # noqa: F401
from .feeds import CalendarFeed  # noqa: F401
from .geocoding import GeocodeResult, ProviderSlot  # noqa: F401
from .marketing import MarketingConsent, OfferMailing, OfferRecipient  # noqa: F401
from .meta import Base  # noqa: F401
from .mfa import Passkey, RecoveryCode, TotpFactor  # noqa: F401
from .outbox import OutboxMessage  # noqa: F401
from .payment import Payment, PaymentEvent, PaymentState, Refund  # noqa: F401
from .promotion import (CodeUse, Offer, OfferKind, PromoCode, Voucher,  # noqa: F401
                        VoucherEntry, VoucherEntryKind)
from .resource import Resource, ResourceKind  # noqa: F401
from .security import SecurityEvent, UserSession  # noqa: F401
from .tenant import Tenant, TenantStatus  # noqa: F401
from .throttle import ThrottleCounter  # noqa: F401
from .user import ApiToken, Membership, Role, User, normalize_email  # noqa: F401
from .user_token import TokenPurpose, UserToken  # noqa: F401
from .venue import Closure, OpeningHours, Venue  # noqa: F401
from .voucher_order import VoucherOrder, VoucherOrderState  # noqa: F401

configure_mappers()

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: PostgreSQL SQLSTATEs worth replaying the request for: serialization
#: failure, deadlock, lock timeout.
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
EXCLUSION_VIOLATION = "23P01"
UNIQUE_VIOLATION = "23505"
#: Two requests with one Idempotency-Key for different resources lock
#: different rows and may both insert; the loser's replay finds the winner.
IDEMPOTENCY_CONSTRAINT = "uq_bookings_tenant_id_customer_id_idempotency_key"


def _configure_sqlite(engine, busy_timeout_ms):
    """SQLite has one writer at a time. The driver is put in autocommit mode
    so that we emit BEGIN ourselves: ``BEGIN IMMEDIATE`` for transactions that
    will write (it takes the write lock up front, so two writers queue on the
    busy timeout instead of failing half-way), plain ``BEGIN`` for readers."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = connection.get_execution_options().get("sqlite_begin")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if mode == "immediate" else "BEGIN")


def get_engine(settings, prefix="sqlalchemy."):
    url = settings[prefix + "url"]
    connect_args = {}
    if url.startswith("sqlite"):
        connect_args["timeout"] = settings.get("booking.sqlite_busy_timeout_ms", 30000) / 1000
        connect_args["check_same_thread"] = False
    elif url.startswith("postgresql"):
        lock_timeout = int(settings.get("booking.pg_lock_timeout_ms", 5000))
        # The session speaks UTC: timestamptz values arrive as UTC datetimes,
        # which UTCDateTime then passes through untouched.
        connect_args["options"] = f"-c lock_timeout={lock_timeout} -c TimeZone=UTC"
    # Parameters stay out of error messages, and so out of the server's log
    # (a failed statement's parameters may be an email address, a digest).
    engine = engine_from_config(settings, prefix, connect_args=connect_args,
                                hide_parameters=True)
    # The keys of the encrypted columns (EncryptedString) travel with the engine.
    keyring = settings.get("booking.data_keys") or None
    if isinstance(keyring, str):
        keyring = crypto.Keyring.parse(keyring)
    crypto.attach(engine, keyring)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, settings.get("booking.sqlite_busy_timeout_ms", 30000))
    _forget_pool_in_forked_children(engine)
    return engine


def _forget_pool_in_forked_children(engine):
    """A process forked after start-up (``booking.serve``'s workers) must not
    use the parent's pooled connections: the child drops them unclosed and
    opens its own, as SQLAlchemy's guide to multiprocessing advises."""
    if not hasattr(os, "register_at_fork"):
        return
    engine_ref = weakref.ref(engine)  # the hook must not keep engines alive

    def forget():
        forked = engine_ref()
        if forked is not None:
            forked.dispose(close=False)

    os.register_at_fork(after_in_child=forget)


#: The key of ``Session.info`` naming the session's transaction manager.
TRANSACTION_MANAGER = "transaction_manager"
#: zope.sqlalchemy's session events, and where each finds its session.
_ZOPE_EVENTS = {
    "after_begin": None, "after_attach": None, "after_flush": None, "before_commit": None,
    "after_bulk_update": attrgetter("session"), "after_bulk_delete": attrgetter("session"),
    "do_orm_execute": attrgetter("session"),
}


def _zope_listener(name, session_of):
    """zope.sqlalchemy's handler of event ``name``, for the transaction
    manager the session names in its info; nothing for a session that
    names none (a plain ``with factory() as session:``)."""
    def listener(target, *args):
        session = session_of(target) if session_of else target
        manager = session.info.get(TRANSACTION_MANAGER)
        if manager is not None:
            events = zope.sqlalchemy.ZopeTransactionEvents(transaction_manager=manager)
            getattr(events, name)(target, *args)
    return listener


def get_session_factory(engine):
    """The session factory. zope.sqlalchemy's events are listened to once
    here, not registered on each request's session: seven listeners per
    session cost a booking ~5 % of its instructions (0.66 M)."""
    factory = sessionmaker(bind=engine)
    for name, session_of in _ZOPE_EVENTS.items():
        event.listen(factory, name, _zope_listener(name, session_of))
    return factory


def get_tm_session(session_factory, transaction_manager, request=None, write=False):
    """A session joined to ``transaction_manager``.

    ``write=True`` announces that the transaction will write; on SQLite it
    then starts with ``BEGIN IMMEDIATE``. Usage in scripts::

        with transaction.manager as tm:
            dbsession = get_tm_session(factory, tm, write=True)
    """
    dbsession = session_factory(
        info={"request": request, TRANSACTION_MANAGER: transaction_manager})
    if write and dbsession.get_bind().dialect.name == "sqlite":
        dbsession.connection(execution_options={"sqlite_begin": "immediate"})
    return dbsession


@contextlib.contextmanager
def write_session(session_factory):
    """A short transaction of its own that will write (``BEGIN IMMEDIATE``
    on SQLite), outside any request's; committed on leaving the block."""
    with session_factory() as session, session.begin():
        if session.get_bind().dialect.name == "sqlite":
            session.connection(execution_options={"sqlite_begin": "immediate"})
        yield session


#: Each dialect's ``insert``, which has ``on_conflict_do_nothing`` / ``_do_update``.
DIALECT_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def insert_for(dbsession, model):
    """An ``INSERT`` of ``model`` in the session's dialect, so that
    ``on_conflict_do_nothing`` / ``on_conflict_do_update`` are at hand."""
    return DIALECT_INSERTS[dbsession.get_bind().dialect.name](model)


def is_transient_error(exc):
    """True for database errors that a replay of the request may not meet
    again: lock timeouts, deadlocks, serialization failures, a busy SQLite,
    and a pooled connection the server has dropped (a restart, an idle
    timeout: the pool is not pinged at each checkout, so the first statement
    finds out, and the replay runs on a new connection). A connection lost
    at COMMIT is not: the transaction may have been committed, and a replay
    could do it twice."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return exc.statement is not None  # None: lost in COMMIT (or ROLLBACK)
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in TRANSIENT_SQLSTATES:
        return True
    if sqlstate == UNIQUE_VIOLATION:
        return getattr(orig.diag, "constraint_name", None) == IDEMPOTENCY_CONSTRAINT
    if isinstance(orig, sqlite3.OperationalError):
        message = str(orig).lower()
        return "database is locked" in message or "database is busy" in message
    return False


def is_exclusion_violation(exc):
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) == EXCLUSION_VIOLATION


def includeme(config):
    settings = config.get_settings()
    # The transaction is begun explicitly by pyramid_tm for each request;
    # pyramid_retry must come first so that it wraps the whole attempt.
    settings["tm.manager_hook"] = "pyramid_tm.explicit_manager"
    # pyramid_tm would resolve the user before the view (outside the
    # exception views, so a busy database there would be a bare 500).
    settings["tm.annotate_user"] = False
    config.include("pyramid_retry")
    config.include("pyramid_tm")

    engine = get_engine(settings)
    session_factory = get_session_factory(engine)
    config.registry["dbsession_factory"] = session_factory

    def dbsession(request):
        return get_tm_session(
            session_factory,
            request.tm,
            request=request,
            write=request.method not in SAFE_METHODS,
        )

    config.add_request_method(dbsession, reify=True)

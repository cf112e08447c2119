"""Real test databases: a SQLite file and a PostgreSQL database created for
the session, both migrated with Alembic (never ``create_all``)."""

import contextlib
import os
import uuid

import psycopg
import transaction
from alembic import command
from alembic.config import Config
from sqlalchemy import make_url, text

from booking.models import get_engine, get_session_factory, get_tm_session
from booking.models.meta import Base

HERE = os.path.dirname(os.path.abspath(__file__))
ALEMBIC_DIR = os.path.join(os.path.dirname(HERE), "alembic")
#: Names of the databases the tests create begin with this (CI sets its own,
#: to check afterwards that its run dropped every one).
DB_PREFIX = os.environ.get("BOOKING_TEST_DB_PREFIX", "booking_test_")
#: The data key of the test databases (and of the apps built on them).
TEST_DATA_KEYS = "test:O7-MhmRCzsrjaDqBYFw7LWcgvo5u1X387coD9CZ8a1s="
PG_ADMIN_URL = os.environ.get(
    "BOOKING_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def alembic_config(connection=None):
    config = Config()
    config.set_main_option("script_location", ALEMBIC_DIR)
    config.attributes["configure_logging"] = False
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migrate(engine, revision="head"):
    with engine.connect() as connection:
        command.upgrade(alembic_config(connection), revision)


def postgresql_available():
    try:
        with psycopg.connect(_libpq(PG_ADMIN_URL), connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _libpq(url):
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Database:
    """One migrated database and what tests need of it."""

    def __init__(self, backend, url, settings=None):
        self.backend = backend
        self.url = url
        self.settings = {"sqlalchemy.url": url, "sqlalchemy.pool_size": "40",
                         "sqlalchemy.max_overflow": "20", "booking.data_keys": TEST_DATA_KEYS,
                         **(settings or {})}
        self.engine = get_engine(self.settings)
        self.session_factory = get_session_factory(self.engine)

    @contextlib.contextmanager
    def session(self):
        """A writing session in its own committed transaction."""
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            yield get_tm_session(self.session_factory, manager, write=True)

    def clean(self):
        tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
        with self.engine.begin() as connection:
            if self.backend == "postgresql":
                connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    connection.execute(text(f"DELETE FROM {table}"))

    def dispose(self):
        self.engine.dispose()


@contextlib.contextmanager
def sqlite_database(directory):
    url = f"sqlite:///{directory}/booking.sqlite"
    database = Database("sqlite", url)
    migrate(database.engine)
    try:
        yield database
    finally:
        database.dispose()


@contextlib.contextmanager
def empty_postgresql_database():
    """A new PostgreSQL database without tables, dropped afterwards; yields
    its URL."""
    name = f"{DB_PREFIX}{uuid.uuid4().hex[:10]}"
    admin = _libpq(PG_ADMIN_URL)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def postgresql_database():
    with empty_postgresql_database() as url:
        database = Database("postgresql", url)
        try:
            migrate(database.engine)
            yield database
        finally:
            database.dispose()

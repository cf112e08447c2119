"""Alembic environment: settings come from the app's own INI file (and its
environment overrides), so migrations and the app always share one URL."""

from alembic import context
from pyramid.paster import get_appsettings, setup_logging
from sqlalchemy import text

from booking.models import get_engine
from booking.models.meta import Base
from booking.settings import parse_settings

config = context.config
if config.config_file_name and config.attributes.get("configure_logging", True):
    setup_logging(config.config_file_name)

#: Any constant; every process migrating one PostgreSQL database agrees on it.
MIGRATION_LOCK_KEY = 0x626F6F6B


def run_migrations_online():
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    settings = parse_settings(get_appsettings(config.config_file_name))
    engine = get_engine(settings)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection):
    is_postgresql = connection.dialect.name == "postgresql"
    if is_postgresql:
        # One migrator at a time, and no waiting forever on a busy table.
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.execute(text("SET lock_timeout = '10s'"))
        connection.commit()
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            # Our SQLite connections run real BEGIN/COMMIT (see booking.models).
            transactional_ddl=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    finally:
        if is_postgresql:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run against a database")
run_migrations_online()

"""The migrations and the models agree, and migrations go both ways."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from booking.models.meta import Base

from ..database import alembic_config


def test_models_match_migrations(db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_is_idempotent(db):
    with db.engine.connect() as connection:
        command.upgrade(alembic_config(connection), "head")
        assert "bookings" in inspect(connection).get_table_names()


def test_downgrade_to_base_and_back(db):
    with db.engine.connect() as connection:
        command.downgrade(alembic_config(connection), "base")
        assert "bookings" not in inspect(connection).get_table_names()
        command.upgrade(alembic_config(connection), "head")
        assert "bookings" in inspect(connection).get_table_names()


def test_postgresql_has_the_exclusion_constraint(postgresql_db):
    with postgresql_db.engine.connect() as connection:
        names = connection.exec_driver_sql(
            "SELECT conname FROM pg_constraint WHERE contype = 'x'").scalars().all()
    assert "ex_bookings_exclusive_no_overlap" in names

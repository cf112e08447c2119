"""Column types that keep time and money honest."""

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class NaiveDatetimeError(ValueError):
    """A naive datetime reached the database layer: a bug, refused loudly."""


class UTCDateTime(TypeDecorator):
    """An instant, stored in UTC, returned as an aware UTC datetime.

    Naive datetimes are refused rather than guessed at. On PostgreSQL the
    column is ``timestamptz``; SQLite has no time zone support, so the value
    is stored as naive UTC text, which sorts and compares correctly.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UTCDateTime expects a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError(f"naive datetime {value.isoformat()} refused: give it a time zone")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def result_processor(self, dialect, coltype):
        if dialect.name == "postgresql" and dialect.driver == "psycopg":
            # psycopg reads timestamptz in the session's time zone, which
            # get_engine sets to UTC: the values are aware UTC datetimes
            # already, and a calendar reads thousands of them.
            return self._utc_or_converted
        return super().result_processor(dialect, coltype)

    @staticmethod
    def _utc_or_converted(value):
        if value is None or value.tzinfo is UTC:
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

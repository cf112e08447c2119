"""Column types that keep time and money honest, and secrets secret."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, Text
from sqlalchemy.types import TypeDecorator

from ..crypto import KeyringError, keyring_of


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


class EncryptedString(TypeDecorator):
    """Text encrypted at rest with the engine's keyring (:mod:`booking.crypto`).

    Declare it with the column's place, which binds each value to it::

        phone: Mapped[str] = mapped_column(EncryptedString("users.phone"), default="")

    ``booking-keys rotate`` and ``status`` find every column of this type in
    the metadata: nothing else to register. The column is ``TEXT`` (a
    ciphertext is longer than its plaintext: limit lengths in the service).
    Empty strings are stored empty; legacy plaintext reads as it is. An
    encrypted column cannot be searched, compared or sorted in SQL: every
    ciphertext differs, even of one value.
    """

    impl = Text
    cache_ok = True

    def __init__(self, place):
        super().__init__()
        table, dot, column = place.partition(".")
        if not (table and dot and column):
            raise ValueError(f"EncryptedString needs 'table.column', got {place!r}")
        self.place = place

    def process_bind_param(self, value, dialect):
        if value is None or value == "":
            return value
        keyring = keyring_of(dialect)
        if keyring is None:
            raise KeyringError(
                f"{self.place} is encrypted and no data key is configured: export "
                "BOOKING_DATA_KEYS (booking-keys generate makes one)")
        return keyring.encrypt(value, self.place)

    def process_result_value(self, value, dialect):
        if value is None or value == "":
            return value
        keyring = keyring_of(dialect)
        if keyring is None:
            if value.startswith("enc:"):
                raise KeyringError(f"{self.place} is encrypted and no data key is configured")
            return value
        return keyring.decrypt(value, self.place)

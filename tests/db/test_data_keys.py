"""Encryption at rest on both databases: values are stored encrypted,
``booking-keys rotate`` moves them to a new key in resumable batches, and a
dump of the database shows none of them in clear."""

import sqlite3
import subprocess
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from booking.crypto import generate_key
from booking.models import Booking, User, get_engine, get_session_factory
from booking.services.data_keys import PLAINTEXT, rotate, rotate_batch, status
from booking.services.data_keys import encrypted_columns
from booking.services.mfa import MfaService

from .. import builders as b
from ..database import TEST_DATA_KEYS, _libpq

NEW_KEY = generate_key("k2")
PHONE = "+33 6 11 22 33 44"
NOTE = "door code 4711, allergic to cats"
START = datetime(2026, 3, 10, 9, tzinfo=UTC)


def factory_with(db, keys):
    engine = get_engine({**db.settings, "booking.data_keys": keys})
    return get_session_factory(engine)


def customers_with_bookings(db, count):
    with db.session() as s:
        tenant = b.tenant(s)
        court = b.resource(s, b.venue(s, tenant), capacity=10)
        for n in range(count):
            customer = b.user(s, phone=f"{PHONE}{n}")
            b.booking(s, court, customer, START, note=f"{NOTE} {n}")


def stored(db, table, column):
    with db.engine.connect() as connection:
        return [value for (value,) in connection.execute(
            text(f"SELECT {column} FROM {table} ORDER BY id"))]


def test_phone_and_note_are_stored_encrypted(db):
    customers_with_bookings(db, 1)
    assert stored(db, "users", "phone")[0].startswith("enc:v1:test:")
    assert all(value.startswith("enc:v1:test:") for value in stored(db, "bookings", "note"))
    with db.session() as s:
        assert s.query(User).one().phone == f"{PHONE}0"
        assert s.query(Booking).one().note == f"{NOTE} 0"


def test_empty_values_are_stored_empty(db):
    with db.session() as s:
        b.user(s, phone="")
    assert stored(db, "users", "phone") == [""]


def test_rotation_interrupted_and_resumed_leaves_every_value_under_the_new_key(db):
    customers_with_bookings(db, 5)
    both = factory_with(db, f"{NEW_KEY},{TEST_DATA_KEYS}")
    users_table, phone = next((t, c) for t, c in encrypted_columns() if c.type.place == "users.phone")

    rotated, after = rotate_batch(both, users_table, phone, size=2)  # then "interrupted"
    assert rotated == 2 and after is not None
    assert status(both)["users.phone"] == {"k2": 2, "test": 3}

    rotate(both, size=2, report=lambda line: None)  # run again: it continues
    counts = status(both)
    assert counts["users.phone"] == {"k2": 5}
    assert counts["bookings.note"] == {"k2": 5}
    assert counts["bookings.contact_phone"] == {"k2": 5}
    assert rotate(both, size=2, report=lambda line: None) == 0  # idempotent

    only_new = factory_with(db, NEW_KEY)  # the old key dropped
    with only_new() as s:
        assert sorted(u.phone for u in s.query(User)) == [f"{PHONE}{n}" for n in range(5)]
        assert sorted(x.note for x in s.query(Booking)) == [f"{NOTE} {n}" for n in range(5)]


def test_rotation_encrypts_legacy_plaintext(db):
    customers_with_bookings(db, 2)
    with db.engine.begin() as connection:  # as rows were before the migration
        connection.execute(text("UPDATE users SET phone = '+1 555 0100'"))
    assert status(db.session_factory)["users.phone"] == {PLAINTEXT: 2}
    with db.session() as s:
        assert {u.phone for u in s.query(User)} == {"+1 555 0100"}  # readable meanwhile
    rotate(db.session_factory, size=10, report=lambda line: None)
    assert status(db.session_factory)["users.phone"] == {"test": 2}
    assert "+1 555 0100" not in "".join(stored(db, "users", "phone"))


def dump(db):
    if db.backend == "postgresql":
        return subprocess.run(["pg_dump", "--data-only", _libpq(db.url)], check=True,
                              capture_output=True, text=True).stdout
    connection = sqlite3.connect(db.engine.url.database)
    try:
        return "\n".join(connection.iterdump())
    finally:
        connection.close()


def test_database_dump_shows_no_sensitive_value_in_clear(db):
    customers_with_bookings(db, 3)
    with db.session() as s:  # a second factor's secret too
        user = s.scalars(select(User).order_by(User.id)).first()
        totp_secret = MfaService(s, START).start_totp(user).secret
    text_of_dump = dump(db)
    assert totp_secret not in text_of_dump
    assert "door code" not in text_of_dump and "allergic" not in text_of_dump
    assert "+33 6 11" not in text_of_dump and "33 44" not in text_of_dump
    assert "enc:v1:test:" in text_of_dump  # the dump did hold the rows


def test_value_copied_to_another_column_does_not_read(db):
    customers_with_bookings(db, 1)
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE bookings SET note = contact_phone"))
    with db.session() as s, pytest.raises(Exception, match="moved from another column"):
        s.query(Booking).one().note

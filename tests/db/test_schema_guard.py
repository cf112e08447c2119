"""PostgreSQL enforces the invariant for exclusive resources in the schema
itself, whatever code path writes."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, StatementError

from booking.models import Booking, Tenant, User, is_exclusion_violation
from booking.models.types import NaiveDatetimeError
from booking.services.booking import BookingService
from booking.services.errors import Conflict

from .. import builders as b
from ..conftest import NOW
from ..functional.api import IN_A_WEEK, at

INSERT = text("""
    INSERT INTO bookings (tenant_id, reference, resource_id, customer_id, starts_at, ends_at,
        block_start, block_end, seats, exclusive, status, price, currency, payment_status,
        note, cancel_reason, sequence, created_at, updated_at)
    VALUES (:tenant, :reference, :resource, :customer, :start, :end, :start, :end, 1,
        :exclusive, :status, 0, 'EUR', 'not_required', '', '', 0, now(), now())
""")


@pytest.fixture
def pg(postgresql_db):
    yield postgresql_db
    postgresql_db.clean()


@pytest.fixture
def court(pg):
    with pg.session() as s:
        tenant = b.tenant(s)
        venue = b.venue(s, tenant)
        resource = b.resource(s, venue, capacity=1)
        return {"tenant": tenant.id, "resource": resource.id, "customer": b.user(s).id}


def insert(pg, court, start, minutes=60, status="confirmed", exclusive=True, reference=None):
    start = datetime.fromisoformat(start)
    with pg.engine.begin() as connection:
        connection.execute(INSERT, {
            "tenant": court["tenant"], "resource": court["resource"], "customer": court["customer"],
            "reference": reference or f"R{start:%H%M}{status[:3]}{minutes}",
            "start": start, "end": start + timedelta(minutes=minutes),
            "exclusive": exclusive, "status": status,
        })


def test_overlapping_insert_refused_by_exclusion_constraint(pg, court):
    insert(pg, court, at(IN_A_WEEK, 10))
    with pytest.raises(IntegrityError) as error:
        insert(pg, court, at(IN_A_WEEK, 10, 30))
    assert is_exclusion_violation(error.value)
    assert "ex_bookings_exclusive_no_overlap" in str(error.value)


def test_adjacent_insert_accepted(pg, court):
    insert(pg, court, at(IN_A_WEEK, 10))
    insert(pg, court, at(IN_A_WEEK, 11))


def test_cancelled_rows_do_not_count(pg, court):
    insert(pg, court, at(IN_A_WEEK, 10), status="cancelled")
    insert(pg, court, at(IN_A_WEEK, 10))


def test_non_exclusive_rows_are_left_to_the_service(pg, court):
    insert(pg, court, at(IN_A_WEEK, 10), exclusive=False)
    insert(pg, court, at(IN_A_WEEK, 10), exclusive=False, reference="OTHER")


def test_exclusion_violation_becomes_conflict(pg, court):
    """If a row slips past the service's count (say, written by another
    program), the constraint's violation still reaches the client as 409."""
    insert(pg, court, at(IN_A_WEEK, 10))
    start = datetime.fromisoformat(at(IN_A_WEEK, 10, 30))
    with pg.session() as s:
        s.add(Booking(
            tenant_id=court["tenant"], reference="SLIPPED", resource_id=court["resource"],
            customer_id=court["customer"], starts_at=start, ends_at=start + timedelta(hours=1),
            block_start=start, block_end=start + timedelta(hours=1), exclusive=True,
            status="confirmed", currency="EUR", created_at=NOW, updated_at=NOW,
        ))
        with pytest.raises(Conflict, match="already booked"):
            BookingService(s, NOW).flush()
        s.rollback()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_naive_datetime_refused_before_the_database(request, backend):
    database = request.getfixturevalue(f"{backend}_db")
    with pytest.raises(StatementError) as error:
        with database.session() as s:
            s.add(Tenant(slug="naive", name="Naive", time_zone="UTC", currency="EUR",
                         created_at=datetime(2026, 1, 1)))
            s.flush()
    assert isinstance(error.value.orig, NaiveDatetimeError)


def test_user_email_stored_lowercase(pg):
    with pg.session() as s:
        user = b.user(s, email="Someone@Example.TEST")
        assert s.get(User, user.id).email == "someone@example.test"


def test_hold_without_expiry_refused_by_schema(db):
    with db.session() as s:
        tenant = b.tenant(s)
        resource = b.resource(s, b.venue(s, tenant))
        customer = b.user(s)
        ids = (tenant.id, resource.id, customer.id)
    start = datetime.fromisoformat(at(IN_A_WEEK, 10))
    with pytest.raises(IntegrityError):
        with db.session() as s:
            s.add(Booking(tenant_id=ids[0], reference="NOEXPIRY", resource_id=ids[1],
                          customer_id=ids[2], starts_at=start, ends_at=start + timedelta(hours=1),
                          block_start=start, block_end=start + timedelta(hours=1),
                          status="held", currency="EUR", created_at=NOW, updated_at=NOW))
            s.flush()


def test_same_idempotency_key_race_is_transient_on_postgresql(pg, court):
    """Two requests with one key for different resources lock different rows;
    the loser's unique violation is replayed, and the replay finds the winner."""
    from booking.models import is_transient_error

    def add(s, reference, hour):
        start = datetime.fromisoformat(at(IN_A_WEEK, hour))
        s.add(Booking(tenant_id=court["tenant"], reference=reference, resource_id=court["resource"],
                      customer_id=court["customer"], starts_at=start,
                      ends_at=start + timedelta(hours=1), block_start=start,
                      block_end=start + timedelta(hours=1), status="confirmed", currency="EUR",
                      idempotency_key="same", created_at=NOW, updated_at=NOW))

    with pg.session() as s:
        add(s, "FIRST", 10)
    with pytest.raises(IntegrityError) as error:
        with pg.session() as s:
            add(s, "SECOND", 12)
            s.flush()
    assert is_transient_error(error.value)


def test_postgresql_sessions_read_instants_as_utc(pg):
    """get_engine sets each session's TimeZone to UTC, so timestamptz values
    arrive as UTC datetimes that need no conversion."""
    with pg.engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW TimeZone").scalar() == "UTC"
    with pg.session() as s:
        tenant = b.tenant(s)
        s.expire_all()
        assert s.get(Tenant, tenant.id).created_at.tzinfo is UTC


def test_an_instant_read_in_another_session_time_zone_comes_back_in_utc(pg):
    with pg.session() as s:
        tenant_id = b.tenant(s).id
    with pg.session() as s:
        s.execute(text("SET LOCAL TIME ZONE 'Pacific/Auckland'"))
        created_at = s.get(Tenant, tenant_id).created_at
    assert created_at.tzinfo is UTC
    assert created_at == b.EPOCH


def test_a_naive_timestamp_read_as_an_instant_is_taken_as_utc(pg):
    from sqlalchemy import literal_column, select

    from booking.models.types import UTCDateTime

    with pg.session() as s:
        s.execute(text("SET LOCAL TIME ZONE 'Pacific/Auckland'"))
        value = s.scalar(select(literal_column("TIMESTAMP '2026-01-01 10:00'",
                                               type_=UTCDateTime())))
    assert value == datetime(2026, 1, 1, 10, tzinfo=UTC) and value.tzinfo is UTC

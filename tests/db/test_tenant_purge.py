"""A tenant whose deletion was requested is purged by the worker's pass once
the grace period is over: every row that carries its ``tenant_id``, in every
table, goes; users stay. Both databases (PRAGMA foreign_keys is on for
SQLite; the purge deletes children first anyway)."""

from datetime import timedelta

from sqlalchemy import func, select

from booking.models import (
    AuditLog,
    Booking,
    Payment,
    PaymentEvent,
    PaymentState,
    Resource,
    Tenant,
    User,
)
from booking.models.meta import Base
from booking.services.booking import BookingRequest, BookingService
from booking.services.delivery import Delivery, DeliveryPolicy
from booking.services.onboarding import slug_taken
from booking.services.outbox import enqueue

from .. import builders as b
from ..conftest import NOW
from ..registry import service_registry

GRACE = timedelta(days=30)


def fill(world):
    """Rows of the tenant in every kind of table: bookings (with a payment
    and its provider event), an email, the audit log, a closure, a feed."""
    with world.db.session() as s:
        tenant = s.get(Tenant, world.tenant_id)
        court = s.get(Resource, world.court_id)
        booking, _ = BookingService(s, NOW).book(BookingRequest(
            tenant, court, s.get(User, world.user_ids["customer"]), NOW + timedelta(days=7)))
        payment = Payment(tenant_id=tenant.id, booking_id=booking.id, provider="onsite",
                          provider_ref="ref-1", amount=2000, currency="EUR", status=PaymentState.SUCCEEDED,
                          idempotency_key="purge-1", created_at=NOW, updated_at=NOW)
        s.add(payment)
        s.flush()
        s.add(PaymentEvent(provider="onsite", event_id="evt-1", payment_id=payment.id,
                           type="payment_intent.succeeded", received_at=NOW))
        enqueue(s, kind="booking.confirmed", dedupe_key="purge-test", recipient="a@b.test",
                subject="s", body_text="t", body_html="h", now=NOW, tenant_id=tenant.id,
                booking_id=booking.id)
        b.closure(s, court.venue, NOW + timedelta(days=40), NOW + timedelta(days=41))
        tenant.deletion_requested_at = NOW


def rows_of(db, tenant_id):
    """``{table: count}`` of the rows with ``tenant_id`` in every table that has one."""
    with db.session_factory() as s:
        return {table.name: s.scalar(select(func.count()).select_from(table)
                                     .where(table.c.tenant_id == tenant_id))
                for table in Base.metadata.sorted_tables if "tenant_id" in table.c}


def run_pass(db, clock, tmp_path):
    registry = service_registry(db, clock, {"booking.mail.folder": str(tmp_path),
                                            "booking.mail.sender": "Booking <no-reply@booking.test>"})
    return Delivery(registry, DeliveryPolicy()).run_pass()


def test_purge_leaves_no_row_of_the_tenant_in_any_table(world, clock, tmp_path):
    fill(world)
    assert rows_of(world.db, world.tenant_id)["bookings"] == 1
    clock.advance(GRACE)
    report = run_pass(world.db, clock, tmp_path)
    assert report.purged_tenants == [world.slug]
    assert {name: n for name, n in rows_of(world.db, world.tenant_id).items() if n} == {}
    with world.db.session_factory() as s:
        assert s.get(Tenant, world.tenant_id) is None
        assert s.scalar(select(func.count()).select_from(PaymentEvent)) == 0


def test_purge_keeps_every_user_account(world, clock, tmp_path):
    fill(world)
    clock.advance(GRACE)
    run_pass(world.db, clock, tmp_path)
    with world.db.session_factory() as s:
        kept = set(s.scalars(select(User.id)))
    assert set(world.user_ids.values()) <= kept


def test_purge_leaves_the_other_tenants_alone(world, clock, tmp_path):
    with world.db.session_factory() as s:
        rival_id = s.scalar(select(Tenant.id).where(Tenant.slug == world.other_slug))
    before = rows_of(world.db, rival_id)
    fill(world)
    clock.advance(GRACE)
    run_pass(world.db, clock, tmp_path)
    assert rows_of(world.db, rival_id) == before
    assert before["resources"] == 1


def test_no_purge_before_the_grace_period_is_over(world, clock, tmp_path):
    fill(world)
    clock.advance(GRACE - timedelta(minutes=1))
    report = run_pass(world.db, clock, tmp_path)
    assert report.purged_tenants == []
    assert rows_of(world.db, world.tenant_id)["bookings"] == 1


def test_slug_is_free_again_only_after_the_purge(world, clock, tmp_path):
    fill(world)
    with world.db.session_factory() as s:
        assert slug_taken(s, world.slug)
    clock.advance(GRACE)
    run_pass(world.db, clock, tmp_path)
    with world.db.session_factory() as s:
        assert not slug_taken(s, world.slug)


def test_purge_removes_the_tenants_audit_log(world, clock, tmp_path):
    fill(world)
    with world.db.session_factory() as s:
        assert s.scalar(select(func.count(AuditLog.id))
                        .where(AuditLog.tenant_id == world.tenant_id)) > 0
    clock.advance(GRACE)
    run_pass(world.db, clock, tmp_path)
    with world.db.session_factory() as s:
        assert s.scalar(select(func.count(Booking.id))) == 0
        assert s.scalar(select(func.count(AuditLog.id))
                        .where(AuditLog.tenant_id == world.tenant_id)) == 0

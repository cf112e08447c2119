"""Retention: the worker anonymises the contact fields of bookings that
ended more than their business's ``personal_data_days`` ago."""

from datetime import timedelta

from sqlalchemy import select

from booking.models import AuditLog, Booking, OutboxMessage
from booking.services import unit_of_work
from booking.services.delivery import Delivery, DeliveryPolicy
from booking.services.notifications import Notifier
from booking.services.privacy import PrivacyService

from .. import builders as b
from ..conftest import NOW
from ..registry import service_registry
from ..smtp import smtp  # noqa: F401 (fixture)


def bookings(db, keep_days, ended_days_ago):
    """A tenant keeping contact details ``keep_days`` (None: for ever), and
    a booking that ended each of ``ended_days_ago``; their ids."""
    with db.session() as s:
        tenant = b.tenant(s, personal_data_days=keep_days)
        court = b.resource(s, b.venue(s, tenant), capacity=10)
        customer = b.user(s, phone="+33 1 23 45 67 89")
        return [b.booking(s, court, customer, NOW - timedelta(days=days, hours=1),
                          note="gate code 1234").id
                for days in ended_days_ago]


def contact(db, booking_id):
    with db.session() as s:
        booking = s.get(Booking, booking_id)
        return booking.contact_name, booking.contact_phone, booking.note, booking.anonymised_at


def retain(db, clock):
    with unit_of_work(service_registry(db, clock)) as work:
        return work.find_service(PrivacyService).apply_retention()


def test_bookings_past_retention_are_anonymised(db, clock):
    old, recent = bookings(db, 30, [31, 29])
    assert retain(db, clock) == 1
    assert contact(db, old) == ("", "", "", NOW)
    assert contact(db, recent)[1:3] == ("+33 1 23 45 67 89", "gate code 1234")


def test_tenant_without_retention_keeps_contact_details(db, clock):
    [old] = bookings(db, None, [3000])
    assert retain(db, clock) == 0
    assert contact(db, old)[3] is None


def test_retention_is_idempotent_and_audited_once(db, clock):
    bookings(db, 30, [40, 50])
    assert retain(db, clock) == 2
    assert retain(db, clock) == 0
    with db.session() as s:
        [row] = s.scalars(select(AuditLog).where(AuditLog.action == "bookings.anonymised"))
        assert row.details == {"reason": "retention", "days": 30, "bookings": 2}


def test_worker_pass_applies_retention(db, clock, smtp):
    [old] = bookings(db, 7, [8])
    registry = service_registry(db, clock, {
        "booking.mail": "smtp", "booking.mail.host": "127.0.0.1", "booking.mail.port": smtp.port})
    report = Delivery(registry, DeliveryPolicy()).run_pass()
    assert report.anonymised_bookings == 1 and not report.errors
    assert contact(db, old)[3] == NOW


def test_retention_blanks_the_emails_of_anonymised_bookings(db, clock):
    [old] = bookings(db, 30, [31])
    with db.session() as s:
        Notifier(s, NOW - timedelta(days=32)).booking_confirmed(s.get(Booking, old))
        s.execute(OutboxMessage.__table__.update().values(sent_at=NOW - timedelta(days=32)))
    retain(db, clock)
    with db.session() as s:
        message = s.scalars(select(OutboxMessage)).one()
        assert message.body_text == message.body_html == "" and message.redacted_at == NOW

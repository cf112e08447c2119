"""Worker passes on both databases, sending into a real SMTP server
(aiosmtpd on a loopback port) with the frozen clock."""

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from booking.models import Booking, BookingStatus, OutboxMessage, Resource, Tenant, User
from booking.services.booking import BookingRequest, BookingService
from booking.services.delivery import SKIPPED, Delivery, DeliveryPolicy
from booking.services.notifications import Notifier, reminder_key
from booking.services.outbox import enqueue
from booking.settings import parse_settings

from ..conftest import NOW
from ..registry import service_registry
from ..smtp import free_port, smtp, smtp_server  # noqa: F401

POLICY = DeliveryPolicy(batch=3, max_attempts=3)


def queue(db, count=1, due_at=None, kind="booking.confirmed", start=0, **kw):
    with db.session() as s:
        return [
            enqueue(s, kind=kind, dedupe_key=f"test:{n}", recipient=f"r{n}@example.test",
                    subject=f"Message {n}", body_text=f"text {n}", body_html=f"<p>html {n}</p>",
                    now=NOW, due_at=due_at, **kw)
            for n in range(start, start + count)
        ]


def rows(db):
    with db.session_factory() as s:
        return {m.id: m for m in s.scalars(select(OutboxMessage))}


def smtp_settings(port):
    return {"booking.mail": "smtp", "booking.mail.host": "127.0.0.1", "booking.mail.port": port,
            "booking.mail.sender": "Club <no-reply@club.test>", "booking.mail.timeout": 5}


def delivery(db, clock, port, policy=POLICY, **kw):
    return Delivery(service_registry(db, clock, smtp_settings(port)), policy, **kw)


def test_due_messages_are_sent_once(db, clock, smtp):
    ids = queue(db, count=7)
    worker = delivery(db, clock, smtp.port)
    first, second = worker.run_pass(), worker.run_pass()
    assert (first.sent, first.failed, first.pending) == (7, 0, 0)
    assert second.sent == 0
    assert sorted(smtp.inbox.outbox_ids()) == ids
    assert all(m.sent_at == NOW and m.attempts == 1 and m.locked_until is None
               for m in rows(db).values())


def test_progress_line_counts_sent_failed_and_pending(db, clock, smtp):
    queue(db, count=2)
    queue(db, count=1, due_at=NOW + timedelta(hours=1), start=2)
    report = delivery(db, clock, smtp.port).run_pass()
    assert report.line().startswith("sent 2, failed 0, pending 1")


def test_messages_not_yet_due_wait(db, clock, smtp):
    [later] = queue(db, due_at=NOW + timedelta(hours=24))
    worker = delivery(db, clock, smtp.port)
    assert worker.run_pass().sent == 0
    clock.advance(timedelta(hours=24))
    assert worker.run_pass().sent == 1
    assert smtp.inbox.outbox_ids() == [later]


def test_leased_message_waits_for_its_lease_to_run_out(db, clock, smtp):
    [leased] = queue(db)
    with db.session() as s:
        s.get(OutboxMessage, leased).locked_until = NOW + timedelta(minutes=10)
    worker = delivery(db, clock, smtp.port)
    assert worker.run_pass().sent == 0
    clock.advance(timedelta(minutes=10))
    assert worker.run_pass().sent == 1


def test_server_down_retries_with_exponential_backoff(db, clock):
    [message_id] = queue(db)
    worker = delivery(db, clock, free_port(), policy=DeliveryPolicy(max_attempts=8))
    assert worker.run_pass().retried == 1
    first = rows(db)[message_id]
    assert (first.attempts, first.next_attempt_at) == (1, NOW + timedelta(minutes=1))
    assert "ConnectionRefusedError" in first.last_error
    assert worker.run_pass().retried == 0  # not due again yet
    clock.advance(timedelta(minutes=1))
    worker.run_pass()
    second = rows(db)[message_id]
    assert (second.attempts, second.next_attempt_at) == (2, clock.now() + timedelta(minutes=2))
    assert second.failed_at is None and second.locked_until is None


def test_server_down_gives_up_after_max_attempts_keeping_the_error(db, clock):
    [message_id] = queue(db)
    worker = delivery(db, clock, free_port())
    reports = []
    for _ in range(POLICY.max_attempts):
        reports.append(worker.run_pass())
        clock.instant = rows(db)[message_id].next_attempt_at
    given_up = rows(db)[message_id]
    assert [r.failed for r in reports] == [0, 0, 1]
    assert given_up.attempts == 3 and given_up.failed_at is not None
    assert "ConnectionRefusedError" in given_up.last_error
    assert reports[-1].pending == 0
    clock.advance(timedelta(days=1))
    assert worker.run_pass().failed == 0


def test_server_back_up_sends_the_retried_message(db, clock):
    [message_id] = queue(db)
    port = free_port()
    delivery(db, clock, port).run_pass()
    clock.advance(timedelta(minutes=1))
    with smtp_server() as server:
        server_port_worker = delivery(db, clock, server.port)
        assert server_port_worker.run_pass().sent == 1
        assert server.inbox.outbox_ids() == [message_id]
    assert rows(db)[message_id].attempts == 2


def test_refused_recipient_is_given_up_at_once(db, clock):
    [message_id] = queue(db)
    with smtp_server(refuse={"r0@example.test"}) as server:
        report = delivery(db, clock, server.port).run_pass()
    refused = rows(db)[message_id]
    assert report.failed == 1 and refused.attempts == 1 and refused.failed_at == NOW
    assert "550" in refused.last_error


def test_log_lines_of_a_refused_message_name_no_address(db, clock, caplog):
    caplog.set_level(logging.INFO, logger="booking")
    [message_id] = queue(db)
    with smtp_server(refuse={"r0@example.test"},
                     refusal="550 5.1.1 <{address}>: Recipient address rejected") as server:
        delivery(db, clock, server.port).run_pass()
    assert "r0@example.test" in rows(db)[message_id].last_error  # the staff's page shows it
    lines = [record.getMessage() for record in caplog.records]
    assert any(f"outbox {message_id} given up" in line for line in lines)
    assert not any("r0@example.test" in line for line in lines)
    assert any("***@example.test" in line for line in lines)


def test_reminder_of_a_cancelled_booking_is_skipped(db, world, clock, smtp):
    with db.session() as s:
        tenant = s.get(Tenant, world.tenant_id)
        service = BookingService(s, NOW)
        booking, _ = service.book(BookingRequest(tenant, s.get(Resource, world.court_id),
                                  s.get(User, world.user_ids["customer"]), NOW + timedelta(days=2)))
        service.cancel(tenant, booking, actor_id=booking.customer_id)
        [reminder_id] = [enqueue(s, kind="reminder", dedupe_key=reminder_key(booking, 120),
                                 recipient="r@example.test", subject="Reminder", body_text="t",
                                 body_html="<p>h</p>", now=NOW, booking_id=booking.id)]
    report = delivery(db, clock, smtp.port).run_pass()
    skipped = rows(db)[reminder_id]
    assert report.skipped == 1 and reminder_id not in smtp.inbox.outbox_ids()
    assert (skipped.last_error, skipped.failed_at, skipped.attempts) == (SKIPPED, NOW, 0)


def test_a_batch_of_skipped_reminders_does_not_end_the_pass(db, clock, smtp):
    queue(db, count=POLICY.batch, kind="reminder")  # no booking: never relevant
    [wanted] = queue(db, start=POLICY.batch)
    report = delivery(db, clock, smtp.port).run_pass()
    assert (report.skipped, report.sent) == (POLICY.batch, 1)
    assert smtp.inbox.outbox_ids() == [wanted]


def test_pass_expires_stale_holds_and_sends_the_hold_expired_email(db, world, clock, smtp):
    with db.session() as s:
        tenant = s.get(Tenant, world.tenant_id)
        booking, _ = BookingService(s, NOW).book(BookingRequest(
            tenant, s.get(Resource, world.court_id), s.get(User, world.user_ids["customer"]),
            NOW + timedelta(days=2), hold_for_payment=True))
        booking_id, hold_minutes = booking.id, tenant.hold_minutes
    clock.advance(timedelta(minutes=hold_minutes))
    report = delivery(db, clock, smtp.port).run_pass()
    with db.session_factory() as s:
        assert s.get(Booking, booking_id).status == BookingStatus.EXPIRED
    assert report.expired_holds == 1
    assert world.emails["customer"] in [m["To"] for m in smtp.messages]


def test_stop_request_finishes_the_current_message_and_gives_back_the_rest(db, clock, smtp):
    queue(db, count=3)
    report = delivery(db, clock, smtp.port, should_stop=lambda: smtp.inbox.count() >= 1).run_pass()
    assert report.sent == 1 and report.stopped
    unsent = [m for m in rows(db).values() if m.sent_at is None]
    assert len(unsent) == 2 and all(m.locked_until is None for m in unsent)


@pytest.mark.parametrize("attempts, delay", [(1, 60), (2, 120), (5, 960), (20, 6 * 3600)])
def test_backoff_doubles_up_to_the_cap(attempts, delay):
    assert DeliveryPolicy().backoff(attempts) == timedelta(seconds=delay)


def test_a_failing_housekeeping_step_does_not_stop_the_mail(db, clock, smtp, monkeypatch):
    queue(db, 2)
    worker = delivery(db, clock, smtp.port)

    def broken(report):
        raise RuntimeError("reminders table is on fire")

    monkeypatch.setattr(worker, "queue_reminders", broken)
    report = worker.run_pass()
    assert report.sent == 2
    assert report.errors == ["broken failed"]


def test_a_message_that_breaks_the_mailer_is_recorded_and_the_rest_are_sent(db, clock, smtp,
                                                                             monkeypatch):
    first, second = queue(db, 2)
    worker = delivery(db, clock, smtp.port)
    send = worker.mailer.send

    def fragile(message):
        if message.id == first:
            raise UnicodeEncodeError("ascii", "é", 0, 1, "not ascii")
        return send(message)

    monkeypatch.setattr(worker.mailer, "send", fragile)
    report = worker.run_pass()
    assert (report.sent, report.retried) == (1, 1)
    assert "UnicodeEncodeError" in rows(db)[first].last_error
    assert rows(db)[second].sent_at is not None


def test_backoff_stays_within_its_maximum_for_any_attempt():
    policy = DeliveryPolicy(backoff_base=timedelta(minutes=1), backoff_max=timedelta(hours=6))
    assert policy.backoff(100) == timedelta(hours=6)


def test_a_lease_too_short_to_send_is_refused():
    from booking.settings import SettingsError

    with pytest.raises(SettingsError, match="lease_seconds must be at least 120"):
        parse_settings({"sqlalchemy.url": "sqlite://", "booking.mail.timeout": "30",
                        "booking.worker.lease_seconds": "60"})


def test_the_worker_s_services_have_the_app_s_settings(db, clock):
    """The worker's notifiers (holds expired, reminders) come from the app's
    factories: their emails link to the configured site, not the default."""
    registry = service_registry(db, clock, {"booking.public_url": "https://club.example/"})
    with Delivery(registry, POLICY).transaction() as work:
        assert work.find_service(Notifier).public_url == "https://club.example"
        assert work.find_service(BookingService).notifier.public_url == "https://club.example"

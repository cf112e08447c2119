"""The outbox keeps no secret link once a message is done, and no body at
all after ``booking.outbox_retention_days``: sent through the real SMTP
adapter to a local server, on both databases."""

import re
from datetime import timedelta

from sqlalchemy import select

from booking.models import OutboxMessage
from booking.services.delivery import Delivery, DeliveryPolicy
from booking.services.marketing import MarketingService
from booking.services.notifications import Notifier
from booking.services.password_reset import PasswordResetService

from .. import builders as b
from ..conftest import NOW
from ..registry import service_registry
from ..smtp import smtp, smtp_server  # noqa: F401 (fixture)

LINK = re.compile(r"https?://\S+/reset/[A-Za-z0-9_-]+")


def deliver(db, clock, server, **settings):
    registry = service_registry(db, clock, {
        "booking.mail": "smtp", "booking.mail.host": "127.0.0.1",
        "booking.mail.port": server.port, "booking.mail.timeout": 5, **settings})
    return Delivery(registry, DeliveryPolicy(max_attempts=1)).run_pass()


def ask_reset(db):
    with db.session() as s:
        user = b.user(s)
        PasswordResetService(s, NOW, notifier=Notifier(s, NOW)).request_reset(
            user.email, "192.0.2.1")


def outbox(db, kind):
    """The outbox row of ``kind``, read and detached."""
    with db.session() as s:
        row = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)).one()
        s.expunge(row)
        return row


def test_reset_link_reaches_the_mailbox_but_leaves_the_outbox(db, clock, smtp):
    ask_reset(db)
    assert LINK.search(outbox(db, "password.reset").body_text)  # queued with its link
    assert deliver(db, clock, smtp).sent == 1
    [mail] = smtp.messages
    link = LINK.search(mail.get_body(preferencelist=("plain",)).get_content()).group(0)
    row = outbox(db, "password.reset")
    assert row.sent_at is not None and row.redacted_at == NOW
    assert link not in row.body_text + row.body_html
    assert row.body_text == row.body_html == ""


def test_secret_body_is_blanked_when_the_message_is_given_up(db, clock):
    ask_reset(db)
    with db.session() as s:
        recipient = s.scalar(select(OutboxMessage.recipient))
    with smtp_server(refuse={recipient}) as server:
        report = deliver(db, clock, server)
    assert report.failed == 1
    row = outbox(db, "password.reset")
    assert row.failed_at is not None and row.body_text == "" and row.redacted_at == NOW


def booking_email(db):
    with db.session() as s:
        tenant = b.tenant(s)
        court = b.resource(s, b.venue(s, tenant))
        booking = b.booking(s, court, b.user(s), NOW + timedelta(days=1))
        Notifier(s, NOW).booking_confirmed(booking)


def test_other_bodies_are_kept_until_the_retention_period_ends(db, clock, smtp):
    booking_email(db)
    deliver(db, clock, smtp, **{"booking.outbox_retention_days": "30"})
    row = outbox(db, "booking.confirmed")
    assert row.body_text and row.redacted_at is None and row.attachments

    clock.instant = NOW + timedelta(days=29)
    deliver(db, clock, smtp, **{"booking.outbox_retention_days": "30"})
    assert outbox(db, "booking.confirmed").body_text

    clock.instant = NOW + timedelta(days=30, minutes=1)
    report = deliver(db, clock, smtp, **{"booking.outbox_retention_days": "30"})
    row = outbox(db, "booking.confirmed")
    assert report.redacted >= 1  # the confirmation (and the reminder sent with it)
    assert row.body_text == row.body_html == "" and row.attachments == []
    assert row.subject and row.recipient and row.sent_at  # what was sent, when, to whom stays


def test_unsubscribe_link_of_an_offer_leaves_the_body_and_the_headers_once_sent(db, clock, smtp):
    with db.session() as s:
        tenant = b.tenant(s)
        customer = b.user(s)
        marketing = MarketingService(s, NOW)
        marketing.opt_in(tenant, customer, "Send me offers", "account")
        marketing.send(tenant, b.member(s, tenant, "owner"), "Offer", "Two for one.")
    assert "/unsubscribe/" in outbox(db, "offer").headers["List-Unsubscribe"]
    assert deliver(db, clock, smtp).sent == 1
    [mail] = smtp.messages
    assert "/unsubscribe/" in mail["List-Unsubscribe"]
    row = outbox(db, "offer")
    assert row.body_text == row.body_html == "" and row.headers == {}

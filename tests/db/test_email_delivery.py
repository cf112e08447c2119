"""Every kind of email, end to end: queued by the Notifier, sent by the
worker's pass through the real SMTP adapter to a local SMTP server, and
parsed as a mail client would: headers, the text and HTML parts, and the
calendar attachment."""

import icalendar
import pytest

from booking.models import Booking, OutboxMessage, Tenant, User
from booking.services.delivery import Delivery, DeliveryPolicy
from booking.services.notifications import Notifier

from ..conftest import NOW
from ..registry import service_registry
from ..smtp import smtp  # noqa: F401 (fixture)
from .test_notifications import book, ids  # noqa: F401 (fixture)

KINDS = {
    "booking.confirmed": ("booking_confirmed", (), "REQUEST"),
    "booking.cancelled": ("booking_cancelled", (), "CANCEL"),
    "booking.rescheduled": ("booking_rescheduled", (), "REQUEST"),
    "hold.expired": ("hold_expired", (), None),
    "payment.refunded": ("payment_refunded", (1500,), None),
    "reminder": ("reminder", (1440,), None),
}


def deliver(db, clock, smtp):
    registry = service_registry(db, clock, {
        "booking.mail": "smtp", "booking.mail.host": "127.0.0.1", "booking.mail.port": smtp.port,
        "booking.mail.sender": "Club <no-reply@club.test>", "booking.mail.timeout": 5})
    return Delivery(registry, DeliveryPolicy()).run_pass()


def parts(message):
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    calendars = [part for part in message.iter_attachments()
                 if part.get_content_type() == "text/calendar"]
    return text, html, calendars


def received(db, smtp, kind):
    """The message of ``kind`` the SMTP server received, found by the
    outbox id the adapter puts in its headers."""
    with db.session() as s:
        wanted = {m.id for m in s.query(OutboxMessage).filter_by(kind=kind)}
    found = [m for m in smtp.messages if int(m["X-Booking-Outbox-Id"]) in wanted]
    assert len(found) == 1, f"{len(found)} messages of kind {kind}"
    return found[0]


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_booking_email_arrives_whole(db, ids, clock, smtp, kind):
    booking_id = book(db, ids, customer="fr")  # queues its confirmation
    method, args, ics_method = KINDS[kind]
    with db.session() as s:
        getattr(Notifier(s, NOW), method)(s.get(Booking, booking_id), *args)
        email = s.get(User, ids["fr"]).email
    report = deliver(db, clock, smtp)
    assert report.failed == 0
    message = received(db, smtp, kind)
    assert message["To"] == email
    assert message["From"] == "Club <no-reply@club.test>"
    assert message["Message-ID"] and message["Date"]
    assert message["Content-Language"] == "fr"
    text, html, calendars = parts(message)
    assert text.strip() and "<html" in html.lower()
    if ics_method is None:
        assert calendars == []
    else:
        [attachment] = calendars
        calendar = icalendar.Calendar.from_ical(attachment.get_content())
        assert calendar["METHOD"] == ics_method
        assert attachment.get_param("method") == ics_method
        [event] = calendar.walk("VEVENT")
        assert event["UID"]


def test_account_emails_arrive_with_their_links(db, ids, clock, smtp):
    link = "http://127.0.0.1:6543/reset/SECRET"
    with db.session() as s:
        notifier, user = Notifier(s, NOW), s.get(User, ids["en"])
        notifier.password_reset(user, link)
        notifier.staff_invitation(user, s.get(Tenant, ids["tenant"]), link + "-2",
                                  s.get(User, ids["fr"]), 1, True)
    deliver(db, clock, smtp)
    reset, invitation = received(db, smtp, "password.reset"), received(db, smtp, "staff.invitation")
    assert link in parts(reset)[0] and link in parts(reset)[1]
    assert link + "-2" in parts(invitation)[0]

"""The mail adapters against a real SMTP server (aiosmtpd on a loopback
port) and a real folder; messages are parsed back with :mod:`email` and
the ICS part with ``icalendar``."""

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime

import icalendar
import pytest

from booking.adapters.mail import MailError, PermanentMailError, make_mailer
from booking.adapters.mail.folder import FolderMailer
from booking.adapters.mail.smtp import SmtpMailer
from booking.clock import FrozenClock
from booking.models import OutboxMessage
from booking.settings import parse_settings

from ..smtp import free_port, self_signed, smtp, smtp_server  # noqa: F401

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SENDER = "Club <no-reply@club.test>"
ICS = "\r\n".join([
    "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Booking//Booking 0.1//EN", "METHOD:REQUEST",
    "BEGIN:VEVENT", "UID:booking-club-7@booking", "DTSTAMP:20260302T090000Z",
    "DTSTART:20260303T090000Z", "DTEND:20260303T100000Z", "SEQUENCE:1",
    "SUMMARY:Court – Centre", "END:VEVENT", "END:VCALENDAR", "",
])


def outbox_message(id=7, recipient="ada@example.test", attachments=None, **kw):
    fields = dict(
        id=id, kind="booking_confirmed", dedupe_key=f"booking:{id}:confirmed:0",
        recipient=recipient, locale="fr", subject="Réservation confirmée : Court",
        body_text="Bonjour Ada,\nvotre réservation est confirmée.\n",
        body_html="<p>Bonjour Ada,</p><p>votre réservation est <b>confirmée</b>.</p>",
        attachments=[{"filename": "booking.ics", "content_type": "text/calendar",
                      "content": ICS}] if attachments is None else attachments,
        attempts=0,
    )
    fields.update(kw)
    return OutboxMessage(**fields)


def smtp_mailer(server, **kw):
    return SmtpMailer(host=server.host, port=server.port, sender=SENDER,
                      clock=FrozenClock(NOW), timeout=5, **kw)


def parts(email):
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    calendars = [p for p in email.iter_attachments() if p.get_content_type() == "text/calendar"]
    return text, html, calendars


def test_smtp_message_has_the_standard_headers(smtp):
    with smtp_mailer(smtp) as mailer:
        mailer.send(outbox_message())
    [email] = smtp.messages
    assert email["From"] == SENDER
    assert email["To"] == "ada@example.test"
    assert email["Subject"] == "Réservation confirmée : Court"
    assert parsedate_to_datetime(email["Date"]) == NOW
    assert email["Message-ID"].startswith("<outbox.7.") and email["Message-ID"].endswith(
        "@club.test>")
    assert email["X-Booking-Outbox-Id"] == "7"
    assert email["Auto-Submitted"] == "auto-generated"
    assert smtp.inbox.envelopes == [("no-reply@club.test", ["ada@example.test"])]


def test_smtp_message_has_text_and_html_alternatives(smtp):
    with smtp_mailer(smtp) as mailer:
        mailer.send(outbox_message())
    text, html, _ = parts(smtp.messages[0])
    assert "votre réservation est confirmée." in text
    assert "<b>confirmée</b>" in html


def test_smtp_ics_attachment_is_a_calendar_request(smtp):
    with smtp_mailer(smtp) as mailer:
        mailer.send(outbox_message())
    [calendar_part] = parts(smtp.messages[0])[2]
    assert calendar_part.get_param("method") == "REQUEST"
    assert calendar_part.get_filename() == "booking.ics"
    calendar = icalendar.Calendar.from_ical(calendar_part.get_content())
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == "booking-club-7@booking"
    assert event["SEQUENCE"] == 1
    assert str(event["SUMMARY"]) == "Court – Centre"
    assert event.decoded("DTSTART") == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def test_smtp_reuses_one_connection_for_many_messages(smtp):
    with smtp_mailer(smtp) as mailer:
        for id in range(1, 6):
            mailer.send(outbox_message(id=id))
    assert len(smtp.messages) == 5
    assert len(set(smtp.inbox.peers)) == 1


def test_smtp_starttls_with_login(tmp_path):
    server_tls, client_tls = self_signed(tmp_path)
    with smtp_server(tls=server_tls, credentials=("club", "s3cret-pass")) as server:
        with smtp_mailer(server, security="starttls", username="club",
                         password="s3cret-pass", ssl_context=client_tls) as mailer:
            mailer.send(outbox_message())
        assert len(server.messages) == 1


def test_smtp_implicit_tls(tmp_path):
    server_tls, client_tls = self_signed(tmp_path)
    with smtp_server(tls=server_tls, implicit_tls=True) as server:
        with smtp_mailer(server, security="ssl", ssl_context=client_tls) as mailer:
            mailer.send(outbox_message())
        assert len(server.messages) == 1


def test_smtp_wrong_password_is_an_error_without_the_password(tmp_path):
    server_tls, client_tls = self_signed(tmp_path)
    with smtp_server(tls=server_tls, credentials=("club", "right-pass")) as server:
        mailer = smtp_mailer(server, security="starttls", username="club",
                             password="wrong-pass-123", ssl_context=client_tls)
        with pytest.raises(MailError) as caught:
            mailer.send(outbox_message())
    assert "authentication failed" in str(caught.value)
    assert "wrong-pass-123" not in str(caught.value)
    assert "wrong-pass-123" not in repr(mailer)


def test_smtp_server_down_is_a_mail_error():
    port = free_port()
    mailer = SmtpMailer(host="127.0.0.1", port=port, sender=SENDER, clock=FrozenClock(NOW),
                        timeout=5)
    with pytest.raises(MailError) as caught:
        mailer.send(outbox_message())
    assert not isinstance(caught.value, PermanentMailError)
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "ConnectionRefusedError" in str(caught.value)


def test_smtp_refused_recipient_is_permanent_and_the_connection_goes_on():
    with smtp_server(refuse={"gone@example.test"}) as server:
        with smtp_mailer(server) as mailer:
            with pytest.raises(PermanentMailError) as caught:
                mailer.send(outbox_message(id=1, recipient="gone@example.test"))
            mailer.send(outbox_message(id=2))
        assert "550" in str(caught.value)
        assert server.inbox.outbox_ids() == [2]
        assert len(set(server.inbox.peers)) == 1


def test_folder_writes_one_parseable_eml_file_per_message(tmp_path):
    folder = tmp_path / "mail"
    with FolderMailer(str(folder), SENDER, FrozenClock(NOW)) as mailer:
        mailer.send(outbox_message(id=1))
        mailer.send(outbox_message(id=2, attachments=[]))
    files = sorted(folder.iterdir())
    assert [f.suffix for f in files] == [".eml", ".eml"]
    emails = [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    assert [e["X-Booking-Outbox-Id"] for e in emails] == ["1", "2"]
    text, html, calendars = parts(emails[0])
    assert "confirmée" in text and "<b>confirmée</b>" in html
    assert icalendar.Calendar.from_ical(calendars[0].get_content())
    assert parts(emails[1])[2] == []


def test_settings_choose_the_folder_mailer_by_default(tmp_path):
    settings = parse_settings({"sqlalchemy.url": "sqlite://",
                               "booking.mail.folder": str(tmp_path)})
    mailer = make_mailer(settings, FrozenClock(NOW))
    assert isinstance(mailer, FolderMailer) and mailer.folder == str(tmp_path)


def test_settings_choose_the_smtp_mailer():
    settings = parse_settings({"sqlalchemy.url": "sqlite://", "booking.mail": "smtp",
                               "booking.mail.host": "mail.example.test",
                               "booking.mail.security": "ssl"},
                              environ={"BOOKING_SMTP_PASSWORD": "from-env"})
    mailer = make_mailer(settings, FrozenClock(NOW))
    assert isinstance(mailer, SmtpMailer)
    assert (mailer.host, mailer.port, mailer.security) == ("mail.example.test", 465, "ssl")
    assert "from-env" not in repr(mailer)


def test_settings_refuse_an_unknown_mailer():
    with pytest.raises(ValueError, match="booking.mail must be one of folder, smtp"):
        parse_settings({"sqlalchemy.url": "sqlite://", "booking.mail": "carrier-pigeon"})


@pytest.mark.parametrize("subject, sent", [
    ("Booking confirmed: Court\n1", "Booking confirmed: Court 1"),
    ("Court\r\n1\tB\x07", "Court 1 B"),
    ("Court\u20281", "Court 1"),
])
def test_a_subject_holding_control_characters_is_sent_on_one_line(smtp, subject, sent):  # noqa: F811
    with smtp_mailer(smtp) as mailer:
        mailer.send(outbox_message(subject=subject))
    [email] = smtp.messages
    assert email["Subject"] == sent


def test_smtp_message_carries_the_row_s_unsubscribe_headers_and_no_other(smtp):  # noqa: F811
    headers = {"List-Unsubscribe": "<https://booking.example/unsubscribe/s3cret>",
               "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
               "Bcc": "spy@example.test"}
    with smtp_mailer(smtp) as mailer:
        mailer.send(outbox_message(headers=headers))
    [email] = smtp.messages
    assert email["List-Unsubscribe"] == "<https://booking.example/unsubscribe/s3cret>"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email["Bcc"] is None and smtp.inbox.envelopes[0][1] == ["ada@example.test"]

"""Outgoing email: the :class:`Mailer` interface, the MIME message built
from an outbox row, and :func:`make_mailer`, which picks the implementation
named by ``booking.mail`` (``folder``, the embedded default, or ``smtp``).

A mailer is opened once for a whole worker pass and sends many messages over
that one connection::

    with make_mailer(settings, clock) as mailer:
        mailer.send(message)

It holds a connection, so it is not shared: :func:`includeme` registers a
*factory* with ``pyramid_services`` under :class:`Mailer`, and each
``find_service(Mailer)`` of a request or a :class:`booking.services.Work`
gets a mailer of its own.
"""

import hashlib
import re
from abc import ABC, abstractmethod
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

METHOD_LINE = re.compile(r"^METHOD:([A-Za-z-]+)\r?$", re.MULTILINE)
#: The headers an outbox row may add to its email (lowercased).
EXTRA_HEADERS = frozenset({"list-unsubscribe", "list-unsubscribe-post"})
#: C0 and C1 controls, and the Unicode line and paragraph separators.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


class MailError(Exception):
    """A message could not be handed over; the text is safe to store."""


class PermanentMailError(MailError):
    """The server refused the message for good (an SMTP 5xx reply)."""


class Mailer(ABC):
    """Hands rendered outbox messages over to the mail system."""

    def __init__(self, sender, clock):
        self.sender = sender
        self.clock = clock

    def open(self):
        """Get ready to send (connect, create the folder)."""

    @abstractmethod
    def send(self, message):
        """Hand ``message`` (an :class:`~booking.models.OutboxMessage`) over;
        raise :class:`MailError` when it was not accepted."""

    def close(self):
        """Release the connection; safe to call twice."""

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc_info):
        self.close()

    def compose(self, message):
        try:
            return compose(message, self.sender, self.clock.now())
        except (ValueError, TypeError, KeyError) as exc:
            raise PermanentMailError(f"cannot build the message: {exc}") from None


def sender_domain(sender):
    return parseaddr(sender)[1].rpartition("@")[2] or "booking.invalid"


def message_id(message, sender):
    """Stable per outbox row, so a receiver can spot a resent duplicate."""
    digest = hashlib.sha256(message.dedupe_key.encode("utf-8")).hexdigest()[:16]
    return f"<outbox.{message.id}.{digest}@{sender_domain(sender)}>"


def one_line(text):
    """``text`` as one header line: each run of control characters (a line
    break in a name stored before names were checked) becomes one space, so
    that a message is never refused for what its data holds."""
    return " ".join(CONTROL_CHARACTERS.split(text)).strip()


def compose(message, sender, now):
    """The email for one outbox row: text and HTML alternatives plus its
    attachments (an ICS part is ``text/calendar`` with its ``method``)."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = Address(addr_spec=message.recipient)
    email["Subject"] = one_line(message.subject)
    email["Date"] = format_datetime(now)
    email["Message-ID"] = message_id(message, sender)
    email["Auto-Submitted"] = "auto-generated"
    email["X-Booking-Outbox-Id"] = str(message.id)
    for name, value in sorted((getattr(message, "headers", None) or {}).items()):
        if name.lower() in EXTRA_HEADERS:
            email[name] = one_line(value)
    email.set_content(message.body_text)
    email.add_alternative(message.body_html, subtype="html")
    for attachment in message.attachments or ():
        _attach(email, attachment)
    if message.locale:  # after the body: set_content drops Content-* headers
        email["Content-Language"] = message.locale
    return email


def _attach(email, attachment):
    content_type = attachment["content_type"].split(";", 1)[0].strip().lower()
    maintype, _, subtype = content_type.partition("/")
    content = attachment["content"]
    params = {}
    if content_type == "text/calendar":
        method = METHOD_LINE.search(content)
        if method:
            params["method"] = method.group(1).upper()
    if maintype == "text":
        email.add_attachment(content, subtype=subtype, filename=attachment["filename"],
                             params=params)
    else:
        email.add_attachment(content.encode("utf-8"), maintype=maintype, subtype=subtype,
                             filename=attachment["filename"], params=params)


def make_mailer(settings, clock):
    """The mailer chosen by ``booking.mail`` in the (parsed) settings."""
    if settings["booking.mail"] == "smtp":
        from .smtp import SmtpMailer

        return SmtpMailer.from_settings(settings, clock)
    from .folder import FolderMailer

    return FolderMailer(settings["booking.mail.folder"], settings["booking.mail.sender"], clock)


def _mailer_factory(context, request):
    return make_mailer(request.registry.settings, request.registry["booking.clock"])


def includeme(config):
    """``find_service(Mailer)``: a new mailer per request or unit of work
    (after ``booking.clock``)."""
    config.include("booking.services.lookup")  # pyramid_services
    config.register_service_factory(_mailer_factory, Mailer)

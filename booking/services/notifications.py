"""Emails about bookings and accounts, rendered and queued in the outbox.

Each :class:`Notifier` method renders one kind of email (plain text and
HTML, from ``booking/templates/email/``) in the recipient's language, with
times in the venue's zone, and writes it to the outbox in the caller's
transaction: a change that rolls back sends nothing. Every message has a
dedupe key, so the same cause seen twice queues one message.
"""

import functools
import hashlib
from email.utils import parseaddr
from pathlib import Path
from typing import NamedTuple

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.ext import Extension
from jinja2.lexer import TOKEN_LPAREN, TOKEN_NAME, TOKEN_PIPE, TOKEN_RPAREN, TOKEN_STRING, Token
from pyramid.settings import asbool
from sqlalchemy import func, select

from .. import ics
from ..i18n import DOMAIN, Formatter, _, language_or_default, localizer_for
from ..models import Booking, BookingStatus, MarketingConsent, OutboxMessage, Tenant, User
from .outbox import enqueue
from .pricing import Quote
from .slots import zone_of

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:6543"
DEFAULT_SENDER = "no-reply@booking.invalid"
#: The emails a business whose owner has not confirmed their address may
#: send (bookings' emails, counted in the outbox by tenant) before it does.
UNVERIFIED_MAIL_QUOTA = 20


class Recipient(NamedTuple):
    """Whom an email goes to when it is not an account: a walk-in's address."""
    email: str
    name: str
    locale: str


class TranslatedConstants(Extension):
    """Translate ``_("a literal")`` once, when a template is compiled, not
    at every render: each language has an environment of its own, so the
    text is a constant of the compiled template. The result is what the
    i18n extension's ``_()`` returns (the message as a format string, and
    trusted markup in HTML templates); a call with variables stays a call.
    ``_`` is the translation function in every template, never a variable."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.extend(translate_constant=None)

    def filter_stream(self, stream):
        translate = self.environment.translate_constant
        html = (stream.name or "").endswith(".html.jinja2")
        window = []
        for token in stream:
            window.append(token)
            while len(window) > 4:  # a replacement leaves up to five tokens
                yield window.pop(0)
            if translate and len(window) == 4 and self.is_constant_call(window):
                lineno, text = window[0].lineno, translate(window[2].value) % {}
                window = [Token(lineno, TOKEN_LPAREN, "("), Token(lineno, TOKEN_STRING, text)]
                if html:  # the i18n extension's Markup: not escaped again
                    window += [Token(lineno, TOKEN_PIPE, "|"), Token(lineno, TOKEN_NAME, "safe")]
                window.append(Token(lineno, TOKEN_RPAREN, ")"))  # so `_("x").upper()` holds
        yield from window

    @staticmethod
    def is_constant_call(tokens):
        name, open_, literal, close = tokens
        return (name.type == TOKEN_NAME and name.value == "_" and open_.type == TOKEN_LPAREN
                and literal.type == TOKEN_STRING and close.type == TOKEN_RPAREN)


@functools.cache
def environment(locale_name, auto_reload=False, translate_constants=True):
    """The Jinja2 environment for one language: HTML templates autoescaped,
    ``_()`` translating through the app's catalogs (no request needed), a
    literal's translation compiled in (``TranslatedConstants``). Templates
    are compiled once; with ``auto_reload`` (development) a changed file is
    read again."""
    extensions = ["jinja2.ext.i18n"]
    if translate_constants:
        extensions.append(TranslatedConstants)
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        auto_reload=auto_reload,
        autoescape=select_autoescape(enabled_extensions=("html.jinja2",), default=False),
        extensions=extensions,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    translations = localizer_for(locale_name).translations

    def translate(message):
        return translations.dgettext(DOMAIN, message)

    env.install_gettext_callables(
        translate,
        lambda singular, plural, n: translations.dngettext(DOMAIN, singular, plural, n),
        newstyle=True,
    )
    if translate_constants:
        env.translate_constant = translate
    return env


def link_digest(link):
    """A short digest of a secret link: tells two links apart in a dedupe
    key without storing the secret there."""
    return hashlib.sha256(link.encode("utf-8")).hexdigest()[:16]


def reminder_key(booking, offset_minutes):
    """One reminder per booking, time (``sequence``) and offset."""
    return f"{reminder_key_prefix(booking)}{offset_minutes}"


def reminder_key_prefix(booking):
    return f"booking:{booking.id}:reminder:{booking.sequence}:"


def still_relevant(dbsession, message, now):
    """Whether a queued message should still be sent at ``now``. A reminder
    is dropped once its booking is no longer confirmed, has started, or has
    moved (a reminder for the new time is queued instead)."""
    if message.kind == "offer":
        return offer_still_wanted(dbsession, message)
    if message.kind != "reminder":
        return True
    booking = dbsession.get(Booking, message.booking_id) if message.booking_id else None
    return (
        booking is not None
        and booking.status == BookingStatus.CONFIRMED
        and booking.starts_at > now
        and message.dedupe_key.startswith(reminder_key_prefix(booking))
    )


def offer_still_wanted(dbsession, message):
    """An offer email (``offer:{mailing}:user:{id}``) is sent only while its
    recipient still agrees to the business's offers: an unsubscribe, a
    withdrawal or an erasure after it was queued stops it."""
    user_id = message.dedupe_key.rpartition(":user:")[2]
    if not user_id.isdigit():
        return False
    return dbsession.scalar(
        select(MarketingConsent.id)
        .join(User, User.id == MarketingConsent.user_id)
        .where(MarketingConsent.tenant_id == message.tenant_id,
               MarketingConsent.user_id == int(user_id),
               MarketingConsent.withdrawn_at.is_(None), User.erased_at.is_(None))) is not None


@functools.lru_cache(maxsize=16)
def organizer_address(sender):
    """The bare address of the configured sender (parsed once: a Notifier
    is made per request)."""
    return parseaddr(sender)[1] or DEFAULT_SENDER


class Notifier:
    """Queues the emails of one unit of work (``now`` is its instant)."""

    def __init__(self, dbsession, now, settings=None):
        self.dbsession = dbsession
        self.now = now
        settings = settings or {}
        self.public_url = (settings.get("booking.public_url") or DEFAULT_PUBLIC_URL).rstrip("/")
        #: The calendar event's organizer: the address the emails come from.
        self.organizer = organizer_address(settings.get("booking.mail.sender") or "")
        self.reload_templates = asbool(settings.get("pyramid.reload_templates", False))

    # -- bookings ------------------------------------------------------------

    def booking_confirmed(self, booking, confirm_link=""):
        """``confirm_link``: the link that confirms the address of the
        account made with this booking (a secret), if any."""
        subject = _("Booking confirmed: ${resource}, ${when}")
        return self.about_booking(booking, "booking.confirmed", subject,
                                  f"booking:{booking.id}:confirmed:{booking.sequence}",
                                  calendar_method="REQUEST", confirm_link=confirm_link)

    def booking_cancelled(self, booking):
        subject = _("Booking cancelled: ${resource}, ${when}")
        return self.about_booking(booking, "booking.cancelled", subject,
                                  f"booking:{booking.id}:cancelled", calendar_method="CANCEL")

    def booking_rescheduled(self, booking):
        subject = _("Booking moved: ${resource}, ${when}")
        return self.about_booking(booking, "booking.rescheduled", subject,
                                  f"booking:{booking.id}:rescheduled:{booking.sequence}",
                                  calendar_method="REQUEST")

    def hold_expired(self, booking):
        subject = _("Your hold has expired: ${resource}, ${when}")
        return self.about_booking(booking, "hold.expired", subject,
                                  f"booking:{booking.id}:hold-expired")

    def payment_refunded(self, booking, amount, reference=None):
        """``amount`` in minor units; ``reference`` (the provider's refund
        id) tells two refunds of one amount apart."""
        subject = _("Refund of ${amount} for your booking ${reference}")
        key = f"booking:{booking.id}:refunded:{reference or amount}"
        return self.about_booking(booking, "payment.refunded", subject, key, amount=amount)

    def reminder(self, booking, offset_minutes):
        subject = _("Reminder: ${resource}, ${when}")
        return self.about_booking(booking, "reminder", subject,
                                  reminder_key(booking, offset_minutes))

    # -- accounts ------------------------------------------------------------

    def password_reset(self, user, link):
        """The link (with its secret) is in the email, never in the key; the
        outbox blanks the body once it is sent."""
        return self.send(
            "password.reset", user, _("Reset your password"),
            f"user:{user.id}:password-reset:{link_digest(link)}",
            {"email": user.email, "link": link}, carries_secret=True,
        )

    def address_confirmation(self, user, link):
        """The link that confirms a new account's address (a secret)."""
        return self.send(
            "account.confirm", user, _("Confirm your email address"),
            f"user:{user.id}:confirm:{link_digest(link)}",
            {"email": user.email, "link": link}, carries_secret=True,
        )

    def account_exists(self, user):
        """Someone tried to make an account (or a business's owner) with the
        address of ``user``: sign in, or choose a new password."""
        return self.send(
            "account.exists", user, _("Someone tried to make an account with your address"),
            f"user:{user.id}:exists:{self.now.isoformat()}",
            {"email": user.email, "login_link": f"{self.public_url}/login",
             "forgot_link": f"{self.public_url}/account/forgot"},
        )

    def staff_invitation(self, user, tenant, link, inviter, membership_id, one_time):
        """``link``: to set a first password (``one_time``, a secret) or to My
        account, where the invitation is accepted or declined."""
        inviter_name = (inviter.name or inviter.email) if inviter is not None else tenant.name
        return self.send(
            "staff.invitation", user, _("${inviter} invites you to join ${tenant}"),
            f"tenant:{tenant.id}:user:{user.id}:invitation:{membership_id}:{link_digest(link)}",
            {"tenant_name": tenant.name, "inviter": inviter_name, "link": link,
             "one_time": one_time},
            mapping={"inviter": inviter_name, "tenant": tenant.name}, tenant_id=tenant.id,
            carries_secret=one_time,
        )

    # -- rendering -----------------------------------------------------------

    def about_booking(self, booking, kind, subject, dedupe_key, calendar_method=None,
                      amount=None, confirm_link=""):
        """Queue ``kind`` about ``booking`` to its customer: their account, or
        a walk-in's address (the same fixed text, no name the desk typed, no
        link to an account); nothing when the booking has no address."""
        resource = booking.resource
        venue = resource.venue
        tenant = self.dbsession.get(Tenant, booking.tenant_id)
        customer = booking.customer
        if customer is None:
            if not booking.contact_email:
                return None
            customer = Recipient(booking.contact_email, "", tenant.locale)
        zone = zone_of(resource)
        locale = language_or_default(customer.locale)
        fmt = Formatter(locale)
        values = {
            "tenant_name": tenant.name,
            "reference": booking.reference,
            "resource_name": resource.name,
            "venue_name": venue.name,
            "address": venue.address,
            "when": f"{fmt.datetime(booking.starts_at, zone, 'full')} – "
                    f"{fmt.time(booking.ends_at, zone)}",
            "zone": zone.key,
            "seats": booking.seats,
            "price": fmt.money(booking.price, booking.currency) if booking.price else "",
            "breakdown": breakdown_values(booking, fmt),
            "reason": booking.cancel_reason if kind == "booking.cancelled" else "",
            "amount": fmt.money(amount, booking.currency) if amount is not None else "",
            "booking_url": (f"{self.public_url}/t/{tenant.slug}/bookings/{booking.id}/"
                            if booking.customer_id is not None else ""),
            "confirm_link": confirm_link,
            "book_again_url": (f"{self.public_url}/t/{tenant.slug}/venues/{venue.id}"
                               f"/resources/{resource.id}/"),
        }
        mapping = {"resource": resource.name, "when": fmt.datetime(booking.starts_at, zone),
                   "amount": values["amount"], "reference": booking.reference}
        attachments = []
        if calendar_method is not None:
            attachments.append(self.calendar_file(booking, tenant, customer, calendar_method))
        # A confirmation that confirms a new account's address holds a secret.
        return self.send(kind, customer, subject, dedupe_key, values, mapping=mapping,
                         tenant_id=tenant.id, booking_id=booking.id, attachments=attachments,
                         carries_secret=bool(confirm_link))

    def calendar_file(self, booking, tenant, customer, method):
        """The booking as the customer's ``booking.ics`` has it (same UID and
        SEQUENCE), as an iTIP ``method`` (REQUEST or CANCEL)."""
        resource, venue = booking.resource, booking.resource.venue
        description = localizer_for(customer.locale).translate(
            _("Booking reference ${reference}", mapping={"reference": booking.reference}))
        lines = ics.booking_event(
            booking, tenant, self.now, f"{resource.name} · {tenant.name}",
            ", ".join(part for part in (venue.name, venue.address) if part), description,
        )
        lines[-1:-1] = [f"ORGANIZER;CN={parameter(tenant.name)}:mailto:{self.organizer}",
                        f"ATTENDEE;CN={parameter(customer.name or customer.email)};"
                        f"ROLE=REQ-PARTICIPANT:mailto:{customer.email}"]
        return {
            "filename": f"booking-{booking.reference}.ics",
            "content_type": "text/calendar",
            "content": ics.calendar([lines], method=method),
        }

    def send(self, kind, user, subject, dedupe_key, values, mapping=None, tenant_id=None,
             booking_id=None, attachments=(), carries_secret=False):
        """Render ``kind`` for ``user`` and queue it; the outbox id, or
        ``None`` when this message was already queued. ``carries_secret``:
        the body holds a link with a token (see :func:`.outbox.enqueue`)."""
        if tenant_id is not None and not self.may_mail(tenant_id):
            return None
        locale = language_or_default(user.locale)
        subject_text = localizer_for(locale).translate(subject, mapping=mapping)
        env = environment(locale, self.reload_templates)
        name = kind.replace(".", "_")
        values = {"subject": subject_text, "lang": locale, "name": user.name,
                  "site": self.public_url, **values}
        return enqueue(
            self.dbsession, kind=kind, dedupe_key=dedupe_key, recipient=user.email,
            subject=subject_text,
            body_text=env.get_template(f"{name}.txt.jinja2").render(values),
            body_html=env.get_template(f"{name}.html.jinja2").render(values),
            now=self.now, tenant_id=tenant_id, booking_id=booking_id, locale=locale,
            attachments=attachments, carries_secret=carries_secret,
        )

    def may_mail(self, tenant_id):
        """Whether the business may send one more email: always once its
        owner's address is confirmed, else up to :data:`UNVERIFIED_MAIL_QUOTA`."""
        tenant = self.dbsession.get(Tenant, tenant_id)
        if tenant is None or tenant.verified:
            return True
        sent = self.dbsession.scalar(
            select(func.count()).select_from(OutboxMessage)
            .where(OutboxMessage.tenant_id == tenant_id))
        return sent < UNVERIFIED_MAIL_QUOTA


def breakdown_values(booking, fmt):
    """The booking's price breakdown with its amounts formatted, or ``None``
    when nothing was taken off (the price alone says it all)."""
    quote = Quote.of_booking(booking)
    if not quote.lines:
        return None
    return {"base": fmt.money(quote.base, quote.currency),
            "lines": [{"kind": line.kind, "label": line.label,
                       "amount": fmt.money(line.amount, quote.currency)}
                      for line in quote.lines],
            "total": fmt.money(quote.total, quote.currency) if quote.total else ""}


def parameter(value):
    """An iCalendar parameter value, quoted (§3.2: no DQUOTE inside)."""
    cleaned = "".join(ch for ch in str(value) if ch not in '"\r\n')
    return f'"{cleaned}"'

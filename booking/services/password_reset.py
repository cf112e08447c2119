"""Forgotten passwords: a single-use link, valid for an hour, emailed to the
account's address. Only the SHA-256 digest of its secret is stored.

Asking for a link answers the same whether or not the account exists (no
account enumeration); the requests are throttled per address asked for and
per client address, counted in the ``throttle_counters`` table like sign-in
failures (keys ``reset-account:<email>`` and ``reset-address:<ip>``). The
same throttle answers an unknown email, so a 429 reveals nothing either.
"""

from datetime import timedelta

from sqlalchemy import select

from ..i18n import _
from ..models import TokenPurpose, User, normalize_email
from .accounts import EMAIL_PATTERN
from .errors import ValidationError
from .security_log import Event, SecurityLog
from .user_tokens import claim_token, issue_token
from .throttle import KeyedLimits, SignInThrottle

RESET_LIFETIME = timedelta(hours=1)
WINDOW = timedelta(hours=1)
MAX_REQUESTS_PER_ACCOUNT = 3
MAX_REQUESTS_PER_ADDRESS = 20


class ResetThrottle(KeyedLimits):
    """At most a few reset emails per account, and per client address, an hour."""

    window = WINDOW

    def keys(self, email, address):
        return {f"reset-account:{email}": MAX_REQUESTS_PER_ACCOUNT,
                f"reset-address:{address}": MAX_REQUESTS_PER_ADDRESS}

    def message(self, key, minutes):
        if key.startswith("reset-account:"):
            return _("Too many password reset requests for this email address: try again "
                     "in ${minutes} minute(s).", mapping={"minutes": minutes})
        return _("Too many password reset requests from your address: try again in "
                 "${minutes} minute(s).", mapping={"minutes": minutes})


def reset_email(value):
    """The address a reset is asked for, normalized; a ValidationError if it
    cannot be an address."""
    email = normalize_email(value or "")
    if len(email) > 254 or not EMAIL_PATTERN.match(email):
        raise ValidationError(_("is not an email address"), field="email")
    return email


class PasswordResetService:
    """Found with ``find_service(PasswordResetService)``; its factory hands
    it the :class:`~booking.services.notifications.Notifier` built with the
    app's settings (the link's base URL), which :meth:`request_reset`
    sends the link through."""

    def __init__(self, dbsession, now, notifier=None):
        self.dbsession = dbsession
        self.now = now
        self.notifier = notifier

    def request_reset(self, email, address):
        """Email a reset link to the account of ``email``, if there is one.
        Raises ``ValidationError`` for a malformed address and
        ``TooManyAttempts`` while throttled; otherwise returns nothing,
        whether or not the account exists."""
        email = reset_email(email)
        throttle = ResetThrottle(self.dbsession, self.now)
        throttle.check(email, address)
        throttle.record(email, address)
        user = self.dbsession.scalar(select(User).where(User.email == email))
        SecurityLog(self.dbsession, self.now).record(
            Event.RESET_REQUESTED, user_id=user and user.id, client_addr=address,
            email=None if user else email)
        if user is None:
            return
        link = f"{self.notifier.public_url}/reset/{self.new_token(user)}"
        self.notifier.password_reset(user, link)

    def new_token(self, user):
        """A fresh reset secret for ``user``; their earlier unused ones stop working."""
        return issue_token(self.dbsession, user, TokenPurpose.PASSWORD_RESET, self.now, RESET_LIFETIME)

    def reset(self, token, password):
        """Set ``password`` (already checked) on the token's user and use the
        token up. Returns the user, or ``None`` if another request used the
        token first. Every other session of the user ends."""
        user = claim_token(self.dbsession, token, self.now, password)
        if user is None:
            return None
        SignInThrottle(self.dbsession, self.now).forget_account(user.email)
        self.dbsession.flush()
        return user

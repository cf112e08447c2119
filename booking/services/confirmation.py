"""New accounts confirm their address, and nobody learns from us which
addresses have accounts.

Registering (the site's form, a business's sign-up, the booking form's
inline account) answers the same whether or not the address has an account:
a new address gets an account whose address is unconfirmed and a
single-use link that confirms it (``/confirm/{secret}``); a known one gets
an email saying someone tried, with links to sign in or choose a new
password. An unconfirmed account cannot sign in with its password.

Each attempt is counted per address and per client address
(``account-mail:<email>``, ``account-mail-client:<ip>``), so nobody can
probe many addresses, nor flood one with mail.
"""

from datetime import timedelta

from sqlalchemy import select

from ..i18n import _
from ..models import TokenPurpose, User, normalize_email
from .throttle import KeyedLimits
from .user_tokens import issue_token, use_up

CONFIRMATION_LIFETIME = timedelta(days=3)
WINDOW = timedelta(hours=1)
MAX_PER_ADDRESS = 3
MAX_PER_CLIENT = 10


class AccountMailThrottle(KeyedLimits):
    """At most a few account emails per address, and attempts per client, an hour."""

    window = WINDOW

    def keys(self, email, client_addr):
        return {f"account-mail-client:{client_addr}": MAX_PER_CLIENT,
                f"account-mail:{normalize_email(email)}": MAX_PER_ADDRESS}

    def message(self, key, minutes):
        # The same words for both keys: the answer tells nothing of the address.
        return _("Too many attempts: try again in ${minutes} minute(s).",
                 mapping={"minutes": minutes})


class AddressConfirmations:
    """Links that confirm addresses, sent through ``notifier``."""

    def __init__(self, dbsession, now, notifier):
        self.dbsession = dbsession
        self.now = now
        self.notifier = notifier

    def account_of(self, email):
        return self.dbsession.scalar(select(User).where(User.email == normalize_email(email)))

    def link(self, user):
        """A fresh confirmation link for ``user`` (earlier ones stop working)."""
        secret = issue_token(self.dbsession, user, TokenPurpose.EMAIL_CONFIRMATION, self.now,
                             CONFIRMATION_LIFETIME)
        return f"{self.notifier.public_url}/confirm/{secret}"

    def send_link(self, user):
        self.notifier.address_confirmation(user, self.link(user))

    def tell_existing(self, user):
        """Someone tried to make an account with ``user``'s address: an
        unconfirmed account gets its link again, any other the warning."""
        if user.email_confirmed_at is None:
            self.send_link(user)
        else:
            self.notifier.account_exists(user)

    def confirm(self, token):
        """Use the confirmation ``token`` up: its user's address is
        confirmed. Returns the user, or ``None`` if it was used meanwhile."""
        return use_up(self.dbsession, token, self.now)

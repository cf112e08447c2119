"""The security log: sign-ins, sign-outs, password changes, API tokens…

Each event is a ``security_events`` row, written in the transaction of the
change it records, and a line of the ``booking.security`` logger. Neither
holds a secret or an email address in clear: an address that names no
account (a failed sign-in) is kept masked (``j***@example.com``).

Any service records with a plain ``SecurityLog(dbsession, now)``::

    SecurityLog(dbsession, now).record(Event.SIGN_IN, user_id=user.id,
                                       client_addr=address, via="api")
"""

import json
import logging
from enum import StrEnum

from sqlalchemy import select

from ..models import Membership, SecurityEvent, User

log = logging.getLogger("booking.security")


class Event(StrEnum):
    SIGN_IN = "sign-in"
    SIGN_IN_FAILED = "sign-in-failed"
    SIGN_IN_THROTTLED = "sign-in-throttled"
    PASSWORD_ACCEPTED = "password-accepted"  # the second step is due: not signed in yet
    SIGN_OUT = "sign-out"
    SIGN_OUT_EVERYWHERE = "sign-out-everywhere"
    SESSION_ENDED = "session-ended"
    ACCOUNT_CREATED = "account-created"
    ACCOUNT_ERASED = "account-erased"
    PASSWORD_CHANGED = "password-changed"
    PASSWORD_SET = "password-set"  # a first password, from an invitation
    RESET_REQUESTED = "password-reset-requested"
    RESET_COMPLETED = "password-reset-completed"
    API_TOKEN_CREATED = "api-token-created"
    API_TOKEN_REVOKED = "api-token-revoked"
    MFA_ENABLED = "mfa-enabled"  # an authenticator app or a passkey added
    MFA_DISABLED = "mfa-disabled"
    SECOND_STEP_FAILED = "second-step-failed"
    SECOND_STEP_THROTTLED = "second-step-throttled"
    RECOVERY_CODE_USED = "recovery-code-used"
    PASSKEY_USED = "passkey-used"


#: What the staff area's sign-in history shows.
SIGN_IN_EVENTS = (Event.SIGN_IN, Event.SIGN_IN_FAILED, Event.SIGN_IN_THROTTLED,
                  Event.PASSWORD_ACCEPTED,
                  Event.SECOND_STEP_FAILED, Event.SECOND_STEP_THROTTLED,
                  Event.RECOVERY_CODE_USED, Event.PASSKEY_USED)
HISTORY_LENGTH = 50


def mask_email(email):
    """``jane@example.com`` → ``j***@example.com``: enough to tell attempts
    apart in the log, not enough to read the address."""
    local, _, domain = (email or "").partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


class SecurityLog:
    def __init__(self, dbsession, now):
        self.dbsession = dbsession
        self.now = now

    def record(self, event, user_id=None, client_addr=None, *, email=None, **details):
        """Record ``event`` (an :class:`Event`) of the account ``user_id``
        (``None`` when no account is known), from ``client_addr``.
        ``email`` is an address that names no account: it is stored masked
        and never logged. ``details`` are small JSON values (ids, counts,
        ``via="api"``): never a secret, never an address."""
        if email is not None:
            details["account"] = mask_email(email)
        self.dbsession.add(SecurityEvent(user_id=user_id, event=str(event), at=self.now,
                                         client_addr=(client_addr or "")[:64],
                                         details=details))
        logged = {key: value for key, value in details.items() if key != "account"}
        log.info("%s user=%s client=%s%s", event, user_id if user_id is not None else "-",
                 client_addr or "-", f" {json.dumps(logged, sort_keys=True)}" if logged else "")

    def member_sign_ins(self, tenant, membership_id):
        """``(user, events)``: the member ``membership_id`` of ``tenant`` and
        their latest sign-ins; ``None`` when the tenant has no such member
        (another tenant's staff, and people invited who have not accepted,
        are never found here)."""
        user = self.dbsession.scalar(
            select(User).join(Membership, Membership.user_id == User.id)
            .where(Membership.id == membership_id, Membership.tenant_id == tenant.id,
                   Membership.pending.is_(False)))
        return None if user is None else (user, self.sign_ins(user.id))

    def sign_ins(self, user_id, limit=HISTORY_LENGTH):
        """The latest sign-ins, failures and refusals of ``user_id``, newest first."""
        return self.dbsession.scalars(
            select(SecurityEvent)
            .where(SecurityEvent.user_id == user_id, SecurityEvent.event.in_(SIGN_IN_EVENTS))
            .order_by(SecurityEvent.at.desc(), SecurityEvent.id.desc())
            .limit(limit)
        ).all()

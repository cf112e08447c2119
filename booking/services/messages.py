"""The outbox as staff see it: a booking's messages, the tenant's messages
waiting or given up, and "retry now" for a given-up one. Bodies are never
read here: they may hold secret links (password reset, invitation)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from ..i18n import _
from ..models import OutboxMessage
from . import audit
from .errors import Conflict

#: What a listing shows of a message: never its subject or body.
COLUMNS = (OutboxMessage.id, OutboxMessage.booking_id, OutboxMessage.kind,
           OutboxMessage.recipient, OutboxMessage.attempts, OutboxMessage.last_error,
           OutboxMessage.created_at, OutboxMessage.next_attempt_at, OutboxMessage.sent_at,
           OutboxMessage.failed_at)
UNSENT = (OutboxMessage.sent_at.is_(None),)
STATUS_LABELS = {"sent": _("Sent"), "pending": _("Waiting"), "failed": _("Given up")}
KIND_LABELS = {
    "booking.confirmed": _("Booking confirmed"),
    "booking.cancelled": _("Booking cancelled"),
    "booking.rescheduled": _("Booking moved"),
    "hold.expired": _("Hold expired"),
    "payment.refunded": _("Payment refunded"),
    "reminder": _("Reminder"),
    "password.reset": _("Password reset"),
    "staff.invitation": _("Staff invitation"),
    "voucher.purchased": _("Gift voucher bought"),
}


@dataclass(frozen=True)
class MessageListing:
    id: int
    booking_id: int | None
    kind: str
    recipient: str
    attempts: int
    last_error: str
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None

    @property
    def status(self):
        if self.sent_at is not None:
            return "sent"
        return "failed" if self.failed_at is not None else "pending"

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]

    @property
    def kind_label(self):
        """The kind in words; an unknown kind as it is stored."""
        return KIND_LABELS.get(self.kind, self.kind)


def _listings(rows):
    return [MessageListing(*row) for row in rows]


def booking_messages(dbsession, booking, limit=100):
    """The messages about ``booking``, oldest first."""
    return _listings(dbsession.execute(
        select(*COLUMNS)
        .where(OutboxMessage.booking_id == booking.id,
               OutboxMessage.tenant_id == booking.tenant_id)
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
        .limit(limit)
    ))


def unsent_messages(dbsession, tenant, limit, offset):
    """``(listings, total)``: the tenant's messages not sent (waiting or
    given up), newest first."""
    where = (OutboxMessage.tenant_id == tenant.id, *UNSENT)
    total = dbsession.scalar(select(func.count()).select_from(OutboxMessage).where(*where))
    rows = dbsession.execute(
        select(*COLUMNS).where(*where)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(limit).offset(offset)
    )
    return _listings(rows), total


def retry(dbsession, tenant, message, actor_id, now):
    """Put a given-up message back in the queue, due now, its attempts
    kept; audited. ``Conflict`` if it is not (or no longer) given up."""
    claimed = dbsession.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.tenant_id == tenant.id,
               OutboxMessage.failed_at.is_not(None), *UNSENT)
        .values(failed_at=None, next_attempt_at=now, locked_until=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        raise Conflict(_("This message is not given up: it is sent or already waiting "
                         "to be sent."))
    audit.record(dbsession, tenant.id, actor_id, "outbox.retried", "outbox_message",
                 message.id, now, kind=message.kind, attempts=message.attempts,
                 last_error=message.last_error, booking_id=message.booking_id)


class MessageService:
    """The tenant's outbox as its staff see it: the messages not sent, and
    "retry now" for a given-up one."""

    def __init__(self, dbsession, now):
        self.dbsession = dbsession
        self.now = now

    def unsent(self, tenant, limit, offset):
        return unsent_messages(self.dbsession, tenant, limit, offset)

    def retry(self, tenant, message, actor_id):
        retry(self.dbsession, tenant, message, actor_id, self.now)

    def about_booking(self, booking, limit=100):
        return booking_messages(self.dbsession, booking, limit)

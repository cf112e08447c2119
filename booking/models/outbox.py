from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base
from .types import UTCDateTime

PENDING_SQL = "sent_at IS NULL AND failed_at IS NULL"


class OutboxMessage(Base):
    """An email, fully rendered, waiting to be sent by the worker.

    Rows are written in the transaction of the change that causes them, so
    a change that rolls back sends nothing. ``dedupe_key`` is unique: one
    message per (booking, kind, offset) however often the cause repeats.
    ``tenant_id`` is empty for messages about an account (password reset).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending_next_attempt_at", "next_attempt_at",
              postgresql_where=text(PENDING_SQL), sqlite_where=text(PENDING_SQL)),
        Index("ix_outbox_booking_id", "booking_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(10), default="en")
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    #: ``[{"filename", "content_type", "content"}]`` (text attachments: ICS).
    attachments: Mapped[list] = mapped_column(JSON, default=list)
    #: Extra headers, ``{name: value}`` (an offer's ``List-Unsubscribe``).
    headers: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Not to be sent before this (reminders are written ahead of time).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: ``due_at``, then pushed back after each failed attempt (backoff).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: A worker's lease on the row while it sends it.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(String(1000), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set when the attempts are spent: the message is given up.
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The body holds a secret (a password-reset or invitation link): it is
    #: blanked as soon as the message is sent or given up.
    carries_secret: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: When ``body_text``/``body_html``/``attachments`` were blanked (at
    #: once for a secret, else ``booking.outbox_retention_days`` after sending).
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def status(self):
        if self.sent_at is not None:
            return "sent"
        if self.failed_at is not None:
            return "failed"
        return "pending"

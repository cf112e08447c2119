from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .meta import Base, TenantScoped
from .types import UTCDateTime


class PaymentState(StrEnum):
    #: Created at the provider; the customer has not paid yet.
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    #: The provider says it failed or the checkout expired.
    FAILED = "failed"
    #: Some or all of it was given back (see ``refunded_amount``).
    REFUNDED = "refunded"


class Payment(TenantScoped, Base):
    """A payment for a booking at a provider. Amounts are minor units of
    ``currency``. ``idempotency_key`` is sent to the provider with the
    creation request, so a retried creation never charges twice."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount", name="refunded"),
        CheckConstraint("status IN ('pending', 'succeeded', 'failed', 'refunded')",
                        name="status"),
        UniqueConstraint("provider", "provider_ref"),
        Index("ix_payments_booking_id", "booking_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(20))
    #: The provider's id of the checkout session or payment intent.
    provider_ref: Mapped[str | None] = mapped_column(String(255))
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default=PaymentState.PENDING)
    refunded_amount: Mapped[int] = mapped_column(default=0)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    checkout_url: Mapped[str] = mapped_column(String(2000), default="")
    last_error: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    booking = relationship("Booking")


class Refund(TenantScoped, Base):
    """Money given back on a payment, at the provider."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        Index("ix_refunds_payment_id", "payment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"))
    amount: Mapped[int]
    reason: Mapped[str] = mapped_column(String(200), default="")
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    provider_ref: Mapped[str | None] = mapped_column(String(255))
    #: ``pending`` until the provider accepted it, then ``succeeded`` (or ``failed``).
    status: Mapped[str] = mapped_column(String(16), default="pending")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    payment = relationship("Payment")


class PaymentEvent(Base):
    """A webhook event received from a provider, by its id: an event
    delivered twice is recognised and has one effect."""

    __tablename__ = "payment_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(100))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)

"""A gift voucher bought online: the order waits ``pending`` while the
buyer pays on the provider's hosted checkout; only the provider's signed
webhook turns it ``paid``, and that issues its voucher (``voucher_id``,
unique: one voucher per order however often the event comes)."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base, TenantScoped
from .types import UTCDateTime


class VoucherOrderState(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    #: The checkout expired or failed unpaid.
    FAILED = "failed"


class VoucherOrder(TenantScoped, Base):
    __tablename__ = "voucher_orders"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("status IN ('pending', 'paid', 'failed')", name="status"),
        UniqueConstraint("provider", "provider_ref"),
        UniqueConstraint("tenant_id", "voucher_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    #: The account that buys it; the code is emailed to ``buyer_email`` in ``locale``.
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    buyer_email: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(10), default="en")
    #: Who it is for, as the buyer wrote it (shown to staff as the voucher's label).
    label: Mapped[str] = mapped_column(String(200), default="")
    provider: Mapped[str] = mapped_column(String(20))
    #: The provider's id of the checkout session.
    provider_ref: Mapped[str | None] = mapped_column(String(255))
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    checkout_url: Mapped[str] = mapped_column(String(2000), default="")
    status: Mapped[str] = mapped_column(String(16), default=VoucherOrderState.PENDING)
    voucher_id: Mapped[int | None] = mapped_column(
        ForeignKey("vouchers.id", ondelete="SET NULL"))
    last_error: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

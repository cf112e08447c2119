from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, String, false, true
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base
from .types import UTCDateTime


class TenantStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


DEFAULT_REMINDER_OFFSETS = [24 * 60, 2 * 60]


class Tenant(Base):
    """A business that publishes venues and takes bookings."""

    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'suspended')", name="status"),
        CheckConstraint("cancellation_window_minutes >= 0", name="cancellation_window"),
        CheckConstraint("hold_minutes > 0", name="hold_minutes"),
        CheckConstraint("refund_policy IN ('full', 'partial', 'none')", name="refund_policy"),
        CheckConstraint("refund_percent BETWEEN 0 AND 100", name="refund_percent"),
        CheckConstraint("personal_data_days IS NULL OR personal_data_days >= 1",
                        name="personal_data_days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    locale: Mapped[str] = mapped_column(String(10), default="en")
    status: Mapped[str] = mapped_column(String(16), default=TenantStatus.ACTIVE)
    #: A customer may cancel or reschedule until this long before the start.
    cancellation_window_minutes: Mapped[int] = mapped_column(default=24 * 60)
    #: How long an unpaid booking keeps its slot.
    hold_minutes: Mapped[int] = mapped_column(default=15)
    #: What a customer who cancels inside the window gets back of a paid
    #: booking: ``full``, ``partial`` (``refund_percent``) or ``none``.
    refund_policy: Mapped[str] = mapped_column(String(10), default="full", server_default="full")
    refund_percent: Mapped[int] = mapped_column(default=100, server_default="100")
    #: Minutes before the start at which reminders are sent.
    reminder_offsets: Mapped[list[int]] = mapped_column(
        JSON, default=lambda: list(DEFAULT_REMINDER_OFFSETS)
    )
    #: Days after a booking ends before its contact fields (name, phone,
    #: note) are anonymised by the worker; ``None`` keeps them.
    personal_data_days: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Every member must sign in with a second factor to open the staff area.
    #: Whether the tenant ever made an automatic offer: prices read the
    #: offers only then (set by the first one, see models.promotion).
    has_offers: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: A moved booking keeps its price (``keep``) or is priced afresh
    #: for its new slot (``reprice``).
    move_pricing: Mapped[str] = mapped_column(String(8), default="keep", server_default="keep")
    #: Whether cancelling a booking gives its promo code use back.
    release_code_on_cancel: Mapped[bool] = mapped_column(default=True, server_default=true())
    require_mfa: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Its owner's address is confirmed (or the platform made it): only then
    #: is it listed, may it invite anyone, and send more than a few emails.
    verified: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: An owner asked for the business to be deleted: it is closed at once
    #: and purged with everything it owns once the grace period has passed
    #: (its slug stays taken until then).
    deletion_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_active(self):
        return self.status == TenantStatus.ACTIVE

    def __repr__(self):
        return f"<Tenant {self.slug}>"

"""Promotions: automatic offers, promo codes and their uses, vouchers (gift
cards) and their ledger. Amounts are in minor units of the tenant's
currency; a discount is a ``percent`` or a fixed ``amount``, never both."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (JSON, CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint,
                        event)
from sqlalchemy.orm import Mapped, Session, mapped_column

from .meta import Base, TenantScoped
from .tenant import Tenant
from .types import UTCDateTime

ONE_DISCOUNT = ("(percent IS NULL AND amount IS NOT NULL) OR "
                "(percent IS NOT NULL AND amount IS NULL)")


class OfferKind(StrEnum):
    #: Slots on some weekdays, in a local time window.
    OFF_PEAK = "off_peak"
    #: A slot starting within ``hours_before`` hours, still free.
    LAST_MINUTE = "last_minute"
    #: Booked at least ``days_ahead`` days before the slot.
    EARLY_BIRD = "early_bird"


class Discounted:
    """What an offer and a code share: the discount, the slots it applies
    to (weekdays and a local time window), pause and end."""

    #: 1–100, or None when ``amount`` is given.
    percent: Mapped[int | None] = mapped_column()
    #: Off each booking, in minor units; or None when ``percent`` is given.
    amount: Mapped[int | None] = mapped_column()
    #: Local weekdays of the slot (0 = Monday); empty: every day.
    weekdays: Mapped[list[int]] = mapped_column(JSON, default=list)
    #: Local time window of the slot's start, minutes after midnight
    #: (``from_minute`` included, ``to_minute`` excluded); None: all day.
    from_minute: Mapped[int | None] = mapped_column()
    to_minute: Mapped[int | None] = mapped_column()
    paused: Mapped[bool] = mapped_column(default=False)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Offer(Discounted, TenantScoped, Base):
    """A discount given without asking, on the slots it applies to, for the
    whole tenant, one venue or one resource."""

    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint(ONE_DISCOUNT, name="one_discount"),
        CheckConstraint("percent IS NULL OR (percent BETWEEN 1 AND 100)", name="percent"),
        CheckConstraint("amount IS NULL OR amount > 0", name="amount"),
        CheckConstraint("kind IN ('off_peak', 'last_minute', 'early_bird')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"))
    resource_id: Mapped[int | None] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"))
    hours_before: Mapped[int | None] = mapped_column()
    days_ahead: Mapped[int | None] = mapped_column()
    #: Local dates of the slots it applies to (both included); None: open.
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    #: Whether a promo code's discount adds to this one (else the better wins).
    stacks: Mapped[bool] = mapped_column(default=False)



@event.listens_for(Session, "before_flush")
def _mark_tenants_with_offers(session, flush_context, instances):
    """A tenant's first offer sets ``tenants.has_offers``, in the same flush:
    a booking of a tenant that never made one reads no offers."""
    for row in session.new:
        if isinstance(row, Offer):
            tenant = session.get(Tenant, row.tenant_id)
            if tenant is not None and not tenant.has_offers:
                tenant.has_offers = True

class PromoCode(Discounted, TenantScoped, Base):
    """A code a customer types. ``code`` is kept upper-case: entry is
    case-insensitive. ``uses`` counts live uses; it only grows through one
    conditional UPDATE, so that concurrent bookings cannot pass ``max_uses``."""

    __tablename__ = "promo_codes"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        CheckConstraint(ONE_DISCOUNT, name="one_discount"),
        CheckConstraint("percent IS NULL OR (percent BETWEEN 1 AND 100)", name="percent"),
        CheckConstraint("amount IS NULL OR amount > 0", name="amount"),
        CheckConstraint("max_uses IS NULL OR uses <= max_uses", name="uses"),
        CheckConstraint("uses >= 0", name="uses_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    #: When it may be used (the booking is made); None: open.
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    max_uses: Mapped[int | None] = mapped_column()
    max_uses_per_customer: Mapped[int | None] = mapped_column()
    uses: Mapped[int] = mapped_column(default=0)
    min_seats: Mapped[int] = mapped_column(default=1)
    #: The booking's price before any discount, in minor units.
    min_amount: Mapped[int] = mapped_column(default=0)
    #: Empty: every venue (resource) of the tenant.
    venue_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    resource_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    first_booking_only: Mapped[bool] = mapped_column(default=False)


class CodeUse(TenantScoped, Base):
    """One booking's use of a promo code; ``released_at`` when a
    cancellation gave it back (the tenant's choice)."""

    __tablename__ = "code_uses"
    __table_args__ = (
        Index("ix_code_uses_code_customer", "code_id", "customer_key"),
        UniqueConstraint("tenant_id", "booking_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("promo_codes.id", ondelete="CASCADE"))
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    #: ``user:<id>`` or ``email:<address>``: who "per customer" counts.
    customer_key: Mapped[str] = mapped_column(String(270))
    discount: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Voucher(TenantScoped, Base):
    """A gift card: a balance spent across bookings until it expires. Only
    a digest of its code is kept (the code is a bearer secret, shown once),
    with its last characters to tell vouchers apart."""

    __tablename__ = "vouchers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "digest"),
        CheckConstraint("balance >= 0", name="balance"),
        CheckConstraint("balance <= initial", name="balance_initial"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    hint: Mapped[str] = mapped_column(String(8))
    currency: Mapped[str] = mapped_column(String(3))
    initial: Mapped[int] = mapped_column()
    balance: Mapped[int] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Who it is for, as the issuer wrote it.
    label: Mapped[str] = mapped_column(String(200), default="")
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: The account that bought it online, if it was bought.
    bought_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class VoucherEntryKind(StrEnum):
    ISSUED = "issued"
    SPENT = "spent"
    REFUNDED = "refunded"  # a booking paid with it was cancelled
    VOIDED = "voided"


class VoucherEntry(TenantScoped, Base):
    """A line of a voucher's ledger: the balance moved by ``amount``
    (positive in, negative out); their sum is the balance."""

    __tablename__ = "voucher_entries"
    __table_args__ = (Index("ix_voucher_entries_voucher_id", "voucher_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(ForeignKey("vouchers.id", ondelete="CASCADE"))
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column()
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

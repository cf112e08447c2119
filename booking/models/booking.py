from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .meta import Base, TenantScoped
from .types import EncryptedString, UTCDateTime


class BookingStatus(StrEnum):
    HELD = "held"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    EXPIRED = "expired"


#: Statuses that occupy seats (a ``held`` row only until its hold expires).
ACTIVE_STATUSES = (BookingStatus.HELD, BookingStatus.CONFIRMED)

#: The same set as a SQL literal. Overlap queries and partial indexes must use
#: this literal, not a bound parameter, or PostgreSQL's generic plans cannot
#: use the partial indexes.
ACTIVE_STATUS_SQL = "status IN ('held', 'confirmed')"


class PaymentStatus(StrEnum):
    NOT_REQUIRED = "not_required"
    DUE_AT_VENUE = "due_at_venue"
    PENDING = "pending"
    PAID = "paid"
    REFUNDED = "refunded"


class Booking(TenantScoped, Base):
    """Seats on a resource for one slot.

    ``starts_at``/``ends_at`` are the slot; ``block_start``/``block_end`` add
    the resource's buffers as they were when the booking was made, and are
    what overlaps are computed on. ``exclusive`` records that the resource had
    capacity 1, so PostgreSQL's exclusion constraint can enforce the
    invariant for those rows in the schema itself.
    """

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("seats >= 1", name="seats"),
        CheckConstraint("starts_at < ends_at", name="period"),
        CheckConstraint("block_start <= starts_at AND block_end >= ends_at", name="block"),
        CheckConstraint(
            "status IN ('held', 'confirmed', 'cancelled', 'completed', 'no_show', 'expired')",
            name="status",
        ),
        CheckConstraint("price >= 0", name="price"),
        CheckConstraint("status <> 'held' OR hold_expires_at IS NOT NULL", name="hold_expiry"),
        UniqueConstraint("tenant_id", "reference"),
        UniqueConstraint("tenant_id", "customer_id", "idempotency_key"),
        Index(
            "ix_bookings_active_resource_block_start",
            "resource_id",
            "block_start",
            postgresql_where=text(ACTIVE_STATUS_SQL),
            sqlite_where=text(ACTIVE_STATUS_SQL),
        ),
        Index("ix_bookings_tenant_customer_starts_at", "tenant_id", "customer_id", "starts_at"),
        Index("ix_bookings_tenant_starts_at", "tenant_id", "starts_at"),
        #: Popular times and the staff calendar read a resource's history.
        Index("ix_bookings_resource_starts_at", "resource_id", "starts_at"),
        ExcludeConstraint(
            ("tenant_id", "="),
            ("resource_id", "="),
            (literal_column("tstzrange(block_start, block_end, '[)')"), "&&"),
            name="ex_bookings_exclusive_no_overlap",
            using="gist",
            where=text(f"exclusive AND {ACTIVE_STATUS_SQL}"),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12))
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    #: The customer's account; ``None`` for a walk-in, who has none.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    block_start: Mapped[datetime] = mapped_column(UTCDateTime)
    block_end: Mapped[datetime] = mapped_column(UTCDateTime)
    seats: Mapped[int] = mapped_column(default=1)
    exclusive: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16))
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: What the customer pays, in minor units of ``currency``: the total
    #: of ``price_breakdown`` (discounts and any voucher taken off).
    price: Mapped[int] = mapped_column(default=0)
    #: How ``price`` was made when the booking was (or last re-priced):
    #: :meth:`booking.services.pricing.Quote.as_json`. Later changes to
    #: prices and offers do not rewrite it. None for bookings made before.
    price_breakdown: Mapped[dict | None] = mapped_column(JSON)
    #: The voucher that paid ``voucher_amount`` of it, if one did.
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("vouchers.id", ondelete="SET NULL"))
    voucher_amount: Mapped[int] = mapped_column(default=0, server_default="0")
    currency: Mapped[str] = mapped_column(String(3))
    payment_status: Mapped[str] = mapped_column(String(16), default=PaymentStatus.NOT_REQUIRED)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    #: How the customer is named and reached for this booking, as the business
    #: knows them: their profile's at booking time, or what the desk typed for
    #: a walk-in. Staff pages show these, never the account's later profile.
    #: The phone and the customer's note are encrypted at rest; the name
    #: stays searchable.
    contact_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    contact_phone: Mapped[str] = mapped_column(EncryptedString("bookings.contact_phone"),
                                               default="", server_default="")
    #: A walk-in's address, if they gave one: the booking's own emails go
    #: there (no account is made for it).
    contact_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    note: Mapped[str] = mapped_column(EncryptedString("bookings.note"), default="")
    cancel_reason: Mapped[str] = mapped_column(String(1000), default="")
    #: When the contact fields were anonymised (erasure, retention).
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When staff checked the customer in (the booking stays ``confirmed``).
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Incremented on every change of time, for calendar (ICS) updates.
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    resource = relationship("Resource", lazy="joined", innerjoin=True)
    customer = relationship("User")

    @property
    def email(self):
        """Where the booking's emails go: its customer's address, a walk-in's,
        or ``""`` (no email at all)."""
        if self.customer_id is not None:
            return self.customer.email
        return self.contact_email

    def holds_seats(self, now):
        """Whether the booking occupies its seats at ``now``: confirmed, or
        held with time left on the hold."""
        if self.status == BookingStatus.HELD:
            return self.hold_expires_at is not None and self.hold_expires_at > now
        return self.status == BookingStatus.CONFIRMED

    def status_at(self, now):
        """The status, with a hold whose time ran out shown as expired."""
        if self.status == BookingStatus.HELD and not self.holds_seats(now):
            return BookingStatus.EXPIRED
        return self.status

from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .meta import Base, TenantScoped


class ResourceKind(StrEnum):
    ROOM = "room"
    COURT = "court"
    TABLE = "table"
    CLASS = "class"
    APPOINTMENT = "appointment"


#: A booking's blocked span (slot plus buffers) never exceeds this; overlap
#: queries rely on it to stay index range scans.
MAX_BLOCK_MINUTES = 24 * 60


class Resource(TenantScoped, Base):
    """Something bookable: capacity 1 is exclusive (a court), more is seats
    (a class). Bookings take one slot of ``slot_minutes`` on the venue's grid."""

    __tablename__ = "resources"
    __table_args__ = (
        CheckConstraint("capacity >= 1", name="capacity"),
        CheckConstraint("slot_minutes >= 5 AND slot_minutes <= 720", name="slot_minutes"),
        CheckConstraint(
            "buffer_before_minutes >= 0 AND buffer_after_minutes >= 0 AND "
            "slot_minutes + buffer_before_minutes + buffer_after_minutes <= 1440",
            name="buffers",
        ),
        CheckConstraint("min_notice_minutes >= 0", name="min_notice"),
        CheckConstraint("max_advance_days >= 1 AND max_advance_days <= 730", name="max_advance"),
        CheckConstraint("price >= 0", name="price"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default=ResourceKind.ROOM)
    description: Mapped[str] = mapped_column(String(2000), default="")
    capacity: Mapped[int] = mapped_column(default=1)
    slot_minutes: Mapped[int] = mapped_column(default=60)
    buffer_before_minutes: Mapped[int] = mapped_column(default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(default=0)
    min_notice_minutes: Mapped[int] = mapped_column(default=60)
    max_advance_days: Mapped[int] = mapped_column(default=90)
    #: Price of one seat for one slot, in minor units of the tenant's currency.
    price: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    venue = relationship("Venue", lazy="joined", innerjoin=True)

    @property
    def is_exclusive(self):
        return self.capacity == 1

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .meta import Base, TenantScoped
from .types import UTCDateTime


class CalendarFeed(TenantScoped, Base):
    """A private iCalendar feed of a venue's (or one resource's) bookings,
    for calendar apps to subscribe to. The URL carries a random secret; only
    its SHA-256 digest is stored, so the URL is shown once, at creation.
    Revoking it (or making a new one) ends the old URL."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"), index=True)
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    venue = relationship("Venue", lazy="joined", innerjoin=True)
    resource = relationship("Resource")

    @property
    def active(self):
        return self.revoked_at is None

from datetime import datetime, time

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .meta import Base, TenantScoped
from .types import UTCDateTime


class Venue(TenantScoped, Base):
    """A place of a tenant: an address, coordinates and (optionally) a time
    zone of its own; otherwise the tenant's applies."""

    __tablename__ = "venues"
    __table_args__ = (
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude"),
        CheckConstraint(
            "location_status IN ('pending', 'located', 'manual', 'not_located')",
            name="location_status",
        ),
        #: "Venues near me" prefilters on a bounding box of these two columns.
        Index("ix_venues_latitude_longitude", "latitude", "longitude"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(500), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    time_zone: Mapped[str | None] = mapped_column(String(64))
    #: ``pending`` (the address awaits the geocoder), ``located`` (by the
    #: geocoder), ``manual`` (coordinates typed by staff: the geocoder leaves
    #: them alone) or ``not_located`` (the geocoder found nothing, or failed:
    #: the worker retries after ``locate_after``).
    location_status: Mapped[str] = mapped_column(String(16), default="pending",
                                                 server_default="pending")
    locate_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    locate_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    located_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    tenant = relationship("Tenant", lazy="joined", innerjoin=True)


def _minutes_to_time(minutes):
    return time(minutes // 60, minutes % 60) if minutes < 24 * 60 else time(0, 0)


class OpeningHours(TenantScoped, Base):
    """A weekly opening range in local wall time. Rows with a resource
    override the venue's rows for that resource (all of a resource's weekdays
    at once: a resource with any rows of its own uses only those)."""

    __tablename__ = "opening_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint(
            "opens_minute >= 0 AND closes_minute <= 1440 AND opens_minute < closes_minute",
            name="range",
        ),
        Index("ix_opening_hours_venue_resource", "venue_id", "resource_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"))
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    #: Monday is 0, as in :meth:`datetime.date.weekday`.
    weekday: Mapped[int]
    #: Minutes after local midnight; ``closes_minute`` 1440 is midnight at the end of the day.
    opens_minute: Mapped[int]
    closes_minute: Mapped[int]

    @property
    def opens(self):
        return _minutes_to_time(self.opens_minute)

    @property
    def closes(self):
        return _minutes_to_time(self.closes_minute)


class Closure(TenantScoped, Base):
    """A period when a venue (or one of its resources) takes no bookings."""

    __tablename__ = "closures"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="period"),
        Index("ix_closures_venue_ends_at", "venue_id", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"))
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")

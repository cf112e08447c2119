from datetime import datetime

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base
from .types import UTCDateTime


class GeocodeResult(Base):
    """The geocoder's answer for one normalized address query, kept so the
    same address is not asked twice (its age decides when to ask again).
    ``found`` false records that the provider knew no such place."""

    __tablename__ = "geocode_cache"

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(500), unique=True)
    found: Mapped[bool] = mapped_column(default=False)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    display_name: Mapped[str] = mapped_column(String(500), default="")
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProviderSlot(Base):
    """One row per rate-limited provider: the instant of its latest request.
    Every thread and process of the app takes this row's lock before calling
    the provider, so the rate limit holds across all of them."""

    __tablename__ = "provider_slots"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_request_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

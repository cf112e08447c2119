from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base
from .types import UTCDateTime


class ThrottleCounter(Base):
    """Attempts counted under one key (``signin:pair:<email>|<ip>``,
    ``reset-address:<ip>``, …) since ``window_start``. One row per key,
    changed by a single ``INSERT … ON CONFLICT DO UPDATE … RETURNING``, so
    concurrent attempts each get their own count; a window that has ended
    starts again at the next attempt."""

    __tablename__ = "throttle_counters"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    count: Mapped[int]
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)

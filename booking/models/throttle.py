from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base
from .types import UTCDateTime


class LoginFailure(Base):
    """A failed sign-in, counted per account (``account:<email>``) and per
    client address (``address:<ip>``) to throttle password guessing. Rows
    older than the throttle window are deleted as new ones arrive."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

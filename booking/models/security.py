from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base
from .types import UTCDateTime


class UserSession(Base):
    """One signed-in browser. The signed cookie carries a random secret;
    only its SHA-256 digest is stored here, so the row can end the session
    (sign out, sign out everywhere, a password change) whatever the cookie
    says."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Moved forward at most every few minutes, not on every request.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A short description of the browser, from its User-Agent ("Firefox on Linux").
    device: Mapped[str] = mapped_column(String(100), default="")


class SecurityEvent(Base):
    """A sign-in, a sign-out, a password change, a token issued…: one row
    per event of an account's security. ``details`` hold no secret and no
    email address in clear (an unknown address is stored masked)."""

    __tablename__ = "security_events"
    __table_args__ = (Index("ix_security_events_user_id_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    event: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    client_addr: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)

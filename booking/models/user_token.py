from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .meta import Base
from .types import UTCDateTime


class TokenPurpose(StrEnum):
    #: Set a first password after a staff invitation.
    INVITATION = "invitation"
    #: Choose a new password after "forgot my password".
    PASSWORD_RESET = "password_reset"
    #: Confirm the address of a new account.
    EMAIL_CONFIRMATION = "email_confirm"


class UserToken(Base):
    """A single-use, expiring secret sent to a user (in a link). Only its
    SHA-256 digest is stored."""

    __tablename__ = "user_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")

    def usable(self, now):
        return self.used_at is None and now < self.expires_at

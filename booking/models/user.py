from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from .meta import Base, TenantScoped
from .types import EncryptedString, UTCDateTime


def normalize_email(email):
    """Emails are one identity whatever their case: store them lowercased."""
    return email.strip().lower()


class User(Base):
    """One identity across tenants: a customer here may be staff there."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200), default="")
    #: Encrypted at rest (at most 40 characters: the services check).
    phone: Mapped[str] = mapped_column(EncryptedString("users.phone"), default="")
    #: The language of the emails we send them (the site's, when they registered).
    locale: Mapped[str] = mapped_column(String(10), default="en", server_default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Runs the platform (``/admin/``): a principal of its own, never a tenant role.
    is_platform_admin: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Moves on whenever all their sessions end (password change or reset,
    #: "sign out everywhere"): the known-device cookies signed with the old
    #: value stop counting (``services.devices``). Sessions themselves end
    #: by their ``user_sessions`` rows.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    #: The person erased their account: personal fields are placeholders and
    #: it can no longer sign in.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When they followed the link that confirms their address; ``None``
    #: until then, and no signing in with the password meanwhile.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list["Membership"]] = relationship(back_populates="user")

    @validates("email")
    def _normalize_email(self, key, value):
        return normalize_email(value)

    def __repr__(self):
        return f"<User {self.id} {self.email}>"


class Role(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    STAFF = "staff"


class Membership(TenantScoped, Base):
    """A user's role in a tenant. Staff may be scoped to one venue."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id"),
        CheckConstraint("role IN ('owner', 'manager', 'staff')", name="role"),
        CheckConstraint("venue_id IS NULL OR role = 'staff'", name="venue_scope_staff_only"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"))
    #: An invitation the user has not accepted yet: no role until they do.
    pending: Mapped[bool] = mapped_column(default=False, server_default=false())

    user: Mapped[User] = relationship(back_populates="memberships")


class ApiToken(Base):
    """A bearer token for the JSON API. Only the SHA-256 digest is stored:
    the secret is shown once, at creation."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Refused from then on (``booking.api_token_lifetime_days`` after creation).
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Moved forward at most every few minutes, not on every request.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

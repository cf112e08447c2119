"""Offer emails: a customer's consent to a business's offers, the mailings
its staff send, and the recipients of each (with the digest of the secret
of their unsubscribe link)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base, TenantScoped
from .types import UTCDateTime

LIVE_SQL = "withdrawn_at IS NULL"


class MarketingConsent(TenantScoped, Base):
    """A customer agreed to receive ``tenant``'s offers by email: when, in
    which words (the exact sentence they were shown, in its language) and
    where (``how``). Withdrawing keeps the row (``withdrawn_at``): the
    record of what was agreed stays; a new agreement is a new row. At most
    one live row per business and customer."""

    __tablename__ = "marketing_consents"
    __table_args__ = (
        Index("uq_marketing_consents_live", "tenant_id", "user_id", unique=True,
              postgresql_where=text(LIVE_SQL), sqlite_where=text(LIVE_SQL)),
        Index("ix_marketing_consents_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The sentence the customer ticked or clicked, as they read it.
    wording: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(10))
    #: Where it was given: ``booking-form`` or ``account``.
    how: Mapped[str] = mapped_column(String(20))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Where it was withdrawn: ``account``, ``link``, ``one-click``, ``erasure``.
    withdrawn_how: Mapped[str] = mapped_column(String(20), default="", server_default="")


class OfferMailing(TenantScoped, Base):
    """One offer email written by the business's staff and sent to the
    customers who agreed (of one venue or resource, when chosen)."""

    __tablename__ = "offer_mailings"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venues.id", ondelete="SET NULL"))
    resource_id: Mapped[int | None] = mapped_column(
        ForeignKey("resources.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When its messages were queued in the outbox.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recipients: Mapped[int] = mapped_column(default=0, server_default="0")


class OfferRecipient(TenantScoped, Base):
    """Who a mailing went to, with the SHA-256 digest of the secret of
    their unsubscribe link (the secret itself is only in the email)."""

    __tablename__ = "offer_recipients"

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int] = mapped_column(
        ForeignKey("offer_mailings.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)

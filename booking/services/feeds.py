"""Private calendar feeds of a venue (or of one of its resources): created
with a random secret of which only the digest is kept, listed, revoked, and
rendered as iCalendar for calendar apps.

A feed holds the bookings from 30 days back to 365 days ahead: confirmed
(and completed or no-show) ones as CONFIRMED, a hold still running as
TENTATIVE, a cancelled booking as CANCELLED, so that subscribed calendars
remove it; expired holds are left out. Each event names the resource, the
customer and (for a class) the seats: what the staff calendar shows.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from .. import ics
from ..i18n import _
from ..models import Booking, BookingStatus, CalendarFeed, Resource, User
from ..security import token_digest
from . import audit
from .catalog import venue_resources
from .staff_calendar import customer_label

SECRET_BYTES = 32
DAYS_BACK, DAYS_AHEAD = 30, 365
MAX_EVENTS = 10_000
FEED_STATUSES = (BookingStatus.HELD, BookingStatus.CONFIRMED, BookingStatus.CANCELLED,
                 BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
ICS_STATUS = {BookingStatus.HELD: "TENTATIVE", BookingStatus.CANCELLED: "CANCELLED"}


@dataclass(frozen=True)
class FeedListing:
    """An active feed as the feeds page lists it."""

    id: int
    resource_id: int | None
    resource_name: str | None
    created_at: datetime
    created_by: str | None


class FeedService:
    def __init__(self, dbsession, now):
        self.dbsession = dbsession
        self.now = now

    def create(self, venue, resource, actor_id, replace=False):
        """A new feed of ``venue`` (or of its ``resource``), audited;
        ``replace`` revokes the other feeds of the same scope. Returns the
        feed and its secret, which is not kept anywhere."""
        secret = secrets.token_urlsafe(SECRET_BYTES)
        feed = CalendarFeed(
            tenant_id=venue.tenant_id, venue_id=venue.id,
            resource_id=resource.id if resource is not None else None,
            digest=token_digest(secret), created_by=actor_id, created_at=self.now,
        )
        self.dbsession.add(feed)
        self.dbsession.flush()
        self.audit(feed, actor_id, "calendar_feed.created", resource_id=feed.resource_id)
        if replace:
            for other in self.others_of_scope(feed):
                self.revoke(other, actor_id, replaced_by=feed.id)
        return feed, secret

    def bookable_resources(self, venue):
        """The venue's active resources, which a new feed may cover."""
        return venue_resources(self.dbsession, venue.tenant_id, venue.id)

    def active(self, venue):
        """The venue's feeds that still work, newest first."""
        rows = self.dbsession.execute(
            select(CalendarFeed.id, CalendarFeed.resource_id, Resource.name,
                   CalendarFeed.created_at, User.name.label("user_name"), User.email)
            .outerjoin(Resource, Resource.id == CalendarFeed.resource_id)
            .outerjoin(User, User.id == CalendarFeed.created_by)
            .where(CalendarFeed.venue_id == venue.id, CalendarFeed.tenant_id == venue.tenant_id,
                   CalendarFeed.revoked_at.is_(None))
            .order_by(CalendarFeed.created_at.desc(), CalendarFeed.id.desc())
        ).all()
        return [
            FeedListing(row.id, row.resource_id, row.name, row.created_at,
                        customer_label(row.user_name, row.email) if row.email else None)
            for row in rows
        ]

    def find(self, venue, feed_id):
        """A feed of ``venue`` by id (revoked or not), or ``None``."""
        return self.dbsession.scalar(
            select(CalendarFeed).where(
                CalendarFeed.id == feed_id, CalendarFeed.venue_id == venue.id,
                CalendarFeed.tenant_id == venue.tenant_id,
            )
        )

    def others_of_scope(self, feed):
        """The other active feeds covering exactly what ``feed`` covers."""
        scope = (CalendarFeed.resource_id.is_(None) if feed.resource_id is None
                 else CalendarFeed.resource_id == feed.resource_id)
        return self.dbsession.scalars(
            select(CalendarFeed).where(
                CalendarFeed.venue_id == feed.venue_id, CalendarFeed.tenant_id == feed.tenant_id,
                CalendarFeed.id != feed.id, CalendarFeed.revoked_at.is_(None), scope,
            ).order_by(CalendarFeed.id)
        ).all()

    def revoke(self, feed, actor_id, **details):
        """``feed``'s address stops working; audited with ``details``."""
        feed.revoked_at = self.now
        self.dbsession.flush()
        self.audit(feed, actor_id, "calendar_feed.revoked", **details)

    def audit(self, feed, actor_id, action, **details):
        audit.record(self.dbsession, feed.tenant_id, actor_id, action, "calendar_feed", feed.id,
                     self.now, venue_id=feed.venue_id, **details)

    def bookings(self, feed):
        """The rows of the feed's events, in time order."""
        query = (
            select(Booking.id, Booking.reference, Booking.starts_at, Booking.ends_at,
                   Booking.seats, Booking.status, Booking.hold_expires_at, Booking.sequence,
                   Resource.name.label("resource_name"), Resource.capacity,
                   Booking.contact_name.label("customer_name"),
                   func.coalesce(User.email, Booking.contact_email).label("email"))
            .join(Resource, Resource.id == Booking.resource_id)
            .outerjoin(User, User.id == Booking.customer_id)  # a walk-in has no account
            .where(Booking.tenant_id == feed.tenant_id, Resource.venue_id == feed.venue_id,
                   Booking.starts_at >= self.now - timedelta(days=DAYS_BACK),
                   Booking.starts_at < self.now + timedelta(days=DAYS_AHEAD),
                   Booking.status.in_([str(s) for s in FEED_STATUSES]))
            .order_by(Booking.starts_at, Booking.id)
            .limit(MAX_EVENTS)
        )
        if feed.resource_id is not None:
            query = query.where(Booking.resource_id == feed.resource_id)
        return [
            row for row in self.dbsession.execute(query)
            if row.status != BookingStatus.HELD or row.hold_expires_at > self.now
        ]

    def calendar(self, feed, translate):
        """The feed as iCalendar text; ``translate`` renders a message."""
        venue = feed.venue
        tenant = venue.tenant
        location = ", ".join(part for part in (venue.name, venue.address) if part)
        events = []
        for row in self.bookings(feed):
            parts = [row.resource_name, customer_label(row.customer_name, row.email)]
            if row.capacity > 1:
                parts.append(f"{row.seats}/{row.capacity}")
            description = translate(_("Booking reference ${reference}",
                                      mapping={"reference": row.reference}))
            events.append(ics.event(
                ics.feed_uid(tenant, row.id), self.now, row.starts_at, row.ends_at,
                row.sequence, " · ".join(parts), location, description,
                ICS_STATUS.get(row.status, "CONFIRMED"),
            ))
        return ics.calendar(events, name=feed_name(feed))


def feed_name(feed):
    """The calendar's name: tenant · venue (· resource)."""
    venue = feed.venue
    parts = [venue.tenant.name, venue.name]
    if feed.resource is not None:
        parts.append(feed.resource.name)
    return " · ".join(parts)

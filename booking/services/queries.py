"""Reading bookings (:class:`BookingQueries`): a customer's own, the staff
area's filtered list of the venues a requester works at and its CSV, a
booking's history in words, its emails and its payments."""

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import contains_eager

from ..i18n import _
from ..models import Booking, BookingStatus, Payment, PaymentState, Refund, Resource, User, Venue
from .audit import history
from .messages import booking_messages
from .pricing import Quote
from .slots import venue_zone, wall_instant


@dataclass(frozen=True)
class BookingFilter:
    """What the list shows: the local days ``first``..``last`` of each
    venue, optionally one venue, one resource, one status, and a search of
    the customer's name and email and the booking's reference."""

    first: date
    last: date
    venue_id: int | None = None
    resource_id: int | None = None
    status: str | None = None
    search: str | None = None


def _in_scope(venues, first, last):
    """Bookings of ``venues`` that start on the local days first..last,
    each venue's days in its own zone."""
    return _starts_on_days(venues, first, last)


def _starts_on_days(venues, first, last, zone=None):
    """Bookings of ``venues`` that start on the local days ``first`` ..
    ``last`` (either may be None: open-ended). A day is read in each
    booking's venue's zone, as availability reads it, unless ``zone`` is
    given: then in that zone for every venue."""
    def bounds(day_zone):
        found = []
        if first is not None:
            found.append(Booking.starts_at >= wall_instant(first, 0, day_zone))
        if last is not None:
            found.append(Booking.starts_at < wall_instant(last + timedelta(days=1), 0, day_zone))
        return found

    if zone is not None:
        return and_(Resource.venue_id.in_([venue.id for venue in venues]), *bounds(zone))
    ranges = [and_(Resource.venue_id == venue.id, *bounds(venue_zone(venue)))
              for venue in venues]
    return or_(*ranges) if ranges else false()


def _status_is(status, now):
    """A status as the pages show it: a hold whose time ran out is expired."""
    if status == BookingStatus.HELD:
        return and_(Booking.status == BookingStatus.HELD, Booking.hold_expires_at > now)
    if status == BookingStatus.EXPIRED:
        return or_(Booking.status == BookingStatus.EXPIRED,
                   and_(Booking.status == BookingStatus.HELD, Booking.hold_expires_at <= now))
    return Booking.status == status


def _search(text):
    needle = text.strip().lower()
    return or_(
        func.lower(Booking.contact_name).contains(needle, autoescape=True),
        func.lower(User.email).contains(needle, autoescape=True),
        func.lower(Booking.contact_email).contains(needle, autoescape=True),
        func.lower(Booking.reference).contains(needle, autoescape=True),
    )


def _conditions(tenant, venues, chosen, now):
    conditions = [Booking.tenant_id == tenant.id, Resource.tenant_id == tenant.id,
                  _in_scope(venues, chosen.first, chosen.last)]
    if chosen.venue_id is not None:
        conditions.append(Resource.venue_id == chosen.venue_id)
    if chosen.resource_id is not None:
        conditions.append(Booking.resource_id == chosen.resource_id)
    if chosen.status is not None:
        conditions.append(_status_is(chosen.status, now))
    if chosen.search:
        conditions.append(_search(chosen.search))
    return conditions


def staff_bookings_query(tenant, venues, chosen, now):
    """The bookings of ``tenant`` at ``venues`` (the requester's scope)
    that ``chosen`` (a :class:`BookingFilter`) selects, by start time, with
    their resources and customers."""
    return (
        select(Booking)
        .join(Booking.resource)
        .outerjoin(Booking.customer)  # a walk-in has no account
        .options(contains_eager(Booking.resource), contains_eager(Booking.customer))
        .where(*_conditions(tenant, venues, chosen, now))
        .order_by(Booking.starts_at, Booking.id)
    )


def staff_bookings(dbsession, tenant, venues, chosen, now, limit, offset=0):
    """``(bookings, total)``: one page of :func:`staff_bookings_query`."""
    total = dbsession.scalar(
        select(func.count(Booking.id)).select_from(Booking)
        .join(Booking.resource)
        .outerjoin(Booking.customer)
        .where(*_conditions(tenant, venues, chosen, now))
    )
    rows = dbsession.scalars(
        staff_bookings_query(tenant, venues, chosen, now).limit(limit).offset(offset)
    ).all()
    return rows, total


#: The audit log's booking actions, as people read them.
ACTIONS = {
    "booking.created": _("Booked"),
    "booking.confirmed": _("Confirmed"),
    "booking.checked_in": _("Checked in"),
    "booking.no_show": _("Marked as a no-show"),
    "booking.cancelled": _("Cancelled"),
    "booking.rescheduled": _("Moved"),
    "booking.expired": _("Hold expired"),
}


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: object  # a User, or None for the system
    action: object  # a TranslationString, or the raw action
    details: object  # a TranslationString, or text


def booking_history(dbsession, booking, zone, when):
    """The audit log of ``booking`` in words, oldest first. ``when(instant)``
    writes an instant for people (the request's formatter, in ``zone``)."""
    rows = history(dbsession, booking.tenant_id, "booking", booking.id)
    resource_ids = set()
    for entry, _actor in rows:
        for key in ("old", "new"):
            resource_ids.add((entry.details or {}).get(key, {}).get("resource_id"))
        resource_ids.add((entry.details or {}).get("resource_id"))
    names = dict(dbsession.execute(
        select(Resource.id, Resource.name).where(Resource.id.in_(resource_ids - {None}),
                                                 Resource.tenant_id == booking.tenant_id)
    ).all())

    def slot(place):
        if not isinstance(place, dict) or "start" not in place:
            return "?"
        start = datetime.fromisoformat(place["start"])
        return f"{names.get(place.get('resource_id'), '?')}, {when(start)}"

    entries = []
    for entry, actor in rows:
        details = entry.details or {}
        if entry.action == "booking.created":
            words = _("${seats} seat(s) on ${slot}", mapping={
                "seats": details.get("seats", 1), "slot": slot(details)})
        elif entry.action == "booking.rescheduled":
            words = _("from ${old} to ${new}", mapping={"old": slot(details["old"]),
                                                         "new": slot(details["new"])})
        elif entry.action == "booking.cancelled" and details.get("reason"):
            words = _("reason: ${reason}", mapping={"reason": details["reason"]})
        elif entry.action in ACTIONS:
            words = ""
        else:
            words = ", ".join(f"{key}: {value}" for key, value in sorted(details.items()))
        entries.append(HistoryEntry(entry.at, actor, ACTIONS.get(entry.action, entry.action),
                                    words))
    return entries


#: A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = ("reference", "start", "end", "venue", "resource", "customer_name",
               "customer_email", "customer_phone", "seats", "status", "payment_status",
               "price", "base", "discount", "voucher", "total", "currency", "checked_in_at",
               "note")


def csv_cell(value):
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def decimal(minor):
    """An amount in minor units as the CSV writes it: ``20.00``."""
    return f"{minor / 100:.2f}"


def bookings_csv(bookings, now):
    """``bookings`` as CSV text: a header row, then one row each, times in
    ISO 8601 with the offset of the venue's zone."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for booking in bookings:
        zone = venue_zone(booking.resource.venue)
        checked_in = booking.checked_in_at
        quote = Quote.of_booking(booking)
        voucher = quote.line("voucher")
        writer.writerow([csv_cell(value) for value in (
            booking.reference, booking.starts_at.astimezone(zone).isoformat(),
            booking.ends_at.astimezone(zone).isoformat(), booking.resource.venue.name,
            booking.resource.name, booking.contact_name, booking.email, booking.contact_phone,
            booking.seats, booking.status_at(now), booking.payment_status,
            decimal(booking.price), decimal(quote.base), decimal(quote.discount),
            decimal(voucher.amount if voucher else 0), decimal(quote.total), booking.currency,
            checked_in.astimezone(zone).isoformat() if checked_in else "", booking.note,
        )])
    return out.getvalue()


def visible_bookings(dbsession, tenant, user, memberships, *, status=None, first=None,
                     last=None, zone=None, limit=50, offset=0):
    """The bookings of ``tenant`` that ``user`` may see: their own, and for
    staff those of their scope (the whole tenant, or their venue). With
    ``first``/``last``, those that start on those local days (see
    :func:`_starts_on_days`)."""
    mine = [m for m in memberships if m.tenant_id == tenant.id]
    query = select(Booking).where(Booking.tenant_id == tenant.id)
    if first is not None or last is not None:
        venues = dbsession.scalars(select(Venue).where(Venue.tenant_id == tenant.id)).all()
        query = query.join(Booking.resource).where(
            _starts_on_days(venues, first, last, zone))
    if not any(m.venue_id is None for m in mine):
        venue_ids = [m.venue_id for m in mine]
        visible = Booking.customer_id == user.id
        if venue_ids:
            visible = or_(
                visible,
                Booking.resource_id.in_(
                    select(Resource.id).where(
                        Resource.tenant_id == tenant.id, Resource.venue_id.in_(venue_ids)
                    )
                ),
            )
        query = query.where(visible)
    if status is not None:
        query = query.where(Booking.status == status)
    query = query.order_by(Booking.starts_at, Booking.id).limit(limit).offset(offset)
    return dbsession.scalars(query).all()


class BookingQueries:
    """What the pages and the API read about bookings: the read side of
    :class:`~booking.services.actions.BookingActions`."""

    def __init__(self, dbsession, now):
        self.dbsession = dbsession
        self.now = now

    def of_customer(self, tenant, customer, limit=500):
        """The customer's bookings of ``tenant``, the latest first."""
        return self.dbsession.scalars(
            select(Booking)
            .where(Booking.tenant_id == tenant.id, Booking.customer_id == customer.id)
            .order_by(Booking.starts_at.desc(), Booking.id.desc())
            .limit(limit)
        ).all()

    def visible(self, tenant, user, memberships, **filters):
        """:func:`visible_bookings`."""
        return visible_bookings(self.dbsession, tenant, user, memberships, **filters)

    def staff_page(self, tenant, venues, chosen, limit, offset=0):
        """``(bookings, total)``: one page of the staff list."""
        return staff_bookings(self.dbsession, tenant, venues, chosen, self.now, limit, offset)

    def staff_csv(self, tenant, venues, chosen, limit):
        """The staff list as CSV text, at most ``limit`` rows."""
        bookings = self.dbsession.scalars(
            staff_bookings_query(tenant, venues, chosen, self.now).limit(limit)).all()
        return bookings_csv(bookings, self.now)

    def history(self, booking, zone, when):
        """:func:`booking_history`."""
        return booking_history(self.dbsession, booking, zone, when)

    def messages(self, booking):
        """The emails about ``booking`` (the outbox rows), oldest first."""
        return booking_messages(self.dbsession, booking)

    def refunded(self, booking):
        """How much of the booking's online payments was given back."""
        return self.dbsession.scalar(
            select(func.coalesce(func.sum(Payment.refunded_amount), 0))
            .where(Payment.booking_id == booking.id))

    def payment_panel(self, booking):
        """The booking's payments (oldest first), their refunds with who made
        them, and how much can still be refunded, in minor units."""
        payments = self.dbsession.scalars(
            select(Payment).where(Payment.booking_id == booking.id,
                                  Payment.tenant_id == booking.tenant_id).order_by(Payment.id)
        ).all()
        refunds = self.dbsession.execute(
            select(Refund, User).outerjoin(User, User.id == Refund.actor_id)
            .where(Refund.payment_id.in_([p.id for p in payments])).order_by(Refund.id)
        ).all() if payments else []
        refundable = sum(p.amount - p.refunded_amount for p in payments
                         if p.status in (PaymentState.SUCCEEDED, PaymentState.REFUNDED))
        return {"payments": payments, "refunds": refunds, "refundable": refundable}

    def venue_of_resource(self, tenant, resource_id):
        """The venue id of resource ``resource_id`` of ``tenant``, or None."""
        return self.dbsession.scalar(
            select(Resource.venue_id).where(Resource.id == resource_id,
                                            Resource.tenant_id == tenant.id))

    def bookable_resources(self, tenant, venues):
        """The active resources of ``venues``, by venue and name."""
        return self.dbsession.scalars(
            select(Resource)
            .where(Resource.tenant_id == tenant.id,
                   Resource.venue_id.in_([venue.id for venue in venues]),
                   Resource.active.is_(True))
            .order_by(Resource.venue_id, Resource.name, Resource.id)
        ).all()

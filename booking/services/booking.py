"""Booking, cancelling and rescheduling: the double-booking guard.

Every change runs inside the caller's transaction and, before it counts
seats, serialises with every other change to the same resource
(:mod:`booking.services.locks`). On PostgreSQL the exclusion constraint on
``bookings`` enforces the same invariant for exclusive resources in the
schema itself; its violation is a ``Conflict``.

A hold whose time ran out takes no seat. One that lies in the slot being
taken is expired (audited, its email queued) before the new row is written,
so that neither the exclusion constraint nor a late payment finds it held;
the others wait for the worker's sweep or for the next booking they are in
the way of. The customer's emails are queued in the outbox in the same
transaction.

These are the steps under the guard. The use cases that people start (book
and pay, cancel and refund, move…) are :class:`~booking.services.actions.BookingActions`,
which every surface calls.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..models import (
    Booking,
    BookingStatus,
    PaymentStatus,
    Resource,
    Tenant,
    User,
    is_exclusion_violation,
)
from ..i18n import _
from . import audit
from .availability import AvailabilityService
from .errors import Conflict, PolicyViolation, ValidationError
from .locks import ResourceLocks
from .notifications import Notifier
from .policy import cancellation_deadline
from .pricing import PricingService, Who, payment_status_for
from .slots import local_text, zone_of
from .tenants import is_open

__all__ = ["BookingRequest", "BookingService", "local_text"]

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 8

def new_reference():
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


@dataclass(frozen=True)
class BookingRequest:
    """A booking asked for: ``seats`` on the slot of ``resource`` that
    starts at ``start``, for ``customer``.

    ``by_staff``: made at the desk (walk-in, phone), which may book inside
    the minimum notice and beyond the maximum advance. ``hold_for_payment``:
    the booking is held (until it is paid online). ``pay_online``: it is
    held if its price, made under the guard, is not zero.
    ``code``: a promo code as the customer typed it; ``voucher``: the code
    of a voucher to pay with (:mod:`booking.services.pricing`). ``idempotency_key``: a
    second request with the same key returns the first booking. ``contact``:
    ``(name, phone, email)`` as the desk typed them for a walk-in, who has
    no account (``customer`` is ``None``); else the customer's."""

    tenant: Tenant
    resource: Resource
    customer: User | None
    start: datetime
    seats: int = 1
    note: str = ""
    actor_id: int | None = None
    idempotency_key: str | None = None
    by_staff: bool = False
    hold_for_payment: bool = False
    pay_online: bool = False
    contact: tuple[str, str, str] | None = None
    #: Confirms the address of the inline account booking: in its confirmation.
    confirm_link: str = ""
    code: str | None = None
    voucher: str | None = None


class BookingService:
    def __init__(self, dbsession, now, notifier=None):
        """``notifier`` (the registered one, with the settings) queues the
        customers' emails; without it their links point at the default
        URL, which only tests should want."""
        self.dbsession = dbsession
        self.now = now
        self.availability = AvailabilityService(dbsession, now)
        self.notifier = notifier or Notifier(dbsession, now)
        self.locks = ResourceLocks(dbsession)
        self.pricing = PricingService(dbsession, now)

    # -- the guard -----------------------------------------------------------

    def lock_resources(self, *resource_ids):
        """Serialise with every other change to these resources until the
        transaction ends (see :mod:`booking.services.locks`)."""
        self.locks.lock(*resource_ids)

    def load_resource_locked(self, tenant, resource_id):
        """Resource ``resource_id`` of ``tenant``, locked for a booking by
        its load, or None."""
        return self.locks.load_locked(tenant, resource_id)

    def expire_holds(self, resource_id, actor_id=None, unnoticed_id=None):
        """Release the holds of ``resource_id`` whose time ran out (the
        resource is locked); no email about booking ``unnoticed_id``."""
        return self.release_stale_holds([resource_id], actor_id, unnoticed_id)

    def expire_stale_holds(self):
        """Release the stale holds of every resource (the worker's sweep):
        the resources that have some are locked first, like any change."""
        resource_ids = self.dbsession.scalars(
            select(Booking.resource_id).distinct().where(
                Booking.status == BookingStatus.HELD, Booking.hold_expires_at <= self.now)
        ).all()
        if not resource_ids:
            return 0
        self.lock_resources(*resource_ids)
        return self.release_stale_holds(resource_ids)

    def release_stale_holds(self, resource_ids, actor_id=None, unnoticed_id=None):
        """Expire the stale holds of ``resource_ids`` (locked by the caller):
        an audit row and a hold-expired email each. Returns how many."""
        expired = self.dbsession.execute(
            update(Booking)
            .where(Booking.resource_id.in_(resource_ids), Booking.status == BookingStatus.HELD,
                   Booking.hold_expires_at <= self.now)
            .values(status=BookingStatus.EXPIRED, updated_at=self.now)
            .returning(Booking.id, Booking.tenant_id)
            .execution_options(synchronize_session=False)
        ).all()
        for booking_id, tenant_id in expired:
            self.audit(tenant_id, actor_id, "booking.expired", booking_id)
        if expired:
            self.pricing.give_back_expired([row.id for row in expired])
        noticed = [row.id for row in expired if row.id != unnoticed_id]
        if noticed:
            bookings = self.dbsession.scalars(
                select(Booking).where(Booking.id.in_(noticed))
                .order_by(Booking.id).execution_options(populate_existing=True)
            ).all()
            for booking in bookings:
                self.notifier.hold_expired(booking)
        return len(expired)

    def check_slot(self, resource, start, seats, exclude_booking_id=None, by_staff=False):
        """Raise unless ``seats`` more fit in the slot of ``resource`` that
        starts at ``start``. Call with the resource locked. Staff
        (``by_staff``) skip the minimum notice and the maximum advance
        (walk-ins, bookings by phone far ahead), never the rest. Returns the
        slot's end, its blocked span and how many holds that ran out lie in
        that span (for :meth:`expire_holds`)."""
        zone = zone_of(resource)
        if not resource.active:
            raise Conflict(_("this resource is not taking bookings"), field="resource_id")
        if not 1 <= seats <= resource.capacity:
            raise ValidationError(
                _("must be between 1 and ${capacity} (the resource's capacity)",
                  mapping={"capacity": resource.capacity}),
                field="seats",
            )
        if start < self.now:
            raise ValidationError(_("is in the past"), field="start")
        end = start + timedelta(minutes=resource.slot_minutes)
        block_start, block_end = self.block(resource, start, end)
        # Opening hours, closures and bookings: one round trip for the checks below.
        with self.availability.loaded_for_slot(resource, block_start, block_end,
                                               exclude_booking_id):
            earliest, latest = self.availability.bookable_window(resource)
            if not self.availability.is_on_grid(resource, start):
                raise ValidationError(
                    _("${time} is not a slot of this resource: slots of ${minutes} minutes "
                      "start at its opening times",
                      mapping={"time": local_text(start, zone),
                               "minutes": resource.slot_minutes}),
                    field="start",
                )
            if start < earliest and not by_staff:
                raise ValidationError(
                    _("is too soon: book at least ${minutes} minutes ahead",
                      mapping={"minutes": resource.min_notice_minutes}),
                    field="start",
                )
            if start > latest and not by_staff:
                raise ValidationError(
                    _("is too far ahead: bookings open ${days} days in advance",
                      mapping={"days": resource.max_advance_days}),
                    field="start",
                )
            if self.availability.closures(resource, start, end):  # closed then
                raise Conflict(_("the venue is closed at ${time}",
                                 mapping={"time": local_text(start, zone)}), field="start")
            occupancy = self.availability.occupancy(resource, block_start, block_end,
                                                    exclude_booking_id)
            taken = occupancy.seats(block_start, block_end)
            if taken + seats > resource.capacity:
                left = max(resource.capacity - taken, 0)
                mapping = {"time": local_text(start, zone), "left": left}
                message = (
                    _("the slot at ${time} is already booked", mapping=mapping) if left == 0
                    else _("the slot at ${time} has only ${left} seat(s) left", mapping=mapping)
                )
                raise Conflict(message, field="start")
            return end, block_start, block_end, occupancy.stale_holds

    @staticmethod
    def block(resource, start, end):
        return (
            start - timedelta(minutes=resource.buffer_before_minutes),
            end + timedelta(minutes=resource.buffer_after_minutes),
        )

    def flush(self):
        """Flush, turning PostgreSQL's exclusion violation into a Conflict."""
        try:
            self.dbsession.flush()
        except IntegrityError as exc:
            if is_exclusion_violation(exc):
                raise Conflict(_("the slot is already booked"), field="start") from exc
            raise

    def audit(self, tenant_id, actor_id, action, booking_id, **details):
        audit.record(self.dbsession, tenant_id, actor_id, action, "booking", booking_id,
                     self.now, **details)

    # -- the operations ------------------------------------------------------

    def book(self, request):
        """Book what :class:`BookingRequest` ``request`` asks for. Returns
        ``(booking, created)``; ``created`` is False when its idempotency
        key names a booking this customer already made."""
        tenant, resource, customer = request.tenant, request.resource, request.customer
        start, seats = request.start, request.seats
        if not is_open(tenant):  # suspended, or its deletion requested
            raise PolicyViolation(_("this business is closed: it takes no bookings"))
        self.lock_resources(resource.id)
        if request.idempotency_key is not None:
            whose = ((Booking.customer_id == customer.id,) if customer is not None else
                     (Booking.customer_id.is_(None),
                      Booking.contact_email == (request.contact or ("", "", ""))[2]))
            existing = self.dbsession.scalar(
                select(Booking).where(
                    Booking.tenant_id == tenant.id,
                    *whose,
                    Booking.idempotency_key == request.idempotency_key,
                )
            )
            if existing is not None:
                if (existing.resource_id, existing.starts_at, existing.seats) != (
                    resource.id, start, seats,
                ):
                    raise Conflict(
                        _("this Idempotency-Key was already used for a different booking"),
                        field="idempotency_key",
                    )
                return existing, False
        end, block_start, block_end, stale_holds = self.check_slot(resource, start, seats,
                                                                   by_staff=request.by_staff)
        if stale_holds:
            self.expire_holds(resource.id, request.actor_id)
        contact_name, contact_phone, contact_email = request.contact or (
            customer.name, customer.phone, "")
        who = Who(customer.id if customer is not None else None, contact_email)
        quote = self.pricing.quote(tenant, resource, start, seats, code=request.code, who=who,
                                   voucher=request.voucher)
        price = quote.total
        hold = request.hold_for_payment or (request.pay_online and price > 0)
        voucher = quote.line("voucher")
        booking = Booking(
            tenant_id=tenant.id,
            reference=new_reference(),
            resource_id=resource.id,
            customer_id=customer.id if customer is not None else None,
            starts_at=start,
            ends_at=end,
            block_start=block_start,
            block_end=block_end,
            seats=seats,
            exclusive=resource.is_exclusive,
            status=BookingStatus.HELD if hold else BookingStatus.CONFIRMED,
            hold_expires_at=self.now + timedelta(minutes=tenant.hold_minutes) if hold else None,
            price=price,
            currency=tenant.currency,
            price_breakdown=quote.as_json(),
            voucher_id=voucher.ref if voucher else None,
            voucher_amount=voucher.amount if voucher else 0,
            payment_status=payment_status_for(price),
            idempotency_key=request.idempotency_key,
            note=request.note,
            contact_name=contact_name,
            contact_phone=contact_phone,
            contact_email=contact_email,
            created_at=self.now,
            updated_at=self.now,
        )
        self.dbsession.add(booking)
        self.flush()
        if quote.lines:
            self.pricing.take(tenant, booking, quote, who, request.actor_id)
        self.audit(
            tenant.id, request.actor_id, "booking.created", booking.id,
            resource_id=resource.id, start=start.isoformat(), seats=seats, status=booking.status,
        )
        if booking.status == BookingStatus.CONFIRMED:
            self.notifier.booking_confirmed(booking, confirm_link=request.confirm_link)
        return booking, True

    def cancel(self, tenant, booking, *, actor_id=None, reason="", by_staff=False):
        """Cancel ``booking``. Customers may only inside the tenant's
        cancellation window; staff at any time."""
        self.lock_resources(booking.resource_id)
        self.dbsession.refresh(booking)
        if not booking.holds_seats(self.now):
            raise Conflict(_("the booking is already ${status}",
                             mapping={"status": booking.status_at(self.now)}), field="status")
        if not by_staff and self.now > cancellation_deadline(booking, tenant):
            deadline = cancellation_deadline(booking, tenant)
            raise PolicyViolation(_(
                "the cancellation window has closed: this booking could be changed until ${time}",
                mapping={"time": local_text(deadline, zone_of(booking.resource))},
            ))
        booking.status = BookingStatus.CANCELLED
        booking.cancel_reason = reason
        booking.sequence += 1  # RFC 5546: the cancellation supersedes the invitation
        booking.updated_at = self.now
        self.pricing.give_back(tenant, booking, actor_id)
        self.flush()
        self.audit(tenant.id, actor_id, "booking.cancelled", booking.id, reason=reason,
                   by_staff=by_staff)
        self.notifier.booking_cancelled(booking)
        return booking

    def reschedule(self, tenant, booking, new_resource, new_start, *, actor_id=None,
                   by_staff=False, paid_online=False):
        """Move ``booking`` to ``new_start`` (on ``new_resource``) in one
        step: the new slot is guarded like a new booking; on conflict
        nothing changes and the booking keeps its old slot."""
        if not is_open(tenant):  # a closed business takes no new slot; cancelling stays
            raise PolicyViolation(_("this business is closed: bookings can be cancelled, "
                                    "not moved"))
        self.lock_resources(booking.resource_id, new_resource.id)
        self.dbsession.refresh(booking)
        if not booking.holds_seats(self.now):
            raise Conflict(_("the booking is ${status} and cannot be moved",
                             mapping={"status": booking.status_at(self.now)}), field="status")
        if not by_staff and self.now > cancellation_deadline(booking, tenant):
            raise PolicyViolation(_("the window for changing this booking has closed"))
        if new_resource.venue.tenant_id != tenant.id:
            raise ValidationError(_("is not a resource of this business"), field="resource_id")
        if new_resource.id == booking.resource_id and new_start == booking.starts_at:
            raise ValidationError(_("is the booking's current time"), field="start")
        end, block_start, block_end, stale_holds = self.check_slot(
            new_resource, new_start, booking.seats, exclude_booking_id=booking.id,
            by_staff=by_staff,
        )
        if stale_holds:
            self.expire_holds(new_resource.id, actor_id)
        quote = self.pricing.reprice(tenant, booking, new_resource, new_start, actor_id)
        # What was settled online (paid, or free: nothing to pay) moves at its price
        # only: no checkout follows a move.
        settled = booking.payment_status == PaymentStatus.PAID or (
            paid_online and booking.payment_status == PaymentStatus.NOT_REQUIRED)
        if settled and quote.total != booking.price:
            raise Conflict(_("a paid booking can only move to a resource of the same price"),
                           field="resource_id")
        old = {"resource_id": booking.resource_id, "start": booking.starts_at.isoformat()}
        booking.price_breakdown = quote.as_json()
        if booking.payment_status != PaymentStatus.PAID:
            booking.price = quote.total
            booking.payment_status = payment_status_for(quote.total)
        booking.resource_id = new_resource.id
        booking.resource = new_resource
        booking.starts_at, booking.ends_at = new_start, end
        booking.block_start, booking.block_end = block_start, block_end
        booking.exclusive = new_resource.is_exclusive
        booking.sequence += 1
        booking.updated_at = self.now
        self.flush()
        self.audit(
            tenant.id, actor_id, "booking.rescheduled", booking.id,
            old=old, new={"resource_id": new_resource.id, "start": new_start.isoformat()},
            by_staff=by_staff,
        )
        self.notifier.booking_rescheduled(booking)
        return booking

    def guard(self, booking):
        """Lock the booking's resource and read the booking afresh."""
        self.lock_resources(booking.resource_id)
        self.dbsession.refresh(booking)

    def confirm(self, tenant, booking, actor_id):
        """Confirm a held booking. A hold that ran out is confirmed only if
        its slot still has room; one waiting for its online payment only
        once that succeeded (the payment service marks it paid first)."""
        self.guard(booking)
        if booking.status not in (BookingStatus.HELD, BookingStatus.EXPIRED):
            raise Conflict(_("the booking is ${status} and cannot be confirmed",
                             mapping={"status": booking.status_at(self.now)}), field="status")
        if booking.payment_status == PaymentStatus.PENDING:  # only the payment confirms it
            raise Conflict(_("the booking waits for its online payment"), field="status")
        if not booking.holds_seats(self.now):
            # Its own hold expires too (audited), but is confirmed at once:
            # the customer hears of the confirmation only.
            self.expire_holds(booking.resource_id, actor_id, unnoticed_id=booking.id)
            self.check_slot(booking.resource, booking.starts_at, booking.seats,
                            exclude_booking_id=booking.id, by_staff=True)
            self.pricing.take_again(booking, actor_id)
        booking.status = BookingStatus.CONFIRMED
        booking.hold_expires_at = None
        booking.updated_at = self.now
        self.flush()
        self.audit(tenant.id, actor_id, "booking.confirmed", booking.id)
        self.notifier.booking_confirmed(booking)
        return booking

"""Online payments for bookings: checkout, the provider's webhooks, refunds.

A booking that is paid online waits ``held`` (its slot reserved) while the
customer pays on the provider's hosted page. Only the provider's signed
webhook confirms it (``checkout.completed`` → :meth:`PaymentService.handle_event`);
the customer coming back to the success URL proves nothing. The invariants:

* never a confirmed booking without a succeeded payment (``BookingService.confirm``
  refuses a booking whose payment is ``pending``);
* never a succeeded payment without either its booking or a full refund: a
  payment that arrives after the hold expired confirms the booking if the
  slot is still free, and is refunded automatically otherwise.

Every call to the provider carries an idempotency key derived from the rows
(``booking-<id>-checkout-<n>``, ``payment-<id>-refund-<n>-<amount>``), so a
retried attempt — by the adapter, by ``pyramid_retry`` or by the customer
after :class:`ProviderUnavailable` — never charges or refunds twice.

A ``checkout.completed`` for a checkout we do not know is recorded and logged
as an error, and answered 200: the provider retrying it would not make it
known. It can only come from another deployment sharing the account.
"""

import logging
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..adapters.payments import (
    CHECKOUT_COMPLETED,
    CHECKOUT_EXPIRED,
    IGNORED,
    REFUND_UPDATED,
    NotCollectingOnline,
    ProviderUnavailable,
)
from ..i18n import Formatter, _, language_or_default, localizer_for
from ..models import (
    BookingStatus,
    Payment,
    PaymentEvent,
    PaymentState,
    PaymentStatus,
    Refund,
    Tenant,
)
from . import audit
from .errors import Conflict, DomainError, ValidationError
from .policy import refund_share
from .checkouts import open_checkout
from .tenants import is_open
from .vouchers import VoucherService

log = logging.getLogger(__name__)

__all__ = ["PaymentService", "ProviderUnavailable"]

MIN_CHECKOUT_TIME = timedelta(minutes=30)
REFUND_STATES = ("pending", "succeeded", "failed", "canceled", "requires_action")




class PaymentService:
    def __init__(self, dbsession, now, provider, notifier, bookings, vouchers=None):
        self.dbsession = dbsession
        self.now = now
        self.provider = provider
        self.notifier = notifier
        self.bookings = bookings
        #: Checkouts of gift vouchers bought online are theirs.
        self.vouchers = vouchers or VoucherService(dbsession, now, provider, notifier)

    # -- checkout ------------------------------------------------------------

    def start_checkout(self, booking, *, success_url, cancel_url):
        """The pending :class:`Payment` of held ``booking`` with its provider
        checkout URL. A pending attempt is reused (same idempotency key), so
        retrying after :class:`ProviderUnavailable` never creates a second
        charge. On that error the payment keeps ``last_error`` and the
        exception is raised for the caller to ask the customer to retry."""
        if not self.provider.collects_online:
            raise NotCollectingOnline(f"{self.provider.name} collects no payments online")
        self.bookings.guard(booking)  # one attempt at a time (a double click waits)
        if not is_open(self.tenant_of(booking)):
            raise Conflict(_("this business is closed: it takes no payments"), field="status")
        if booking.status != BookingStatus.HELD or not booking.holds_seats(self.now):
            raise Conflict(_("the booking is ${status}: there is nothing to pay",
                             mapping={"status": booking.status_at(self.now)}), field="status")
        if booking.price <= 0:
            raise Conflict(_("this booking is free: there is nothing to pay"), field="price")
        payment = self.pending_payment(booking)
        if payment.checkout_url:
            return payment
        booking.payment_status = PaymentStatus.PENDING
        # Stripe wants at least 30 minutes: a payment may arrive after the hold.
        expires_at = max(booking.hold_expires_at, self.now) + MIN_CHECKOUT_TIME
        open_checkout(self.dbsession, self.now, payment, lambda: self.provider.create_checkout(
            amount=payment.amount, currency=payment.currency,
            idempotency_key=payment.idempotency_key,
            description=f"{booking.resource.name} {booking.reference}",
            success_url=success_url, cancel_url=cancel_url,
            metadata={"booking_id": str(booking.id), "payment_id": str(payment.id),
                      "reference": booking.reference},
            expires_at=expires_at,
        ), ProviderUnavailable)
        self.audit(booking, "payment.checkout_started", payment_id=payment.id,
                   amount=payment.amount, currency=payment.currency)
        return payment

    def pending_payment(self, booking):
        """The booking's pending attempt at its price, or a new one."""
        payments = self.payments_of(booking)
        latest = payments[-1] if payments else None
        if (latest is not None and latest.status == PaymentState.PENDING
                and latest.amount == booking.price and latest.currency == booking.currency):
            return latest
        if latest is not None and latest.status == PaymentState.PENDING:
            latest.status = PaymentState.FAILED
            latest.last_error = "replaced: the booking's price changed"
        payment = Payment(
            tenant_id=booking.tenant_id, booking_id=booking.id, provider=self.provider.name,
            amount=booking.price, currency=booking.currency,
            idempotency_key=f"booking-{booking.id}-checkout-{len(payments) + 1}",
            status=PaymentState.PENDING, created_at=self.now, updated_at=self.now,
        )
        self.dbsession.add(payment)
        self.dbsession.flush()
        return payment

    def payments_of(self, booking):
        return self.dbsession.scalars(
            select(Payment).where(Payment.booking_id == booking.id).order_by(Payment.id)
        ).all()

    def paid_payment(self, booking):
        """The booking's succeeded payment (maybe partly refunded), or None."""
        return self.dbsession.scalar(
            select(Payment).where(Payment.booking_id == booking.id,
                                  Payment.status.in_((PaymentState.SUCCEEDED,
                                                      PaymentState.REFUNDED)))
            .order_by(Payment.id.desc()).limit(1).with_for_update()
            # A copy loaded earlier (the page showed it) is read afresh under the lock.
            .execution_options(populate_existing=True)
        )

    def refundable(self, booking):
        """What is left to refund of the booking's online payments."""
        return sum(p.amount - p.refunded_amount for p in self.payments_of(booking)
                   if p.status in (PaymentState.SUCCEEDED, PaymentState.REFUNDED))

    # -- webhooks ------------------------------------------------------------

    def handle_event(self, event):
        """Apply a verified provider event once. Returns what happened:
        ``duplicate`` (seen before: no effect), ``unknown`` (not ours),
        ``ignored`` (changes nothing now), ``confirmed``, ``paid``,
        ``refunded``, ``released`` or ``refund_updated``; for the checkout of a
        gift voucher (:class:`VoucherService`), ``voucher_issued`` or
        ``order_failed``."""
        payment = refund = order = None
        if event.type == REFUND_UPDATED:
            refund = self.locked(Refund, Refund.provider_ref == event.provider_ref)
            payment = refund.payment if refund is not None else None
        elif event.type in (CHECKOUT_COMPLETED, CHECKOUT_EXPIRED):
            payment = self.locked(Payment, Payment.provider == self.provider.name,
                                  Payment.provider_ref == event.provider_ref)
            if payment is None:
                order = self.vouchers.locked_order(self.provider.name, event.provider_ref)
        if not self.record_event(event, payment):
            return "duplicate"
        if event.type == IGNORED:
            return "ignored"
        if order is not None:
            return self.vouchers.order_event(order, event)
        if payment is None:
            log.log(logging.ERROR if event.type == CHECKOUT_COMPLETED else logging.WARNING,
                    "%s: %s for unknown checkout or refund %s (event %s): nothing done",
                    self.provider.name, event.type, event.provider_ref, event.id)
            return "unknown"
        if event.type == CHECKOUT_COMPLETED:
            return self.payment_succeeded(payment, event)
        if event.type == CHECKOUT_EXPIRED:
            return self.checkout_expired(payment)
        return self.refund_updated(refund, event)

    def locked(self, model, *where):
        return self.dbsession.scalar(select(model).where(*where).with_for_update()
                                     .execution_options(populate_existing=True))

    def record_event(self, event, payment):
        """Insert the event's row; False if it was recorded before."""
        try:
            with self.dbsession.begin_nested():
                self.dbsession.add(PaymentEvent(
                    provider=self.provider.name, event_id=event.id, type=event.type,
                    payment_id=payment.id if payment is not None else None,
                    received_at=self.now))
        except IntegrityError:
            log.info("%s: event %s delivered again: ignored", self.provider.name, event.id)
            return False
        return True

    def payment_succeeded(self, payment, event):
        if payment.status in (PaymentState.SUCCEEDED, PaymentState.REFUNDED):
            return "ignored"
        if event.amount is not None and event.amount != payment.amount:
            log.error("%s: checkout %s paid %s, expected %s", self.provider.name,
                      payment.provider_ref, event.amount, payment.amount)
        booking = payment.booking
        self.bookings.guard(booking)
        paid_before = any(other.id != payment.id and other.status in (
            PaymentState.SUCCEEDED, PaymentState.REFUNDED) for other in self.payments_of(booking))
        payment.status = PaymentState.SUCCEEDED
        payment.last_error = ""
        payment.updated_at = self.now
        self.dbsession.flush()
        self.audit(booking, "payment.succeeded", payment_id=payment.id, amount=payment.amount)
        if paid_before or payment.amount != booking.price:
            # A replaced checkout (the price changed) or a second one was paid
            # too: the booking is paid by the other, this money goes back.
            self.refund_payment(payment, payment.amount, actor_id=None,
                                reason="a replaced or second checkout was paid",
                                settles_booking=False)
            return "refunded"
        booking.payment_status = PaymentStatus.PAID
        self.dbsession.flush()
        if booking.status == BookingStatus.CONFIRMED:
            return "paid"
        if booking.status in (BookingStatus.HELD, BookingStatus.EXPIRED):
            try:
                self.bookings.confirm(self.tenant_of(booking), booking, None)
                return "confirmed"
            except DomainError as exc:
                self.cancel_unkept(booking, str(exc))
        self.refund_payment(payment, payment.amount - payment.refunded_amount, actor_id=None,
                            reason=booking.cancel_reason or "the booking is " + booking.status)
        return "refunded"

    def cancel_unkept(self, booking, problem):
        """Cancel a booking paid too late to keep its slot, telling the
        customer why in their language (the refund follows)."""
        self.dbsession.refresh(booking)
        reason = _("Your payment arrived after your hold had expired and the slot could no "
                   "longer be kept: the booking is cancelled and your payment is refunded "
                   "in full.")
        locale = language_or_default(booking.customer.locale if booking.customer else None)
        booking.status = BookingStatus.CANCELLED
        booking.cancel_reason = localizer_for(locale).translate(reason)
        booking.sequence += 1  # RFC 5546: the cancellation supersedes the invitation
        booking.updated_at = self.now
        self.dbsession.flush()
        # Whatever its confirmation took back before it was refused goes
        # back again: the booking never happened.
        self.bookings.pricing.give_back_expired([booking.id])
        self.bookings.audit(booking.tenant_id, None, "booking.cancelled", booking.id,
                            reason="paid after the hold expired", problem=problem,
                            by_staff=False)
        self.notifier.booking_cancelled(booking)

    def checkout_expired(self, payment):
        """The checkout ended unpaid: the payment failed and a booking still
        held for it is released (another attempt may still be pending)."""
        if payment.status != PaymentState.PENDING:
            return "ignored"
        payment.status = PaymentState.FAILED
        payment.last_error = "the checkout expired unpaid"
        payment.updated_at = self.now
        booking = payment.booking
        self.bookings.guard(booking)
        others = [p for p in self.payments_of(booking)
                  if p.id != payment.id and p.status != PaymentState.FAILED]
        self.audit(booking, "payment.failed", payment_id=payment.id)
        if booking.status != BookingStatus.HELD or others:
            self.dbsession.flush()
            return "ignored"
        booking.status = BookingStatus.EXPIRED
        booking.updated_at = self.now
        self.dbsession.flush()
        self.bookings.pricing.give_back_expired([booking.id])
        self.bookings.audit(booking.tenant_id, None, "booking.expired", booking.id)
        self.notifier.hold_expired(booking)
        return "released"

    def refund_updated(self, refund, event):
        """A refund's new state; a failed one gives its amount back to the
        payment (logged as an error: staff must look). Failed is final."""
        state = event.status if event.status in REFUND_STATES else refund.status
        if state == refund.status or refund.status == "failed":
            return "ignored"
        payment = refund.payment
        if state in ("failed", "canceled"):
            payment.refunded_amount -= refund.amount
            payment.status = PaymentState.SUCCEEDED
            payment.booking.payment_status = PaymentStatus.PAID
            log.error("%s: refund %s of payment %s %s", self.provider.name,
                      refund.provider_ref, payment.id, state)
        refund.status = "failed" if state == "canceled" else state
        payment.updated_at = self.now
        self.dbsession.flush()
        self.audit(payment.booking, "payment.refund_updated", refund_id=refund.id,
                   status=refund.status)
        return "refund_updated"

    # -- refunds -------------------------------------------------------------

    def refund(self, booking, amount, *, actor_id, reason):
        """Give back ``amount`` minor units of the booking's payment (at most
        what is left of it). Raise :class:`ProviderUnavailable` to retry."""
        payment = self.paid_payment(booking)
        if payment is None:
            raise Conflict(_("this booking has no online payment to refund"), field="amount")
        left = payment.amount - payment.refunded_amount
        if not isinstance(amount, int) or amount <= 0:
            raise ValidationError(_("must be a positive amount"), field="amount")
        if amount > left:
            shown = Formatter(language_or_default(None)).money(left, payment.currency)
            raise ValidationError(_("is more than what is left to refund (${left})",
                                    mapping={"left": shown}), field="amount", left=left)
        return self.refund_payment(payment, amount, actor_id=actor_id, reason=reason)

    def refund_for_cancellation(self, booking, *, actor_id):
        """The refund the tenant's policy gives on a cancelled booking: all
        of it, ``refund_percent`` of it (rounded down), or none."""
        payment = self.paid_payment(booking)
        if payment is None:
            return None
        tenant = self.tenant_of(booking)
        amount = min(payment.amount * refund_share(tenant) // 100,
                     payment.amount - payment.refunded_amount)
        if amount <= 0:
            return None
        return self.refund_payment(payment, amount, actor_id=actor_id,
                                   reason=f"cancellation ({tenant.refund_policy} refund policy)")

    def refund_payment(self, payment, amount, *, actor_id, reason, settles_booking=True):
        """Give back ``amount`` of ``payment``. ``settles_booking``: the
        payment is the one that pays the booking (else a stray one, whose
        refund leaves the booking's payment status alone)."""
        booking = payment.booking
        attempt = self.dbsession.scalar(
            select(func.count()).select_from(Refund).where(Refund.payment_id == payment.id)) + 1
        refund = Refund(
            tenant_id=payment.tenant_id, payment_id=payment.id, amount=amount,
            reason=str(reason)[:200], actor_id=actor_id, status="pending", created_at=self.now,
            idempotency_key=f"payment-{payment.id}-refund-{attempt}-{amount}",
        )
        self.dbsession.add(refund)
        self.dbsession.flush()
        refund.provider_ref = self.provider.refund(
            provider_ref=payment.provider_ref, amount=amount,
            idempotency_key=refund.idempotency_key)
        refund.status = "succeeded"
        payment.refunded_amount += amount
        payment.updated_at = self.now
        if payment.refunded_amount == payment.amount:
            payment.status = PaymentState.REFUNDED
            if settles_booking:
                booking.payment_status = PaymentStatus.REFUNDED
        booking.updated_at = self.now
        self.dbsession.flush()
        self.audit(booking, "payment.refunded", payment_id=payment.id, refund_id=refund.id,
                   amount=amount, reason=refund.reason, actor_id=actor_id)
        self.notifier.payment_refunded(booking, amount, reference=refund.provider_ref)
        return refund

    # -- helpers -------------------------------------------------------------

    def tenant_of(self, booking):
        return self.dbsession.get(Tenant, booking.tenant_id)

    def audit(self, booking, action, actor_id=None, **details):
        audit.record(self.dbsession, booking.tenant_id, actor_id, action, "booking", booking.id,
                     self.now, **details)


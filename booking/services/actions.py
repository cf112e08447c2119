"""What people do with bookings: one method per use case.

The site, the staff area, the JSON API, the worker and the console scripts
all call these methods, so a rule (hold for an online payment or not, the
refund a cancellation gives, which emails go out) is decided here once and
never by a view. Each method runs in the caller's transaction, under the
double-booking guard of :class:`~booking.services.booking.BookingService`.

A use case that calls the payment provider and cannot reach it raises a
:class:`~booking.services.errors.DomainError` with status 503: the caller
answers it and lets the transaction go, so nothing is half-done (a
cancellation is never kept without the refund it owes).

=========================  ==============================================
use case                   method
=========================  ==============================================
book (customer, API)       :meth:`BookingActions.book`
book a walk-in (desk)      :meth:`BookingActions.book_walk_in`
pay online                 :meth:`BookingActions.start_checkout`
cancel (with its refund)   :meth:`BookingActions.cancel`
move                       :meth:`BookingActions.move`
confirm a hold (desk)      :meth:`BookingActions.confirm`
check in (desk)            :meth:`BookingActions.check_in`
no-show (desk)             :meth:`BookingActions.mark_no_show`
refund part or all (desk)  :meth:`BookingActions.refund`
=========================  ==============================================
"""

from dataclasses import dataclass, replace
from typing import NamedTuple

from ..adapters.payments import ProviderRefused, ProviderUnavailable
from ..i18n import _
from ..models import Booking, BookingStatus, PaymentStatus, Refund
from .booking import BookingRequest, BookingService
from .customers import find_or_create_customer
from .desk import FrontDesk
from .errors import PaymentNotStarted, RefundNotMade, ValidationError
from .payments import PaymentService
from .pricing import price_of

#: What cancelling a paid booking gives back: what the tenant's refund
#: policy gives (a customer always gets this), everything left, or nothing.
REFUND_POLICY, REFUND_ALL, REFUND_NOTHING = "policy", "full", "none"
REFUND_CHOICES = (REFUND_ALL, REFUND_POLICY, REFUND_NOTHING)


class Booked(NamedTuple):
    booking: Booking
    #: False when the idempotency key named a booking made before.
    created: bool


@dataclass(frozen=True)
class Cancellation:
    booking: Booking
    #: The booking had been paid online when it was cancelled.
    was_paid: bool
    #: The refund this cancellation gave, if any.
    refund: Refund | None


class BookingActions:
    def __init__(self, bookings: BookingService, payments: PaymentService, dbsession, now):
        self.bookings = bookings
        self.desk = FrontDesk(bookings)
        self.payments = payments
        self.dbsession = dbsession
        self.now = now

    # -- booking -------------------------------------------------------------

    @property
    def collects_online(self):
        """Whether bookings are paid online (``booking.payments = stripe``)."""
        return self.payments.provider.collects_online

    def needs_checkout(self, price):
        """Whether a booking at ``price`` is held until paid online."""
        return price > 0 and self.collects_online

    def resource_to_book(self, tenant, resource_id):
        """Resource ``resource_id`` of ``tenant``, loaded under the guard's
        lock for the booking that follows (the API's way: one statement
        loads and locks it), or None."""
        return self.bookings.load_resource_locked(tenant, resource_id)

    def book(self, request: BookingRequest):
        """A customer's booking (the site, the API): held until paid when it
        is paid online, else confirmed at once. Returns :class:`Booked`."""
        hold = self.needs_checkout(price_of(request.resource, request.seats))
        booking, created = self.bookings.book(
            replace(request, by_staff=False, hold_for_payment=hold))
        return Booked(booking, created)

    def book_walk_in(self, request: BookingRequest, email, name="", phone=""):
        """A booking made at the desk or on the phone for the customer of
        ``email`` (``request.customer`` is not read: an account is found, or
        made for a new address): confirmed at once, paid at the venue, inside
        the notice and advance limits if need be."""
        customer, _created = find_or_create_customer(self.dbsession, email, name, phone,
                                                     self.now)
        booking, created = self.bookings.book(replace(
            request, customer=customer, by_staff=True, hold_for_payment=False,
            contact=(name or "", phone or "")))
        return Booked(booking, created)

    def awaits_online_payment(self, booking):
        """Whether ``booking`` is held for an online payment still to make."""
        return (booking.status == BookingStatus.HELD and booking.holds_seats(self.now)
                and self.needs_checkout(booking.price))

    def start_checkout(self, booking, return_url):
        """The pending payment of held ``booking`` with the provider's
        checkout URL; the provider sends the customer back to ``return_url``
        (the booking's page). The same payment on a double submit. Raise
        :class:`PaymentNotStarted` when the provider cannot start it: the
        hold and the pending payment are kept, so trying again reuses its
        idempotency key while the hold lasts."""
        try:
            return self.payments.start_checkout(
                booking, success_url=return_url + "?paid=1",
                cancel_url=return_url + "?checkout=cancelled")
        except ProviderUnavailable:
            raise PaymentNotStarted(_("the payment provider could not be reached and nothing "
                                      "was charged: send the same request again"),
                                    retry=True) from None
        except ProviderRefused:
            raise PaymentNotStarted(_("the payment provider refused to start the payment and "
                                      "nothing was charged"), retry=False) from None

    # -- changing a booking --------------------------------------------------

    def cancel(self, tenant, booking, *, actor_id, reason="", by_staff=False,
               refund=REFUND_POLICY):
        """Cancel ``booking`` and give back what is owed of its online
        payment: a customer what the tenant's refund policy gives (inside
        the cancellation window); staff choose ``refund`` (one of
        :data:`REFUND_CHOICES`). Returns :class:`Cancellation`."""
        if refund not in REFUND_CHOICES:
            raise ValidationError(_("must be one of ${choices}",
                                    mapping={"choices": ", ".join(REFUND_CHOICES)}),
                                  field="refund")
        if refund != REFUND_POLICY and not by_staff:
            raise ValidationError(_("is the venue's to choose: a customer gets what the "
                                    "refund policy gives"), field="refund")
        self.bookings.cancel(tenant, booking, actor_id=actor_id, reason=reason,
                             by_staff=by_staff)
        # Read under the cancel's lock, not before it: a payment that
        # arrived meanwhile is refunded too.
        was_paid = booking.payment_status == PaymentStatus.PAID
        try:
            given = self._refund_on_cancel(booking, refund, actor_id)
        except ProviderUnavailable:
            raise RefundNotMade(_("The payment provider could not be reached, so nothing was "
                                  "changed. Please try again in a few minutes.")) from None
        return Cancellation(booking, was_paid, given)

    def _refund_on_cancel(self, booking, refund, actor_id):
        if refund == REFUND_POLICY:
            return self.payments.refund_for_cancellation(booking, actor_id=actor_id)
        if refund == REFUND_ALL:
            left = self.payments.refundable(booking)
            if left:
                return self.payments.refund(booking, left, actor_id=actor_id,
                                            reason="cancelled by the venue")
        return None

    def move(self, tenant, booking, resource, start, *, actor_id, by_staff=False):
        """Move ``booking`` to ``start`` on ``resource``, guarded like a new
        booking; on a conflict it keeps its slot."""
        return self.bookings.reschedule(tenant, booking, resource, start, actor_id=actor_id,
                                        by_staff=by_staff)

    def confirm(self, tenant, booking, *, actor_id):
        return self.bookings.confirm(tenant, booking, actor_id)

    def check_in(self, tenant, booking, *, actor_id):
        return self.desk.check_in(tenant, booking, actor_id)

    def mark_no_show(self, tenant, booking, *, actor_id):
        return self.desk.mark_no_show(tenant, booking, actor_id)

    def check_in_window(self, booking):
        return self.desk.check_in_window(booking)

    def refund(self, booking, amount, *, actor_id, reason):
        """Give back ``amount`` minor units of the booking's payment."""
        try:
            return self.payments.refund(booking, amount, actor_id=actor_id, reason=reason)
        except ProviderUnavailable:
            raise RefundNotMade(_("The payment provider could not be reached, so nothing was "
                                  "changed. Please try again in a few minutes.")) from None

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

from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import NamedTuple

from ..adapters.payments import ProviderRefused, ProviderUnavailable
from ..i18n import _
from ..models import Booking, BookingStatus, PaymentStatus, Refund, User
from .booking import BookingRequest, BookingService
from .confirmation import AddressConfirmations
from .customers import walk_in_contact
from .desk import FrontDesk
from .errors import PaymentNotStarted, RefundNotMade, ValidationError
from .payments import PaymentService

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
        # Held when paid online and it costs anything: the price is made
        # under the guard's lock, by the booking itself.
        booking, created = self.bookings.book(
            replace(request, by_staff=False, pay_online=self.collects_online))
        return Booked(booking, created)

    def book_walk_in(self, request: BookingRequest, email="", name="", phone=""):
        """A booking made at the desk or on the phone: confirmed at once, paid
        at the venue, inside the notice and advance limits if need be. The
        customer is who the desk names (a name, a phone, an address: at
        least one); no account is made or linked (``request.customer`` is
        not read), so the platform mails them nothing but this booking's own
        emails, and nothing at all without an address."""
        contact = walk_in_contact(email, name, phone)
        booking, created = self.bookings.book(replace(
            request, customer=None, by_staff=True, hold_for_payment=False, contact=contact))
        return Booked(booking, created)

    def book_for_guest(self, request: BookingRequest, guest):
        """A booking made on the site with the booking form's inline account,
        the visitor not signed in (``guest``: what
        :meth:`AccountService.register` gave, ``user_id`` the new account's
        or ``None`` when the address had one). A new account books as
        itself, and its confirmation email carries the link that confirms
        its address; an address that had an account gets a booking not
        linked to it (whoever typed it does not own it), mailed to it. The
        visitor sees the same either way. Returns :class:`Booked`."""
        customer = None
        if guest.get("user_id") is not None:
            customer = self.dbsession.get(User, guest["user_id"])
            if customer is not None and customer.email_confirmed_at is not None:
                customer = None  # confirmed since: it books as a sign-in would
        if customer is None:
            contact = walk_in_contact(guest["email"], guest.get("name", ""),
                                      guest.get("phone", ""))
            return self.book(replace(request, customer=None, actor_id=None, contact=contact))
        confirmations = AddressConfirmations(self.dbsession, self.now, self.bookings.notifier)
        link = confirmations.link(customer)
        booked = self.book(replace(request, customer=customer, actor_id=customer.id,
                                   confirm_link=link))
        if booked.booking.status != BookingStatus.CONFIRMED:  # held: no confirmation yet
            confirmations.notifier.address_confirmation(customer, link)
        return booked

    def awaits_online_payment(self, booking):
        """Whether ``booking`` is held for an online payment still to make."""
        return (booking.status == BookingStatus.HELD and booking.holds_seats(self.now)
                and self.needs_checkout(booking.price))

    def start_checkout(self, booking, return_url):
        """The pending payment of held ``booking`` with the provider's
        checkout URL; the provider sends the customer back to ``return_url``
        (the booking's page). The same payment on a double submit. Raise
        :class:`PaymentNotStarted` when the provider cannot start it, with
        the hold and the pending payment written: the site keeps them (the
        customer's "try again" reuses the payment's idempotency key while
        the hold lasts); the API lets its transaction go, and its client
        sends the same request again."""
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

    def cancel(self, tenant, booking, *, actor_id, reason="", by_staff=False, refund=None):
        """Cancel ``booking`` and give back what is owed of its online
        payment: a customer gets what the tenant's refund policy gives
        (inside the cancellation window); staff choose ``refund`` (one of
        :data:`REFUND_CHOICES`), which they must when there is money to give
        back. Returns :class:`Cancellation`."""
        if refund is not None and refund not in REFUND_CHOICES:
            raise ValidationError(_("must be one of ${choices}",
                                    mapping={"choices": ", ".join(REFUND_CHOICES)}),
                                  field="refund")
        if not by_staff:
            if refund not in (None, REFUND_POLICY):
                raise ValidationError(_("is the venue's to choose: a customer gets what the "
                                        "refund policy gives"), field="refund")
            refund = REFUND_POLICY
        elif refund is None:
            # Under the guard's lock: a payment that arrives meanwhile waits.
            self.bookings.guard(booking)
            if self.payments.refundable(booking):
                raise ValidationError(_("is required"), field="refund")
            refund = REFUND_NOTHING
        self.bookings.cancel(tenant, booking, actor_id=actor_id, reason=reason,
                             by_staff=by_staff)
        # Read under the cancel's lock, not before it: a payment that
        # arrived meanwhile is refunded too.
        was_paid = booking.payment_status == PaymentStatus.PAID
        return Cancellation(booking, was_paid, self._refund_on_cancel(booking, refund, actor_id))

    def _refund_on_cancel(self, booking, refund, actor_id):
        with provider_answers_refunds():
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
                                        by_staff=by_staff,
                                        paid_online=self.collects_online and not by_staff)

    def confirm(self, tenant, booking, *, actor_id):
        return self.bookings.confirm(tenant, booking, actor_id)

    def check_in(self, tenant, booking, *, actor_id):
        return self.desk.check_in(tenant, booking, actor_id)

    def mark_no_show(self, tenant, booking, *, actor_id):
        return self.desk.mark_no_show(tenant, booking, actor_id)

    def refund(self, booking, amount, *, actor_id, reason):
        """Give back ``amount`` minor units of the booking's payment."""
        with provider_answers_refunds():
            return self.payments.refund(booking, amount, actor_id=actor_id, reason=reason)

    # -- what the desk may do ------------------------------------------------

    def desk_actions(self, booking):
        """Which front-desk actions ``booking`` allows now (the refund by
        hand aside: that one is the staff's permission and the money left)."""
        now = self.now
        opens, closes = self.desk.check_in_window(booking)
        live = booking.holds_seats(now)
        arrived_or_not = booking.status == BookingStatus.CONFIRMED and not booking.checked_in_at
        return {
            "confirm": booking.status in (BookingStatus.HELD, BookingStatus.EXPIRED)
            and booking.starts_at > now and booking.payment_status != PaymentStatus.PENDING,
            "check-in": arrived_or_not and opens <= now < closes,
            "no-show": arrived_or_not and now >= booking.starts_at,
            "cancel": live, "move": live,
        }


@contextmanager
def provider_answers_refunds():
    """Turn the provider's failure to refund into a refusal of the whole
    change (:class:`RefundNotMade`): nothing changes, and the same request
    made again reuses the refund's idempotency key."""
    try:
        yield
    except ProviderUnavailable:
        raise RefundNotMade(_("The payment provider could not be reached, so nothing was "
                              "changed. Please try again in a few minutes."),
                            retry=True) from None
    except ProviderRefused as exc:
        raise RefundNotMade(_("The payment provider refused the refund, so nothing was "
                              "changed: ${reason}", mapping={"reason": str(exc)}),
                            retry=False) from None

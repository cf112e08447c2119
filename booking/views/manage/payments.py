"""The payments of one booking in the staff area: what was paid and given
back, and the parsing of a manual refund (the ``refund`` action of
``views/manage/bookings.py``). Refunds go
through ``PaymentService``, which calls the provider with an idempotency
key derived from the rows, writes the audit log and emails the customer."""

from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from ...adapters.payments import ProviderUnavailable
from ...i18n import _
from ...models import Payment, PaymentState, Refund, User
from ...services.errors import DomainError
from ...services.payments import PaymentService
from ..forms import Field, string

#: What a staff cancellation does with the money left on a paid booking.
CANCEL_REFUNDS = ("full", "policy", "none")


class ProviderDown(DomainError):
    """The payment provider could not be reached: nothing was changed."""

    status = 503
    code = "provider_unavailable"


def provider_down():
    return ProviderDown(_("The payment provider could not be reached, so nothing was "
                          "changed. Please try again in a few minutes."))


def payment_panel(dbsession, booking):
    """The booking's payments (oldest first), their refunds with who made
    them, and how much can still be refunded, in minor units."""
    payments = dbsession.scalars(
        select(Payment).where(Payment.booking_id == booking.id,
                              Payment.tenant_id == booking.tenant_id).order_by(Payment.id)
    ).all()
    refunds = dbsession.execute(
        select(Refund, User).outerjoin(User, User.id == Refund.actor_id)
        .where(Refund.payment_id.in_([p.id for p in payments])).order_by(Refund.id)
    ).all() if payments else []
    refundable = sum(p.amount - p.refunded_amount for p in payments
                     if p.status in (PaymentState.SUCCEEDED, PaymentState.REFUNDED))
    return {"payments": payments, "refunds": refunds, "refundable": refundable}


def major_amount(refundable):
    """An amount in major units (``"12.50"``) as minor units, more than
    zero and at most ``refundable``."""

    def parse_amount(value):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(_("must be an amount such as 12.50")) from None
        if not amount.is_finite():
            raise ValueError(_("must be an amount such as 12.50"))
        if amount != amount.quantize(Decimal("0.01")):
            raise ValueError(_("must have at most two decimals"))
        minor = int(amount * 100)
        if minor <= 0:
            raise ValueError(_("must be more than zero"))
        if minor > refundable:
            raise ValueError(_("is more than what is left to refund (${left})",
                               mapping={"left": f"{Decimal(refundable) / 100:.2f}"}))
        return minor

    return parse_amount


def refund_after_cancel(request, booking, choice, actor_id):
    """Give back what a staff cancellation decided: everything left, what
    the tenant's policy gives a customer, or nothing."""
    service = request.find_service(PaymentService)
    try:
        if choice == "policy":
            return service.refund_for_cancellation(booking, actor_id=actor_id)
        if choice == "full":
            left = payment_panel(request.dbsession, booking)["refundable"]
            if left:
                return service.refund(booking, left, actor_id=actor_id,
                                      reason="cancelled by the venue")
    except ProviderUnavailable:
        raise provider_down() from None
    return None


def refund_fields(refundable):
    return {"amount": Field(major_amount(refundable)),
            "refund_reason": Field(string(200, min_length=1))}


def manual_refund(request, booking, amount, reason, actor_id):
    try:
        return request.find_service(PaymentService).refund(
            booking, amount, actor_id=actor_id, reason=reason)
    except ProviderUnavailable:
        raise provider_down() from None

"""Parsing a manual refund in the staff area (the ``refund`` action of
``views/manage/bookings.py``). Refunds are made by
:class:`~booking.services.actions.BookingActions`, through the payment
service, which calls the provider with an idempotency key derived from the
rows, writes the audit log and emails the customer."""

from decimal import Decimal, InvalidOperation

from ...i18n import _
from ...services.actions import REFUND_CHOICES
from ..forms import Field, string

#: What a staff cancellation does with the money left on a paid booking.
CANCEL_REFUNDS = REFUND_CHOICES


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


def refund_fields(refundable):
    return {"amount": Field(major_amount(refundable)),
            "refund_reason": Field(string(200, min_length=1))}

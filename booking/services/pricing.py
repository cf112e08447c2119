"""The price of a booking, in minor units of the tenant's currency."""

from ..models import PaymentStatus


def price_of(resource, seats):
    """The price of ``seats`` on one slot of ``resource``."""
    return resource.price * seats


def payment_status_for(price):
    """Paid at the venue (the embedded default) unless it is free; a
    booking paid online turns ``pending`` when its checkout starts."""
    return PaymentStatus.DUE_AT_VENUE if price else PaymentStatus.NOT_REQUIRED

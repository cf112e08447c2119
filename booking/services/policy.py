"""The tenant's rules about changing bookings, shared by the ACLs (which
hide and refuse) and the services (which refuse again)."""

from datetime import timedelta


def cancellation_deadline(booking, tenant):
    """The last instant at which the customer may cancel or reschedule."""
    return deadline_for(booking.starts_at, tenant)


def deadline_for(starts_at, tenant):
    """The cancellation deadline of a booking starting at ``starts_at``."""
    return starts_at - timedelta(minutes=tenant.cancellation_window_minutes)


def customer_may_change(booking, tenant, now):
    return booking.holds_seats(now) and now <= cancellation_deadline(booking, tenant)


#: What a customer who cancels a paid booking inside the window gets back.
REFUND_POLICIES = ("full", "partial", "none")


def refund_share(tenant):
    """The percentage of what was paid that a cancellation inside the window
    gives back: 100 (``full``), ``refund_percent`` (``partial``) or 0."""
    if tenant.refund_policy == "full":
        return 100
    if tenant.refund_policy == "partial":
        return tenant.refund_percent
    return 0


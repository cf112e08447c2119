"""The tenant's rules about changing bookings, shared by the ACLs (which
hide and refuse) and the services (which refuse again)."""

from datetime import timedelta


def cancellation_deadline(booking, tenant):
    """The last instant at which the customer may cancel or reschedule."""
    return booking.starts_at - timedelta(minutes=tenant.cancellation_window_minutes)


def customer_may_change(booking, tenant, now):
    return booking.holds_seats(now) and now <= cancellation_deadline(booking, tenant)

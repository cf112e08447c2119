"""The front desk's actions on a booking: check-in and no-show. They run
under the same guard as every change (:meth:`BookingService.guard`)."""

from datetime import timedelta

from ..i18n import _
from ..models import BookingStatus
from .errors import Conflict
from .slots import local_text, zone_of

#: Staff may check a customer in this long before the booking starts.
CHECK_IN_EARLY = timedelta(hours=1)


class FrontDesk:
    """Check-in and no-show, on top of the guard of ``bookings`` (a
    :class:`~booking.services.booking.BookingService`)."""

    def __init__(self, bookings):
        self.bookings = bookings
        self.now = bookings.now

    def check_in_window(self, booking):
        """When the customer of ``booking`` may be checked in."""
        return booking.starts_at - CHECK_IN_EARLY, booking.ends_at

    def check_in(self, tenant, booking, actor_id):
        """Note that the customer of a confirmed booking has arrived: from
        an hour before the start until the end."""
        self.bookings.guard(booking)
        zone = zone_of(booking.resource)
        if booking.status != BookingStatus.CONFIRMED:
            raise Conflict(_("only a confirmed booking can be checked in; this one is ${status}",
                             mapping={"status": booking.status_at(self.now)}), field="status")
        if booking.checked_in_at is not None:
            raise Conflict(_("the customer was already checked in at ${time}",
                             mapping={"time": local_text(booking.checked_in_at, zone)}),
                           field="status")
        opens, closes = self.check_in_window(booking)
        if not opens <= self.now < closes:
            raise Conflict(_("check-in is open from ${opens} until ${closes}",
                             mapping={"opens": local_text(opens, zone),
                                      "closes": local_text(closes, zone)}), field="status")
        booking.checked_in_at = self.now
        booking.updated_at = self.now
        self.bookings.flush()
        self.bookings.audit(tenant.id, actor_id, "booking.checked_in", booking.id)
        return booking

    def mark_no_show(self, tenant, booking, actor_id):
        """Record that the customer of a confirmed booking did not come:
        only once the booking has started, and not if they checked in."""
        self.bookings.guard(booking)
        if booking.status != BookingStatus.CONFIRMED:
            raise Conflict(_("only a confirmed booking can be a no-show; this one is ${status}",
                             mapping={"status": booking.status_at(self.now)}), field="status")
        if booking.checked_in_at is not None:
            raise Conflict(_("the customer has checked in"), field="status")
        if self.now < booking.starts_at:
            raise Conflict(_("the booking has not started yet: it starts at ${time}",
                             mapping={"time": local_text(booking.starts_at,
                                                         zone_of(booking.resource))}),
                           field="status")
        booking.status = BookingStatus.NO_SHOW
        booking.updated_at = self.now
        self.bookings.flush()
        self.bookings.audit(tenant.id, actor_id, "booking.no_show", booking.id)
        return booking

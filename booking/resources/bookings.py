from pyramid.authorization import DENY_ALL, Allow, Authenticated

from ..i18n import _
from ..models import Booking
from ..services.policy import cancellation_deadline, customer_may_change
from ..services.slots import zone_of
from ..security import Permission, manager, owner, staff, user_principal, venue_staff
from ..services.tenants import is_open
from .base import Node, scoped_row, suspension_acl

P = Permission
BOOKING_STAFF_GRANTS = (P.VIEW, P.CANCEL, P.MANAGE)


class BookingCollection(Node):
    """``/t/{slug}/bookings``: signed-in users list (their own, or for staff
    their scope) and create bookings here."""

    #: Anonymous visitors are asked to sign in rather than told "not found".
    requires_sign_in = True

    def __acl__(self):
        return suspension_acl(self.tenant, [(Allow, Authenticated, (P.VIEW, P.BOOK)), DENY_ALL])

    def denial_reason(self, permission):
        if permission == P.BOOK and not is_open(self.tenant):
            return _("This business is closed for now: it takes no bookings.")
        return None

    def __getitem__(self, key):
        booking = scoped_row(self.dbsession, Booking, key, tenant_id=self.tenant.id)
        return BookingContext(self, key, self.request, booking)


class BookingContext(Node):
    """``/t/{slug}/bookings/{id}``. Its customer sees it, and may cancel or
    reschedule it while the tenant's cancellation window is open; the staff
    of its venue act on it at any time. Nobody else reaches it."""

    requires_sign_in = True

    def __init__(self, parent, name, request, booking):
        super().__init__(parent, name, request)
        self.booking = booking

    @property
    def resource(self):
        return self.booking.resource

    def denial_reason(self, permission):
        """Why ``permission`` is denied, in words for the customer."""
        booking = self.booking
        if permission != P.CANCEL:
            return None
        now = self.request.now
        if not booking.holds_seats(now):
            status = booking.status_at(now).replace("_", " ")
            return _("The booking is ${status}: it can no longer be changed.",
                     mapping={"status": status})
        deadline = cancellation_deadline(booking, self.tenant)
        zone = zone_of(booking.resource)
        return _(
            "The cancellation window has closed: this booking could be cancelled or moved "
            "until ${time}.",
            mapping={"time": deadline.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")},
        )

    def __acl__(self):
        booking, tenant = self.booking, self.tenant
        customer = user_principal(booking.customer_id)
        acl = [(Allow, customer, P.VIEW)]
        if customer_may_change(booking, tenant, self.request.now):
            acl.append((Allow, customer, P.CANCEL))
        acl += [
            (Allow, owner(tenant.id), BOOKING_STAFF_GRANTS + (P.ADMIN,)),
            (Allow, manager(tenant.id), BOOKING_STAFF_GRANTS),
            (Allow, staff(tenant.id), BOOKING_STAFF_GRANTS),
            (Allow, venue_staff(booking.resource.venue_id), BOOKING_STAFF_GRANTS),
            DENY_ALL,
        ]
        return suspension_acl(tenant, acl)

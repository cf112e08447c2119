"""The staff area, ``/t/{slug}/manage/…``: the same tenant, venues,
resources and bookings as the public tree, with the ACLs of the back office.

- owners do everything, including people and settings;
- managers also change resources, opening hours, closures and settings;
- staff see and act on bookings: of the whole tenant, or only of the venue
  their membership is scoped to. A venue outside their scope, and its
  bookings, answer 404 to them.

While the tenant is closed (suspended, or its deletion requested) the
area is read-only to its staff (``booking.resources.base.suspension_acl``);
``deletion`` stays open to the owners, who request or cancel the deletion
there.
"""

from functools import cached_property

from pyramid.authorization import DENY_ALL, Allow
from ..models import Booking, Closure, OutboxMessage, Resource, Venue, Voucher
from ..security import Permission, manager, owner, staff, venue_staff
from ..services.catalog import tenant_venues, venue_resources
from .base import StaffNode, scoped_row, suspension_acl
# Every staff-area node is importable from here, including the rows below
# ``offers`` and ``codes`` (the staff authorization table lists their views).
from .promotions import (  # noqa: F401
    OfferCollection,
    OfferContext,
    PromoCodeCollection,
    PromoCodeContext,
    PromotionsContext,
)

P = Permission
#: Front-desk work: see the calendar and the bookings, act on bookings.
DESK = (P.VIEW, P.MANAGE)
#: Configuration too: resources, schedules, closures, settings.
CONFIGURE = (P.VIEW, P.MANAGE, P.ADMIN)


def desk_acl(tenant, *venue_ids):
    """Owners and managers configure; tenant-wide staff and the staff of
    ``venue_ids`` work the desk; nobody else is let in."""
    return suspension_acl(tenant, [
        (Allow, owner(tenant.id), CONFIGURE),
        (Allow, manager(tenant.id), CONFIGURE),
        (Allow, staff(tenant.id), DESK),
        *[(Allow, venue_staff(venue_id), DESK) for venue_id in venue_ids],
        DENY_ALL,
    ])


class ManageContext(StaffNode):
    """``/t/{slug}/manage``: the dashboard, settings and the sections below."""

    @cached_property
    def _venues(self):
        return tenant_venues(self.dbsession, self.tenant.id)

    def __acl__(self):
        return desk_acl(self.tenant, *(venue.id for venue in self._venues))

    def all_venues(self):
        """The tenant's venues, by name."""
        return self._venues

    def venues(self):
        """The venues the requester works at, by name: those whose calendar
        the tree lets them manage."""
        places = self["venues"]
        return [venue for venue in self._venues
                if self.request.has_permission(P.MANAGE, ManagedVenue(places, str(venue.id),
                                                                        self.request, venue))]

    def __getitem__(self, key):
        children = {"venues": ManagedVenues, "bookings": ManagedBookings, "people": People,
                    "messages": Messages, "offer-emails": OfferEmails, "deletion": Deletion,
                    "vouchers": Vouchers, "offers": OfferCollection,
                    "codes": PromoCodeCollection, "promotions": PromotionsContext}
        if key not in children:
            raise KeyError(key)
        return children[key](self, key, self.request)


class ManagedVenues(StaffNode):
    """``/manage/venues``: a venue's calendar, hours, closures, resources."""

    __acl__ = []

    def __getitem__(self, key):
        venue = scoped_row(self.dbsession, Venue, key, tenant_id=self.tenant.id)
        return ManagedVenue(self, key, self.request, venue)


class ManagedVenue(StaffNode):
    def __init__(self, parent, name, request, venue):
        super().__init__(parent, name, request)
        self.venue = venue

    def __acl__(self):
        return desk_acl(self.tenant, self.venue.id)

    def __getitem__(self, key):
        if key == "resources":
            return ManagedResources(self, key, self.request)
        if key == "closures":
            return ManagedClosures(self, key, self.request)
        raise KeyError(key)


class ManagedResources(StaffNode):
    """``/manage/venues/{id}/resources``: the venue's resources, inactive
    ones included; ``new`` creates one."""

    __acl__ = []

    @property
    def venue(self):
        return self.__parent__.venue

    def resources(self):
        return venue_resources(self.dbsession, self.tenant.id, self.venue.id,
                               include_inactive=True)

    def __getitem__(self, key):
        resource = scoped_row(self.dbsession, Resource, key, tenant_id=self.tenant.id,
                              venue_id=self.venue.id)
        return ManagedResource(self, key, self.request, resource)


class ManagedResource(StaffNode):
    def __init__(self, parent, name, request, resource):
        super().__init__(parent, name, request)
        self.resource = resource

    @property
    def venue(self):
        return self.resource.venue

    __acl__ = []


class ManagedClosures(StaffNode):
    """``/manage/venues/{id}/closures``: a venue's closures."""

    __acl__ = []

    @property
    def venue(self):
        return self.__parent__.venue

    def __getitem__(self, key):
        closure = scoped_row(self.dbsession, Closure, key, tenant_id=self.tenant.id,
                             venue_id=self.venue.id)
        return ManagedClosure(self, key, self.request, closure)


class ManagedClosure(StaffNode):
    __acl__ = []

    def __init__(self, parent, name, request, closure):
        super().__init__(parent, name, request)
        self.closure = closure


class ManagedBookings(StaffNode):
    """``/manage/bookings``: the bookings of the requester's scope; ``new``
    books for a walk-in or phone customer."""

    __acl__ = []

    def __getitem__(self, key):
        booking = scoped_row(self.dbsession, Booking, key, tenant_id=self.tenant.id)
        return ManagedBooking(self, key, self.request, booking)


class ManagedBooking(StaffNode):
    """A booking as its venue's staff see it: only staff of its venue (or of
    the whole tenant) reach it."""

    def __init__(self, parent, name, request, booking):
        super().__init__(parent, name, request)
        self.booking = booking

    @property
    def resource(self):
        return self.booking.resource

    def __acl__(self):
        return desk_acl(self.tenant, self.booking.resource.venue_id)


class People(StaffNode):
    """``/manage/people``: the tenant's members. Managers see the team;
    only owners change it."""

    def __acl__(self):
        tenant = self.tenant
        return suspension_acl(tenant, [
            (Allow, owner(tenant.id), CONFIGURE),
            (Allow, manager(tenant.id), P.VIEW),
            DENY_ALL,
        ])


class ForManagers(StaffNode):
    """A place of the staff area for owners and managers (configuration),
    read-only while the business is suspended."""

    def __acl__(self):
        tenant = self.tenant
        return suspension_acl(tenant, [
            (Allow, owner(tenant.id), CONFIGURE),
            (Allow, manager(tenant.id), CONFIGURE),
            DENY_ALL,
        ])


class Messages(ForManagers):
    """``/manage/messages``: the tenant's emails not sent yet or given up,
    for owners and managers; ``{id}/retry`` tries a failed one again."""

    def __getitem__(self, key):
        message = scoped_row(self.dbsession, OutboxMessage, key, tenant_id=self.tenant.id)
        return ManagedMessage(self, key, self.request, message)


class OfferEmails(ForManagers):
    """``/manage/offer-emails``: offer emails to the customers who asked for
    them, written, previewed and sent by owners and managers."""


class ManagedMessage(StaffNode):
    __acl__ = []

    def __init__(self, parent, name, request, message):
        super().__init__(parent, name, request)
        self.message = message


class Deletion(StaffNode):
    """``/manage/deletion``: the owners request the deletion of the business,
    or cancel it during the grace period. Open to them whatever the tenant's
    state: it is the one thing they still do while it is closed."""

    def __acl__(self):
        return [(Allow, owner(self.tenant.id), (P.VIEW, P.ADMIN)), DENY_ALL]


class Vouchers(ForManagers):
    """``/manage/vouchers``: gift vouchers, for owners and managers: the
    list, ``issue``, and each voucher's ledger and ``void``."""

    def __getitem__(self, key):
        voucher = scoped_row(self.dbsession, Voucher, key, tenant_id=self.tenant.id)
        return ManagedVoucher(self, key, self.request, voucher)


class ManagedVoucher(StaffNode):
    __acl__ = []

    def __init__(self, parent, name, request, voucher):
        super().__init__(parent, name, request)
        self.voucher = voucher

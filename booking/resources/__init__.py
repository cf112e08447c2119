"""The traversal tree: ``Root → t → Tenant → venues → Venue → resources →
Resource`` and ``Tenant → bookings → Booking``. The JSON API mounts the same
tree under ``/api/v1`` (route ``api``), with ``tokens`` beside ``t``."""

from pyramid.authorization import DENY_ALL, Allow, Authenticated, Everyone

from ..security import Permission
from .admin import AdminContext, AdminTenant, AdminTenants
from .bookables import ResourceCollection, ResourceContext
from .bookings import BookingCollection, BookingContext
from .feeds import FeedCollection, FeedContext
from .user_links import (
    EmailConfirmationCollection,
    EmailConfirmationContext,
    InvitationCollection,
    InvitationContext,
    PasswordResetCollection,
    PasswordResetContext,
    UnsubscribeCollection,
    UnsubscribeContext,
)
from .signup import SignupContext
from .tenants import TenantCollection, TenantContext
from .venues import VenueCollection, VenueContext

__all__ = [
    "AccountContext",
    "AdminContext",
    "AdminTenant",
    "AdminTenants",
    "ApiRoot",
    "BookingCollection",
    "BookingContext",
    "EmailConfirmationCollection",
    "EmailConfirmationContext",
    "FeedCollection",
    "FeedContext",
    "InvitationCollection",
    "InvitationContext",
    "NearContext",
    "PasswordResetCollection",
    "PasswordResetContext",
    "UnsubscribeCollection",
    "UnsubscribeContext",
    "PaymentProviderContext",
    "PaymentProviders",
    "ResourceCollection",
    "ResourceContext",
    "Root",
    "SignupContext",
    "TenantCollection",
    "TenantContext",
    "TokenCollection",
    "VenueCollection",
    "VenueContext",
]


class AccountContext:
    """``/account``: the signed-in user's own profile and password."""

    requires_sign_in = True

    def __init__(self, parent, name):
        self.__parent__ = parent
        self.__name__ = name

    @property
    def __acl__(self):
        return [(Allow, Authenticated, Permission.VIEW), DENY_ALL]


class NearContext:
    """``/near``: venues near a place, open to everybody."""

    __acl__ = [(Allow, Everyone, Permission.VIEW), DENY_ALL]

    def __init__(self, parent, name):
        self.__parent__ = parent
        self.__name__ = name


class Root:
    __name__ = ""
    __parent__ = None
    __acl__ = []

    def __init__(self, request):
        self.request = request

    def __getitem__(self, key):
        if key == "t":
            return TenantCollection(self, key, self.request)
        if key == "account":
            return AccountContext(self, key)
        if key == "near":
            return NearContext(self, key)
        if key == "feeds":
            return FeedCollection(self, key, self.request)
        if key == "invitations":
            return InvitationCollection(self, key, self.request)
        if key == "reset":
            return PasswordResetCollection(self, key, self.request)
        if key == "confirm":
            return EmailConfirmationCollection(self, key, self.request)
        if key == "unsubscribe":
            return UnsubscribeCollection(self, key, self.request)
        if key == "signup":
            return SignupContext(self, key, self.request)
        if key == "admin":
            return AdminContext(self, key, self.request)
        raise KeyError(key)


class TokenCollection:
    """``/api/v1/tokens``: sign in for a bearer token, revoke it."""

    __acl__ = []

    def __init__(self, parent, name):
        self.__parent__ = parent
        self.__name__ = name


class PaymentProviders:
    """``/api/v1/payments/<provider>``: where a payment provider sends its
    webhooks. Open to everybody: the webhook's signature is the authorization."""

    __acl__ = [(Allow, Everyone, Permission.VIEW), DENY_ALL]

    def __init__(self, parent, name):
        self.__parent__ = parent
        self.__name__ = name

    def __getitem__(self, key):
        return PaymentProviderContext(self, key)


class PaymentProviderContext:
    def __init__(self, parent, name):
        self.__parent__ = parent
        self.__name__ = name


class ApiRoot(Root):
    def __getitem__(self, key):
        if key == "tokens":
            return TokenCollection(self, key)
        if key == "payments":
            return PaymentProviders(self, key)
        return super().__getitem__(key)


def root_factory(request):
    return Root(request)


def api_root_factory(request):
    return ApiRoot(request)


def includeme(config):
    config.set_root_factory(root_factory)
    config.add_route("api", "/api/v1/*traverse", factory=api_root_factory)

"""Domain services, each registered with ``pyramid_services`` by a factory
that builds it from what a request carries (its session, its clock reading,
the settings, the adapters): views get one with
``request.find_service(<class>)``.

Outside a request, the worker and the console scripts get services from the
same factories through a :class:`Work` (a session and an instant, with a
service container of its own), usually opened by :func:`unit_of_work`::

    with unit_of_work(registry) as work:
        work.find_service(BookingService).expire_stale_holds()

so that a service built there has the settings and adapters a view's has.
"""

import contextlib

import transaction
from pyramid.settings import asbool

from ..adapters.maps import Geocoder
from ..adapters.payments import PaymentProvider
from ..models import get_tm_session
from .actions import BookingActions
from .alternatives import AlternativesFinder
from .api_tokens import ApiTokenService, token_lifetime
from .availability import AvailabilityService
from .booking import BookingService
from .business import BusinessService
from .catalog import Catalog
from .dashboard import Dashboard
from .devices import KnownDevices
from .discovery import DiscoveryService
from .feeds import FeedService
from .geocoding import cache_age
from .lookup import find_service
from .marketing import MarketingService
from .messages import MessageService
from .mfa import MfaService
from . import notifications
from .notifications import Notifier
from .passkeys import PasskeyService
from .password_reset import PasswordResetService
from .payments import PaymentService
from .platform import PlatformService
from .pricing import PricingService
from .privacy import PrivacyService
from .promotions import PromotionService
from .queries import BookingQueries
from .registration import AccountService, SignupService
from .schedule import ScheduleService
from .security_log import SecurityLog
from .sessions import SessionService
from .staff_calendar import StaffCalendarService
from .team import TeamService
from .venues import VenueService
from .vouchers import VoucherService


def _availability_factory(context, request):
    return AvailabilityService(request.dbsession, request.now)


def _notifier_factory(context, request):
    return Notifier(request.dbsession, request.now, request.registry.settings)


def _booking_factory(context, request):
    return BookingService(request.dbsession, request.now,
                          notifier=request.find_service(Notifier))


def _payment_factory(context, request):
    return PaymentService(request.dbsession, request.now, request.find_service(PaymentProvider),
                          notifier=request.find_service(Notifier),
                          bookings=request.find_service(BookingService),
                          vouchers=request.find_service(VoucherService))


def _voucher_factory(context, request):
    return VoucherService(request.dbsession, request.now, request.find_service(PaymentProvider),
                          notifier=request.find_service(Notifier))


def _actions_factory(context, request):
    return BookingActions(request.find_service(BookingService),
                          request.find_service(PaymentService), request.dbsession, request.now)


def _alternatives_factory(context, request):
    return AlternativesFinder(request.dbsession, request.now)


def _booking_queries_factory(context, request):
    return BookingQueries(request.dbsession, request.now)


def _privacy_factory(context, request):
    # An erased account's future bookings are cancelled as the customer
    # would, refund included.
    return PrivacyService(request.dbsession, request.now,
                          actions=request.find_service(BookingActions))


def _password_reset_factory(context, request):
    return PasswordResetService(request.dbsession, request.now,
                                notifier=request.find_service(Notifier))


def _session_and_clock(service_class):
    """A factory of ``service_class(dbsession, now)``: the read-side
    services and those that write nothing but rows of their own."""
    def factory(context, request):
        return service_class(request.dbsession, request.now)
    return factory


def _account_factory(context, request):
    return AccountService(request.dbsession, request.now,
                          devices=KnownDevices(request.registry.settings["booking.secret"]),
                          notifier=request.find_service(Notifier))


def _schedule_factory(context, request):
    # The booking use cases of the request, whose notifier has the settings:
    # the emails of the bookings a closure cancels link to the public URL.
    return ScheduleService(request.dbsession, request.now, request.find_service(BookingActions),
                           formatter=getattr(request, "format", None))


def _signup_factory(context, request):
    return SignupService(request.dbsession, request.now, notifier=request.find_service(Notifier))


def _team_factory(context, request):
    return TeamService(request.dbsession, request.now, notifier=request.find_service(Notifier))


def _discovery_factory(context, request):
    return DiscoveryService(request.dbsession, request.now, request.registry["dbsession_factory"],
                            request.find_service(Geocoder), cache_age(request.registry.settings))


def _venue_factory(context, request):
    # Its venues are located after the commit, in transactions of their own.
    return VenueService(request.dbsession, request.now, request.registry["dbsession_factory"],
                        request.find_service(Geocoder), cache_age(request.registry.settings))


def _api_token_factory(context, request):
    return ApiTokenService(request.dbsession, request.now, token_lifetime(request.registry.settings))


def _business_factory(context, request):
    return BusinessService(request.dbsession, request.now,
                           request.registry.settings["booking.tenant_deletion_grace_days"])


def _marketing_factory(context, request):
    settings = request.registry.settings
    return MarketingService(
        request.dbsession, request.now,
        public_url=settings.get("booking.public_url") or notifications.DEFAULT_PUBLIC_URL,
        per_day=settings["booking.offer_mailings_per_day"],
        max_recipients=settings["booking.offer_max_recipients"],
        reload_templates=asbool(settings.get("pyramid.reload_templates", False)))


class Work:
    """A unit of work outside a request (the worker, a console script).

    It carries what the service factories read from a request: the
    ``registry`` (settings, adapters), a ``dbsession`` joined to a
    transaction, and ``now``, read once from the app's clock unless given.
    :meth:`find_service` builds services from the registered factories, once
    per unit of work, as once per request."""

    def __init__(self, registry, dbsession=None, now=None):
        self.registry = registry
        self.dbsession = dbsession
        self.now = registry["booking.clock"].now() if now is None else now
        self.built_services = {}

    find_service = find_service


@contextlib.contextmanager
def unit_of_work(registry, write=True):
    """A :class:`Work` in a transaction of its own, committed when the block
    ends (aborted if it raises). ``write=True`` begins it with ``BEGIN
    IMMEDIATE`` on SQLite, as a request that writes."""
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        yield Work(registry, get_tm_session(registry["dbsession_factory"], manager, write=write))


def includeme(config):
    config.include(".lookup")  # pyramid_services and request.find_service
    config.register_service_factory(_availability_factory, AvailabilityService)
    config.register_service_factory(_notifier_factory, Notifier)
    config.register_service_factory(_booking_factory, BookingService)
    config.register_service_factory(_payment_factory, PaymentService)
    config.register_service_factory(_voucher_factory, VoucherService)
    config.register_service_factory(_actions_factory, BookingActions)
    config.register_service_factory(_booking_queries_factory, BookingQueries)
    config.register_service_factory(_password_reset_factory, PasswordResetService)
    config.register_service_factory(_alternatives_factory, AlternativesFinder)
    config.register_service_factory(_schedule_factory, ScheduleService)
    config.register_service_factory(_team_factory, TeamService)
    config.register_service_factory(_discovery_factory, DiscoveryService)
    config.register_service_factory(_business_factory, BusinessService)
    config.register_service_factory(_venue_factory, VenueService)
    config.register_service_factory(_privacy_factory, PrivacyService)
    config.register_service_factory(_account_factory, AccountService)
    config.register_service_factory(_api_token_factory, ApiTokenService)
    config.register_service_factory(_signup_factory, SignupService)
    config.register_service_factory(_marketing_factory, MarketingService)
    for service_class in (Catalog, Dashboard, FeedService, MessageService, MfaService, PasskeyService,
                          PlatformService, PricingService, PromotionService, SecurityLog,
                          SessionService, StaffCalendarService):
        config.register_service_factory(_session_and_clock(service_class), service_class)

"""Domain services. Each is built per request from the request's session and
clock and found by views with ``request.find_service(<class>)``; scripts and
the worker construct them directly with a session and an instant."""

from ..adapters.payments import provider_from_settings
from .actions import BookingActions
from .alternatives import AlternativesFinder
from .api_tokens import ApiTokenService
from .availability import AvailabilityService
from .booking import BookingService
from .catalog import Catalog
from .dashboard import Dashboard
from .discovery import DiscoveryService
from .feeds import FeedService
from .notifications import Notifier
from .payments import PaymentService
from .platform import PlatformService
from .queries import BookingQueries
from .schedule import ScheduleService
from .staff_calendar import StaffCalendarService
from .team import TeamService
from .venues import VenueService


def _availability_factory(context, request):
    return AvailabilityService(request.dbsession, request.now)


def _notifier_factory(context, request):
    return Notifier(request.dbsession, request.now, request.registry.settings)


def _booking_factory(context, request):
    return BookingService(request.dbsession, request.now,
                          notifier=request.find_service(Notifier))


def _payment_factory(context, request):
    return PaymentService(request.dbsession, request.now, request.registry["payment_provider"],
                          notifier=request.find_service(Notifier),
                          bookings=request.find_service(BookingService))


def _actions_factory(context, request):
    return BookingActions(request.find_service(BookingService),
                          request.find_service(PaymentService), request.dbsession, request.now)


def _alternatives_factory(context, request):
    return AlternativesFinder(request.dbsession, request.now)


def _booking_queries_factory(context, request):
    return BookingQueries(request.dbsession, request.now)


def _session_and_clock(service_class):
    """A factory of ``service_class(dbsession, now)``: the read-side
    services and those that write nothing but rows of their own."""
    def factory(context, request):
        return service_class(request.dbsession, request.now)
    return factory


def _schedule_factory(context, request):
    # The booking guard of the request, whose notifier has the settings:
    # the emails of the bookings a closure cancels link to the public URL.
    return ScheduleService(request.dbsession, request.now, request.find_service(BookingService),
                           formatter=getattr(request, "format", None))


def _team_factory(context, request):
    return TeamService(request.dbsession, request.now, notifier=request.find_service(Notifier))


def _discovery_factory(context, request):
    return DiscoveryService(request.dbsession, request.now, request.registry["dbsession_factory"])


def find_service(request, iface, context=None, name=""):
    """``request.find_service``, looked up without the traversal context:
    no service here depends on it, and resolving the context's interfaces
    was 2.5 % of a booking's instructions (pyramid_services' own method
    passes ``request.context``)."""
    return request.services.get(iface, context=context, name=name)


def includeme(config):
    config.include("pyramid_services")
    config.add_request_method(find_service)
    config.register_service_factory(_availability_factory, AvailabilityService)
    config.register_service_factory(_notifier_factory, Notifier)
    config.register_service_factory(_booking_factory, BookingService)
    # One provider per process (thread-safe), chosen by ``booking.payments``.
    config.registry["payment_provider"] = provider_from_settings(config.get_settings())
    config.register_service_factory(_payment_factory, PaymentService)
    config.register_service_factory(_actions_factory, BookingActions)
    config.register_service_factory(_booking_queries_factory, BookingQueries)
    config.register_service_factory(_alternatives_factory, AlternativesFinder)
    config.register_service_factory(_schedule_factory, ScheduleService)
    config.register_service_factory(_team_factory, TeamService)
    config.register_service_factory(_discovery_factory, DiscoveryService)
    for service_class in (ApiTokenService, Catalog, Dashboard, FeedService, PlatformService,
                          StaffCalendarService, VenueService):
        config.register_service_factory(_session_and_clock(service_class), service_class)

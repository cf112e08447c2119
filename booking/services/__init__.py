"""Domain services. Each is built per request from the request's session and
clock and found by views with ``request.find_service(<class>)``; scripts and
the worker construct them directly with a session and an instant."""

from .availability import AvailabilityService
from .booking import BookingService


def _availability_factory(context, request):
    return AvailabilityService(request.dbsession, request.now)


def _booking_factory(context, request):
    return BookingService(request.dbsession, request.now)


def includeme(config):
    config.include("pyramid_services")
    config.register_service_factory(_availability_factory, AvailabilityService)
    config.register_service_factory(_booking_factory, BookingService)

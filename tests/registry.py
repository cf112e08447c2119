"""The registry a worker gets from ``bootstrap(ini)``, for tests that run
worker passes or scripts without a WSGI app: the clock, the adapters and
the service factories, included as ``booking.main`` includes them, over the
test database's own session factory (no engine of its own to dispose of)."""

from pyramid.config import Configurator

from booking.settings import parse_settings


def service_registry(db, clock, settings=None):
    config = Configurator(settings=parse_settings(
        {**db.settings, "booking.clock": clock, **(settings or {})}, environ={}))
    config.include("booking.clock")
    config.registry["dbsession_factory"] = db.session_factory  # what booking.models sets
    config.include("booking.adapters.payments")
    config.include("booking.adapters.maps")
    config.include("booking.adapters.mail")
    config.include("booking.services")
    config.commit()
    return config.registry

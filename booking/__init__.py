"""Booking: a multi-tenant online booking system on Pyramid."""

import gc

from pyramid.config import Configurator

from .limits import InputLimits
from .settings import SettingsError, parse_settings


def main(global_config, **settings):
    """Return the WSGI application."""
    try:
        settings = parse_settings(settings)
    except SettingsError as exc:
        # pserve shows this line and exits non-zero; no traceback to read.
        raise SystemExit(f"booking: configuration error: {exc}") from None

    with Configurator(settings=settings) as config:
        config.include(".clock")  # request.now, read by ACLs and services
        # Sessions, the security policy, CSRF by default, default permission.
        config.include(".security")
        config.include(".second_factor")  # where a second factor is required
        config.include(".i18n")  # before templates: they translate
        config.include(".templating")
        config.include(".headers")  # security headers on every response
        config.include(".limits")  # unreadable form bodies are a 400
        # pyramid_retry, then pyramid_tm, then request.dbsession.
        config.include(".models")
        # Adapters, each under its interface with pyramid_services (the INI
        # names the implementation); maps needs the session factory.
        config.include(".adapters.payments")
        config.include(".adapters.maps")
        config.include(".adapters.mail")
        config.include(".services")  # service factories, found with request.find_service
        config.include(".resources")  # root factory and the /api/v1 route
        config.scan(".views")
        app = config.make_wsgi_app()
    if settings["booking.gc_freeze"]:
        # What start-up built lives as long as the process: move it out of
        # the cyclic collector's reach, so that a collection triggered by a
        # large page no longer walks every module, mapper and template.
        gc.collect()
        gc.freeze()
    return InputLimits(app, settings["booking.max_body_bytes"])

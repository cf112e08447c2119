"""How services and adapters are found: each is registered with
``pyramid_services`` (``config.register_service_factory`` or
``config.register_service``) and found with ``request.find_service``.

The lookup is ours, not pyramid_services' own:

- it ignores the traversal context (no service here depends on it;
  resolving the context's interfaces was 2.5 % of a booking's instructions);
- it keeps the services a request has built in a plain dict, instead of the
  service container pyramid_services makes for each request. That container
  registers the request in a registry of its own, which empties
  zope.interface's lookup cache, so that its first lookup of each service
  was an uncached adapter lookup (a booking made seven).

The factory itself is still pyramid_services' registered one, found in the
application's service registry, whose cache does not empty. A service is
built once per request, or per unit of work (:class:`booking.services.Work`).

Every package that registers a service includes this module first (an
include runs once), so that the lookup below replaces pyramid_services' own
whichever package is included first.
"""

from pyramid_services import find_service_factory


def built_services(request):
    """The services ``request`` has built, by ``(interface, name)``."""
    return {}


def find_service(request, iface, context=None, name=""):
    """The service registered for ``iface`` (and ``name``), built by its
    factory the first time this request asks for it."""
    services = request.built_services
    key = (iface, name)
    try:
        return services[key]
    except KeyError:
        factory = find_service_factory(request, iface, name=name)
        service = services[key] = factory(context, request)
        return service


def includeme(config):
    config.include("pyramid_services")
    config.add_request_method(built_services, reify=True)
    config.add_request_method(find_service)

"""A search near a place as the site (``/near``) and the JSON API read it:
an address or coordinates, a radius and a page. Coordinates win when both
are given; an address is located by ``DiscoveryService.locate`` (through
the geocoder's database cache, counted per visitor's address so that no
visitor holds the provider's one request a second for everybody)."""

import math

from ..i18n import _
from ..services import discovery
from ..services.discovery import DiscoveryService
from ..services.errors import DomainError
from .forms import optional, parse_form

MAX_PAGE = 500


def number(minimum, maximum, message):
    def parse_number(value):
        try:
            parsed = float(value.strip().replace(",", ".")) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or not math.isfinite(parsed):
            raise ValueError(_("must be a number"))
        if not minimum <= parsed <= maximum:
            raise ValueError(message)
        return parsed

    return parse_number


latitude = number(-90, 90, _("must be between -90 and 90"))
longitude = number(-180, 180, _("must be between -180 and 180"))
radius = number(1, discovery.MAX_RADIUS_KM,
                _("must be between 1 and ${maximum} km",
                  mapping={"maximum": discovery.MAX_RADIUS_KM}))


def page_number(value):
    value = value.strip()
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_PAGE:
        raise ValueError(_("must be a whole number from 1 to ${maximum}",
                           mapping={"maximum": MAX_PAGE}))
    return int(value)


def address_text(value):
    value = " ".join(value.split())
    if len(value) > 300:
        raise ValueError(_("must be at most ${max_length} characters long",
                           mapping={"max_length": 300}))
    return value


def where(request, params, names=("latitude", "longitude")):
    """Parse a search: ``(clean, errors, status)``. ``clean`` has the point
    (``latitude``/``longitude``), ``radius`` and ``page``; ``names`` are
    the names of the coordinate fields (the API's are shorter)."""
    lat_name, lon_name = names
    fields = {
        "address": optional(address_text, default=""),
        lat_name: optional(latitude), lon_name: optional(longitude),
        "radius": optional(radius, default=float(discovery.DEFAULT_RADIUS_KM)),
        "page": optional(page_number, default=1),
    }
    clean, errors = parse_form(params, fields)
    status = 400
    has_lat = clean.get(lat_name) is not None or lat_name in errors
    has_lon = clean.get(lon_name) is not None or lon_name in errors
    if has_lat != has_lon:
        errors.setdefault(lon_name if has_lat else lat_name,
                          _("is required with the other coordinate"))
    if not errors and not has_lat:
        status = geocode(request, clean, errors, lat_name, lon_name)
    if errors:
        return clean, errors, status
    return {"latitude": clean[lat_name], "longitude": clean[lon_name], "radius": clean["radius"],
            "page": clean["page"], "address": clean["address"]}, {}, 200


def geocode(request, clean, errors, lat_name, lon_name):
    """Fill the point from the address; return the status of a failure."""
    address = clean.get("address")
    if not address:
        errors["address"] = _("type an address, or give coordinates or use your location")
        return 400
    try:
        place = request.find_service(DiscoveryService).locate(address, request.client_addr)
    except DomainError as exc:
        errors[exc.field] = exc.message
        return exc.status
    clean[lat_name], clean[lon_name] = place.latitude, place.longitude
    return 200


def address_search_available(request):
    return request.find_service(DiscoveryService).address_search_available

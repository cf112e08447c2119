"""``/near``: venues near an address or the visitor's own location.

A GET form (nothing is written but the geocoder's cache): an address,
geocoded through the ``Geocoder`` service and the database cache, or
coordinates — typed, or filled by ``static/js/near.js`` from the browser's
location — and a radius. Coordinates win when both are given. The results
link to each venue's page with ``?lat=&lon=`` (rounded to about 10 m), which
is how the venue and resource pages know the distance from the visitor:
the location is never stored, not even in a cookie.
"""

import math
from datetime import timedelta
from urllib.parse import urlencode

from babel.numbers import format_decimal
from pyramid.view import view_config

from ..adapters.maps import Geocoder, GeocoderUnavailable
from ..i18n import _
from ..models import write_session
from ..resources import NearContext
from ..security import Permission
from ..services import discovery
from ..services.alternatives import AlternativesFinder
from ..services.errors import ValidationError
from ..services.geocoding import distance_km, locate_for_request
from ..services.throttle import WindowCounter
from .forms import optional, parse_form

MAX_PAGE = 500
OSM = "https://www.openstreetmap.org"
#: Coordinates carried in links are rounded to this many decimals (~10 m).
LINK_DECIMALS = 4


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
    if not address_search_available(request):
        errors["address"] = _("address search is not available here: give coordinates or "
                              "use your location")
        return 400
    wait = address_search_wait(request)
    if wait is not None:
        errors["address"] = _("too many address searches from your address: try again in "
                              "${minutes} minute(s), or use your location",
                              mapping={"minutes": wait})
        return 429
    try:
        place = locate_for_request(request, address)
    except GeocoderUnavailable:
        errors["address"] = _("address search is not answering right now: try again in a "
                              "moment, or use your location")
        return 503
    if place is None:
        errors["address"] = _("no place was found at this address")
        return 400
    clean[lat_name], clean[lon_name] = place.latitude, place.longitude
    return 200


#: Address searches per visitor's address in a window: each new address
#: may wait for the provider's one-request-per-second slot.
ADDRESS_SEARCHES, ADDRESS_SEARCH_WINDOW = 30, timedelta(minutes=10)


def address_search_wait(request):
    """Minutes this visitor must wait before searching another address, or
    ``None`` (and the search is counted). Counted in a transaction of its
    own: the page itself writes nothing."""
    key = f"near-address:{request.client_addr}"
    with write_session(request.registry["dbsession_factory"]) as session:
        counter = WindowCounter(session, request.now, ADDRESS_SEARCH_WINDOW)
        wait = counter.minutes_to_wait(key, ADDRESS_SEARCHES)
        if wait is None:
            counter.record(key)
        return wait


def address_search_available(request):
    return not request.find_service(Geocoder).offline


def distance_text(request, km):
    """"850 m", "3.4 km", "27 km" in the visitor's language."""
    if km < 1:
        return request.translate(_("${distance} m", mapping={
            "distance": format_decimal(round(km * 100) * 10, locale=request.locale_name)}))
    pattern = "#,##0.0" if km < 10 else "#,##0"
    return request.translate(_("${distance} km", mapping={
        "distance": format_decimal(km, format=pattern, locale=request.locale_name)}))


def location_query(point):
    """The ``?lat=&lon=`` that carries the visitor's location to a page."""
    if point is None:
        return {}
    return {"lat": f"{point[0]:.{LINK_DECIMALS}f}", "lon": f"{point[1]:.{LINK_DECIMALS}f}"}


def visitor_point(request):
    """``(lat, lon)`` from ``?lat=&lon=``, ``None`` when absent; bad values
    are a 400 naming the field."""
    clean, errors = parse_form(request.GET, {"lat": optional(latitude),
                                             "lon": optional(longitude)})
    if errors:
        field, message = next(iter(errors.items()))
        raise ValidationError(message, field=field)
    if (clean["lat"] is None) != (clean["lon"] is None):
        raise ValidationError(_("is required with the other coordinate"),
                              field="lon" if clean["lat"] is not None else "lat")
    return None if clean["lat"] is None else (clean["lat"], clean["lon"])


def venue_distance_text(request, venue, point):
    """The distance from the visitor to ``venue`` as text, or ``None``."""
    if point is None or venue.latitude is None or venue.longitude is None:
        return None
    return distance_text(request, distance_km(point[0], point[1], venue.latitude,
                                              venue.longitude))


def find_alternatives(request, resource, start, seats):
    """The alternatives to a taken slot. A flush that failed (PostgreSQL's
    exclusion constraint) leaves the request's session waiting for a
    rollback; the request's work is lost anyway (a 409, a doomed
    transaction), so roll it back and read on, and the page can too."""
    dbsession = request.dbsession
    if not dbsession.is_active:
        dbsession.rollback()
    return AlternativesFinder(dbsession, request.now).find(resource, start, seats)


@view_config(context=NearContext, renderer="public/near.jinja2", permission=Permission.VIEW,
             request_method="GET")
def near(context, request):
    submitted = any(request.GET.get(key) for key in ("address", "latitude", "longitude"))
    values = {key: request.GET.get(key, "") for key in ("address", "latitude", "longitude")}
    values["radius"] = request.GET.get("radius", str(discovery.DEFAULT_RADIUS_KM))
    page = {"values": values, "errors": {}, "results": None,
            "address_search": address_search_available(request),
            "max_radius": discovery.MAX_RADIUS_KM}
    if not submitted:
        if "radius" in request.GET:  # the form was sent empty
            page["errors"] = {"address": _("type an address, or give coordinates or use "
                                           "your location")}
            request.response.status_int = 400
        return page
    clean, errors, status = where(request, request.GET)
    if errors:
        page["errors"] = errors
        request.response.status_int = status
        return page
    found = discovery.search(request.dbsession, request.now, clean["latitude"],
                             clean["longitude"], clean["radius"], clean["page"])
    point = (clean["latitude"], clean["longitude"])
    page.update(results=found, point=point,
                radius_text=format_decimal(clean["radius"], format="#,##0.#",
                                           locale=request.locale_name),
                location=location_query(point),
                distances={item.venue.id: distance_text(request, item.distance_km)
                           for item in found.venues})
    return page


def map_links(venue, point=None):
    """Links to the venue on openstreetmap.org: ``{"map", "directions"}``
    (directions from the visitor's point when known), or ``None`` when the
    venue has no coordinates."""
    if venue.latitude is None or venue.longitude is None:
        return None
    lat, lon = f"{venue.latitude:.6f}", f"{venue.longitude:.6f}"
    directions = {"to": f"{lat},{lon}"}
    if point is not None:
        directions = {"from": f"{point[0]:.{LINK_DECIMALS}f},{point[1]:.{LINK_DECIMALS}f}",
                      **directions}
    return {
        "map": f"{OSM}/?{urlencode({'mlat': lat, 'mlon': lon})}#map=17/{lat}/{lon}",
        "directions": f"{OSM}/directions?{urlencode(directions)}",
    }

"""``/near``: venues near an address or the visitor's own location.

A GET form (nothing is written but the geocoder's cache): an address,
geocoded through the geocoder and the database cache, or
coordinates — typed, or filled by ``static/js/near.js`` from the browser's
location — and a radius. Coordinates win when both are given. The results
link to each venue's page with ``?lat=&lon=`` (rounded to about 10 m), which
is how the venue and resource pages know the distance from the visitor:
the location is never stored, not even in a cookie.
"""

from urllib.parse import urlencode

from babel.numbers import format_decimal
from pyramid.view import view_config

from ..i18n import _
from ..resources import NearContext
from ..security import Permission
from ..services import discovery
from ..services.discovery import DiscoveryService
from ..services.errors import ValidationError
from ..services.geocoding import distance_km
from .forms import optional, parse_form
from .near_search import address_search_available, latitude, longitude, where

OSM = "https://www.openstreetmap.org"
#: Coordinates carried in links are rounded to this many decimals (~10 m).
LINK_DECIMALS = 4


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
    found = request.find_service(DiscoveryService).search(
        clean["latitude"], clean["longitude"], clean["radius"], clean["page"])
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

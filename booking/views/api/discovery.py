"""Discovery in the JSON API (additive to the contract of DESIGN.md):

- ``GET /api/v1/near?lat=&lon=&radius=&page=`` (or ``address=`` instead of
  the coordinates, when the site has a geocoder) → ``{"latitude",
  "longitude", "radius_km", "total", "page", "pages", "venues": [{"id",
  "name", "address", "latitude", "longitude", "time_zone", "distance_km",
  "tenant": {"slug", "name"}, "next_free": {"resource_id", "start", "end",
  "seats_left"} | null}]}``, nearest first, 20 a page; ``radius`` in km,
  1 to 100, default 10.
- ``GET /api/v1/t/{slug}/venues/{v}/resources/{r}/alternatives?start=&seats=``
  → ``{"same_resource": [...], "same_venue": [...], "other_venues": [...]}``,
  each item ``{"resource_id", "venue_id", "start", "end", "seats_left"}``
  plus ``"distance_km"`` (``null`` when a venue is not located) in
  ``other_venues``.
"""

from pyramid.view import view_config

from ...i18n import _
from ...resources import NearContext, ResourceContext
from ...security import Permission
from ...services.alternatives import AlternativesFinder
from ...services.discovery import (AddressSearchUnavailable, DiscoveryService,
                                   TooManyAddressSearches)
from ...services.errors import ValidationError
from ...services.slots import venue_zone
from ..forms import Field, instant, integer, optional, query
from ..near_search import where

NEAR_PARAMS = ("lat", "lon", "radius", "page", "address")


ERRORS_BY_STATUS = {503: AddressSearchUnavailable, 429: TooManyAddressSearches}


def nearby_json(item):
    venue = item.venue
    zone = venue_zone(venue)
    next_free = None
    if item.next_free is not None:
        slot = item.next_free.slot
        next_free = {"resource_id": item.next_free.resource.id,
                     "start": slot.start.astimezone(zone).isoformat(),
                     "end": slot.end.astimezone(zone).isoformat(),
                     "seats_left": slot.seats_left}
    return {
        "id": venue.id, "name": venue.name, "address": venue.address,
        "latitude": venue.latitude, "longitude": venue.longitude, "time_zone": zone.key,
        "distance_km": round(item.distance_km, 3),
        "tenant": {"slug": venue.tenant.slug, "name": venue.tenant.name},
        "next_free": next_free,
    }


@view_config(context=NearContext, route_name="api", renderer="json", request_method="GET",
             permission=Permission.VIEW)
def near(context, request):
    params = request.GET
    for key in params:
        if key not in NEAR_PARAMS:
            raise ValidationError(
                _("is not a field of this request (expected: ${fields})",
                  mapping={"fields": ", ".join(sorted(NEAR_PARAMS))}), field=key)
        if len(params.getall(key)) > 1:
            raise ValidationError(_("is given more than once"), field=key)
    clean, errors, status = where(request, params, names=("lat", "lon"))
    if errors:
        field, message = next(iter(errors.items()))
        raise ERRORS_BY_STATUS.get(status, ValidationError)(message, field=field)
    found = request.find_service(DiscoveryService).search(
        clean["latitude"], clean["longitude"], clean["radius"], clean["page"])
    return {
        "latitude": clean["latitude"], "longitude": clean["longitude"],
        "radius_km": clean["radius"], "total": found.total, "page": found.page,
        "pages": found.pages, "venues": [nearby_json(item) for item in found.venues],
    }


def alternatives_json(alternatives):
    def item(alternative, with_distance=False):
        zone = venue_zone(alternative.resource.venue)
        data = {
            "resource_id": alternative.resource.id,
            "venue_id": alternative.resource.venue_id,
            "start": alternative.start.astimezone(zone).isoformat(),
            "end": alternative.end.astimezone(zone).isoformat(),
            "seats_left": alternative.seats_left,
        }
        if with_distance:
            distance = alternative.distance_km
            data["distance_km"] = None if distance is None else round(distance, 3)
        return data

    return {
        "same_resource": [item(a) for a in alternatives.same_resource],
        "same_venue": [item(a) for a in alternatives.same_venue],
        "other_venues": [item(a, with_distance=True) for a in alternatives.other_venues],
    }


@view_config(context=ResourceContext, name="alternatives", route_name="api", renderer="json",
             request_method="GET", permission=Permission.VIEW)
def alternatives(context, request):
    params = query(request, {
        "start": Field(instant),
        "seats": optional(integer(1, 10_000, from_text=True), default=1),
    })
    found = request.find_service(AlternativesFinder).find(context.resource, params["start"],
                                                          params["seats"])
    return alternatives_json(found)

"""Addresses to coordinates, through the database cache, and the geometry
of "near me".

- :func:`locate` ``(dbsession_factory, geocoder, query, now, max_age)`` →
  :class:`~booking.adapters.maps.Place` or ``None``; raises
  :class:`~booking.adapters.maps.GeocoderUnavailable`. It works in short
  transactions of its own (the cache is shared by every request and
  outlives them), so it takes the session *factory*, not a session. On
  SQLite, call it with no write transaction open in the same thread (from a
  GET, the worker, or after commit). For a visitor's search:
  ``DiscoveryService.locate``.
- ``request.find_service(Geocoder)``: the geocoder of ``booking.maps``
  (one attempt, no retries: a person is waiting; the worker asks for the
  one named ``BACKGROUND``, which retries). See :mod:`booking.adapters.maps`.
- :func:`locate_venue` / :func:`locate_pending_venues`: the venue side, for
  the staff pages (after commit) and the worker.
- :func:`distance_km`, :func:`bounding_box`, :func:`bounding_boxes`.
"""

import math
from datetime import timedelta

from sqlalchemy import select

from ..adapters.maps import GeocoderUnavailable, Place
from ..models import GeocodeResult, Venue, insert_for, write_session

EARTH_RADIUS_KM = 6371.0088
DEFAULT_MAX_AGE = timedelta(days=30)
RETRY_FIRST = timedelta(minutes=5)
RETRY_MAX = timedelta(days=1)
LOCATABLE = ("pending", "not_located")


def normalize_query(query):
    """One cache key per address however it is typed: case and runs of
    whitespace do not matter."""
    return " ".join(query.split()).casefold()[:500]


def cached_place(dbsession, query, now, max_age):
    """``(hit, place)``: whether a fresh answer is cached, and that answer."""
    row = dbsession.scalars(select(GeocodeResult).where(GeocodeResult.query == query)).first()
    if row is None or row.fetched_at < now - max_age:
        return False, None
    if not row.found:
        return True, None
    return True, Place(row.latitude, row.longitude, row.display_name)


def store_place(dbsession, query, place, now):
    values = {
        "found": place is not None,
        "latitude": place.latitude if place else None,
        "longitude": place.longitude if place else None,
        "display_name": place.display_name if place else "",
        "fetched_at": now,
    }
    dbsession.execute(insert_for(dbsession, GeocodeResult).values(query=query, **values)
                      .on_conflict_do_update(index_elements=["query"], set_=values))


def locate(dbsession_factory, geocoder, query, now, max_age=DEFAULT_MAX_AGE):
    """The place ``query`` names: a fresh cached answer (a cached "not
    found" included), else the geocoder's, which is then cached."""
    query = normalize_query(query)
    if not query:
        return None
    if geocoder.offline:
        return geocoder.geocode(query)
    with dbsession_factory() as session:
        hit, place = cached_place(session, query, now, max_age)
    if hit:
        return place
    place = geocoder.geocode(query)
    with write_session(dbsession_factory) as session:
        store_place(session, query, place, now)
    return place


def cache_age(settings):
    return timedelta(days=settings.get("booking.maps.cache_days", DEFAULT_MAX_AGE.days))


def set_typed_location(venue, latitude, longitude, now):
    """Coordinates typed by staff: kept as they are, never geocoded."""
    venue.latitude, venue.longitude = latitude, longitude
    venue.location_status = "manual"
    venue.located_at = now
    venue.locate_attempts, venue.locate_after = 0, None


def clear_location(venue):
    """Forget the coordinates (the address changed): the geocoder is asked
    again; without an address there is nothing to ask."""
    venue.latitude = venue.longitude = venue.located_at = None
    venue.location_status = "pending" if venue.address.strip() else "not_located"
    venue.locate_attempts, venue.locate_after = 0, None


def retry_delay(attempts):
    """5 minutes after the first failure, doubling, at most a day."""
    return min(RETRY_FIRST * 2 ** max(attempts - 1, 0), RETRY_MAX)


def record_outcome(venue, place, now):
    """Apply the geocoder's answer (a place, or ``None`` when it found
    nothing or could not answer) to a venue the staff did not place."""
    if place is not None:
        venue.latitude, venue.longitude = place.latitude, place.longitude
        venue.location_status = "located"
        venue.located_at = now
        venue.locate_attempts, venue.locate_after = 0, None
        return
    venue.latitude = venue.longitude = venue.located_at = None
    venue.location_status = "not_located"
    venue.locate_attempts += 1
    venue.locate_after = now + retry_delay(venue.locate_attempts)


def locate_venue(dbsession_factory, venue_id, geocoder, now, max_age=DEFAULT_MAX_AGE):
    """Geocode one venue's address and record the outcome: ``"located"``,
    ``"not_found"``, ``"unavailable"`` or ``"skipped"`` (typed coordinates,
    no address, or the address changed meanwhile). No transaction is open
    during the geocoder's call."""
    with dbsession_factory() as session:
        venue = session.get(Venue, venue_id)
        if venue is None or venue.location_status not in LOCATABLE or not venue.address.strip():
            return "skipped"
        address = venue.address
    try:
        place = locate(dbsession_factory, geocoder, address, now, max_age)
        outcome = "located" if place else "not_found"
    except GeocoderUnavailable:
        place, outcome = None, "unavailable"
    with write_session(dbsession_factory) as session:
        venue = session.get(Venue, venue_id)
        if venue is None or venue.location_status not in LOCATABLE or venue.address != address:
            return "skipped"
        record_outcome(venue, place, now)
    return outcome


def locate_pending_venues(dbsession_factory, geocoder, now, limit=20,
                          max_age=DEFAULT_MAX_AGE):
    """One worker pass: geocode up to ``limit`` venues waiting for it (new
    ones first, failed ones once their ``locate_after`` has passed). Stops
    early when the provider is unavailable. Returns ``(located, failed)``."""
    with dbsession_factory() as session:
        venue_ids = session.scalars(
            select(Venue.id)
            .where(Venue.location_status.in_(LOCATABLE), Venue.address != "",
                   (Venue.locate_after.is_(None)) | (Venue.locate_after <= now))
            .order_by(Venue.locate_attempts, Venue.id)
            .limit(limit)
        ).all()
    located = failed = 0
    for venue_id in venue_ids:
        outcome = locate_venue(dbsession_factory, venue_id, geocoder, now, max_age)
        located += outcome == "located"
        failed += outcome in ("not_found", "unavailable")
        if outcome == "unavailable":
            break
    return located, failed


def distance_km(lat1, lon1, lat2, lon2):
    """Great-circle distance (haversine) in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat, lon, radius_km):
    """``(min_lat, max_lat, min_lon, max_lon)`` holding every point within
    ``radius_km`` of the centre. A circle around a pole gets every
    longitude; across the antimeridian the box wraps and ``min_lon >
    max_lon`` (:func:`bounding_boxes` splits it for SQL)."""
    angle = radius_km / EARTH_RADIUS_KM
    min_lat, max_lat = lat - math.degrees(angle), lat + math.degrees(angle)
    if min_lat <= -90 or max_lat >= 90 or angle >= math.pi / 2:
        return max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0
    ratio = math.sin(angle) / math.cos(math.radians(lat))
    if ratio >= 1:
        return min_lat, max_lat, -180.0, 180.0
    dlon = math.degrees(math.asin(ratio))
    min_lon, max_lon = lon - dlon, lon + dlon
    if min_lon < -180:
        min_lon += 360
    if max_lon > 180:
        max_lon -= 360
    return min_lat, max_lat, min_lon, max_lon


def bounding_boxes(lat, lon, radius_km):
    """:func:`bounding_box` as one or two boxes that never wrap, each
    ``(min_lat, max_lat, min_lon, max_lon)``: OR them in a query."""
    min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, radius_km)
    if min_lon <= max_lon:
        return [(min_lat, max_lat, min_lon, max_lon)]
    return [(min_lat, max_lat, min_lon, 180.0), (min_lat, max_lat, -180.0, max_lon)]

"""Geocoding: the :class:`Geocoder` interface, the :class:`Place` it finds
and :func:`geocoder_from_settings`, which picks the implementation named by
``booking.maps``: ``offline`` (the embedded default: no network, finds
nothing, so only coordinates typed by staff place a venue) or ``nominatim``
(a Nominatim-compatible ``/search`` API, rate-limited across processes).

:func:`includeme` registers it with ``pyramid_services`` under
:class:`Geocoder`, twice: ``find_service(Geocoder)`` makes one attempt (a
person is waiting), ``find_service(Geocoder, name=BACKGROUND)`` retries
(the worker: nobody waits).

Callers go through :func:`booking.services.geocoding.locate`, which adds the
database cache; a geocoder itself never caches.
"""

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass


#: The name of the geocoder for work nobody waits for: bounded retries.
BACKGROUND = "background"


class GeocoderUnavailable(Exception):
    """The provider could not answer: timeout, connection error, 5xx,
    refusal, or an answer that is not a place. Worth trying again later."""


@dataclass(frozen=True)
class Place:
    latitude: float
    longitude: float
    display_name: str = ""

    def __post_init__(self):
        if not valid_coordinates(self.latitude, self.longitude):
            raise ValueError(f"coordinates out of range: {self.latitude}, {self.longitude}")


def valid_coordinates(latitude, longitude):
    return (isinstance(latitude, float) and isinstance(longitude, float)
            and math.isfinite(latitude) and math.isfinite(longitude)
            and -90 <= latitude <= 90 and -180 <= longitude <= 180)


class Geocoder(ABC):
    """Turns an address into a :class:`Place`. Implementations are shared by
    all threads of a process, so they must be thread-safe."""

    #: True for a geocoder that never asks anyone (answers are not cached).
    offline = False

    @abstractmethod
    def geocode(self, query):
        """The place ``query`` names, ``None`` when the provider knows no
        such place; raise :class:`GeocoderUnavailable` when it cannot tell."""


def geocoder_from_settings(settings, dbsession_factory=None, retries=2):
    """The geocoder ``booking.maps`` names. ``nominatim`` rate-limits through
    the ``provider_slots`` table, so it needs ``dbsession_factory`` (built
    from ``sqlalchemy.url`` when omitted, as a script may do); ``retries``
    bounds the attempts after a transient failure (keep it low where a
    person waits)."""
    if settings.get("booking.maps", "offline") == "offline":
        from .offline import OfflineGeocoder

        return OfflineGeocoder()

    from .nominatim import NominatimGeocoder, ProviderSlotGate

    if dbsession_factory is None:
        from ...models import get_engine, get_session_factory

        dbsession_factory = get_session_factory(get_engine(settings))
    gate = ProviderSlotGate(dbsession_factory, "nominatim")
    return NominatimGeocoder(
        settings["booking.maps.url"],
        user_agent=settings["booking.maps.user_agent"],
        timeout=settings.get("booking.maps.timeout", 5.0),
        gate=gate,
        retries=retries,
    )


def includeme(config):
    """The geocoders of ``booking.maps``, shared by every thread. After
    ``booking.models``: ``nominatim`` rate-limits through the database."""
    config.include("booking.services.lookup")  # pyramid_services
    settings, dbsession_factory = config.get_settings(), config.registry["dbsession_factory"]
    config.register_service(geocoder_from_settings(settings, dbsession_factory, retries=0),
                            Geocoder)
    config.register_service(geocoder_from_settings(settings, dbsession_factory, retries=2),
                            Geocoder, name=BACKGROUND)

"""A Nominatim-compatible geocoder (``GET {url}/search?q=…&format=jsonv2``).

Nominatim's usage policy asks for an identifying User-Agent and at most one
request per second. The limit holds across every thread and process of the
app because each request first reserves its instant in the
``provider_slots`` row of the provider, under that row's lock.
"""

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import select

from ...models import ProviderSlot, insert_for, write_session
from . import Geocoder, GeocoderUnavailable, Place, valid_coordinates

log = logging.getLogger(__name__)



class ProviderSlotGate:
    """Spaces the requests to one provider by ``interval`` seconds.

    :meth:`acquire` reserves the next free instant in a short transaction of
    its own (``SELECT … FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on
    SQLite), commits, then sleeps until that instant: the row lock is held
    for milliseconds, never across a sleep or an HTTP call. A small margin
    absorbs the scheduling jitter between the reserved instant and the send.
    Instants are real time, not the app's clock: the limit is the provider's.
    On SQLite, call it with no write transaction open in the same thread.
    """

    margin = 0.05

    def __init__(self, dbsession_factory, name, interval=1.0, max_wait=10.0):
        self.dbsession_factory = dbsession_factory
        self.name = name
        self.interval = timedelta(seconds=interval + self.margin)
        self.max_wait = max_wait

    def reserve(self):
        """Record the instant of the next request; return the seconds to
        wait for it. Raise :class:`GeocoderUnavailable` if the queue is
        longer than ``max_wait``."""
        with write_session(self.dbsession_factory) as session:
            session.execute(insert_for(session, ProviderSlot)
                            .values(name=self.name, last_request_at=None)
                            .on_conflict_do_nothing(index_elements=["name"]))
            slot = session.execute(select(ProviderSlot).where(ProviderSlot.name == self.name)
                                   .with_for_update()).scalar_one()
            now = datetime.now(UTC)
            start = now if slot.last_request_at is None else max(
                now, slot.last_request_at + self.interval)
            wait = (start - now).total_seconds()
            if wait > self.max_wait:
                raise GeocoderUnavailable(f"{self.name}: more than {self.max_wait:.0f} s of queue")
            slot.last_request_at = start
        return wait

    def acquire(self):
        wait = self.reserve()
        if wait > 0:
            time.sleep(wait)


class NominatimGeocoder(Geocoder):
    """Thread-safe: each thread keeps its own ``requests.Session``."""

    backoff = 0.5

    def __init__(self, url, user_agent, timeout, gate, retries=2):
        self.url = url.rstrip("/") + "/search"
        self.user_agent = user_agent
        self.timeout = timeout
        self.gate = gate
        self.retries = retries
        self._local = threading.local()

    @property
    def http(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.update({"User-Agent": self.user_agent,
                                    "Accept": "application/json"})
            self._local.session = session
        return session

    def geocode(self, query):
        params = {"q": query, "format": "jsonv2", "limit": "1"}
        error = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            self.gate.acquire()
            try:
                response = self.http.get(self.url, params=params, timeout=self.timeout)
            except requests.RequestException as exc:
                error = f"{type(exc).__name__}: {exc}"
                log.warning("nominatim attempt %d failed: %s", attempt + 1, error)
                continue
            if response.status_code >= 500:
                error = f"HTTP {response.status_code}"
                log.warning("nominatim attempt %d failed: %s", attempt + 1, error)
                continue
            if response.status_code != 200:
                raise GeocoderUnavailable(f"nominatim refused the query: HTTP "
                                          f"{response.status_code}")
            return parse_answer(response)
        raise GeocoderUnavailable(f"nominatim unavailable after {self.retries + 1} "
                                  f"attempt(s): {error}")


def parse_answer(response):
    """The first place of a ``jsonv2`` answer; ``None`` for ``[]``."""
    try:
        places = response.json()
    except ValueError:
        raise GeocoderUnavailable("nominatim answered something that is not JSON") from None
    if not isinstance(places, list):
        raise GeocoderUnavailable("nominatim answered JSON that is not a list of places")
    if not places:
        return None
    first = places[0]
    try:
        latitude, longitude = float(first["lat"]), float(first["lon"])
    except (TypeError, KeyError, ValueError):
        raise GeocoderUnavailable("nominatim answered a place without coordinates") from None
    if not valid_coordinates(latitude, longitude):
        raise GeocoderUnavailable(f"nominatim answered coordinates out of range: "
                                  f"{latitude}, {longitude}")
    name = first.get("display_name")
    return Place(latitude, longitude, name[:500] if isinstance(name, str) else "")

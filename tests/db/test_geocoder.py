"""The Nominatim adapter against a local Nominatim-shaped server, on both
databases: the User-Agent, the one-request-a-second limit across threads and
processes, timeouts, retries, garbage answers, the database cache and the
worker's retries of venues not located."""

import multiprocessing
import socket
import tempfile
import threading
import time
from datetime import timedelta

import pytest

from booking.adapters.maps import GeocoderUnavailable, Place, geocoder_from_settings
from booking.models import GeocodeResult, Venue
from booking.services.geocoding import locate, locate_pending_venues, locate_venue
from booking.settings import SettingsError, parse_settings

from .. import builders as b
from ..conftest import NOW
from ..fakes.nominatim import nominatim_server

USER_AGENT = "booking-tests/1.0 (tests@booking.test)"
#: Server-side arrival times may be this much closer than the limit (clock
#: reading and socket scheduling on a loaded machine).
TOLERANCE = 0.02
QUERIES = ["1 rue de Rivoli, Paris", "10 Downing Street, London",
           "Place Bellecour, Lyon", "Vieux-Port, Marseille"]


def make_settings(url, db_url, **extra):
    return parse_settings({"sqlalchemy.url": db_url, "booking.maps": "nominatim",
                           "booking.maps.url": url, "booking.maps.user_agent": USER_AGENT,
                           **extra})


def make_geocoder(db, url, retries=0, timeout=2):
    settings = make_settings(url, db.url, **{"booking.maps.timeout": str(timeout)})
    return geocoder_from_settings(settings, db.session_factory, retries=retries)


@pytest.fixture
def server():
    with nominatim_server() as (fake, url):
        yield fake, url


def gaps(times):
    return [later - earlier for earlier, later in zip(times, times[1:])]


def geocode_in_process(url, db_url, queries, barrier):
    """In a process of its own: its own engine, then the queries."""
    from booking.models import get_engine, get_session_factory

    settings = make_settings(url, db_url)
    factory = get_session_factory(get_engine(settings))
    geocoder = geocoder_from_settings(settings, factory, retries=0)
    barrier.wait(timeout=60)
    for query in queries:
        geocoder.geocode(query)


class TestNominatimAdapter:
    def test_user_agent_is_sent(self, db, server):
        fake, url = server
        make_geocoder(db, url).geocode("1 rue de Rivoli, Paris")
        assert [seen.user_agent for seen in fake.seen] == [USER_AGENT]

    def test_query_uses_jsonv2_and_one_result(self, db, server):
        fake, url = server
        make_geocoder(db, url).geocode("Place Bellecour, Lyon")
        assert fake.seen[0].params == {"q": "Place Bellecour, Lyon", "format": "jsonv2",
                                       "limit": "1"}

    def test_known_address_is_a_place(self, db, server):
        _fake, url = server
        place = make_geocoder(db, url).geocode("1 rue de Rivoli, Paris")
        assert place == Place(48.8556, 2.3601, "1, Rue de Rivoli, Paris, France")

    def test_unknown_address_is_none(self, db, server):
        _fake, url = server
        assert make_geocoder(db, url).geocode("Nowhere street 99") is None

    def test_requests_are_one_second_apart_across_threads(self, db, server):
        fake, url = server
        geocoder = make_geocoder(db, url)
        threads = [threading.Thread(target=lambda qs=qs: [geocoder.geocode(q) for q in qs])
                   for qs in (QUERIES[:2], QUERIES[2:])]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(seen.query for seen in fake.seen) == sorted(QUERIES)
        assert min(gaps(fake.times())) >= 1 - TOLERANCE

    def test_requests_are_one_second_apart_across_processes(self, db, server):
        fake, url = server
        context = multiprocessing.get_context("spawn")
        barrier = context.Barrier(2)
        processes = [context.Process(target=geocode_in_process, args=(url, db.url, qs, barrier))
                     for qs in (QUERIES[:2], QUERIES[2:])]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=60)
        assert [process.exitcode for process in processes] == [0, 0]
        assert sorted(seen.query for seen in fake.seen) == sorted(QUERIES)
        assert min(gaps(fake.times())) >= 1 - TOLERANCE

    def test_slow_server_is_unavailable_within_the_timeout(self, db, server):
        fake, url = server
        fake.script[:] = [("sleep", 5), ("sleep", 5)]
        geocoder = make_geocoder(db, url, retries=1, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(GeocoderUnavailable, match="ReadTimeout"):
            geocoder.geocode("1 rue de Rivoli, Paris")
        # two timeouts, the backoff and the rate limit between the attempts
        assert time.monotonic() - started < 2 * 0.5 + 0.5 + 1.05 + 1
        assert len(fake.seen) == 2

    def test_server_error_is_retried(self, db, server):
        fake, url = server
        fake.script[:] = [("status", 503)]
        place = make_geocoder(db, url, retries=2).geocode("Place Bellecour, Lyon")
        assert place.display_name == "Place Bellecour, Lyon, France"
        assert len(fake.seen) == 2

    def test_server_errors_beyond_the_retries_are_unavailable(self, db, server):
        fake, url = server
        fake.script[:] = [("status", 502), ("status", 500)]
        with pytest.raises(GeocoderUnavailable, match="HTTP 500"):
            make_geocoder(db, url, retries=1).geocode("Place Bellecour, Lyon")

    def test_refusal_is_not_retried(self, db, server):
        fake, url = server
        fake.script[:] = [("status", 403)]
        with pytest.raises(GeocoderUnavailable, match="HTTP 403"):
            make_geocoder(db, url, retries=2).geocode("Place Bellecour, Lyon")
        assert len(fake.seen) == 1

    def test_connection_refused_is_unavailable(self, db):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            url = f"http://127.0.0.1:{probe.getsockname()[1]}"
        with pytest.raises(GeocoderUnavailable, match="ConnectionError"):
            make_geocoder(db, url).geocode("Place Bellecour, Lyon")

    @pytest.mark.parametrize("answer", [
        ("body", b"<html>not json</html>"),
        ("json", {"error": "rate limited"}),
        ("json", [{"lat": "abc", "lon": "2.35"}]),
        ("json", [{"display_name": "no coordinates"}]),
        ("json", ["a string"]),
        ("json", [{"lat": "91.0", "lon": "2.35"}]),
        ("json", [{"lat": "48.85", "lon": "-180.5"}]),
        ("json", [{"lat": "nan", "lon": "2.35"}]),
    ], ids=["html", "object", "lat-text", "no-coordinates", "string", "lat-91", "lon-180.5",
            "nan"])
    def test_garbage_answer_is_unavailable(self, db, server, answer):
        fake, url = server
        fake.script[:] = [answer]
        with pytest.raises(GeocoderUnavailable):
            make_geocoder(db, url).geocode("1 rue de Rivoli, Paris")


class TestSettings:
    def test_nominatim_needs_a_user_agent(self):
        with pytest.raises(SettingsError, match="booking.maps.user_agent is required"):
            parse_settings({"sqlalchemy.url": "sqlite://", "booking.maps": "nominatim"})

    def test_offline_is_the_default(self):
        settings = parse_settings({"sqlalchemy.url": "sqlite://"})
        assert geocoder_from_settings(settings).offline

    def test_unknown_geocoder_is_refused(self):
        with pytest.raises(SettingsError, match="booking.maps must be one of"):
            parse_settings({"sqlalchemy.url": "sqlite://", "booking.maps": "google"})


class TestCache:
    def test_second_lookup_makes_no_request(self, db, server):
        fake, url = server
        geocoder = make_geocoder(db, url)
        first = locate(db.session_factory, geocoder, "1 rue de Rivoli, Paris", NOW)
        second = locate(db.session_factory, geocoder, "1 rue de Rivoli, Paris", NOW)
        assert first == second and first is not None
        assert len(fake.seen) == 1

    def test_case_and_whitespace_share_one_entry(self, db, server):
        fake, url = server
        geocoder = make_geocoder(db, url)
        locate(db.session_factory, geocoder, "1 rue de Rivoli, Paris", NOW)
        locate(db.session_factory, geocoder, "  1  RUE de rivoli,\nParis ", NOW)
        assert len(fake.seen) == 1

    def test_not_found_is_cached_too(self, db, server):
        fake, url = server
        geocoder = make_geocoder(db, url)
        assert locate(db.session_factory, geocoder, "Nowhere 99", NOW) is None
        assert locate(db.session_factory, geocoder, "Nowhere 99", NOW) is None
        assert len(fake.seen) == 1

    def test_stale_entry_is_refreshed(self, db, server):
        fake, url = server
        geocoder = make_geocoder(db, url)
        locate(db.session_factory, geocoder, "1 rue de Rivoli, Paris", NOW)
        later = NOW + timedelta(days=31)
        locate(db.session_factory, geocoder, "1 rue de Rivoli, Paris", later)
        assert len(fake.seen) == 2
        with db.session() as s:
            assert [row.fetched_at for row in s.query(GeocodeResult)] == [later]

    def test_failure_is_not_cached(self, db, server):
        fake, url = server
        fake.script[:] = [("status", 503)]
        geocoder = make_geocoder(db, url)
        with pytest.raises(GeocoderUnavailable):
            locate(db.session_factory, geocoder, "1 rue de Rivoli, Paris", NOW)
        assert locate(db.session_factory, geocoder, "1 rue de Rivoli, Paris", NOW)
        assert len(fake.seen) == 2

    def test_offline_geocoder_caches_nothing(self, db):
        offline = geocoder_from_settings({"booking.maps": "offline"})
        assert locate(db.session_factory, offline, "1 rue de Rivoli, Paris", NOW) is None
        with db.session() as s:
            assert s.query(GeocodeResult).count() == 0


def venue_row(db, **kw):
    with db.session() as s:
        tenant = b.tenant(s)
        return b.venue(s, tenant, **kw).id


def load(db, venue_id):
    with db.session() as s:
        venue = s.get(Venue, venue_id)
        s.expunge(venue)
        return venue


class TestVenues:
    def test_located_venue_gets_the_coordinates(self, db, server):
        _fake, url = server
        venue_id = venue_row(db, address="Grand-Place, Brussels")
        outcome = locate_venue(db.session_factory, venue_id, make_geocoder(db, url), NOW)
        venue = load(db, venue_id)
        assert (outcome, venue.location_status, venue.latitude, venue.longitude,
                venue.located_at) == ("located", "located", 50.8467, 4.3525, NOW)

    def test_unavailable_provider_leaves_the_venue_for_later(self, db, server):
        fake, url = server
        fake.script[:] = [("status", 503)]
        venue_id = venue_row(db, address="Grand-Place, Brussels")
        outcome = locate_venue(db.session_factory, venue_id, make_geocoder(db, url), NOW)
        venue = load(db, venue_id)
        assert (outcome, venue.location_status, venue.locate_attempts, venue.locate_after) == (
            "unavailable", "not_located", 1, NOW + timedelta(minutes=5))

    def test_typed_coordinates_are_never_geocoded(self, db, server):
        fake, url = server
        venue_id = venue_row(db, address="Grand-Place, Brussels", latitude=1.5, longitude=2.5,
                             location_status="manual")
        outcome = locate_venue(db.session_factory, venue_id, make_geocoder(db, url), NOW)
        assert outcome == "skipped" and fake.seen == []
        assert (load(db, venue_id).latitude, load(db, venue_id).longitude) == (1.5, 2.5)

    def test_worker_retries_once_locate_after_has_passed(self, db, server):
        fake, url = server
        geocoder = make_geocoder(db, url)
        venue_id = venue_row(db, address="Grand-Place, Brussels", location_status="not_located",
                             locate_attempts=1, locate_after=NOW + timedelta(minutes=5))
        assert locate_pending_venues(db.session_factory, geocoder, NOW) == (0, 0)
        assert fake.seen == []
        later = NOW + timedelta(minutes=6)
        assert locate_pending_venues(db.session_factory, geocoder, later) == (1, 0)
        assert load(db, venue_id).location_status == "located"

    def test_worker_backs_off_after_each_failure(self, db, server):
        fake, url = server
        venue_id = venue_row(db, address="Atlantis", location_status="not_located",
                             locate_attempts=2, locate_after=NOW)
        assert locate_pending_venues(db.session_factory, make_geocoder(db, url), NOW) == (0, 1)
        venue = load(db, venue_id)
        assert (venue.locate_attempts, venue.locate_after) == (3, NOW + timedelta(minutes=20))

    def test_worker_stops_its_pass_when_the_provider_is_down(self, db, server):
        fake, url = server
        fake.script[:] = [("status", 503)]
        for address in QUERIES[:3]:
            venue_row(db, address=address)
        assert locate_pending_venues(db.session_factory, make_geocoder(db, url), NOW) == (0, 1)
        assert len(fake.seen) == 1


def test_the_worker_pass_locates_waiting_venues(db, server, clock):
    """``booking-worker`` runs the geocoder's retries in its housekeeping."""
    from booking.services.delivery import Delivery, DeliveryPolicy

    from ..registry import service_registry

    fake, url = server
    venue_id = venue_row(db, address="1 rue de Rivoli, Paris", location_status="not_located",
                         locate_attempts=1, locate_after=NOW)
    with tempfile.TemporaryDirectory() as folder:
        registry = service_registry(db, clock, {
            "booking.maps": "nominatim", "booking.maps.url": url,
            "booking.maps.user_agent": USER_AGENT, "booking.maps.timeout": 2,
            "booking.mail.folder": folder, "booking.mail.sender": "b@club.test"})
        report = Delivery(registry, DeliveryPolicy()).run_pass()
    assert report.located_venues == 1
    assert load(db, venue_id).location_status == "located"

"""Venues near me: the search (distance order, radius, who is left out, the
next free slot), the /near page, its JSON twin, and the venue pages' map
links and distance."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
import webtest

from booking import main
from booking.models import Booking, Resource, Tenant, TenantStatus
from booking.services import AvailabilityService
from booking.services.discovery import search, venues_within

from .. import builders as b
from ..conftest import NOW, app_settings
from ..fakes.nominatim import nominatim_server

PARIS = (48.8566, 2.3522)
VERSAILLES = (48.8049, 2.1204)  # about 17.9 km from Paris
LYON = (45.7640, 4.8357)  # about 392 km
LONDON = (51.5074, -0.1278)  # about 344 km
NEW_YORK = (40.7128, -74.0060)  # about 5,837 km


def place(s, tenant, name, point, **kw):
    return b.venue(s, tenant, name=name, latitude=point[0], longitude=point[1],
                   location_status="manual", **kw)


@pytest.fixture
def cities(db):
    """One venue in each city, each with a court open 08:00-20:00."""
    with db.session() as s:
        tenant = b.tenant(s, slug="cities", name="Cities Club")
        ids = {}
        for name, point in [("Paris", PARIS), ("Lyon", LYON), ("London", LONDON),
                            ("New York", NEW_YORK), ("Versailles", VERSAILLES)]:
            venue = place(s, tenant, name, point)
            b.resource(s, venue, name=f"{name} court")
            ids[name] = venue.id
        return ids


def names(found):
    return [item.name for item in found]


@dataclass
class Found:
    name: str
    distance_km: float
    next_free: tuple | None  # (resource_id, slot)


def found_near(db, point, radius):
    with db.session() as s:
        return [
            Found(item.venue.name, item.distance_km,
                  item.next_free and (item.next_free.resource.id, item.next_free.slot))
            for item in search(s, NOW, point[0], point[1], radius).venues
        ]


def test_search_sorts_by_distance_from_known_coordinates(db, cities):
    found = found_near(db, PARIS, 1000)
    assert names(found) == ["Paris", "Versailles", "London", "Lyon"]
    distances = [item.distance_km for item in found]
    assert distances[0] == pytest.approx(0, abs=0.01)
    assert distances[1] == pytest.approx(17.9, abs=0.5)
    assert distances[2] == pytest.approx(343.5, abs=2)
    assert distances[3] == pytest.approx(391.5, abs=2)


def test_search_keeps_only_venues_within_the_radius(db, cities):
    assert names(found_near(db, PARIS, 10)) == ["Paris"]
    assert names(found_near(db, PARIS, 20)) == ["Paris", "Versailles"]


def test_search_from_new_york_finds_only_new_york(db, cities):
    assert names(found_near(db, NEW_YORK, 100)) == ["New York"]


def test_search_across_the_antimeridian(db):
    with db.session() as s:
        tenant = b.tenant(s)
        place(s, tenant, "East of the line", (-17.0, -179.95))
        place(s, tenant, "West of the line", (-17.0, 179.5))
        place(s, tenant, "Far away", (-17.0, 170.0))
    found = found_near(db, (-17.0, 179.9), 50)
    assert names(found) == ["East of the line", "West of the line"]
    assert found[0].distance_km == pytest.approx(15.9, abs=0.5)


def test_search_leaves_out_suspended_tenants(db, cities):
    with db.session() as s:
        closed = b.tenant(s, status=TenantStatus.SUSPENDED)
        place(s, closed, "Suspended Paris", PARIS)
    assert names(found_near(db, PARIS, 10)) == ["Paris"]


def test_search_leaves_out_venues_without_coordinates(db, cities):
    with db.session() as s:
        tenant = b.tenant(s)
        b.venue(s, tenant, name="Nowhere", address="1 rue de Rivoli, Paris")
    assert [vid for _, vid in venues_within_paris(db)] == [cities["Paris"]]


def venues_within_paris(db):
    with db.session() as s:
        return venues_within(s, PARIS[0], PARIS[1], 10)


def book(s, resource, start, status="confirmed"):
    end = start + timedelta(minutes=resource.slot_minutes)
    s.add(Booking(tenant_id=resource.tenant_id, reference=f"R{start:%d%H%M}{resource.id}",
                  resource_id=resource.id, customer_id=b.user(s).id, starts_at=start,
                  ends_at=end, block_start=start, block_end=end, seats=1, exclusive=True,
                  status=status, price=0, currency="EUR", created_at=NOW, updated_at=NOW))
    s.flush()


def paris_today(hour):
    """``hour`` o'clock in Paris on NOW's day (UTC+1 in March)."""
    return datetime(2026, 3, 2, hour - 1, tzinfo=UTC)


def test_next_free_slot_is_the_earliest_among_active_resources(db):
    with db.session() as s:
        tenant = b.tenant(s)
        venue = place(s, tenant, "Centre", PARIS)
        busy = b.resource(s, venue, name="Busy")
        for hour in (10, 11, 12):
            book(s, busy, paris_today(hour))
        b.resource(s, venue, name="Inactive", active=False)
        later = b.resource(s, venue, name="Later", hours=[(d, 12 * 60, 20 * 60) for d in range(7)])
        later_id = later.id
    found = found_near(db, PARIS, 5)
    resource_id, slot = found[0].next_free
    assert (resource_id, slot.start) == (later_id, paris_today(12))
    with db.session() as s:
        expected = AvailabilityService(s, NOW).free_slots(
            s.get(Resource, later_id), NOW.date(), NOW.date())[0]
    assert slot == expected


def test_next_free_slot_found_after_the_first_days(db):
    with db.session() as s:
        tenant = b.tenant(s)
        venue = place(s, tenant, "Centre", PARIS)
        b.resource(s, venue, name="Court")
        b.closure(s, venue, NOW - timedelta(days=1), paris_today(8) + timedelta(days=5))
    _, slot = found_near(db, PARIS, 5)[0].next_free
    assert slot.start == paris_today(8) + timedelta(days=5)


def test_next_free_slot_is_none_when_nothing_is_free_for_two_weeks(db):
    with db.session() as s:
        tenant = b.tenant(s)
        venue = place(s, tenant, "Centre", PARIS)
        b.resource(s, venue, name="Court")
        b.closure(s, venue, NOW - timedelta(days=1), NOW + timedelta(days=15))
    assert found_near(db, PARIS, 5)[0].next_free is None


# -- the page ---------------------------------------------------------------


def test_business_whose_owner_has_not_confirmed_is_not_listed(testapp, cities, db):
    with db.session() as s:
        s.scalar(select(Tenant).where(Tenant.slug == "cities")).verified = False
    page = testapp.get("/near", params={"latitude": "48.85", "longitude": "2.30",
                                        "radius": "25"})
    assert page.html.select("li.near-venue") == []


def test_near_page_lists_venues_nearest_first_with_distance_and_next_free(testapp, cities):
    page = testapp.get("/near", params={"latitude": "48.85", "longitude": "2.30",
                                        "radius": "25"})
    items = page.html.select("li.near-venue")
    assert [li.a.text for li in items] == ["Paris", "Versailles"]
    assert items[0].select_one(".distance").text.strip() == "3.9 km away"
    assert "lat=48.8500&lon=2.3000" in items[0].a["href"]
    assert "Paris court" in items[0].select_one(".next-free").text
    assert "Venues within 25 km: 2" in page.text


def test_near_page_formats_distance_in_french(testapp, cities):
    testapp.set_cookie("booking_locale", "fr")
    page = testapp.get("/near", params={"latitude": "48.85", "longitude": "2.30"})
    assert "3,9 km" in page.html.select_one("li.near-venue .distance").text


def test_near_page_without_a_geocoder_offers_coordinates(testapp, cities):
    page = testapp.get("/near")
    assert page.html.select_one("#address-unavailable") is not None
    assert page.html.select_one("input[name=latitude]") is not None
    assert page.html.select_one("input[name=address]") is None


def test_near_page_address_without_a_geocoder_is_a_400(testapp, cities):
    page = testapp.get("/near", params={"address": "1 rue de Rivoli, Paris"}, status=400)
    assert "address search is not available here" in page.html.select_one("#address-error").text


@pytest.mark.parametrize("params, field, message", [
    ({"latitude": "91", "longitude": "2"}, "latitude", "must be between -90 and 90"),
    ({"latitude": "48", "longitude": "east"}, "longitude", "must be a number"),
    ({"latitude": "48", "longitude": "nan"}, "longitude", "must be a number"),
    ({"latitude": "48"}, "longitude", "is required with the other coordinate"),
    ({"latitude": "48", "longitude": "2", "radius": "500"}, "radius",
     "must be between 1 and 100 km"),
    ({"radius": "10"}, "address", "type an address"),
])
def test_near_page_bad_input_is_a_400_naming_the_field(testapp, cities, params, field, message):
    page = testapp.get("/near", params=params, status=400)
    assert message in page.html.select_one(f"#{field}-error").text
    for name, value in params.items():
        if name != "address":
            assert page.html.select_one(f"input[name={name}]")["value"] == value


@pytest.fixture
def nominatim_app(db, clock):
    with nominatim_server() as (fake, url):
        app = main({}, **app_settings(db, **{
            "booking.maps": "nominatim", "booking.maps.url": url,
            "booking.maps.user_agent": "booking-tests/1.0 (tests@example.test)",
        }))
        yield fake, webtest.TestApp(app, extra_environ={"HTTP_HOST": "booking.test"})
        app.app.registry["dbsession_factory"].kw["bind"].dispose()


def test_near_page_finds_venues_around_a_typed_address(nominatim_app, cities):
    fake, testapp = nominatim_app
    page = testapp.get("/near", params={"address": "1 rue de Rivoli, Paris", "radius": "5"})
    assert [li.a.text for li in page.html.select("li.near-venue")] == ["Paris"]
    assert page.html.select_one("input[name=address]")["value"] == "1 rue de Rivoli, Paris"


def test_near_page_unknown_address_is_a_400(nominatim_app, cities):
    _, testapp = nominatim_app
    page = testapp.get("/near", params={"address": "Atlantis"}, status=400)
    assert "no place was found" in page.html.select_one("#address-error").text


def test_near_page_geocoder_down_is_a_503_with_a_message(nominatim_app, cities):
    fake, testapp = nominatim_app
    fake.script.append(("status", 503))
    page = testapp.get("/near", params={"address": "1 rue de Rivoli, Paris"}, status=503)
    assert "not answering right now" in page.html.select_one("#address-error").text


# -- the API ----------------------------------------------------------------


def test_api_near_answers_venues_nearest_first(testapp, cities):
    body = testapp.get("/api/v1/near", params={"lat": "48.85", "lon": "2.30",
                                               "radius": "25"}).json
    assert [v["name"] for v in body["venues"]] == ["Paris", "Versailles"]
    assert body["total"] == 2 and body["radius_km"] == 25
    paris = body["venues"][0]
    assert paris["distance_km"] == pytest.approx(3.9, abs=0.1)
    assert paris["tenant"] == {"slug": "cities", "name": "Cities Club"}
    assert paris["next_free"]["start"] == "2026-03-02T10:00:00+01:00"


@pytest.mark.parametrize("params, field", [
    ({"lat": "abc", "lon": "2"}, "lat"),
    ({"lat": "48", "lon": "181"}, "lon"),
    ({"lat": "48"}, "lon"),
    ({"lat": "48", "lon": "2", "radius": "101"}, "radius"),
    ({"lat": "48", "lon": "2", "radius": "0"}, "radius"),
    ({"lat": "48", "lon": "2", "latitude": "48"}, "latitude"),
    ({"address": "Paris"}, "address"),
])
def test_api_near_bad_input_is_a_400_naming_the_field(testapp, cities, params, field):
    error = testapp.get("/api/v1/near", params=params, status=400).json["error"]
    assert error["code"] == "invalid" and error["field"] == field


# -- venue and resource pages -------------------------------------------------


def test_venue_page_links_to_the_map_and_directions_with_attribution(testapp, cities):
    page = testapp.get(f"/t/cities/venues/{cities['Paris']}/")
    links = {a.text.strip(): a["href"] for a in page.html.select(".where a")}
    assert links["See it on the map"].startswith(
        "https://www.openstreetmap.org/?mlat=48.856600&mlon=2.352200")
    assert links["Directions"] == ("https://www.openstreetmap.org/directions"
                                   "?to=48.856600%2C2.352200")
    attribution = " ".join(page.html.select_one(".attribution").text.split())
    assert "© OpenStreetMap contributors" in attribution
    assert page.html.select_one(".where .distance") is None


def test_venue_page_shows_the_distance_from_a_shared_location(testapp, cities):
    page = testapp.get(f"/t/cities/venues/{cities['Versailles']}/",
                       params={"lat": "48.8566", "lon": "2.3522"})
    assert page.html.select_one(".where .distance").text == "18 km from you"
    directions = page.html.find("a", string="Directions")["href"]
    assert "from=48.8566%2C2.3522" in directions


def test_venue_page_without_coordinates_has_no_map_link(testapp, world):
    page = testapp.get(f"/t/{world.slug}/venues/{world.venue_id}/",
                       params={"lat": "48.8566", "lon": "2.3522"})
    assert page.html.find("a", string="Directions") is None
    assert "Court" in page.text


def test_venue_page_bad_coordinates_are_a_400(testapp, cities):
    testapp.get(f"/t/cities/venues/{cities['Paris']}/", params={"lat": "95", "lon": "2"},
                status=400)


def test_resource_page_shows_map_links_and_distance(testapp, cities, db):
    with db.session() as s:
        venue_id = cities["Lyon"]
        resource_id = s.query(Resource.id).filter_by(venue_id=venue_id).scalar()
    page = testapp.get(f"/t/cities/venues/{venue_id}/resources/{resource_id}/",
                       params={"lat": "48.8566", "lon": "2.3522"})
    assert page.html.select_one(".where .distance").text == "391 km from you"
    assert page.html.find("a", string="Directions") is not None


def test_address_searches_are_throttled_per_visitor(nominatim_app, cities):
    """Each new address may wait for the provider's one-per-second slot: a
    visitor gets a fair number of searches, then a clear 429."""
    _, testapp = nominatim_app
    for _n in range(30):
        testapp.get("/near", params={"address": "1 rue de Rivoli, Paris"})
    page = testapp.get("/near", params={"address": "1 rue de Rivoli, Paris"}, status=429)
    assert "too many address searches" in page.html.select_one("#address-error").text
    api = testapp.get("/api/v1/near", params={"address": "1 rue de Rivoli, Paris"}, status=429)
    assert api.json["error"]["field"] == "address"
    testapp.get("/near", params={"lat": "48.86", "lon": "2.35"})  # coordinates still work

"""Staff area: the tenant's venues — the list, create, edit — with their
location: geocoded at save through a local Nominatim-shaped server, typed
by staff, or left "not located" for the worker when the provider fails."""

import pytest
import webtest
from sqlalchemy import func, select

from booking import main
from booking.models import AuditLog, Venue

from ..conftest import app_settings
from ..fakes.nominatim import nominatim_server
from .site import form_by_action, sign_in


@pytest.fixture(scope="module")
def server():
    with nominatim_server() as (fake, url):
        yield fake, url


@pytest.fixture(scope="module")
def nominatim_apps():
    return {}


@pytest.fixture
def nominatim(db, clock, server, nominatim_apps):
    """``(testapp, fake)``: an app whose geocoder is the local server."""
    fake, url = server
    fake.seen.clear()
    fake.script.clear()
    if db.backend not in nominatim_apps:
        nominatim_apps[db.backend] = main({}, **app_settings(
            db, **{"booking.maps": "nominatim", "booking.maps.url": url,
                   "booking.maps.user_agent": "booking-tests/1.0 (tests@booking.test)",
                   "booking.maps.timeout": "2"}))
    return webtest.TestApp(nominatim_apps[db.backend],
                           extra_environ={"HTTP_HOST": "booking.test"}), fake


def venues_url(world, *parts):
    return f"/t/{world.slug}/manage/venues/" + "/".join(str(part) for part in parts)


def create(testapp, world, status=303, **values):
    form = form_by_action(testapp.get(venues_url(world, "new")), "/venues/new")
    for name, value in {"name": "Riverside", **values}.items():
        form[name] = value
    return form.submit(status=status)


def venue_named(world, name):
    with world.db.session() as s:
        venue = s.scalars(select(Venue).where(Venue.name == name)).one()
        s.expunge(venue)
        return venue


def count(world, model):
    with world.db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


class TestCreate:
    def test_address_is_located_at_save(self, nominatim, world):
        testapp, fake = nominatim
        sign_in(testapp, world.emails["manager"])
        page = create(testapp, world, address="Grand-Place, Brussels").follow()
        venue = venue_named(world, "Riverside")
        assert (venue.location_status, venue.latitude, venue.longitude) == (
            "located", 50.8467, 4.3525)
        assert "Location: Located" in page.text
        assert [seen.query for seen in fake.seen] == ["grand-place, brussels"]

    def test_edit_page_links_to_openstreetmap(self, nominatim, world):
        testapp, _fake = nominatim
        sign_in(testapp, world.emails["owner"])
        page = create(testapp, world, address="Grand-Place, Brussels").follow()
        link = page.html.select_one('a[href^="https://www.openstreetmap.org/?"]')
        assert link["href"] == ("https://www.openstreetmap.org/?mlat=50.846700&mlon=4.352500"
                                "#map=17/50.846700/4.352500")
        assert "© OpenStreetMap contributors" in page.text

    def test_provider_down_saves_the_venue_not_located(self, nominatim, world):
        testapp, fake = nominatim
        fake.script[:] = [("status", 503)]
        sign_in(testapp, world.emails["manager"])
        page = create(testapp, world, address="Grand-Place, Brussels").follow()
        venue = venue_named(world, "Riverside")
        assert (venue.location_status, venue.latitude, venue.locate_attempts) == (
            "not_located", None, 1)
        assert "The worker will try again later; you can also type the coordinates." in page.text

    def test_unknown_address_saves_the_venue_not_located(self, nominatim, world):
        testapp, _fake = nominatim
        sign_in(testapp, world.emails["manager"])
        create(testapp, world, address="42 Nowhere Lane, Atlantis")
        assert venue_named(world, "Riverside").location_status == "not_located"

    def test_typed_coordinates_are_kept_and_never_geocoded(self, nominatim, world):
        testapp, fake = nominatim
        sign_in(testapp, world.emails["manager"])
        create(testapp, world, address="Grand-Place, Brussels", latitude="50,85",
               longitude="4.35")
        venue = venue_named(world, "Riverside")
        assert (venue.location_status, venue.latitude, venue.longitude) == ("manual", 50.85, 4.35)
        assert fake.seen == []

    def test_offline_geocoder_says_to_type_coordinates(self, testapp, world):
        sign_in(testapp, world.emails["manager"])
        page = create(testapp, world, address="Grand-Place, Brussels").follow()
        assert venue_named(world, "Riverside").location_status == "not_located"
        assert "no geocoding service is configured here" in page.text

    def test_new_venue_has_no_opening_hours_and_says_so(self, testapp, world):
        sign_in(testapp, world.emails["manager"])
        page = create(testapp, world).follow()
        assert "It has no opening hours yet" in page.text
        venue = venue_named(world, "Riverside")
        assert page.html.find("a", string="Set the opening hours")["href"].endswith(
            f"/venues/{venue.id}/hours")

    def test_own_time_zone_is_kept(self, testapp, world):
        sign_in(testapp, world.emails["manager"])
        create(testapp, world, time_zone="America/Montreal")
        assert venue_named(world, "Riverside").time_zone == "America/Montreal"

    def test_creation_is_audited(self, testapp, world):
        sign_in(testapp, world.emails["owner"])
        create(testapp, world, latitude="1.5", longitude="2.5")
        with world.db.session() as s:
            row = s.scalars(select(AuditLog).where(AuditLog.action == "venue.created")).one()
            assert (row.target_type, row.details["location_status"], row.actor_id) == (
                "venue", "manual", world.user_ids["owner"])


class TestBadInput:
    @pytest.mark.parametrize("values,field,message", [
        ({"latitude": "91", "longitude": "2"}, "latitude", "must be between -90 and 90"),
        ({"latitude": "45", "longitude": "-180.5"}, "longitude",
         "must be between -180 and 180"),
        ({"latitude": "45", "longitude": "abc"}, "longitude",
         "must be a number in decimal degrees, e.g. 2.3522"),
        ({"latitude": "nan", "longitude": "2"}, "latitude", "must be between -90 and 90"),
        ({"latitude": "45"}, "longitude", "is required with a latitude"),
        ({"longitude": "2"}, "latitude", "is required with a longitude"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "is not a known IANA time zone"),
        ({"name": "  "}, "name", "is required"),
        ({"name": "River\nBcc: x@example.test"}, "name", "must be one line"),
        ({"name": "River\x07side"}, "name", "must be one line"),
    ], ids=["lat-91", "lon-180.5", "lon-abc", "lat-nan", "only-lat", "only-lon", "zone",
            "no-name", "name-lf", "name-bell"])
    def test_is_refused_with_the_field_message(self, testapp, world, values, field, message):
        sign_in(testapp, world.emails["manager"])
        venues_before = count(world, Venue)
        page = create(testapp, world, status=400, address="Somewhere", **values)
        assert message in page.html.select_one(f"#{field}-error").text
        assert page.forms and page.html.select_one("#address").text == "Somewhere"
        assert (count(world, Venue), count(world, AuditLog)) == (venues_before, 0)

    def test_address_with_a_control_character_is_refused(self, testapp, world):
        sign_in(testapp, world.emails["manager"])
        venues_before = count(world, Venue)
        page = create(testapp, world, status=400, address="Rue Haute 1\x07, Brussels")
        assert "must be one line" in page.html.select_one("#address-error").text
        assert (count(world, Venue), count(world, AuditLog)) == (venues_before, 0)

    def test_address_lines_typed_in_the_text_area_are_joined(self, testapp, world):
        sign_in(testapp, world.emails["manager"])
        create(testapp, world, address="Rue Haute 1\r\n1000 Brussels\tBelgium")
        assert venue_named(world, "Riverside").address == "Rue Haute 1 1000 Brussels Belgium"

    def test_bad_edit_changes_nothing(self, testapp, world):
        sign_in(testapp, world.emails["manager"])
        form = form_by_action(testapp.get(venues_url(world, world.venue_id, "edit")), "/edit")
        form["name"], form["latitude"] = "Renamed", "200"
        form.submit(status=400)
        assert venue_named(world, "Centre").name == "Centre"

    @pytest.mark.parametrize("name", ["Centre\nBcc: x@example.test", "Centre\x07"],
                             ids=["lf", "bell"])
    def test_edit_to_a_name_of_more_than_one_line_changes_nothing(self, testapp, world, name):
        sign_in(testapp, world.emails["manager"])
        form = form_by_action(testapp.get(venues_url(world, world.venue_id, "edit")), "/edit")
        form["name"] = name
        page = form.submit(status=400)
        assert "must be one line" in page.html.select_one("#name-error").text
        assert venue_named(world, "Centre").name == "Centre"
        assert count(world, AuditLog) == 0


class TestEdit:
    def edit(self, testapp, world, venue_id, **values):
        form = form_by_action(testapp.get(venues_url(world, venue_id, "edit")), "/edit")
        for name, value in values.items():
            form[name] = value
        return form.submit(status=303).follow()

    def test_new_address_is_located_again(self, nominatim, world):
        testapp, _fake = nominatim
        sign_in(testapp, world.emails["manager"])
        self.edit(testapp, world, world.venue_id, address="Place Bellecour, Lyon")
        venue = venue_named(world, "Centre")
        assert (venue.location_status, venue.latitude) == ("located", 45.7578)

    def test_unchanged_located_venue_is_not_asked_again(self, nominatim, world):
        testapp, fake = nominatim
        sign_in(testapp, world.emails["manager"])
        self.edit(testapp, world, world.venue_id, address="Place Bellecour, Lyon")
        self.edit(testapp, world, world.venue_id, name="Centre ville")
        assert len(fake.seen) == 1
        assert venue_named(world, "Centre ville").location_status == "located"

    def test_typed_coordinates_correct_the_pin(self, nominatim, world):
        testapp, _fake = nominatim
        sign_in(testapp, world.emails["manager"])
        self.edit(testapp, world, world.venue_id, address="Place Bellecour, Lyon")
        self.edit(testapp, world, world.venue_id, latitude="45.76", longitude="4.83")
        venue = venue_named(world, "Centre")
        assert (venue.location_status, venue.latitude, venue.longitude) == ("manual", 45.76, 4.83)

    def test_emptying_typed_coordinates_geocodes_the_address(self, nominatim, world):
        testapp, _fake = nominatim
        sign_in(testapp, world.emails["manager"])
        self.edit(testapp, world, world.venue_id, address="Place Bellecour, Lyon",
                  latitude="1", longitude="2")
        self.edit(testapp, world, world.venue_id, latitude="", longitude="")
        assert venue_named(world, "Centre").location_status == "located"

    def test_change_is_audited_with_before_and_after(self, testapp, world):
        sign_in(testapp, world.emails["manager"])
        self.edit(testapp, world, world.venue_id, name="Centre ville")
        with world.db.session() as s:
            row = s.scalars(select(AuditLog).where(AuditLog.action == "venue.updated")).one()
            assert (row.target_id, row.details["changes"]["name"]) == (
                world.venue_id, ["Centre", "Centre ville"])


class TestList:
    def test_lists_the_venues_with_their_location(self, testapp, world):
        sign_in(testapp, world.emails["owner"])
        page = testapp.get(venues_url(world, ""))
        rows = [row.th.text for row in page.html.select("table.data tbody tr")]
        assert rows == ["Annexe", "Centre"]
        assert [cell.text.strip() for cell in page.html.select("td[class^=location-]")] == [
            "Not located", "Not located"]


class TestAccess:
    @pytest.mark.parametrize("path", ["", "new", "{venue}/edit"])
    def test_desk_staff_get_403(self, testapp, world, path):
        sign_in(testapp, world.emails["staff"])
        testapp.get(venues_url(world, path.format(venue=world.venue_id)), status=403)

    def test_other_tenant_owner_gets_404(self, testapp, world):
        sign_in(testapp, world.emails["other_tenant_owner"])
        testapp.get(venues_url(world, world.venue_id, "edit"), status=404)

    def test_venue_of_another_tenant_is_404(self, testapp, world):
        sign_in(testapp, world.emails["owner"])
        testapp.get(venues_url(world, world.rival_venue_id, "edit"), status=404)

    def test_post_without_csrf_is_refused(self, testapp, world):
        sign_in(testapp, world.emails["owner"])
        testapp.post(venues_url(world, "new"), {"name": "Sneaky"}, status=400)
        assert count(world, Venue) == 3

"""The staff area in a real browser: a manager closes a court over a booked
slot and cancels the booking from the closure's confirmation; the calendar
shows it cancelled. Staff of another venue cannot open that booking."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from booking.models import Resource, Tenant, User
from booking.services.booking import BookingRequest, BookingService

from ..builders import PASSWORD
from ..conftest import NOW
from ..functional.api import TOMORROW

PARIS = ZoneInfo("Europe/Paris")
DAY = TOMORROW.isoformat()


def book(world, resource_id, hour, seats=1, day=TOMORROW):
    with world.db.session() as s:
        booking, _ = BookingService(s, NOW).book(BookingRequest(
            s.get(Tenant, world.tenant_id), s.get(Resource, resource_id),
            s.get(User, world.user_ids["customer"]),
            datetime.combine(day, datetime.min.time().replace(hour=hour), PARIS),
            seats=seats,
        ))
        return booking.id


@pytest.fixture
def booking_id(world):
    return book(world, world.court_id, 10)


def sign_in(page, live_url, email):
    page.goto(f"{live_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_closure_over_a_booking_cancels_it(live_url, world, booking_id, new_context):
    page = new_context().new_page()
    sign_in(page, live_url, world.emails["manager"])
    manage = f"{live_url}/t/{world.slug}/manage"
    page.goto(manage + "/")
    page.get_by_role("link", name="Resources and hours: Centre").click()
    page.get_by_role("link", name="Closures").first.click()

    page.get_by_label("What closes").select_option(label="Court")
    page.get_by_label("From (local time)").fill(f"{DAY}T09:00")
    page.get_by_label("Until (local time)").fill(f"{DAY}T12:00")
    page.get_by_label("Reason (shown to customers)").fill("Resurfacing")
    page.get_by_role("button", name="Add closure").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the closure")
    expect(page.locator("main")).to_contain_text("10:00")
    page.get_by_role("button", name="Cancel these bookings (customers are notified)").click()

    page.goto(f"{manage}/venues/{world.venue_id}/?date={DAY}")
    booking = page.locator("li.booking", has=page.locator(f"a[href$='/bookings/{booking_id}/']"))
    expect(booking.locator(".status")).to_have_text("cancelled")
    expect(page.locator("main")).to_contain_text("Resurfacing")
    serious = [v for v in Axe().run(page).response["violations"]
               if v["impact"] in ("serious", "critical")]
    assert serious == [], [(v["id"], [n["target"] for n in v["nodes"]][:5], v["nodes"][0]["failureSummary"]) for v in serious]

    booking.get_by_role("link").first.click()
    expect(page.locator("main")).to_contain_text("Resurfacing")


def test_other_venue_staff_cannot_open_the_booking(live_url, world, booking_id, new_context):
    page = new_context().new_page()
    sign_in(page, live_url, world.emails["other_venue_staff"])
    response = page.goto(f"{live_url}/t/{world.slug}/manage/bookings/{booking_id}/")
    assert response.status == 404
    page.goto(f"{live_url}/t/{world.slug}/manage/")
    expect(page.get_by_role("link", name="Calendar: Annexe")).to_be_visible()
    expect(page.get_by_role("link", name="Calendar: Centre")).to_have_count(0)


STAFF_PAGES = ["", "bookings/", "bookings/{booking}/", "bookings/new", "venues/{venue}/?view=week",
               "venues/{venue}/feeds", "venues/{venue}/hours", "venues/{venue}/resources/",
               "venues/{venue}/resources/{court}/", "venues/{venue}/closures/", "people/",
               "settings"]


def test_staff_pages_have_no_serious_accessibility_problems(live_url, world, booking_id,
                                                            new_context):
    page = new_context().new_page()
    sign_in(page, live_url, world.emails["owner"])
    problems = {}
    for path in STAFF_PAGES:
        url = f"{live_url}/t/{world.slug}/manage/" + path.format(
            booking=booking_id, venue=world.venue_id, court=world.court_id)
        assert page.goto(url).status == 200, url
        serious = [v["id"] for v in Axe().run(page).response["violations"]
                   if v["impact"] in ("serious", "critical")]
        if serious:
            problems[path] = serious
    assert problems == {}


@pytest.mark.parametrize("view", ["day", "week"])
def test_staff_calendar_fits_a_narrow_screen(live_url, world, booking_id, new_context, view):
    # Sunday's "2/10 seats" (the word hidden but for screen readers) sits
    # far right in the week: it must not widen the page.
    book(world, world.yoga_id, 10, seats=2, day=TOMORROW + timedelta(days=5))
    page = new_context(viewport={"width": 360, "height": 740}).new_page()
    sign_in(page, live_url, world.emails["manager"])
    page.goto(f"{live_url}/t/{world.slug}/manage/venues/{world.venue_id}/?view={view}&date={DAY}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360

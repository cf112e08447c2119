"""The public pages: a tenant, its venues and resources, a week of slots."""

import statistics
import time
from datetime import timedelta

from booking.models import Tenant, TenantStatus, Venue
from booking.scripts.load_demo import load_demo
from booking.services import Work

from .. import builders as b
from ..conftest import NOW
from .site import resource_url, slot_links


def test_tenant_page_lists_venues_hours_and_resources(testapp, world):
    page = testapp.get(f"/t/{world.slug}/")
    text = page.html.select_one("main").get_text(" ", strip=True)
    assert "Centre" in text and "Annexe" in text
    assert "Opening hours (Europe/Paris)" in text and "08:00–20:00" in text
    assert "Yoga" in text and "10 places" in text and "€10.00 per place" in text
    assert "€20.00" in text


def test_unknown_tenant_is_a_404_page(testapp, world):
    page = testapp.get("/t/nobody/", status=404)
    assert page.content_type == "text/html"
    assert "Not found" in page.text


def test_suspended_tenant_is_a_404_page(testapp, world):
    with world.db.session() as s:
        s.get(Tenant, world.tenant_id).status = TenantStatus.SUSPENDED
    testapp.get(f"/t/{world.slug}/", status=404)
    testapp.get(resource_url(world), status=404)


def test_week_shows_seven_days_of_free_slots(testapp, world):
    page = testapp.get(resource_url(world))
    days = page.html.select("section.day")
    assert len(days) == 7
    assert days[0].h3.get_text() == "Mon, Mar 2"
    assert len(slot_links(page)) == 10 + 6 * 12  # today from 10:00 (10:00 in Paris now)


def test_week_navigation_and_jump_to_date(testapp, world):
    page = testapp.get(resource_url(world))
    assert page.html.select_one("a[rel=next]")["href"].endswith("?from=2026-03-09")
    jumped = testapp.get(resource_url(world), {"from": "2026-04-01"})
    assert jumped.html.select("section.day h3")[0].get_text() == "Wed, Apr 1"


def test_closed_day_is_shown_closed_with_reason(testapp, world):
    with world.db.session() as s:
        venue = s.get(Venue, world.venue_id)
        b.closure(s, venue, NOW + timedelta(days=1, hours=-9), NOW + timedelta(days=2, hours=-9),
                  reason="Floor maintenance")
    page = testapp.get(resource_url(world))
    tuesday = page.html.select("section.day")[1]
    assert "Closed — Floor maintenance" in tuesday.get_text(" ", strip=True)
    assert not tuesday.select("a.slot")


def test_class_shows_places_left(testapp, world):
    page = testapp.get(resource_url(world, "yoga"))
    assert "10 places left" in page.html.select("a.slot")[0].get_text()


def test_customer_zone_shown_when_it_differs(testapp, world):
    page = testapp.get(resource_url(world), {"tz": "America/New_York", "from": "2026-03-03"})
    first = page.html.select("a.slot")[0].get_text(" ", strip=True).replace("\u202f", " ")
    assert first.startswith("8:00 AM (2:00 AM)")
    assert "your time (America/New_York)" in page.text


def test_customer_zone_from_browser_cookie(testapp, world):
    testapp.set_cookie("booking_tz", "Asia/Tokyo")
    page = testapp.get(resource_url(world), {"from": "2026-03-03"})
    assert "(4:00\u202fPM)" in page.html.select("a.slot")[0].get_text()


def test_same_zone_is_not_repeated(testapp, world):
    page = testapp.get(resource_url(world), {"tz": "Europe/Paris"})
    assert "your time" not in page.text


def test_bad_date_is_a_400_page(testapp, world):
    page = testapp.get(resource_url(world), {"from": "someday"}, status=400)
    assert "YYYY-MM-DD" in page.text


def test_calendar_renders_under_100_ms_on_demo_data(app, testapp, db, clock):
    with db.session() as s:
        load_demo(Work(app.app.registry, s, NOW))
    url = "/t/demo/venues/1/resources/1/"
    testapp.get(url)
    timings = []
    for _ in range(10):
        started = time.perf_counter()
        testapp.get(url)
        timings.append(time.perf_counter() - started)
    assert statistics.median(timings) < 0.100, timings

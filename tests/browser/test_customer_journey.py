"""A customer in a real browser: register while booking, see the booking,
move it, cancel it; another visitor sees the slot go and come back; the
French site is in French; the main pages have no serious accessibility
problems and fit a 360 px screen."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from ..functional.mail import link_path

from ..functional.api import TOMORROW

DAY = TOMORROW.isoformat()


def calendar(live_url, world, resource="court"):
    return (f"{live_url}/t/{world.slug}/venues/{world.venue_id}/resources/"
            f"{getattr(world, resource + '_id')}/?from={DAY}")


def slot(page, label):
    return page.locator("section.day").first.locator("a.slot", has_text=re.compile(f"^{label}"))


def test_new_customer_books_reschedules_and_cancels(live_url, world, new_context):
    page = new_context().new_page()
    page.goto(calendar(live_url, world))
    slot(page, "10:00").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Book Court")
    page.get_by_label("I am new here").check()
    page.get_by_label("Email").fill("margaret@example.test")
    page.get_by_label("Password").fill("apollo-guidance-computer")
    page.get_by_label("Your name (new accounts)").fill("Margaret Hamilton")
    page.get_by_role("button", name="Continue to review").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Review your booking")
    expect(page.locator("dl.facts")).to_contain_text("€20.00")
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.locator(".flash")).to_contain_text("Booked! Your reference is")
    reference = re.search(r"reference is (\w+)", page.locator(".flash").inner_text()).group(1)

    # The booking's confirmation email carries the link that confirms the
    # new account's address, which signs them in.
    page.goto(live_url + link_path(world.db, "booking.confirmed", "margaret@example.test",
                                   "/confirm/"))
    page.get_by_role("button", name="Confirm my email address").click()
    page.goto(f"{live_url}/t/{world.slug}/bookings/")
    upcoming = page.locator("section[aria-labelledby=upcoming]")
    expect(upcoming).to_contain_text(reference)
    upcoming.get_by_role("link").first.click()

    page.get_by_role("link", name="Move to another time").click()
    page.goto(page.url + f"?from={DAY}")
    page.locator("section.day").first.get_by_role("button", name=re.compile("^2:00")).click()
    expect(page.locator(".flash")).to_have_text("Your booking has moved.")
    expect(page.locator("dl.facts")).to_contain_text("2:00\u202fPM")

    page.get_by_label("Reason for cancelling (optional)").fill("Plans changed")
    page.get_by_role("button", name="Cancel booking").click()
    expect(page.locator(".flash")).to_have_text("Your booking is cancelled.")
    expect(page.locator(".status")).to_have_text("cancelled")


def test_other_visitor_sees_slot_disappear_and_reappear(live_url, world, new_context):
    watcher = new_context().new_page()
    watcher.goto(calendar(live_url, world))
    expect(slot(watcher, "11:00")).to_have_count(1)

    customer = new_context().new_page()
    customer.goto(calendar(live_url, world))
    slot(customer, "11:00").click()
    customer.get_by_label("Email").fill(world.emails["customer"])
    customer.get_by_label("Password").fill("correct-horse-battery")
    customer.get_by_role("button", name="Continue to review").click()
    customer.get_by_role("button", name="Confirm booking").click()
    expect(customer.locator(".flash")).to_contain_text("Booked!")

    watcher.reload()
    expect(slot(watcher, "11:00")).to_have_count(0)
    expect(slot(watcher, "12:00")).to_have_count(1)

    customer.get_by_role("button", name="Cancel booking").click()
    expect(customer.locator(".status")).to_have_text("cancelled")
    watcher.reload()
    expect(slot(watcher, "11:00")).to_have_count(1)


def test_french_site_is_in_french(live_url, world, new_context):
    page = new_context(locale="fr-FR").new_page()
    page.goto(calendar(live_url, world, "yoga"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="Créneaux libres")).to_be_visible()
    expect(page.locator("section.day h3").first).to_have_text("mar. 3 mars")
    expect(page.locator("a.slot").first).to_contain_text("places restantes")
    expect(page.get_by_role("link", name="Semaine suivante →")).to_be_visible()


def test_switcher_changes_language(live_url, world, new_context):
    page = new_context().new_page()
    page.goto(f"{live_url}/t/{world.slug}/")
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Change language").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("link", name="Mes réservations")).to_be_visible()


def test_customer_own_zone_is_shown(live_url, world, new_context):
    page = new_context(timezone_id="America/New_York").new_page()
    page.goto(calendar(live_url, world))
    page.reload()  # the script has now told the server the browser's zone
    expect(slot(page, "10:00")).to_contain_text("(4:00")
    expect(page.get_by_text("your time (America/New_York)")).to_be_visible()


def test_booking_works_without_javascript(live_url, world, new_context):
    page = new_context(java_script_enabled=False).new_page()
    page.goto(calendar(live_url, world))
    slot(page, "3:00").click()
    page.get_by_label("Email").fill(world.emails["customer"])
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Continue to review").click()
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.locator(".flash")).to_contain_text("Booked!")


def test_keyboard_reaches_content_with_visible_focus(live_url, world, new_context):
    page = new_context().new_page()
    page.goto(calendar(live_url, world))
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0
    outline = skip.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")


MAIN_PAGES = ["/", "/t/club/", "calendar", "/login", "/register", "details"]


@pytest.mark.parametrize("which", MAIN_PAGES)
def test_no_serious_accessibility_violations(live_url, world, new_context, which):
    page = new_context().new_page()
    if which == "calendar":
        page.goto(calendar(live_url, world))
    elif which == "details":
        page.goto(calendar(live_url, world))
        slot(page, "10:00").click()
    else:
        page.goto(live_url + which)
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in serious]


@pytest.mark.parametrize("which", ["/t/club/", "calendar", "/register"])
def test_fits_a_360_pixel_screen(live_url, world, new_context, which):
    page = new_context(viewport={"width": 360, "height": 740}).new_page()
    page.goto(calendar(live_url, world) if which == "calendar" else live_url + which)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360


def test_customer_own_zone_is_shown_on_the_first_visit(live_url, world, new_context):
    page = new_context(timezone_id="America/New_York").new_page()
    page.goto(calendar(live_url, world))  # no reload asked for
    expect(page.get_by_text("your time (America/New_York)")).to_be_visible()


def test_a_visitor_in_the_venues_zone_is_not_sent_the_page_twice(live_url, world, new_context):
    page = new_context(timezone_id="Europe/Paris").new_page()
    loads = []
    page.on("load", lambda: loads.append(page.url))
    page.goto(calendar(live_url, world))
    page.wait_for_timeout(500)
    assert len(loads) == 1

"""A paid booking in a real browser: the customer books a slot, is sent to
the provider's hosted checkout (the fake provider on its own port), presses
Pay, comes back to the booking's page, which shows it confirmed once the
signed webhook arrived, and My bookings shows it paid."""

import re

import pytest
from playwright.sync_api import expect

from booking import main

from ..conftest import SHARED_CLOCK, app_settings
from ..fakes.payment_provider import running, stripe_settings
from ..servers import serve
from ..functional.api import TOMORROW

DAY = TOMORROW.isoformat()
#: How many times the booking's page is reloaded while waiting for the webhook.
POLLS = 20


@pytest.fixture
def provider():
    with running(clock=lambda: SHARED_CLOCK.now().timestamp()) as fake:
        yield fake


@pytest.fixture
def paid_site(db, clock, provider):
    """The site under ``booking.payments = stripe``, served on a loopback
    port, with the fake provider delivering its webhooks to it."""
    app = main({}, **app_settings(db, **stripe_settings(provider)))
    with serve(app, threads=4) as url:
        provider.app_url = url
        yield url


def wait_until_confirmed(page):
    """Reload the booking's page until it shows the booking confirmed."""
    status = page.locator("dl.facts .status")
    for _ in range(POLLS):
        if status.inner_text().strip() == "confirmed":
            return
        page.wait_for_timeout(250)
        page.reload()
    expect(status).to_have_text("confirmed")


def test_customer_pays_on_the_providers_page_and_the_booking_is_confirmed(
        paid_site, provider, world, new_context):
    page = new_context().new_page()
    page.goto(f"{paid_site}/t/{world.slug}/venues/{world.venue_id}/resources/"
              f"{world.court_id}/?from={DAY}")
    page.locator("section.day").first.locator("a.slot", has_text=re.compile("^10:00")).click()
    page.get_by_label("Email").fill(world.emails["customer"])
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Continue to review").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Review your booking")
    expect(page.locator("dl.facts")).to_contain_text("€20.00 · paid online now")
    page.get_by_role("button", name="Confirm and pay").click()

    expect(page).to_have_url(re.compile(re.escape(provider.url) + "/pay/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay 20.00 EUR")
    page.get_by_role("button", name="Pay").click()

    expect(page).to_have_url(re.compile(re.escape(paid_site) + r"/t/club/bookings/\d+/\?paid=1"))
    wait_until_confirmed(page)
    expect(page.locator("dl.facts .payment")).to_have_text("paid online")
    reference = page.get_by_role("heading", level=1).inner_text().split()[-1]

    page.get_by_role("link", name="All my bookings").click()
    upcoming = page.locator("section[aria-labelledby=upcoming] li", has_text=reference)
    expect(upcoming.locator(".payment")).to_have_text("paid online")
    expect(upcoming.locator(".status")).to_have_text("confirmed")

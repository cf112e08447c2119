"""Issue 21 in a real browser: a customer sees the off-peak mark on the slot
grid, applies a promo code, sees the breakdown on the review, pays the
discounted total on the provider's page, cancels, and is refunded exactly
what was paid."""

import re

from playwright.sync_api import expect
from sqlalchemy import select

from booking.models import Booking, Tenant

from .. import builders as b
from ..functional.api import IN_A_WEEK
from .test_payment_checkout import paid_site, provider, wait_until_confirmed  # noqa: F401

DAY = IN_A_WEEK.isoformat()


def test_customer_applies_a_code_on_an_off_peak_slot_pays_and_is_refunded_in_full(
        paid_site, provider, world, new_context):  # noqa: F811
    with world.db.session() as s:
        tenant = s.get(Tenant, world.tenant_id)
        tenant.refund_policy = "full"
        # 20 % off 08:00–10:00; the code takes 10 % of what is left.
        b.offer(s, tenant, name="Off-peak", percent=20, stacks=True, from_minute=8 * 60,
                to_minute=10 * 60)
        b.promo_code(s, tenant, code="SPRING10", percent=10)

    page = new_context().new_page()
    page.goto(f"{paid_site}/t/{world.slug}/venues/{world.venue_id}/resources/"
              f"{world.court_id}/?from={DAY}")
    day = page.locator("section.day").first
    marked = day.locator("a.slot", has_text=re.compile("^9:00"))
    expect(marked.locator(".offer-mark")).to_have_text(
        "Offer: −20% · Off-peak · €16.00 instead of €20.00")
    expect(day.locator("a.slot", has_text=re.compile("^10:00")).locator(".offer-mark")
           ).to_have_count(0)
    marked.click()

    page.get_by_label("Promo code (optional)").fill("spring10")
    page.get_by_label("Email").fill(world.emails["customer"])
    page.get_by_label("Password").fill(b.PASSWORD)
    page.get_by_role("button", name="Continue to review").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Review your booking")
    breakdown = page.locator("table.breakdown")
    expect(breakdown.locator("th")).to_have_text([
        "Price", "Offer: Off-peak", "Promo code SPRING10", "Total"])
    expect(breakdown.locator("td")).to_have_text(["€20.00", "−€4.00", "−€1.60", "€14.40"])
    expect(page.locator("dl.facts")).to_contain_text("€14.40 · paid online now")
    page.get_by_role("button", name="Confirm and pay").click()

    expect(page).to_have_url(re.compile(re.escape(provider.url) + "/pay/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay 14.40 EUR")
    page.get_by_role("button", name="Pay").click()

    expect(page).to_have_url(re.compile(re.escape(paid_site) + r"/t/club/bookings/\d+/\?paid=1"))
    wait_until_confirmed(page)
    expect(page.locator("table.breakdown tr.total td")).to_have_text("€14.40")

    page.get_by_role("button", name="Cancel booking").click()
    expect(page.locator(".flash")).to_contain_text(
        "Your booking is cancelled. €14.40 is refunded to your card")
    (session,) = provider.sessions.values()
    assert (session["amount_total"], session["amount_refunded"]) == (1440, 1440)
    with world.db.session() as s:
        assert s.scalar(select(Booking.status)) == "cancelled"

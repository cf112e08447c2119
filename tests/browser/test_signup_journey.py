"""A business signs up in a real browser and is bookable minutes later:
sign-up, the link emailed to confirm the owner's address, then the setup checklist — a venue, a resource, opening hours —
then its public page offers free slots."""

import re

from playwright.sync_api import expect

from ..functional.mail import link_path

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def test_sign_up_to_first_bookable_resource(live_url, world, new_context):
    page = new_context().new_page()
    page.goto(f"{live_url}/signup")
    page.get_by_label("Business name").fill("Kiln Studio")
    page.get_by_label("Web address").fill("kiln-studio")
    page.get_by_label("Time zone").fill("Europe/Paris")
    page.get_by_label("Currency").fill("EUR")
    page.get_by_label("Your name").fill("Lucie Rie")
    page.locator("#email").fill("lucie@kiln.test")
    page.locator("#password").fill("stoneware-and-porcelain")
    page.get_by_role("button", name="Create my business").click()
    expect(page.get_by_text("Check your email")).to_be_visible()
    page.goto(live_url + link_path(world.db, "account.confirm", "lucie@kiln.test", "/confirm/"))
    page.get_by_role("button", name="Confirm my email address").click()

    checklist = page.locator("section.setup-checklist")
    expect(checklist).to_be_visible()
    checklist.get_by_role("link", name=re.compile("^Add a venue")).click()
    page.locator("#name").fill("Workshop")
    page.get_by_label("Address").fill("12 rue des Potiers, Paris")
    page.get_by_label("Latitude").fill("48.8566")
    page.get_by_label("Longitude").fill("2.3522")
    page.get_by_role("button", name="Create venue").click()

    page.goto(f"{live_url}/t/kiln-studio/manage/")
    checklist.get_by_role("link", name=re.compile("^Add a resource")).click()
    page.locator("#name").fill("Wheel 1")
    page.get_by_label("Price per seat and slot (EUR)").fill("25.00")
    page.get_by_role("button", name="Create resource").click()

    page.goto(f"{live_url}/t/kiln-studio/manage/")
    checklist.get_by_role("link", name=re.compile("^Set opening hours")).click()
    for weekday in WEEKDAYS:
        page.get_by_label(weekday, exact=True).fill("09:00-18:00")
    page.get_by_role("button", name="Save opening hours").click()

    page.goto(f"{live_url}/t/kiln-studio/")
    page.get_by_role("link", name=re.compile("Wheel 1")).first.click()
    expect(page.locator("a.slot").first).to_be_visible()

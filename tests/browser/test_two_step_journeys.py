"""Two-step sign-in in Chromium: an authenticator app set up by reading the
secret off the page, then a sign-in with its code; a passkey registered on
Chromium's virtual authenticator (CDP ``WebAuthn``), then used as the second
step and to sign in without a password. Nothing of the browser is mocked."""

import re
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from booking.models import Passkey

from ..builders import PASSWORD


def sign_in_with_password(page, url, email):
    page.goto(f"{url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()


def test_authenticator_app_journey(live_url, world, new_context, clock):
    page = new_context().new_page()
    email = world.emails["customer"]
    sign_in_with_password(page, live_url, email)
    page.goto(f"{live_url}/account/two-step")
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.locator("#totp-qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).at(clock.now()))
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)

    sign_out(page)
    clock.advance(timedelta(seconds=30))  # a new code: the last one is spent
    sign_in_with_password(page, live_url, email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-step sign-in")
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(
        pyotp.TOTP(secret).at(clock.now()))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("link", name="My account")).to_be_visible()


@pytest.fixture
def site(live_url):
    """The site under the name ``localhost``: WebAuthn takes a domain as
    the relying party, never an IP address."""
    return live_url.replace("127.0.0.1", "localhost")


def virtual_authenticator(context, page):
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True}})
    return cdp


def test_passkey_journeys(site, world, new_context):
    context = new_context()
    page = context.new_page()
    virtual_authenticator(context, page)
    email = world.emails["customer"]

    sign_in_with_password(page, site, email)
    page.goto(f"{site}/account/two-step")
    page.get_by_label("Name of the new passkey").fill("Test laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_text("Your passkey is added.")).to_be_visible()
    expect(page.locator("#passkey-list")).to_contain_text("Test laptop")
    expect(page.locator("#recovery-codes li")).to_have_count(10)

    # The passkey as the second step.
    sign_out(page)
    sign_in_with_password(page, site, email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-step sign-in")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.get_by_role("link", name="My account")).to_be_visible()

    # The passkey alone, without the password.
    sign_out(page)
    page.goto(f"{site}/login?next=/account/")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page).to_have_url(re.compile(r"/account/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My account")

    # A signature counter that goes back (a cloned authenticator) is refused.
    sign_out(page)
    with world.db.session() as s:
        s.execute(update(Passkey).values(sign_count=10**6))
    page.goto(f"{site}/login")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_text("This passkey was not accepted.")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()

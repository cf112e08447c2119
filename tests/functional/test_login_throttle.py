"""Failed sign-ins are throttled per account and client address, per client
address, and for the account as a whole, which delays strangers only: the
owner still signs in from a browser they used before."""

import webtest

from booking.models import User
from booking.services import devices
from booking.services.throttle import MAX_FAILURES_PER_ACCOUNT as MAX_FAILURES_PER_ACCOUNT_AS_A_WHOLE
from booking.services.throttle import (
    MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS as MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS, WINDOW)

from .. import builders as b


def try_token(testapp, email, password, status, address="192.0.2.1"):
    return testapp.post_json("/api/v1/tokens", {"email": email, "password": password},
                             status=status, extra_environ={"REMOTE_ADDR": address})


def test_account_locked_after_failures(testapp, world):
    email = world.emails["customer"]
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        try_token(testapp, email, "wrong-password-1", 401)
    response = try_token(testapp, email, b.PASSWORD, 429)
    assert response.json["error"]["code"] == "too_many_attempts"
    assert "this account" in response.json["error"]["message"]
    assert int(response.headers["Retry-After"]) > 0


def test_account_lock_ends_after_the_window(testapp, world, clock):
    email = world.emails["customer"]
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        try_token(testapp, email, "wrong-password-1", 401)
    clock.advance(WINDOW)
    try_token(testapp, email, b.PASSWORD, 201)


def test_success_resets_the_account_count(testapp, world):
    email = world.emails["customer"]
    for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
        try_token(testapp, email, "wrong-password-1", 401)
    try_token(testapp, email, b.PASSWORD, 201)
    for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
        try_token(testapp, email, "wrong-password-1", 401)
    try_token(testapp, email, b.PASSWORD, 201)


def test_address_throttled_across_accounts(testapp, world):
    for n in range(MAX_FAILURES_PER_ADDRESS):
        try_token(testapp, f"guess{n}@example.test", "wrong-password-1", 401, address="198.51.100.7")
    response = try_token(testapp, world.emails["customer"], b.PASSWORD, 429, address="198.51.100.7")
    assert "your address" in response.json["error"]["message"]
    try_token(testapp, world.emails["customer"], b.PASSWORD, 201, address="198.51.100.8")


def test_html_login_throttled_with_clear_message(testapp, world):
    email = world.emails["owner"]
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        form = testapp.get("/login").forms["login-form"]
        form["email"], form["password"] = email, "wrong-password-1"
        form.submit(status=400)
    form = testapp.get("/login").forms["login-form"]
    form["email"], form["password"] = email, b.PASSWORD
    response = form.submit(status=429)
    assert "Too many failed sign-ins for this account" in response.text


OFFICE = "203.0.113.10"


def browser(app, address=OFFICE):
    """A browser of its own (its own cookies) at ``address``."""
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "booking.test", "REMOTE_ADDR": address})


def log_in(testapp, email, password, status):
    form = testapp.get("/login").forms["login-form"]
    form["email"], form["password"] = email, password
    return form.submit(status=status)


def known_browser(app, email, address=OFFICE):
    """A browser ``email`` signed in from, then signed out of."""
    owners = browser(app, address)
    log_in(owners, email, b.PASSWORD, 303)
    owners.post("/logout", {"csrf_token": owners.get("/login").forms["login-form"]["csrf_token"].value},
                status=303)
    return owners


class TestNoLockOut:
    def test_right_password_signs_in_from_known_browser_after_strangers_failures(self, app, world):
        email = world.emails["owner"]
        owners = known_browser(app, email)
        stranger = browser(app)  # the same office address
        for _ in range(MAX_FAILURES_PER_ACCOUNT):
            log_in(stranger, email, "wrong-password-1", 400)
        log_in(stranger, email, b.PASSWORD, 429)
        log_in(owners, email, b.PASSWORD, 303)

    def test_right_password_signs_in_from_another_address_after_failures(self, app, world):
        email = world.emails["owner"]
        stranger = browser(app, "198.51.100.66")
        for _ in range(MAX_FAILURES_PER_ACCOUNT):
            log_in(stranger, email, "wrong-password-1", 400)
        log_in(browser(app, "198.51.100.67"), email, b.PASSWORD, 303)

    def test_failures_from_many_addresses_delay_strangers_only(self, app, world):
        email = world.emails["owner"]
        owners = known_browser(app, email)
        for n in range(MAX_FAILURES_PER_ACCOUNT_AS_A_WHOLE):
            log_in(browser(app, f"198.51.100.{n + 1}"), email, "wrong-password-1", 400)
        response = log_in(browser(app, "192.0.2.200"), email, b.PASSWORD, 429)
        assert "from other devices" in response.text
        assert int(response.headers["Retry-After"]) > 0
        log_in(owners, email, b.PASSWORD, 303)

    def test_known_browser_has_its_own_limit(self, app, world):
        email = world.emails["owner"]
        owners = known_browser(app, email)
        for _ in range(MAX_FAILURES_PER_ACCOUNT):
            log_in(owners, email, "wrong-password-1", 400)
        log_in(owners, email, b.PASSWORD, 429)

    def test_known_browser_of_another_account_counts_as_a_stranger(self, app, world):
        email = world.emails["owner"]
        shared = known_browser(app, world.emails["customer"])
        for _ in range(MAX_FAILURES_PER_ACCOUNT):
            log_in(browser(app), email, "wrong-password-1", 400)
        log_in(shared, email, b.PASSWORD, 429)

    def test_forged_known_device_cookie_counts_as_a_stranger(self, app, world):
        email = world.emails["owner"]
        for _ in range(MAX_FAILURES_PER_ACCOUNT):
            log_in(browser(app), email, "wrong-password-1", 400)
        forger = browser(app)
        forger.set_cookie(devices.COOKIE, "abcdefghijklmnop.AAAAAAAAAAAAAAAAAAAAAAAA")
        log_in(forger, email, b.PASSWORD, 429)

    def test_known_device_cookie_is_httponly_and_lax(self, app, world):
        response = log_in(browser(app), world.emails["owner"], b.PASSWORD, 303)
        cookie = next(value for name, value in response.headerlist
                      if name == "Set-Cookie" and value.startswith(devices.COOKIE + "="))
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie

    def test_office_failures_on_one_account_leave_others_signing_in(self, app, world):
        for _ in range(MAX_FAILURES_PER_ACCOUNT):
            log_in(browser(app), world.emails["owner"], "wrong-password-1", 400)
        log_in(browser(app), world.emails["manager"], b.PASSWORD, 303)

    def test_known_device_forgotten_after_password_reset(self, app, world, db):
        email = world.emails["owner"]
        owners = known_browser(app, email)
        with db.session() as s:
            s.get(User, world.user_ids["owner"]).session_epoch += 1  # what a reset does
        for _ in range(MAX_FAILURES_PER_ACCOUNT):
            log_in(browser(app), email, "wrong-password-1", 400)
        log_in(owners, email, b.PASSWORD, 429)


class TestApiParity:
    def test_api_and_site_share_one_count(self, app, testapp, world):
        email = world.emails["customer"]
        site = browser(app, "192.0.2.1")
        for _ in range(MAX_FAILURES_PER_ACCOUNT - 2):
            try_token(testapp, email, "wrong-password-1", 401)
        log_in(site, email, "wrong-password-1", 400)
        log_in(site, email, "wrong-password-1", 400)
        response = try_token(testapp, email, b.PASSWORD, 429)
        assert int(response.headers["Retry-After"]) > 0
        page = log_in(site, email, b.PASSWORD, 429)
        assert int(page.headers["Retry-After"]) > 0

    def test_api_reaches_the_account_wide_delay_as_the_site(self, testapp, world):
        email = world.emails["customer"]
        for n in range(MAX_FAILURES_PER_ACCOUNT_AS_A_WHOLE):
            try_token(testapp, email, "wrong-password-1", 401, address=f"198.51.100.{n + 1}")
        response = try_token(testapp, email, b.PASSWORD, 429, address="192.0.2.200")
        assert "from other devices" in response.json["error"]["message"]

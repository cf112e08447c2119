"""Two-step sign-in with an authenticator app (TOTP) and recovery codes:
set up in My account, asked after the password, refused twice for one code,
required by the API token endpoint; on both databases."""

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from booking.models import RecoveryCode, TotpFactor, User
from booking.second_factor import PENDING_LIFETIME
from booking.services.mfa import MAX_SECOND_STEP_FAILURES, RECOVERY_CODES

from .. import builders as b
from .api import TOMORROW
from .mail import link_path
from .mfa import code, enrol_totp, second_step, sign_in_with_code
from .site import form_by_action, resource_url, sign_in, slot_links, start_of
from .test_password_reset import ask, choose, reset_path
from .test_site_accounts import register


def start_enrolment(testapp):
    page = testapp.get("/account/two-step")
    page = form_by_action(page, "/account/totp-start").submit(status=303).follow()
    return page, page.html.select_one("#totp-secret").text.strip()


def confirm(page, value, status=200):
    form = page.forms["totp-confirm-form"]
    form["code"] = value
    return form.submit(status=status)


@pytest.fixture
def customer(testapp, world):
    sign_in(testapp, world.emails["customer"])
    return world.user_ids["customer"]


class TestEnrolment:
    def test_enrolment_shows_the_secret_and_its_qr_code(self, testapp, customer):
        page, secret = start_enrolment(testapp)
        assert len(secret) == 32
        svg = page.html.select_one("#totp-qr svg")
        assert svg is not None and svg.find("path") is not None
        assert not page.html.select("#totp-qr script, #totp-qr [style]")

    def test_current_code_turns_the_app_on_and_shows_ten_recovery_codes(self, testapp, customer,
                                                                        world):
        page, secret = start_enrolment(testapp)
        page = confirm(page, pyotp.TOTP(secret).at(world_now()))
        codes = [li.text for li in page.html.select("#recovery-codes code")]
        assert len(codes) == RECOVERY_CODES == len(set(codes))
        assert page.html.select_one("#totp-status") is not None
        with world.db.session() as s:
            digests = s.scalars(select(RecoveryCode.digest)
                                .where(RecoveryCode.user_id == customer)).all()
        assert not set(codes) & set(digests)  # kept as digests only

    def test_wrong_code_leaves_the_app_off(self, testapp, customer, world):
        page, secret = start_enrolment(testapp)
        page = confirm(page, pyotp.TOTP(secret).at(world_now() + timedelta(minutes=5)),
                       status=400)
        assert "This code is not right" in page.text
        with world.db.session() as s:
            assert s.scalar(select(TotpFactor.confirmed_at)
                            .where(TotpFactor.user_id == customer)) is None

    def test_the_app_is_off_until_confirmed(self, testapp, customer, world):
        start_enrolment(testapp)
        testapp.post("/logout", {"csrf_token": csrf(testapp)})
        response = sign_in(testapp, world.emails["customer"])
        assert not response.location.endswith("/two-step")


def world_now():
    from ..conftest import SHARED_CLOCK

    return SHARED_CLOCK.now()


def csrf(testapp):
    return testapp.get("/login").forms["login-form"]["csrf_token"].value


@pytest.fixture
def app_user(world):
    """The customer, with an authenticator app: ``(email, secret, recovery codes)``."""
    secret, codes = enrol_totp(world.db, world.user_ids["customer"])
    return world.emails["customer"], secret, codes


class TestSecondStep:
    def test_password_alone_does_not_sign_in(self, testapp, app_user):
        email, _secret, _codes = app_user
        response = sign_in(testapp, email)
        assert response.location.endswith("/two-step")
        assert testapp.get("/account/", status=303).location.startswith(
            "http://booking.test/login")

    def test_code_of_the_app_signs_in(self, testapp, app_user):
        email, secret, _codes = app_user
        sign_in(testapp, email)
        response = second_step(testapp, code(secret))
        testapp.get(response.location, status=200)
        testapp.get("/account/", status=200)

    def test_the_second_step_goes_on_to_the_next_page(self, testapp, app_user, world):
        email, secret, _codes = app_user
        form = testapp.get("/login?next=/t/club/bookings/").forms["login-form"]
        form["email"], form["password"] = email, b.PASSWORD
        form.submit(status=303)
        assert second_step(testapp, code(secret)).location.endswith("/t/club/bookings/")

    def test_wrong_code_is_refused(self, testapp, app_user):
        email, secret, _codes = app_user
        sign_in(testapp, email)
        page = second_step(testapp, code(secret, steps=3), status=400)
        assert "not right" in page.text
        testapp.get("/account/", status=303)

    def test_code_of_the_step_before_or_after_is_accepted(self, testapp, app_user, clock):
        email, secret, _codes = app_user
        clock.advance(timedelta(seconds=60))  # past the step of the code used to enrol
        sign_in(testapp, email)
        second_step(testapp, code(secret, steps=-1))
        testapp.post("/logout", {"csrf_token": testapp.get("/account/").forms[0]["csrf_token"].value})
        clock.advance(timedelta(seconds=60))
        sign_in(testapp, email)
        second_step(testapp, code(secret, steps=1))

    def test_a_code_is_not_accepted_twice(self, testapp, app_user, world):
        email, secret, _codes = app_user
        used = code(secret)
        sign_in(testapp, email)
        second_step(testapp, used)
        other = type(testapp)(testapp.app, extra_environ=testapp.extra_environ)
        sign_in(other, email)
        second_step(other, used, status=400)

    def test_recovery_code_works_once(self, testapp, app_user):
        email, _secret, codes = app_user
        sign_in(testapp, email)
        page = second_step(testapp, codes[0].upper().replace("-", " ")).follow()
        assert f"{RECOVERY_CODES - 1} left" in page.text
        other = type(testapp)(testapp.app, extra_environ=testapp.extra_environ)
        sign_in(other, email)
        second_step(other, codes[0], status=400)

    def test_new_recovery_codes_replace_the_old(self, testapp, app_user):
        email, secret, codes = app_user
        sign_in_with_code(testapp, email, secret)
        page = form_by_action(testapp.get("/account/two-step"),
                              "/account/recovery-codes").submit(status=200)
        new_codes = [li.text for li in page.html.select("#recovery-codes code")]
        assert len(new_codes) == RECOVERY_CODES and not set(new_codes) & set(codes)
        other = type(testapp)(testapp.app, extra_environ=testapp.extra_environ)
        sign_in(other, email)
        second_step(other, codes[1], status=400)
        second_step(other, new_codes[0])

    def test_pending_sign_in_expires(self, testapp, app_user, clock):
        email, secret, _codes = app_user
        sign_in(testapp, email)
        clock.advance(PENDING_LIFETIME + timedelta(seconds=1))
        response = testapp.get("/two-step", status=303)
        assert "/login" in response.location
        testapp.get("/account/", status=303)

    def test_wrong_codes_are_throttled(self, testapp, app_user):
        email, secret, _codes = app_user
        sign_in(testapp, email)
        for _ in range(MAX_SECOND_STEP_FAILURES):
            second_step(testapp, "000000" if code(secret) != "000000" else "111111", status=400)
        page = second_step(testapp, code(secret), status=429)
        assert "Too many wrong codes" in page.text
        assert int(page.headers["Retry-After"]) > 0


class TestDisable:
    def disable(self, testapp, status=303, **fields):
        form = form_by_action(testapp.get("/account/two-step"), "/account/totp-disable")
        for name, value in fields.items():
            form[name] = value
        return form.submit(status=status)

    def test_turning_the_app_off_needs_the_password_or_a_code(self, testapp, app_user):
        email, secret, _codes = app_user
        sign_in_with_code(testapp, email, secret)
        page = self.disable(testapp, status=400, password="not-my-password-1")
        assert "Give your password or a current code" in page.text

    def test_password_turns_the_app_off(self, testapp, app_user):
        email, secret, _codes = app_user
        sign_in_with_code(testapp, email, secret)
        self.disable(testapp, password=b.PASSWORD)
        testapp.post("/logout", {"csrf_token": testapp.get("/account/").forms[0]["csrf_token"].value})
        assert not sign_in(testapp, email).location.endswith("/two-step")

    def test_code_turns_the_app_off(self, testapp, app_user, world):
        email, secret, _codes = app_user
        sign_in_with_code(testapp, email, secret)
        self.disable(testapp, code=code(secret))
        with world.db.session() as s:
            assert s.scalar(select(TotpFactor).where(
                TotpFactor.user_id == world.user_ids["customer"])) is None
            assert s.scalar(select(RecoveryCode).where(
                RecoveryCode.user_id == world.user_ids["customer"])) is None


class TestApiToken:
    def test_token_needs_otp_when_the_user_has_an_app(self, testapp, app_user):
        email, _secret, _codes = app_user
        response = testapp.post_json("/api/v1/tokens", {"email": email, "password": b.PASSWORD},
                                     status=401)
        assert response.json["error"]["code"] == "otp_required"
        assert response.json["error"]["field"] == "otp"

    def test_token_with_the_code_of_the_app(self, testapp, app_user):
        email, secret, _codes = app_user
        response = testapp.post_json("/api/v1/tokens", {"email": email, "password": b.PASSWORD,
                                                        "otp": code(secret)}, status=201)
        assert response.json["token"]

    def test_token_with_a_recovery_code(self, testapp, app_user):
        email, _secret, codes = app_user
        testapp.post_json("/api/v1/tokens", {"email": email, "password": b.PASSWORD,
                                             "otp": codes[0]}, status=201)

    def test_token_refused_with_a_wrong_code(self, testapp, app_user):
        email, secret, _codes = app_user
        response = testapp.post_json("/api/v1/tokens", {
            "email": email, "password": b.PASSWORD, "otp": code(secret, steps=4)}, status=401)
        assert response.json["error"]["code"] == "invalid_otp"

    def test_wrong_codes_count_toward_the_throttle(self, testapp, app_user):
        email, secret, _codes = app_user
        for _ in range(MAX_SECOND_STEP_FAILURES):
            testapp.post_json("/api/v1/tokens", {"email": email, "password": b.PASSWORD,
                                                 "otp": code(secret, steps=4)}, status=401)
        testapp.post_json("/api/v1/tokens", {"email": email, "password": b.PASSWORD,
                                             "otp": code(secret)}, status=429)

    def test_token_without_otp_for_a_user_without_second_factor(self, testapp, world):
        testapp.post_json("/api/v1/tokens", {"email": world.emails["customer"],
                                             "password": b.PASSWORD}, status=201)


class TestEveryWayInAsksTheSecondStep:
    """The password (or a link that proves the address) is never enough for
    a user with a second factor, whichever page takes it."""

    def test_booking_form_sign_in_asks_the_second_step_then_returns_to_the_choice(
            self, testapp, app_user, world):
        email, secret, _codes = app_user
        link = slot_links(testapp.get(resource_url(world), {"from": TOMORROW.isoformat()}))[3]
        form = form_by_action(testapp.get(link), "/book")
        form["account"], form["email"], form["password"] = "signin", email, b.PASSWORD
        form["note"] = "window seat"
        assert form.submit(status=303).location.endswith("/two-step")
        testapp.get("/account/", status=303)  # not signed in yet
        back = testapp.get(second_step(testapp, code(secret)).location)
        assert start_of(back.request.url) == start_of(link)
        details = form_by_action(back, "/book")
        assert details["note"].value == "window seat"
        assert "password" not in details.fields  # signed in now

    def test_password_reset_link_asks_the_second_step(self, testapp, app_user, world):
        email, secret, _codes = app_user
        ask(testapp, email)
        assert choose(testapp, reset_path(world, email)).location.endswith("/two-step")
        testapp.get("/account/", status=303)
        response = second_step(testapp, code(secret))
        assert response.location.endswith("/account/")
        testapp.get("/account/", status=200)

    def test_address_confirmation_link_asks_the_second_step(self, testapp, world):
        register(testapp).submit(status=200)
        with world.db.session() as s:
            user_id = s.scalar(select(User.id).where(User.email == "grace@example.test"))
        secret, _codes = enrol_totp(world.db, user_id)
        path = link_path(world.db, "account.confirm", "grace@example.test", "/confirm/")
        response = testapp.get(path).forms["confirm-form"].submit(status=303)
        assert response.location.endswith("/two-step")
        testapp.get("/account/", status=303)

"""Forgotten passwords: ask for a link at /account/forgot (the same answer
whether or not the account exists, throttled), receive it by email, set a
new password at /reset/{secret} (single use, one hour), be signed in, and
every other session ends."""

import re
from datetime import timedelta
from urllib.parse import urlparse

import pytest
import webtest
from sqlalchemy import func, select

from booking.models import OutboxMessage, TokenPurpose, User, UserToken
from booking.passwords import UNUSABLE_PASSWORD, verify_password
from booking.security import token_digest
from booking.services.password_reset import (
    MAX_REQUESTS_PER_ACCOUNT,
    MAX_REQUESTS_PER_ADDRESS,
    PasswordResetService,
)

from .. import builders as b
from ..conftest import NOW
from .site import form_by_action, sign_in

NEW_PASSWORD = "a-brand-new-password"
SENT = "If an account exists for"


def ask(testapp, email, status=200, address="192.0.2.10"):
    form = testapp.get("/account/forgot").forms["forgot-form"]
    form["email"] = email
    return form.submit(status=status, extra_environ={"REMOTE_ADDR": address})


def reset_messages(world, email=None):
    """``(user_id of the recipient, tenant_id, body_text)`` of the reset
    emails queued, oldest first."""
    query = select(OutboxMessage.recipient, OutboxMessage.tenant_id, OutboxMessage.body_text) \
        .where(OutboxMessage.kind == "password.reset").order_by(OutboxMessage.id)
    if email is not None:
        query = query.where(OutboxMessage.recipient == email)
    with world.db.session() as s:
        return s.execute(query).all()


def reset_path(world, email):
    """The path of the last reset link emailed to ``email``."""
    rows = reset_messages(world, email)
    assert rows, f"no reset email to {email}"
    path = urlparse(re.search(r"https?://\S+", rows[-1].body_text).group(0)).path
    assert path.startswith("/reset/")
    return path


def choose(testapp, path, password=NEW_PASSWORD, confirm=None, status=303):
    form = form_by_action(testapp.get(path), path + "/")
    form["password"], form["confirm"] = password, confirm or password
    return form.submit(status=status)


def password_works(world, email, password):
    with world.db.session() as s:
        user = s.scalar(select(User).where(User.email == email))
        return verify_password(password, user.password_hash)[0]


class TestAsking:
    def test_sign_in_page_links_to_forgot(self, testapp):
        link = testapp.get("/login").html.select_one("#forgot-link")
        assert urlparse(link["href"]).path == "/account/forgot"

    def test_forgot_queues_a_reset_email_with_the_link(self, testapp, world):
        email = world.emails["customer"]
        page = ask(testapp, email.upper())
        assert SENT in page.html.select_one("#reset-sent").text
        ((recipient, tenant_id, body),) = reset_messages(world)
        assert (recipient, tenant_id) == (email, None)
        secret = reset_path(world, email).removeprefix("/reset/")
        assert secret not in page.text
        with world.db.session() as s:
            token = s.scalar(select(UserToken))
            assert token.user_id == world.user_ids["customer"]
            assert token.purpose == TokenPurpose.PASSWORD_RESET
            assert token.digest == token_digest(secret)
            assert token.expires_at - token.created_at == timedelta(hours=1)

    def test_unknown_email_gets_the_same_answer_and_no_email(self, testapp, world):
        known = ask(testapp, world.emails["customer"], address="192.0.2.11")
        unknown = ask(testapp, "nobody@example.test", address="192.0.2.12")
        assert unknown.status_int == known.status_int
        assert unknown.html.select_one("#reset-sent").text.replace(
            "nobody@example.test", world.emails["customer"]) == \
            known.html.select_one("#reset-sent").text
        assert [row.recipient for row in reset_messages(world)] == [world.emails["customer"]]

    def test_bad_email_is_400_naming_the_field(self, testapp, world):
        page = ask(testapp, "not-an-email", status=400)
        assert "is not an email address" in page.html.select_one("#email-error").text
        assert reset_messages(world) == []

    def test_forgot_is_throttled_per_account(self, testapp, world):
        email = world.emails["customer"]
        for n in range(MAX_REQUESTS_PER_ACCOUNT):
            ask(testapp, email, address=f"192.0.2.{20 + n}")
        page = ask(testapp, email, status=429, address="192.0.2.99")
        assert "Too many password reset requests for this email address" in page.text
        assert int(page.headers["Retry-After"]) > 0
        assert len(reset_messages(world)) == MAX_REQUESTS_PER_ACCOUNT

    def test_unknown_email_is_throttled_the_same(self, testapp, world):
        for _ in range(MAX_REQUESTS_PER_ACCOUNT):
            ask(testapp, "nobody@example.test")
        ask(testapp, "nobody@example.test", status=429)

    def test_forgot_is_throttled_per_address(self, testapp, world):
        for n in range(MAX_REQUESTS_PER_ADDRESS):
            ask(testapp, f"guess{n}@example.test", address="198.51.100.7")
        page = ask(testapp, world.emails["customer"], status=429, address="198.51.100.7")
        assert "from your address" in page.text
        ask(testapp, world.emails["customer"], address="198.51.100.8")

    def test_throttle_ends_after_the_window(self, testapp, world, clock):
        for _ in range(MAX_REQUESTS_PER_ACCOUNT):
            ask(testapp, world.emails["customer"])
        clock.advance(timedelta(hours=1))
        ask(testapp, world.emails["customer"])


class TestResetting:
    def test_reset_link_sets_the_password_and_signs_in(self, testapp, world):
        email = world.emails["customer"]
        ask(testapp, email)
        path = reset_path(world, email)
        page = testapp.get(path)
        assert page.headers["Cache-Control"] == "no-store"
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert email in page.text
        response = choose(testapp, path)
        assert urlparse(response.location).path == "/account/"
        assert "Your new password is set." in response.follow().text
        assert password_works(world, email, NEW_PASSWORD)
        assert not password_works(world, email, b.PASSWORD)
        testapp.reset()
        sign_in(testapp, email, NEW_PASSWORD)

    def test_reset_link_is_single_use(self, testapp, world):
        ask(testapp, world.emails["customer"])
        path = reset_path(world, world.emails["customer"])
        choose(testapp, path)
        testapp.reset()
        testapp.get(path, status=404)
        token = testapp.get("/login").forms["login-form"]["csrf_token"].value
        testapp.post(path + "/", {"csrf_token": token, "password": "yet-another-good-one",
                                  "confirm": "yet-another-good-one"}, status=404)
        assert password_works(world, world.emails["customer"], NEW_PASSWORD)

    def test_expired_link_is_not_found(self, testapp, world, clock):
        ask(testapp, world.emails["customer"])
        path = reset_path(world, world.emails["customer"])
        clock.advance(timedelta(hours=1))
        testapp.get(path, status=404)

    def test_unknown_link_is_not_found(self, testapp, world):
        testapp.get("/reset/not-a-real-secret", status=404)

    def test_a_new_request_ends_the_earlier_link(self, testapp, world):
        ask(testapp, world.emails["customer"])
        first = reset_path(world, world.emails["customer"])
        ask(testapp, world.emails["customer"])
        second = reset_path(world, world.emails["customer"])
        testapp.get(first, status=404)
        testapp.get(second, status=200)

    @pytest.mark.parametrize("password, confirm, field, message", [
        ("short", "short", "password", "at least 12 characters"),
        ("aaaaaaaaaaaa", "aaaaaaaaaaaa", "password", "is too easy to guess: it repeats"),
        ("password1234", "password1234", "password", "is too easy to guess"),
        (NEW_PASSWORD, "another-long-password", "confirm", "does not match"),
    ])
    def test_bad_password_is_400_and_link_still_works(self, testapp, world, password,
                                                      confirm, field, message):
        ask(testapp, world.emails["customer"])
        path = reset_path(world, world.emails["customer"])
        page = choose(testapp, path, password, confirm, status=400)
        assert message in page.html.select_one(f"#{field}-error").text
        assert password_works(world, world.emails["customer"], b.PASSWORD)
        testapp.get(path, status=200)

    def test_other_sessions_end(self, testapp, app, world):
        email = world.emails["customer"]
        elsewhere = webtest.TestApp(app, extra_environ={"HTTP_HOST": "booking.test"})
        sign_in(elsewhere, email)
        elsewhere.get("/account/", status=200)
        ask(testapp, email)
        choose(testapp, reset_path(world, email))
        testapp.get("/account/", status=200)
        response = elsewhere.get("/account/", status=303)
        assert urlparse(response.location).path == "/login"

    def test_a_token_claimed_elsewhere_cannot_be_used_again(self, world):
        """The claim is a conditional UPDATE: a request that loaded the token
        before another one used it fails instead of setting a password too."""
        with world.db.session() as s:
            user = s.get(User, world.user_ids["customer"])
            secret = PasswordResetService(s, NOW).new_token(user)
        with world.db.session() as s:
            stale = s.scalar(select(UserToken).where(UserToken.digest == token_digest(secret)))
            s.expunge(stale)
        with world.db.session() as s:
            assert PasswordResetService(s, NOW).reset(s.get(UserToken, stale.id), NEW_PASSWORD)
        with world.db.session() as s:
            assert stale.used_at is None
            assert PasswordResetService(s, NOW).reset(stale, "another-long-password") is None
        assert password_works(world, world.emails["customer"], NEW_PASSWORD)

    def test_walk_in_customer_sets_a_password_through_reset(self, testapp, world):
        with world.db.session() as s:
            s.add(User(email="walkin@example.test", name="Walk In",
                       password_hash=UNUSABLE_PASSWORD, created_at=b.EPOCH))
        ask(testapp, "walkin@example.test")
        choose(testapp, reset_path(world, "walkin@example.test"))
        testapp.reset()
        sign_in(testapp, "walkin@example.test", NEW_PASSWORD)
        with world.db.session() as s:
            assert s.scalar(select(func.count()).select_from(UserToken).where(
                UserToken.used_at.is_(None))) == 0



def test_a_reset_revokes_the_users_api_tokens(testapp, world):
    email = world.emails["customer"]
    bearer = {"Authorization": f"Bearer {world.tokens['customer']}"}
    testapp.get(f"/api/v1/t/{world.slug}/bookings", headers=bearer, status=200)
    ask(testapp, email)
    choose(testapp, reset_path(world, email))
    testapp.reset()
    testapp.get(f"/api/v1/t/{world.slug}/bookings", headers=bearer, status=401)

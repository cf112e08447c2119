"""Accounts on the site: register, sign in and out, profile, password."""

import pytest
import webtest
from sqlalchemy import select

from booking.models import User
from booking.security import SESSION_COOKIE
from booking.services.confirmation import MAX_PER_ADDRESS, MAX_PER_CLIENT

from .. import builders as b
from .mail import link_path, messages
from .site import form_by_action, sign_in


def register(testapp, **fields):
    form = form_by_action(testapp.get("/register"), "/register")
    for name, value in {"name": "Grace Hopper", "email": "grace@example.test",
                        "password": "compilers-are-great", **fields}.items():
        form[name] = value
    return form


CHECK_YOUR_EMAIL = "Check your email"


def test_register_says_check_your_email_and_does_not_sign_in(testapp, world):
    page = register(testapp).submit(status=200)
    assert CHECK_YOUR_EMAIL in page.text
    assert "My account" not in page.text
    with world.db.session() as s:
        user = s.scalar(select(User).where(User.email == "grace@example.test"))
        assert user.name == "Grace Hopper" and user.email_confirmed_at is None
    assert messages(world.db, "account.confirm", "grace@example.test")


def test_register_answers_the_same_for_an_address_with_an_account(testapp, world):
    new = register(testapp).submit()
    taken_email = world.emails["customer"].upper()
    taken = register(testapp, email=taken_email).submit()
    assert (taken.status_int, visible_text(taken, taken_email)) == (
        new.status_int, visible_text(new, "grace@example.test"))
    assert "already has an account" not in taken.text
    # The address is told, not the visitor.
    exists, = messages(world.db, "account.exists", world.emails["customer"])
    assert "/login" in exists.body_text and "/account/forgot" in exists.body_text
    assert not messages(world.db, "account.confirm", world.emails["customer"])


def visible_text(page, email):
    """The page's main text, with the address typed in it made neutral."""
    return page.html.select_one("main").get_text(" ", strip=True).replace(
        email.lower(), "EMAIL").replace(email.upper(), "EMAIL")


def test_unconfirmed_account_cannot_sign_in_with_its_password(testapp, world):
    register(testapp).submit(status=200)
    form = form_by_action(testapp.get("/login"), "/login")
    form["email"], form["password"] = "grace@example.test", "compilers-are-great"
    page = form.submit(status=403)
    assert "Confirm your email address first" in page.html.select_one("[role=alert]").text
    assert form_by_action(page, "/login")["email"].value == "grace@example.test"
    assert "My account" not in page.text


def test_unconfirmed_account_with_a_wrong_password_is_told_as_any_wrong_password(testapp, world):
    register(testapp).submit(status=200)
    form = form_by_action(testapp.get("/login"), "/login")
    form["email"], form["password"] = "grace@example.test", "not-the-password"
    assert "The email or the password is wrong." in form.submit(status=400).text


def test_confirmation_link_confirms_signs_in_and_works_once(testapp, world):
    register(testapp).submit(status=200)
    path = link_path(world.db, "account.confirm", "grace@example.test", "/confirm/")
    page = testapp.get(path)
    assert "Confirm my email address" in page.text
    page = page.forms["confirm-form"].submit(status=303).follow()
    assert "your address is confirmed" in page.text and "My account" in page.text
    testapp.get(path, status=404)
    form_by_action(testapp.get("/account"), "/logout").submit(status=303)
    sign_in(testapp, "grace@example.test", "compilers-are-great")
    assert "My account" in testapp.get("/account").text


def test_registering_an_unconfirmed_address_again_sends_a_new_link(testapp, world):
    register(testapp).submit(status=200)
    register(testapp).submit(status=200)
    first, second = messages(world.db, "account.confirm", "grace@example.test")
    assert first.body_text != second.body_text


def test_register_from_one_client_is_throttled_after_the_limit(testapp, world):
    statuses = [register(testapp, email=f"probe{n}@example.test").submit(
        expect_errors=True, extra_environ={"REMOTE_ADDR": "192.0.2.50"}).status_int
        for n in range(30)]
    assert statuses == [200] * MAX_PER_CLIENT + [429] * (30 - MAX_PER_CLIENT)


def test_register_of_one_address_is_throttled_whatever_the_client(testapp, world):
    statuses = [register(testapp, email=world.emails["customer"]).submit(
        expect_errors=True, extra_environ={"REMOTE_ADDR": f"192.0.2.{n}"}).status_int
        for n in range(MAX_PER_ADDRESS + 2)]
    assert statuses == [200] * MAX_PER_ADDRESS + [429] * 2
    assert messages(world.db, "account.exists", world.emails["customer"])


def test_register_explains_the_password_rule(testapp, world):
    page = register(testapp, password="too-short").submit(status=400)
    assert "must be at least 12 characters long" in page.text
    assert form_by_action(page, "/register")["email"].value == "grace@example.test"


@pytest.mark.parametrize("password, message", [
    ("aaaaaaaaaaaa", "is too easy to guess: it repeats characters or words."),
    ("password1234", "is too easy to guess: it is, or looks like, a common password."),
    ("qwertyuiopasdf", "is too easy to guess"),
    ("gracehopper1906", "is too easy to guess: it contains your name or your email address."),
])
def test_register_refuses_easily_guessed_password(testapp, world, password, message):
    page = register(testapp, password=password).submit(status=400)
    assert message in page.html.select_one("#password-error").text
    with world.db.session() as s:
        assert s.scalar(select(User).where(User.email == "grace@example.test")) is None


def test_register_weak_password_message_in_french(testapp, world):
    form = form_by_action(testapp.get("/register", headers={"Accept-Language": "fr"}), "/register")
    form["name"], form["email"], form["password"] = "Grace", "grace@example.test", "aaaaaaaaaaaa"
    page = form.submit(status=400, headers={"Accept-Language": "fr"})
    assert "est trop facile à deviner" in page.text


def test_register_refuses_bad_email(testapp, world):
    assert "is not an email address" in register(testapp, email="nobody").submit(status=400).text


@pytest.mark.parametrize("field, value", [
    ("name", "Grace\nBcc: x@example.test"), ("name", "Grace\x07"),
    ("phone", "0600\r\n"  "Bcc: x@example.test"), ("phone", "06\x0700"),
], ids=["name-lf", "name-bell", "phone-crlf", "phone-bell"])
def test_register_refuses_more_than_one_line_and_creates_nothing(testapp, world, field, value):
    page = register(testapp, **{field: value}).submit(status=400)
    assert "must be one line" in page.html.select_one(f"#{field}-error").text
    with world.db.session() as s:
        assert s.scalar(select(User).where(User.email == "grace@example.test")) is None


def test_sign_in_issues_a_new_session(testapp, world):
    testapp.get("/login")
    before = testapp.cookies[SESSION_COOKIE]
    sign_in(testapp, world.emails["customer"])
    assert testapp.cookies[SESSION_COOKIE] != before


def test_sign_out_ends_the_session(testapp, world):
    sign_in(testapp, world.emails["customer"])
    page = testapp.get("/account")
    form_by_action(page, "/logout").submit(status=303)
    assert "/login" in testapp.get("/account", status=303).location


def test_edit_name_and_phone(testapp, world):
    sign_in(testapp, world.emails["customer"])
    form = form_by_action(testapp.get("/account"), "/account/")
    form["name"], form["phone"] = "Chris C.", "+33 1 23 45 67 89"
    assert "Your details are saved." in form.submit(status=303).follow().text
    with world.db.session() as s:
        user = s.get(User, world.user_ids["customer"])
        assert (user.name, user.phone) == ("Chris C.", "+33 1 23 45 67 89")


def test_profile_requires_a_name(testapp, world):
    sign_in(testapp, world.emails["customer"])
    form = form_by_action(testapp.get("/account"), "/account/")
    form["name"] = "  "
    assert "is required" in form.submit(status=400).text


@pytest.mark.parametrize("field, value", [
    ("name", "Chris\nBcc: x@example.test"), ("name", "Chris\x07"),
    ("phone", "0600\nBcc: x@example.test"), ("phone", "06\x0700"),
], ids=["name-lf", "name-bell", "phone-lf", "phone-bell"])
def test_profile_refuses_more_than_one_line_and_writes_nothing(testapp, world, field, value):
    with world.db.session() as s:
        user = s.get(User, world.user_ids["customer"])
        before = (user.name, user.phone)
    sign_in(testapp, world.emails["customer"])
    form = form_by_action(testapp.get("/account"), "/account/")
    form["name"], form["phone"] = "Chris C.", "0611"
    form[field] = value
    page = form.submit(status=400)
    assert "must be one line" in page.html.select_one(f"#{field}-error").text
    with world.db.session() as s:
        user = s.get(User, world.user_ids["customer"])
        assert (user.name, user.phone) == before


def change_password(testapp, current, new, confirm=None):
    form = form_by_action(testapp.get("/account/password"), "/account/password")
    form["current"], form["new"], form["confirm"] = current, new, confirm or new
    return form


def test_change_password_ends_other_sessions(app, testapp, world):
    other_device = webtest.TestApp(app, extra_environ={"HTTP_HOST": "booking.test"})
    sign_in(other_device, world.emails["customer"])
    sign_in(testapp, world.emails["customer"])
    page = change_password(testapp, b.PASSWORD, "a-brand-new-password").submit(status=303).follow()
    assert "Your password is changed." in page.text
    testapp.get("/account", status=200)  # this session goes on
    assert "/login" in other_device.get("/account", status=303).location
    sign_in(testapp, world.emails["customer"], "a-brand-new-password")


def test_change_password_checks_current_and_confirmation(testapp, world):
    sign_in(testapp, world.emails["customer"])
    page = change_password(testapp, "wrong-password-99", "a-brand-new-password",
                           "another-new-password").submit(status=400)
    assert "is not your current password" in page.text
    assert "does not match the new password" in page.text


def test_change_password_refuses_easily_guessed_password(testapp, world):
    sign_in(testapp, world.emails["customer"])
    page = change_password(testapp, b.PASSWORD, "password1234").submit(status=400)
    assert "is too easy to guess" in page.html.select_one("#new-error").text
    assert sign_in(webtest.TestApp(testapp.app, extra_environ={"HTTP_HOST": "booking.test"}),
                   world.emails["customer"])


def test_forms_without_csrf_token_are_refused(testapp, world):
    sign_in(testapp, world.emails["customer"])
    testapp.post("/account", {"name": "X"}, status=400)
    testapp.post("/register", {"name": "X", "email": "x@example.test", "password": "p" * 12},
                 status=400)


def test_change_password_revokes_the_users_api_tokens(testapp, world):
    bearer = {"Authorization": f"Bearer {world.tokens['customer']}"}
    sign_in(testapp, world.emails["customer"])
    change_password(testapp, b.PASSWORD, "a-brand-new-password").submit(status=303)
    testapp.reset()
    testapp.get(f"/api/v1/t/{world.slug}/bookings", headers=bearer, status=401)
    other = {"Authorization": f"Bearer {world.tokens['other_customer']}"}
    testapp.get(f"/api/v1/t/{world.slug}/bookings", headers=other, status=200)

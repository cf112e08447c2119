"""Accounts on the site: register, sign in and out, profile, password."""

import pytest
import webtest
from sqlalchemy import select

from booking.models import User
from booking.security import SESSION_COOKIE

from .. import builders as b
from .site import form_by_action, sign_in


def register(testapp, **fields):
    form = form_by_action(testapp.get("/register"), "/register")
    for name, value in {"name": "Grace Hopper", "email": "grace@example.test",
                        "password": "compilers-are-great", **fields}.items():
        form[name] = value
    return form


def test_register_creates_account_and_signs_in(testapp, world):
    page = register(testapp).submit(status=303).follow()
    assert "Welcome! Your account is ready." in page.text
    assert "My account" in page.text
    with world.db.session() as s:
        assert s.scalar(select(User).where(User.email == "grace@example.test")).name == "Grace Hopper"


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


def test_register_refuses_taken_email(testapp, world):
    page = register(testapp, email=world.emails["customer"].upper()).submit(status=400)
    assert "already has an account" in page.text


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

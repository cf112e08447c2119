"""Pyramid is open by default; this app is not."""

import pytest
import webtest
from pyramid.config import Configurator
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED

from booking.security import SESSION_COOKIE
from booking.settings import SettingsError, parse_settings

from .. import builders as b


def bare_app(**views):
    """Our security settings and nothing else, plus the given views."""
    settings = parse_settings({"sqlalchemy.url": "sqlite://"})
    with Configurator(settings=settings) as config:
        config.include("booking.security")
        for name, options in views.items():
            config.add_view(lambda request: Response("reached"), name=name, **options)
    return webtest.TestApp(config.make_wsgi_app())


def test_view_without_permission_is_closed():
    bare_app(forgotten={}).get("/forgotten", status=403)


def test_view_that_opts_out_is_open():
    bare_app(public={"permission": NO_PERMISSION_REQUIRED}).get("/public", status=200)


def test_unsafe_method_requires_csrf_token():
    app = bare_app(form={"permission": NO_PERMISSION_REQUIRED, "request_method": "POST"})
    app.post("/form", {"x": "1"}, status=400)


def test_login_form_without_csrf_token_is_refused(testapp, world):
    response = testapp.post("/login", {"email": world.emails["customer"], "password": b.PASSWORD},
                            status=400)
    assert "CSRF" in response.text


def sign_in(testapp, email):
    form = testapp.get("/login").forms["login-form"]
    form["email"] = email
    form["password"] = b.PASSWORD
    return form.submit(status=303)


def test_login_sets_httponly_lax_cookie(testapp, world):
    response = sign_in(testapp, world.emails["customer"])
    cookie = next(v for k, v in response.headerlist if k == "Set-Cookie" and v.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_rotates_csrf_token(testapp, world):
    before = testapp.get("/login").forms["login-form"]["csrf_token"].value
    sign_in(testapp, world.emails["customer"])
    after = testapp.get("/login").forms["login-form"]["csrf_token"].value
    assert before != after


def test_login_with_wrong_password_says_so(testapp, world):
    form = testapp.get("/login").forms["login-form"]
    form["email"] = world.emails["customer"]
    form["password"] = "not-the-password"
    response = form.submit(status=400)
    assert "The email or the password is wrong." in response.text


def test_login_redirect_stays_on_site(testapp, world):
    form = testapp.get("/login", {"next": "//evil.example/"}).forms["login-form"]
    form["email"] = world.emails["customer"]
    form["password"] = b.PASSWORD
    assert form.submit(status=303).location.endswith("booking.test/")


def test_cookie_session_on_api_needs_csrf_for_writes(testapp, world):
    sign_in(testapp, world.emails["customer"])
    response = testapp.post(f"/api/v1/t/{world.slug}/bookings", "{}",
                            headers={"Content-Type": "application/json"}, status=400)
    assert response.json["error"]["code"] == "csrf"


def test_cookie_session_on_api_reads_without_token(testapp, world):
    sign_in(testapp, world.emails["customer"])
    assert testapp.get(f"/api/v1/t/{world.slug}/bookings").json == {"bookings": []}


def test_logout_requires_post(testapp, world):
    sign_in(testapp, world.emails["customer"])
    testapp.get("/logout", status=404)


def test_logout_ends_the_session(testapp, world):
    sign_in(testapp, world.emails["customer"])
    home = testapp.get("/")
    home.forms[0].submit(status=303)
    testapp.get(f"/api/v1/t/{world.slug}/bookings", status=401)



class TestPublicUrl:
    def test_public_url_comes_from_the_environment(self):
        settings = parse_settings({"sqlalchemy.url": "sqlite://"},
                                  {"BOOKING_PUBLIC_URL": "https://booking.example.test/"})
        assert settings["booking.public_url"] == "https://booking.example.test"

    def test_required_public_url_missing_is_a_configuration_error(self):
        with pytest.raises(SettingsError, match="BOOKING_PUBLIC_URL"):
            parse_settings({"sqlalchemy.url": "sqlite://", "booking.require_public_url": "true"},
                           {})

    @pytest.mark.parametrize("url", ["booking.example.test", "ftp://booking.example.test",
                                     "https://", "https://booking.example.test/?a=1"])
    def test_public_url_that_is_no_site_address_is_refused(self, url):
        with pytest.raises(SettingsError, match="http"):
            parse_settings({"sqlalchemy.url": "sqlite://", "booking.public_url": url}, {})

"""Signed-in browsers are rows (``user_sessions``): logout, "sign out
everywhere" and ending one session from My account end them on the server,
so a cookie saved before no longer opens anything."""

import re
from datetime import timedelta

import pytest
import requests
import webtest
from sqlalchemy import select

from booking.models import ApiToken, UserSession
from booking.security import SESSION_COOKIE
from booking.services.sessions import device_name

from ..conftest import NOW
from .. import builders as b
from ..servers import serve
from .site import form_by_action, sign_in

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")


def browser(app, user_agent=FIREFOX):
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "booking.test",
                                               "HTTP_USER_AGENT": user_agent})


def saved_cookie(testapp):
    return testapp.cookies[SESSION_COOKIE]


def replay(app, cookie):
    """A browser that sends ``cookie``, saved earlier, and nothing else."""
    thief = browser(app)
    thief.set_cookie(SESSION_COOKIE, cookie)
    return thief


def sessions_of(world, who="customer"):
    with world.db.session() as s:
        return s.execute(
            select(UserSession.id, UserSession.digest, UserSession.device,
                   UserSession.last_seen_at, UserSession.ended_at)
            .where(UserSession.user_id == world.user_ids[who]).order_by(UserSession.id)).all()


def security_page(testapp):
    return testapp.get("/account/security", status=200)


def test_logout_ends_the_session_on_the_server(app, world):
    testapp = browser(app)
    sign_in(testapp, world.emails["customer"])
    cookie = saved_cookie(testapp)
    form_by_action(testapp.get("/account/"), "/logout").submit(status=303)
    assert "/login" in replay(app, cookie).get("/account/", status=303).location
    [row] = sessions_of(world)
    assert row.ended_at == NOW


def test_cookie_of_a_live_session_opens_my_account(app, world):
    testapp = browser(app)
    sign_in(testapp, world.emails["customer"])
    replay(app, saved_cookie(testapp)).get("/account/", status=200)


def test_session_stored_only_as_digest(app, world):
    testapp = browser(app)
    sign_in(testapp, world.emails["customer"])
    [row] = sessions_of(world)
    assert row.digest not in saved_cookie(testapp) and len(row.digest) == 64


def test_session_idle_for_seven_days_ends(app, world, clock):
    testapp = browser(app)
    sign_in(testapp, world.emails["customer"])
    clock.instant = NOW + timedelta(days=7, minutes=1)
    assert "/login" in testapp.get("/account/", status=303).location


def test_session_in_use_lasts_past_seven_days(app, world, clock):
    testapp = browser(app)
    sign_in(testapp, world.emails["customer"])
    clock.instant = NOW + timedelta(days=6)
    testapp.get("/account/", status=200)
    clock.instant = NOW + timedelta(days=12)
    testapp.get("/account/", status=200)


def test_last_seen_moves_at_most_every_five_minutes(app, world, clock):
    testapp = browser(app)
    sign_in(testapp, world.emails["customer"])
    clock.instant = NOW + timedelta(minutes=4)
    testapp.get("/account/")
    assert sessions_of(world)[0].last_seen_at == NOW
    clock.instant = NOW + timedelta(minutes=6)
    testapp.get("/account/")
    assert sessions_of(world)[0].last_seen_at == NOW + timedelta(minutes=6)


def test_session_names_the_browser(app, world):
    sign_in(browser(app, SAFARI_IPHONE), world.emails["customer"])
    assert sessions_of(world)[0].device == "Safari · iOS"


@pytest.mark.parametrize("user_agent, name", [
    (FIREFOX, "Firefox · Linux"),
    (SAFARI_IPHONE, "Safari · iOS"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge · Windows"),
    ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome · Android"),
    ("curl/8.5.0", ""),
    (None, ""),
])
def test_device_name_from_user_agent(user_agent, name):
    assert device_name(user_agent) == name


def test_security_page_lists_sessions_and_marks_this_one(app, world):
    phone = browser(app, SAFARI_IPHONE)
    sign_in(phone, world.emails["customer"])
    laptop = browser(app)
    sign_in(laptop, world.emails["customer"])
    rows = security_page(laptop).html.select("table.sessions tbody tr")
    assert [row.th.text.split("(")[0].strip() for row in rows] == ["Firefox · Linux",
                                                                   "Safari · iOS"]
    assert "this browser" in rows[0].text and "this browser" not in rows[1].text


def test_ending_one_session_signs_that_browser_out(app, world):
    phone = browser(app, SAFARI_IPHONE)
    sign_in(phone, world.emails["customer"])
    laptop = browser(app)
    sign_in(laptop, world.emails["customer"])
    phone_row = next(row for row in sessions_of(world) if row.device == "Safari · iOS")
    page = security_page(laptop)
    form = next(form for form in page.forms.values()
                if form.action.endswith("/end-session") and form["id"].value == str(phone_row.id))
    page = form.submit(status=303).follow()
    assert "The session is ended" in page.text
    assert "/login" in phone.get("/account/", status=303).location
    laptop.get("/account/", status=200)


def test_ending_this_browsers_session_signs_it_out(app, world):
    laptop = browser(app)
    sign_in(laptop, world.emails["customer"])
    [row] = sessions_of(world)
    form = form_by_action(security_page(laptop), "/end-session")
    assert form["id"].value == str(row.id)
    form.submit(status=303)
    assert "/login" in laptop.get("/account/", status=303).location


def test_another_users_session_cannot_be_ended(app, world):
    victim = browser(app)
    sign_in(victim, world.emails["other_customer"])
    [victim_row] = sessions_of(world, "other_customer")
    attacker = browser(app)
    sign_in(attacker, world.emails["customer"])
    form = form_by_action(security_page(attacker), "/end-session")
    form["id"].force_value(str(victim_row.id))
    assert "already ended" in form.submit(status=303).follow().text
    victim.get("/account/", status=200)


def test_sign_out_everywhere_ends_every_browser_and_token(app, world):
    phone = browser(app, SAFARI_IPHONE)
    sign_in(phone, world.emails["customer"])
    laptop = browser(app)
    sign_in(laptop, world.emails["customer"])
    bearer = {"Authorization": f"Bearer {world.tokens['customer']}"}
    laptop.get(f"/api/v1/t/{world.slug}/bookings", headers=bearer, status=200)
    form_by_action(security_page(laptop), "/sign-out-everywhere").submit(status=303)
    assert "/login" in phone.get("/account/", status=303).location
    assert "/login" in laptop.get("/account/", status=303).location
    laptop.get(f"/api/v1/t/{world.slug}/bookings", headers=bearer, status=401)
    assert all(row.ended_at == NOW for row in sessions_of(world))


def test_sign_out_everywhere_leaves_other_users_signed_in(app, world):
    other = browser(app)
    sign_in(other, world.emails["other_customer"])
    laptop = browser(app)
    sign_in(laptop, world.emails["customer"])
    form_by_action(security_page(laptop), "/sign-out-everywhere").submit(status=303)
    other.get("/account/", status=200)
    with world.db.session() as s:
        assert s.scalars(select(ApiToken.revoked_at)
                         .where(ApiToken.user_id == world.user_ids["other_customer"])).all() \
            == [None]


def test_security_page_asks_anonymous_visitors_to_sign_in(testapp, world):
    assert "/login" in testapp.get("/account/security", status=303).location


def test_security_forms_require_csrf(app, world):
    laptop = browser(app)
    sign_in(laptop, world.emails["customer"])
    laptop.post("/account/sign-out-everywhere", status=400)
    laptop.get("/account/", status=200)


def test_account_pages_link_to_security(app, world):
    laptop = browser(app)
    sign_in(laptop, world.emails["customer"])
    for path in ("/account/", "/account/password"):
        links = [a["href"] for a in laptop.get(path).html.select("a")]
        assert any(link.endswith("/account/security") for link in links)


class TestThroughARealServer:
    """The same over HTTP: waitress, real cookies, a browser-like client."""

    @pytest.fixture
    def server(self, app):
        with serve(app) as url:
            yield url

    def sign_in(self, server, email):
        client = requests.Session()
        page = client.get(f"{server}/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        response = client.post(f"{server}/login", data={
            "csrf_token": csrf, "email": email, "password": b.PASSWORD},
            allow_redirects=False)
        assert response.status_code == 303
        return client

    def test_cookie_saved_before_logout_no_longer_opens_my_account(self, server, world):
        client = self.sign_in(server, world.emails["customer"])
        saved = client.cookies.get(SESSION_COOKIE)
        page = client.get(f"{server}/account/")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        assert client.post(f"{server}/logout", data={"csrf_token": csrf},
                           allow_redirects=False).status_code == 303
        response = requests.get(f"{server}/account/", cookies={SESSION_COOKIE: saved},
                                allow_redirects=False)
        assert response.status_code == 303 and "/login" in response.headers["Location"]

"""Private answers are never stored by a cache: pages (they show who is
signed in), the API, the exports and the token response say ``no-store``;
static files keep their own cache; production adds HSTS."""

import webtest

from booking import main

from ..conftest import app_settings
from .api import IN_A_WEEK, at, bearer, book, post_json
from .site import sign_in


def test_a_signed_in_page_is_not_stored(testapp, world):
    sign_in(testapp, world.emails["customer"])
    assert testapp.get("/account/").headers["Cache-Control"] == "no-store"


def test_api_answers_and_the_token_are_not_stored(testapp, world):
    listed = testapp.get(f"/api/v1/t/{world.slug}/bookings", headers=bearer(world, "customer"))
    assert listed.headers["Cache-Control"] == "no-store"
    token = post_json(testapp, "/api/v1/tokens",
                      {"email": world.emails["customer"], "password": "correct-horse-battery"},
                      status=201)
    assert token.headers["Cache-Control"] == "no-store"


def test_the_booking_calendar_file_and_the_staff_export_are_not_stored(testapp, world):
    booking_id = book(testapp, world, start=at(IN_A_WEEK, 10)).json["id"]
    sign_in(testapp, world.emails["customer"])
    ics = testapp.get(f"/t/{world.slug}/bookings/{booking_id}/booking.ics")
    assert ics.headers["Cache-Control"] == "no-store"
    testapp.reset()
    sign_in(testapp, world.emails["manager"])
    csv = testapp.get(f"/t/{world.slug}/manage/bookings/export.csv")
    assert csv.headers["Cache-Control"] == "no-store"


def test_static_files_keep_their_cache(testapp):
    response = testapp.get("/static/js/app.js")
    assert "max-age=3600" in response.headers["Cache-Control"]


def test_hsts_only_where_configured(testapp, db):
    assert "Strict-Transport-Security" not in testapp.get("/login").headers
    production = webtest.TestApp(main({}, **app_settings(db, **{"booking.hsts": "true"})),
                                 extra_environ={"HTTP_HOST": "booking.test"})
    assert production.get("/login").headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains")

"""Bad input: each case a 4xx that names the problem, and nothing written."""

import json

import pytest
from sqlalchemy import func, select

from booking.models import AuditLog, Booking

from .api import TOMORROW, at, bearer

GOOD = {"resource_id": None, "start": at(TOMORROW, 10)}


def bookings_url(world):
    return f"/api/v1/t/{world.slug}/bookings"


def send(testapp, world, raw, status, content_type="application/json"):
    return testapp.post(bookings_url(world), raw, status=status,
                        headers={"Content-Type": content_type, **bearer(world, "customer")})


def assert_nothing_written(world):
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Booking)) == 0
        assert s.scalar(select(func.count()).select_from(AuditLog)) == 0


def body(world, **changes):
    data = {**GOOD, "resource_id": world.court_id, **changes}
    return json.dumps({k: v for k, v in data.items() if v is not ...})


@pytest.mark.parametrize("raw, field, words", [
    (b"{not json", "body", "not valid JSON"),
    (b"\xff\xfe{}", "body", "not valid UTF-8"),
    (b"[1, 2]", "body", "must be a JSON object"),
    (b"", "body", "empty"),
    (b"[" * 100_000, "body", "nested too deeply"),
])
def test_malformed_body_is_400(testapp, world, raw, field, words):
    error = send(testapp, world, raw, 400).json["error"]
    assert (error["code"], error["field"]) == ("invalid", field)
    assert words in error["message"]
    assert_nothing_written(world)


@pytest.mark.parametrize("changes, field, words", [
    ({"seats": "2"}, "seats", "must be an integer"),
    ({"seats": True}, "seats", "must be an integer"),
    ({"seats": 0}, "seats", "at least 1"),
    ({"seats": 2}, "seats", "between 1 and 1"),
    ({"resource_id": "court"}, "resource_id", "must be an integer"),
    ({"resource_id": ...}, "resource_id", "is required"),
    ({"start": ...}, "start", "is required"),
    ({"start": 1741000000}, "start", "ISO 8601"),
    ({"start": "tomorrow at ten"}, "start", "ISO 8601"),
    ({"start": "2026-03-03T10:00:00"}, "start", "UTC offset"),
    ({"start": "3026-03-03T10:00:00+01:00"}, "start", "between the years"),
    ({"start": "2026-03-03T10:30:00+01:00"}, "start", "not a slot"),
    ({"start": "2026-03-01T10:00:00+01:00"}, "start", "in the past"),
    ({"start": "2028-03-03T10:00:00+01:00"}, "start", "too far ahead"),
    ({"note": 42}, "note", "must be a string"),
    ({"note": "x" * 1001}, "note", "at most 1000"),
    ({"colour": "red"}, "colour", "not a field"),
])
def test_invalid_field_is_400_naming_it(testapp, world, changes, field, words):
    error = send(testapp, world, body(world, **changes), 400).json["error"]
    assert error["field"] == field
    assert words in error["message"]
    assert_nothing_written(world)


def test_seats_over_capacity_of_class(testapp, world):
    error = send(testapp, world, body(world, resource_id=world.yoga_id, seats=11), 400).json["error"]
    assert (error["field"], error["message"]) == ("seats", "must be between 1 and 10 (the resource's capacity)")
    assert_nothing_written(world)


def test_oversized_body_is_413(testapp, world):
    raw = json.dumps({"note": "x" * (1024 * 1024 + 10)})
    error = send(testapp, world, raw, 413).json["error"]
    assert error["code"] == "too_large"
    assert_nothing_written(world)


def test_idempotency_key_too_long_is_400(testapp, world):
    response = testapp.post(bookings_url(world), body(world), status=400,
                            headers={"Content-Type": "application/json",
                                     "Idempotency-Key": "k" * 256, **bearer(world, "customer")})
    assert response.json["error"]["field"] == "Idempotency-Key"
    assert_nothing_written(world)


def availability(testapp, world, status=400, **params):
    url = f"/api/v1/t/{world.slug}/venues/{world.venue_id}/resources/{world.court_id}/availability"
    return testapp.get(url, params, status=status)


@pytest.mark.parametrize("params, field, words", [
    ({"from": "2026-13-01"}, "from", "YYYY-MM-DD"),
    ({"from": "03/03/2026"}, "from", "YYYY-MM-DD"),
    ({"from": "2026-03-10", "to": "2026-03-09"}, "to", "before 'from'"),
    ({"from": "2026-03-01", "to": "2026-06-01"}, "to", "at most 62 days"),
    ({"from": "2024-01-01", "to": "2024-01-02"}, "from", "in the past"),
    ({"from": "2029-01-01", "to": "2029-01-02"}, "to", "days ahead"),
    ({"tz": "Mars/Olympus_Mons"}, "tz", "IANA time zone"),
    ({"tz": "../../etc/passwd"}, "tz", "IANA time zone"),
    ({"colour": "red"}, "colour", "not a field"),
])
def test_bad_availability_query_is_400(testapp, world, params, field, words):
    error = availability(testapp, world, **params).json["error"]
    assert error["field"] == field
    assert words in error["message"]


def test_repeated_query_parameter_is_400(testapp, world):
    url = f"/api/v1/t/{world.slug}/venues/{world.venue_id}/resources/{world.court_id}/availability"
    error = testapp.get(url + "?from=2026-03-03&from=2026-03-04", status=400).json["error"]
    assert error["field"] == "from"


def test_reschedule_with_bad_start_is_400_and_keeps_booking(testapp, world):
    booking = send(testapp, world, body(world), 201).json
    response = testapp.post(f"{bookings_url(world)}/{booking['id']}/reschedule",
                            json.dumps({"start": "soon"}), status=400,
                            headers={"Content-Type": "application/json", **bearer(world, "customer")})
    assert response.json["error"]["field"] == "start"


@pytest.mark.parametrize("changes, field", [
    ({"resource_id": 10**30}, "resource_id"),
    ({"resource_id": 2**40}, "resource_id"),
    ({"note": "\ud800"}, "note"),
])
def test_values_the_database_cannot_hold_are_400(testapp, world, changes, field):
    error = send(testapp, world, body(world, **changes), 400).json["error"]
    assert error["field"] == field
    assert_nothing_written(world)


@pytest.mark.parametrize("path", [
    "/api/v1/t/club/bookings/%C2%B2",
    "/api/v1/t/club/venues/%D9%A3",
])
def test_non_ascii_digits_in_ids_are_404(testapp, world, path):
    testapp.get(path, headers=bearer(world, "customer"), status=404)


# WebTest's cookie jar cannot file a cookie under a path that is not UTF-8.
@pytest.mark.filterwarnings("ignore:http.cookiejar bug")
@pytest.mark.parametrize("url", ["/t/%ff/", "/api/v1/t/%ff"])
def test_path_not_utf8_is_400(testapp, world, url):
    testapp.get(url, status=400)


def test_query_not_utf8_is_400(testapp, world):
    url = f"/api/v1/t/{world.slug}/venues/{world.venue_id}/resources/{world.court_id}/availability"
    testapp.get(url + "?from=%ff", status=400)


def test_time_zone_that_is_a_directory_is_400(testapp, world):
    error = availability(testapp, world, tz="America").json["error"]
    assert error["field"] == "tz"


def test_error_messages_do_not_echo_python_internals(testapp, world):
    url = f"/api/v1/t/{world.slug}/bookings"
    error = testapp.get(url, {"limit": "²"}, headers=bearer(world, "customer"), status=400).json["error"]
    assert error["message"] == "must be an integer"


def test_login_with_file_upload_is_400(testapp, world):
    form = testapp.get("/login").forms["login-form"]
    testapp.post("/login", {"csrf_token": form["csrf_token"].value, "password": "x"},
                 upload_files=[("email", "a.txt", b"x")], status=400)


def test_login_next_with_newline_stays_on_site(testapp, world):
    from .. import builders as b

    form = testapp.get("/login", {"next": "/t/club/\r\nSet-Cookie: x=1"}).forms["login-form"]
    form["email"] = world.emails["customer"]
    form["password"] = b.PASSWORD
    response = form.submit(status=303)
    assert "\n" not in response.location and response.location.endswith("booking.test/")

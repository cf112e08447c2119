"""My bookings: the list, one booking, cancel and reschedule on the site."""

from datetime import timedelta

from sqlalchemy import select

from booking.models import Booking

from .api import IN_A_WEEK, TOMORROW, at, book
from .site import form_by_action, sign_in


def booking_page(world, booking_id):
    return f"/t/{world.slug}/bookings/{booking_id}/"


def test_list_shows_upcoming_and_past(testapp, world, clock):
    soon = book(testapp, world, start=at(TOMORROW, 10)).json
    later = book(testapp, world, start=at(IN_A_WEEK, 10)).json
    clock.advance(timedelta(days=2))
    sign_in(testapp, world.emails["customer"])
    page = testapp.get(f"/t/{world.slug}/bookings/")
    upcoming = page.html.select("section[aria-labelledby=upcoming] li")
    past = page.html.select("section[aria-labelledby=past] li")
    assert [later["reference"] in li.text for li in upcoming] == [True]
    assert [soon["reference"] in li.text for li in past] == [True]


def test_list_requires_sign_in(testapp, world):
    assert "/login?next=" in testapp.get(f"/t/{world.slug}/bookings/", status=303).location


def test_cancel_inside_window_with_reason(testapp, world):
    booking_id = book(testapp, world, start=at(IN_A_WEEK, 10)).json["id"]
    sign_in(testapp, world.emails["customer"])
    page = testapp.get(booking_page(world, booking_id))
    form = form_by_action(page, "/cancel")
    form["reason"] = "Sprained ankle"
    page = form.submit(status=303).follow()
    assert "Your booking is cancelled." in page.text
    assert page.html.select_one(".status").get_text() == "cancelled"
    with world.db.session() as s:
        assert s.get(Booking, booking_id).cancel_reason == "Sprained ankle"


def test_outside_window_buttons_are_gone_and_server_refuses(testapp, world, clock):
    booking_id = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
    clock.advance(timedelta(hours=1))
    sign_in(testapp, world.emails["customer"])
    page = testapp.get(booking_page(world, booking_id))
    assert not [f for f in page.forms.values() if f.action.endswith("/cancel")]
    assert "Move to another time" not in page.text
    assert "contact the venue" in page.text
    token = page.forms[0]["csrf_token"].value
    refused = testapp.post(booking_page(world, booking_id) + "cancel",
                           {"csrf_token": token}, status=403)
    assert "cancellation window has closed" in refused.text
    testapp.get(booking_page(world, booking_id) + "reschedule", status=403)


def test_reschedule_to_a_free_slot(testapp, world):
    booking_id = book(testapp, world, start=at(IN_A_WEEK, 10)).json["id"]
    sign_in(testapp, world.emails["customer"])
    page = testapp.get(booking_page(world, booking_id) + "reschedule", {"from": IN_A_WEEK.isoformat()})
    forms = [f for f in page.forms.values() if f.action.endswith("/reschedule") and f.method.lower() == "post"]
    target = next(f for f in forms if f["start"].value.startswith(f"{IN_A_WEEK.isoformat()}T10"))
    page = target.submit(status=303).follow()
    assert "Your booking has moved." in page.text
    with world.db.session() as s:
        assert s.get(Booking, booking_id).starts_at.hour == 10  # 11:00 in Paris


def test_reschedule_to_slot_taken_meanwhile_keeps_booking(testapp, world):
    booking_id = book(testapp, world, start=at(IN_A_WEEK, 10)).json["id"]
    sign_in(testapp, world.emails["customer"])
    page = testapp.get(booking_page(world, booking_id) + "reschedule", {"from": IN_A_WEEK.isoformat()})
    forms = [f for f in page.forms.values() if f.action.endswith("/reschedule") and f.method.lower() == "post"]
    target = next(f for f in forms if f["start"].value.startswith(f"{IN_A_WEEK.isoformat()}T10"))
    book(testapp, world, who="other_customer", start=at(IN_A_WEEK, 11))
    response = target.submit(status=409)
    assert "already booked" in response.text
    with world.db.session() as s:
        booking = s.get(Booking, booking_id)
        assert (booking.starts_at.hour, booking.status) == (9, "confirmed")


def test_other_customers_booking_is_404(testapp, world):
    booking_id = book(testapp, world, start=at(IN_A_WEEK, 10)).json["id"]
    sign_in(testapp, world.emails["other_customer"])
    testapp.get(booking_page(world, booking_id), status=404)
    testapp.get(booking_page(world, booking_id) + "booking.ics", status=404)


def test_anonymous_booking_page_asks_to_sign_in(testapp, world):
    booking_id = book(testapp, world, start=at(IN_A_WEEK, 10)).json["id"]
    response = testapp.get(booking_page(world, booking_id), status=303)
    assert "/login?next=" in response.location


def test_calendar_file_is_stamped_by_the_apps_clock(testapp, world, clock):
    booking_id = book(testapp, world, start=at(IN_A_WEEK, 10)).json["id"]
    sign_in(testapp, world.emails["customer"])
    body = testapp.get(booking_page(world, booking_id) + "booking.ics").text
    assert f"DTSTAMP:{clock.now().strftime('%Y%m%dT%H%M%SZ')}" in body


def test_booking_page_shows_the_customers_own_time_too(testapp, world):
    booking_id = book(testapp, world, start=at(IN_A_WEEK, 10)).json["id"]
    sign_in(testapp, world.emails["customer"])
    testapp.set_cookie("booking_tz", "America/New_York")
    facts = testapp.get(booking_page(world, booking_id)).html.select_one("dl.facts")
    text = facts.get_text(" ", strip=True).replace("\u202f", " ")
    assert "Your time" in text and "5:00 AM" in text and "(America/New_York)" in text
    listed = testapp.get(f"/t/{world.slug}/bookings/").text.replace("\u202f", " ")
    assert "your time: " in listed


def test_booking_page_leaves_out_the_own_time_in_the_venues_zone(testapp, world):
    booking_id = book(testapp, world, start=at(IN_A_WEEK, 10)).json["id"]
    sign_in(testapp, world.emails["customer"])
    testapp.set_cookie("booking_tz", "Europe/Paris")
    assert "Your time" not in testapp.get(booking_page(world, booking_id)).text

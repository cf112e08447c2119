"""Booking on the site: slot → details → account → review → confirm."""

import icalendar
import pytest
from sqlalchemy import func, select

from booking.models import Booking, User

from .. import builders as b
from .api import TOMORROW, at, book
from .mail import link_path, messages
from .site import form_by_action, resource_url, sign_in, slot_links, start_of


def count(world, model=Booking):
    with world.db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def details_for(testapp, world, index=3, resource="court"):
    link = slot_links(testapp.get(resource_url(world, resource), {"from": TOMORROW.isoformat()}))[index]
    return testapp.get(link), start_of(link)


def book_with_inline_account(testapp, world, email, name="Ada Lovelace"):
    """Choose a slot, make an account inline, review and confirm: the page
    the visitor lands on."""
    details, start = details_for(testapp, world)
    form = form_by_action(details, "/book")
    form["account"] = "register"
    form["name"], form["email"], form["password"] = name, email, "analytical-engine"
    review = form.submit(status=303).follow()
    text = review.html.select_one("main").get_text(" ", strip=True)
    assert "Review your booking" in text and "€20.00" in text and "paid at the venue" in text
    assert "You can cancel or move this booking until" in text
    return form_by_action(review, "/confirm").submit(status=303).follow(), start


def test_new_customer_registers_inline_and_books_at_once(testapp, world):
    page, start = book_with_inline_account(testapp, world, "ada@example.test")
    assert "Booked! Your reference is" in page.text and "check your email" in page.text
    with world.db.session() as s:
        booking = s.scalar(select(Booking))
        assert booking.starts_at == start and booking.status == "confirmed"
        customer = s.get(User, booking.customer_id)
        assert (customer.email, customer.email_confirmed_at) == ("ada@example.test", None)


def test_inline_account_confirmation_email_carries_the_confirm_link(testapp, world):
    book_with_inline_account(testapp, world, "ada@example.test")
    (message,) = messages(world.db, "booking.confirmed", "ada@example.test")
    assert "/confirm/" in message.body_text and "/confirm/" in message.body_html
    testapp.reset()
    path = link_path(world.db, "booking.confirmed", "ada@example.test", "/confirm/")
    testapp.get(path).forms["confirm-form"].submit(status=303)
    page = testapp.get("/t/club/bookings/")
    assert "Court" in page.text  # signed in, their booking is theirs
    with world.db.session() as s:
        assert s.scalar(select(User.email_confirmed_at).where(
            User.email == "ada@example.test")) is not None


def test_inline_account_answers_the_same_for_an_address_with_an_account(testapp, world):
    new, _ = book_with_inline_account(testapp, world, "ada@example.test")
    testapp.reset()
    taken, _ = book_with_inline_account(testapp, world, world.emails["customer"].upper(),
                                        name="Mallory")
    assert new.status_int == taken.status_int and new.request.path == taken.request.path
    texts = [page.html.select_one(".flash").get_text(" ", strip=True) for page in (new, taken)]
    references = []
    with world.db.session() as s:
        for booking in s.scalars(select(Booking).order_by(Booking.id)):
            references.append(booking.reference)
        (contact,) = s.scalars(select(Booking).where(Booking.customer_id.is_(None))).all()
        # Not put into the account of whoever owns the address.
        assert contact.contact_email == world.emails["customer"]
        assert s.scalar(select(func.count()).select_from(Booking).where(
            Booking.customer_id == world.user_ids["customer"])) == 0
    assert [text.replace(ref, "REF") for text, ref in zip(texts, references)] == [
        texts[0].replace(references[0], "REF")] * 2
    # The address is told of the booking made with it, with no confirm link.
    (message,) = messages(world.db, "booking.confirmed", world.emails["customer"])
    assert "/confirm/" not in message.body_text
    assert "not linked to an account" in message.body_text


def test_existing_customer_signs_in_inline(testapp, world):
    details, _ = details_for(testapp, world)
    form = form_by_action(details, "/book")
    form["email"], form["password"] = world.emails["customer"], b.PASSWORD
    review = form.submit(status=303).follow()
    form_by_action(review, "/confirm").submit(status=303)
    assert count(world) == 1


def test_wrong_password_inline_keeps_input(testapp, world):
    details, _ = details_for(testapp, world, resource="yoga")
    form = form_by_action(details, "/book")
    form["seats"], form["note"] = "2", "Window seat please"
    form["email"], form["password"] = world.emails["customer"], "not-the-password"
    page = form.submit(status=400)
    assert "The email or the password is wrong." in page.text
    again = form_by_action(page, "/book")
    assert (again["seats"].value, again["note"].value, again["email"].value) == (
        "2", "Window seat please", world.emails["customer"])
    assert count(world) == 0


def test_registration_password_rule_is_explained(testapp, world):
    details, _ = details_for(testapp, world)
    form = form_by_action(details, "/book")
    form["account"], form["name"], form["email"], form["password"] = "register", "Bo", "bo@example.test", "short"
    page = form.submit(status=400)
    assert "must be at least 12 characters long" in page.text
    assert count(world, User) == 7


@pytest.mark.parametrize("field, value", [
    ("name", "Bo\nBcc: x@example.test"), ("name", "Bo\x07"),
    ("phone", "0600\r\nBcc: x@example.test"), ("phone", "06\x0700"),
], ids=["name-lf", "name-bell", "phone-crlf", "phone-bell"])
def test_inline_registration_refuses_more_than_one_line(testapp, world, field, value):
    details, _ = details_for(testapp, world)
    form = form_by_action(details, "/book")
    form["account"], form["name"], form["email"] = "register", "Bo", "bo@example.test"
    form["password"], form[field] = "analytical-engine", value
    page = form.submit(status=400)
    assert "must be one line" in page.html.select_one(f"#{field}-error").text
    assert count(world, User) == 7 and count(world) == 0


def test_signed_in_customer_goes_straight_to_review(testapp, world):
    sign_in(testapp, world.emails["customer"])
    details, _ = details_for(testapp, world)
    assert "email" not in form_by_action(details, "/book").fields
    form_by_action(details, "/book").submit(status=303)


def test_double_submitted_confirm_makes_one_booking(testapp, world):
    sign_in(testapp, world.emails["customer"])
    details, _ = details_for(testapp, world)
    review = form_by_action(details, "/book").submit().follow()
    confirm = form_by_action(review, "/confirm")
    first = confirm.submit(status=303)
    second = confirm.submit(status=303)
    assert first.location == second.location
    assert count(world) == 1


def test_slot_taken_meanwhile_is_told_plainly_with_nearest_slots(testapp, world):
    sign_in(testapp, world.emails["customer"])
    details, start = details_for(testapp, world)
    review = form_by_action(details, "/book").submit().follow()
    book(testapp, world, who="other_customer", start=start.isoformat())
    page = form_by_action(review, "/confirm").submit(status=409)
    assert "Sorry, this slot is taken" in page.text
    assert "Nothing was booked" in page.text
    assert len(page.html.select(".alternatives a.slot")) == 4  # 3 times, 1 other venue
    assert count(world) == 1


def test_opening_a_taken_slot_offers_alternatives(testapp, world):
    book(testapp, world, start=at(TOMORROW, 10))
    page = testapp.get(resource_url(world) + "book", {"start": at(TOMORROW, 10)}, status=409)
    assert "This slot is no longer free." in page.text


def test_more_seats_than_left_is_refused(testapp, world):
    sign_in(testapp, world.emails["customer"])
    book(testapp, world, who="other_customer", resource="yoga", start=at(TOMORROW, 10), seats=9)
    page = testapp.get(resource_url(world, "yoga") + "book", {"start": at(TOMORROW, 10)})
    form = form_by_action(page, "/book")
    form["seats"] = "2"
    page = form.submit(status=400)
    assert "only 1 place(s) left at this time" in page.text


def test_confirm_without_csrf_is_refused(testapp, world):
    sign_in(testapp, world.emails["customer"])
    testapp.post(resource_url(world) + "confirm",
                 {"start": at(TOMORROW, 10), "seats": "1", "key": "k" * 32}, status=400)
    assert count(world) == 0


def test_confirm_requires_sign_in(testapp, world):
    page = testapp.get("/login")
    token = page.forms["login-form"]["csrf_token"].value
    response = testapp.post(resource_url(world) + "confirm",
                            {"csrf_token": token, "start": at(TOMORROW, 10), "seats": "1",
                             "key": "k" * 32}, status=303)
    assert "/login?next=" in response.location


def test_add_to_calendar_is_valid_icalendar(testapp, world):
    sign_in(testapp, world.emails["customer"])
    details, start = details_for(testapp, world)
    review = form_by_action(details, "/book").submit().follow()
    booking_url = form_by_action(review, "/confirm").submit().location
    response = testapp.get(booking_url + "booking.ics")
    assert response.content_type == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    calendar = icalendar.Calendar.from_ical(response.body)
    event = next(component for component in calendar.walk("VEVENT"))
    assert event.decoded("dtstart") == start
    assert str(event["summary"]).startswith("Court · ")
    assert str(event["location"]) == "Centre"


def test_bad_seats_or_note_in_link_fall_back_to_defaults(testapp, world):
    link = slot_links(testapp.get(resource_url(world, "yoga"), {"from": TOMORROW.isoformat()}))[0]
    for extra in ("&seats=abc", "&seats=0", "&note=" + "x" * 1001):
        page = testapp.get(link + extra, status=200)
        assert form_by_action(page, "/book")["seats"].value == "1"


def test_inline_registration_refuses_long_phone_and_nul(testapp, world):
    details, _ = details_for(testapp, world)
    form = form_by_action(details, "/book")
    form["account"], form["name"], form["email"] = "register", "Bo", "bo@example.test"
    form["password"], form["phone"] = "a-long-enough-password", "1" * 500
    assert "must be at most 40 characters long" in form.submit(status=400).text
    assert count(world, User) == 7


def test_nul_in_sign_in_email_is_refused(testapp, world):
    page = testapp.get("/login")
    token = page.forms["login-form"]["csrf_token"].value
    testapp.post("/login", {"csrf_token": token, "email": "a\x00@b.c", "password": "x"}, status=400)


def test_non_ascii_next_is_not_followed(testapp, world):
    form = testapp.get("/login", {"next": "/☃"}).forms["login-form"]
    form["email"], form["password"] = world.emails["customer"], b.PASSWORD
    assert form.submit(status=303).location == "http://booking.test/"


def test_multipart_without_boundary_is_400(testapp, world):
    testapp.post("/login", b"x", headers={"Content-Type": "multipart/form-data"}, status=400)


def test_resubmitting_confirm_after_cancel_does_not_say_booked(testapp, world):
    sign_in(testapp, world.emails["customer"])
    details, _ = details_for(testapp, world, index=30)
    review = form_by_action(details, "/book").submit().follow()
    confirm = form_by_action(review, "/confirm")
    page = confirm.submit(status=303).follow()
    form_by_action(page, "/cancel").submit(status=303)
    again = confirm.submit(status=303).follow()
    assert "Booked!" not in again.text
    assert "was cancelled" in again.text
    assert count(world) == 1


def test_two_review_tabs_make_one_booking(testapp, world):
    sign_in(testapp, world.emails["customer"])
    details, _ = details_for(testapp, world, resource="yoga")
    review_url = form_by_action(details, "/book").submit().location
    first, second = testapp.get(review_url), testapp.get(review_url)
    form_by_action(first, "/confirm").submit(status=303)
    form_by_action(second, "/confirm").submit(status=303)
    assert count(world) == 1


def test_review_says_when_changes_are_no_longer_possible(testapp, world):
    sign_in(testapp, world.emails["customer"])
    details, _ = details_for(testapp, world, index=0)  # tomorrow 08:00: inside the 24 h window
    review = form_by_action(details, "/book").submit().follow()
    assert "cannot be cancelled or moved online" in review.text

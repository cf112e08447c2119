"""Issue 21: every surface shows the price as the pricing service made it
(the slot grid's offer marks, the review, the booking's page, My bookings,
the emails, the staff page, the CSV, the API), and promo codes are typed on
the booking form and in the API, each refusal saying why, guesses throttled."""

import csv
import io
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from booking.models import Booking, PromoCode, Tenant, Voucher

from .. import builders as b
from ..conftest import NOW
from .api import IN_A_WEEK, PARIS, TOMORROW, at, bearer, book
from .mail import messages
from .site import form_by_action, resource_url, sign_in, slot_links

#: 08:00–10:00 local: the off-peak window of the offer the tests make.
OFF_PEAK = {"from_minute": 8 * 60, "to_minute": 10 * 60}
CLIENT = "198.51.100.7"


def make(world, builder, **kw):
    with world.db.session() as s:
        return builder(s, s.get(Tenant, world.tenant_id), **kw).id


def bookings(world):
    with world.db.session() as s:
        return s.scalar(select(func.count()).select_from(Booking))


def only_booking(world):
    with world.db.session() as s:
        booking = s.scalar(select(Booking))
        s.expunge(booking)
        return booking


def details(testapp, world, hour=10, resource="court", day=IN_A_WEEK):
    return testapp.get(resource_url(world, resource) + "book", {"start": at(day, hour)})


def choose(testapp, world, code="", voucher="", hour=10, resource="court", seats=1,
           status=303):
    """Signed in as the customer, the details step with ``code``/``voucher``."""
    sign_in(testapp, world.emails["customer"])
    form = form_by_action(details(testapp, world, hour, resource), "/book")
    form["code"], form["voucher"] = code, voucher
    if "seats" in form.fields and resource != "court":
        form["seats"] = str(seats)
    return form.submit(status=status, extra_environ={"REMOTE_ADDR": CLIENT})


def local_time(slot_link):
    start = datetime.fromisoformat(slot_link.select_one("time")["datetime"])
    return start.astimezone(PARIS).strftime("%H:%M")


def facts(page):
    return page.html.select_one("dl.facts").get_text(" ", strip=True)


def field_error(page, name):
    return page.html.select_one(f"#{name}-error").get_text(strip=True)


class TestSlotGrid:
    def test_offer_mark_only_on_the_slots_it_applies_to(self, testapp, world):
        make(world, b.offer, **OFF_PEAK)
        page = testapp.get(resource_url(world), {"from": TOMORROW.isoformat()})
        first_day = page.html.select("section.day")[0]
        slots = {local_time(a): a for a in first_day.select("a.slot")}
        for time in ("08:00", "09:00"):
            assert slots[time].select_one(".offer-mark").get_text(" ", strip=True) == (
                "Offer: −20% · Off-peak · €16.00 instead of €20.00")
        for time in ("10:00", "14:00", "19:00"):
            assert slots[time].select_one(".offer-mark") is None

    def test_marks_of_a_week_read_the_offers_once(self, testapp, world):
        make(world, b.offer, **OFF_PEAK)
        make(world, b.offer, name="Evening", percent=10, from_minute=18 * 60,
             to_minute=20 * 60)
        sent = []

        def record(conn, cursor, statement, *args):
            sent.append(statement)

        event.listen(Engine, "before_cursor_execute", record)
        try:
            page = testapp.get(resource_url(world), {"from": TOMORROW.isoformat()})
        finally:
            event.remove(Engine, "before_cursor_execute", record)
        assert len(page.html.select(".offer-mark")) == 7 * 4  # 08, 09, 18, 19 each day
        assert len([s for s in sent if "FROM offers" in s]) == 1

    def test_no_mark_without_an_offer(self, testapp, world):
        page = testapp.get(resource_url(world), {"from": TOMORROW.isoformat()})
        assert page.html.select(".offer-mark") == [] and slot_links(page)

    def test_a_fixed_amount_offer_is_marked_with_its_amount(self, testapp, world):
        make(world, b.offer, name="Happy hour", amount=500, **OFF_PEAK)
        page = testapp.get(resource_url(world), {"from": TOMORROW.isoformat()})
        mark = page.html.select(".offer-mark")[0].get_text(" ", strip=True)
        assert mark == "Offer: −€5.00 · Happy hour · €15.00 instead of €20.00"


class TestCodeOnTheSite:
    def test_code_accepted_in_any_case_with_the_breakdown_on_review(self, testapp, world):
        make(world, b.promo_code, code="SPRING20")
        review = choose(testapp, world, code=" spring20 ").follow()
        rows = [row.get_text(" ", strip=True) for row in review.html.select("table.breakdown tr")]
        assert rows == ["Price €20.00", "Promo code SPRING20 −€4.00", "Total €16.00"]
        assert "€16.00 · paid at the venue" in facts(review)
        form_by_action(review, "/confirm").submit(status=303)
        booking = only_booking(world)
        assert booking.price == 1600
        assert booking.price_breakdown["lines"][0]["kind"] == "code"
        with world.db.session() as s:
            assert s.scalar(select(PromoCode.uses)) == 1

    @pytest.mark.parametrize("code_options, typed, seats, resource, message", [
        ({}, "NOSUCHCODE", 1, "court", "there is no such code"),
        ({"valid_until": NOW - timedelta(days=1)}, "SPRING20", 1, "court",
         "this code has expired"),
        ({"max_uses": 1, "uses": 1}, "SPRING20", 1, "court", "this code has been used up"),
        ({"resource_ids": "yoga"}, "SPRING20", 1, "court", "this code does not apply to Court"),
        ({"min_seats": 3}, "SPRING20", 2, "yoga", "this code needs at least 3 seats"),
    ], ids=["unknown", "expired", "used_up", "out_of_scope", "min_seats"])
    def test_refused_code_says_why_and_books_nothing(self, testapp, world, code_options, typed,
                                                      seats, resource, message):
        if code_options.get("resource_ids") == "yoga":
            code_options = {"resource_ids": [world.yoga_id]}
        make(world, b.promo_code, code="SPRING20", **code_options)
        page = choose(testapp, world, code=typed, resource=resource, seats=seats, status=400)
        assert field_error(page, "code") == message
        assert form_by_action(page, "/book")["code"].value == typed
        assert testapp.get(resource_url(world) + "review", status=303)  # nothing pending
        assert bookings(world) == 0

    def test_refused_voucher_says_why(self, testapp, world):
        make(world, b.gift_voucher, code="GIFT-ABCD-1234", expires_at=NOW - timedelta(days=1))
        page = choose(testapp, world, voucher="gift-abcd-1234", status=400)
        assert field_error(page, "voucher") == "this voucher has expired"

    def test_voucher_pays_what_is_left_after_the_code(self, testapp, world):
        make(world, b.promo_code, code="SPRING20")
        make(world, b.gift_voucher, code="GIFT-ABCD-1234", balance=1000)
        review = choose(testapp, world, code="spring20", voucher="gift abcd 1234").follow()
        rows = [row.get_text(" ", strip=True) for row in review.html.select("table.breakdown tr")]
        assert rows == ["Price €20.00", "Promo code SPRING20 −€4.00",
                        "Gift voucher ending 1234 −€10.00", "Total €6.00"]
        form_by_action(review, "/confirm").submit(status=303)
        assert only_booking(world).price == 600
        with world.db.session() as s:
            assert s.scalar(select(Voucher.balance)) == 0

    def test_code_used_up_between_review_and_confirm_books_nothing(self, testapp, world):
        code_id = make(world, b.promo_code, code="SPRING20", max_uses=1)
        review = choose(testapp, world, code="SPRING20").follow()
        with world.db.session() as s:
            s.get(PromoCode, code_id).uses = 1  # another customer took the last use
        page = form_by_action(review, "/confirm").submit(status=409)
        alert = page.html.select_one("#refusal").get_text(" ", strip=True)
        assert "this code has been used up" in alert and "Nothing is booked" in alert
        assert not any(f.action.endswith("/confirm") for f in page.forms.values())
        assert bookings(world) == 0

    def test_confirm_posted_with_an_unknown_code_books_nothing(self, testapp, world):
        review = choose(testapp, world).follow()
        form = form_by_action(review, "/confirm")
        token = form["csrf_token"].value
        testapp.post(resource_url(world) + "confirm", {
            "csrf_token": token, "start": form["start"].value, "seats": "1", "note": "",
            "key": form["key"].value, "code": "GUESS1"}, status=409)
        assert bookings(world) == 0

    def test_customer_told_when_an_offer_gives_more_than_the_code(self, testapp, world):
        make(world, b.offer, percent=50, **OFF_PEAK)
        make(world, b.promo_code, code="SPRING20")
        review = choose(testapp, world, code="spring20", hour=9).follow()
        assert "Your code SPRING20 is valid, but the offer below takes more off" in review.text
        rows = [row.get_text(" ", strip=True) for row in review.html.select("table.breakdown tr")]
        assert rows == ["Price €20.00", "Offer: Off-peak −€10.00", "Total €10.00"]

    def test_eleventh_unknown_code_from_one_address_is_429(self, testapp, world):
        for n in range(10):
            page = choose(testapp, world, code=f"GUESS{n}", status=400)
            assert field_error(page, "code") == "there is no such code"
        page = choose(testapp, world, code="GUESS10", status=429)
        assert int(page.headers["Retry-After"]) > 0
        assert field_error(page, "code").startswith("Too many wrong codes")
        assert bookings(world) == 0


def coded_booking(testapp, world, **extra):
    """A court booking made through the API with code SPRING20 (20 %)."""
    make(world, b.promo_code, code="SPRING20")
    return book(testapp, world, start=at(IN_A_WEEK, 10), code="spring20", **extra).json


class TestBreakdownShown:
    def test_booking_page_shows_the_breakdown(self, testapp, world):
        body = coded_booking(testapp, world)
        sign_in(testapp, world.emails["customer"])
        page = testapp.get(f"/t/{world.slug}/bookings/{body['id']}/")
        rows = [row.get_text(" ", strip=True) for row in page.html.select("table.breakdown tr")]
        assert rows == ["Price €20.00", "Promo code SPRING20 −€4.00", "Total €16.00"]

    def test_old_booking_shows_its_price_alone(self, testapp, world):
        body = book(testapp, world, start=at(IN_A_WEEK, 10)).json
        with world.db.session() as s:
            s.get(Booking, body["id"]).price_breakdown = None
        sign_in(testapp, world.emails["customer"])
        page = testapp.get(f"/t/{world.slug}/bookings/{body['id']}/")
        assert page.html.select("table.breakdown") == []
        assert page.html.select_one("dd.price").get_text(strip=True) == "€20.00"

    def test_my_bookings_shows_the_breakdown(self, testapp, world):
        coded_booking(testapp, world)
        sign_in(testapp, world.emails["customer"])
        price = testapp.get(f"/t/{world.slug}/bookings/").html.select_one("li .price")
        assert price.get_text(" ", strip=True) == "€16.00 (€20.00, Promo code SPRING20 −€4.00)"

    def test_staff_booking_page_shows_the_breakdown(self, testapp, world):
        body = coded_booking(testapp, world)
        sign_in(testapp, world.emails["staff"])
        page = testapp.get(f"/t/{world.slug}/manage/bookings/{body['id']}/")
        rows = [row.get_text(" ", strip=True) for row in page.html.select("table.breakdown tr")]
        assert rows == ["Price €20.00", "Promo code SPRING20 −€4.00", "Total €16.00"]

    def test_confirmation_email_shows_the_breakdown_in_both_parts(self, testapp, world):
        coded_booking(testapp, world)
        (message,) = messages(world.db, "booking.confirmed", world.emails["customer"])
        assert ("Price: €20.00\nPromo code SPRING20: −€4.00\nTotal: €16.00"
                in message.body_text)
        for text in ("Promo code SPRING20", "−€4.00", "<strong>€16.00</strong>"):
            assert text in message.body_html

    def test_csv_has_base_discount_voucher_and_total(self, testapp, world):
        make(world, b.gift_voucher, code="GIFT-ABCD-1234", balance=500)
        coded_booking(testapp, world, voucher="GIFT-ABCD-1234")
        sign_in(testapp, world.emails["owner"])
        response = testapp.get(f"/t/{world.slug}/manage/bookings/export.csv",
                               {"from": IN_A_WEEK.isoformat()})
        (row,) = csv.DictReader(io.StringIO(response.text))
        assert (row["price"], row["base"], row["discount"], row["voucher"], row["total"]) == (
            "11.00", "20.00", "4.00", "5.00", "11.00")


class TestCodeInTheApi:
    def test_code_in_any_case_gives_the_breakdown(self, testapp, world):
        body = coded_booking(testapp, world)
        assert body["price"] == 1600
        assert body["price_breakdown"] == {
            "base": 2000, "currency": "EUR", "total": 1600,
            "lines": [{"kind": "code", "label": "SPRING20", "amount": 400}]}

    def test_booking_without_discount_has_a_bare_breakdown(self, testapp, world):
        body = book(testapp, world, start=at(IN_A_WEEK, 10)).json
        assert body["price_breakdown"] == {"base": 2000, "currency": "EUR", "total": 2000,
                                           "lines": []}

    @pytest.mark.parametrize("options, reason", [
        ({}, "unknown"),
        ({"valid_until": NOW - timedelta(days=1)}, "expired"),
        ({"max_uses": 2, "uses": 2}, "used_up"),
        ({"min_seats": 2}, "min_seats"),
    ])
    def test_refused_code_is_400_with_its_reason(self, testapp, world, options, reason):
        make(world, b.promo_code, code="OTHER" if reason == "unknown" else "SPRING20", **options)
        error = book(testapp, world, code="spring20", status=400).json["error"]
        assert (error["code"], error["field"], error["reason"]) == ("code_refused", "code",
                                                                    reason)
        assert error["message"]
        assert bookings(world) == 0

    def test_refused_voucher_is_400_voucher_refused(self, testapp, world):
        error = book(testapp, world, voucher="NOPE-NOPE", status=400).json["error"]
        assert (error["code"], error["field"], error["reason"]) == (
            "voucher_refused", "voucher", "unknown")

    def test_eleventh_unknown_code_from_one_address_is_429(self, testapp, world):
        testapp.extra_environ["REMOTE_ADDR"] = CLIENT
        for n in range(10):
            book(testapp, world, code=f"GUESS{n}", status=400)
        response = book(testapp, world, code="GUESS10", status=429)
        assert response.json["error"]["code"] == "too_many_attempts"
        assert int(response.headers["Retry-After"]) > 0

    def test_quote_gives_the_breakdown(self, testapp, world):
        make(world, b.offer, **OFF_PEAK)
        url = (f"/api/v1/t/{world.slug}/venues/{world.venue_id}/resources/{world.court_id}"
               "/quote")
        body = testapp.get(url, {"start": at(IN_A_WEEK, 9)}).json
        assert body == {"base": 2000, "currency": "EUR", "total": 1600,
                        "lines": [{"kind": "offer", "label": "Off-peak", "amount": 400}]}

    def test_quote_refuses_a_wrong_code(self, testapp, world):
        url = (f"/api/v1/t/{world.slug}/venues/{world.venue_id}/resources/{world.court_id}"
               "/quote")
        error = testapp.get(url, {"start": at(IN_A_WEEK, 9), "code": "nope"},
                            headers=bearer(world, "customer"), status=400).json["error"]
        assert (error["code"], error["reason"]) == ("code_refused", "unknown")


def test_a_voucher_code_in_the_url_is_not_taken(testapp, world):
    link = slot_links(testapp.get(resource_url(world)))[0]
    form = form_by_action(testapp.get(link + "&voucher=GIFT-AAAA-BBBB-CCCC&code=SPRING"), "/book")
    assert (form["voucher"].value, form["code"].value) == ("", "SPRING")

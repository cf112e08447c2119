"""The staff bookings section: the list and its CSV, walk-in bookings, one
booking's page with its history, and the desk's actions."""

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from booking.models import AuditLog, Booking, Resource, Tenant, User
from booking.services import BookingService
from booking.services.booking import BookingRequest
from booking.services.notifications import Notifier
from booking.services.reminders import schedule_due_reminders
from booking.views.manage import bookings as bookings_views

from .. import builders as b
from .api import IN_A_WEEK, PARIS, TOMORROW, at, book
from .mail import messages
from .site import form_by_action, sign_in


def manage(world, *parts):
    return f"/t/{world.slug}/manage/bookings/" + "".join(f"{part}/" for part in parts)


def new_url(world):
    return f"/t/{world.slug}/manage/bookings/new"


def count(world, model, *where):
    with world.db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def load(world, booking_id):
    with world.db.session() as s:
        booking = s.get(Booking, booking_id)
        s.expunge(booking)
        return booking


def actions(world, booking_id):
    with world.db.session() as s:
        return s.scalars(select(AuditLog.action).where(AuditLog.target_id == booking_id)
                         .order_by(AuditLog.id)).all()


def held_booking(world, start, now):
    """A booking held (awaiting payment) by the customer, made at ``now``."""
    with world.db.session() as s:
        booking, _ = BookingService(s, now).book(BookingRequest(
            s.get(Tenant, world.tenant_id), s.get(Resource, world.court_id),
            s.get(User, world.user_ids["customer"]), start, hold_for_payment=True,
            actor_id=world.user_ids["customer"]))
        return booking.id


def local(day, hour, minute=0):
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}"


def rows(page):
    return page.html.select("table.bookings-table tbody tr")


@pytest.fixture
def two_venues(testapp, world):
    """A court booking at Centre and a room booking at Annexe, tomorrow."""
    centre = book(testapp, world, start=at(TOMORROW, 10)).json
    annexe = book(testapp, world, who="other_customer", resource="annexe_room",
                  start=at(TOMORROW, 11)).json
    return centre, annexe


class TestList:
    def test_owner_sees_every_venue_with_columns(self, testapp, world, two_venues):
        centre, annexe = two_venues
        sign_in(testapp, world.emails["owner"])
        page = testapp.get(manage(world))
        text = page.html.select_one("table.bookings-table").get_text(" ", strip=True)
        assert len(rows(page)) == 2
        for expected in (centre["reference"], annexe["reference"], "Court", "Annexe room",
                         "Centre", "Annexe", world.emails["customer"], "€20.00", "confirmed",
                         "due at the venue", "Mar 3, 2026, 10:00"):
            assert expected in text
        assert page.html.select_one(f"a[href$='/manage/bookings/{centre['id']}/']")

    def test_venue_staff_sees_only_their_venue(self, testapp, world, two_venues):
        centre, annexe = two_venues
        sign_in(testapp, world.emails["staff"])
        page = testapp.get(manage(world))
        assert centre["reference"] in page.text and annexe["reference"] not in page.text

    def test_venue_staff_cannot_open_other_venue_booking(self, testapp, world, two_venues):
        sign_in(testapp, world.emails["staff"])
        testapp.get(manage(world, two_venues[1]["id"]), status=404)

    def test_customer_gets_404(self, testapp, world, two_venues):
        sign_in(testapp, world.emails["customer"])
        testapp.get(manage(world), status=404)
        testapp.get(manage(world, two_venues[0]["id"]), status=404)
        testapp.get(manage(world) + "export.csv", status=404)

    def test_other_tenant_owner_gets_404(self, testapp, world, two_venues):
        sign_in(testapp, world.emails["other_tenant_owner"])
        testapp.get(manage(world), status=404)
        testapp.get(manage(world, two_venues[0]["id"]), status=404)

    def test_anonymous_is_asked_to_sign_in(self, testapp, world):
        assert "/login?next=" in testapp.get(manage(world), status=303).location

    def test_default_range_is_the_next_week(self, testapp, world):
        soon = book(testapp, world, start=at(TOMORROW, 10)).json
        later = book(testapp, world, start=at(date(2026, 3, 20), 10)).json
        sign_in(testapp, world.emails["manager"])
        page = testapp.get(manage(world))
        assert soon["reference"] in page.text and later["reference"] not in page.text
        page = testapp.get(manage(world), {"from": "2026-03-20", "to": "2026-03-20"})
        assert soon["reference"] not in page.text and later["reference"] in page.text

    def test_filters_by_venue_resource_and_status(self, testapp, world, two_venues):
        centre, annexe = two_venues
        yoga = book(testapp, world, resource="yoga", start=at(TOMORROW, 12)).json
        sign_in(testapp, world.emails["owner"])
        page = testapp.get(manage(world), {"venue": world.other_venue_id})
        assert [annexe["reference"] in page.text, centre["reference"] in page.text] == [True, False]
        page = testapp.get(manage(world), {"resource": world.yoga_id})
        assert [yoga["reference"] in page.text, centre["reference"] in page.text] == [True, False]
        page = testapp.get(manage(world), {"status": "cancelled"})
        assert rows(page) == []

    def test_search_by_name_email_or_reference_ignores_case(self, testapp, world, two_venues):
        centre, annexe = two_venues
        sign_in(testapp, world.emails["owner"])
        by_email = testapp.get(manage(world), {"q": world.emails["other_customer"].upper()})
        assert annexe["reference"] in by_email.text and centre["reference"] not in by_email.text
        by_reference = testapp.get(manage(world), {"q": centre["reference"].lower()})
        assert [r.select_one("td:last-child").get_text(strip=True)
                for r in rows(by_reference)] == [centre["reference"]]
        assert len(rows(testapp.get(manage(world), {"q": "test user"}))) == 2
        assert rows(testapp.get(manage(world), {"q": "%"})) == []

    @pytest.mark.parametrize("field, value, message", [
        ("from", "tomorrow", "must be a date, YYYY-MM-DD"),
        ("status", "lost", "must be one of"),
        ("page", "0", "must be at least 1"),
    ])
    def test_bad_filter_is_400_naming_the_field(self, testapp, world, field, value, message):
        sign_in(testapp, world.emails["owner"])
        page = testapp.get(manage(world), {field: value}, status=400)
        alert = page.html.select_one("[role=alert]").get_text(" ", strip=True)
        assert f"{field} : {message}" in alert

    def test_venue_staff_cannot_filter_on_another_venue(self, testapp, world):
        sign_in(testapp, world.emails["staff"])
        page = testapp.get(manage(world), {"venue": world.other_venue_id}, status=400)
        assert "is not one of your venues" in page.html.select_one("#venue-error").text
        page = testapp.get(manage(world), {"resource": world.annexe_room_id}, status=400)
        assert "resources you manage" in page.html.select_one("#resource-error").text

    def test_pages(self, testapp, world, monkeypatch):
        monkeypatch.setattr(bookings_views, "PAGE_SIZE", 2)
        refs = [book(testapp, world, start=at(TOMORROW, hour)).json["reference"]
                for hour in (9, 10, 11)]
        sign_in(testapp, world.emails["owner"])
        first = testapp.get(manage(world))
        assert "Page 1 of 2" in first.text and refs[2] not in first.text
        second = first.click(linkid=None, href="page=2")
        assert [refs[2] in second.text, refs[0] in second.text] == [True, False]


class TestCsv:
    def test_export_parses_and_respects_filters(self, testapp, world, two_venues):
        centre, annexe = two_venues
        sign_in(testapp, world.emails["owner"])
        response = testapp.get(manage(world) + "export.csv", {"venue": world.venue_id})
        assert response.content_type == "text/csv"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        table = list(csv.DictReader(io.StringIO(response.text)))
        assert [row["reference"] for row in table] == [centre["reference"]]
        row = table[0]
        assert row["start"] == "2026-03-03T10:00:00+01:00"
        assert (row["venue"], row["resource"], row["customer_email"]) == (
            "Centre", "Court", world.emails["customer"])
        assert (row["seats"], row["status"], row["price"], row["currency"]) == (
            "1", "confirmed", "20.00", "EUR")

    def test_venue_staff_export_has_only_their_venue(self, testapp, world, two_venues):
        sign_in(testapp, world.emails["other_venue_staff"])
        table = list(csv.DictReader(io.StringIO(testapp.get(manage(world) + "export.csv").text)))
        assert [row["reference"] for row in table] == [two_venues[1]["reference"]]

    def test_formula_cells_are_defused(self, testapp, world):
        with world.db.session() as s:
            s.get(User, world.user_ids["customer"]).name = "=HYPERLINK(\"http://evil\")"
        book(testapp, world, start=at(TOMORROW, 10), note="+1 racket")
        sign_in(testapp, world.emails["owner"])
        row = next(csv.DictReader(io.StringIO(testapp.get(manage(world) + "export.csv").text)))
        assert row["customer_name"] == "'=HYPERLINK(\"http://evil\")"
        assert row["note"] == "'+1 racket"

    def test_bad_filter_is_400(self, testapp, world):
        sign_in(testapp, world.emails["owner"])
        page = testapp.get(manage(world) + "export.csv", {"to": "2026-13-01"}, status=400)
        assert "to" in page.html.select_one("[role=alert] strong").text


def walk_in_form(testapp, world, who="staff", resource="court", start=None):
    sign_in(testapp, world.emails[who])
    query = {"resource": getattr(world, f"{resource}_id"), "start": start or at(TOMORROW, 10)}
    return form_by_action(testapp.get(new_url(world), query), "/manage/bookings/new")


class TestWalkIn:
    def test_prefilled_from_the_calendar_link(self, testapp, world):
        form = walk_in_form(testapp, world)
        assert (form["resource"].value, form["when"].value) == (str(world.court_id),
                                                                 "2026-03-03T10:00")

    def test_walk_in_makes_no_account(self, testapp, world):
        users = count(world, User)
        form = walk_in_form(testapp, world)
        form["email"], form["name"], form["phone"] = " Walk.In@Example.TEST ", "Walk In", "0600"
        page = form.submit(status=303).follow()
        assert "Booked: reference" in page.text and "walk.in@example.test" in page.text
        assert count(world, User) == users
        with world.db.session() as s:
            booking = s.scalar(select(Booking))
            assert (booking.customer_id, booking.contact_email, booking.contact_name,
                    booking.contact_phone, booking.status) == (
                None, "walk.in@example.test", "Walk In", "0600", "confirmed")
            booking_id = booking.id
        assert actions(world, booking_id) == ["booking.created"]

    def test_walk_in_with_an_address_gets_only_the_fixed_confirmation(self, testapp, world):
        form = walk_in_form(testapp, world)
        form["email"], form["name"] = "walk.in@example.test", "Click http://evil.example"
        form["note"] = "Visit http://evil.example now"
        form.submit(status=303)
        (message,) = messages(world.db, email="walk.in@example.test")
        assert message.kind == "booking.confirmed"
        body = message.body_text + message.body_html
        assert "evil.example" not in body  # nothing the desk typed
        assert "/bookings/" not in body  # no account, no booking page to open

    def test_walk_in_without_email_is_booked_and_sends_nothing(self, testapp, world, clock):
        form = walk_in_form(testapp, world)
        form["name"], form["phone"] = "Walk In", "0600"
        page = form.submit(status=303).follow()
        assert "Booked: reference" in page.text and "Walk In" in page.text
        with world.db.session() as s:
            booking = s.scalar(select(Booking))
            assert (booking.customer_id, booking.contact_email) == (None, "")
            before = booking.starts_at - timedelta(hours=2)
        assert messages(world.db) == []
        # Nor later: the reminders find no address to send to.
        with world.db.session() as s:
            schedule_due_reminders(s, before, Notifier(s, before))
        assert messages(world.db) == []

    def test_walk_in_without_email_is_cancelled_and_sends_nothing(self, testapp, world):
        form = walk_in_form(testapp, world)
        form["name"] = "Walk In"
        page = form.submit(status=303).follow()
        form_by_action(page, "/cancel").submit(status=303)
        with world.db.session() as s:
            assert s.scalar(select(Booking.status)) == "cancelled"
        assert messages(world.db) == []

    def test_walk_in_needs_a_name_a_phone_or_an_email(self, testapp, world):
        page = walk_in_form(testapp, world).submit(status=400)
        assert "give the customer's name, phone number or email address" in page.html.select_one(
            "#name-error").text
        assert count(world, Booking) == 0

    def test_walk_in_for_an_existing_account_is_not_linked_to_it(self, testapp, world):
        """A business cannot put bookings into someone's account, nor make
        the platform mail them as one of its customers."""
        form = walk_in_form(testapp, world)
        form["email"] = world.emails["customer"].upper()
        form.submit(status=303)
        assert count(world, Booking, Booking.customer_id == world.user_ids["customer"]) == 0
        with world.db.session() as s:
            assert s.scalar(select(Booking.contact_email)) == world.emails["customer"]

    def test_walk_in_for_an_existing_account_shows_only_what_the_desk_typed(self, testapp, world):
        """An email names an account, not its profile: staff of this
        business see the name and phone they were given, never the ones
        the customer gave elsewhere."""
        with world.db.session() as s:
            customer = s.get(User, world.user_ids["customer"])
            customer.name, customer.phone = "Private Name", "+33 6 11 22 33 44"
        form = walk_in_form(testapp, world)
        form["email"], form["name"] = world.emails["customer"], "Caller at the desk"
        page = form.submit(status=303).follow()
        assert "Caller at the desk" in page.text
        assert "Private Name" not in page.text and "11 22 33 44" not in page.text
        listing = testapp.get(manage(world), {"from": "2026-03-03"})
        assert "Caller at the desk" in listing.text and "Private Name" not in listing.text
        export = testapp.get(manage(world) + "export.csv", {"from": "2026-03-03"}).text
        assert "Private Name" not in export and "11 22 33 44" not in export
        assert world.emails["customer"] in export
        with world.db.session() as s:
            assert s.get(User, world.user_ids["customer"]).name == "Private Name"

    def test_staff_book_inside_minimum_notice_and_beyond_advance(self, testapp, world):
        with world.db.session() as s:
            court = s.get(Resource, world.court_id)
            court.min_notice_minutes, court.max_advance_days = 24 * 60, 7
        for start in (at(date(2026, 3, 2), 11), at(date(2026, 5, 4), 11)):
            form = walk_in_form(testapp, world, start=start)
            form["email"] = "caller@example.test"
            form.submit(status=303)
        assert count(world, Booking) == 2

    def test_taken_slot_is_409_and_nothing_written(self, testapp, world):
        book(testapp, world, who="other_customer", start=at(TOMORROW, 10))
        form = walk_in_form(testapp, world)
        form["email"], form["note"] = "new.person@example.test", "Window seat"
        page = form.submit(status=409)
        assert "already booked" in page.html.select_one("[role=alert]").text
        assert page.html.select_one("#note").text == "Window seat"
        assert count(world, User, User.email == "new.person@example.test") == 0
        assert count(world, Booking) == 1

    def test_bad_input_is_400_with_messages(self, testapp, world):
        form = walk_in_form(testapp, world)
        form["email"], form["seats"] = "not-an-email", "0"
        page = form.submit(status=400)
        assert "is not an email address" in page.html.select_one("#email-error").text
        assert "must be at least 1" in page.html.select_one("#seats-error").text
        assert count(world, Booking) == 0

    @pytest.mark.parametrize("field, value", [
        ("name", "Walk In\nBcc: x@example.test"), ("name", "Walk\x07In"),
        ("phone", "0600\r\nBcc: x@example.test"), ("phone", "06\x0700"),
    ], ids=["name-lf", "name-bell", "phone-crlf", "phone-bell"])
    def test_more_than_one_line_is_400_and_nothing_written(self, testapp, world, field, value):
        form = walk_in_form(testapp, world)
        form["email"], form[field] = "walk.in@example.test", value
        page = form.submit(status=400)
        assert "must be one line" in page.html.select_one(f"#{field}-error").text
        assert count(world, User, User.email == "walk.in@example.test") == 0
        assert count(world, Booking) == 0

    def test_note_keeps_its_line_breaks(self, testapp, world):
        form = walk_in_form(testapp, world)
        form["email"], form["note"] = "walk.in@example.test", "Wheelchair.\nArrives early."
        form.submit(status=303)
        with world.db.session() as s:
            assert s.scalar(select(Booking.note)) == "Wheelchair.\nArrives early."

    def test_time_off_the_grid_is_400(self, testapp, world):
        form = walk_in_form(testapp, world)
        form["email"], form["when"] = "x@example.test", "2026-03-03T10:30"
        page = form.submit(status=400)
        assert "is not a slot" in page.html.select_one("#when-error").text

    def test_nonexistent_local_time_is_400(self, testapp, world):
        form = walk_in_form(testapp, world)
        form["email"], form["when"] = "x@example.test", "2026-03-29T02:30"
        page = form.submit(status=400)
        assert "the clocks skip it" in page.html.select_one("#when-error").text

    def test_other_venue_resource_is_404(self, testapp, world):
        sign_in(testapp, world.emails["staff"])
        testapp.get(new_url(world), {"resource": world.annexe_room_id}, status=404)
        form = walk_in_form(testapp, world)
        form["resource"].force_value(str(world.annexe_room_id))
        form["email"] = "x@example.test"
        form.submit(status=404)
        assert count(world, Booking) == 0

    def test_bad_start_in_the_link_is_400(self, testapp, world):
        sign_in(testapp, world.emails["staff"])
        page = testapp.get(new_url(world), {"resource": world.court_id, "start": "soon"},
                           status=400)
        assert "ISO 8601" in page.html.select_one("#when-error").text

    def test_other_tenant_resource_is_404(self, testapp, world):
        sign_in(testapp, world.emails["owner"])
        testapp.get(new_url(world), {"resource": world.rival_court_id}, status=404)


class TestDetail:
    def test_shows_the_booking_and_its_history(self, testapp, world):
        booking = book(testapp, world, start=at(TOMORROW, 10), note="Bring balls").json
        sign_in(testapp, world.emails["staff"])
        page = testapp.get(manage(world, booking["id"]))
        facts = page.html.select_one("dl.facts").get_text(" ", strip=True)
        for expected in ("Tuesday, March 3, 2026, 10:00\u202fAM", "Court", "Centre",
                         world.emails["customer"], "Bring balls", booking["reference"], "€20.00"):
            assert expected in facts
        history = page.html.select_one("table.history").get_text(" ", strip=True)
        assert "Booked" in history and "1 seat(s) on Court, Mar 3, 2026, 10:00\u202fAM" in history

    def test_actions_shown_only_when_they_apply(self, testapp, world):
        booking_id = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
        sign_in(testapp, world.emails["staff"])
        page = testapp.get(manage(world, booking_id))
        shown = sorted(f.action.rsplit("/", 1)[1] for f in page.forms.values()
                       if "/manage/bookings/" in f.action)
        assert shown == ["cancel", "move"]


def post_action(testapp, world, booking_id, name, who="staff", status=303, **fields):
    sign_in(testapp, world.emails[who])
    page = testapp.get(manage(world, booking_id))
    token = page.html.select_one("input[name=csrf_token]")["value"]
    return testapp.post(manage(world, booking_id) + name, {"csrf_token": token, **fields},
                        status=status)


class TestActions:
    def test_confirm_a_held_booking(self, testapp, world, clock):
        booking_id = held_booking(world, datetime(2026, 3, 3, 10, tzinfo=PARIS), clock.instant)
        page = post_action(testapp, world, booking_id, "confirm").follow()
        assert "The booking is confirmed." in page.text
        booking = load(world, booking_id)
        assert (booking.status, booking.hold_expires_at) == ("confirmed", None)
        assert "Confirmed" in page.html.select_one("table.history").text

    def test_confirm_expired_hold_when_slot_was_taken_is_409(self, testapp, world, clock):
        booking_id = held_booking(world, datetime(2026, 3, 3, 10, tzinfo=PARIS), clock.instant)
        clock.advance(timedelta(minutes=20))
        book(testapp, world, who="other_customer", start=at(TOMORROW, 10))
        page = post_action(testapp, world, booking_id, "confirm", status=409)
        assert "already booked" in page.html.select_one("[role=alert]").text
        assert load(world, booking_id).status == "expired"  # released by the other booking

    def test_check_in_only_from_an_hour_before(self, testapp, world, clock):
        booking_id = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
        page = post_action(testapp, world, booking_id, "check-in", status=409)
        assert "check-in is open from" in page.html.select_one("[role=alert]").text
        clock.advance(timedelta(hours=23))  # 09:00 in Paris on the day
        page = post_action(testapp, world, booking_id, "check-in").follow()
        assert "The customer is checked in." in page.text
        assert load(world, booking_id).checked_in_at == clock.instant
        assert actions(world, booking_id)[-1] == "booking.checked_in"

    def test_no_show_refused_before_start(self, testapp, world, clock):
        booking_id = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
        page = post_action(testapp, world, booking_id, "no-show", status=409)
        assert "has not started yet" in page.html.select_one("[role=alert]").text
        assert load(world, booking_id).status == "confirmed"
        clock.advance(timedelta(hours=24, minutes=10))
        page = post_action(testapp, world, booking_id, "no-show").follow()
        assert "no-show" in page.html.select_one(".status").text
        assert "Marked as a no-show" in page.html.select_one("table.history").text

    def test_staff_cancel_outside_customer_window(self, testapp, world, clock):
        booking_id = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
        clock.advance(timedelta(hours=12))
        page = post_action(testapp, world, booking_id, "cancel", reason="Court flooded").follow()
        assert "The booking is cancelled." in page.text
        assert "reason: Court flooded" in page.html.select_one("table.history").text
        assert load(world, booking_id).cancel_reason == "Court flooded"

    def test_move_to_a_free_slot_and_resource(self, testapp, world):
        booking_id = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
        page = post_action(testapp, world, booking_id, "move", when=local(IN_A_WEEK, 15),
                           resource=str(world.yoga_id)).follow()
        assert "The booking has moved." in page.text
        booking = load(world, booking_id)
        assert (booking.resource_id, booking.starts_at) == (
            world.yoga_id, datetime(2026, 3, 9, 15, tzinfo=PARIS))
        assert "to Yoga, Mar 9, 2026, 3:00\u202fPM" in page.html.select_one("table.history").text

    def test_move_to_a_taken_slot_is_409_and_keeps_the_slot(self, testapp, world):
        booking_id = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
        book(testapp, world, who="other_customer", start=at(TOMORROW, 12))
        page = post_action(testapp, world, booking_id, "move", status=409,
                           when=local(TOMORROW, 12), resource=str(world.court_id))
        assert "already booked" in page.html.select_one("[role=alert]").text
        assert page.html.select_one("#when")["value"] == local(TOMORROW, 12)
        assert load(world, booking_id).starts_at == datetime(2026, 3, 3, 10, tzinfo=PARIS)
        assert actions(world, booking_id) == ["booking.created"]

    def test_move_to_another_venue_resource_is_400_for_venue_staff(self, testapp, world):
        booking_id = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
        page = post_action(testapp, world, booking_id, "move", status=400,
                           when=local(TOMORROW, 12), resource=str(world.annexe_room_id))
        assert "resources you manage" in page.html.select_one("#resource-error").text

    def test_move_to_a_nonexistent_local_time_is_400(self, testapp, world):
        booking_id = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
        page = post_action(testapp, world, booking_id, "move", status=400,
                           when="2026-03-29T02:30", resource=str(world.court_id))
        assert "the clocks skip it" in page.html.select_one("#when-error").text

    def test_move_to_an_ambiguous_local_time_is_400(self, testapp, world):
        booking_id = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
        page = post_action(testapp, world, booking_id, "move", status=400,
                           when="2026-10-25T02:30", resource=str(world.court_id))
        assert "happens twice" in page.html.select_one("#when-error").text

    def test_move_with_bad_input_is_400(self, testapp, world):
        booking_id = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
        page = post_action(testapp, world, booking_id, "move", status=400,
                           when="next week", resource="court")
        assert "must be a date and time" in page.html.select_one("#when-error").text
        assert "must be an integer" in page.html.select_one("#resource-error").text
        assert actions(world, booking_id) == ["booking.created"]

    def test_move_to_the_current_time_is_400(self, testapp, world):
        booking_id = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
        page = post_action(testapp, world, booking_id, "move", status=400,
                           when=local(TOMORROW, 10), resource=str(world.court_id))
        assert "current time" in page.html.select_one("#when-error").text

    def test_cancel_reason_too_long_is_400(self, testapp, world):
        booking_id = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
        page = post_action(testapp, world, booking_id, "cancel", status=400, reason="x" * 1001)
        assert "at most 1000" in page.html.select_one("#reason-error").text
        assert load(world, booking_id).status == "confirmed"

    def test_other_venue_staff_cannot_act(self, testapp, world):
        booking_id = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
        sign_in(testapp, world.emails["other_venue_staff"])
        token = testapp.get(new_url(world)).html.select_one("input[name=csrf_token]")["value"]
        for name in ("confirm", "check-in", "no-show", "cancel", "move"):
            testapp.post(manage(world, booking_id) + name, {"csrf_token": token}, status=404)
        assert load(world, booking_id).status == "confirmed"

    def test_every_action_is_in_the_history(self, testapp, world, clock):
        booking_id = held_booking(world, datetime(2026, 3, 3, 10, tzinfo=PARIS), clock.instant)
        post_action(testapp, world, booking_id, "confirm")
        post_action(testapp, world, booking_id, "move", when=local(TOMORROW, 11),
                    resource=str(world.court_id))
        clock.advance(timedelta(hours=24, minutes=30))
        post_action(testapp, world, booking_id, "check-in")
        page = testapp.get(manage(world, booking_id))
        history = [row.select_one("th").get_text(strip=True)
                   for row in page.html.select("table.history tbody tr")]
        assert history == ["Booked", "Confirmed", "Moved", "Checked in"]
        assert all(row.select("td")[1].get_text(strip=True) == "Test User"
                   for row in page.html.select("table.history tbody tr"))

"""Staff area: a venue's closures — list, add (asking what to do with the
bookings they cover), delete."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from booking.models import Booking, Closure, Resource, Tenant, User, Venue
from booking.services import AvailabilityService, BookingService
from booking.services.booking import BookingRequest

from .. import builders as b
from ..conftest import NOW
from .api import PARIS, TOMORROW, at, book
from .site import form_by_action, sign_in
from .test_manage_schedules_resources import as_user, audit_rows, tenant_wide_staff, venue_url


def closures(world):
    with world.db.session() as s:
        return [(c.resource_id, c.starts_at, c.ends_at, c.reason)
                for c in s.scalars(select(Closure).order_by(Closure.id))]


def booking_status(world, booking_id):
    with world.db.session() as s:
        booking = s.get(Booking, booking_id)
        return booking.status, booking.cancel_reason


def local_starts(world, resource_id, day=TOMORROW):
    with world.db.session() as s:
        slots = AvailabilityService(s, NOW).slots(s.get(Resource, resource_id), day, day)
        return [slot.start.astimezone(PARIS).strftime("%H:%M") for slot in slots]


def paris(day, hour):
    return datetime(day.year, day.month, day.day, hour, tzinfo=PARIS).astimezone(UTC)


def decision_form(page):
    [form] = [f for f in page.forms.values() if "decision" in f.fields]
    return form


def add_form(testapp, world, who="manager"):
    page = as_user(testapp, world, who).get(venue_url(world, "closures/"))
    return form_by_action(page, "/closures/")


def submit_closure(testapp, world, status, scope="venue", start="2026-03-03T12:00",
                   end="2026-03-03T14:00", reason="Maintenance"):
    form = add_form(testapp, world)
    form["scope"], form["starts_at"], form["ends_at"], form["reason"] = scope, start, end, reason
    return form.submit(status=status)


class TestAdd:
    def test_add_venue_closure_and_audit(self, testapp, world):
        page = submit_closure(testapp, world, 303).follow()
        assert "The closure is added." in page.text
        assert closures(world) == [(None, paris(TOMORROW, 12), paris(TOMORROW, 14), "Maintenance")]
        [(target, details)] = audit_rows(world, "closure.created")
        assert details["reason"] == "Maintenance" and details["cancelled_bookings"] == []

    def test_venue_closure_hides_slots_of_every_resource(self, testapp, world):
        submit_closure(testapp, world, 303)
        for resource_id in (world.court_id, world.yoga_id):
            starts = local_starts(world, resource_id)
            assert "11:00" in starts and "12:00" not in starts and "13:00" not in starts
            assert "14:00" in starts

    def test_resource_closure_hides_that_resource_only(self, testapp, world):
        submit_closure(testapp, world, 303, scope=str(world.court_id))
        assert closures(world)[0][0] == world.court_id
        assert "12:00" not in local_starts(world, world.court_id)
        assert "12:00" in local_starts(world, world.yoga_id)

    def test_public_calendar_shows_a_closed_day(self, testapp, world):
        submit_closure(testapp, world, 303, start="2026-03-03T00:00", end="2026-03-04T00:00",
                       reason="Holiday")
        page = testapp.get(f"/t/{world.slug}/venues/{world.venue_id}/resources/{world.court_id}/",
                           {"from": TOMORROW.isoformat()})
        assert "Holiday" in page.text
        assert not [a for a in page.html.select("a.slot") if "2026-03-03" in a["href"]]

    @pytest.mark.parametrize("field, changes, message", [
        ("ends_at", {"end": "2026-03-03T12:00"}, "must be after the start"),
        ("ends_at", {"end": "2026-03-03T11:00"}, "must be after the start"),
        ("starts_at", {"start": "2026-03-29T02:30", "end": "2026-03-29T05:00"},
         "2026-03-29 02:30 does not exist in Europe/Paris"),
        ("ends_at", {"start": "2026-03-28T22:00", "end": "2026-03-29T02:00"}, "does not exist"),
        ("starts_at", {"start": "tomorrow"}, "must be a date and time"),
        ("starts_at", {"start": ""}, "is required"),
        ("ends_at", {"start": "2026-02-01T10:00", "end": "2026-02-02T10:00"}, "is in the past"),
        ("reason", {"reason": "x" * 201}, "must be at most 200 characters long"),
    ])
    def test_bad_input_is_refused_and_nothing_is_written(self, testapp, world, field, changes, message):
        response = submit_closure(testapp, world, 400, **changes)
        assert message in response.html.select_one(f"#{field}-error").get_text()
        assert message in response.html.select_one(".error-summary").get_text()
        assert closures(world) == [] and audit_rows(world, "closure.created") == []

    def test_scope_of_another_venue_is_refused(self, testapp, world):
        form = add_form(testapp, world)
        form["starts_at"], form["ends_at"] = "2026-03-03T12:00", "2026-03-03T14:00"
        form["scope"].force_value(str(world.annexe_room_id))
        response = form.submit(status=400)
        assert "is not this venue or one of its resources" in response.text
        assert closures(world) == []

    def test_input_is_kept_after_an_error(self, testapp, world):
        response = submit_closure(testapp, world, 400, scope=str(world.yoga_id), end="2026-03-03T10:00")
        form = form_by_action(response, "/closures/")
        assert (form["scope"].value, form["starts_at"].value, form["reason"].value) == (
            str(world.yoga_id), "2026-03-03T12:00", "Maintenance")


class TestOverBookings:
    def confirm_page(self, testapp, world, **kw):
        return submit_closure(testapp, world, 200, start="2026-03-03T09:00",
                              end="2026-03-03T12:00", reason="Flooding", **kw)

    def test_covered_bookings_are_listed_before_anything_is_created(self, testapp, world):
        booking = book(testapp, world, start=at(TOMORROW, 10)).json
        book(testapp, world, who="other_customer", resource="yoga", start=at(TOMORROW, 11), seats=3)
        book(testapp, world, start=at(TOMORROW, 14))  # after the closure
        page = self.confirm_page(testapp, world)
        rows = [row.get_text(" ", strip=True) for row in page.html.select("table.covered-bookings tbody tr")]
        assert len(rows) == 2
        assert "10:00" in rows[0] and "Court" in rows[0] and world.emails["customer"] in rows[0]
        assert "Yoga" in rows[1] and world.emails["other_customer"] in rows[1] and " 3 " in rows[1]
        assert "Cancel these bookings (customers are notified)" in page.text
        assert closures(world) == [] and booking_status(world, booking["id"])[0] == "confirmed"

    def test_cancel_them(self, testapp, world):
        booking = book(testapp, world, start=at(TOMORROW, 10)).json
        page = self.confirm_page(testapp, world)
        done = decision_form(page).submit("decision", value="cancel", status=303).follow()
        assert "1 booking(s) are cancelled" in done.text
        assert booking_status(world, booking["id"]) == ("cancelled", "Flooding")
        [(target, details)] = audit_rows(world, "booking.cancelled")
        assert target == booking["id"] and details["reason"] == "Flooding" and details["by_staff"]
        [(closure_id, details)] = audit_rows(world, "closure.created")
        assert details["cancelled_bookings"] == [booking["id"]]
        assert closures(world)[0][3] == "Flooding"

    def test_keep_them(self, testapp, world):
        booking = book(testapp, world, start=at(TOMORROW, 10)).json
        page = self.confirm_page(testapp, world)
        done = decision_form(page).submit("decision", value="keep", status=303).follow()
        assert "1 booking(s) are kept" in done.text
        assert booking_status(world, booking["id"])[0] == "confirmed"
        assert len(closures(world)) == 1 and audit_rows(world, "booking.cancelled") == []
        [(_closure_id, details)] = audit_rows(world, "closure.created")
        assert details["kept_bookings"] == [booking["id"]]

    def test_resource_closure_ignores_other_resources_bookings(self, testapp, world):
        booking = book(testapp, world, resource="yoga", start=at(TOMORROW, 10)).json
        submit_closure(testapp, world, 303, scope=str(world.court_id), start="2026-03-03T09:00",
                       end="2026-03-03T12:00")
        assert booking_status(world, booking["id"])[0] == "confirmed"

    def test_a_booking_made_meanwhile_asks_again(self, testapp, world):
        first = book(testapp, world, start=at(TOMORROW, 10)).json
        page = self.confirm_page(testapp, world)
        second = book(testapp, world, who="other_customer", resource="yoga", start=at(TOMORROW, 11)).json
        again = decision_form(page).submit("decision", value="cancel", status=200)
        assert "changed since you looked" in again.text
        assert len(again.html.select("table.covered-bookings tbody tr")) == 2
        assert closures(world) == []
        assert booking_status(world, first["id"])[0] == booking_status(world, second["id"])[0] == "confirmed"
        decision_form(again).submit("decision", value="cancel", status=303)
        assert booking_status(world, second["id"])[0] == "cancelled"

    def test_cancelled_bookings_are_not_covered(self, testapp, world):
        booking = book(testapp, world, start=at(TOMORROW, 10)).json
        with world.db.session() as s:
            s.get(Booking, booking["id"]).status = "cancelled"
        submit_closure(testapp, world, 303, start="2026-03-03T09:00", end="2026-03-03T12:00")
        assert len(closures(world)) == 1

    def test_live_holds_are_covered_and_expired_ones_are_not(self, testapp, world, clock):
        with world.db.session() as s:
            service = BookingService(s, NOW)
            tenant, customer = s.get(Tenant, world.tenant_id), s.get(User, world.user_ids["customer"])
            service.book(BookingRequest(tenant, s.get(Resource, world.court_id), customer, paris(TOMORROW, 10), hold_for_payment=True))
            clock.advance(timedelta(minutes=10))
            BookingService(s, clock.now()).book(BookingRequest(tenant, s.get(Resource, world.yoga_id), customer,
                                                paris(TOMORROW, 10), hold_for_payment=True))
        clock.advance(timedelta(minutes=10))  # the court's hold ran out, the class's did not
        page = self.confirm_page(testapp, world)
        [row] = page.html.select("table.covered-bookings tbody tr")
        assert "Yoga" in row.get_text() and "held" in row.get_text()


class TestListAndDelete:
    def make(self, world, start, end, resource_id=None, venue_id=None, reason="Closed"):
        with world.db.session() as s:
            venue = s.get(Venue, venue_id or world.venue_id)
            resource = s.get(Resource, resource_id) if resource_id else None
            return b.closure(s, venue, start, end, resource=resource, reason=reason).id

    def test_list_shows_current_and_future_closures_in_local_time(self, testapp, world):
        self.make(world, NOW.replace(day=1, hour=8), NOW.replace(hour=8), reason="Past")
        self.make(world, NOW.replace(hour=8), NOW.replace(hour=12), reason="Now")
        self.make(world, paris(TOMORROW, 12), paris(TOMORROW, 14), resource_id=world.yoga_id, reason="Later")
        self.make(world, paris(TOMORROW, 12), paris(TOMORROW, 14), venue_id=world.other_venue_id, reason="Annexe")
        page = as_user(testapp, world, "manager").get(venue_url(world, "closures/"))
        rows = [row.get_text(" ", strip=True) for row in page.html.select("tbody tr")]
        assert len(rows) == 2
        assert "Now" in rows[0] and "The whole venue" in rows[0] and "9:00" in rows[0]
        assert "Later" in rows[1] and "Yoga" in rows[1] and "Mar 3, 2026, 12:00" in rows[1]
        assert "Europe/Paris" in page.text

    def test_delete_closure_and_audit(self, testapp, world):
        closure_id = self.make(world, paris(TOMORROW, 12), paris(TOMORROW, 14))
        page = as_user(testapp, world, "manager").get(venue_url(world, "closures/"))
        page = form_by_action(page, f"/closures/{closure_id}/delete").submit(status=303).follow()
        assert "The closure is deleted." in page.text
        assert closures(world) == [] and "12:00" in local_starts(world, world.court_id)
        [(target, details)] = audit_rows(world, "closure.deleted")
        assert target == closure_id and details["reason"] == "Closed"

    def test_closure_of_another_venue_is_not_found(self, testapp, world):
        closure_id = self.make(world, paris(TOMORROW, 12), paris(TOMORROW, 14), venue_id=world.other_venue_id)
        sign_in(testapp, world.emails["manager"])
        token = testapp.get(f"/t/{world.slug}/").forms[0]["csrf_token"].value
        testapp.post(venue_url(world, f"closures/{closure_id}/delete"), {"csrf_token": token}, status=404)
        assert len(closures(world)) == 1


class TestAccess:
    def test_venue_staff_is_forbidden(self, testapp, world):
        as_user(testapp, world, "staff").get(venue_url(world, "closures/"), status=403)

    def test_tenant_wide_staff_cannot_add(self, testapp, world):
        sign_in(testapp, tenant_wide_staff(world))
        token = testapp.get(f"/t/{world.slug}/").forms[0]["csrf_token"].value
        testapp.post(venue_url(world, "closures/"), {
            "csrf_token": token, "scope": "venue", "starts_at": "2026-03-03T12:00",
            "ends_at": "2026-03-03T14:00"}, status=403)
        assert closures(world) == []

    @pytest.mark.parametrize("who", ["other_venue_staff", "customer", "other_tenant_owner"])
    def test_others_get_not_found(self, testapp, world, who):
        as_user(testapp, world, who).get(venue_url(world, "closures/"), status=404)

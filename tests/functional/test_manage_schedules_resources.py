"""Staff area: a venue's resources — the list, create, edit, deactivate,
activate — for owners and managers only."""

import pytest
from sqlalchemy import func, select

from booking.models import AuditLog, Booking, Resource, Role, Tenant

from .. import builders as b
from .api import IN_A_WEEK, TOMORROW, at, book
from .site import form_by_action, sign_in


def venue_url(world, *parts, venue_id=None):
    return f"/t/{world.slug}/manage/venues/{venue_id or world.venue_id}/" + "/".join(parts)


def as_user(testapp, world, who):
    sign_in(testapp, world.emails[who])
    return testapp


def tenant_wide_staff(world):
    """A staff member of the whole tenant (no venue scope); returns the email."""
    with world.db.session() as s:
        return b.member(s, s.get(Tenant, world.tenant_id), Role.STAFF).email


def audit_rows(world, action):
    with world.db.session() as s:
        return [(row.target_id, row.details) for row in s.scalars(
            select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id))]


def resource_row(world, resource_id):
    with world.db.session() as s:
        row = s.get(Resource, resource_id)
        s.expunge(row)
        return row


def resource_count(world):
    with world.db.session() as s:
        return s.scalar(select(func.count()).select_from(Resource))


NEW = {"name": "Court 2", "kind": "court", "description": "Clay", "capacity": "1",
       "slot_minutes": "30", "buffer_before_minutes": "5", "buffer_after_minutes": "10",
       "min_notice_minutes": "120", "max_advance_days": "60", "price": "12.50"}


def fill(form, values):
    for name, value in values.items():
        form[name] = value
    return form


class TestList:
    def test_list_shows_active_and_inactive_resources_with_settings(self, testapp, world):
        with world.db.session() as s:
            s.get(Resource, world.yoga_id).active = False
        page = as_user(testapp, world, "manager").get(venue_url(world, "resources/"))
        rows = {row.th.get_text(strip=True): row for row in page.html.select("tbody tr")}
        assert set(rows) == {"Court", "Yoga"}
        court = rows["Court"].get_text(" ", strip=True)
        assert "€20.00" in court and "60 min" in court and "365 days" in court
        assert "Active" in court and "The venue's" in court
        assert "Inactive" in rows["Yoga"].get_text(" ", strip=True)

    def test_list_links_to_edit_hours_new_and_closures(self, testapp, world):
        page = as_user(testapp, world, "owner").get(venue_url(world, "resources/"))
        hrefs = {a["href"] for a in page.html.select("main a")}
        base = "http://booking.test" + venue_url(world)
        assert {base + f"resources/{world.court_id}/", base + f"resources/{world.court_id}/hours",
                base + "resources/new", base + "hours", base + "closures/"} <= hrefs

    def test_list_price_in_french(self, testapp, world):
        page = as_user(testapp, world, "manager").get(venue_url(world, "resources/"),
                                                      headers={"Accept-Language": "fr"})
        assert "20,00\u00a0€" in page.html.select_one("td.price").get_text()


class TestAccess:
    @pytest.mark.parametrize("path", ["resources/", "resources/new", "resources/{court}/"])
    def test_venue_staff_is_forbidden(self, testapp, world, path):
        path = path.format(court=world.court_id)
        as_user(testapp, world, "staff").get(venue_url(world, path), status=403)

    def test_tenant_wide_staff_is_forbidden(self, testapp, world):
        sign_in(testapp, tenant_wide_staff(world))
        testapp.get(venue_url(world, "resources/"), status=403)

    @pytest.mark.parametrize("who", ["other_venue_staff", "customer", "other_tenant_owner"])
    def test_others_get_not_found(self, testapp, world, who):
        as_user(testapp, world, who).get(venue_url(world, "resources/"), status=404)

    def test_staff_cannot_deactivate(self, testapp, world):
        sign_in(testapp, world.emails["staff"])
        token = testapp.get(f"/t/{world.slug}/").forms[0]["csrf_token"].value
        testapp.post(venue_url(world, f"resources/{world.court_id}/deactivate"),
                     {"csrf_token": token}, status=403)
        assert resource_row(world, world.court_id).active

    def test_resource_of_another_venue_is_not_found(self, testapp, world):
        as_user(testapp, world, "manager").get(
            venue_url(world, f"resources/{world.annexe_room_id}/"), status=404)

    def test_anonymous_is_asked_to_sign_in(self, testapp, world):
        assert "/login?next=" in testapp.get(venue_url(world, "resources/"), status=303).location


class TestCreate:
    def test_create_stores_values_and_audits(self, testapp, world):
        page = as_user(testapp, world, "manager").get(venue_url(world, "resources/new"))
        page = fill(form_by_action(page, "/resources/new"), NEW).submit(status=303).follow()
        assert "Court 2 is created." in page.text
        with world.db.session() as s:
            row = s.scalar(select(Resource).where(Resource.name == "Court 2"))
            assert (row.venue_id, row.kind, row.capacity, row.slot_minutes, row.price) == (
                world.venue_id, "court", 1, 30, 1250)
            assert (row.buffer_before_minutes, row.buffer_after_minutes,
                    row.min_notice_minutes, row.max_advance_days, row.active) == (5, 10, 120, 60, True)
            new_id = row.id
        [(target, details)] = audit_rows(world, "resource.created")
        assert target == new_id and details["price"] == 1250

    @pytest.mark.parametrize("field, value, message", [
        ("slot_minutes", "7", "7 minutes does not divide the day"),
        ("price", "12.505", "has more than 2 decimal places"),
        ("price", "-3", "must not be negative"),
        ("buffer_before_minutes", "-5", "must be at least 0"),
        ("buffer_after_minutes", "-1", "must be at least 0"),
        ("capacity", "0", "must be at least 1"),
        ("slot_minutes", "1440", "must be at most 720"),
        ("max_advance_days", "0", "must be at least 1"),
        ("min_notice_minutes", "soon", "must be a whole number"),
        ("name", "", "is required"),
        ("name", "Court\nBcc: x@example.test", "must be one line, without control characters"),
        ("name", "Court\x072", "must be one line, without control characters"),
    ])
    def test_create_refuses_bad_input(self, testapp, world, field, value, message):
        before = resource_count(world)
        page = as_user(testapp, world, "manager").get(venue_url(world, "resources/new"))
        response = fill(form_by_action(page, "/resources/new"), {**NEW, field: value}).submit(status=400)
        assert message in response.html.select_one(f"#{field}-error").get_text()
        assert response.html.select_one(f"#{field}")["aria-invalid"] == "true"
        assert resource_count(world) == before and audit_rows(world, "resource.created") == []

    def test_create_keeps_the_input_after_an_error(self, testapp, world):
        page = as_user(testapp, world, "manager").get(venue_url(world, "resources/new"))
        response = fill(form_by_action(page, "/resources/new"),
                        {**NEW, "price": "1.234"}).submit(status=400)
        form = form_by_action(response, "/resources/new")
        assert (form["name"].value, form["price"].value, form["kind"].value) == ("Court 2", "1.234", "court")
        assert "Price per seat and slot (EUR)" in response.html.select_one(".error-summary").get_text()

    def test_buffers_must_fit_in_a_day(self, testapp, world):
        page = as_user(testapp, world, "manager").get(venue_url(world, "resources/new"))
        response = fill(form_by_action(page, "/resources/new"),
                        {**NEW, "slot_minutes": "720", "buffer_before_minutes": "700",
                         "buffer_after_minutes": "100"}).submit(status=400)
        assert "must fit in one day" in response.html.select_one("#buffer_after_minutes-error").text


class TestEdit:
    def edit_form(self, testapp, world, resource_id=None):
        page = as_user(testapp, world, "manager").get(
            venue_url(world, f"resources/{resource_id or world.court_id}/"))
        return form_by_action(page, f"/resources/{resource_id or world.court_id}/")

    def test_edit_form_shows_current_values(self, testapp, world):
        form = self.edit_form(testapp, world)
        assert (form["name"].value, form["price"].value, form["capacity"].value) == ("Court", "20.00", "1")

    def test_edit_saves_and_audits_the_changes(self, testapp, world):
        form = fill(self.edit_form(testapp, world), {"name": "Centre court", "price": "22",
                                                     "buffer_after_minutes": "15"})
        assert "Centre court is saved." in form.submit(status=303).follow().text
        row = resource_row(world, world.court_id)
        assert (row.name, row.price, row.buffer_after_minutes) == ("Centre court", 2200, 15)
        [(target, details)] = audit_rows(world, "resource.updated")
        assert target == world.court_id
        assert details["changes"] == {"name": ["Court", "Centre court"], "price": [2000, 2200],
                                      "buffer_after_minutes": [0, 15]}

    def test_capacity_below_booked_seats_is_refused(self, testapp, world):
        book(testapp, world, resource="yoga", start=at(TOMORROW, 10), seats=3)
        book(testapp, world, who="other_customer", resource="yoga", start=at(TOMORROW, 10), seats=2)
        book(testapp, world, resource="yoga", start=at(IN_A_WEEK, 10), seats=4)
        form = fill(self.edit_form(testapp, world, world.yoga_id), {"capacity": "4", "name": "Pilates"})
        response = form.submit(status=400)
        error = response.html.select_one("#capacity-error").get_text()
        assert "cannot be lower than 5: 5 seats are booked at" in error
        assert "Mar 3, 2026, 10:00" in error
        row = resource_row(world, world.yoga_id)
        assert (row.capacity, row.name) == (10, "Yoga")
        assert audit_rows(world, "resource.updated") == []

    def test_capacity_down_to_the_peak_is_allowed(self, testapp, world):
        book(testapp, world, resource="yoga", start=at(TOMORROW, 10), seats=3)
        book(testapp, world, resource="yoga", start=at(TOMORROW, 11), seats=3)
        fill(self.edit_form(testapp, world, world.yoga_id), {"capacity": "3"}).submit(status=303)
        assert resource_row(world, world.yoga_id).capacity == 3

    def test_capacity_ignores_cancelled_and_past_bookings(self, testapp, world, clock):
        from datetime import timedelta

        booking = book(testapp, world, resource="yoga", start=at(TOMORROW, 10), seats=6).json
        book(testapp, world, resource="yoga", start=at(TOMORROW, 12), seats=8)
        with world.db.session() as s:
            s.get(Booking, booking["id"]).status = "cancelled"
        clock.advance(timedelta(days=2))
        fill(self.edit_form(testapp, world, world.yoga_id), {"capacity": "1"}).submit(status=303)
        assert resource_row(world, world.yoga_id).capacity == 1

    def test_edit_refuses_bad_slot_length_and_writes_nothing(self, testapp, world):
        form = fill(self.edit_form(testapp, world), {"slot_minutes": "7", "name": "Renamed"})
        response = form.submit(status=400)
        assert "does not divide the day" in response.text
        assert resource_row(world, world.court_id).name == "Court"

    @pytest.mark.parametrize("name", ["Centre\ncourt", "Centre\x07court"], ids=["lf", "bell"])
    def test_edit_refuses_a_name_of_more_than_one_line_and_writes_nothing(self, testapp, world,
                                                                         name):
        response = fill(self.edit_form(testapp, world), {"name": name}).submit(status=400)
        assert "must be one line" in response.html.select_one("#name-error").text
        assert resource_row(world, world.court_id).name == "Court"
        assert audit_rows(world, "resource.updated") == []

    def test_description_keeps_its_line_breaks(self, testapp, world):
        form = fill(self.edit_form(testapp, world), {"description": "Clay.\nBring your shoes."})
        form.submit(status=303)
        assert resource_row(world, world.court_id).description == "Clay.\nBring your shoes."


class TestActivation:
    def test_deactivate_keeps_future_bookings_and_says_how_many(self, testapp, world):
        booking_id = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
        book(testapp, world, start=at(IN_A_WEEK, 10))
        page = as_user(testapp, world, "manager").get(venue_url(world, f"resources/{world.court_id}/"))
        assert "Future bookings: 2." in page.text
        page = form_by_action(page, "/deactivate").submit(status=303).follow()
        assert "Its 2 future booking(s) are kept" in page.text
        assert not resource_row(world, world.court_id).active
        with world.db.session() as s:
            assert s.get(Booking, booking_id).status == "confirmed"
        assert [t for t, _ in audit_rows(world, "resource.deactivated")] == [world.court_id]

    def test_deactivated_resource_takes_no_bookings(self, testapp, world):
        page = as_user(testapp, world, "manager").get(venue_url(world, f"resources/{world.court_id}/"))
        form_by_action(page, "/deactivate").submit(status=303)
        assert book(testapp, world, start=at(TOMORROW, 10), status=400).json["error"]["field"] == "resource_id"

    def test_activate_again(self, testapp, world):
        with world.db.session() as s:
            s.get(Resource, world.court_id).active = False
        page = as_user(testapp, world, "manager").get(venue_url(world, f"resources/{world.court_id}/"))
        page = form_by_action(page, "/activate").submit(status=303).follow()
        assert "Court takes bookings again." in page.text
        assert resource_row(world, world.court_id).active
        assert [t for t, _ in audit_rows(world, "resource.activated")] == [world.court_id]


SCHEDULE_PAGES = ["resources/", "resources/new", "resources/{court}/", "hours",
                  "resources/{court}/hours", "closures/"]


@pytest.mark.parametrize("path", SCHEDULE_PAGES)
def test_schedule_pages_are_accessible(testapp, world, path):
    page = as_user(testapp, world, "manager").get(venue_url(world, path.format(court=world.court_id)))
    assert page.html.select_one("main h1")
    assert not page.html.select("[style], script:not([src])")
    for field in page.html.select("main input:not([type=hidden]), main select, main textarea"):
        assert page.html.select_one(f"label[for={field['id']}]"), field

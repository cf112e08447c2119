"""Staff area: weekly opening hours of a venue and a resource's own hours."""

import pytest
from sqlalchemy import select

from booking.models import OpeningHours, Resource
from booking.services import AvailabilityService

from ..conftest import NOW
from .api import PARIS, TOMORROW
from .site import form_by_action, sign_in
from .test_manage_schedules_resources import as_user, audit_rows, tenant_wide_staff, venue_url

WEEK = {"monday": "09:00-12:00, 14:00-18:00", "tuesday": "10:00-12:00", "wednesday": "",
        "thursday": "", "friday": "08:00-24:00", "saturday": "", "sunday": ""}


def rows(world, resource_id=None):
    with world.db.session() as s:
        owner = (OpeningHours.resource_id.is_(None) if resource_id is None
                 else OpeningHours.resource_id == resource_id)
        return sorted(s.execute(select(OpeningHours.weekday, OpeningHours.opens_minute,
                                       OpeningHours.closes_minute)
                                .where(OpeningHours.venue_id == world.venue_id, owner)).all())


def local_starts(world, resource_id, day=TOMORROW):
    """The wall times of the resource's slots on ``day``, as the public sees them."""
    with world.db.session() as s:
        slots = AvailabilityService(s, NOW).slots(s.get(Resource, resource_id), day, day)
        return [slot.start.astimezone(PARIS).strftime("%H:%M") for slot in slots]


def hours_form(testapp, world, path="hours", who="manager"):
    page = as_user(testapp, world, who).get(venue_url(world, path))
    return page, form_by_action(page, "/hours")


def fill(form, values):
    for name, value in values.items():
        form[name] = value
    return form


class TestVenueHours:
    def test_page_shows_current_hours_and_time_zone(self, testapp, world):
        page, form = hours_form(testapp, world)
        assert form["monday"].value == "08:00-20:00" and form["sunday"].value == "08:00-20:00"
        assert "Europe/Paris" in page.html.select_one(".zone").get_text()
        assert page.html.select_one("label[for=monday]").get_text(strip=True) == "Monday"

    def test_save_replaces_the_hours_and_audits_old_and_new(self, testapp, world):
        _page, form = hours_form(testapp, world)
        page = fill(form, WEEK).submit(status=303).follow()
        assert "The opening hours of Centre are saved." in page.text
        assert rows(world) == [(0, 540, 720), (0, 840, 1080), (1, 600, 720), (4, 480, 1440)]
        [(target, details)] = audit_rows(world, "opening_hours.updated")
        assert target == world.venue_id
        assert details["old"]["wednesday"] == "08:00-20:00"
        assert details["new"] == {"monday": "09:00-12:00, 14:00-18:00", "tuesday": "10:00-12:00",
                                  "friday": "08:00-24:00"}

    def test_saved_hours_show_in_the_form_again(self, testapp, world):
        _page, form = hours_form(testapp, world)
        fill(form, WEEK).submit(status=303)
        _page, form = hours_form(testapp, world)
        assert form["monday"].value == "09:00-12:00, 14:00-18:00" and form["sunday"].value == ""

    def test_availability_follows_the_new_hours(self, testapp, world):
        _page, form = hours_form(testapp, world)
        fill(form, WEEK).submit(status=303)
        assert local_starts(world, world.court_id) == ["10:00", "11:00"]
        assert local_starts(world, world.yoga_id) == ["10:00", "11:00"]

    @pytest.mark.parametrize("field, text, message", [
        ("tuesday", "09:00-12:00, 11:00-13:00", "overlaps “09:00-12:00”"),
        ("wednesday", "18:00-09:00", "closes before it opens"),
        ("thursday", "9 to 5", "is not a range like 09:00-12:00"),
        ("friday", "14:00-18:00, 09:00-12:00", "list the ranges in order"),
        ("saturday", "09:00-12:00, 12:00-13:00", "write them as one range"),
        ("sunday", "10:00-25:00", "is not a time of day"),
    ])
    def test_bad_ranges_are_refused_and_nothing_is_written(self, testapp, world, field, text, message):
        before = rows(world)
        _page, form = hours_form(testapp, world)
        response = fill(form, {"monday": "10:00-11:00", field: text}).submit(status=400)
        assert message in response.html.select_one(f"#{field}-error").get_text()
        summary = response.html.select_one(".error-summary").get_text(" ", strip=True)
        assert field.capitalize() in summary and message in summary
        assert form_by_action(response, "/hours")[field].value == text
        assert rows(world) == before and audit_rows(world, "opening_hours.updated") == []

    def test_saving_unchanged_hours_writes_no_audit_row(self, testapp, world):
        _page, form = hours_form(testapp, world)
        form.submit(status=303)
        assert len(rows(world)) == 7 and audit_rows(world, "opening_hours.updated") == []

    def test_all_days_empty_closes_the_venue(self, testapp, world):
        _page, form = hours_form(testapp, world)
        fill(form, {day: "" for day in WEEK}).submit(status=303)
        assert rows(world) == [] and local_starts(world, world.court_id) == []


class TestResourceHours:
    def path(self, world):
        return f"resources/{world.court_id}/hours"

    def test_page_offers_the_venue_hours_by_default(self, testapp, world):
        page, form = hours_form(testapp, world, self.path(world))
        assert form["source"].value == "venue" and form["monday"].value == "08:00-20:00"
        assert "Europe/Paris" in page.text

    def test_override_applies_to_that_resource_only(self, testapp, world):
        _page, form = hours_form(testapp, world, self.path(world))
        page = fill(form, {"source": "own", "tuesday": "14:00-16:00"}).submit(status=303).follow()
        assert "Court has its own opening hours." in page.text
        assert [r for r in rows(world, world.court_id) if r[0] == 1] == [(1, 840, 960)]
        assert local_starts(world, world.court_id) == ["14:00", "15:00"]
        assert len(local_starts(world, world.yoga_id)) == 12
        [(target, details)] = audit_rows(world, "opening_hours.updated")
        assert target == world.court_id and details["old"] == {}

    def test_resource_with_own_hours_ignores_venue_days(self, testapp, world):
        _page, form = hours_form(testapp, world, self.path(world))
        fill(form, {"source": "own", **{day: "" for day in WEEK}, "monday": "09:00-10:00"}).submit(status=303)
        assert rows(world, world.court_id) == [(0, 540, 600)]
        assert local_starts(world, world.court_id) == []  # Tuesday: closed for the court

    def test_use_venue_hours_clears_the_override(self, testapp, world):
        _page, form = hours_form(testapp, world, self.path(world))
        fill(form, {"source": "own", "tuesday": "14:00-16:00"}).submit(status=303)
        _page, form = hours_form(testapp, world, self.path(world))
        assert form["source"].value == "own"
        page = fill(form, {"source": "venue", "tuesday": "garbage"}).submit(status=303).follow()
        assert "Court follows the venue's opening hours." in page.html.select_one(".flash").text
        assert rows(world, world.court_id) == []
        assert len(local_starts(world, world.court_id)) == 12

    def test_own_hours_closed_all_week_is_refused(self, testapp, world):
        _page, form = hours_form(testapp, world, self.path(world))
        response = fill(form, {"source": "own", **{day: "" for day in WEEK}}).submit(status=400)
        assert "at least one opening range" in response.text
        assert rows(world, world.court_id) == []

    def test_bad_override_writes_nothing(self, testapp, world):
        _page, form = hours_form(testapp, world, self.path(world))
        response = fill(form, {"source": "own", "monday": "12:00-10:00"}).submit(status=400)
        assert "closes before it opens" in response.html.select_one("#monday-error").text
        assert rows(world, world.court_id) == []


class TestAccess:
    @pytest.mark.parametrize("path", ["hours", "resources/{court}/hours"])
    def test_venue_staff_is_forbidden(self, testapp, world, path):
        sign_in(testapp, world.emails["staff"])
        testapp.get(venue_url(world, path.format(court=world.court_id)), status=403)

    def test_tenant_wide_staff_cannot_save(self, testapp, world):
        sign_in(testapp, tenant_wide_staff(world))
        token = testapp.get(f"/t/{world.slug}/").forms[0]["csrf_token"].value
        testapp.post(venue_url(world, "hours"), {"csrf_token": token, "monday": ""}, status=403)
        assert len(rows(world)) == 7

    @pytest.mark.parametrize("who", ["other_venue_staff", "customer", "other_tenant_owner"])
    def test_others_get_not_found(self, testapp, world, who):
        as_user(testapp, world, who).get(venue_url(world, "hours"), status=404)

    def test_owner_may_edit(self, testapp, world):
        hours_form(testapp, world, who="owner")

    def test_hours_of_a_resource_of_another_venue_are_not_found(self, testapp, world):
        as_user(testapp, world, "manager").get(
            venue_url(world, f"resources/{world.annexe_room_id}/hours"), status=404)

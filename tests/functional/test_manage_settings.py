"""Tenant settings in the staff area: owners and managers change them,
every field is checked, a change is audited, a bad form writes nothing."""

import pytest
from sqlalchemy import select

from booking.models import AuditLog, Tenant

from .site import form_by_action, sign_in


def settings_url(world):
    return f"/t/{world.slug}/manage/settings"


def settings_form(testapp, world, who="owner"):
    sign_in(testapp, world.emails[who])
    return form_by_action(testapp.get(settings_url(world)), "/settings")


def tenant_row(world):
    with world.db.session() as s:
        tenant = s.get(Tenant, world.tenant_id)
        s.expunge(tenant)
        return tenant


def settings_audit(world):
    with world.db.session() as s:
        return [row.details for row in s.scalars(
            select(AuditLog).where(AuditLog.target_type == "tenant",
                                   AuditLog.target_id == world.tenant_id))]


def test_settings_form_shows_current_values(testapp, world):
    form = settings_form(testapp, world)
    assert form["time_zone"].value == "Europe/Paris"
    assert form["currency"].value == "EUR"
    assert form["cancellation_window_minutes"].value == "24"
    assert form["hold_minutes"].value == "15"
    assert form["reminder_offsets"].value == "24, 2"


@pytest.mark.parametrize("who", ["owner", "manager"])
def test_settings_saved_and_audited(testapp, world, who):
    form = settings_form(testapp, world, who)
    form["name"] = "Club Deux"
    form["time_zone"] = "America/New_York"
    form["currency"] = "usd"
    form["cancellation_window_minutes"] = "1.5"
    form["hold_minutes"] = "30"
    form["reminder_offsets"] = "2, 48, 2,"
    page = form.submit(status=303).follow()
    assert "The settings are saved." in page.text
    tenant = tenant_row(world)
    assert (tenant.name, tenant.time_zone, tenant.currency) == ("Club Deux", "America/New_York",
                                                                "USD")
    assert (tenant.cancellation_window_minutes, tenant.hold_minutes) == (90, 30)
    assert tenant.reminder_offsets == [2880, 120]
    [details] = settings_audit(world)
    assert details["changes"]["currency"] == {"old": "EUR", "new": "USD"}
    assert details["changes"]["reminder_offsets"] == {"old": [1440, 120], "new": [2880, 120]}
    assert details["changes"]["hold_minutes"] == {"old": 15, "new": 30}


def test_settings_unchanged_writes_no_audit_row(testapp, world):
    settings_form(testapp, world).submit(status=303)
    assert settings_audit(world) == []


def test_settings_empty_reminders_mean_none(testapp, world):
    form = settings_form(testapp, world)
    form["reminder_offsets"] = ""
    form.submit(status=303)
    assert tenant_row(world).reminder_offsets == []


@pytest.mark.parametrize("field, value, message", [
    ("name", "   ", "is required"),
    ("name", "x" * 201, "must be at most 200 characters long"),
    ("time_zone", "Mars/Olympus", "is not a known IANA time zone"),
    ("time_zone", "../etc/passwd", "is not a known IANA time zone"),
    ("currency", "EURO", "is not an ISO 4217 currency code"),
    ("currency", "XYZ", "is not an ISO 4217 currency code"),
    ("currency", "JPY", "must be a currency with cents"),
    ("cancellation_window_minutes", "soon", "must be a number of hours"),
    ("cancellation_window_minutes", "-1", "must be between 0 and 8760 hours"),
    ("cancellation_window_minutes", "NaN", "must be a number of hours"),
    ("cancellation_window_minutes", "0.001", "must be a whole number of minutes"),
    ("hold_minutes", "0", "must be at least 1"),
    ("hold_minutes", "1441", "must be at most 1440"),
    ("hold_minutes", "ten", "must be an integer"),
    ("reminder_offsets", "24, 0", "must be between 1 and 720 hours"),
    ("reminder_offsets", "721", "must be between 1 and 720 hours"),
    ("reminder_offsets", "24; 2", "must be a number of hours"),
    ("reminder_offsets", "1, 2, 3, 4, 5, 6", "must list at most 5 reminders"),
])
def test_settings_bad_field_is_400_and_nothing_written(testapp, world, field, value, message):
    form = settings_form(testapp, world)
    form["name"] = "Renamed"
    form[field] = value
    page = form.submit(status=400)
    error = page.html.select_one(f"#{field}-error")
    assert message in error.get_text()
    assert page.html.select_one(f"#{field}")["value"] == value.strip() or field == "name"
    assert tenant_row(world).name != "Renamed"
    assert settings_audit(world) == []


@pytest.mark.parametrize("name", ["Renamed\nBcc: x@example.test", "Renamed\x07"],
                         ids=["lf", "bell"])
def test_settings_name_of_more_than_one_line_is_400_and_nothing_written(testapp, world, name):
    before = tenant_row(world).name
    form = settings_form(testapp, world)
    form["name"], form["hold_minutes"] = name, "30"
    page = form.submit(status=400)
    assert "must be one line" in page.html.select_one("#name-error").get_text()
    assert (tenant_row(world).name, tenant_row(world).hold_minutes) == (before, 15)
    assert settings_audit(world) == []


def test_settings_duplicate_reminders_are_merged(testapp, world):
    form = settings_form(testapp, world)
    form["reminder_offsets"] = "1, 2, 3, 4, 5, 5, 1"
    form.submit(status=303)
    assert tenant_row(world).reminder_offsets == [300, 240, 180, 120, 60]


@pytest.mark.parametrize("who", ["staff", "other_venue_staff"])
def test_settings_forbidden_to_staff(testapp, world, who):
    sign_in(testapp, world.emails[who])
    testapp.get(settings_url(world), status=403)
    token = testapp.get(f"/t/{world.slug}/manage/").forms[0]["csrf_token"].value
    testapp.post(settings_url(world), {"csrf_token": token, "name": "Hacked"}, status=403)
    assert tenant_row(world).name != "Hacked"


@pytest.mark.parametrize("who", ["customer", "other_tenant_owner"])
def test_settings_not_found_for_outsiders(testapp, world, who):
    sign_in(testapp, world.emails[who])
    testapp.get(settings_url(world), status=404)


def test_settings_needs_sign_in(testapp, world):
    assert "/login?next=" in testapp.get(settings_url(world), status=303).location


def test_settings_keep_personal_data_for_a_number_of_days(testapp, world):
    form = settings_form(testapp, world)
    assert form["personal_data_days"].value == ""
    form["personal_data_days"] = "90"
    form.submit(status=303)
    assert tenant_row(world).personal_data_days == 90
    form = settings_form(testapp, world)
    form["personal_data_days"] = ""
    form.submit(status=303)
    assert tenant_row(world).personal_data_days is None


def test_settings_personal_data_days_below_one_is_400(testapp, world):
    form = settings_form(testapp, world)
    form["personal_data_days"] = "0"
    page = form.submit(status=400)
    assert "personal_data_days-error" in page
    assert tenant_row(world).personal_data_days is None


def test_settings_choose_how_moved_and_cancelled_bookings_are_priced(testapp, world):
    form = settings_form(testapp, world)
    assert form["move_pricing"].value == "keep" and form["release_code_on_cancel"].checked
    form["move_pricing"] = "reprice"
    form["release_code_on_cancel"] = False
    form.submit(status=303)
    tenant = tenant_row(world)
    assert (tenant.move_pricing, tenant.release_code_on_cancel) == ("reprice", False)


def test_settings_unknown_move_pricing_is_400(testapp, world):
    form = settings_form(testapp, world)
    form["move_pricing"].force_value("guess")
    assert "move_pricing-error" in form.submit(status=400)
    assert tenant_row(world).move_pricing == "keep"

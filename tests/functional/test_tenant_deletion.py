"""An owner deletes the business from the staff area: the name typed again
confirms; the business closes at once; the owner may cancel during the
grace period (the purge itself: tests/db/test_tenant_purge.py)."""

from datetime import timedelta

from sqlalchemy import select

from booking.models import AuditLog, Tenant

from ..conftest import NOW
from .site import form_by_action, sign_in


def deletion_page(testapp, world, who="owner"):
    sign_in(testapp, world.emails[who])
    return testapp.get(f"/t/{world.slug}/manage/deletion")


def stored(world):
    with world.db.session_factory() as s:
        return s.get(Tenant, world.tenant_id)


def request_deletion(testapp, world):
    page = deletion_page(testapp, world)
    form = page.forms["deletion-form"]
    form["confirm_name"] = stored(world).name
    return form.submit(status=303)


def test_wrong_name_is_refused_and_nothing_changes(testapp, world):
    form = deletion_page(testapp, world).forms["deletion-form"]
    form["confirm_name"] = "something else"
    response = form.submit(status=400)
    assert "does not match the name of the business" in response.text
    assert stored(world).deletion_requested_at is None


def test_request_records_the_moment_and_audits(testapp, world):
    request_deletion(testapp, world)
    assert stored(world).deletion_requested_at == NOW
    with world.db.session_factory() as s:
        assert s.scalar(select(AuditLog.actor_id)
                        .where(AuditLog.action == "tenant.deletion_requested")) == \
            world.user_ids["owner"]


def test_business_closes_at_once_to_the_public(testapp, world):
    request_deletion(testapp, world)
    testapp.reset()
    testapp.get(f"/t/{world.slug}/", status=404)
    testapp.get(f"/api/v1/t/{world.slug}", status=404)


def test_owner_sees_the_deletion_date(testapp, world):
    page = request_deletion(testapp, world).follow()
    day = (NOW + timedelta(days=30)).strftime("%B %-d, %Y")
    assert "scheduled for deletion on" in page.text and day in page.text


def test_dashboard_tells_the_owner_and_links_to_cancel(testapp, world):
    request_deletion(testapp, world)
    page = testapp.get(f"/t/{world.slug}/manage/")
    assert "scheduled for deletion on" in page.text
    assert page.html.select_one(".deletion-notice a")["href"].endswith("/manage/deletion/")


def test_owner_cancels_the_deletion(testapp, world):
    page = request_deletion(testapp, world).follow()
    form_by_action(page, "/deletion/cancel").submit(status=303)
    assert stored(world).deletion_requested_at is None
    testapp.reset()
    testapp.get(f"/t/{world.slug}/", status=200)


def test_manager_cannot_reach_the_deletion_page(testapp, world):
    testapp.reset()
    sign_in(testapp, world.emails["manager"])
    testapp.get(f"/t/{world.slug}/manage/deletion", status=404)


def test_staff_see_the_closed_business_read_only(testapp, world):
    request_deletion(testapp, world)
    testapp.reset()
    sign_in(testapp, world.emails["manager"])
    page = testapp.get(f"/t/{world.slug}/manage/")
    assert "its owner asked for it to be deleted" in page.text
    testapp.get(f"/t/{world.slug}/manage/settings", status=403)


def test_grace_period_comes_from_the_settings(testapp, world, app):
    settings = app.app.registry.settings
    old = settings["booking.tenant_deletion_grace_days"]
    settings["booking.tenant_deletion_grace_days"] = 7
    try:
        page = request_deletion(testapp, world).follow()
    finally:
        settings["booking.tenant_deletion_grace_days"] = old
    assert (NOW + timedelta(days=7)).strftime("%B %-d, %Y") in page.text

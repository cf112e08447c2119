"""Platform administration at /admin/ (platform administrators only; 404 to
everybody else), and what a suspension does to every kind of page and API
call of the tenant."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from booking.models import AuditLog, Booking, Resource, Tenant, User
from booking.services import tenants
from booking.services.booking import BookingRequest, BookingService
from booking.services.errors import PolicyViolation

from .. import builders as b
from ..conftest import NOW, auth
from .api import IN_A_WEEK, at
from .mfa import enrol_totp, sign_in_with_code
from .site import form_by_action, resource_url, sign_in


@pytest.fixture
def admin(world):
    """A platform administrator's email; /admin/ needs their second factor."""
    with world.db.session() as s:
        user = b.user(s, email="root@platform.test", is_platform_admin=True)
        user_id, email = user.id, user.email
    ADMIN_SECRETS[email], _codes = enrol_totp(world.db, user_id)
    return email


ADMIN_SECRETS = {}


def as_admin(testapp, admin):
    sign_in_with_code(testapp, admin, ADMIN_SECRETS[admin])
    return testapp


def suspend(world):
    with world.db.session() as s:
        s.get(Tenant, world.tenant_id).status = "suspended"


def book(world, customer="customer", days=7):
    with world.db.session() as s:
        start = datetime.fromisoformat(at(IN_A_WEEK + timedelta(days=days - 7), 10,
                                          zone=ZoneInfo("Europe/Paris")))
        booking, _ = BookingService(s, NOW).book(BookingRequest(
            s.get(Tenant, world.tenant_id), s.get(Resource, world.court_id),
            s.get(User, world.user_ids[customer]), start))
        return booking.id


class TestAccess:
    @pytest.mark.parametrize("who", ["customer", "owner", "manager", "other_tenant_owner"])
    def test_everybody_else_gets_404(self, testapp, world, who):
        sign_in(testapp, world.emails[who])
        testapp.get("/admin/", status=404)
        testapp.get("/admin/audit", status=404)

    def test_anonymous_gets_404(self, testapp, world):
        testapp.get("/admin/", status=404)

    def test_owner_cannot_suspend_a_tenant(self, testapp, world):
        sign_in(testapp, world.emails["owner"])
        token = testapp.get(f"/t/{world.slug}/").forms[0]["csrf_token"].value
        testapp.post(f"/admin/tenants/{world.slug}/suspend", {"csrf_token": token}, status=404)

    def test_platform_admin_sees_the_tenants(self, testapp, world, admin):
        page = as_admin(testapp, admin).get("/admin/")
        slugs = {row["data-slug"] for row in page.html.select("#tenants tbody tr")}
        assert slugs == {world.slug, world.other_slug}


class TestTenantList:
    def test_sizes_count_venues_resources_and_recent_bookings(self, testapp, world, admin):
        book(world)
        old_id = book(world, days=8)
        with world.db.session() as s:
            old = s.get(Booking, old_id)
            old.created_at = NOW - timedelta(days=31)
        row = as_admin(testapp, admin).get("/admin/").html.select_one(
            f"tr[data-slug={world.slug}]")
        assert [row.select_one(f".{m}").text for m in ("venues", "resources", "bookings")] == [
            "2", "3", "1"]

    def test_search_by_name_or_slug(self, testapp, world, admin):
        page = as_admin(testapp, admin).get("/admin/", {"q": "RIV"})
        assert [row["data-slug"] for row in page.html.select("#tenants tbody tr")] == [
            world.other_slug]

    def test_sizes_take_one_query_per_measure(self, world):
        with world.db.session() as s:
            for _n in range(5):
                b.venue(s, b.tenant(s))
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(world.db.engine, "before_cursor_execute", listener)
        try:
            with world.db.session_factory() as s:
                ids = s.scalars(select(Tenant.id)).all()
                statements.clear()
                tenants.sizes(s, ids, NOW)
        finally:
            event.remove(world.db.engine, "before_cursor_execute", listener)
        assert len(ids) == 7 and len(statements) == 3


class TestSuspendReactivate:
    def test_suspend_closes_the_tenant_and_audits(self, testapp, world, admin):
        page = as_admin(testapp, admin).get("/admin/")
        form_by_action(page, f"/tenants/{world.slug}/suspend").submit(status=303)
        with world.db.session_factory() as s:
            assert s.get(Tenant, world.tenant_id).status == "suspended"
            entry = s.scalar(select(AuditLog).where(AuditLog.action == "tenant.suspended"))
            assert (entry.tenant_id, entry.target_id) == (world.tenant_id, world.tenant_id)
            assert entry.actor_id == s.scalar(select(User.id).where(User.email == admin))

    def test_reactivate_opens_it_again(self, testapp, world, admin):
        suspend(world)
        page = as_admin(testapp, admin).get("/admin/")
        form_by_action(page, f"/tenants/{world.slug}/reactivate").submit(status=303)
        testapp.get(f"/t/{world.slug}/", status=200)

    def test_suspend_needs_the_csrf_token(self, testapp, world, admin):
        as_admin(testapp, admin).post(f"/admin/tenants/{world.slug}/suspend", status=400)
        with world.db.session_factory() as s:
            assert s.get(Tenant, world.tenant_id).status == "active"

    def test_suspending_twice_is_a_conflict(self, testapp, world, admin):
        page = as_admin(testapp, admin).get("/admin/")
        form = form_by_action(page, f"/tenants/{world.slug}/suspend")
        form.submit(status=303)
        form.submit(status=409)


class TestAuditLog:
    def test_newest_first_across_tenants(self, testapp, world, admin):
        with world.db.session() as s:
            for minutes, tenant_id in ((1, world.tenant_id), (2, world.tenant_id + 1)):
                s.add(AuditLog(tenant_id=tenant_id, actor_id=None, action=f"test.{minutes}",
                               target_type="tenant", target_id=tenant_id,
                               at=NOW + timedelta(minutes=minutes)))
        page = as_admin(testapp, admin).get("/admin/audit")
        actions = [row["data-action"] for row in page.html.select("#audit-log tbody tr")]
        assert actions == ["test.2", "test.1"]

    def test_filter_by_tenant(self, testapp, world, admin):
        with world.db.session() as s:
            for tenant_id in (world.tenant_id, world.tenant_id + 1):
                s.add(AuditLog(tenant_id=tenant_id, actor_id=None, action=f"test.{tenant_id}",
                               target_type="tenant", target_id=tenant_id, at=NOW))
        page = as_admin(testapp, admin).get("/admin/audit", {"tenant": world.other_slug})
        actions = [row["data-action"] for row in page.html.select("#audit-log tbody tr")]
        assert actions == [f"test.{world.tenant_id + 1}"]

    def test_paginated(self, testapp, world, admin):
        with world.db.session() as s:
            s.add_all(AuditLog(tenant_id=world.tenant_id, actor_id=None, action=f"n.{n:03}",
                               target_type="tenant", target_id=1, at=NOW + timedelta(seconds=n))
                      for n in range(60))
        page = as_admin(testapp, admin).get("/admin/audit", {"page": "2"})
        actions = [row["data-action"] for row in page.html.select("#audit-log tbody tr")]
        assert actions == [f"n.{n:03}" for n in range(9, -1, -1)]


class TestSuspensionEffects:
    def test_public_pages_are_404_to_customers(self, testapp, world):
        suspend(world)
        sign_in(testapp, world.emails["customer"])
        for path in (f"/t/{world.slug}/", f"/t/{world.slug}/venues/{world.venue_id}/",
                     resource_url(world)):
            testapp.get(path, status=404)

    def test_api_catalog_is_404(self, testapp, world):
        suspend(world)
        testapp.get(f"/api/v1/t/{world.slug}/venues", status=404)
        testapp.get(f"/api/v1/t/{world.slug}/venues/{world.venue_id}/resources/{world.court_id}"
                    f"/availability", status=404)

    def test_staff_still_see_the_public_pages(self, testapp, world):
        suspend(world)
        sign_in(testapp, world.emails["staff"])
        testapp.get(resource_url(world), status=200)

    def test_staff_see_the_dashboard_read_only(self, testapp, world):
        suspend(world)
        sign_in(testapp, world.emails["manager"])
        page = testapp.get(f"/t/{world.slug}/manage/", status=200)
        assert "suspended by the platform" in page.text
        assert page.html.select("nav a[href$='/manage/settings']") == []
        testapp.get(f"/t/{world.slug}/manage/settings", status=403)

    def test_no_new_booking_over_the_api(self, testapp, world):
        suspend(world)
        start = at(IN_A_WEEK, 10, zone=ZoneInfo("Europe/Paris"))
        response = testapp.post_json(f"/api/v1/t/{world.slug}/bookings",
                          {"resource_id": world.court_id, "start": start},
                          headers=auth(world.tokens["customer"]), status=403)
        assert "closed for now" in response.json["error"]["message"]

    def test_booking_service_refuses_a_suspended_tenant(self, world):
        suspend(world)
        with world.db.session_factory() as s:
            with pytest.raises(PolicyViolation):
                BookingService(s, NOW).book(BookingRequest(
                    s.get(Tenant, world.tenant_id), s.get(Resource, world.court_id),
                    s.get(User, world.user_ids["customer"]),
                    datetime.fromisoformat(at(IN_A_WEEK, 10, zone=ZoneInfo("Europe/Paris")))))

    def test_booking_service_refuses_to_move_a_booking(self, world):
        booking_id = book(world)
        suspend(world)
        with world.db.session_factory() as s:
            with pytest.raises(PolicyViolation, match="cancelled, not moved"):
                BookingService(s, NOW).reschedule(
                    s.get(Tenant, world.tenant_id), s.get(Booking, booking_id),
                    s.get(Resource, world.court_id),
                    datetime.fromisoformat(at(IN_A_WEEK, 12, zone=ZoneInfo("Europe/Paris"))))

    def test_customer_still_sees_and_cancels_their_booking(self, testapp, world):
        booking_id = book(world)
        suspend(world)
        url = f"/api/v1/t/{world.slug}/bookings/{booking_id}"
        headers = auth(world.tokens["customer"])
        testapp.get(url, headers=headers, status=200)
        response = testapp.post_json(url + "/cancel", {}, headers=headers, status=200)
        assert response.json["status"] == "cancelled"

    def test_customer_cannot_reschedule(self, testapp, world):
        booking_id = book(world)
        suspend(world)
        start = at(IN_A_WEEK, 12, zone=ZoneInfo("Europe/Paris"))
        response = testapp.post_json(
            f"/api/v1/t/{world.slug}/bookings/{booking_id}/reschedule", {"start": start},
            headers=auth(world.tokens["customer"]), expect_errors=True)
        assert response.status_int in (400, 403)
        with world.db.session_factory() as s:
            assert s.get(Booking, booking_id).starts_at.hour == 9  # 10:00 in Paris

    def test_customer_lists_their_bookings(self, testapp, world):
        booking_id = book(world)
        suspend(world)
        response = testapp.get(f"/api/v1/t/{world.slug}/bookings",
                               headers=auth(world.tokens["customer"]), status=200)
        assert [item["id"] for item in response.json["bookings"]] == [booking_id]

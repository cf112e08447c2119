"""Who may do what, where: every role × every permission × every kind of
context, generated from one table and checked against the real tree, the
real security policy and the real database.

Outcomes: A allowed, D denied (403), U sign in first (401), N not found (404).
The letters of each cell are for the permissions view, book, cancel, manage,
admin, in that order.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pyramid.request import Request
from pyramid.scripting import prepare
from pyramid.traversal import find_resource

from booking.models import Resource, Tenant, TenantStatus, User
from booking.security import Permission
from booking.services.booking import BookingRequest, BookingService
from booking.services.vouchers import VoucherService
from booking.services.promotions import PromotionService
from booking.views.errors import denial_status

from ..conftest import NOW
from .api import IN_A_WEEK, TOMORROW, at

PERMISSIONS = [Permission.VIEW, Permission.BOOK, Permission.CANCEL, Permission.MANAGE, Permission.ADMIN]
ROLES = ["anonymous", "customer", "other_customer", "staff", "other_venue_staff", "manager",
         "owner", "other_tenant_owner"]

MATRIX = {
    #                    anon     cust     other    staff    o.venue  manager  owner    rival
    "tenant":           ["AUUUU", "AADDD", "AADDD", "AADDD", "AADDD", "AAAAD", "AAAAA", "AADDD"],
    "venue":            ["AUUUU", "AADDD", "AADDD", "AAAAD", "AADDD", "AAAAA", "AAAAA", "AADDD"],
    "resource":         ["AUUUU", "AADDD", "AADDD", "AAAAD", "AADDD", "AAAAA", "AAAAA", "AADDD"],
    "inactive_resource": ["NNNNN", "NNNNN", "NNNNN", "ADDAD", "NNNNN", "ADDAA", "ADDAA", "NNNNN"],
    "bookings":         ["UUUUU", "AADDD", "AADDD", "AADDD", "AADDD", "AADDD", "AADDD", "AADDD"],
    "booking":          ["UUUUU", "ADADD", "NNNNN", "ADAAD", "NNNNN", "ADAAD", "ADAAA", "NNNNN"],
    "booking_window_closed": ["UUUUU", "ADDDD", "NNNNN", "ADAAD", "NNNNN", "ADAAD", "ADAAA", "NNNNN"],
    "booking_cancelled": ["UUUUU", "ADDDD", "NNNNN", "ADAAD", "NNNNN", "ADAAD", "ADAAA", "NNNNN"],
    "rival_venue":      ["NNNNN"] * 8,
    "rival_booking":    ["NNNNN"] * 8,
    # Gift vouchers: the page is public, buying needs an account; owners
    # and managers run them; one voucher is theirs alone.
    "vouchers":         ["AUUUU", "AADDD", "AADDD", "AADDD", "AADDD", "AADAA", "AADAA", "AADDD"],
    "voucher":          ["NNNNN", "NNNNN", "NNNNN", "NNNNN", "NNNNN", "ADDAA", "ADDAA", "NNNNN"],
    "rival_voucher":    ["NNNNN"] * 8,
    # Promotions (the API's place below the tenant): owners and managers.
    "offers":           ["UUUUU", "NNNNN", "NNNNN", "ADDDD", "ADDDD", "ADDAA", "ADDAA", "NNNNN"],
    "offer":            ["UUUUU", "NNNNN", "NNNNN", "ADDDD", "ADDDD", "ADDAA", "ADDAA", "NNNNN"],
    "rival_offer":      ["NNNNN"] * 8,
}

#: A closed tenant (suspended by the platform, or its deletion requested):
#: 404 to the public, read-only to its staff (each in their usual scope),
#: nobody books; a customer still sees, and inside the window cancels, their
#: own booking.
SUSPENDED_MATRIX = {
    #                    anon     cust     other    staff    o.venue  manager  owner    rival
    "tenant":           ["NNNNN", "NNNNN", "NNNNN", "ADDDD", "ADDDD", "ADDDD", "ADDDD", "NNNNN"],
    "venue":            ["NNNNN", "NNNNN", "NNNNN", "ADDDD", "ADDDD", "ADDDD", "ADDDD", "NNNNN"],
    "resource":         ["NNNNN", "NNNNN", "NNNNN", "ADDDD", "ADDDD", "ADDDD", "ADDDD", "NNNNN"],
    "inactive_resource": ["NNNNN", "NNNNN", "NNNNN", "ADDDD", "NNNNN", "ADDDD", "ADDDD", "NNNNN"],
    "bookings":         ["UUUUU", "ADDDD", "ADDDD", "ADDDD", "ADDDD", "ADDDD", "ADDDD", "ADDDD"],
    "booking":          ["UUUUU", "ADADD", "NNNNN", "ADDDD", "NNNNN", "ADDDD", "ADDDD", "NNNNN"],
    "booking_window_closed": ["UUUUU", "ADDDD", "NNNNN", "ADDDD", "NNNNN", "ADDDD", "ADDDD", "NNNNN"],
    "booking_cancelled": ["UUUUU", "ADDDD", "NNNNN", "ADDDD", "NNNNN", "ADDDD", "ADDDD", "NNNNN"],
    "rival_venue":      ["NNNNN"] * 8,
    "rival_booking":    ["NNNNN"] * 8,
    "vouchers":         ["NNNNN", "NNNNN", "NNNNN", "NNNNN", "NNNNN", "ADDDD", "ADDDD", "NNNNN"],
    "voucher":          ["NNNNN", "NNNNN", "NNNNN", "NNNNN", "NNNNN", "ADDDD", "ADDDD", "NNNNN"],
    "rival_voucher":    ["NNNNN"] * 8,
    "offers":           ["UUUUU", "NNNNN", "NNNNN", "ADDDD", "ADDDD", "ADDDD", "ADDDD", "NNNNN"],
    "offer":            ["UUUUU", "NNNNN", "NNNNN", "ADDDD", "ADDDD", "ADDDD", "ADDDD", "NNNNN"],
    "rival_offer":      ["NNNNN"] * 8,
}

CODES = {"allow": "A", 403: "D", 401: "U", 404: "N"}


def table_row(app, world, path):
    """The observed outcomes for one path, in the table's notation."""
    return ["".join(outcome(app, world, role, path, permission) for permission in PERMISSIONS)
            for role in ROLES]


def mismatches(expected, observed):
    return [
        f"{role} {permission}: expected {want[j]}, got {got[j]}"
        for role, want, got in zip(ROLES, expected, observed)
        for j, permission in enumerate(PERMISSIONS)
        if want[j] != got[j]
    ]


@pytest.fixture
def paths(world, db):
    """The path of each kind of context in the world."""
    with db.session() as s:
        tenant = s.get(Tenant, world.tenant_id)
        rival = s.get(Tenant, s.get(Resource, world.rival_court_id).tenant_id)
        inactive = Resource(tenant_id=tenant.id, venue_id=world.venue_id, name="Old court",
                            active=False, min_notice_minutes=0)
        s.add(inactive)
        s.flush()
        service = BookingService(s, NOW)

        def book(resource_id, start, tenant_row=tenant, customer="customer"):
            return service.book(BookingRequest(tenant_row, s.get(Resource, resource_id),
                                s.get(User, world.user_ids[customer]), start))[0]

        open_booking = book(world.court_id, _dt(IN_A_WEEK, 10))
        closed_booking = book(world.court_id, _dt(TOMORROW, 9))
        cancelled = book(world.court_id, _dt(IN_A_WEEK, 11))
        cancelled.status = "cancelled"
        rival_booking = book(world.rival_court_id, _dt(IN_A_WEEK, 10, "America/New_York"),
                             tenant_row=rival, customer="other_customer")
        voucher, _code = VoucherService(s, NOW).issue(tenant, None, 1000)
        rival_voucher, _code = VoucherService(s, NOW).issue(rival, None, 1000)
        offer = PromotionService(s, NOW).create_offer(tenant, None, name="Mornings",
                                                      kind="off_peak", percent=10)
        rival_offer = PromotionService(s, NOW).create_offer(rival, None, name="Theirs",
                                                            kind="off_peak", percent=10)
        base = f"/t/{world.slug}"
        venue = f"{base}/venues/{world.venue_id}"
        return {
            "tenant": f"{base}/",
            "venue": f"{venue}/",
            "resource": f"{venue}/resources/{world.court_id}/",
            "inactive_resource": f"{venue}/resources/{inactive.id}/",
            "bookings": f"{base}/bookings/",
            "booking": f"{base}/bookings/{open_booking.id}/",
            "booking_window_closed": f"{base}/bookings/{closed_booking.id}/",
            "booking_cancelled": f"{base}/bookings/{cancelled.id}/",
            "rival_venue": f"{base}/venues/{world.rival_venue_id}/",
            "rival_booking": f"{base}/bookings/{rival_booking.id}/",
            "vouchers": f"{base}/vouchers/",
            "voucher": f"{base}/vouchers/{voucher.id}/",
            "rival_voucher": f"{base}/vouchers/{rival_voucher.id}/",
            "offers": f"{base}/offers/",
            "offer": f"{base}/offers/{offer.id}/",
            "rival_offer": f"{base}/offers/{rival_offer.id}/",
        }


def _dt(day, hour, zone="Europe/Paris"):
    return datetime.fromisoformat(at(day, hour, zone=ZoneInfo(zone)))


def outcome(app, world, role, path, permission):
    """What the app answers ``role`` asking for ``permission`` at ``path``."""
    request = Request.blank(path, base_url="http://booking.test")
    if role != "anonymous":
        request.headers["Authorization"] = f"Bearer {world.tokens[role]}"
    env = prepare(request=request, registry=app.app.registry)
    request.tm.begin()
    try:
        try:
            context = find_resource(env["root"], path)
        except KeyError:
            return "N"
        if request.has_permission(permission, context):
            return "A"
        return CODES[denial_status(request, context)]
    finally:
        request.tm.abort()
        env["closer"]()


@pytest.mark.parametrize("kind", list(MATRIX))
def test_authorization(app, world, paths, kind):
    assert mismatches(MATRIX[kind], table_row(app, world, paths[kind])) == []


@pytest.mark.parametrize("kind", list(SUSPENDED_MATRIX))
def test_authorization_when_tenant_suspended(app, world, paths, kind):
    with world.db.session() as s:
        s.get(Tenant, world.tenant_id).status = TenantStatus.SUSPENDED
    assert mismatches(SUSPENDED_MATRIX[kind], table_row(app, world, paths[kind])) == []


@pytest.mark.parametrize("kind", list(SUSPENDED_MATRIX))
def test_authorization_when_tenant_deletion_requested(app, world, paths, kind):
    with world.db.session() as s:
        s.get(Tenant, world.tenant_id).deletion_requested_at = NOW
    assert mismatches(SUSPENDED_MATRIX[kind], table_row(app, world, paths[kind])) == []


def test_window_closes_as_time_passes(app, world, paths, clock):
    """The same booking, the same customer: the clock alone changes the answer."""
    assert outcome(app, world, "customer", paths["booking"], Permission.CANCEL) == "A"
    clock.advance(timedelta(days=6, minutes=1))
    assert outcome(app, world, "customer", paths["booking"], Permission.CANCEL) == "D"


class TestHttpAgreesWithMatrix:
    """Spot checks that the views answer what the table says."""

    def test_other_customer_gets_404_over_http(self, testapp, world, paths):
        testapp.get("/api/v1" + paths["booking"], headers={"Authorization": f"Bearer {world.tokens['other_customer']}"},
                    status=404)

    def test_anonymous_gets_401_over_http(self, testapp, world, paths):
        testapp.get("/api/v1" + paths["booking"], status=401)

    def test_suspended_tenant_is_404_over_http(self, testapp, world):
        with world.db.session() as s:
            s.get(Tenant, world.tenant_id).status = TenantStatus.SUSPENDED
        testapp.get(f"/api/v1/t/{world.slug}", status=404)
        testapp.get(f"/t/{world.slug}/", status=404)

    def test_inactive_resource_is_404_for_customers_over_http(self, testapp, world, paths):
        testapp.get("/api/v1" + paths["inactive_resource"], status=404)

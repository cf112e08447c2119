"""Who may open which page of the staff area, generated from one table.

Each row is one staff view (method, path, view name); each letter is the
outcome for a role, in the order of ``ROLES``: A allowed, D denied (403),
U sign in first, N not found (404). The outcome is computed the way Pyramid
decides it: traverse the path, take the permission the view declares (read
from the registry's introspector), ask the security policy. A test checks
that every staff view registered in the app has a row, so a new view cannot
be added without deciding who may use it; HTTP spot checks confirm the
answers on the wire.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pyramid.request import Request
from pyramid.scripting import prepare
from pyramid.traversal import find_resource

from booking.models import Resource, Tenant, User
from booking.resources import manage as tree
from booking.security import UNDECLARED_PERMISSION, Permission
from booking.services.booking import BookingRequest, BookingService
from booking.services.outbox import enqueue
from booking.services.vouchers import VoucherService
from booking.services.promotions import PromotionService
from booking.views.errors import denial_status

from .. import builders as b
from ..conftest import NOW
from .api import IN_A_WEEK, at
from .site import sign_in

ROLES = ["anonymous", "customer", "other_customer", "staff", "other_venue_staff", "manager",
         "owner", "other_tenant_owner"]

#: Paths use {booking}, {venue}, {other_venue}, {resource}, {closure},
#: {message}, {voucher}, {offer}, {code} for ids.
DESK_HERE = "UNNANAAN"      # the desk of the venue "Centre": its staff, not the Annexe's
DESK_ANYWHERE = "UNNAAAAN"  # the desk of the tenant: any staff member
CONFIGURE = "UNNDNAAN"      # configuration of "Centre": managers and owners
SETTINGS = "UNNDDAAN"
DESK_THERE = "UNNNAAAN"     # the venue "Annexe": its staff, not Centre's
OWNERS = "UNNNNNAN"         # deleting the business
TABLE = [
    # method, path below /t/club/manage, view name, outcomes
    ("GET", "/", "", DESK_ANYWHERE),
    ("GET", "/settings", "settings", SETTINGS),
    ("POST", "/settings", "settings", SETTINGS),
    ("GET", "/people/", "", "UNNNNAAN"),
    ("GET", "/people/history", "history", "UNNNNAAN"),
    ("POST", "/people/invite", "invite", "UNNNNDAN"),
    ("POST", "/people/role", "role", "UNNNNDAN"),
    ("POST", "/people/remove", "remove", "UNNNNDAN"),
    ("GET", "/venues/{venue}/", "", DESK_HERE),
    ("GET", "/venues/{other_venue}/", "", DESK_THERE),
    ("GET", "/venues/{venue}/feeds", "feeds", DESK_HERE),
    ("POST", "/venues/{venue}/feeds", "feeds", DESK_HERE),
    ("POST", "/venues/{venue}/revoke-feed", "revoke-feed", DESK_HERE),
    ("GET", "/venues/{venue}/hours", "hours", CONFIGURE),
    ("POST", "/venues/{venue}/hours", "hours", CONFIGURE),
    ("GET", "/venues/{venue}/resources/", "", CONFIGURE),
    ("GET", "/venues/{venue}/resources/new", "new", CONFIGURE),
    ("POST", "/venues/{venue}/resources/new", "new", CONFIGURE),
    ("GET", "/venues/{venue}/resources/{resource}/", "", CONFIGURE),
    ("POST", "/venues/{venue}/resources/{resource}/", "", CONFIGURE),
    ("GET", "/venues/{venue}/resources/{resource}/hours", "hours", CONFIGURE),
    ("POST", "/venues/{venue}/resources/{resource}/hours", "hours", CONFIGURE),
    ("POST", "/venues/{venue}/resources/{resource}/deactivate", "deactivate", CONFIGURE),
    ("POST", "/venues/{venue}/resources/{resource}/activate", "activate", CONFIGURE),
    ("GET", "/venues/{venue}/closures/", "", CONFIGURE),
    ("POST", "/venues/{venue}/closures/", "", CONFIGURE),
    ("POST", "/venues/{venue}/closures/{closure}/delete", "delete", CONFIGURE),
    ("GET", "/venues/", "", SETTINGS),
    ("GET", "/venues/new", "new", SETTINGS),
    ("POST", "/venues/new", "new", SETTINGS),
    ("GET", "/venues/{venue}/edit", "edit", CONFIGURE),
    ("POST", "/venues/{venue}/edit", "edit", CONFIGURE),
    ("GET", "/bookings/", "", DESK_ANYWHERE),
    ("GET", "/bookings/export.csv", "export.csv", DESK_ANYWHERE),
    ("GET", "/bookings/new", "new", DESK_ANYWHERE),
    ("POST", "/bookings/new", "new", DESK_ANYWHERE),
    ("GET", "/bookings/{booking}/", "", DESK_HERE),
    ("GET", "/messages/", "", "UNNNNAAN"),
    ("POST", "/messages/{message}/retry", "retry", "UNNNNAAN"),
    ("GET", "/offer-emails/", "", "UNNNNAAN"),
    ("POST", "/offer-emails/preview", "preview", "UNNNNAAN"),
    ("POST", "/offer-emails/send", "send", "UNNNNAAN"),
    # Gift vouchers: owners and managers.
    ("GET", "/vouchers/", "", "UNNNNAAN"),
    ("POST", "/vouchers/issue", "issue", "UNNNNAAN"),
    ("GET", "/vouchers/{voucher}/", "", "UNNNNAAN"),
    ("POST", "/vouchers/{voucher}/void", "void", "UNNNNAAN"),
    ("GET", "/deletion", "", OWNERS),
    ("POST", "/deletion", "", OWNERS),
    ("POST", "/deletion/cancel", "cancel", OWNERS),
    *[("POST", f"/bookings/{{booking}}/{action}", action, DESK_HERE)
      for action in ("confirm", "check-in", "no-show", "cancel", "move")],
    # Giving money back by hand is for managers and owners.
    ("POST", "/bookings/{booking}/refund", "refund", "UNNDNAAN"),
    # A customer's data with the business: managers and owners export or erase it.
    ("GET", "/bookings/{booking}/customer-data", "customer-data", CONFIGURE),
    ("POST", "/bookings/{booking}/erase-customer", "erase-customer", CONFIGURE),
    # Promotions: managers and owners; every other member is refused.
    ("GET", "/offers/", "", SETTINGS),
    ("POST", "/offers/", "", SETTINGS),
    *[("POST", f"/offers/{{offer}}/{action}", action, SETTINGS)
      for action in ("pause", "resume", "end")],
    ("GET", "/codes/", "", SETTINGS),
    ("POST", "/codes/", "", SETTINGS),
    *[("POST", f"/codes/{{code}}/{action}", action, SETTINGS)
      for action in ("pause", "resume", "end")],
    ("GET", "/promotions/report", "report", SETTINGS),
]

#: A closed tenant (suspended by the platform, or its deletion requested):
#: its staff still see what they saw, read-only; nobody works or configures;
#: the owners may still request or cancel the deletion.
SUSPENDED = {
    ("GET", "/"): "UNNAAAAN",
    ("GET", "/venues/{venue}/"): "UNNANAAN",
    ("GET", "/people/"): "UNNNNAAN",
    ("POST", "/settings"): "UNNDDDDN",
    ("POST", "/people/invite"): "UNNNNDDN",
    ("POST", "/offer-emails/send"): "UNNNNDDN",
    ("POST", "/bookings/new"): "UNNDDDDN",
    ("POST", "/bookings/{booking}/cancel"): "UNNDNDDN",
    ("POST", "/venues/{venue}/resources/new"): "UNNDNDDN",
    ("GET", "/offers/"): "UNNDDDDN",
    ("POST", "/codes/{code}/end"): "UNNDDDDN",
    ("GET", "/deletion"): OWNERS,
    ("POST", "/deletion"): OWNERS,
    ("POST", "/deletion/cancel"): OWNERS,
}
CLOSURES = ("suspended", "deletion_requested")


def close(world, closure):
    with world.db.session() as s:
        tenant = s.get(Tenant, world.tenant_id)
        if closure == "suspended":
            tenant.status = "suspended"
        else:
            tenant.deletion_requested_at = NOW


def read_only(expected, permission):
    """What an open tenant's row becomes once it is closed: who was let in
    keeps a page that needs only ``view`` and is refused anything else."""
    if permission == Permission.VIEW:
        return expected
    return expected.replace("A", "D")


@pytest.fixture
def ids(world):
    with world.db.session() as s:
        tenant = s.get(Tenant, world.tenant_id)
        court = s.get(Resource, world.court_id)
        start = datetime.fromisoformat(at(IN_A_WEEK, 10, zone=ZoneInfo("Europe/Paris")))
        booking, _ = BookingService(s, NOW).book(BookingRequest(
            tenant, court, s.get(User, world.user_ids["customer"]), start))
        closure = b.closure(s, court.venue, NOW + timedelta(days=30), NOW + timedelta(days=31))
        message = enqueue(s, kind="booking.confirmed", dedupe_key="authorization-table",
                          recipient="someone@example.test", subject="Subject", body_text="Body",
                          body_html="Body", now=NOW, tenant_id=tenant.id, booking_id=booking.id)
        voucher, _code = VoucherService(s, NOW).issue(tenant, None, 1000)
        promotions = PromotionService(s, NOW)
        offer = promotions.create_offer(tenant, None, name="Mornings", kind="off_peak",
                                        percent=10)
        code = promotions.create_code(tenant, None, code="SPRING", percent=10)
        return {"booking": booking.id, "venue": world.venue_id,
                "other_venue": world.other_venue_id, "resource": world.court_id,
                "closure": closure.id, "message": message, "offer": offer.id,
                "code": code.id, "voucher": voucher.id}


def declared_permissions(registry):
    """``{(context class, view name, method): permission}`` of the staff views."""
    staff_contexts = {cls for cls in vars(tree).values()
                      if isinstance(cls, type) and issubclass(cls, tree.StaffNode)}
    found = {}
    for item in registry.introspector.get_category("views"):
        view = item["introspectable"]
        if view["context"] not in staff_contexts:
            continue
        permissions = [r["value"] for r in item["related"] if r.category_name == "permissions"]
        methods = view["request_methods"]
        for method in (methods,) if isinstance(methods, str) else methods or ("ANY",):
            found[(view["context"], view["name"], method)] = (
                permissions[0] if permissions else UNDECLARED_PERMISSION)
    return found


def outcome(app, world, role, path, name, method):
    request = Request.blank(path, base_url="http://booking.test")
    if role != "anonymous":
        request.headers["Authorization"] = f"Bearer {world.tokens[role]}"
    env = prepare(request=request, registry=app.app.registry)
    request.tm.begin()
    try:
        try:
            context = find_resource(env["root"], path.removesuffix(name).rstrip("/") or "/")
        except KeyError:
            return "N"
        permission = declared_permissions(app.app.registry)[(type(context), name, method)]
        if request.has_permission(permission, context):
            return "A"
        return {403: "D", 401: "U", 404: "N"}[denial_status(request, context)]
    finally:
        request.tm.abort()
        env["closer"]()


def declared_permission(app, world, ids, method, path, name):
    """The permission the view at ``path`` declares."""
    full = f"/t/{world.slug}/manage" + path.format(**ids)
    env = prepare(request=Request.blank(full, base_url="http://booking.test"),
                  registry=app.app.registry)
    env["request"].tm.begin()
    try:
        context = find_resource(env["root"], full.removesuffix(name).rstrip("/") or "/")
        return declared_permissions(app.app.registry)[(type(context), name, method)]
    finally:
        env["request"].tm.abort()
        env["closer"]()


def row(app, world, ids, method, path, name):
    full = f"/t/{world.slug}/manage" + path.format(**ids)
    return "".join(outcome(app, world, role, full, name, method) for role in ROLES)


@pytest.mark.parametrize("method,path,name,expected", TABLE,
                         ids=[f"{m} {p}" for m, p, _n, _e in TABLE])
def test_staff_view_authorization(app, world, ids, method, path, name, expected):
    assert row(app, world, ids, method, path, name) == expected


@pytest.mark.parametrize("closure", CLOSURES)
@pytest.mark.parametrize("key", list(SUSPENDED), ids=[" ".join(k) for k in SUSPENDED])
def test_suspended_tenant_staff_area(app, world, ids, key, closure):
    close(world, closure)
    method, path = key
    name = next(n for m, p, n, _e in TABLE if (m, p) == key)
    assert row(app, world, ids, method, path, name) == SUSPENDED[key]


@pytest.mark.parametrize("closure", CLOSURES)
def test_closed_tenant_staff_area_is_read_only_everywhere(app, world, ids, closure):
    """Every row of the table, closed: the same people get in, to look only."""
    expected = {(method, path): read_only(outcomes, declared_permission(app, world, ids,
                                                                         method, path, name))
                for method, path, name, outcomes in TABLE if not path.startswith("/deletion")}
    close(world, closure)
    observed = {(method, path): row(app, world, ids, method, path, name)
                for method, path, name, _e in TABLE if not path.startswith("/deletion")}
    assert {key: value for key, value in observed.items() if value != expected[key]} == {}


def test_every_staff_view_is_in_the_table(app):
    registered = declared_permissions(app.app.registry)
    assert UNDECLARED_PERMISSION not in registered.values()
    tabled = {(method, name) for method, _path, name, _e in TABLE}
    missing = [(cls.__name__, name, method) for cls, name, method in registered
               if (method, name) not in tabled]
    assert missing == []


class TestOverHttp:
    def test_customer_gets_404(self, testapp, world):
        sign_in(testapp, world.emails["customer"])
        testapp.get(f"/t/{world.slug}/manage/", status=404)

    def test_anonymous_is_sent_to_sign_in(self, testapp, world):
        response = testapp.get(f"/t/{world.slug}/manage/bookings/", status=303)
        assert "/login?next=" in response.location

    def test_staff_gets_403_on_configuration(self, testapp, world):
        sign_in(testapp, world.emails["staff"])
        testapp.get(f"/t/{world.slug}/manage/venues/{world.venue_id}/hours", status=403)

    def test_other_venue_staff_gets_404_on_the_booking(self, testapp, world, ids):
        sign_in(testapp, world.emails["other_venue_staff"])
        testapp.get(f"/t/{world.slug}/manage/bookings/{ids['booking']}/", status=404)

    def test_other_tenant_owner_gets_404(self, testapp, world):
        sign_in(testapp, world.emails["other_tenant_owner"])
        testapp.get(f"/t/{world.slug}/manage/", status=404)

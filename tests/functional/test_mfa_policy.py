"""Who must have passed a second step: the staff of a tenant that requires
it, in its staff area only; platform administrators, in /admin/, always."""

from types import SimpleNamespace

import pytest

from booking.models import Tenant

from .. import builders as b
from ..conftest import auth
from .mfa import code, enrol_totp, second_step, sign_in_with_code
from .site import sign_in


def require_mfa(world, on=True):
    with world.db.session() as s:
        s.get(Tenant, world.tenant_id).require_mfa = on


@pytest.fixture
def strict(world):
    require_mfa(world)
    return world


class TestTenantPolicy:
    def test_member_without_second_factor_is_sent_to_set_one_up(self, testapp, strict):
        sign_in(testapp, strict.emails["manager"])
        response = testapp.get(f"/t/{strict.slug}/manage/", status=303)
        assert "/account/two-step?next=" in response.location
        page = response.follow()
        assert "This area needs two-step sign-in" in page.text

    def test_every_staff_page_is_behind_it(self, testapp, strict):
        sign_in(testapp, strict.emails["owner"])
        for path in ("manage/settings", "manage/people", "manage/bookings/",
                     f"manage/venues/{strict.venue_id}/"):
            response = testapp.get(f"/t/{strict.slug}/{path}", status=303)
            assert "/account/two-step" in response.location

    def test_public_pages_and_own_bookings_still_open(self, testapp, strict):
        sign_in(testapp, strict.emails["staff"])
        testapp.get(f"/t/{strict.slug}/", status=200)
        testapp.get(f"/t/{strict.slug}/bookings/", status=200)
        testapp.get("/account/", status=200)

    def test_member_who_set_up_a_factor_on_the_way_goes_on(self, testapp, strict):
        sign_in(testapp, strict.emails["manager"])
        page = testapp.get(f"/t/{strict.slug}/manage/", status=303).follow()
        page = page.forms[2].submit(status=303).follow()  # set up an app
        secret = page.html.select_one("#totp-secret").text.strip()
        form = page.forms["totp-confirm-form"]
        form["code"] = code(secret)
        page = form.submit(status=200)
        next_url = page.html.select_one("#continue-link")["href"]
        assert next_url.endswith(f"/t/{strict.slug}/manage/")
        testapp.get(next_url, status=200)

    def test_member_signed_in_without_the_second_step_is_asked_for_it(self, testapp, strict):
        sign_in(testapp, strict.emails["manager"])  # no factor yet: signed in
        secret, _codes = enrol_totp(strict.db, strict.user_ids["manager"])  # elsewhere
        response = testapp.get(f"/t/{strict.slug}/manage/", status=303)
        assert "/two-step?next=" in response.location
        page = testapp.get(response.location)
        form = page.forms["two-step-form"]
        form["code"] = code(secret)
        response = form.submit(status=303)
        assert response.location.endswith(f"/t/{strict.slug}/manage/")
        testapp.get(response.location, status=200)

    def test_member_who_passed_the_second_step_opens_the_area(self, testapp, strict):
        secret, _codes = enrol_totp(strict.db, strict.user_ids["staff"])
        sign_in_with_code(testapp, strict.emails["staff"], secret)
        testapp.get(f"/t/{strict.slug}/manage/", status=200)

    def test_outsider_still_gets_not_found(self, testapp, strict):
        sign_in(testapp, strict.emails["customer"])
        testapp.get(f"/t/{strict.slug}/manage/", status=404)

    def test_other_tenants_staff_area_is_not_affected(self, testapp, strict):
        sign_in(testapp, strict.emails["other_tenant_owner"])
        testapp.get(f"/t/{strict.other_slug}/manage/", status=200)

    def test_without_the_policy_no_second_factor_is_needed(self, testapp, world):
        sign_in(testapp, world.emails["manager"])
        testapp.get(f"/t/{world.slug}/manage/", status=200)

    def test_token_of_a_member_without_second_factor_is_refused(self, testapp, strict):
        response = testapp.get(f"/t/{strict.slug}/manage/",
                               headers=auth(strict.tokens["manager"]), status=403)
        assert "two-step" in response.text

    def test_token_given_before_the_member_added_a_factor_is_revoked(self, testapp, strict):
        token = strict.tokens["manager"]
        testapp.get(f"/api/v1/t/{strict.slug}/bookings", headers=auth(token), status=200)
        enrol_totp(strict.db, strict.user_ids["manager"])
        assert "/login" in testapp.get(f"/t/{strict.slug}/manage/", headers=auth(token),
                                       status=303).location
        testapp.get(f"/api/v1/t/{strict.slug}/bookings", headers=auth(token), status=401)

    def test_owner_turns_the_policy_on_in_the_settings(self, testapp, world):
        sign_in(testapp, world.emails["owner"])
        form = testapp.get(f"/t/{world.slug}/manage/settings").forms[2]
        assert form["require_mfa"].value is None
        form["require_mfa"] = True
        form.submit(status=303)
        with world.db.session() as s:
            assert s.get(Tenant, world.tenant_id).require_mfa is True


@pytest.fixture
def admin(world):
    with world.db.session() as s:
        user = b.user(s, email="root@platform.test", is_platform_admin=True)
        return SimpleNamespace(id=user.id, email=user.email)


class TestPlatformAdministrators:
    def test_admin_without_second_factor_is_sent_to_set_one_up(self, testapp, admin):
        sign_in(testapp, admin.email)
        response = testapp.get("/admin/", status=303)
        assert "/account/two-step?next=" in response.location

    def test_admin_must_pass_the_second_step_in_this_session(self, testapp, world, admin):
        sign_in(testapp, admin.email)
        secret, _codes = enrol_totp(world.db, admin.id)
        response = testapp.get("/admin/", status=303)
        assert "/two-step?next=" in response.location
        response = second_step(testapp, code(secret))
        testapp.get(response.location, status=200)

    def test_admin_signed_in_with_both_steps_opens_admin(self, testapp, world, admin):
        secret, _codes = enrol_totp(world.db, admin.id)
        sign_in_with_code(testapp, admin.email, secret)
        testapp.get("/admin/", status=200)
        testapp.get("/admin/audit", status=200)

    def test_admin_pages_stay_hidden_from_others(self, testapp, world):
        sign_in(testapp, world.emails["owner"])
        testapp.get("/admin/", status=404)

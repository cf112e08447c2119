"""A business signs up at /signup: the tenant, its owner (and the owner's
account) in one transaction or nothing; the setup checklist; throttling."""

import pytest
from sqlalchemy import func, select

from booking.models import AuditLog, Membership, Resource, Tenant, ThrottleCounter, User
from booking.services import onboarding
from booking.services.confirmation import MAX_PER_CLIENT

from .. import builders as b
from ..conftest import NOW
from .mail import confirm_address, messages
from .site import form_by_action, sign_in, slot_links

GOOD = {"name": "Café de la Gare", "slug": "cafe-gare", "time_zone": "Europe/Paris",
        "currency": "EUR", "locale": "fr", "owner_name": "Ana Owner",
        "email": "ana@example.test", "password": b.PASSWORD}


def signup_form(testapp, values=GOOD, **headers):
    form = testapp.get("/signup", headers=headers).forms["signup-form"]
    for name, value in values.items():
        if name in form.fields:
            form[name] = value
    return form


def sign_up(testapp, db, values=GOOD):
    """A visitor signs up and follows the link emailed to them: signed in."""
    signup_form(testapp, values).submit(status=200)
    return confirm_address(testapp, db, values["email"])


def counts(db):
    with db.session_factory() as s:
        return tuple(s.scalar(select(func.count()).select_from(model))
                     for model in (Tenant, User, Membership))


def stored_tenant(db, slug):
    with db.session_factory() as s:
        tenant = s.scalar(select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            return None
        owners = s.execute(select(User.email, Membership.role)
                           .join(Membership, Membership.user_id == User.id)
                           .where(Membership.tenant_id == tenant.id)).all()
        return tenant, owners


class TestSignUp:
    def test_creates_tenant_and_owner_account(self, testapp, db):
        signup_form(testapp).submit(status=200)
        tenant, owners = stored_tenant(db, "cafe-gare")
        assert (tenant.name, tenant.time_zone, tenant.currency, tenant.locale, tenant.status) == (
            "Café de la Gare", "Europe/Paris", "EUR", "fr", "active")
        assert owners == [("ana@example.test", "owner")]

    def test_visitor_is_told_to_check_their_email_not_signed_in(self, testapp, db):
        page = signup_form(testapp).submit(status=200)
        assert "Check your email" in page.text
        testapp.get("/t/cafe-gare/manage/", status=303)  # off to sign in
        assert messages(db, "account.confirm", "ana@example.test")

    def test_confirming_signs_in_and_lands_on_the_checklist(self, testapp, db):
        response = sign_up(testapp, db)
        assert response.location.endswith("/t/cafe-gare/manage/")
        page = response.follow()
        assert "Get ready to take bookings" in page.text
        assert "your address is confirmed" in page.text

    def test_same_answer_for_an_address_with_an_account(self, testapp, world):
        new = signup_form(testapp).submit()
        testapp.reset()
        taken_email = world.emails["customer"].upper()
        taken = signup_form(testapp, {**GOOD, "slug": "other-cafe", "email": taken_email}
                            ).submit()
        neutral = [page.html.select_one("main").get_text(" ", strip=True)
                   .replace(email, "EMAIL") for page, email in
                   ((new, "ana@example.test"), (taken, taken_email))]
        assert taken.status_int == new.status_int and neutral[0] == neutral[1]
        assert "already has an account" not in taken.text
        # The address is told; no business is made for whoever typed it.
        assert messages(world.db, "account.exists", world.emails["customer"])
        assert stored_tenant(world.db, "other-cafe") is None

    def test_signed_in_user_becomes_the_owner_without_a_new_account(self, testapp, world):
        sign_in(testapp, world.emails["customer"])
        before = counts(world.db)[1]
        form = signup_form(testapp)
        assert "owner_name" not in form.fields and "password" not in form.fields
        form.submit(status=303).follow()
        _tenant, owners = stored_tenant(world.db, "cafe-gare")
        assert owners == [(world.emails["customer"], "owner")]
        assert counts(world.db)[1] == before

    def test_time_zone_defaults_to_the_browsers(self, testapp, db):
        testapp.set_cookie("booking_tz", "America/New_York")
        form = testapp.get("/signup").forms["signup-form"]
        assert form["time_zone"].value == "America/New_York"

    def test_blank_slug_is_suggested_from_the_name(self, testapp, db):
        response = signup_form(testapp, {**GOOD, "slug": ""}).submit(status=400)
        assert response.forms["signup-form"]["slug"].value == "cafe-de-la-gare"
        assert counts(db) == (0, 0, 0)
        response.forms["signup-form"]["password"] = b.PASSWORD
        response.forms["signup-form"].submit(status=200)
        assert stored_tenant(db, "cafe-de-la-gare") is not None

    def test_new_tenant_is_bookable_once_a_resource_has_hours(self, testapp, db):
        sign_up(testapp, db)
        with db.session() as s:
            tenant = s.scalar(select(Tenant).where(Tenant.slug == "cafe-gare"))
            venue = b.venue(s, tenant, name="Terrace", hours=None)
            venue_id = venue.id
        base = f"/t/cafe-gare/manage/venues/{venue_id}/resources/"
        page = testapp.get(base + "new")
        form = form_by_action(page, "/resources/new")
        for name, value in {"name": "Table 1", "kind": "table", "capacity": "1",
                            "slot_minutes": "60", "price": "0"}.items():
            form[name] = value
        form.submit(status=303)
        with db.session_factory() as s:
            resource_id = s.scalar(select(func.max(Resource.id)))
        public = f"/t/cafe-gare/venues/{venue_id}/resources/{resource_id}/"
        assert slot_links(testapp.get(public)) == []
        hours = form_by_action(testapp.get(f"{base}{resource_id}/hours"), "/hours")
        hours["source"] = "own"
        for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                    "sunday"):
            hours[day] = "10:00-18:00"
        hours.submit(status=303)
        assert slot_links(testapp.get(public))


class TestUnconfirmedBusiness:
    def test_not_listed_on_the_home_page_until_the_owner_confirms(self, testapp, db):
        signup_form(testapp).submit(status=200)
        assert "Café de la Gare" not in testapp.get("/").text
        confirm_address(testapp, db, "ana@example.test")
        assert "Café de la Gare" in testapp.get("/").text

    def test_owner_cannot_sign_in_to_invite_until_confirmed(self, testapp, db):
        signup_form(testapp).submit(status=200)
        sign_in_form = form_by_action(testapp.get("/login"), "/login")
        sign_in_form["email"], sign_in_form["password"] = "ana@example.test", b.PASSWORD
        sign_in_form.submit(status=403)
        testapp.get("/t/cafe-gare/manage/people/", status=303)


class TestBadInput:
    @pytest.mark.parametrize("field, value, message", [
        ("slug", "ab", "must be 3 to 40 characters long"),
        ("slug", "x" * 41, "must be 3 to 40 characters long"),
        ("slug", "-cafe", "may contain only lowercase letters, digits and dashes"),
        ("slug", "cafe_gare", "may contain only lowercase letters, digits and dashes"),
        ("slug", "admin", "is reserved"),
        ("slug", "api", "is reserved"),
        ("time_zone", "Mars/Olympus", "is not a known IANA time zone"),
        ("currency", "XYZ", "is not an ISO 4217 currency code"),
        ("currency", "JPY", "must be a currency with cents"),
        ("name", "", "is required"),
        ("email", "not-an-email", "is not an email address"),
        ("password", "short", "12"),
        ("name", "Café\nBcc: x@example.test", "must be one line, without control characters"),
        ("name", "Café\x07", "must be one line, without control characters"),
        ("owner_name", "Ana\nBcc: x@example.test", "must be one line, without control characters"),
        ("owner_name", "Ana\x07", "must be one line, without control characters"),
    ])
    def test_field_is_refused_and_nothing_created(self, testapp, db, field, value, message):
        response = signup_form(testapp, {**GOOD, field: value}).submit(status=400)
        error = response.html.select_one(f"#{field}-error")
        assert error is not None and message in error.text
        assert counts(db) == (0, 0, 0)

    def test_signed_in_user_cannot_name_a_business_on_two_lines(self, testapp, world):
        sign_in(testapp, world.emails["customer"])
        before = counts(world.db)
        form = signup_form(testapp, {**GOOD, "name": "Café\r\nBcc: x@example.test"})
        response = form.submit(status=400)
        assert "must be one line" in response.html.select_one("#name-error").text
        assert counts(world.db) == before and stored_tenant(world.db, "cafe-gare") is None

    def test_taken_slug_is_refused(self, testapp, world):
        before = counts(world.db)
        response = signup_form(testapp, {**GOOD, "slug": world.slug}).submit(status=400)
        assert "is already taken" in response.html.select_one("#slug-error").text
        assert counts(world.db) == before

    def test_slug_of_a_tenant_pending_deletion_stays_taken(self, testapp, world):
        with world.db.session() as s:
            s.get(Tenant, world.tenant_id).deletion_requested_at = NOW
        response = signup_form(testapp, {**GOOD, "slug": world.slug}).submit(status=400)
        assert "is already taken" in response.html.select_one("#slug-error").text

    def test_race_for_one_slug_loser_gets_a_clear_message(self, testapp, db, monkeypatch):
        """Two sign-ups check the slug at once; the other one commits first.
        Ours fails on the unique constraint: the form says so and nothing of
        ours stays, not even the new account inserted before the tenant."""
        signup_form(testapp).submit(status=200)
        testapp.reset()
        monkeypatch.setattr(onboarding, "slug_taken", lambda dbsession, slug: False)
        response = signup_form(testapp, {**GOOD, "email": "bo@example.test"}).submit(status=409)
        assert "was taken by another business a moment ago" in response.text
        assert counts(db) == (1, 1, 1)

    def test_failure_after_the_user_insert_leaves_nothing(self, testapp, db, monkeypatch):
        def broken(dbsession, tenant, owner):
            assert owner.id is not None  # the user row is in, uncommitted
            raise RuntimeError("the database went away")

        monkeypatch.setattr(onboarding, "add_owner", broken)
        with pytest.raises(RuntimeError):
            signup_form(testapp).submit()
        assert counts(db) == (0, 0, 0)


class TestThrottle:
    def test_sixth_signup_from_one_address_in_an_hour_is_refused(self, testapp, db):
        for n in range(onboarding.SIGNUPS_PER_ADDRESS):
            testapp.reset()
            signup_form(testapp, {**GOOD, "slug": f"shop-{n}", "email": f"o{n}@example.test"}
                        ).submit(status=200)
        testapp.reset()
        response = signup_form(testapp, {**GOOD, "slug": "shop-x", "email": "x@example.test"}
                               ).submit(status=429)
        assert "Too many businesses were signed up from your address" in response.text
        assert response.headers["Retry-After"]
        assert stored_tenant(db, "shop-x") is None

    def test_signups_are_counted_under_their_own_key(self, testapp, db):
        testapp.extra_environ["REMOTE_ADDR"] = "203.0.113.5"
        signup_form(testapp).submit(status=200)
        with db.session_factory() as s:
            keys = s.scalars(select(ThrottleCounter.key)).all()
        assert sorted(keys) == ["account-mail-client:203.0.113.5", "account-mail:ana@example.test",
                                "signup-address:203.0.113.5"]

    def test_probing_addresses_from_one_client_gets_429_after_the_limit(self, testapp, world):
        statuses = []
        for n in range(30):
            testapp.reset()
            email = world.emails["customer"] if n % 2 else f"probe{n}@example.test"
            statuses.append(signup_form(testapp, {**GOOD, "slug": f"probe-{n}", "email": email})
                            .submit(expect_errors=True).status_int)
        allowed = min(onboarding.SIGNUPS_PER_ADDRESS, MAX_PER_CLIENT)
        assert statuses == [200] * allowed + [429] * (30 - allowed)


class TestChecklist:
    def steps(self, testapp, slug="cafe-gare"):
        page = testapp.get(f"/t/{slug}/manage/")
        return {li.text.split(":", 1)[1].strip().split(":")[0]: "done" in li["class"]
                for li in page.html.select(".setup-checklist li")}

    def test_new_business_has_every_step_to_do(self, testapp, db):
        sign_up(testapp, db)
        assert self.steps(testapp) == {
            "Add a venue": False, "Add a resource": False, "Set opening hours": False,
            "Invite your staff": False, "Choose how customers pay and your refund policy": False}

    def test_steps_are_marked_done_from_the_data(self, testapp, db):
        sign_up(testapp, db)
        with db.session() as s:
            tenant = s.scalar(select(Tenant).where(Tenant.slug == "cafe-gare"))
            venue = b.venue(s, tenant, hours="every day 09:00-17:00")
            b.resource(s, venue)
        steps = self.steps(testapp)
        assert [steps["Add a venue"], steps["Add a resource"], steps["Set opening hours"],
                steps["Invite your staff"]] == [True, True, True, False]

    def test_links_lead_to_each_step(self, testapp, db):
        sign_up(testapp, db)
        page = testapp.get("/t/cafe-gare/manage/")
        links = [a["href"] for a in page.html.select(".setup-checklist a")]
        assert [link.split("/manage/")[1] for link in links] == [
            "venues/new", "venues/new", "venues/new", "people/", "settings"]

    def test_checklist_is_gone_when_every_step_is_done(self, testapp, world):
        with world.db.session() as s:
            s.add(AuditLog(tenant_id=world.tenant_id, actor_id=None, action="tenant.settings_changed",
                             target_type="tenant", target_id=world.tenant_id, at=NOW))
        sign_in(testapp, world.emails["owner"])
        assert testapp.get(f"/t/{world.slug}/manage/").html.select(".setup-checklist") == []

    def test_staff_do_not_see_the_checklist(self, testapp, world):
        sign_in(testapp, world.emails["staff"])
        assert testapp.get(f"/t/{world.slug}/manage/").html.select(".setup-checklist") == []


def test_suggested_slug_drops_accents_and_punctuation():
    assert onboarding.suggest_slug("  Le Café — d'Anaïs!  ") == "le-cafe-d-anais"

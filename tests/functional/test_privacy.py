"""Privacy: a customer downloads their data and erases their account; a
business exports or erases one customer's data; nothing personal is left
in the audit log."""

import json
from datetime import timedelta

import webtest
from sqlalchemy import select

from booking.models import (AuditLog, Booking, Membership, Passkey, RecoveryCode, Refund,
                            Resource, Role, SecurityEvent, TotpFactor, User, UserSession)

from .. import builders as b
from ..conftest import NOW
from .payments import fake_stripe, payapp, stripe, stripe_apps  # noqa: F401 (fixtures)
from .payments import only_booking, paid_booking, rows
from .mfa import enrol_totp, sign_in_with_code
from .site import form_by_action, sign_in

PHONE = "+33 6 98 76 54 32"


def bookings_of(world, who, tenant_id=None, starts=(-10, 3), **kw):
    """A booking of ``who`` at the club's court ``days`` from NOW for each
    of ``starts``; their ids."""
    ids = []
    with world.db.session() as s:
        customer = s.get(User, world.user_ids[who])
        customer.phone = PHONE
        court = s.get(Resource, world.court_id)
        for days in starts:
            booking = b.booking(s, court, customer, NOW + timedelta(days=days, hours=1),
                                note="please call my mother", **kw)
            ids.append(booking.id)
    return ids


def rival_booking(world, who):
    with world.db.session() as s:
        customer = s.get(User, world.user_ids[who])
        court = s.get(Resource, world.rival_court_id)
        return b.booking(s, court, customer, NOW - timedelta(days=5), note="rival note").id


def load(world, model, row_id):
    with world.db.session() as s:
        row = s.get(model, row_id)
        s.expunge(row)
        return row


def erase(testapp, password=b.PASSWORD, status=303):
    form = form_by_action(testapp.get("/account/erase"), "/account/erase")
    form["password"] = password
    return form.submit(status=status)


class TestDownloadMyData:
    def test_download_has_profile_and_bookings_without_secrets(self, testapp, world):
        bookings_of(world, "customer")
        sign_in(testapp, world.emails["customer"])
        response = testapp.get("/account/data", status=200)
        assert "attachment" in response.headers["Content-Disposition"]
        assert "no-store" in response.headers["Cache-Control"]
        data = response.json
        assert data["profile"]["email"] == world.emails["customer"]
        assert data["profile"]["phone"] == PHONE
        assert [x["business"] for x in data["bookings"]] == [world.slug, world.slug]
        first = data["bookings"][0]
        assert first["resource"] == "Court" and first["note"] == "please call my mother"
        assert {"starts_at", "ends_at", "price", "currency", "status", "payments"} <= set(first)
        text = json.dumps(data)
        assert "argon2" not in text and "password" not in text and "digest" not in text

    def test_download_has_sessions_and_security_history(self, testapp, world):
        sign_in(testapp, world.emails["customer"])
        data = testapp.get("/account/data", status=200).json
        assert [row["event"] for row in data["security_events"]] == ["sign-in"]
        assert len(data["sessions"]) == 1 and data["sessions"][0]["ended_at"] is None
        assert "digest" not in json.dumps(data["sessions"])

    def test_download_requires_sign_in(self, testapp, world):
        response = testapp.get("/account/data", status=303)
        assert "/login" in response.location


class TestEraseMyAccount:
    def test_erasure_refused_with_a_wrong_password(self, testapp, world):
        sign_in(testapp, world.emails["customer"])
        page = erase(testapp, "not-my-password", status=400)
        assert "is not your current password" in page
        assert load(world, User, world.user_ids["customer"]).erased_at is None

    def test_erasure_cancels_future_and_anonymises_past_bookings(self, testapp, world):
        past_id, future_id = bookings_of(world, "customer")
        sign_in(testapp, world.emails["customer"])
        erase(testapp)
        past, future = load(world, Booking, past_id), load(world, Booking, future_id)
        assert future.status == "cancelled" and past.status == "confirmed"
        for booking in (past, future):
            assert booking.contact_name == booking.contact_phone == booking.note == ""
            assert booking.anonymised_at == NOW

    def test_erased_account_keeps_only_placeholders_and_cannot_sign_in(self, testapp, world):
        email = world.emails["customer"]
        sign_in(testapp, email)
        erase(testapp)
        user = load(world, User, world.user_ids["customer"])
        assert user.email.endswith("@erased.invalid") and email not in user.email
        assert user.name == user.phone == "" and user.erased_at == NOW
        testapp.get("/account/", status=303)  # the session ended
        form = testapp.get("/login").forms["login-form"]
        form["email"], form["password"] = email, b.PASSWORD
        assert form.submit(status="*").status_int != 303

    def test_erasure_keeps_security_history_without_addresses(self, testapp, world):
        sign_in(testapp, world.emails["customer"])
        erase(testapp)
        with world.db.session() as s:
            rows = s.execute(select(SecurityEvent.event, SecurityEvent.client_addr).where(
                SecurityEvent.user_id == world.user_ids["customer"])
                .order_by(SecurityEvent.id)).all()
            devices = s.scalars(select(UserSession.device).where(
                UserSession.user_id == world.user_ids["customer"])).all()
        assert [event for event, _addr in rows] == ["sign-in", "account-erased"]
        assert {addr for _event, addr in rows} == {""} and set(devices) == {""}

    def test_erasure_removes_every_second_factor(self, testapp, world):
        user_id = world.user_ids["customer"]
        secret, _codes = enrol_totp(world.db, user_id)
        with world.db.session() as s:
            s.add(Passkey(user_id=user_id, credential_id="cred-1", public_key=b"key",
                          sign_count=0, transports=[], name="Phone", created_at=NOW))
        sign_in_with_code(testapp, world.emails["customer"], secret)
        erase(testapp)
        with world.db.session() as s:
            for model in (TotpFactor, RecoveryCode, Passkey):
                assert s.scalars(select(model.id).where(model.user_id == user_id)).all() == []

    def test_pending_second_step_of_an_erased_account_signs_nobody_in(self, testapp, world):
        user_id = world.user_ids["customer"]
        secret, _codes = enrol_totp(world.db, user_id)
        assert sign_in(testapp, world.emails["customer"]).location.endswith("/two-step")
        elsewhere = webtest.TestApp(testapp.app, extra_environ=testapp.extra_environ)
        sign_in_with_code(elsewhere, world.emails["customer"], secret)
        erase(elsewhere)
        response = testapp.get("/two-step", status=303)
        assert "/login" in response.location
        testapp.get("/account/", status=303)

    def test_erasure_ends_api_tokens(self, testapp, world):
        sign_in(testapp, world.emails["customer"])
        erase(testapp)
        testapp.get(f"/api/v1/t/{world.slug}/bookings", status=401,
                    headers={"Authorization": f"Bearer {world.tokens['customer']}"})

    def test_erasure_refused_while_sole_owner_of_a_business(self, testapp, world):
        sign_in(testapp, world.emails["owner"])
        page = erase(testapp, status=403)
        assert "only owner" in page
        assert load(world, User, world.user_ids["owner"]).erased_at is None

    def test_an_owner_only_invited_does_not_let_the_sole_owner_go(self, testapp, world):
        with world.db.session() as s:
            s.add(Membership(tenant_id=world.tenant_id, user_id=world.user_ids["customer"],
                             role=Role.OWNER, pending=True))
        sign_in(testapp, world.emails["owner"])
        assert "only owner" in erase(testapp, status=403)
        assert load(world, User, world.user_ids["owner"]).erased_at is None

    def test_erasure_of_a_co_owner_ends_their_membership(self, testapp, world):
        with world.db.session() as s:  # the manager becomes a second owner
            s.execute(Membership.__table__.update()
                      .where(Membership.user_id == world.user_ids["manager"])
                      .values(role=Role.OWNER))
        sign_in(testapp, world.emails["manager"])
        erase(testapp)
        with world.db.session() as s:
            assert s.scalars(select(Membership).where(
                Membership.user_id == world.user_ids["manager"])).all() == []

    def test_erasure_refused_while_a_future_booking_can_no_longer_be_cancelled(
            self, testapp, world):
        [soon_id] = bookings_of(world, "customer", starts=(0,))  # in an hour: window closed
        sign_in(testapp, world.emails["customer"])
        page = erase(testapp, status=403)
        assert "can no longer be cancelled" in page
        assert load(world, Booking, soon_id).status == "confirmed"
        assert load(world, Booking, soon_id).note == "please call my mother"

    def test_erasure_is_audited_without_personal_data(self, testapp, world):
        bookings_of(world, "customer")
        sign_in(testapp, world.emails["customer"])
        erase(testapp)
        with world.db.session() as s:
            row = s.scalars(select(AuditLog).where(AuditLog.action == "customer.erased")).one()
            assert row.target_id == world.user_ids["customer"]
            assert row.details == {"by": "customer", "bookings": 2, "cancelled": 1}


def manage_url(world, booking_id, name=""):
    return f"/t/{world.slug}/manage/bookings/{booking_id}/{name}"


class TestBusinessCustomerData:
    def test_owner_exports_the_customer_data_of_their_business_only(self, testapp, world):
        booking_id, _future = bookings_of(world, "customer")
        rival_booking(world, "customer")
        sign_in(testapp, world.emails["owner"])
        data = testapp.get(manage_url(world, booking_id, "customer-data"), status=200).json
        assert data["customer"]["email"] == world.emails["customer"]
        assert {x["business"] for x in data["bookings"]} == {world.slug}
        assert len(data["bookings"]) == 2 and data["bookings"][0]["contact_phone"] == PHONE

    def test_staff_may_not_export_or_erase(self, testapp, world):
        booking_id, _future = bookings_of(world, "customer")
        sign_in(testapp, world.emails["staff"])
        testapp.get(manage_url(world, booking_id, "customer-data"), status=403)
        page = testapp.get(manage_url(world, booking_id))
        assert "erase-customer" not in page

    def test_erasing_a_customer_anonymises_only_this_business_bookings(self, testapp, world):
        ids = bookings_of(world, "customer")
        rival_id = rival_booking(world, "customer")
        sign_in(testapp, world.emails["manager"])
        page = testapp.get(manage_url(world, ids[0]))
        form_by_action(page, "erase-customer").submit(status=303)
        for booking_id in ids:
            booking = load(world, Booking, booking_id)
            assert booking.contact_phone == booking.note == "" and booking.anonymised_at
        assert load(world, Booking, rival_id).note == "rival note"
        user = load(world, User, world.user_ids["customer"])
        assert user.email == world.emails["customer"] and user.erased_at is None
        with world.db.session() as s:
            row = s.scalars(select(AuditLog).where(AuditLog.action == "customer.erased")).one()
            assert row.tenant_id == world.tenant_id and row.actor_id == world.user_ids["manager"]
            assert row.details == {"by": "business", "bookings": 2}
            assert row.target_type == "booking" and row.target_id == ids[0]

    def test_walk_in_without_an_account_is_exported_and_erased_by_their_booking(
            self, testapp, world):
        walk_in_id, other_id = bookings_of(world, "customer")
        with world.db.session() as s:  # a walk-in: no account, an address given at the desk
            walk_in = s.get(Booking, walk_in_id)
            walk_in.customer_id, walk_in.contact_email = None, "walkin@example.test"
        sign_in(testapp, world.emails["owner"])
        data = testapp.get(manage_url(world, walk_in_id, "customer-data"), status=200).json
        assert data["customer"] == {"id": None, "email": "walkin@example.test"}
        assert [x["contact_email"] for x in data["bookings"]] == ["walkin@example.test"]
        page = testapp.get(manage_url(world, walk_in_id))
        form_by_action(page, "erase-customer").submit(status=303)
        walk_in, other = load(world, Booking, walk_in_id), load(world, Booking, other_id)
        assert walk_in.contact_email == walk_in.contact_phone == walk_in.note == ""
        assert other.note == "please call my mother" and other.anonymised_at is None

    def test_other_business_booking_is_not_found(self, testapp, world):
        rival_id = rival_booking(world, "customer")
        sign_in(testapp, world.emails["owner"])
        testapp.get(manage_url(world, rival_id, "customer-data"), status=404)


class TestErasureOfPaidBookings:
    def test_erasure_cancels_a_paid_future_booking_with_its_refund(self, payapp, stripe, world):
        paid_booking(payapp, stripe, world)  # signed in as the customer
        erase(payapp)
        booking = only_booking(world)
        assert booking.status == "cancelled" and booking.payment_status == "refunded"
        [refund] = rows(world, Refund)
        assert (refund.amount, refund.status) == (2000, "succeeded")
        assert booking.contact_name == "" and booking.anonymised_at == NOW

"""Payments in the staff area (``booking.payments = stripe``): the booking
shows its price, payment status, payments and refunds; staff refund by hand
(bad input is a 400 naming the field, nothing written); a staff
cancellation decides the refund; the refund policy is a setting."""

import pytest
from sqlalchemy import select

from booking.models import AuditLog, Refund, Tenant

from . import payments
from .payments import (
    book_and_checkout,
    confirm,
    only_booking,
    paid_booking,
    review,
    rows,
    set_refund_policy,
)
from .api import post_json
from .site import form_by_action, sign_in

#: The fixtures of the site under ``booking.payments = stripe``.
fake_stripe, stripe_apps, stripe, payapp = (
    payments.fake_stripe, payments.stripe_apps, payments.stripe, payments.payapp)


def desk_page(testapp, world, who="staff", status=200):
    sign_in(testapp, world.emails[who])
    return testapp.get(f"/t/{world.slug}/manage/bookings/{only_booking(world).id}/",
                       status=status)


def refund_form(testapp, world, amount, reason="Court lights were broken", who="manager"):
    form = form_by_action(desk_page(testapp, world, who), "/refund")
    form["amount"], form["refund_reason"] = amount, reason
    return form


def text_of(page):
    return page.html.select_one("main").get_text(" ", strip=True)


@pytest.fixture
def paid(payapp, stripe, world):
    """A court booking of €20.00, paid online and confirmed; then the
    customer signs out (staff sign in on the same app)."""
    paid_booking(payapp, stripe, world)
    payapp.reset()
    return only_booking(world)


class TestBookingPage:
    def test_shows_price_payment_status_and_the_payment(self, payapp, world, paid):
        page = desk_page(payapp, world)
        facts = page.html.select_one("dl.facts").get_text(" ", strip=True)
        assert "Payment paid" in facts and "Price €20.00" in facts
        [row] = page.html.select("table.payments tbody tr")
        cells = {cell: row.select_one(f".{cell}").get_text(strip=True)
                 for cell in ("provider", "status", "amount", "refunded")}
        assert cells == {"provider": "stripe", "status": "succeeded", "amount": "€20.00",
                         "refunded": "€0.00"}

    def test_shows_each_refund_with_who_made_it(self, payapp, world, paid):
        refund_form(payapp, world, "5").submit(status=303)
        page = desk_page(payapp, world)
        [row] = page.html.select("table.refunds tbody tr")
        text = row.get_text(" ", strip=True)
        assert "€5.00" in text and "Court lights were broken" in text and "succeeded" in text

    def test_held_booking_shows_its_pending_payment_and_no_refund_form(
            self, payapp, stripe, world):
        book_and_checkout(payapp, world)
        payapp.reset()
        page = desk_page(payapp, world)
        assert page.html.select_one("table.payments .status").get_text(strip=True) == "pending"
        assert not any(f.action.endswith("/refund") for f in page.forms.values())

    def test_booking_waiting_for_its_payment_cannot_be_confirmed_by_staff(
            self, payapp, world):
        book_and_checkout(payapp, world)
        payapp.reset()
        page = desk_page(payapp, world)
        assert not any(f.action.endswith("/confirm") for f in page.forms.values())

    def test_onsite_booking_has_no_payments_section(self, testapp, world):
        confirm(review(testapp, world))
        testapp.reset()
        page = desk_page(testapp, world)
        assert page.html.select("table.payments") == []
        assert "due at the venue" in text_of(page)


class TestManualRefund:
    def test_refund_is_made_flashed_and_audited(self, payapp, stripe, world, paid):
        page = refund_form(payapp, world, "12.50").submit(status=303).follow()
        assert "€12.50 is refunded to the customer." in page.text
        assert [r["amount"] for r in stripe.refunds.values()] == [1250]
        [refund] = rows(world, Refund)
        assert (refund.amount, refund.actor_id) == (1250, world.user_ids["manager"])
        with world.db.session() as s:
            audit = s.scalar(select(AuditLog).where(AuditLog.action == "payment.refunded"))
            assert (audit.actor_id, audit.details["amount"]) == (world.user_ids["manager"], 1250)

    def test_desk_staff_cannot_refund_by_hand(self, payapp, world, paid):
        page = desk_page(payapp, world, "staff")
        assert [f for f in page.forms.values() if f.action.endswith("/refund")] == []
        token = page.forms[next(iter(page.forms))]["csrf_token"].value
        payapp.post(f"/t/{world.slug}/manage/bookings/{only_booking(world).id}/refund",
                    {"csrf_token": token, "amount": "1.00", "refund_reason": "x"}, status=403)
        assert rows(world, Refund) == []

    def test_refunding_everything_left_marks_the_booking_refunded(self, payapp, world, paid):
        refund_form(payapp, world, "5.00").submit(status=303)
        refund_form(payapp, world, "15").submit(status=303)
        assert only_booking(world).payment_status == "refunded"
        page = desk_page(payapp, world)
        assert not any(f.action.endswith("/refund") for f in page.forms.values())

    @pytest.mark.parametrize("field, amount, reason, message", [
        ("amount", "twelve", "Broken", "must be an amount such as 12.50"),
        ("amount", "1.234", "Broken", "must have at most two decimals"),
        ("amount", "20.01", "Broken", "is more than what is left to refund (20.00)"),
        ("amount", "0", "Broken", "must be more than zero"),
        ("amount", "-5", "Broken", "must be more than zero"),
        ("amount", "NaN", "Broken", "must be an amount such as 12.50"),
        ("amount", "", "Broken", "is required"),
        ("refund_reason", "5", "   ", "is required"),
    ])
    def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
            self, payapp, stripe, world, paid, field, amount, reason, message):
        page = refund_form(payapp, world, amount, reason).submit(status=400)
        error = page.html.select_one(f"#{field}-error")
        assert error is not None and error.get_text(strip=True) == message
        assert rows(world, Refund) == [] and stripe.refunds == {}

    def test_refund_when_the_provider_is_down_changes_nothing(self, payapp, stripe, world,
                                                              paid):
        form = refund_form(payapp, world, "5")
        stripe.fail(500, times=3)
        page = form.submit(status=503)
        assert "The payment provider could not be reached, so nothing was changed." in (
            page.text)
        assert rows(world, Refund) == [] and only_booking(world).payment_status == "paid"

    def test_refund_without_csrf_is_refused(self, payapp, world, paid):
        desk_page(payapp, world, "manager")
        payapp.post(f"/t/{world.slug}/manage/bookings/{paid.id}/refund",
                    {"amount": "5", "refund_reason": "x"}, status=400)
        assert rows(world, Refund) == []


class TestStaffCancel:
    def cancel_form(self, payapp, world):
        return form_by_action(desk_page(payapp, world), "/cancel")

    def test_cancelling_a_paid_booking_refunds_everything_by_default(
            self, payapp, stripe, world, paid):
        self.cancel_form(payapp, world).submit(status=303)
        assert only_booking(world).status == "cancelled"
        assert [r["amount"] for r in stripe.refunds.values()] == [2000]

    def test_cancelling_can_refund_as_the_policy_gives(self, payapp, stripe, world, paid):
        set_refund_policy(world, "partial", 50)
        form = self.cancel_form(payapp, world)
        form["refund"] = "policy"
        form.submit(status=303)
        assert [r["amount"] for r in stripe.refunds.values()] == [1000]

    def test_cancelling_can_refund_nothing(self, payapp, stripe, world, paid):
        form = self.cancel_form(payapp, world)
        form["refund"] = "none"
        form.submit(status=303)
        assert only_booking(world).status == "cancelled" and stripe.refunds == {}

    def test_cancel_of_a_paid_booking_requires_a_refund_choice(self, payapp, world, paid):
        form = self.cancel_form(payapp, world)
        form["refund"].force_value("")
        page = form.submit(status=400)
        assert page.html.select_one("#refund-error").get_text(strip=True) == "is required"
        assert only_booking(world).status == "confirmed"

    def test_cancel_when_the_provider_is_down_changes_nothing(self, payapp, stripe, world,
                                                              paid):
        form = self.cancel_form(payapp, world)
        stripe.fail(500, times=3)
        form.submit(status=503)
        assert only_booking(world).status == "confirmed" and rows(world, Refund) == []

    def test_cancel_the_provider_refuses_to_refund_changes_nothing(self, payapp, stripe, world,
                                                                   paid):
        form = self.cancel_form(payapp, world)
        for session in stripe.sessions.values():  # refunded already, behind our back
            session["amount_refunded"] = session["amount_total"]
        page = form.submit(status=502)
        assert "The payment provider refused the refund, so nothing was changed" in page.text
        assert only_booking(world).status == "confirmed" and rows(world, Refund) == []


class TestApiCancel:
    def cancel(self, payapp, world, booking, who, body, status):
        return post_json(payapp, f"/api/v1/t/{world.slug}/bookings/{booking.id}/cancel", body,
                         who, world, status)

    def test_staff_must_choose_the_refund_of_a_paid_booking(self, payapp, world, paid):
        response = self.cancel(payapp, world, paid, "staff", {}, 400)
        assert response.json["error"]["field"] == "refund"
        assert only_booking(world).status == "confirmed" and rows(world, Refund) == []

    def test_staff_refund_all_of_a_paid_booking(self, payapp, world, paid):
        set_refund_policy(world, "none")
        self.cancel(payapp, world, paid, "staff", {"refund": "full"}, 200)
        [refund] = rows(world, Refund)
        assert refund.amount == 2000 and only_booking(world).payment_status == "refunded"

    def test_a_customer_cannot_choose_the_refund(self, payapp, world, paid):
        response = self.cancel(payapp, world, paid, "customer", {"refund": "full"}, 400)
        assert response.json["error"]["field"] == "refund"
        assert only_booking(world).status == "confirmed"


class TestRefundPolicySetting:
    def settings_form(self, testapp, world):
        sign_in(testapp, world.emails["owner"])
        return form_by_action(testapp.get(f"/t/{world.slug}/manage/settings"), "/settings")

    def tenant(self, world):
        with world.db.session() as s:
            tenant = s.get(Tenant, world.tenant_id)
            return tenant.refund_policy, tenant.refund_percent

    def test_form_shows_the_current_policy(self, testapp, world):
        form = self.settings_form(testapp, world)
        assert (form["refund_policy"].value, form["refund_percent"].value) == ("full", "100")

    def test_partial_policy_is_saved_and_audited(self, testapp, world):
        form = self.settings_form(testapp, world)
        form["refund_policy"], form["refund_percent"] = "partial", "40"
        form.submit(status=303)
        assert self.tenant(world) == ("partial", 40)
        with world.db.session() as s:
            audit = s.scalar(select(AuditLog).where(AuditLog.action == "tenant.settings_changed"))
            assert audit.details["changes"]["refund_policy"] == {"old": "full", "new": "partial"}
            assert audit.details["changes"]["refund_percent"] == {"old": 100, "new": 40}

    @pytest.mark.parametrize("percent, message", [
        ("", "is required"), ("101", "must be at most 100"), ("-1", "must be at least 0"),
        ("12.5", "must be an integer"),
    ])
    def test_partial_policy_needs_a_percent_from_0_to_100(self, testapp, world, percent,
                                                           message):
        form = self.settings_form(testapp, world)
        form["refund_policy"], form["refund_percent"] = "partial", percent
        page = form.submit(status=400)
        assert page.html.select_one("#refund_percent-error").get_text(strip=True) == message
        assert self.tenant(world) == ("full", 100)

    def test_percent_is_ignored_unless_the_policy_is_partial(self, testapp, world):
        form = self.settings_form(testapp, world)
        form["refund_policy"], form["refund_percent"] = "none", "not a number"
        form.submit(status=303)
        assert self.tenant(world) == ("none", 100)

    def test_unknown_policy_is_refused(self, testapp, world):
        form = self.settings_form(testapp, world)
        form["refund_policy"].force_value("sometimes")
        page = form.submit(status=400)
        assert "must be one of full, partial, none" in (
            page.html.select_one("#refund_policy-error").get_text(strip=True))


class TestClosure:
    def test_a_closure_that_cancels_a_paid_booking_refunds_it_in_full(self, payapp, world,
                                                                      paid):
        set_refund_policy(world, "none")  # the venue closing is not the customer's doing
        sign_in(payapp, world.emails["manager"])
        page = payapp.get(f"/t/{world.slug}/manage/venues/{world.venue_id}/closures/")
        form = form_by_action(page, "/closures/")
        form["scope"], form["reason"] = "venue", "Flooding"
        form["starts_at"], form["ends_at"] = "2026-03-09T09:00", "2026-03-09T12:00"
        confirm_page = form.submit(status=200)
        [decision] = [f for f in confirm_page.forms.values() if "decision" in f.fields]
        decision.submit("decision", value="cancel", status=303)
        [refund] = rows(world, Refund)
        assert (refund.amount, refund.status) == (2000, "succeeded")
        assert only_booking(world).payment_status == "refunded"

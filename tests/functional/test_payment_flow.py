"""The customer's side of online payments (``booking.payments = stripe``):
the review says what is paid and refunded, confirm holds the slot and goes
to the provider's checkout, only the signed webhook confirms, a provider
that is down is said plainly and retried with the same idempotency key,
and a cancellation inside the window refunds per the tenant's policy."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from booking.models import Booking, Payment, Refund, Resource

from . import payments
from .payments import (
    book_and_checkout,
    confirm,
    only_booking,
    paid_booking,
    pay,
    review,
    rows,
    session_id,
    set_refund_policy,
    success_query,
)
from .site import form_by_action

#: The fixtures of the site under ``booking.payments = stripe``.
fake_stripe, stripe_apps, stripe, payapp = (
    payments.fake_stripe, payments.stripe_apps, payments.stripe, payments.payapp)


def text_of(page):
    return page.html.select_one("main").get_text(" ", strip=True)


def count(world, model=Booking):
    with world.db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def cancel(testapp, path, status=303):
    return form_by_action(testapp.get(path), "/cancel").submit(status=status)


class TestReview:
    def test_review_says_payment_is_taken_online_with_the_price(self, payapp, world):
        text = text_of(review(payapp, world))
        assert "€20.00 · paid online now" in text
        assert "secure page of our payment provider" in text

    @pytest.mark.parametrize("policy, percent, words", [
        ("full", 100, "If you cancel in time, you get the full price back."),
        ("partial", 40, "If you cancel in time, you get 40% of the price back."),
        ("none", 0, "If you cancel, nothing is refunded."),
    ])
    def test_review_states_the_refund_policy_in_words(self, payapp, world, policy, percent,
                                                       words):
        set_refund_policy(world, policy, percent)
        assert words in text_of(review(payapp, world))

    def test_review_lets_its_form_be_redirected_to_the_checkout(self, payapp, stripe, world):
        policy = review(payapp, world).headers["Content-Security-Policy"]
        assert f"form-action 'self' {stripe.url} https://checkout.stripe.com;" in policy

    def test_onsite_review_keeps_forms_to_the_site(self, testapp, world):
        policy = review(testapp, world).headers["Content-Security-Policy"]
        assert "form-action 'self';" in policy

    def test_onsite_review_still_says_paid_at_the_venue(self, testapp, world):
        text = text_of(review(testapp, world))
        assert "€20.00 · paid at the venue" in text and "Refunds" not in text


class TestCheckout:
    def test_confirm_holds_the_booking_and_sends_to_the_providers_checkout(
            self, payapp, stripe, world):
        response = book_and_checkout(payapp, world)
        assert response.location.startswith(f"{stripe.url}/pay/")
        booking = only_booking(world)
        assert (booking.status, booking.payment_status) == ("held", "pending")
        [payment] = rows(world, Payment)
        assert (payment.status, payment.amount, payment.currency) == ("pending", 2000, "EUR")
        [call] = stripe.api_calls("/v1/checkout/sessions")
        assert call.headers["Idempotency-Key"] == payment.idempotency_key

    def test_success_url_is_the_booking_page(self, payapp, stripe, world):
        response = book_and_checkout(payapp, world)
        session = stripe.sessions[session_id(response.location)]
        assert session["success_url"].endswith(
            f"/t/{world.slug}/bookings/{only_booking(world).id}/?paid=1")
        assert success_query(stripe, response.location) == {"paid": ["1"]}

    def test_success_redirect_alone_does_not_confirm(self, payapp, stripe, world):
        response = book_and_checkout(payapp, world)
        page = payapp.get(stripe.sessions[session_id(response.location)]["success_url"])
        assert "Waiting for the payment confirmation" in page.text
        assert page.html.select_one(".status").get_text(strip=True) == "held"
        assert only_booking(world).status == "held"

    def test_webhook_confirms_and_the_booking_page_says_so(self, payapp, stripe, world):
        response = book_and_checkout(payapp, world)
        pay(payapp, stripe, response.location)
        page = payapp.get(stripe.sessions[session_id(response.location)]["success_url"])
        assert "Payment received: your booking is confirmed." in page.text
        assert page.html.select_one(".status").get_text(strip=True) == "confirmed"
        assert page.html.select_one(".payment").get_text(strip=True) == "paid online"
        assert only_booking(world).payment_status == "paid"

    def test_double_submitted_confirm_makes_one_booking_and_one_checkout(
            self, payapp, stripe, world):
        page = review(payapp, world)
        first, second = confirm(page), confirm(page)
        assert first.location == second.location
        assert count(world) == 1 and count(world, Payment) == 1
        assert len(stripe.api_calls("/v1/checkout/sessions")) == 1

    def test_free_booking_is_confirmed_at_once(self, payapp, stripe, world):
        with world.db.session() as s:
            s.get(Resource, world.court_id).price = 0
        page = confirm(review(payapp, world)).follow()
        assert "Booked! Your reference is" in page.text
        assert only_booking(world).status == "confirmed"
        assert stripe.api_calls() == []


class TestProviderDown:
    def test_provider_down_says_nothing_was_charged_and_offers_to_try_again(
            self, payapp, stripe, world):
        stripe.fail(500, times=3)
        page = confirm(review(payapp, world), status=503)
        text = text_of(page)
        assert "The payment could not be started" in text
        assert "Nothing was charged." in text
        assert form_by_action(page, "/pay")
        assert only_booking(world).status == "held"

    def test_try_again_reuses_the_same_payment_and_idempotency_key(
            self, payapp, stripe, world):
        stripe.fail("timeout", times=3)  # the provider did the work, unseen
        page = confirm(review(payapp, world), status=503)
        response = form_by_action(page, "/pay").submit(status=303)
        assert response.location.startswith(f"{stripe.url}/pay/")
        keys = {call.headers["Idempotency-Key"]
                for call in stripe.api_calls("/v1/checkout/sessions")}
        assert len(keys) == 1 and len(stripe.sessions) == 1
        assert count(world, Payment) == 1

    def test_try_again_after_the_hold_expired_has_nothing_to_pay(
            self, payapp, stripe, world, clock):
        stripe.fail(500, times=3)
        page = confirm(review(payapp, world), status=503)
        tried = len(stripe.api_calls())
        clock.advance(timedelta(minutes=16))
        after = form_by_action(page, "/pay").submit(status=303).follow()
        assert "This booking is expired: there is nothing to pay. Nothing was charged." in (
            after.text)
        assert len(stripe.api_calls()) == tried


class TestComingBack:
    def test_cancel_url_returns_to_the_booking_page_to_pay_again(self, payapp, stripe, world):
        response = book_and_checkout(payapp, world)
        page = payapp.get(stripe.sessions[session_id(response.location)]["cancel_url"])
        text = text_of(page)
        assert "The payment was not completed. Nothing was charged." in text
        again = form_by_action(page, "/pay").submit(status=303)
        assert again.location == response.location
        assert len(stripe.api_calls("/v1/checkout/sessions")) == 1

    def test_letting_the_hold_go_cancels_without_a_charge(self, payapp, stripe, world):
        response = book_and_checkout(payapp, world)
        page = payapp.get(stripe.sessions[session_id(response.location)]["cancel_url"])
        done = form_by_action(page, "/cancel").submit(status=303).follow()
        assert "Your booking is cancelled." in done.text
        assert only_booking(world).status == "cancelled"
        assert stripe.api_calls("/v1/refunds") == []


class TestCancellationRefunds:
    def test_cancel_refunds_in_full_under_the_full_policy(self, payapp, stripe, world):
        path = paid_booking(payapp, stripe, world)
        page = cancel(payapp, path).follow()
        assert "€20.00 is refunded to your card" in page.text
        [refund] = rows(world, Refund)
        assert (refund.amount, refund.status) == (2000, "succeeded")
        assert only_booking(world).payment_status == "refunded"
        assert page.html.select_one(".payment").get_text(" ", strip=True) == (
            "refunded · €20.00 refunded")

    def test_cancel_refunds_the_percentage_under_a_partial_policy(self, payapp, stripe, world):
        set_refund_policy(world, "partial", 25)
        path = paid_booking(payapp, stripe, world)
        assert "€5.00 is refunded to your card" in cancel(payapp, path).follow().text
        assert [r["amount"] for r in stripe.refunds.values()] == [500]

    def test_cancel_under_a_no_refund_policy_says_nothing_is_refunded(
            self, payapp, stripe, world):
        set_refund_policy(world, "none", 0)
        path = paid_booking(payapp, stripe, world)
        page = cancel(payapp, path).follow()
        assert "Under the venue's refund policy, nothing is refunded." in text_of(page)
        assert stripe.refunds == {} and only_booking(world).status == "cancelled"

    def test_cancel_when_the_provider_is_down_changes_nothing(self, payapp, stripe, world):
        path = paid_booking(payapp, stripe, world)
        stripe.fail(500, times=3)
        page = cancel(payapp, path, status=503)
        assert "your booking is not cancelled: nothing has changed" in page.text
        assert only_booking(world).status == "confirmed"
        assert count(world, Refund) == 0

    def test_cancel_retried_after_a_provider_timeout_refunds_once(self, payapp, stripe, world):
        path = paid_booking(payapp, stripe, world)
        stripe.fail("timeout", times=3)  # the provider refunds, unseen
        cancel(payapp, path, status=503)
        cancel(payapp, path).follow()
        assert [r["amount"] for r in stripe.refunds.values()] == [2000]
        assert count(world, Refund) == 1


def test_onsite_booking_is_confirmed_at_once_and_due_at_the_venue(testapp, world):
    page = confirm(review(testapp, world)).follow()
    assert page.html.select_one(".status").get_text(strip=True) == "confirmed"
    assert page.html.select_one(".payment").get_text(strip=True) == "due at the venue"
    assert only_booking(world).payment_status == "due_at_venue"


def test_my_bookings_shows_the_payment_status(payapp, stripe, world):
    paid_booking(payapp, stripe, world)
    page = payapp.get(f"/t/{world.slug}/bookings/")
    assert page.html.select_one("section[aria-labelledby=upcoming] .payment").get_text(
        strip=True) == "paid online"

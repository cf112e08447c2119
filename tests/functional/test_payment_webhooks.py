"""``POST /api/v1/payments/stripe/webhook`` with real signatures, on both
databases: a bad, missing, stale or future signature is a 400 that changes
nothing; a verified event has one effect however often and in whatever
order it comes. The fake provider also delivers over real HTTP."""

from datetime import timedelta

import pytest
import requests
import webtest
from sqlalchemy import select

from booking import main
from booking.adapters.payments.stripe import StripeProvider, sign
from booking.models import Booking, OutboxMessage, Payment, PaymentEvent, Resource, Tenant, User
from booking.services.booking import BookingRequest, BookingService
from booking.services.notifications import Notifier
from booking.services.payments import PaymentService

from ..conftest import NOW, app_settings
from ..db.test_payment_service import START, URLS, payment_violations
from ..fakes.payment_provider import WEBHOOK_PATH, running, stripe_settings
from ..servers import serve

URL = WEBHOOK_PATH
T = int(NOW.timestamp())


@pytest.fixture(scope="module")
def fake():
    with running(clock=lambda: T) as server:
        yield server


@pytest.fixture(scope="module")
def stripe_apps():
    return {}


@pytest.fixture
def stripe_app(db, clock, fake, stripe_apps):
    fake.reset()
    if db.backend not in stripe_apps:
        stripe_apps[db.backend] = main({}, **app_settings(db, **stripe_settings(fake)))
    yield stripe_apps[db.backend]
    with db.session() as s:
        assert payment_violations(s) == []


@pytest.fixture
def api(stripe_app):
    return webtest.TestApp(stripe_app, extra_environ={"HTTP_HOST": "booking.test"})


@pytest.fixture
def held(world, fake):
    """A booking held for the customer, its checkout started: (id, session id)."""
    provider = StripeProvider(fake.url, api_key=fake.api_key,
                              webhook_secret=fake.webhook_secret, timeout=2)
    with world.db.session() as s:
        notifier = Notifier(s, NOW)
        bookings = BookingService(s, NOW, notifier)
        booking, _ = bookings.book(BookingRequest(s.get(Tenant, world.tenant_id),
                                   s.get(Resource, world.court_id),
                                   s.get(User, world.user_ids["customer"]), START, hold_for_payment=True))
        payment = PaymentService(s, NOW, provider, notifier, bookings).start_checkout(
            booking, **URLS)
        return booking.id, payment.provider_ref


def completed(fake, session_id, event_id="evt_1"):
    fake.sessions[session_id].update(status="complete", payment_status="paid")
    return fake.event("checkout.session.completed", fake.sessions[session_id], event_id)


def post(api, body, headers, status=200):
    return api.post(URL, body, headers=headers, status=status)


def state(db, booking_id):
    with db.session() as s:
        booking = s.get(Booking, booking_id)
        payment = s.scalars(select(Payment).where(Payment.booking_id == booking_id)).one()
        events = s.scalars(select(PaymentEvent.event_id)).all()
        emails = s.scalars(select(OutboxMessage.kind).where(
            OutboxMessage.booking_id == booking_id)).all()
        return booking.status, payment.status, sorted(events), sorted(emails)


def test_a_signed_completed_event_confirms_the_booking(api, world, fake, held):
    booking_id, session_id = held
    response = post(api, *fake.signed(completed(fake, session_id)))
    assert response.json == {"received": True, "result": "confirmed"}
    assert state(world.db, booking_id) == ("confirmed", "succeeded", ["evt_1"],
                                           ["booking.confirmed"])


def test_a_delayed_payment_keeps_the_hold_until_it_succeeds(api, world, fake, held):
    booking_id, session_id = held
    fake.sessions[session_id].update(status="complete", payment_status="unpaid")
    waiting = fake.event("checkout.session.completed", fake.sessions[session_id], "evt_1")
    assert post(api, *fake.signed(waiting)).json["result"] == "ignored"
    assert state(world.db, booking_id)[:2] == ("held", "pending")
    fake.sessions[session_id].update(payment_status="paid")
    paid = fake.event("checkout.session.async_payment_succeeded", fake.sessions[session_id],
                      "evt_2")
    assert post(api, *fake.signed(paid)).json["result"] == "confirmed"
    assert state(world.db, booking_id)[:2] == ("confirmed", "succeeded")


def test_a_delayed_payment_that_fails_releases_the_hold(api, world, fake, held):
    booking_id, session_id = held
    failed = fake.event("checkout.session.async_payment_failed", fake.sessions[session_id],
                        "evt_1")
    assert post(api, *fake.signed(failed)).json["result"] == "released"
    assert state(world.db, booking_id)[:2] == ("expired", "failed")


@pytest.mark.parametrize("headers", [
    pytest.param(lambda body: sign("whsec_someone_else", body, T), id="wrong-secret"),
    pytest.param(lambda body: "", id="missing"),
    pytest.param(lambda body: f"t={T},v1=" + "0" * 64, id="wrong-digest"),
    pytest.param(lambda body: sign("whsec_test_fake_secret_0123456789", body, T - 301),
                 id="older-than-5-minutes"),
    pytest.param(lambda body: sign("whsec_test_fake_secret_0123456789", body, T + 301),
                 id="in-the-future"),
    pytest.param(lambda body: sign("whsec_test_fake_secret_0123456789", body + b" ", T),
                 id="body-changed"),
])
def test_a_bad_signature_is_a_400_and_changes_nothing(api, world, fake, held, headers):
    booking_id, session_id = held
    body, _ = fake.signed(completed(fake, session_id))
    signature = headers(body)
    response = post(api, body, {"Content-Type": "application/json",
                                **({"Stripe-Signature": signature} if signature else {})},
                    status=400)
    assert response.json["error"]["code"] == "bad_signature"
    assert state(world.db, booking_id) == ("held", "pending", [], [])


def test_a_signature_inside_the_tolerance_is_accepted(api, world, fake, held):
    booking_id, session_id = held
    body, _ = fake.signed(completed(fake, session_id))
    headers = {"Stripe-Signature": sign(fake.webhook_secret, body, T - 299)}
    assert post(api, body, headers).json["result"] == "confirmed"


def test_any_of_several_v1_signatures_may_match(api, world, fake, held):
    _, session_id = held
    body, headers = fake.signed(completed(fake, session_id))
    headers["Stripe-Signature"] = headers["Stripe-Signature"].replace(
        ",v1=", ",v1=" + "f" * 64 + ",v1=")
    assert post(api, body, headers).json["result"] == "confirmed"


def test_the_same_webhook_twice_has_one_effect(api, world, fake, held):
    booking_id, session_id = held
    body, headers = fake.signed(completed(fake, session_id))
    assert post(api, body, headers).json["result"] == "confirmed"
    assert post(api, body, headers).json["result"] == "duplicate"
    assert state(world.db, booking_id) == ("confirmed", "succeeded", ["evt_1"],
                                           ["booking.confirmed"])


def test_expired_after_completed_changes_nothing(api, world, fake, held):
    booking_id, session_id = held
    post(api, *fake.signed(completed(fake, session_id)))
    expired = fake.event("checkout.session.expired", fake.sessions[session_id], "evt_2")
    assert post(api, *fake.signed(expired)).json["result"] == "ignored"
    assert state(world.db, booking_id)[:2] == ("confirmed", "succeeded")


def test_completed_after_expired_confirms_while_the_slot_is_free(api, world, fake, held):
    booking_id, session_id = held
    expired = fake.event("checkout.session.expired", fake.sessions[session_id], "evt_0")
    assert post(api, *fake.signed(expired)).json["result"] == "released"
    assert post(api, *fake.signed(completed(fake, session_id))).json["result"] == "confirmed"
    assert state(world.db, booking_id)[:2] == ("confirmed", "succeeded")


def test_payment_after_the_slot_was_taken_is_refunded(api, world, fake, held, clock):
    booking_id, session_id = held
    clock.advance(timedelta(minutes=20))
    with world.db.session() as s:
        BookingService(s, clock.now()).book(BookingRequest(
            s.get(Tenant, world.tenant_id), s.get(Resource, world.court_id),
            s.get(User, world.user_ids["other_customer"]), START))
    body, _ = fake.signed(completed(fake, session_id))
    headers = {"Stripe-Signature": sign(fake.webhook_secret, body, T + 20 * 60)}
    assert post(api, body, headers).json["result"] == "refunded"
    booking_status, payment_status, _, emails = state(world.db, booking_id)
    assert (booking_status, payment_status) == ("cancelled", "refunded")
    assert "payment.refunded" in emails
    assert [r["amount"] for r in fake.refunds.values()] == [2000]


def test_provider_down_during_the_refund_is_a_503_and_the_redelivery_applies(
        api, world, fake, held, clock):
    booking_id, session_id = held
    with world.db.session() as s:  # the slot is taken by staff once the hold ran out
        s.get(Booking, booking_id).hold_expires_at = NOW - timedelta(minutes=1)
        BookingService(s, NOW).book(BookingRequest(
            s.get(Tenant, world.tenant_id), s.get(Resource, world.court_id),
            s.get(User, world.user_ids["other_customer"]), START))
    body, headers = fake.signed(completed(fake, session_id))
    fake.fail(500, times=3)
    assert post(api, body, headers, status=503).json["error"]["code"] == "unavailable"
    assert state(world.db, booking_id)[1:3] == ("pending", [])
    assert post(api, body, headers).json["result"] == "refunded"
    assert len(fake.refunds) == 1


def test_a_signed_body_that_is_not_an_event_is_a_400(api, fake):
    body = b"not json"
    response = post(api, body, {"Stripe-Signature": sign(fake.webhook_secret, body, T)},
                    status=400)
    assert response.json["error"]["code"] == "bad_signature"


def test_an_event_of_another_type_is_received_and_ignored(api, fake):
    event = fake.event("customer.created", {"id": "cus_1"})
    assert post(api, *fake.signed(event)).json == {"received": True, "result": "ignored"}


def test_another_provider_name_is_not_found(api, fake):
    body, headers = fake.signed(fake.event("customer.created", {"id": "cus_1"}))
    api.post("/api/v1/payments/paypal/webhook", body, headers=headers, status=404)


def test_the_onsite_default_refuses_every_webhook(testapp, fake):
    body, headers = fake.signed(fake.event("customer.created", {"id": "cus_1"}))
    response = testapp.post("/api/v1/payments/onsite/webhook", body, headers=headers,
                            status=400)
    assert response.json["error"]["code"] == "bad_signature"
    testapp.post(URL, body, headers=headers, status=404)


def test_the_hosted_page_pays_and_a_double_delivery_has_one_effect(stripe_app, world, fake,
                                                                   held):
    booking_id, session_id = held
    fake.deliver_twice = True
    with serve(stripe_app) as app_url:
        fake.app_url = app_url
        page = requests.get(f"{fake.url}/pay/{session_id}", timeout=10)
        assert "Pay 20.00 EUR" in page.text
        response = requests.post(f"{fake.url}/pay/{session_id}", allow_redirects=False,
                                 timeout=30)
    assert (response.status_code, response.headers["Location"]) == (303, URLS["success_url"])
    assert [(status, '"duplicate"' in text) for _, status, text in fake.deliveries] == [
        (200, False), (200, True)]
    assert state(world.db, booking_id) == ("confirmed", "succeeded", [
        next(iter(e for e, _, _ in fake.deliveries))], ["booking.confirmed"])

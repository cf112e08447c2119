"""The payment adapters: ``stripe`` against the fake Stripe-shaped server
over real HTTP (headers, form bodies, retries with one idempotency key,
refusals), its webhook signatures, and the ``onsite`` default."""

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from booking.adapters.payments import (
    CHECKOUT_COMPLETED,
    CHECKOUT_EXPIRED,
    IGNORED,
    REFUND_UPDATED,
    BadSignature,
    NotCollectingOnline,
    ProviderRefused,
    ProviderUnavailable,
    provider_from_settings,
)
from booking.adapters.payments.onsite import OnsiteProvider
from booking.adapters.payments.stripe import StripeProvider, sign
from booking.settings import SettingsError, parse_settings

from ..fakes.payment_provider import running, stripe_settings

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
T = int(NOW.timestamp())
CHECKOUT = dict(amount=2000, currency="EUR", description="Court ABC", metadata={
    "booking_id": "7"}, success_url="http://app.test/ok", cancel_url="http://app.test/no",
    expires_at=NOW + timedelta(minutes=45))


@pytest.fixture(scope="module")
def server():
    with running(clock=lambda: T) as fake:
        yield fake


@pytest.fixture
def fake(server):
    server.reset()
    return server


@pytest.fixture
def stripe(fake):
    return StripeProvider(fake.url, api_key=fake.api_key, webhook_secret=fake.webhook_secret,
                          timeout=0.5, retries=2)


def test_checkout_is_a_form_post_with_the_key_and_the_bearer_api_key(stripe, fake):
    checkout = stripe.create_checkout(idempotency_key="booking-7-checkout-1", **CHECKOUT)
    assert checkout.url == f"{fake.url}/pay/{checkout.provider_ref}"
    [call] = fake.api_calls()
    assert (call.method, call.path) == ("POST", "/v1/checkout/sessions")
    assert call.headers["Authorization"] == f"Bearer {fake.api_key}"
    assert call.headers["Idempotency-Key"] == "booking-7-checkout-1"
    assert call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert call.form == {
        "mode": "payment", "line_items[0][price_data][currency]": "eur",
        "line_items[0][price_data][unit_amount]": "2000",
        "line_items[0][price_data][product_data][name]": "Court ABC",
        "line_items[0][quantity]": "1", "success_url": "http://app.test/ok",
        "cancel_url": "http://app.test/no", "client_reference_id": "7",
        "metadata[booking_id]": "7", "expires_at": str(T + 45 * 60),
    }


def test_a_timeout_is_retried_with_the_same_key_and_creates_one_session(stripe, fake):
    fake.fail("timeout")
    first = stripe.create_checkout(idempotency_key="k", **CHECKOUT)
    assert [c.headers["Idempotency-Key"] for c in fake.api_calls()] == ["k", "k"]
    assert list(fake.sessions) == [first.provider_ref]


@pytest.mark.parametrize("fault, sessions", [("timeout", 1), (500, 0)])
def test_transient_failures_are_retried_a_bounded_number_of_times(stripe, fake, fault,
                                                                  sessions):
    fake.fail(fault, times=10)
    with pytest.raises(ProviderUnavailable, match="after 3 attempt"):
        stripe.create_checkout(idempotency_key="k", **CHECKOUT)
    assert [c.headers["Idempotency-Key"] for c in fake.api_calls()] == ["k"] * 3
    assert len(fake.sessions) == sessions


def test_a_refused_request_is_not_retried(fake):
    wrong = StripeProvider(fake.url, api_key="sk_wrong", webhook_secret="x", timeout=1)
    with pytest.raises(ProviderRefused, match="HTTP 401 Invalid API Key"):
        wrong.create_checkout(idempotency_key="k", **CHECKOUT)
    assert len(fake.api_calls()) == 1


def test_an_unreachable_provider_is_unavailable():
    closed = StripeProvider("http://127.0.0.1:9", api_key="k", webhook_secret="s", timeout=0.5,
                            retries=1)
    closed.backoff = 0
    with pytest.raises(ProviderUnavailable, match="ConnectionError"):
        closed.create_checkout(idempotency_key="k", **CHECKOUT)


def test_refund_finds_the_payment_intent_and_is_idempotent(stripe, fake):
    checkout = stripe.create_checkout(idempotency_key="k", **CHECKOUT)
    fake.pay(checkout.provider_ref, deliver=False)
    first = stripe.refund(provider_ref=checkout.provider_ref, amount=500, idempotency_key="r1")
    again = stripe.refund(provider_ref=checkout.provider_ref, amount=500, idempotency_key="r1")
    assert first == again and list(fake.refunds) == [first]
    refund_calls = fake.api_calls("/v1/refunds")
    assert [c.headers["Idempotency-Key"] for c in refund_calls] == ["r1", "r1"]
    assert refund_calls[0].form["payment_intent"] == fake.sessions[checkout.provider_ref][
        "payment_intent"]


def test_a_refund_beyond_the_payment_is_refused(stripe, fake):
    checkout = stripe.create_checkout(idempotency_key="k", **CHECKOUT)
    fake.pay(checkout.provider_ref, deliver=False)
    with pytest.raises(ProviderRefused, match="greater than what is left"):
        stripe.refund(provider_ref=checkout.provider_ref, amount=2001, idempotency_key="r1")


def test_secrets_appear_neither_in_logs_nor_in_repr(fake, caplog):
    provider = StripeProvider(fake.url, api_key=fake.api_key,
                              webhook_secret=fake.webhook_secret, timeout=0.5, retries=1)
    provider.backoff = 0
    fake.fail(500, times=2)
    with caplog.at_level(logging.DEBUG), pytest.raises(ProviderUnavailable) as error:
        provider.create_checkout(idempotency_key="k", **CHECKOUT)
    shown = caplog.text + repr(provider) + str(error.value)
    assert fake.api_key not in shown and fake.webhook_secret not in shown


# -- webhooks ----------------------------------------------------------------------

def event(kind, obj, event_id="evt_1"):
    return json.dumps({"id": event_id, "type": kind, "created": T,
                       "data": {"object": obj}}).encode()


def parse(stripe, body, signature, now=NOW):
    return stripe.parse_webhook(body, {"Stripe-Signature": signature}, now)


PAID = {"id": "cs_1", "payment_status": "paid", "amount_total": 2000}


def test_a_signed_event_is_parsed(stripe):
    body = event("checkout.session.completed", PAID)
    parsed = parse(stripe, body, sign(stripe_secret(stripe), body, T))
    assert (parsed.id, parsed.type, parsed.provider_ref, parsed.amount, parsed.created) == (
        "evt_1", CHECKOUT_COMPLETED, "cs_1", 2000, T)


@pytest.mark.parametrize("signature", [
    "", "t=abc,v1=00", f"t={T}", "v1=00", f"t={T},v1=" + "0" * 64,
])
def test_malformed_or_wrong_signatures_are_refused(stripe, signature):
    with pytest.raises(BadSignature):
        parse(stripe, event("checkout.session.completed", PAID), signature)


@pytest.mark.parametrize("offset, accepted", [(-301, False), (-300, True), (300, True),
                                              (301, False)])
def test_the_timestamp_tolerance_is_five_minutes_either_way(stripe, offset, accepted):
    body = event("checkout.session.completed", PAID)
    signature = sign(stripe_secret(stripe), body, T + offset)
    if accepted:
        assert parse(stripe, body, signature).id == "evt_1"
    else:
        with pytest.raises(BadSignature, match="tolerance"):
            parse(stripe, body, signature)


def test_one_matching_signature_among_several_is_enough(stripe):
    body = event("checkout.session.completed", PAID)
    good = sign(stripe_secret(stripe), body, T).split(",")[1]
    assert parse(stripe, body, f"t={T},v1={'a' * 64},{good}").id == "evt_1"


def test_of_two_timestamps_the_first_is_read_as_the_providers_library_does(stripe):
    body = event("checkout.session.completed", PAID)
    good = sign(stripe_secret(stripe), body, T)
    assert parse(stripe, body, f"{good},t={T + 1}").id == "evt_1"
    with pytest.raises(BadSignature):
        parse(stripe, body, f"t={T + 1},{good}")


def test_a_timestamp_in_other_digits_is_refused_not_a_crash(stripe):
    body = event("checkout.session.completed", PAID)
    with pytest.raises(BadSignature, match="not a number"):
        parse(stripe, body, "t=\u0661\u0662\u0663,v1=" + "0" * 64)


@pytest.mark.parametrize("kind, obj, expected", [
    ("checkout.session.completed", PAID, (CHECKOUT_COMPLETED, "cs_1", 2000, None)),
    ("checkout.session.completed", {"id": "cs_1", "payment_status": "unpaid"},
     (IGNORED, "cs_1", None, None)),
    ("checkout.session.expired", {"id": "cs_1"}, (CHECKOUT_EXPIRED, "cs_1", None, None)),
    ("refund.updated", {"id": "re_1", "amount": 500, "status": "failed"},
     (REFUND_UPDATED, "re_1", 500, "failed")),
    ("charge.refunded", {"id": "ch_1", "refunds": {"data": [
        {"id": "re_2", "amount": 300, "status": "succeeded"}]}},
     (REFUND_UPDATED, "re_2", 300, "succeeded")),
    ("customer.created", {"id": "cus_1"}, (IGNORED, "cus_1", None, None)),
    ("checkout.session.async_payment_succeeded", PAID, (CHECKOUT_COMPLETED, "cs_1", 2000, None)),
    ("checkout.session.async_payment_failed", {"id": "cs_1", "payment_status": "unpaid"},
     (CHECKOUT_EXPIRED, "cs_1", None, None)),
    ("charge.refunded", {"id": "ch_1", "amount_refunded": 300, "payment_intent": "pi_1"},
     (IGNORED, "ch_1", None, None)),
    ("charge.refunded", {"id": "ch_1", "refunds": [{"id": "re_2"}]},
     (IGNORED, "ch_1", None, None)),
])
def test_event_types_map_to_provider_events(stripe, kind, obj, expected):
    body = event(kind, obj)
    parsed = parse(stripe, body, sign(stripe_secret(stripe), body, T))
    assert (parsed.type, parsed.provider_ref, parsed.amount, parsed.status) == expected


def stripe_secret(stripe):
    return stripe._webhook_secret.decode()


# -- onsite and the choice -----------------------------------------------------------

def test_onsite_collects_nothing_online_and_accepts_no_webhook():
    onsite = OnsiteProvider()
    assert (onsite.name, onsite.collects_online) == ("onsite", False)
    with pytest.raises(NotCollectingOnline):
        onsite.create_checkout(idempotency_key="k", **CHECKOUT)
    with pytest.raises(NotCollectingOnline):
        onsite.refund(provider_ref="cs_1", amount=1, idempotency_key="r")
    with pytest.raises(BadSignature):
        onsite.parse_webhook(b"{}", {"Stripe-Signature": f"t={T},v1=00"}, NOW)


def test_settings_choose_onsite_by_default_and_stripe_when_named(fake):
    base = {"sqlalchemy.url": "sqlite://"}
    assert isinstance(provider_from_settings(parse_settings(base, environ={})), OnsiteProvider)
    stripe = provider_from_settings(parse_settings({**base, **stripe_settings(fake)},
                                                   environ={}))
    assert (stripe.name, stripe.url, stripe.timeout, stripe.retries) == (
        "stripe", fake.url, 0.5, 2)


def test_stripe_without_its_secrets_does_not_start():
    with pytest.raises(SettingsError, match="booking.payments.api_key is required"):
        parse_settings({"sqlalchemy.url": "sqlite://", "booking.payments": "stripe"}, environ={})


def test_the_secrets_may_come_from_the_environment(fake):
    settings = parse_settings({"sqlalchemy.url": "sqlite://", "booking.payments": "stripe"},
                              environ={"BOOKING_PAYMENTS_API_KEY": "sk_env",
                                       "BOOKING_PAYMENTS_WEBHOOK_SECRET": "whsec_env"})
    assert (settings["booking.payments.api_key"],
            settings["booking.payments.webhook_secret"]) == ("sk_env", "whsec_env")

"""A Stripe-compatible provider over ``requests``: hosted Checkout Sessions,
refunds and signed webhooks.

Requests carry ``Authorization: Bearer <api key>`` and form-encoded bodies
(Stripe's bracket notation); creations and refunds carry an
``Idempotency-Key``. Connection errors, timeouts and 5xx answers are retried
a bounded number of times with backoff, always with the same key, so the
provider performs the operation once; then :class:`ProviderUnavailable`.
A 4xx is :class:`ProviderRefused` at once. The API key and the webhook
secret are never logged.
"""

import hashlib
import hmac
import json
import logging
import threading
import time

import requests

from . import (
    CHECKOUT_COMPLETED,
    CHECKOUT_EXPIRED,
    IGNORED,
    REFUND_UPDATED,
    BadSignature,
    Checkout,
    PaymentProvider,
    ProviderEvent,
    ProviderRefused,
    ProviderUnavailable,
)

log = logging.getLogger(__name__)

#: A webhook signed longer ago (or further ahead) than this is refused.
TOLERANCE_SECONDS = 300


class StripeProvider(PaymentProvider):
    """Thread-safe: each thread keeps its own ``requests.Session``."""

    name = "stripe"
    collects_online = True
    backoff = 0.25

    def __init__(self, url, *, api_key, webhook_secret, timeout=10.0, retries=2):
        self.url = url.rstrip("/")
        self._api_key = api_key
        self._webhook_secret = webhook_secret.encode("utf-8")
        self.timeout = timeout
        self.retries = retries
        self._local = threading.local()

    def __repr__(self):
        return f"<StripeProvider {self.url}>"

    @property
    def http(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.update({"Authorization": f"Bearer {self._api_key}",
                                    "Accept": "application/json"})
            self._local.session = session
        return session

    # -- API calls -----------------------------------------------------------

    def create_checkout(self, *, amount, currency, idempotency_key, description, success_url,
                        cancel_url, metadata, expires_at=None):
        form = {
            "mode": "payment",
            "line_items[0][price_data][currency]": currency.lower(),
            "line_items[0][price_data][unit_amount]": str(amount),
            "line_items[0][price_data][product_data][name]": description,
            "line_items[0][quantity]": "1",
            "success_url": success_url,
            "cancel_url": cancel_url,
            "client_reference_id": metadata.get("booking_id", ""),
        }
        form.update({f"metadata[{key}]": str(value) for key, value in metadata.items()})
        if expires_at is not None:
            form["expires_at"] = str(int(expires_at.timestamp()))
        session = self.call("POST", "/v1/checkout/sessions", form, idempotency_key)
        try:
            return Checkout(provider_ref=session["id"], url=session["url"])
        except (KeyError, TypeError):
            raise ProviderUnavailable("stripe answered a checkout session without id or url") \
                from None

    def refund(self, *, provider_ref, amount, idempotency_key):
        payment_intent = provider_ref
        if provider_ref.startswith("cs_"):
            session = self.call("GET", f"/v1/checkout/sessions/{provider_ref}")
            payment_intent = session.get("payment_intent")
            if not payment_intent:
                raise ProviderRefused(f"checkout {provider_ref} has no payment to refund")
        refund = self.call("POST", "/v1/refunds",
                           {"payment_intent": payment_intent, "amount": str(amount),
                            "metadata[checkout]": provider_ref}, idempotency_key)
        if not isinstance(refund.get("id"), str) or refund.get("status") in ("failed",
                                                                           "canceled"):
            raise ProviderRefused(f"stripe did not refund {provider_ref}: "
                                  f"{refund.get('status', 'no refund id')}")
        return refund["id"]

    def call(self, method, path, form=None, idempotency_key=None):
        """The JSON answer of one API call, retried on transient failures
        with the same idempotency key."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        error = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self.http.request(method, self.url + path, data=form,
                                             headers=headers, timeout=self.timeout)
            except requests.RequestException as exc:
                error = type(exc).__name__
                log.warning("stripe %s %s attempt %d failed: %s", method, path, attempt + 1,
                            error)
                continue
            if response.status_code >= 500:
                error = f"HTTP {response.status_code}"
                log.warning("stripe %s %s attempt %d failed: %s", method, path, attempt + 1,
                            error)
                continue
            if response.status_code >= 400:
                raise ProviderRefused(f"stripe refused {method} {path}: HTTP "
                                      f"{response.status_code} {error_message(response)}")
            try:
                return response.json()
            except ValueError:
                raise ProviderUnavailable(f"stripe answered {method} {path} with something "
                                          "that is not JSON") from None
        raise ProviderUnavailable(f"stripe unavailable after {self.retries + 1} attempt(s) "
                                  f"of {method} {path}: {error}")

    # -- webhooks ------------------------------------------------------------

    def parse_webhook(self, body, headers, now):
        self.verify(body, headers.get("Stripe-Signature") or "", int(now.timestamp()))
        try:
            event = json.loads(body)
            event_id, kind = event["id"], event["type"]
            created = int(event.get("created") or 0)
            obj = event["data"]["object"]
        except (ValueError, KeyError, TypeError):
            raise BadSignature("the signed body is not a Stripe event") from None
        return to_event(event_id, kind, created, obj)

    def verify(self, body, header, now):
        """Check ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]`` at ``now``.
        Of several ``t=`` the first counts, as the provider's own library
        reads the header."""
        timestamp, signatures = None, []
        for part in header.split(","):
            key, _, value = part.strip().partition("=")
            if key == "t" and timestamp is None:
                timestamp = value
            elif key == "v1":
                signatures.append(value)
        if not timestamp or not signatures:
            raise BadSignature("no Stripe-Signature with a timestamp and a v1 signature")
        if not (timestamp.isascii() and timestamp.isdigit()):
            raise BadSignature("the signature's timestamp is not a number")
        signed_at = int(timestamp)
        expected = hmac.new(self._webhook_secret, timestamp.encode("ascii") + b"." + body,
                            hashlib.sha256).hexdigest()
        if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
            raise BadSignature("no v1 signature matches the body")
        if abs(now - signed_at) > TOLERANCE_SECONDS:
            raise BadSignature(f"the signature is {now - signed_at} s old: outside the "
                               f"{TOLERANCE_SECONDS} s tolerance")


def to_event(event_id, kind, created, obj):
    """A :class:`ProviderEvent` of one of the types the app acts upon."""
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        if obj.get("payment_status") != "paid":
            # A delayed payment (a bank debit): the hold keeps its own time,
            # and async_payment_succeeded (or _failed) says how it ends.
            return ProviderEvent(event_id, IGNORED, obj.get("id"), None, created)
        return ProviderEvent(event_id, CHECKOUT_COMPLETED, obj.get("id"),
                             _int_or_none(obj.get("amount_total")), created)
    if kind in ("checkout.session.expired", "checkout.session.async_payment_failed"):
        # Either way the checkout ended without the money.
        return ProviderEvent(event_id, CHECKOUT_EXPIRED, obj.get("id"), None, created)
    if kind == "refund.updated":
        return ProviderEvent(event_id, REFUND_UPDATED, obj.get("id"),
                             _int_or_none(obj.get("amount")), created, status=obj.get("status"))
    if kind == "charge.refunded":
        # Today's default shape carries no ``refunds`` list: the refunds we
        # made are followed by their own refund.updated events instead.
        listed = obj.get("refunds")
        refunds = (listed.get("data") if isinstance(listed, dict) else None) or []
        if isinstance(refunds, list) and refunds and isinstance(refunds[0], dict):
            # The newest first.
            latest = refunds[0]
            return ProviderEvent(event_id, REFUND_UPDATED, latest.get("id"),
                                 _int_or_none(latest.get("amount")), created,
                                 status=latest.get("status"))
    return ProviderEvent(event_id, IGNORED, obj.get("id") if isinstance(obj, dict) else None,
                         None, created)


def _int_or_none(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def error_message(response):
    try:
        return str(response.json()["error"]["message"])[:300]
    except (ValueError, KeyError, TypeError):
        return ""


def sign(secret, body, timestamp):
    """The ``Stripe-Signature`` header of ``body`` at ``timestamp`` (for
    tests and the fake provider)."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body,
                      hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"

"""A Stripe-shaped payment provider for tests, served on a loopback port.

It speaks the endpoints the app uses — ``POST /v1/checkout/sessions``,
``GET /v1/checkout/sessions/<id>``, ``POST /v1/refunds`` — with form bodies
and JSON answers; checks ``Authorization: Bearer <key>``; honours
``Idempotency-Key`` (the same key answers the same response and creates
nothing; the same key with other parameters is a 400, like Stripe); records
every request; and can be told to time out or answer 500 for the next calls.

Its hosted checkout page ``GET /pay/<session>`` has a "Pay" button whose POST
marks the session paid, delivers the signed ``checkout.session.completed``
webhook to ``app_url`` (twice if asked) and redirects to the success URL.
``signed()`` builds signed webhook bodies for tests that post them directly.
"""

import contextlib
import html
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import requests

from booking.adapters.payments.stripe import sign

from ..servers import serve

API_KEY = "sk_test_fake_key_0123456789"
WEBHOOK_SECRET = "whsec_test_fake_secret_0123456789"
WEBHOOK_PATH = "/api/v1/payments/stripe/webhook"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict
    form: dict


@dataclass
class FakeStripe:
    """The WSGI app and the provider's state. ``clock`` gives the Unix time
    webhooks are signed at (tests pass the app's frozen clock)."""

    api_key: str = API_KEY
    webhook_secret: str = WEBHOOK_SECRET
    url: str = ""
    app_url: str = ""
    clock: object = time.time
    delay: float = 1.0
    sessions: dict = field(default_factory=dict)
    refunds: dict = field(default_factory=dict)
    seen: list = field(default_factory=list)
    deliveries: list = field(default_factory=list)
    faults: list = field(default_factory=list)
    deliver_twice: bool = False
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self):
        self.keys = {}
        #: How many late answers are being held back.
        self.held_back = 0
        self.late = threading.Condition()
        self.ids = itertools.count(1)

    # -- configuration -------------------------------------------------------

    def reset(self):
        with self.lock:
            for store in (self.sessions, self.refunds, self.keys):
                store.clear()
            self.seen.clear()
            self.deliveries.clear()
            self.faults.clear()
            self.deliver_twice = False

    def fail(self, kind, times=1):
        """The next ``times`` API calls time out (``"timeout"``: answered
        after ``delay`` seconds, having done the work) or answer 500 (``500``:
        doing nothing)."""
        with self.lock:
            self.faults.extend([kind] * times)

    def api_calls(self, path=None):
        return [s for s in self.seen if s.path.startswith("/v1/")
                and (path is None or s.path == path)]

    # -- WSGI ----------------------------------------------------------------

    def __call__(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        form = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        headers = {key[5:].replace("_", "-").title(): value
                   for key, value in environ.items() if key.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        with self.lock:
            self.seen.append(Seen(method, path, headers, form))
        if path.startswith("/pay/"):
            return self.checkout_page(start_response, method, path[len("/pay/"):])
        if headers.get("Authorization") != f"Bearer {self.api_key}":
            return self.error(start_response, 401, "Invalid API Key provided")
        with self.lock:
            fault = self.faults.pop(0) if self.faults else None
        if fault == 500:
            return self.error(start_response, 500, "An unexpected error occurred")
        status, answer = self.api(method, path, form, headers.get("Idempotency-Key"))
        if fault == "timeout":
            with self.late:
                self.held_back += 1
            time.sleep(self.delay)  # the work is done; the answer comes too late
            with self.late:
                self.held_back -= 1
                self.late.notify_all()
        return self.reply(start_response, status, json.dumps(answer).encode())

    def api(self, method, path, form, key):
        with self.lock:
            if key is not None and key in self.keys:
                (old_path, old_form), answer = self.keys[key]
                if (old_path, old_form) != (path, form):
                    return 400, {"error": {"type": "idempotency_error", "message":
                                           "Keys for idempotent requests can only be used "
                                           "with the same parameters they were first used with"}}
                return answer
            if method == "POST" and path == "/v1/checkout/sessions":
                answer = self.create_session(form)
            elif method == "POST" and path == "/v1/refunds":
                answer = self.create_refund(form)
            elif method == "GET" and path.startswith("/v1/checkout/sessions/"):
                session = self.sessions.get(path.rsplit("/", 1)[1])
                answer = (200, session) if session else (404, {"error": {
                    "type": "invalid_request_error", "message": "No such checkout session"}})
            else:
                answer = 404, {"error": {"type": "invalid_request_error",
                                         "message": f"Unrecognized request URL ({path})"}}
            if key is not None and method == "POST":
                self.keys[key] = ((path, form), answer)
            return answer

    def create_session(self, form):
        required = ("mode", "line_items[0][price_data][currency]",
                    "line_items[0][price_data][unit_amount]",
                    "line_items[0][price_data][product_data][name]", "line_items[0][quantity]",
                    "success_url", "cancel_url")
        missing = [name for name in required if not form.get(name)]
        if missing or form["mode"] != "payment" or \
                not form["line_items[0][price_data][unit_amount]"].isdigit():
            problem = ", ".join(missing) or "mode"
            return 400, {"error": {"type": "invalid_request_error",
                                   "message": f"Missing or invalid: {problem}"}}
        number = next(self.ids)
        session_id = f"cs_test_{number}"
        amount = int(form["line_items[0][price_data][unit_amount]"]) * int(
            form["line_items[0][quantity]"])
        session = {
            "id": session_id, "object": "checkout.session", "mode": "payment",
            "url": f"{self.url}/pay/{session_id}", "payment_intent": f"pi_test_{number}",
            "status": "open", "payment_status": "unpaid", "amount_total": amount,
            "currency": form["line_items[0][price_data][currency]"],
            "description": form["line_items[0][price_data][product_data][name]"],
            "client_reference_id": form.get("client_reference_id"),
            "success_url": form["success_url"], "cancel_url": form["cancel_url"],
            "expires_at": int(form["expires_at"]) if form.get("expires_at") else None,
            "metadata": {k[len("metadata["):-1]: v for k, v in form.items()
                         if k.startswith("metadata[")},
            "amount_refunded": 0,
        }
        self.sessions[session_id] = session
        return 200, session

    def create_refund(self, form):
        session = next((s for s in self.sessions.values()
                        if s["payment_intent"] == form.get("payment_intent")), None)
        if session is None or session["payment_status"] != "paid":
            return 400, {"error": {"type": "invalid_request_error",
                                   "message": "This PaymentIntent has no successful charge"}}
        amount = int(form.get("amount") or session["amount_total"] - session["amount_refunded"])
        if not 0 < amount <= session["amount_total"] - session["amount_refunded"]:
            return 400, {"error": {"type": "invalid_request_error", "message":
                                   f"Refund amount ({amount}) is greater than what is left"}}
        session["amount_refunded"] += amount
        refund = {"id": f"re_test_{next(self.ids)}", "object": "refund", "amount": amount,
                  "payment_intent": session["payment_intent"], "status": "succeeded",
                  "metadata": {k[len("metadata["):-1]: v for k, v in form.items()
                               if k.startswith("metadata[")}}
        self.refunds[refund["id"]] = refund
        return 200, refund

    # -- the hosted checkout page ----------------------------------------------

    def checkout_page(self, start_response, method, session_id):
        session = self.sessions.get(session_id)
        if session is None:
            return self.reply(start_response, 404, b"<h1>No such checkout</h1>", "text/html")
        if method == "POST":
            self.pay(session_id)
            start_response("303 See Other", [("Location", session["success_url"]),
                                              ("Content-Length", "0")])
            return [b""]
        amount = f"{session['amount_total'] / 100:.2f} {session['currency'].upper()}"
        page = (f"<!doctype html><title>Fake checkout</title><h1>Pay {html.escape(amount)}</h1>"
                f"<p>{html.escape(session['description'])}</p>"
                f"<form method='post' action='/pay/{session_id}'>"
                f"<button type='submit'>Pay</button></form>"
                f"<a href='{html.escape(session['cancel_url'])}'>Cancel</a>")
        return self.reply(start_response, 200, page.encode(), "text/html; charset=utf-8")

    # -- events and webhooks ---------------------------------------------------

    def pay(self, session_id, deliver=True):
        """Mark the session paid; deliver ``checkout.session.completed``."""
        with self.lock:
            session = self.sessions[session_id]
            session.update(status="complete", payment_status="paid")
            event = self.event("checkout.session.completed", dict(session))
        if deliver:
            self.deliver(event, times=2 if self.deliver_twice else 1)
        return event

    def expire(self, session_id, deliver=True):
        with self.lock:
            session = self.sessions[session_id]
            session.update(status="expired")
            event = self.event("checkout.session.expired", dict(session))
        if deliver:
            self.deliver(event)
        return event

    def event(self, kind, obj, event_id=None):
        return {"id": event_id or f"evt_test_{next(self.ids)}", "object": "event",
                "type": kind, "created": int(self.clock()), "data": {"object": obj}}

    def signed(self, event, timestamp=None, secret=None):
        """``(body, headers)`` of ``event`` signed at ``timestamp``."""
        body = json.dumps(event).encode()
        timestamp = int(self.clock()) if timestamp is None else timestamp
        return body, {"Content-Type": "application/json",
                      "Stripe-Signature": sign(secret or self.webhook_secret, body, timestamp)}

    def deliver(self, event, times=1):
        """POST the signed event to the app ``times`` times; the statuses."""
        statuses = []
        for _ in range(times):
            body, headers = self.signed(event)
            response = requests.post(self.app_url + WEBHOOK_PATH, data=body, headers=headers,
                                     timeout=30)
            statuses.append(response.status_code)
            with self.lock:
                self.deliveries.append((event["id"], response.status_code, response.text))
        return statuses

    # -- plumbing --------------------------------------------------------------

    @staticmethod
    def reply(start_response, status, body, content_type="application/json"):
        reasons = {200: "OK", 303: "See Other", 400: "Bad Request", 401: "Unauthorized",
                   404: "Not Found", 500: "Internal Server Error"}
        start_response(f"{status} {reasons.get(status, 'Error')}",
                       [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    def error(self, start_response, status, message):
        kind = "api_error" if status >= 500 else "invalid_request_error"
        body = json.dumps({"error": {"type": kind, "message": message}}).encode()
        return self.reply(start_response, status, body)


@contextlib.contextmanager
def running(**options):
    """A :class:`FakeStripe` served on 127.0.0.1 (a free port)."""
    fake = FakeStripe(**options)
    with serve(fake) as url:
        fake.url = url
        try:
            yield fake
        finally:
            with fake.late:
                fake.late.wait_for(lambda: fake.held_back == 0, timeout=fake.delay + 5)
            time.sleep(0.05)  # let the late answer be written before closing


def stripe_settings(fake, **extra):
    """App settings that point ``booking.payments = stripe`` at ``fake``."""
    return {"booking.payments": "stripe", "booking.payments.url": fake.url,
            "booking.payments.api_key": fake.api_key,
            "booking.payments.webhook_secret": fake.webhook_secret,
            "booking.payments.timeout": "0.5", "booking.payments.retries": "2", **extra}

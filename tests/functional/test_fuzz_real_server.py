"""Bad input of every kind, sent through waitress on a loopback port to every
HTML and JSON route: no answer is a 5xx and the server logs no traceback.

The requests come from a seeded generator (the same run every time, so a
failure can be replayed with its request printed), bounded in count and in
time: malformed and non-UTF-8 bodies, wrong types, huge numbers, long and
control-character strings, NUL bytes, impossible and offset-less dates,
wrong methods and content types, oversized bodies, with and without
credentials."""

import json
import logging
import random
import time

import pytest
import requests

from ..servers import serve

SEED = 20261204
REQUESTS = 1600  # a database; both together make 3,200
SECONDS = 60

STRINGS = [
    "", " ", "a" * 5000, "\x00", "a\x00b", "line\nbreak", "\r\n", "\x07bell", "\u2028",
    "<script>alert(1)</script>", "' OR 1=1 --", "%00", "../../etc/passwd", "ß" * 300,
    "\ud800", "😀" * 50, "2026-02-30", "2026-03-29T02:30", "2026-03-29T02:30:00",
    "2026-13-01T10:00:00+01:00", "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00Z",
    "2026-03-03t10:00:00z", "2026-03-03T10:00:00+25:00", "-1", "1e309", "NaN",
]
NUMBERS = [0, -1, 1, 2**31, 2**63, -(2**63), 10**100, 1.5, float("1e308"), True, None]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]
CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded",
                 "multipart/form-data", "multipart/form-data; boundary=x", "text/plain",
                 "application/json; charset=latin-1", ""]
FIELDS = ["start", "seats", "note", "resource_id", "reason", "refund", "email", "password",
          "name", "phone", "when", "resource", "amount", "refund_reason", "from", "to",
          "status", "limit", "offset", "q", "latitude", "longitude", "radius", "address",
          "scope", "starts_at", "ends_at", "decision", "csrf_token", "key", "time_zone",
          "capacity", "slot_minutes", "price", "kind", "description", "role", "venue"]


def routes(world):
    venue, court, slug = world.venue_id, world.court_id, world.slug
    resource = f"/t/{slug}/venues/{venue}/resources/{court}/"
    manage = f"/t/{slug}/manage/"
    api = f"/api/v1/t/{slug}"
    return [
        "/", "/login", "/logout", "/register", "/account/", "/account/password", "/near",
        "/signup", "/reset/", "/reset/forgot", "/invitations/x", "/feeds/x.ics", "/admin/",
        "/admin/audit", f"/t/{slug}/", f"/t/{slug}/venues/{venue}/", resource,
        resource + "book", resource + "review", resource + "confirm", resource + "availability",
        f"/t/{slug}/bookings/", f"/t/{slug}/bookings/1/", f"/t/{slug}/bookings/1/cancel",
        f"/t/{slug}/bookings/1/reschedule", f"/t/{slug}/bookings/1/pay",
        f"/t/{slug}/bookings/1/booking.ics", manage, manage + "settings",
        manage + "bookings/", manage + "bookings/new", manage + "bookings/export.csv",
        manage + "bookings/1/", manage + "bookings/1/cancel", manage + "bookings/1/move",
        manage + "bookings/1/refund", manage + "bookings/1/confirm",
        manage + f"venues/{venue}/", manage + f"venues/{venue}/closures/",
        manage + f"venues/{venue}/resources/", manage + f"venues/{venue}/hours",
        manage + "venues/new", manage + "people/", manage + "people/invite",
        manage + "messages/", manage + "feeds", manage + "deletion",
        "/api/v1/tokens", "/api/v1/tokens/current", api, api + "/venues",
        f"{api}/venues/{venue}/resources", f"{api}/venues/{venue}/resources/{court}/availability",
        f"{api}/venues/{venue}/resources/{court}/alternatives", api + "/bookings",
        api + "/bookings/1", api + "/bookings/1/cancel", api + "/bookings/1/reschedule",
        "/api/v1/near", "/api/v1/payments/stripe/webhook", "/api/v1/payments/x/webhook",
    ]


def value(rng):
    return rng.choice([rng.choice(STRINGS), rng.choice(NUMBERS), [rng.choice(STRINGS)],
                       {"a": rng.choice(NUMBERS)}])


def body(rng):
    """``(bytes, content type)`` of one bad body."""
    kind = rng.randrange(8)
    fields = {rng.choice(FIELDS): value(rng) for _ in range(rng.randrange(1, 6))}
    if kind == 0:
        return b"\xff\xfe\x00not utf-8", rng.choice(CONTENT_TYPES)
    if kind == 1:
        return b'{"start": ', "application/json"
    if kind == 2:
        return b"x" * (1024 * 1024 + 7), rng.choice(CONTENT_TYPES)
    if kind in (3, 4):
        return json.dumps(fields, default=str).encode(), rng.choice(CONTENT_TYPES)
    if kind == 5:
        return json.dumps(rng.choice(NUMBERS)).encode(), "application/json"
    form = "&".join(f"{name}={quoted(str(text))}" for name, text in fields.items())
    return form.encode(), rng.choice(CONTENT_TYPES)


def quoted(text):
    """``text`` percent-encoded, lone surrogates too (as bytes no UTF-8 allows)."""
    return requests.utils.quote(text.encode("utf-8", "surrogatepass"), safe="")


def query(rng):
    if rng.random() < 0.5:
        return ""
    pairs = [(rng.choice(FIELDS), str(rng.choice(STRINGS + NUMBERS)))
             for _ in range(rng.randrange(1, 4))]
    return "?" + "&".join(f"{name}={quoted(text)}" for name, text in pairs)


class Tracebacks(logging.Handler):
    """Every record logged with an exception."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        if record.exc_info or "Traceback" in record.getMessage():
            self.records.append(record)


@pytest.fixture
def tracebacks():
    handler = Tracebacks()
    logging.getLogger().addHandler(handler)
    yield handler.records
    logging.getLogger().removeHandler(handler)


def test_no_bad_input_gets_a_5xx_through_waitress(app, world, tracebacks):
    rng = random.Random(SEED)
    paths = routes(world)
    credentials = [{}, {"Authorization": f"Bearer {world.tokens['customer']}"},
                   {"Authorization": f"Bearer {world.tokens['owner']}"},
                   {"Authorization": "Bearer not-a-token"}]
    failures, sent = [], 0
    deadline = time.monotonic() + SECONDS
    with serve(app) as url, requests.Session() as http:
        while sent < REQUESTS and time.monotonic() < deadline:
            method = rng.choice(METHODS)
            path = rng.choice(paths) + query(rng)
            headers = dict(rng.choice(credentials))
            data = None
            if method != "GET":
                data, content_type = body(rng)
                if content_type:
                    headers["Content-Type"] = content_type
            request = (method, path, headers.get("Content-Type"), (data or b"")[:200])
            try:
                status = http.request(method, url + path, data=data, headers=headers,
                                      timeout=20, allow_redirects=False).status_code
            except requests.Timeout:
                status = "no answer in 20 s"
            sent += 1
            if status == "no answer in 20 s" or status >= 500:
                failures.append((*request, status))
        logged = [logging.Formatter().format(record) for record in tracebacks]  # not the shutdown's
    assert failures == []
    assert sent == REQUESTS, f"only {sent} requests in {SECONDS} s"
    assert logged == []

"""Helpers for driving the JSON API through WebTest."""

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
TOMORROW = date(2026, 3, 3)
IN_A_WEEK = date(2026, 3, 9)


def at(day, hour, minute=0, zone=PARIS):
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).isoformat()


def bearer(world, who):
    return {"Authorization": f"Bearer {world.tokens[who]}"}


def post_json(testapp, url, body, who=None, world=None, status=None, headers=None):
    headers = dict(headers or {})
    if who:
        headers.update(bearer(world, who))
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return testapp.post(url, raw, headers={"Content-Type": "application/json", **headers},
                        status=status)


def book(testapp, world, who="customer", resource="court", start=None, status=201, **extra):
    body = {"resource_id": getattr(world, f"{resource}_id"),
            "start": start or at(TOMORROW, 10), **extra}
    return post_json(testapp, f"/api/v1/t/{world.slug}/bookings", body, who, world, status)

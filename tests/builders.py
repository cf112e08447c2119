"""Plain builder functions for test data. Each takes a session and returns
the row it made, flushed; defaults make a bookable world with one call."""

import functools
import itertools
from datetime import UTC, datetime, timedelta

from booking.models import (
    Closure,
    Membership,
    OpeningHours,
    Resource,
    Tenant,
    User,
    Venue,
)
from booking.passwords import hash_password
from booking.security import new_api_token

PASSWORD = "correct-horse-battery"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_counter = itertools.count(1)


@functools.cache
def password_hash():
    return hash_password(PASSWORD)


def _add(session, row):
    session.add(row)
    session.flush()
    return row


def tenant(session, slug=None, time_zone="Europe/Paris", **kw):
    n = next(_counter)
    kw.setdefault("name", f"Tenant {n}")
    kw.setdefault("currency", "EUR")
    kw.setdefault("cancellation_window_minutes", 24 * 60)
    return _add(session, Tenant(slug=slug or f"tenant-{n}", time_zone=time_zone,
                                created_at=EPOCH, **kw))


def venue(session, tenant, hours="every day 08:00-20:00", **kw):
    """A venue; ``hours`` is ``"every day HH:MM-HH:MM"`` or a list of
    ``(weekday, opens_minute, closes_minute)``."""
    kw.setdefault("name", f"Venue {next(_counter)}")
    row = _add(session, Venue(tenant_id=tenant.id, created_at=EPOCH, **kw))
    for weekday, opens, closes in parse_hours(hours):
        session.add(OpeningHours(tenant_id=tenant.id, venue_id=row.id, weekday=weekday,
                                 opens_minute=opens, closes_minute=closes))
    session.flush()
    return row


def parse_hours(hours):
    if not hours:
        return []
    if isinstance(hours, str):
        _, _, span = hours.rpartition(" ")
        opens, closes = (minutes(part) for part in span.split("-"))
        return [(weekday, opens, closes) for weekday in range(7)]
    return list(hours)


def minutes(hhmm):
    hours_part, minutes_part = hhmm.split(":")
    return int(hours_part) * 60 + int(minutes_part)


def resource(session, venue, **kw):
    kw.setdefault("name", f"Resource {next(_counter)}")
    kw.setdefault("min_notice_minutes", 0)
    kw.setdefault("max_advance_days", 365)
    hours = kw.pop("hours", None)
    row = _add(session, Resource(tenant_id=venue.tenant_id, venue_id=venue.id, **kw))
    for weekday, opens, closes in parse_hours(hours):
        session.add(OpeningHours(tenant_id=venue.tenant_id, venue_id=venue.id,
                                 resource_id=row.id, weekday=weekday,
                                 opens_minute=opens, closes_minute=closes))
    session.flush()
    return row


def closure(session, venue, starts_at, ends_at, resource=None, reason="Closed"):
    return _add(session, Closure(
        tenant_id=venue.tenant_id, venue_id=venue.id,
        resource_id=resource.id if resource else None,
        starts_at=starts_at, ends_at=ends_at, reason=reason,
    ))


def user(session, email=None, **kw):
    kw.setdefault("name", "Test User")
    kw.setdefault("email_confirmed_at", EPOCH)
    return _add(session, User(email=email or f"user{next(_counter)}@example.test",
                              password_hash=password_hash(), created_at=EPOCH, **kw))


def member(session, tenant, role, venue=None, **kw):
    row = user(session, **kw)
    _add(session, Membership(tenant_id=tenant.id, user_id=row.id, role=role,
                             venue_id=venue.id if venue else None))
    return row


def token(session, user):
    secret, _row = new_api_token(session, user, EPOCH, lifetime=timedelta(days=365))
    return secret


def booking(session, resource, customer, starts_at, minutes=60, status="confirmed", **kw):
    """A booking row as the services would leave it (no guard: the test
    chooses the slot)."""
    from datetime import timedelta

    from booking.models import Booking

    ends_at = starts_at + timedelta(minutes=minutes)
    kw.setdefault("contact_name", customer.name)
    kw.setdefault("contact_phone", customer.phone)
    kw.setdefault("price", 0)
    kw.setdefault("currency", "EUR")
    return _add(session, Booking(
        tenant_id=resource.tenant_id, reference=f"B{next(_counter):07d}", resource_id=resource.id,
        customer_id=customer.id, starts_at=starts_at, ends_at=ends_at, block_start=starts_at,
        block_end=ends_at, seats=1, exclusive=resource.capacity == 1, status=status,
        created_at=EPOCH, updated_at=EPOCH, **kw))


def offer(session, tenant, name="Off-peak", percent=20, **kw):
    """An automatic offer (off-peak by default: every slot unless
    ``weekdays``/``from_minute``/``to_minute`` say otherwise)."""
    from booking.models import Offer

    kw.setdefault("kind", "off_peak")
    kw.setdefault("weekdays", [])
    if "amount" in kw:
        percent = None
    return _add(session, Offer(tenant_id=tenant.id, name=name, percent=percent,
                               created_at=EPOCH, **kw))


def promo_code(session, tenant, code="SPRING20", percent=20, **kw):
    """A promo code (kept upper-case, as the service finds it)."""
    from booking.models import PromoCode

    kw.setdefault("weekdays", [])
    kw.setdefault("venue_ids", [])
    kw.setdefault("resource_ids", [])
    if "amount" in kw:
        percent = None
    return _add(session, PromoCode(tenant_id=tenant.id, code=code.upper(), percent=percent,
                                   created_at=EPOCH, **kw))


def gift_voucher(session, tenant, code="GIFT-ABCD-1234", balance=1000, **kw):
    """A voucher whose code is ``code`` (only its digest is kept)."""
    from booking.models import Voucher
    from booking.services.pricing import voucher_digest

    kw.setdefault("currency", tenant.currency)
    return _add(session, Voucher(tenant_id=tenant.id, digest=voucher_digest(code),
                                 hint=code[-4:], initial=kw.pop("initial", balance),
                                 balance=balance, created_at=EPOCH, **kw))

"""The demo tenants of DESIGN.md, for development databases.

``demo`` (Europe/Paris) and ``harbor`` (America/New_York), each with two
venues, resources (one a class of 10), opening hours, a closure, a few
bookings, and the users owner@, manager@, staff@ and customer@<slug>.test,
all with the password ``demo-password-1``. Loading is idempotent: a tenant
that already exists is left alone. It works in a
:class:`~booking.services.Work`: the example bookings are made by the
``BookingService`` its factory builds, as a view's would be.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..models import (
    Closure,
    Membership,
    Offer,
    OfferKind,
    OpeningHours,
    PromoCode,
    Resource,
    ResourceKind,
    Role,
    Tenant,
    User,
    Venue,
)
from ..passwords import hash_password
from ..services.booking import BookingRequest, BookingService

DEMO_PASSWORD = "demo-password-1"
WEEKDAYS, SATURDAY, SUNDAY = range(5), 5, 6


def hours(*ranges):
    """``hours((days, "08:00", "22:00"), ...)`` → ``[(weekday, opens, closes)]``."""
    rows = []
    for days, opens, closes in ranges:
        days = days if isinstance(days, (list, tuple, range)) else [days]
        o_h, o_m = map(int, opens.split(":"))
        c_h, c_m = map(int, closes.split(":"))
        rows += [(day, o_h * 60 + o_m, c_h * 60 + c_m) for day in days]
    return rows


DEMO_TENANTS = [
    {
        "slug": "demo", "name": "Demo Sports Club", "time_zone": "Europe/Paris",
        "currency": "EUR", "locale": "fr",
        "venues": [
            {
                "name": "Centre Courts", "address": "12 Rue de Rivoli, 75004 Paris",
                "latitude": 48.8556, "longitude": 2.3579,
                "hours": hours((WEEKDAYS, "08:00", "22:00"), ([SATURDAY, SUNDAY], "09:00", "18:00")),
                "closure": (7, "Floor maintenance"),
                "resources": [
                    {"name": "Court 1", "kind": ResourceKind.COURT, "price": 2000},
                    {"name": "Court 2", "kind": ResourceKind.COURT, "price": 2000},
                    {"name": "Yoga class", "kind": ResourceKind.CLASS, "capacity": 10,
                     "price": 1200,
                     "hours": hours(([0, 2, 4], "18:00", "20:00"), (SATURDAY, "10:00", "12:00"))},
                ],
            },
            {
                "name": "Riverside Studio", "address": "5 Quai de la Tournelle, 75005 Paris",
                "latitude": 48.8510, "longitude": 2.3540,
                "hours": hours((range(6), "09:00", "19:00")),
                "resources": [
                    {"name": "Meeting room", "kind": ResourceKind.ROOM, "slot_minutes": 30,
                     "price": 1500},
                    {"name": "Treatment room", "kind": ResourceKind.APPOINTMENT,
                     "slot_minutes": 45, "buffer_after_minutes": 15, "price": 6000},
                ],
            },
        ],
    },
    {
        "slug": "harbor", "name": "Harbor Wellness", "time_zone": "America/New_York",
        "currency": "USD", "locale": "en",
        "venues": [
            {
                "name": "Pier 9 Studio", "address": "Pier 9, New York, NY 10004",
                "latitude": 40.7033, "longitude": -74.0120,
                "hours": hours((WEEKDAYS, "07:00", "21:00"), (SATURDAY, "08:00", "16:00")),
                "resources": [
                    {"name": "Spin class", "kind": ResourceKind.CLASS, "capacity": 10,
                     "slot_minutes": 45, "price": 2500},
                    {"name": "Sauna", "kind": ResourceKind.ROOM, "price": 3000},
                ],
            },
            {
                "name": "Uptown Clinic", "address": "200 W 79th St, New York, NY 10024",
                "latitude": 40.7831, "longitude": -73.9790,
                "hours": hours((WEEKDAYS, "09:00", "18:00")),
                "closure": (3, "Staff training"),
                "resources": [
                    {"name": "Consultation", "kind": ResourceKind.APPOINTMENT,
                     "slot_minutes": 30, "price": 8000},
                    {"name": "Massage room", "kind": ResourceKind.APPOINTMENT,
                     "slot_minutes": 50, "buffer_after_minutes": 10, "price": 11000},
                ],
            },
        ],
    },
]


def _user(dbsession, email, name, password_hash, now):
    user = dbsession.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=name, password_hash=password_hash, created_at=now,
                    email_confirmed_at=now)
        dbsession.add(user)
        dbsession.flush()
    return user


def _load_tenant(dbsession, spec, now, password_hash, bookings):
    tenant = Tenant(
        slug=spec["slug"], name=spec["name"], time_zone=spec["time_zone"],
        currency=spec["currency"], locale=spec["locale"], created_at=now,
    )
    dbsession.add(tenant)
    dbsession.flush()
    zone = ZoneInfo(spec["time_zone"])
    resources = []
    for venue_spec in spec["venues"]:
        venue = Venue(
            tenant_id=tenant.id, name=venue_spec["name"], address=venue_spec["address"],
            latitude=venue_spec["latitude"], longitude=venue_spec["longitude"], created_at=now,
            # Typed coordinates: the demo needs no geocoder and never asks one.
            location_status="manual", located_at=now,
        )
        dbsession.add(venue)
        dbsession.flush()
        for weekday, opens, closes in venue_spec["hours"]:
            dbsession.add(OpeningHours(tenant_id=tenant.id, venue_id=venue.id, weekday=weekday,
                                       opens_minute=opens, closes_minute=closes))
        if "closure" in venue_spec:
            days_ahead, reason = venue_spec["closure"]
            day = now.astimezone(zone).date() + timedelta(days=days_ahead)
            dbsession.add(Closure(
                tenant_id=tenant.id, venue_id=venue.id, reason=reason,
                starts_at=datetime.combine(day, time(0), tzinfo=zone),
                ends_at=datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone),
            ))
        for resource_spec in venue_spec["resources"]:
            resource_spec = dict(resource_spec)
            own_hours = resource_spec.pop("hours", None)
            resource = Resource(tenant_id=tenant.id, venue_id=venue.id, **resource_spec)
            dbsession.add(resource)
            dbsession.flush()
            for weekday, opens, closes in own_hours or ():
                dbsession.add(OpeningHours(
                    tenant_id=tenant.id, venue_id=venue.id, resource_id=resource.id,
                    weekday=weekday, opens_minute=opens, closes_minute=closes,
                ))
            resources.append(resource)

    slug = spec["slug"]
    first_venue = resources[0].venue_id
    people = {}
    for role, name in [(Role.OWNER, "Olivia Owner"), (Role.MANAGER, "Max Manager"),
                       (Role.STAFF, "Sam Staff"), (None, "Chris Customer")]:
        label = role.value if role else "customer"
        user = _user(dbsession, f"{label}@{slug}.test", name, password_hash, now)
        people[label] = user
        if role is not None:
            dbsession.add(Membership(
                tenant_id=tenant.id, user_id=user.id, role=role,
                venue_id=first_venue if role == Role.STAFF else None,
            ))
    dbsession.flush()
    _add_promotions(dbsession, tenant, now)
    _book_examples(bookings, tenant, resources, people["customer"], now)
    return tenant


def _add_promotions(dbsession, tenant, now):
    """An off-peak offer (weekday mornings, −20 %) and a welcome code
    (``WELCOME10``: −10 % on a first booking), so the demo shows both."""
    dbsession.add(Offer(tenant_id=tenant.id, name="Off-peak mornings", kind=OfferKind.OFF_PEAK,
                        percent=20, weekdays=[0, 1, 2, 3, 4], from_minute=8 * 60,
                        to_minute=11 * 60, created_at=now))
    dbsession.add(PromoCode(tenant_id=tenant.id, code="WELCOME10", percent=10,
                            first_booking_only=True, created_at=now))


def _book_examples(service, tenant, resources, customer, now):
    """A few bookings tomorrow, so calendars show something taken."""
    for resource in resources[:3]:
        free = service.availability.free_slots(
            resource, now.date() + timedelta(days=1), now.date() + timedelta(days=6)
        )
        if free:
            service.book(BookingRequest(tenant, resource, customer, free[len(free) // 2].start,
                                        actor_id=customer.id, note="Demo booking"))


def load_demo(work):
    """Load the demo tenants that are missing, in ``work`` (a
    :class:`~booking.services.Work`); return their slugs."""
    dbsession, now = work.dbsession, work.now
    loaded = []
    password_hash = None
    for spec in DEMO_TENANTS:
        if dbsession.scalar(select(Tenant.id).where(Tenant.slug == spec["slug"])) is not None:
            continue
        password_hash = password_hash or hash_password(DEMO_PASSWORD)
        _load_tenant(dbsession, spec, now, password_hash, work.find_service(BookingService))
        loaded.append(spec["slug"])
    return loaded

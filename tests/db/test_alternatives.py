"""Alternatives to a taken slot, on deterministic data: each group's
ranking and limit, capacity, inactive resources, other tenants."""

from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import transaction
from sqlalchemy.exc import IntegrityError

from booking.models import Booking, Resource, Tenant, User, get_tm_session
from booking.services import BookingService
from booking.services.booking import BookingRequest
from booking.services.alternatives import AlternativesFinder

from .. import builders as b
from ..conftest import NOW

PARIS_ZONE = ZoneInfo("Europe/Paris")


def tomorrow(hour):
    """``hour`` o'clock in Paris on Tuesday 3 March 2026."""
    return datetime(2026, 3, 3, hour, tzinfo=PARIS_ZONE)


WANTED = tomorrow(10)


def located(s, tenant, name, point=None):
    extra = {"latitude": point[0], "longitude": point[1]} if point else {}
    return b.venue(s, tenant, name=name, **extra)


@pytest.fixture
def club(db):
    """Courts at the Centre (Paris) and at four other venues: Versailles
    (18 km), Lyon (391 km), and Annexe and Zed without coordinates; a rival
    business with a free court at the very same place."""
    with db.session() as s:
        tenant = b.tenant(s, slug="club")
        centre = located(s, tenant, "Centre", (48.8566, 2.3522))
        ids = {
            "wanted": b.resource(s, centre, name="A court", kind="court", price=2000).id,
            "same_price": b.resource(s, centre, name="B court", kind="court", price=2000).id,
            "dearer": b.resource(s, centre, name="C court", kind="court", price=3000).id,
            "inactive": b.resource(s, centre, name="D court", kind="court", price=2000,
                                   active=False).id,
            "cheaper": b.resource(s, centre, name="E court", kind="court", price=1000).id,
            "room": b.resource(s, centre, name="Room", kind="room", price=2000).id,
        }
        for name, point in [("Versailles", (48.8049, 2.1204)), ("Lyon", (45.7640, 4.8357)),
                            ("Zed", None), ("Annexe", None)]:
            venue = located(s, tenant, name, point)
            ids[name] = b.resource(s, venue, name=f"{name} court", kind="court").id
        rival = b.tenant(s, slug="rival")
        rival_venue = located(s, rival, "Rival centre", (48.8566, 2.3522))
        ids["rival"] = b.resource(s, rival_venue, name="Rival court", kind="court").id
        customer = b.user(s).id
        return SimpleNamespace(db=db, tenant_id=tenant.id, customer=customer, **ids)


def book(club, resource, start, seats=1):
    with club.db.session() as s:
        resource = s.get(Resource, resource)
        BookingService(s, NOW).book(BookingRequest(s.get(Tenant, resource.tenant_id), resource,
                                    s.get(User, club.customer), start, seats))


def find(club, resource="wanted", start=WANTED, seats=1, limit=3):
    """``{group: [(resource_id, start, seats_left, distance_km)]}``."""
    with club.db.session() as s:
        found = AlternativesFinder(s, NOW).find(
            s.get(Resource, getattr(club, resource) if isinstance(resource, str) else resource),
            start, seats, limit)
        return {
            group: [(a.resource.id, a.start, a.seats_left, a.distance_km)
                    for a in getattr(found, group)]
            for group in ("same_resource", "same_venue", "other_venues")
        }


def starts(items):
    return [start for _, start, _, _ in items]


def resources(items):
    return [resource_id for resource_id, _, _, _ in items]


def test_same_resource_offers_the_nearest_times_earlier_first_on_a_tie(club):
    book(club, club.wanted, WANTED)
    book(club, club.wanted, tomorrow(11))
    found = find(club)["same_resource"]
    assert starts(found) == [tomorrow(9), tomorrow(8), tomorrow(12)]


def test_same_resource_respects_the_limit(club):
    book(club, club.wanted, WANTED)
    assert starts(find(club, limit=1)["same_resource"]) == [tomorrow(9)]


def test_same_venue_ranks_by_price_then_capacity_then_name(club):
    book(club, club.wanted, WANTED)
    found = find(club, limit=5)["same_venue"]
    assert resources(found) == [club.same_price, club.dearer, club.cheaper]
    assert starts(found) == [WANTED] * 3


def test_same_venue_leaves_out_inactive_other_kinds_and_taken_resources(club):
    book(club, club.wanted, WANTED)
    book(club, club.same_price, WANTED)
    found = resources(find(club)["same_venue"])
    assert found == [club.dearer, club.cheaper]
    assert club.inactive not in found and club.room not in found


def test_same_venue_respects_the_limit(club):
    assert resources(find(club, limit=2)["same_venue"]) == [club.same_price, club.dearer]


def test_other_venues_nearest_first_then_unlocated_by_name(club):
    found = find(club)["other_venues"]
    assert resources(found) == [club.Versailles, club.Lyon, club.Annexe]
    distances = [distance for _, _, _, distance in found]
    assert distances[0] == pytest.approx(17.9, abs=0.5)
    assert distances[1] == pytest.approx(391, abs=2)
    assert distances[2] is None


def test_other_venues_skip_a_venue_whose_resource_is_taken(club):
    book(club, club.Versailles, WANTED)
    assert resources(find(club)["other_venues"]) == [club.Lyon, club.Annexe, club.Zed]


def test_other_venues_skip_inactive_resources(club):
    with club.db.session() as s:
        s.get(Resource, club.Lyon).active = False
    assert resources(find(club)["other_venues"]) == [club.Versailles, club.Annexe, club.Zed]


def test_other_tenants_are_never_offered(club):
    found = find(club, limit=10)
    every = [rid for group in found.values() for rid in resources(group)]
    assert club.rival not in every
    assert set(every) <= {club.wanted, club.same_price, club.dearer, club.cheaper,
                          club.Versailles, club.Lyon, club.Annexe, club.Zed}


@pytest.fixture
def classes(db):
    """Classes of 10, 3, 5 (2 places taken at the wanted time) and 8."""
    with db.session() as s:
        tenant = b.tenant(s)
        venue = b.venue(s, tenant, name="Studio")
        ids = {name: b.resource(s, venue, name=name, kind="class", capacity=capacity).id
               for name, capacity in [("Yoga", 10), ("Small", 3), ("Half full", 5),
                                      ("Pilates", 8)]}
        return SimpleNamespace(db=db, customer=b.user(s).id, **ids)


def test_same_venue_offers_only_resources_with_the_seats_wanted(classes):
    book(classes, classes.Yoga, WANTED, seats=10)
    book(classes, getattr(classes, "Half full"), WANTED, seats=2)
    found = find(classes, resource=classes.Yoga, seats=4)["same_venue"]
    assert [(rid, left) for rid, _, left, _ in found] == [(classes.Pilates, 8)]


def test_same_resource_offers_only_times_with_the_seats_wanted(classes):
    book(classes, classes.Yoga, WANTED, seats=10)
    book(classes, classes.Yoga, tomorrow(9), seats=8)
    found = find(classes, resource=classes.Yoga, seats=4)["same_resource"]
    assert starts(found)[0] == tomorrow(11)
    assert all(left >= 4 for _, _, left, _ in found)


def test_nothing_in_the_past_is_offered(club):
    now_paris = NOW.astimezone(PARIS_ZONE)
    found = find(club, start=now_paris.replace(minute=0) + timedelta(hours=1))
    assert all(start >= NOW for group in found.values() for start in starts(group))


def test_alternatives_found_after_the_booking_flush_failed(club):
    """PostgreSQL's exclusion constraint fails the flush of a booking; the
    request's session must be rolled back, and the 409 still offers times."""
    book(club, club.wanted, WANTED)
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    try:
        session = get_tm_session(club.db.session_factory, manager)
        wanted = session.get(Resource, club.wanted)
        session.add(Booking(tenant_id=club.tenant_id, reference="BAD", resource_id=wanted.id,
                            customer_id=club.customer, starts_at=WANTED, ends_at=WANTED,
                            block_start=WANTED, block_end=WANTED, seats=0, status="confirmed",
                            currency="EUR", created_at=NOW, updated_at=NOW))
        with pytest.raises(IntegrityError):
            session.flush()
        manager.doom()
        found = AlternativesFinder(session, NOW).find(wanted, WANTED, 1)
        assert [a.start for a in found.same_resource] == [tomorrow(9), tomorrow(11), tomorrow(8)]
        assert found.other_venues[0].resource.venue.name == "Versailles"
        assert wanted.venue.name == "Centre"  # the page can still show it
    finally:
        manager.abort()

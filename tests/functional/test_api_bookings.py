"""Create, list, read, cancel and reschedule bookings through the API."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from booking.models import AuditLog, Booking, Resource, Tenant, User
from booking.services.booking import BookingRequest, BookingService

from .. import builders as b
from ..conftest import NOW
from .api import IN_A_WEEK, TOMORROW, at, bearer, book, post_json


def count_bookings(world, *where):
    with world.db.session() as s:
        return s.scalar(select(func.count()).select_from(Booking).where(*where))


def test_create_booking_returns_contract_shape(testapp, world):
    body = book(testapp, world, start=at(TOMORROW, 10)).json
    assert {k: body[k] for k in ("status", "resource_id", "start", "end", "seats")} == {
        "status": "confirmed", "resource_id": world.court_id,
        "start": at(TOMORROW, 10), "end": at(TOMORROW, 11), "seats": 1,
    }
    assert isinstance(body["id"], int)


def test_create_booking_locks_the_resource_as_it_loads_it(testapp, world):
    """The guard's lock rides on the resource's load: one locking statement,
    which locks the resource's row only (not its venue's or tenant's)."""
    sent = []

    def record(conn, cursor, statement, *args):
        sent.append(" ".join(statement.split()))

    # The token's first use is recorded (last_used_at); later ones, for five
    # minutes, write nothing: count those.
    testapp.get(f"/api/v1/t/{world.slug}/bookings",
                headers={"Authorization": f"Bearer {world.tokens['customer']}"})
    event.listen(Engine, "before_cursor_execute", record)
    try:
        book(testapp, world, start=at(TOMORROW, 10))
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    locking = [s for s in sent if "FOR UPDATE" in s]
    if world.db.backend == "postgresql":
        assert len(locking) == 1 and locking[0].startswith("SELECT resources.id, ")
        assert locking[0].endswith("FOR UPDATE OF resources")
    else:  # the write transaction (BEGIN IMMEDIATE) is SQLite's lock
        assert locking == []
    # tenant, identity, resource (locked), its hours + closures + bookings in one
    # union, the booking, its audit row, its email (no offers to read: the
    # tenant never made one); SQLite adds BEGIN IMMEDIATE
    assert len(sent) == (7 if world.db.backend == "postgresql" else 8)


def test_create_booking_taken_slot_is_409(testapp, world):
    book(testapp, world)
    response = book(testapp, world, who="other_customer", status=409)
    assert response.json["error"]["code"] == "conflict"
    assert response.json["error"]["field"] == "start"
    assert count_bookings(world) == 1


def test_create_booking_requires_sign_in(testapp, world):
    response = post_json(testapp, f"/api/v1/t/{world.slug}/bookings",
                         {"resource_id": world.court_id, "start": at(TOMORROW, 10)}, status=401)
    assert response.json["error"]["code"] == "unauthorized"


def test_idempotency_key_replays_the_first_response(testapp, world):
    first = post_json(
        testapp, f"/api/v1/t/{world.slug}/bookings",
        {"resource_id": world.court_id, "start": at(TOMORROW, 10)}, "customer", world, 201,
        headers={"Idempotency-Key": "abc-123"})
    again = post_json(
        testapp, f"/api/v1/t/{world.slug}/bookings",
        {"resource_id": world.court_id, "start": at(TOMORROW, 10)}, "customer", world, 201,
        headers={"Idempotency-Key": "abc-123"})
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count_bookings(world) == 1


def test_resource_of_another_tenant_cannot_be_booked(testapp, world):
    response = post_json(testapp, f"/api/v1/t/{world.slug}/bookings",
                         {"resource_id": world.rival_court_id, "start": at(TOMORROW, 10)},
                         "customer", world, 400)
    assert response.json["error"]["field"] == "resource_id"
    assert count_bookings(world) == 0


def test_list_shows_customer_only_their_own(testapp, world):
    mine = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
    book(testapp, world, who="other_customer", start=at(TOMORROW, 11))
    listed = testapp.get(f"/api/v1/t/{world.slug}/bookings", headers=bearer(world, "customer")).json
    assert [b["id"] for b in listed["bookings"]] == [mine]


def test_list_shows_venue_staff_their_venue(testapp, world):
    centre = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
    book(testapp, world, resource="annexe_room", start=at(TOMORROW, 10))
    listed = testapp.get(f"/api/v1/t/{world.slug}/bookings", headers=bearer(world, "staff")).json
    assert [b["id"] for b in listed["bookings"]] == [centre]


def test_list_shows_owner_everything(testapp, world):
    book(testapp, world, start=at(TOMORROW, 10))
    book(testapp, world, resource="annexe_room", who="other_customer", start=at(TOMORROW, 10))
    listed = testapp.get(f"/api/v1/t/{world.slug}/bookings", headers=bearer(world, "owner")).json
    assert len(listed["bookings"]) == 2


def test_list_filters_by_status_and_dates(testapp, world):
    booking_id = book(testapp, world, start=at(IN_A_WEEK, 10)).json["id"]
    book(testapp, world, start=at(TOMORROW, 10))
    post_json(testapp, f"/api/v1/t/{world.slug}/bookings/{booking_id}/cancel", {}, "customer", world)
    url = f"/api/v1/t/{world.slug}/bookings"
    headers = bearer(world, "customer")
    assert [b["id"] for b in testapp.get(url, {"status": "cancelled"}, headers=headers).json["bookings"]] == [booking_id]
    week = testapp.get(url, {"from": IN_A_WEEK.isoformat(), "to": IN_A_WEEK.isoformat()}, headers=headers)
    assert [b["id"] for b in week.json["bookings"]] == [booking_id]


def test_list_rejects_unknown_status(testapp, world):
    response = testapp.get(f"/api/v1/t/{world.slug}/bookings", {"status": "lost"},
                           headers=bearer(world, "customer"), status=400)
    assert response.json["error"]["field"] == "status"


def test_get_own_booking(testapp, world):
    booking_id = book(testapp, world).json["id"]
    body = testapp.get(f"/api/v1/t/{world.slug}/bookings/{booking_id}", headers=bearer(world, "customer")).json
    assert body["id"] == booking_id


def test_other_customers_booking_is_404(testapp, world):
    booking_id = book(testapp, world).json["id"]
    testapp.get(f"/api/v1/t/{world.slug}/bookings/{booking_id}",
                headers=bearer(world, "other_customer"), status=404)


def test_booking_through_another_tenant_is_404(testapp, world):
    booking_id = book(testapp, world).json["id"]
    testapp.get(f"/api/v1/t/{world.other_slug}/bookings/{booking_id}",
                headers=bearer(world, "other_tenant_owner"), status=404)
    testapp.get(f"/api/v1/t/{world.other_slug}/bookings/{booking_id}",
                headers=bearer(world, "customer"), status=404)


def test_cancel_inside_window(testapp, world):
    booking_id = book(testapp, world, start=at(IN_A_WEEK, 10)).json["id"]
    body = post_json(testapp, f"/api/v1/t/{world.slug}/bookings/{booking_id}/cancel",
                     {"reason": "Cannot come"}, "customer", world).json
    assert body["status"] == "cancelled"


def test_cancel_accepts_an_empty_body(testapp, world):
    booking_id = book(testapp, world, start=at(IN_A_WEEK, 10)).json["id"]
    testapp.post(f"/api/v1/t/{world.slug}/bookings/{booking_id}/cancel",
                 headers=bearer(world, "customer"), status=200)


def test_cancel_outside_window_is_403_with_reason(testapp, world, clock):
    booking_id = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
    clock.advance(timedelta(hours=2))
    response = post_json(testapp, f"/api/v1/t/{world.slug}/bookings/{booking_id}/cancel",
                         {}, "customer", world, 403)
    assert "cancellation window has closed" in response.json["error"]["message"]
    assert count_bookings(world, Booking.status == "confirmed") == 1


def test_staff_cancels_outside_window(testapp, world, clock):
    booking_id = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
    clock.advance(timedelta(hours=2))
    post_json(testapp, f"/api/v1/t/{world.slug}/bookings/{booking_id}/cancel",
              {"reason": "Court flooded"}, "staff", world, 200)


def test_staff_of_other_venue_cannot_cancel(testapp, world):
    booking_id = book(testapp, world, start=at(IN_A_WEEK, 10)).json["id"]
    post_json(testapp, f"/api/v1/t/{world.slug}/bookings/{booking_id}/cancel",
              {}, "other_venue_staff", world, 404)


def test_cancel_already_cancelled_is_403_with_status(testapp, world):
    booking_id = book(testapp, world, start=at(IN_A_WEEK, 10)).json["id"]
    url = f"/api/v1/t/{world.slug}/bookings/{booking_id}/cancel"
    post_json(testapp, url, {}, "customer", world, 200)
    response = post_json(testapp, url, {}, "customer", world, 403)
    assert "cancelled" in response.json["error"]["message"]


def test_reschedule_moves_booking(testapp, world):
    booking_id = book(testapp, world, start=at(IN_A_WEEK, 10)).json["id"]
    body = post_json(testapp, f"/api/v1/t/{world.slug}/bookings/{booking_id}/reschedule",
                     {"start": at(IN_A_WEEK, 12)}, "customer", world).json
    assert (body["start"], body["status"]) == (at(IN_A_WEEK, 12), "confirmed")


def test_reschedule_onto_taken_slot_is_409_and_keeps_old(testapp, world):
    booking_id = book(testapp, world, start=at(IN_A_WEEK, 10)).json["id"]
    book(testapp, world, who="other_customer", start=at(IN_A_WEEK, 12))
    post_json(testapp, f"/api/v1/t/{world.slug}/bookings/{booking_id}/reschedule",
              {"start": at(IN_A_WEEK, 12)}, "customer", world, 409)
    body = testapp.get(f"/api/v1/t/{world.slug}/bookings/{booking_id}", headers=bearer(world, "customer")).json
    assert body["start"] == at(IN_A_WEEK, 10)


def test_reschedule_to_other_resource(testapp, world):
    booking_id = book(testapp, world, start=at(IN_A_WEEK, 10)).json["id"]
    body = post_json(testapp, f"/api/v1/t/{world.slug}/bookings/{booking_id}/reschedule",
                     {"start": at(IN_A_WEEK, 10), "resource_id": world.yoga_id}, "staff", world).json
    assert body["resource_id"] == world.yoga_id


def test_reschedule_outside_window_is_403(testapp, world, clock):
    booking_id = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
    clock.advance(timedelta(hours=1))
    post_json(testapp, f"/api/v1/t/{world.slug}/bookings/{booking_id}/reschedule",
              {"start": at(IN_A_WEEK, 10)}, "customer", world, 403)


def test_every_change_writes_the_audit_log(testapp, world):
    booking_id = book(testapp, world, start=at(IN_A_WEEK, 10)).json["id"]
    post_json(testapp, f"/api/v1/t/{world.slug}/bookings/{booking_id}/reschedule",
              {"start": at(IN_A_WEEK, 11)}, "customer", world)
    post_json(testapp, f"/api/v1/t/{world.slug}/bookings/{booking_id}/cancel", {}, "customer", world)
    with world.db.session() as s:
        actions = s.scalars(select(AuditLog.action).where(AuditLog.target_id == booking_id)
                            .order_by(AuditLog.id)).all()
    assert actions == ["booking.created", "booking.rescheduled", "booking.cancelled"]


def test_venue_staff_cannot_move_booking_out_of_their_venue(testapp, world):
    booking_id = book(testapp, world, start=at(IN_A_WEEK, 10)).json["id"]
    response = post_json(testapp, f"/api/v1/t/{world.slug}/bookings/{booking_id}/reschedule",
                         {"start": at(IN_A_WEEK, 10), "resource_id": world.annexe_room_id},
                         "staff", world, 400)
    assert response.json["error"]["field"] == "resource_id"
    body = testapp.get(f"/api/v1/t/{world.slug}/bookings/{booking_id}", headers=bearer(world, "customer")).json
    assert body["resource_id"] == world.court_id


def test_reschedule_to_other_resource_reprices(testapp, world):
    booking_id = book(testapp, world, start=at(IN_A_WEEK, 10)).json["id"]
    body = post_json(testapp, f"/api/v1/t/{world.slug}/bookings/{booking_id}/reschedule",
                     {"start": at(IN_A_WEEK, 10), "resource_id": world.yoga_id}, "customer", world).json
    assert body["price"] == 1000


def new_york_booking(world):
    """A booking at a venue in New York (the business is in Paris), on the
    evening of IN_A_WEEK there: the next day in Paris."""
    with world.db.session() as s:
        tenant = s.get(Tenant, world.tenant_id)
        venue = b.venue(s, tenant, time_zone="America/New_York", hours="every day 08:00-22:00")
        room = b.resource(s, venue, capacity=1)
        start = datetime(IN_A_WEEK.year, IN_A_WEEK.month, IN_A_WEEK.day, 20,
                         tzinfo=ZoneInfo("America/New_York"))
        booking, _ = BookingService(s, NOW).book(BookingRequest(
            tenant, s.get(Resource, room.id), s.get(User, world.user_ids["customer"]), start))
        return booking.id


def test_list_reads_days_in_the_venues_zone_as_availability_does(testapp, world):
    booking_id = new_york_booking(world)
    url, headers = f"/api/v1/t/{world.slug}/bookings", bearer(world, "customer")
    day = IN_A_WEEK.isoformat()
    listed = testapp.get(url, {"from": day, "to": day}, headers=headers).json["bookings"]
    assert [b["id"] for b in listed] == [booking_id]


def test_list_reads_days_in_the_zone_asked_for(testapp, world):
    booking_id = new_york_booking(world)
    url, headers = f"/api/v1/t/{world.slug}/bookings", bearer(world, "customer")
    day, next_day = IN_A_WEEK.isoformat(), (IN_A_WEEK + timedelta(days=1)).isoformat()
    in_paris = {"tz": "Europe/Paris"}
    assert testapp.get(url, {"from": day, "to": day, **in_paris},
                       headers=headers).json["bookings"] == []
    listed = testapp.get(url, {"from": next_day, **in_paris}, headers=headers).json["bookings"]
    assert [b["id"] for b in listed] == [booking_id]


def test_list_refuses_an_unknown_zone(testapp, world):
    response = testapp.get(f"/api/v1/t/{world.slug}/bookings", {"tz": "Mars/Olympus"},
                           headers=bearer(world, "customer"), status=400)
    assert response.json["error"]["field"] == "tz"

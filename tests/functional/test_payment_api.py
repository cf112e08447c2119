"""Booking through the JSON API when bookings are paid online: the booking
is held and the answer carries the provider's checkout URL; only the
provider's signed webhook confirms it."""

from sqlalchemy import select

from booking.models import Booking, Payment

from .api import IN_A_WEEK, at, book, post_json
from .payments import fake_stripe, payapp, stripe, stripe_apps  # noqa: F401 (fixtures)


def rows(world, model, *columns):
    with world.db.session() as s:
        return [tuple(getattr(row, c) for c in columns) for row in s.scalars(select(model))]


def test_paid_booking_is_held_with_a_checkout_url(payapp, stripe, world):
    body = book(payapp, world, start=at(IN_A_WEEK, 10)).json
    assert body["status"] == "held"
    assert body["payment_status"] == "pending"
    assert body["checkout_url"].startswith(f"{stripe.url}/pay/")
    assert rows(world, Payment, "status", "amount") == [("pending", 2000)]


def test_replayed_request_returns_the_same_checkout(payapp, stripe, world):
    url = f"/api/v1/t/{world.slug}/bookings"
    body = {"resource_id": world.court_id, "start": at(IN_A_WEEK, 10)}
    first = post_json(payapp, url, body, "customer", world, 201, {"Idempotency-Key": "k-1"})
    second = post_json(payapp, url, body, "customer", world, 201, {"Idempotency-Key": "k-1"})
    assert second.json["checkout_url"] == first.json["checkout_url"]
    assert len(stripe.sessions) == 1


def test_provider_down_answers_503_and_keeps_nothing(payapp, stripe, world):
    stripe.fail(500, times=3)
    response = book(payapp, world, start=at(IN_A_WEEK, 10), status=503)
    assert response.json["error"]["code"] == "payment_unavailable"
    assert "nothing was charged" in response.json["error"]["message"]
    assert rows(world, Booking) == [] and rows(world, Payment) == []


def test_free_booking_is_confirmed_without_checkout(payapp, stripe, world):
    body = book(payapp, world, resource="annexe_room", start=at(IN_A_WEEK, 10)).json
    assert body["status"] == "confirmed" and "checkout_url" not in body
    assert stripe.api_calls() == []

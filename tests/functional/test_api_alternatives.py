"""Alternatives to a taken slot through the API (the endpoint and the 409
of POST bookings) and on the site's "slot taken" page."""

from datetime import datetime

import pytest

from .api import IN_A_WEEK, TOMORROW, at, book, post_json
from .site import form_by_action, resource_url, sign_in, start_of


def alternatives_url(world, resource="court", venue=None):
    venue = venue or world.venue_id
    return (f"/api/v1/t/{world.slug}/venues/{venue}/resources/"
            f"{getattr(world, resource + '_id')}/alternatives")


def test_alternatives_endpoint_answers_three_ranked_groups(testapp, world):
    book(testapp, world, start=at(TOMORROW, 10))
    body = testapp.get(alternatives_url(world), {"start": at(TOMORROW, 10)}).json
    assert [item["start"] for item in body["same_resource"]] == [
        at(TOMORROW, 9), at(TOMORROW, 11), at(TOMORROW, 8)]
    assert body["same_resource"][0] == {
        "resource_id": world.court_id, "venue_id": world.venue_id, "start": at(TOMORROW, 9),
        "end": at(TOMORROW, 10), "seats_left": 1}
    assert body["same_venue"] == []  # the other resource there is a class
    assert body["other_venues"] == [{
        "resource_id": world.annexe_room_id, "venue_id": world.other_venue_id,
        "start": at(TOMORROW, 10), "end": at(TOMORROW, 11), "seats_left": 1,
        "distance_km": None}]


def test_alternatives_endpoint_counts_the_seats_wanted(testapp, world):
    book(testapp, world, resource="yoga", start=at(TOMORROW, 10), seats=8)
    book(testapp, world, who="other_customer", resource="yoga", start=at(TOMORROW, 9), seats=9)
    body = testapp.get(alternatives_url(world, "yoga"),
                       {"start": at(TOMORROW, 10), "seats": "3"}).json
    assert body["same_resource"][0]["start"] == at(TOMORROW, 11)
    assert all(item["seats_left"] >= 3 for item in body["same_resource"])


@pytest.mark.parametrize("params, field", [
    ({}, "start"),
    ({"start": "tomorrow"}, "start"),
    ({"start": "2026-03-03T10:00:00"}, "start"),
    ({"start": at(TOMORROW, 10), "seats": "0"}, "seats"),
    ({"start": at(TOMORROW, 10), "seats": "many"}, "seats"),
    ({"start": at(TOMORROW, 10), "limit": "9"}, "limit"),
])
def test_alternatives_endpoint_bad_input_is_a_400_naming_the_field(testapp, world, params, field):
    error = testapp.get(alternatives_url(world), params, status=400).json["error"]
    assert error["field"] == field


def test_alternatives_endpoint_of_another_tenant_is_a_404(testapp, world):
    url = (f"/api/v1/t/{world.slug}/venues/{world.rival_venue_id}/resources/"
           f"{world.rival_court_id}/alternatives")
    testapp.get(url, {"start": at(TOMORROW, 10)}, status=404)


def test_booking_conflict_carries_the_alternatives(testapp, world):
    book(testapp, world, start=at(IN_A_WEEK, 10))
    error = book(testapp, world, who="other_customer", start=at(IN_A_WEEK, 10),
                 status=409).json["error"]
    assert error["code"] == "conflict" and error["field"] == "start"
    alternatives = error["alternatives"]
    assert [item["start"] for item in alternatives["same_resource"]] == [
        at(IN_A_WEEK, 9), at(IN_A_WEEK, 11), at(IN_A_WEEK, 8)]
    assert [item["resource_id"] for item in alternatives["other_venues"]] == [
        world.annexe_room_id]


def test_conflict_not_about_the_slot_has_no_alternatives(testapp, world):
    headers = {"Idempotency-Key": "same-key"}
    url = f"/api/v1/t/{world.slug}/bookings"
    post_json(testapp, url, {"resource_id": world.court_id, "start": at(TOMORROW, 10)},
              "customer", world, 201, headers)
    error = post_json(testapp, url, {"resource_id": world.court_id, "start": at(TOMORROW, 11)},
                      "customer", world, 409, headers).json["error"]
    assert "alternatives" not in error


def test_slot_taken_page_shows_the_three_groups_as_links_to_book(testapp, world):
    book(testapp, world, start=at(TOMORROW, 10))
    page = testapp.get(resource_url(world) + "book", {"start": at(TOMORROW, 10)}, status=409)
    same = page.html.select("section[aria-labelledby=same-resource] a.slot")
    assert [start_of(a["href"]) for a in same] == [
        datetime.fromisoformat(at(TOMORROW, hour)) for hour in (9, 11, 8)]
    other = page.html.select("section[aria-labelledby=other-venues] a.slot")
    assert len(other) == 1
    assert (f"/venues/{world.other_venue_id}/resources/{world.annexe_room_id}/book"
            in other[0]["href"])
    assert page.html.select("section[aria-labelledby=same-venue]") == []


def test_slot_taken_page_link_books_the_alternative(testapp, world):
    book(testapp, world, who="other_customer", start=at(TOMORROW, 10))
    sign_in(testapp, world.emails["customer"])
    page = testapp.get(resource_url(world) + "book", {"start": at(TOMORROW, 10)}, status=409)
    link = page.html.select_one("section[aria-labelledby=other-venues] a.slot")["href"]
    details = testapp.get(link)
    review = form_by_action(details, "/book").submit(status=303).follow()
    form_by_action(review, "/confirm").submit(status=303)

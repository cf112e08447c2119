"""Tenant, venues, resources and availability: the contract's shapes."""

from datetime import timedelta

from .api import IN_A_WEEK, TOMORROW, at, book


def test_tenant_shape(testapp, world):
    body = testapp.get(f"/api/v1/t/{world.slug}").json
    assert set(body) == {"slug", "name", "time_zone", "currency"}
    assert (body["slug"], body["time_zone"], body["currency"]) == ("club", "Europe/Paris", "EUR")
    assert body["name"].startswith("Tenant ")


def test_unknown_tenant_is_404(testapp, world):
    response = testapp.get("/api/v1/t/no-such-tenant", status=404)
    assert response.json["error"]["code"] == "not_found"


def test_venues_shape(testapp, world):
    venues = testapp.get(f"/api/v1/t/{world.slug}/venues").json["venues"]
    assert [v["name"] for v in venues] == ["Annexe", "Centre"]
    assert set(venues[0]) == {"id", "name", "address", "time_zone", "latitude", "longitude"}
    assert venues[0]["time_zone"] == "Europe/Paris"


def test_resources_shape(testapp, world):
    resources = testapp.get(f"/api/v1/t/{world.slug}/venues/{world.venue_id}/resources").json["resources"]
    court = next(r for r in resources if r["id"] == world.court_id)
    assert court == {"id": world.court_id, "venue_id": world.venue_id, "name": "Court",
                     "kind": "room", "capacity": 1, "slot_minutes": 60, "price": 2000,
                     "currency": "EUR"}


def test_venue_of_another_tenant_is_404(testapp, world):
    testapp.get(f"/api/v1/t/{world.slug}/venues/{world.rival_venue_id}", status=404)


def test_resource_under_wrong_venue_is_404(testapp, world):
    testapp.get(f"/api/v1/t/{world.slug}/venues/{world.other_venue_id}/resources/{world.court_id}",
                status=404)


def test_non_numeric_id_is_404(testapp, world):
    testapp.get(f"/api/v1/t/{world.slug}/venues/abc", status=404)


def availability_url(world, resource="court"):
    return (f"/api/v1/t/{world.slug}/venues/{world.venue_id}/resources/"
            f"{getattr(world, resource + '_id')}/availability")


def test_availability_shape(testapp, world):
    day = TOMORROW.isoformat()
    body = testapp.get(availability_url(world), {"from": day, "to": day}).json
    assert body["resource_id"] == world.court_id
    assert body["time_zone"] == "Europe/Paris"
    assert len(body["slots"]) == 12
    assert body["slots"][0] == {"start": at(TOMORROW, 8), "end": at(TOMORROW, 9), "seats_left": 1}


def test_availability_excludes_booked_slot(testapp, world):
    book(testapp, world, start=at(TOMORROW, 10))
    day = TOMORROW.isoformat()
    starts = [s["start"] for s in testapp.get(availability_url(world), {"from": day, "to": day}).json["slots"]]
    assert at(TOMORROW, 10) not in starts and at(TOMORROW, 11) in starts


def test_availability_counts_seats_left(testapp, world):
    book(testapp, world, resource="yoga", start=at(TOMORROW, 10), seats=4)
    day = TOMORROW.isoformat()
    slots = testapp.get(availability_url(world, "yoga"), {"from": day, "to": day}).json["slots"]
    assert {s["start"]: s["seats_left"] for s in slots}[at(TOMORROW, 10)] == 6


def test_availability_defaults_to_a_week_from_today(testapp, world):
    slots = testapp.get(availability_url(world)).json["slots"]
    days = {s["start"][:10] for s in slots}
    assert min(days) == "2026-03-02" and max(days) == "2026-03-08"


def test_availability_in_customer_zone(testapp, world):
    day = TOMORROW.isoformat()
    body = testapp.get(availability_url(world), {"from": day, "to": day, "tz": "America/New_York"}).json
    assert body["time_zone"] == "America/New_York"
    assert body["slots"][0]["start"] == "2026-03-03T02:00:00-05:00"


def test_availability_needs_no_sign_in(testapp, world):
    testapp.get(availability_url(world), status=200)


def test_week_of_availability_spans_seven_days(testapp, world):
    body = testapp.get(availability_url(world), {"from": IN_A_WEEK.isoformat(),
                                                 "to": (IN_A_WEEK + timedelta(days=6)).isoformat()}).json
    assert len(body["slots"]) == 7 * 12

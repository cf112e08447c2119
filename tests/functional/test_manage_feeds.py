"""Private calendar feeds: staff create one for a venue or a resource (its
address shown once), calendar apps read it as iCalendar, staff revoke it."""

from datetime import UTC, datetime
from urllib.parse import urlparse

import icalendar
from sqlalchemy import func, select

from booking.models import AuditLog, CalendarFeed, Tenant
from booking.security import token_digest

from .api import IN_A_WEEK, TOMORROW, at, book, post_json
from .site import form_by_action, sign_in


def feeds_url(world, venue_id=None):
    return f"/t/{world.slug}/manage/venues/{venue_id or world.venue_id}/feeds"


def create_feed(testapp, world, scope="venue", replace=False, who="staff"):
    """Create a feed through the page; return the path of its address."""
    sign_in(testapp, world.emails[who])
    form = form_by_action(testapp.get(feeds_url(world)), "/feeds")
    form["scope"] = str(scope)
    form["replace"] = replace
    page = form.submit(status=200)
    return urlparse(page.html.select_one("#feed-url")["value"]).path


def events(testapp, path):
    response = testapp.get(path, status=200)
    calendar = icalendar.Calendar.from_ical(response.body)
    return calendar, {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def csrf_token(testapp):
    return testapp.get("/").html.select_one("input[name=csrf_token]")["value"]


def audit_actions(world):
    with world.db.session() as s:
        return s.execute(select(AuditLog.action, AuditLog.target_id, AuditLog.actor_id)
                         .where(AuditLog.target_type == "calendar_feed")
                         .order_by(AuditLog.id)).all()


def test_create_shows_the_address_once_and_keeps_only_its_digest(testapp, world):
    path = create_feed(testapp, world)
    assert path.startswith("/feeds/") and path.endswith(".ics")
    secret = path.removeprefix("/feeds/").removesuffix(".ics")
    page = testapp.get(feeds_url(world))
    assert secret not in page.text and not page.html.select("#feed-url")
    assert "The whole venue" in page.html.select_one("table.feeds tbody").get_text()
    with world.db.session() as s:
        feed = s.scalar(select(CalendarFeed))
        assert feed.digest == token_digest(secret) and feed.resource_id is None
        assert feed.created_by == world.user_ids["staff"]


def test_create_writes_an_audit_row(testapp, world):
    create_feed(testapp, world)
    with world.db.session() as s:
        feed_id = s.scalar(select(CalendarFeed.id))
    assert audit_actions(world) == [("calendar_feed.created", feed_id, world.user_ids["staff"])]


def test_feed_is_icalendar_with_the_bookings_in_utc(testapp, world):
    court = book(testapp, world, start=at(TOMORROW, 10)).json
    yoga = book(testapp, world, resource="yoga", start=at(IN_A_WEEK, 18), seats=3).json
    path = create_feed(testapp, world)
    response = testapp.get(path)
    assert response.content_type == "text/calendar" and response.charset == "utf-8"
    assert response.headers["Cache-Control"] == "private, max-age=300"
    calendar, found = events(testapp, path)
    assert "Centre" in str(calendar["X-WR-CALNAME"])
    event = found[f"booking-club-{court['id']}-staff@booking"]
    assert event.decoded("DTSTART") == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    assert str(event["SUMMARY"]) == "Court · Test User"
    assert court["reference"] in str(event["DESCRIPTION"])
    assert str(event["LOCATION"]).startswith("Centre")
    assert (event["SEQUENCE"], str(event["STATUS"])) == (0, "CONFIRMED")
    assert str(found[f"booking-club-{yoga['id']}-staff@booking"]["SUMMARY"]) == (
        "Yoga · Test User · 3/10")


def test_feed_marks_cancelled_bookings_cancelled(testapp, world):
    booking_id = book(testapp, world, start=at(IN_A_WEEK, 10)).json["id"]
    post_json(testapp, f"/api/v1/t/{world.slug}/bookings/{booking_id}/cancel", {},
              "customer", world, status=200)
    _, found = events(testapp, create_feed(testapp, world))
    assert str(found[f"booking-club-{booking_id}-staff@booking"]["STATUS"]) == "CANCELLED"


def test_resource_feed_has_only_that_resource(testapp, world):
    court = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
    book(testapp, world, resource="yoga", start=at(TOMORROW, 10))
    book(testapp, world, resource="annexe_room", start=at(TOMORROW, 10))
    _, found = events(testapp, create_feed(testapp, world, scope=world.court_id))
    assert list(found) == [f"booking-club-{court}-staff@booking"]


def test_venue_feed_leaves_out_other_venues(testapp, world):
    book(testapp, world, resource="annexe_room", start=at(TOMORROW, 10))
    _, found = events(testapp, create_feed(testapp, world))
    assert found == {}


def test_revoked_feed_is_not_found_and_audited(testapp, world):
    path = create_feed(testapp, world)
    page = testapp.get(feeds_url(world))
    page = form_by_action(page, "/revoke-feed").submit(status=303).follow()
    assert "The feed is revoked" in page.text and "No active feed." in page.text
    testapp.get(path, status=404)
    assert [row.action for row in audit_actions(world)] == [
        "calendar_feed.created", "calendar_feed.revoked"]


def test_second_feed_of_same_scope_works_independently(testapp, world):
    first = create_feed(testapp, world)
    second = create_feed(testapp, world)
    assert first != second
    testapp.get(first, status=200)
    with world.db.session() as s:
        first_id = s.scalar(select(func.min(CalendarFeed.id)))
    testapp.post(feeds_url(world).replace("feeds", "revoke-feed"),
                 {"csrf_token": csrf_token(testapp), "feed": first_id}, status=303)
    testapp.get(first, status=404)
    testapp.get(second, status=200)


def test_replace_revokes_the_other_feeds_of_the_scope_only(testapp, world):
    old = create_feed(testapp, world)
    court = create_feed(testapp, world, scope=world.court_id)
    new = create_feed(testapp, world, replace=True)
    testapp.get(old, status=404)
    testapp.get(court, status=200)
    testapp.get(new, status=200)
    assert [row.action for row in audit_actions(world)].count("calendar_feed.revoked") == 1


def test_revoking_twice_is_a_conflict(testapp, world):
    create_feed(testapp, world)
    form = form_by_action(testapp.get(feeds_url(world)), "/revoke-feed")
    form.submit(status=303)
    page = form.submit(status=409)
    assert "already revoked" in page.text


def test_revoke_unknown_feed_is_404(testapp, world):
    sign_in(testapp, world.emails["staff"])
    testapp.post(feeds_url(world).replace("feeds", "revoke-feed"),
                 {"csrf_token": csrf_token(testapp), "feed": "999"}, status=404)


def test_revoke_feed_of_another_venue_through_this_one_is_404(testapp, world):
    sign_in(testapp, world.emails["owner"])
    form = form_by_action(testapp.get(feeds_url(world, world.other_venue_id)), "/feeds")
    path = urlparse(form.submit(status=200).html.select_one("#feed-url")["value"]).path
    with world.db.session() as s:
        feed_id = s.scalar(select(CalendarFeed.id))
    testapp.post(feeds_url(world).replace("feeds", "revoke-feed"),
                 {"csrf_token": csrf_token(testapp), "feed": feed_id}, status=404)
    testapp.get(path, status=200)


def test_bad_scope_is_400_and_writes_nothing(testapp, world):
    sign_in(testapp, world.emails["staff"])
    form = form_by_action(testapp.get(feeds_url(world)), "/feeds")
    form["scope"].force_value(str(world.annexe_room_id))
    page = form.submit(status=400)
    assert "is not this venue or one of its active resources" in page.html.select_one(
        "#scope-error").get_text()
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(CalendarFeed)) == 0
    assert audit_actions(world) == []


def test_unknown_secret_is_404(testapp, world):
    testapp.get("/feeds/not-a-real-secret.ics", status=404)


def test_suspended_tenant_feed_is_404(testapp, world):
    path = create_feed(testapp, world)
    with world.db.session() as s:
        s.get(Tenant, world.tenant_id).status = "suspended"
    testapp.get(path, status=404)


def test_staff_of_another_venue_cannot_see_the_feeds_page(testapp, world):
    sign_in(testapp, world.emails["other_venue_staff"])
    testapp.get(feeds_url(world), status=404)


def test_another_tenants_owner_cannot_create_a_feed(testapp, world):
    sign_in(testapp, world.emails["other_tenant_owner"])
    testapp.post(feeds_url(world), {"csrf_token": csrf_token(testapp), "scope": "venue"},
                 status=404)
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(CalendarFeed)) == 0


def test_customer_cannot_create_a_feed(testapp, world):
    sign_in(testapp, world.emails["customer"])
    testapp.post(feeds_url(world), {"csrf_token": csrf_token(testapp), "scope": "venue"},
                 status=404)


def test_anonymous_is_sent_to_sign_in(testapp, world):
    assert "/login?next=" in testapp.get(feeds_url(world), status=303).location


def test_revoke_without_a_feed_id_is_400_naming_the_field(testapp, world):
    sign_in(testapp, world.emails["staff"])
    page = testapp.post(feeds_url(world).replace("feeds", "revoke-feed"),
                        {"csrf_token": csrf_token(testapp), "feed": "x"}, status=400)
    assert page.html.select_one("[role=alert] strong").get_text() == "feed"

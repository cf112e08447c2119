"""The staff calendar of a venue: resources side by side, bookings at their
local rows, free slots linking to the new-booking form, closures, navigation
and who may see it."""

import itertools
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

from booking.models import Booking, Role, Tenant, Venue

from .. import builders as b
from .api import PARIS, TOMORROW, at, book, post_json
from .site import sign_in

_references = itertools.count(1)


def calendar_url(world, venue_id=None):
    return f"/t/{world.slug}/manage/venues/{venue_id or world.venue_id}/"


def show(testapp, world, who="staff", status=200, **params):
    sign_in(testapp, world.emails[who])
    return testapp.get(calendar_url(world), params, status=status)


def cell_of(page, booking_id):
    """The table cell holding the link to booking ``booking_id``."""
    link = page.html.select_one(f'a[href$="/manage/bookings/{booking_id}/"]')
    assert link is not None, f"booking {booking_id} is not on the page"
    return link.find_parent("td")


def headers(cell):
    """A cell's ``headers``: the ids of its row and column."""
    return " ".join(cell["headers"])


def paris(day, hour, minute=0):
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS).astimezone(UTC)


def insert_booking(world, resource_id, starts_at, minutes=60, status="confirmed", seats=1,
                   hold_expires_at=None):
    """A booking written straight to the database (off the grid, held…)."""
    with world.db.session() as s:
        ends_at = starts_at + timedelta(minutes=minutes)
        booking = Booking(
            tenant_id=world.tenant_id, reference=f"T{next(_references):07d}",
            resource_id=resource_id, customer_id=world.user_ids["customer"],
            starts_at=starts_at, ends_at=ends_at, block_start=starts_at, block_end=ends_at,
            seats=seats, status=status, hold_expires_at=hold_expires_at, price=0,
            currency="EUR", created_at=b.EPOCH, updated_at=b.EPOCH,
        )
        s.add(booking)
        s.flush()
        return booking.id


def new_booking_links(page):
    return [a["href"] for a in page.html.select("a.slot")]


def link_query(link):
    return {key: values[0] for key, values in parse_qs(urlparse(link).query).items()}


def test_day_shows_booking_in_its_local_row_of_its_resource(testapp, world):
    booking_id = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
    page = show(testapp, world, date=TOMORROW.isoformat())
    cell = cell_of(page, booking_id)
    assert headers(cell) == f"t20260303-0600 c20260303-{world.court_id}"
    assert page.html.select_one("#t20260303-0600").get_text(strip=True).replace("\u202f", " ") == "10:00 AM"
    assert page.html.select_one(f"#c20260303-{world.court_id}").get_text(strip=True) == "Court"
    text = cell.get_text(" ", strip=True)
    assert "Test User" in text and "confirmed" in text


def test_booking_of_a_class_shows_seats_of_capacity(testapp, world):
    booking_id = book(testapp, world, resource="yoga", start=at(TOMORROW, 10), seats=3).json["id"]
    page = show(testapp, world, date=TOMORROW.isoformat())
    seats = cell_of(page, booking_id).select_one(".seats")
    assert seats.get_text(" ", strip=True) == "3/10 seats"


def test_cancelled_booking_is_shown_as_cancelled(testapp, world):
    booking_id = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
    post_json(testapp, f"/api/v1/t/{world.slug}/bookings/{booking_id}/cancel", {},
              "customer", world, status=200)
    page = show(testapp, world, date=TOMORROW.isoformat())
    entry = cell_of(page, booking_id).select_one("li")
    assert "booking-cancelled" in entry["class"]
    assert entry.select_one(".status").get_text() == "cancelled"


def test_expired_hold_is_not_shown_but_running_hold_is(testapp, world, clock):
    expired = insert_booking(world, world.court_id, paris(TOMORROW, 10), status="held",
                             hold_expires_at=clock.instant - timedelta(minutes=1))
    running = insert_booking(world, world.court_id, paris(TOMORROW, 11), status="held",
                             hold_expires_at=clock.instant + timedelta(minutes=10))
    page = show(testapp, world, date=TOMORROW.isoformat())
    assert not page.html.select(f'a[href$="/manage/bookings/{expired}/"]')
    assert cell_of(page, running).select_one(".status").get_text() == "held"


def test_booking_outside_opening_hours_extends_the_rows(testapp, world):
    booking_id = insert_booking(world, world.court_id, paris(TOMORROW, 21), minutes=90)
    page = show(testapp, world, date=TOMORROW.isoformat())
    rows = [th["id"] for th in page.html.select("tbody th[scope=row]")]
    assert rows[0] == "t20260303-0480" and rows[-1] == "t20260303-1320"
    cell = cell_of(page, booking_id)
    assert headers(cell).startswith("t20260303-1260 ")
    assert cell["rowspan"] == "2"


def test_free_slot_links_to_new_booking_form_with_its_start(testapp, world):
    book(testapp, world, start=at(TOMORROW, 10))
    page = show(testapp, world, date=TOMORROW.isoformat())
    court_links = [link for link in new_booking_links(page)
                   if link_query(link)["resource"] == str(world.court_id)]
    starts = [datetime.fromisoformat(link_query(link)["start"]) for link in court_links]
    assert urlparse(court_links[0]).path == f"/t/{world.slug}/manage/bookings/new"
    assert paris(TOMORROW, 11) in starts
    assert paris(TOMORROW, 10) not in starts  # booked
    assert "%2B00%3A00" in court_links[0]  # the offset survives the query string
    link = next(a for a in page.html.select("a.slot")
                if a["href"] == court_links[starts.index(paris(TOMORROW, 11))])
    assert headers(link.find_parent("td")) == f"t20260303-0660 c20260303-{world.court_id}"


def test_class_with_seats_left_offers_its_booked_slot(testapp, world):
    book(testapp, world, resource="yoga", start=at(TOMORROW, 10), seats=3)
    page = show(testapp, world, date=TOMORROW.isoformat())
    starts = [datetime.fromisoformat(link_query(link)["start"]) for link in new_booking_links(page)
              if link_query(link)["resource"] == str(world.yoga_id)]
    assert paris(TOMORROW, 10) in starts
    assert "7 places left" in page.text


def test_free_slots_are_only_in_the_future(testapp, world):
    page = show(testapp, world)  # today, it is 10:00 in Paris
    starts = [datetime.fromisoformat(link_query(link)["start"]) for link in new_booking_links(page)]
    assert starts and min(starts) > world_now()
    assert page.html.select_one("#t20260302-0480") is not None  # the morning is still shown


def world_now():
    return datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_closure_is_shown_with_its_reason(testapp, world):
    with world.db.session() as s:
        venue = s.get(Venue, world.venue_id)
        b.closure(s, venue, paris(TOMORROW, 12), paris(TOMORROW, 14), reason="Floor polishing")
    page = show(testapp, world, date=TOMORROW.isoformat())
    assert "Floor polishing" in page.html.select_one("p.closure").get_text()
    cell = page.html.select_one(f'td[headers="t20260303-0720 c20260303-{world.court_id}"]')
    assert "closed" in cell["class"] and "Floor polishing" in cell.get_text()
    assert cell["rowspan"] == "2"
    starts = [datetime.fromisoformat(link_query(link)["start"]) for link in new_booking_links(page)]
    assert paris(TOMORROW, 12) not in starts


def week_cell(page, resource_id, day):
    """The week's cell of resource ``resource_id`` on ``day`` ("20260303")."""
    return page.html.select_one(f'td[headers="r{resource_id} w{day}"]')


def test_week_shows_a_column_per_day_from_monday(testapp, world):
    page = show(testapp, world, view="week", date="2026-03-05")
    days = [th["id"] for th in page.html.select("table.staff-week thead th[id]")]
    assert days == [f"w202603{day:02d}" for day in range(2, 9)]
    assert page.html.select_one("#w20260303").get_text(strip=True) == "Tue, Mar 3"
    assert page.html.select_one("#w20260302 a")["aria-current"] == "date"  # today
    caption = page.html.select_one("table.staff-week caption").get_text()
    assert caption == "Bookings from Monday, March 2, 2026 to Sunday, March 8, 2026"


def test_week_shows_a_row_per_resource(testapp, world):
    page = show(testapp, world, view="week", date="2026-03-05")
    assert page.html.select_one(f"#r{world.court_id}").get_text(strip=True) == "Court"
    assert "capacity 10" in page.html.select_one(f"#r{world.yoga_id}").get_text()


def test_week_lists_a_booking_on_its_resource_and_day(testapp, world):
    booking_id = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
    page = show(testapp, world, view="week", date="2026-03-05")
    cell = cell_of(page, booking_id)
    assert headers(cell) == f"r{world.court_id} w20260303"
    text = cell.get_text(" ", strip=True).replace("\u202f", " ")
    assert "10:00 AM–11:00 AM Test User" in text


def test_week_dates_a_booking_across_midnight(testapp, world):
    booking_id = insert_booking(world, world.court_id, paris(TOMORROW, 23), minutes=120)
    page = show(testapp, world, view="week", date="2026-03-05")
    texts = [link.get_text(" ", strip=True).replace("\u202f", " ") for link in
             page.html.select(f'a[href$="/manage/bookings/{booking_id}/"]')]
    assert len(texts) == 2  # Tuesday and Wednesday
    assert all(text.startswith("3/3/26, 11:00 PM–3/4/26, 1:00 AM ") for text in texts), texts


def test_week_marks_a_cancelled_booking(testapp, world):
    booking_id = book(testapp, world, start=at(TOMORROW, 10)).json["id"]
    post_json(testapp, f"/api/v1/t/{world.slug}/bookings/{booking_id}/cancel", {},
              "customer", world, status=200)
    page = show(testapp, world, view="week", date="2026-03-05")
    entry = cell_of(page, booking_id).select_one("li")
    assert entry.select_one(".status").get_text() == "cancelled"


def test_week_counts_free_slots_and_links_the_day(testapp, world):
    free_before = week_cell(show(testapp, world, view="week", date="2026-03-05"),
                            world.court_id, "20260303").select_one("a.free-count")
    book(testapp, world, start=at(TOMORROW, 10))
    page = show(testapp, world, view="week", date="2026-03-05")
    link = week_cell(page, world.court_id, "20260303").select_one("a.free-count")
    before, after = (int(a.get_text().split()[0]) for a in (free_before, link))
    assert after == before - 1
    assert link_query(link["href"]) == {"view": "day", "date": "2026-03-03"}
    assert urlparse(link["href"]).fragment == f"c20260303-{world.court_id}"
    day = testapp.get(link["href"])
    assert day.html.select_one(f"#c20260303-{world.court_id}") is not None


def test_week_shows_a_closure_in_its_cells(testapp, world):
    with world.db.session() as s:
        venue = s.get(Venue, world.venue_id)
        b.closure(s, venue, paris(TOMORROW, 12), paris(TOMORROW, 14), reason="Floor polishing")
    page = show(testapp, world, view="week", date="2026-03-05")
    assert "Floor polishing" in page.html.select_one("p.closure").get_text()
    cell = week_cell(page, world.court_id, "20260303")
    assert "closed" in cell["class"] and "Floor polishing" in cell.get_text()
    assert "closed" not in (week_cell(page, world.court_id, "20260304").get("class") or [])


def test_default_is_today_in_the_venue_zone(testapp, world):
    page = show(testapp, world)
    assert page.html.select_one("section.calendar-day h2").get_text() == "Monday, March 2, 2026"


def test_previous_and_next_move_by_a_day(testapp, world):
    page = show(testapp, world, date=TOMORROW.isoformat())
    assert link_query(page.html.select_one("a[rel=prev]")["href"]) == {
        "view": "day", "date": "2026-03-02"}
    page = page.click(href="date=2026-03-04")
    assert page.html.select_one("section.calendar-day h2")["id"] == "day-20260304"


def test_previous_and_next_move_by_a_week_in_week_view(testapp, world):
    page = show(testapp, world, view="week", date=TOMORROW.isoformat())
    assert link_query(page.html.select_one("a[rel=prev]")["href"])["date"] == "2026-02-24"
    assert link_query(page.html.select_one("a[rel=next]")["href"]) == {
        "view": "week", "date": "2026-03-10"}


def test_date_picker_jumps_to_the_date(testapp, world):
    page = show(testapp, world)
    form = next(f for f in page.forms.values() if f.method.lower() == "get")
    form["date"] = "2026-04-01"
    page = form.submit()
    assert page.html.select_one("section.calendar-day h2").get_text() == "Wednesday, April 1, 2026"


def test_bad_date_is_400_naming_the_field(testapp, world):
    page = show(testapp, world, status=400, date="2026-02-30")
    assert "date" in page.html.select_one("[role=alert] strong").get_text()
    assert "must be a date, YYYY-MM-DD" in page.text


def test_bad_view_is_400_naming_the_field(testapp, world):
    page = show(testapp, world, status=400, view="month")
    assert page.html.select_one("[role=alert] strong").get_text() == "view"


def test_tenant_wide_roles_see_the_calendar(testapp, world):
    for who in ("owner", "manager"):
        assert show(testapp, world, who=who).status_int == 200


def test_tenant_wide_staff_see_every_venue(testapp, world):
    with world.db.session() as s:
        email = b.member(s, s.get(Tenant, world.tenant_id), Role.STAFF).email
    sign_in(testapp, email)
    testapp.get(calendar_url(world), status=200)
    page = testapp.get(calendar_url(world, world.other_venue_id), status=200)
    assert page.html.select_one(f"#c20260302-{world.annexe_room_id}") is not None


def test_staff_of_another_venue_get_404(testapp, world):
    show(testapp, world, who="other_venue_staff", status=404)


def test_customer_gets_404(testapp, world):
    show(testapp, world, who="customer", status=404)


def test_other_tenant_owner_gets_404(testapp, world):
    show(testapp, world, who="other_tenant_owner", status=404)


def test_anonymous_is_sent_to_sign_in(testapp, world):
    response = testapp.get(calendar_url(world), status=303)
    assert "/login?next=" in response.location

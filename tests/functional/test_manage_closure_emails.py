"""A closure that cancels bookings emails their customers through the
request's notifier, built with the settings: the emails link to the
site's ``booking.public_url``, not to the default address."""

import pytest
import webtest
from sqlalchemy import select

from booking import main
from booking.models import OutboxMessage
from booking.services.notifications import DEFAULT_PUBLIC_URL

from ..conftest import app_settings
from .api import TOMORROW, at, book
from .test_manage_schedules_closures import decision_form, submit_closure

PUBLIC_URL = "https://book.example.com"


@pytest.fixture
def public_testapp(db, clock):
    app = main({}, **app_settings(db, **{"booking.public_url": PUBLIC_URL + "/"}))
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "booking.test"})


def test_closure_cancellation_email_links_to_the_public_url(public_testapp, world):
    booking = book(public_testapp, world, start=at(TOMORROW, 10)).json
    page = submit_closure(public_testapp, world, 200, start="2026-03-03T09:00",
                          end="2026-03-03T12:00", reason="Flooding")
    decision_form(page).submit("decision", value="cancel", status=303)
    with world.db.session() as s:
        [(text, html)] = s.execute(select(OutboxMessage.body_text, OutboxMessage.body_html).where(
            OutboxMessage.booking_id == booking["id"],
            OutboxMessage.kind == "booking.cancelled")).all()
    link = f"{PUBLIC_URL}/t/{world.slug}/"
    assert link in text and link in html
    assert DEFAULT_PUBLIC_URL not in text + html

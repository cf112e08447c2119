"""Fixtures and helpers for the site under ``booking.payments = stripe``,
against the fake provider (``tests/fakes/payment_provider.py``) on a
loopback port. Webhooks are signed by the fake and posted to the app."""

from urllib.parse import parse_qs, urlparse

import pytest
import webtest
from sqlalchemy import select

from booking import main
from booking.models import Booking, Tenant

from ..conftest import SHARED_CLOCK, app_settings
from ..fakes.payment_provider import WEBHOOK_PATH, running, stripe_settings
from .api import IN_A_WEEK, at
from .site import form_by_action, resource_url, sign_in


@pytest.fixture(scope="session")
def fake_stripe():
    with running(clock=lambda: SHARED_CLOCK.now().timestamp()) as fake:
        yield fake


@pytest.fixture(scope="session")
def stripe_apps():
    return {}


@pytest.fixture
def stripe(fake_stripe):
    """The fake provider, emptied for each test."""
    fake_stripe.reset()
    yield fake_stripe
    fake_stripe.reset()


@pytest.fixture
def payapp(db, clock, stripe, stripe_apps):
    """The site configured for ``stripe``, on each database."""
    if db.backend not in stripe_apps:
        stripe_apps[db.backend] = main({}, **app_settings(db, **stripe_settings(stripe)))
    return webtest.TestApp(stripe_apps[db.backend], extra_environ={"HTTP_HOST": "booking.test"})


def review(testapp, world, who="customer", resource="court", start=None, seats=1):
    """Sign in as ``who``, choose a slot (a week ahead, 10:00), and open the
    review page."""
    sign_in(testapp, world.emails[who])
    start = start or at(IN_A_WEEK, 10)
    details = testapp.get(resource_url(world, resource) + "book", {"start": start})
    form = form_by_action(details, "/book")
    form["seats"] = str(seats)
    return form.submit(status=303).follow()


def confirm(page, status=303):
    return form_by_action(page, "/confirm").submit(status=status)


def book_and_checkout(testapp, world, **options):
    """Book a paid slot; the 303 to the provider's checkout."""
    return confirm(review(testapp, world, **options))


def session_id(checkout_url):
    return urlparse(checkout_url).path.rsplit("/", 1)[1]


def deliver(testapp, fake, event, status=200):
    body, headers = fake.signed(event)
    return testapp.post(WEBHOOK_PATH, body, headers=headers, status=status)


def pay(testapp, fake, checkout_url):
    """Pay on the fake's checkout and deliver its webhook to the app."""
    event = fake.pay(session_id(checkout_url), deliver=False)
    return deliver(testapp, fake, event)


def paid_booking(testapp, fake, world, **options):
    """A booking paid online and confirmed; its page's path."""
    checkout = book_and_checkout(testapp, world, **options)
    pay(testapp, fake, checkout.location)
    session = fake.sessions[session_id(checkout.location)]
    return urlparse(session["success_url"]).path


def success_query(fake, checkout_url):
    return parse_qs(urlparse(fake.sessions[session_id(checkout_url)]["success_url"]).query)


def only_booking(world):
    with world.db.session() as s:
        booking = s.scalar(select(Booking))
        s.expunge(booking)
        return booking


def rows(world, model):
    with world.db.session() as s:
        found = s.scalars(select(model).order_by(model.id)).all()
        for row in found:
            s.expunge(row)
        return found


def set_refund_policy(world, policy, percent=100):
    with world.db.session() as s:
        tenant = s.get(Tenant, world.tenant_id)
        tenant.refund_policy, tenant.refund_percent = policy, percent

"""An offer email end to end: customers choose on the site, the owner sends
from the staff page, the worker delivers into a real SMTP server (aiosmtpd
on a loopback port); only those who asked get it, with RFC 8058 headers;
the link in it unsubscribes without signing in, and the next offer does
not reach them."""

import re
from datetime import timedelta
from urllib.parse import urlparse

from booking.models import Resource, User
from booking.services.delivery import Delivery, DeliveryPolicy

from .. import builders as b
from ..conftest import NOW
from ..registry import service_registry
from ..smtp import smtp  # noqa: F401
from .site import form_by_action, sign_in


def worker(world, clock, port):
    settings = {"booking.mail": "smtp", "booking.mail.host": "127.0.0.1",
                "booking.mail.port": port, "booking.mail.sender": "Club <no-reply@club.test>",
                "booking.mail.timeout": 5}
    return Delivery(service_registry(world.db, clock, settings), DeliveryPolicy(batch=10))


def book_yoga(world, *who):
    with world.db.session() as s:
        yoga = s.get(Resource, world.yoga_id)
        for name in who:
            b.booking(s, yoga, s.get(User, world.user_ids[name]), NOW + timedelta(days=3))


def ask_for_offers(testapp, world, who):
    """``who`` signs in and asks for the club's offers in My account."""
    testapp.reset()
    sign_in(testapp, world.emails[who])
    form_by_action(testapp.get("/account/offers"), "/account/offers").submit(status=303)
    testapp.reset()


def send_offer(testapp, world, subject):
    testapp.reset()
    sign_in(testapp, world.emails["owner"])
    form = testapp.get(f"/t/{world.slug}/manage/offer-emails/").forms["offer-form"]
    form["subject"], form["body"] = subject, "Two classes for the price of one."
    form.submit(status=303)
    testapp.reset()


def received(smtp, subject):
    return {message["To"]: message for message in smtp.messages
            if message["Subject"] == subject}


def test_offer_reaches_only_who_asked_and_its_link_unsubscribes(testapp, world, clock, smtp):
    book_yoga(world, "customer", "other_customer", "staff")
    ask_for_offers(testapp, world, "customer")
    ask_for_offers(testapp, world, "other_customer")
    # "staff" booked too, but never asked.
    send_offer(testapp, world, "Spring offer")
    assert worker(world, clock, smtp.port).run_pass().sent == 2

    first = received(smtp, "Spring offer")
    assert sorted(first) == sorted([world.emails["customer"], world.emails["other_customer"]])
    message = first[world.emails["customer"]]
    header_url = re.fullmatch(r"<(\S+)>", message["List-Unsubscribe"]).group(1)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content()
    assert header_url in text and "Two classes for the price of one." in text

    # The customer follows the link: no sign-in needed; the page asks first.
    path = urlparse(header_url).path
    page = testapp.get(path)
    assert "Stop receiving the offers of" in page.text
    page.forms["unsubscribe-form"].submit(status=200)

    send_offer(testapp, world, "Summer offer")
    assert worker(world, clock, smtp.port).run_pass().sent == 1
    assert list(received(smtp, "Summer offer")) == [world.emails["other_customer"]]


def test_the_provider_s_one_click_post_unsubscribes(testapp, world, clock, smtp):
    book_yoga(world, "customer", "other_customer")
    ask_for_offers(testapp, world, "customer")
    ask_for_offers(testapp, world, "other_customer")
    send_offer(testapp, world, "Spring offer")
    worker(world, clock, smtp.port).run_pass()
    message = received(smtp, "Spring offer")[world.emails["customer"]]
    url = re.fullmatch(r"<(\S+)>", message["List-Unsubscribe"]).group(1)

    # As RFC 8058's mail provider: a POST with the body it names, no cookie.
    testapp.post(urlparse(url).path, message["List-Unsubscribe-Post"],
                 content_type="application/x-www-form-urlencoded", status=200)

    send_offer(testapp, world, "Summer offer")
    worker(world, clock, smtp.port).run_pass()
    assert list(received(smtp, "Summer offer")) == [world.emails["other_customer"]]


def test_an_offer_queued_before_an_unsubscribe_is_not_sent(testapp, world, clock, smtp):
    book_yoga(world, "customer", "other_customer")
    ask_for_offers(testapp, world, "customer")
    ask_for_offers(testapp, world, "other_customer")
    send_offer(testapp, world, "Spring offer")
    # Still in the outbox when the customer stops the offers in My account.
    sign_in(testapp, world.emails["customer"])
    form_by_action(testapp.get("/account/offers"), "/account/offers").submit(status=303)
    testapp.reset()
    worker(world, clock, smtp.port).run_pass()
    assert list(received(smtp, "Spring offer")) == [world.emails["other_customer"]]

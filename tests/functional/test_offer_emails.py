"""Offer emails through the site: the booking form's box (unchecked), My
account's choice per business, the staff page (preview, send, the daily
limit) and the unsubscribe link, which works without signing in."""

import re
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from sqlalchemy import func, select

from booking.models import MarketingConsent, OfferMailing, Resource, Tenant, User
from booking.services.marketing import MarketingService

from .. import builders as b
from ..conftest import NOW
from .mail import messages
from .site import form_by_action, resource_url, sign_in, slot_links

WORDING = "Send me offers from Tenant by email"


def review_page(testapp, world, who="customer"):
    sign_in(testapp, world.emails[who])
    link = slot_links(testapp.get(resource_url(world), {"from": "2026-03-03"}))[3]
    return form_by_action(testapp.get(link), "/book").submit(status=303).follow()


def consents(world, who):
    with world.db.session() as s:
        rows = s.scalars(select(MarketingConsent)
                         .where(MarketingConsent.user_id == world.user_ids[who])).all()
        s.expunge_all()
        return rows


def agree(world, *who):
    """``who`` agreed to the club's offers and booked its yoga class."""
    with world.db.session() as s:
        tenant = s.get(Tenant, world.tenant_id)
        for name in who:
            user = s.get(User, world.user_ids[name])
            MarketingService(s, NOW).opt_in(tenant, user, WORDING, "account")
            b.booking(s, s.get(Resource, world.yoga_id), user, NOW + timedelta(days=3))


def unsubscribe_path(message):
    return urlparse(re.search(r"https?://\S+/unsubscribe/\S+", message.body_text).group(0)).path


def compose(testapp, world, who="owner", subject="Spring offer", body="Two for one."):
    sign_in(testapp, world.emails[who])
    form = testapp.get(f"/t/{world.slug}/manage/offer-emails/").forms["offer-form"]
    form["subject"], form["body"] = subject, body
    return form


class TestBookingForm:
    def test_offers_box_is_unchecked_with_the_business_s_wording(self, testapp, world):
        form = form_by_action(review_page(testapp, world), "/confirm")
        assert form["offers"].value is None
        label = form.html.select_one("input[name=offers]").parent.get_text(" ", strip=True)
        with world.db.session() as s:
            name = s.get(Tenant, world.tenant_id).name
        assert label == f"Send me offers from {name} by email"

    def test_booking_without_the_box_agrees_to_nothing(self, testapp, world):
        form_by_action(review_page(testapp, world), "/confirm").submit(status=303)
        assert consents(world, "customer") == []

    def test_booking_with_the_box_stores_the_consent_its_moment_and_wording(self, testapp, world):
        form = form_by_action(review_page(testapp, world), "/confirm")
        form["offers"] = "yes"
        form.submit(status=303)
        (consent,) = consents(world, "customer")
        with world.db.session() as s:
            name = s.get(Tenant, world.tenant_id).name
        assert (consent.tenant_id, consent.given_at, consent.how, consent.withdrawn_at) == (
            world.tenant_id, NOW, "booking-form", None)
        assert consent.wording == f"Send me offers from {name} by email"

    def test_the_wording_is_stored_in_the_language_shown(self, testapp, world):
        testapp.set_cookie("booking_locale", "fr")
        form = form_by_action(review_page(testapp, world), "/confirm")
        form["offers"] = "yes"
        form.submit(status=303)
        (consent,) = consents(world, "customer")
        assert consent.wording.startswith("Envoyez-moi les offres de ") and consent.locale == "fr"


class TestMyAccount:
    def test_lists_the_businesses_booked_with_and_the_choice(self, testapp, world):
        agree(world, "customer")
        sign_in(testapp, world.emails["customer"])
        item = testapp.get("/account/offers").html.select_one(
            f"li[data-business='{world.tenant_id}']")
        assert "sends you its offers" in item.get_text(" ", strip=True)

    def test_stop_then_agree_again(self, testapp, world):
        agree(world, "customer")
        sign_in(testapp, world.emails["customer"])
        form_by_action(testapp.get("/account/offers"), "/account/offers").submit(status=303)
        assert [c.withdrawn_how for c in consents(world, "customer")] == ["account"]
        form_by_action(testapp.get("/account/offers"), "/account/offers").submit(status=303)
        live = [c for c in consents(world, "customer") if c.withdrawn_at is None]
        assert len(live) == 1 and live[0].how == "account"

    def test_a_business_never_booked_with_is_not_found(self, testapp, world):
        sign_in(testapp, world.emails["customer"])
        assert testapp.get("/account/offers").html.select_one("#no-businesses")
        testapp.post("/account/offers", {"business": world.tenant_id, "agree": "yes",
                                         "csrf_token": csrf(testapp)}, status=404)
        assert consents(world, "customer") == []

    def test_needs_signing_in(self, testapp, world):
        page = testapp.get("/account/offers", status=(302, 303))
        assert urlparse(page.location).path == "/login"


def csrf(testapp):
    """The session's CSRF token, from a form of the profile page."""
    return form_by_action(testapp.get("/account/"), "/account/")["csrf_token"].value


class TestStaffPage:
    def test_preview_shows_the_email_in_a_language_and_the_recipient_count(self, testapp, world):
        agree(world, "customer", "other_customer")
        form = compose(testapp, world)
        form["language"] = "fr"
        # The Preview button posts the same form to …/preview (formaction).
        page = testapp.post(f"/t/{world.slug}/manage/offer-emails/preview",
                            dict(form.submit_fields()), status=200)
        preview = page.html.select_one("#offer-preview").get_text(" ", strip=True)
        assert "It would go to 2 customer(s)." in preview
        assert "Two for one." in preview and "vous avez demandé à" in preview
        assert messages(world.db, "offer") == []

    def test_send_queues_one_email_per_customer_who_agreed(self, testapp, world):
        agree(world, "customer")
        page = compose(testapp, world).submit(status=303).follow()
        assert "on its way to 1 customer(s)" in page.text
        assert [m.recipient for m in messages(world.db, "offer")] == [world.emails["customer"]]
        assert page.html.select_one("tr[data-mailing] .recipients").text == "1"

    def test_a_venue_audience_sends_to_who_booked_there(self, testapp, world):
        agree(world, "customer")
        form = compose(testapp, world)
        form["audience"] = f"venue:{world.other_venue_id}"
        page = form.submit(status=409)
        assert "Nobody has agreed" in page.html.select_one("#offer-error").text
        assert messages(world.db, "offer") == []

    def test_an_audience_of_another_business_is_refused(self, testapp, world):
        agree(world, "customer")
        form = compose(testapp, world)
        form["audience"].force_value(f"venue:{world.rival_venue_id}")
        form.submit(status=400)
        assert messages(world.db, "offer") == []

    def test_past_the_daily_limit_is_429_with_a_message_and_nothing_queued(self, testapp, world):
        agree(world, "customer")
        for _ in range(2):
            compose(testapp, world).submit(status=303)
        page = compose(testapp, world).submit(status=429)
        assert "2 offer mailing(s) for today" in page.html.select_one("#offer-error").text
        assert int(page.headers["Retry-After"]) > 0
        assert len(messages(world.db, "offer")) == 2
        with world.db.session() as s:
            assert s.scalar(select(func.count()).select_from(OfferMailing)) == 2

    def test_a_manager_may_send(self, testapp, world):
        agree(world, "customer")
        compose(testapp, world, who="manager").submit(status=303)
        assert len(messages(world.db, "offer")) == 1

    @pytest.mark.parametrize("who", ["staff", "customer"])
    def test_staff_and_customers_cannot_open_it(self, testapp, world, who):
        sign_in(testapp, world.emails[who])
        testapp.get(f"/t/{world.slug}/manage/offer-emails/", status=404)


class TestUnsubscribe:
    @pytest.fixture
    def link(self, testapp, world):
        agree(world, "customer")
        compose(testapp, world).submit(status=303)
        testapp.reset()  # the customer's browser: nobody signed in
        (message,) = messages(world.db, "offer")
        return unsubscribe_path(message)

    def live(self, world):
        return [c for c in consents(world, "customer") if c.withdrawn_at is None]

    def test_get_shows_a_button_and_unsubscribes_nobody(self, testapp, world, link):
        page = testapp.get(link)
        assert page.forms["unsubscribe-form"] and len(self.live(world)) == 1
        assert page.headers["Cache-Control"] == "no-store"

    def test_the_button_unsubscribes_without_signing_in(self, testapp, world, link):
        page = testapp.get(link).forms["unsubscribe-form"].submit(status=200)
        assert page.html.select_one("#unsubscribed") and self.live(world) == []

    def test_one_click_post_without_csrf_unsubscribes(self, testapp, world, link):
        page = testapp.post(link, "List-Unsubscribe=One-Click",
                            content_type="application/x-www-form-urlencoded", status=200)
        assert page.html.select_one("#unsubscribed") and self.live(world) == []
        assert consents(world, "customer")[0].withdrawn_how == "one-click"

    def test_one_click_post_twice_is_harmless(self, testapp, world, link):
        for _ in range(2):
            testapp.post(link, {"List-Unsubscribe": "One-Click"}, status=200)
        assert self.live(world) == [] and len(consents(world, "customer")) == 1

    def test_a_post_without_one_click_nor_csrf_is_refused(self, testapp, world, link):
        testapp.post(link, {}, status=400)
        assert len(self.live(world)) == 1

    def test_an_unknown_secret_is_not_found(self, testapp, world, link):
        testapp.get("/unsubscribe/not-a-secret", status=404)
        testapp.post("/unsubscribe/not-a-secret", "List-Unsubscribe=One-Click",
                     content_type="application/x-www-form-urlencoded", status=404)


class TestPrivacy:
    def test_my_data_has_my_consents_with_their_wording(self, testapp, world):
        agree(world, "customer")
        sign_in(testapp, world.emails["customer"])
        (consent,) = testapp.get("/account/data").json["offer_consents"]
        assert consent == {"business": world.slug, "given_at": NOW.isoformat(),
                           "wording": WORDING, "language": "en", "how": "account",
                           "withdrawn_at": None, "withdrawn_how": None}

    def test_erasing_my_account_withdraws_my_consents(self, testapp, world):
        agree(world, "customer")
        sign_in(testapp, world.emails["customer"])
        form = form_by_action(testapp.get("/account/erase"), "/account/erase")
        form["password"] = b.PASSWORD
        form.submit(status=303)
        assert [c.withdrawn_how for c in consents(world, "customer")] == ["erasure"]

"""Offer emails on both databases: consents kept with their moment and
wording, who a mailing goes to, what each recipient gets, the unsubscribe
secret, and the daily limit."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from booking.models import (MarketingConsent, OfferMailing, OfferRecipient, OutboxMessage,
                            Resource, Tenant, User, Venue)
from booking.services.errors import Conflict, PolicyViolation
from booking.services.marketing import MarketingService
from booking.services.throttle import TooManyAttempts

from .. import builders as b
from ..conftest import NOW

WORDING = "Send me offers from Tenant by email"


def service(s, now=NOW, **kw):
    return MarketingService(s, now, public_url="https://booking.example", **kw)


@pytest.fixture
def shop(db):
    """A business with two venues (a resource each), its owner, and
    customers: ``fan`` agreed, ``fr_fan`` agreed and reads French,
    ``quiet`` did not, ``gone`` agreed then withdrew, ``unconfirmed``
    agreed without a confirmed address, ``erased`` agreed then erased
    their account; ``rival_fan`` agreed with another business only."""
    with db.session() as s:
        tenant = b.tenant(s, name="Club Soleil")
        rival = b.tenant(s, name="Rival")
        centre = b.venue(s, tenant, name="Centre")
        annexe = b.venue(s, tenant, name="Annexe")
        court = b.resource(s, centre, name="Court")
        room = b.resource(s, annexe, name="Room")
        owner = b.member(s, tenant, "owner")
        people = {name: b.user(s, name=name.title(), email=f"{name}@example.test")
                  for name in ("fan", "fr_fan", "quiet", "gone", "unconfirmed", "erased",
                               "rival_fan")}
        people["fr_fan"].locale = "fr"
        people["unconfirmed"].email_confirmed_at = None
        marketing = service(s)
        for name in ("fan", "fr_fan", "gone", "unconfirmed", "erased"):
            marketing.opt_in(tenant, people[name], WORDING, "booking-form")
        marketing.opt_in(rival, people["rival_fan"], WORDING, "booking-form")
        marketing.opt_out(tenant, people["gone"])
        people["erased"].erased_at = NOW
        b.booking(s, court, people["fan"], NOW + timedelta(days=1))
        b.booking(s, room, people["fr_fan"], NOW + timedelta(days=1))
        return dict(tenant=tenant.id, rival=rival.id, centre=centre.id, annexe=annexe.id,
                    court=court.id, room=room.id, owner=owner.id,
                    **{name: user.id for name, user in people.items()})


def audience_names(s, ids, **where):
    users = service(s).audience(s.get(Tenant, ids["tenant"]), **where)
    return sorted(user.name for user in users)


def send(s, ids, now=NOW, **kw):
    return service(s, now, **kw).send(s.get(Tenant, ids["tenant"]), s.get(User, ids["owner"]),
                                      "Spring offer", "Two courts for one.\nAll April.")


def offers(s):
    return s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "offer")
                     .order_by(OutboxMessage.recipient)).all()


def secret_of(message):
    return re.search(r"/unsubscribe/([\w-]+)", message.body_text).group(1)


def test_consent_is_stored_with_its_moment_wording_and_place(db, shop):
    with db.session() as s:
        consent = s.scalar(select(MarketingConsent).where(MarketingConsent.user_id == shop["fan"]))
        assert (consent.given_at, consent.wording, consent.how, consent.withdrawn_at) == (
            NOW, WORDING, "booking-form", None)


def test_opting_in_twice_keeps_the_first_consent(db, shop):
    with db.session() as s:
        later = service(s, NOW + timedelta(days=1)).opt_in(
            s.get(Tenant, shop["tenant"]), s.get(User, shop["fan"]), "other words", "account")
        assert (later.given_at, later.wording) == (NOW, WORDING)


def test_opting_out_keeps_the_record_withdrawn(db, shop):
    with db.session() as s:
        consent = s.scalar(select(MarketingConsent).where(MarketingConsent.user_id == shop["gone"]))
        assert (consent.wording, consent.withdrawn_at, consent.withdrawn_how) == (
            WORDING, NOW, "account")


def test_opting_in_again_after_withdrawing_is_a_new_consent(db, shop):
    with db.session() as s:
        service(s).opt_in(s.get(Tenant, shop["tenant"]), s.get(User, shop["gone"]), WORDING,
                          "account")
        assert s.scalar(select(func.count()).select_from(MarketingConsent)
                        .where(MarketingConsent.user_id == shop["gone"])) == 2


def test_audience_is_only_live_confirmed_consents_of_this_business(db, shop):
    with db.session() as s:
        assert audience_names(s, shop) == ["Fan", "Fr_Fan"]


def test_audience_of_a_venue_is_who_booked_there(db, shop):
    with db.session() as s:
        assert audience_names(s, shop, venue=s.get(Venue, shop["annexe"])) == ["Fr_Fan"]


def test_audience_of_a_resource_is_who_booked_it(db, shop):
    with db.session() as s:
        assert audience_names(s, shop, resource=s.get(Resource, shop["court"])) == ["Fan"]


def test_a_cancelled_booking_does_not_put_a_customer_in_a_venue_s_audience(db, shop):
    with db.session() as s:
        b.booking(s, s.get(Resource, shop["room"]), s.get(User, shop["fan"]),
                  NOW + timedelta(days=2), status="cancelled")
        assert audience_names(s, shop, venue=s.get(Venue, shop["annexe"])) == ["Fr_Fan"]


def test_send_queues_one_message_per_recipient_in_their_language(db, shop):
    with db.session() as s:
        mailing = send(s, shop)
        assert mailing.recipients == 2
        fan, fr_fan = offers(s)
        assert (fan.recipient, fan.locale, fr_fan.recipient, fr_fan.locale) == (
            "fan@example.test", "en", "fr_fan@example.test", "fr")
        assert "Two courts for one." in fan.body_text and "Club Soleil" in fan.body_text
        assert "you asked Club Soleil to send you its offers" in fan.body_text
        assert "vous avez demandé à Club Soleil" in fr_fan.body_text


def test_each_message_has_its_own_one_click_unsubscribe_headers(db, shop):
    with db.session() as s:
        send(s, shop)
        fan, fr_fan = offers(s)
        link = f"https://booking.example/unsubscribe/{secret_of(fan)}"
        assert fan.headers == {"List-Unsubscribe": f"<{link}>",
                               "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        assert secret_of(fan) != secret_of(fr_fan)


def test_only_the_digest_of_the_unsubscribe_secret_is_stored(db, shop):
    with db.session() as s:
        send(s, shop)
        secret = secret_of(offers(s)[0])
        digests = s.scalars(select(OfferRecipient.digest)).all()
        assert secret not in digests and len(digests) == 2


def test_unsubscribe_by_token_withdraws_the_consent_with_the_business(db, shop):
    with db.session() as s:
        send(s, shop)
        tenant = service(s).unsubscribe_by_token(secret_of(offers(s)[0]), how="one-click")
        assert tenant.id == shop["tenant"]
        assert audience_names(s, shop) == ["Fr_Fan"]
        consent = s.scalar(select(MarketingConsent).where(MarketingConsent.user_id == shop["fan"]))
        assert (consent.withdrawn_at, consent.withdrawn_how) == (NOW, "one-click")


def test_unsubscribe_twice_is_harmless(db, shop):
    with db.session() as s:
        send(s, shop)
        secret = secret_of(offers(s)[0])
        assert service(s).unsubscribe_by_token(secret).id == shop["tenant"]
        assert service(s).unsubscribe_by_token(secret).id == shop["tenant"]
        assert audience_names(s, shop) == ["Fr_Fan"]


def test_unknown_unsubscribe_secret_is_none(db, shop):
    with db.session() as s:
        assert service(s).unsubscribe_by_token("not-a-secret") is None


def test_mailings_past_the_daily_limit_are_refused_and_queue_nothing(db, shop):
    with db.session() as s:
        send(s, shop, per_day=1)
    with db.session() as s, pytest.raises(TooManyAttempts) as refused:
        send(s, shop, now=NOW + timedelta(hours=23), per_day=1)
    assert refused.value.status == 429 and "1 offer mailing(s) for today" in str(refused.value)
    with db.session() as s:
        assert len(offers(s)) == 2
        assert s.scalar(select(func.count()).select_from(OfferMailing)) == 1


def test_the_daily_limit_starts_again_a_day_later(db, shop):
    with db.session() as s:
        send(s, shop, per_day=1)
    with db.session() as s:
        send(s, shop, now=NOW + timedelta(days=1, minutes=1), per_day=1)
        assert len(offers(s)) == 4


def test_a_mailing_over_the_recipient_cap_is_refused(db, shop):
    with db.session() as s, pytest.raises(Conflict):
        send(s, shop, max_recipients=1)
    with db.session() as s:
        assert offers(s) == []


def test_a_mailing_to_nobody_is_refused(db, shop):
    with db.session() as s, pytest.raises(Conflict):
        service(s).send(b.tenant(s), s.get(User, shop["owner"]), "S", "B")


def test_an_unverified_business_sends_no_offer(db, shop):
    with db.session() as s:
        s.get(Tenant, shop["tenant"]).verified = False
    with db.session() as s, pytest.raises(PolicyViolation):
        send(s, shop)
    with db.session() as s:
        assert offers(s) == []


def test_preview_renders_a_language_and_counts_the_audience(db, shop):
    with db.session() as s:
        preview = service(s).preview(s.get(Tenant, shop["tenant"]), "Spring offer",
                                     "Two courts for one.", "fr")
        assert preview.recipients == 2
        assert "vous avez demandé à Club Soleil" in preview.email.text
        assert offers(s) == []


def test_consents_of_lists_businesses_booked_with_and_their_choice(db, shop):
    with db.session() as s:
        choices = service(s).consents_of(s.get(User, shop["fan"]))
        assert [(c.tenant.name, c.consent is not None) for c in choices] == [("Club Soleil", True)]
        choices = service(s).consents_of(s.get(User, shop["quiet"]))
        assert choices == []

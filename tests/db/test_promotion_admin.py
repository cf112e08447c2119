"""Promotions as owners and managers run them, on both databases: every
rule of an offer and a code refused with its field, pause, resume and end
(audited), a duplicate code, and the report's numbers from bookings priced
by the real booking path."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking.models import AuditLog, Booking, Offer, PromoCode, Resource, Tenant, User
from booking.services.booking import BookingRequest, BookingService
from booking.services.errors import Conflict, InvalidFields
from booking.services.promotions import PromotionService, status_of

from .. import builders as b
from ..conftest import NOW

PARIS = ZoneInfo("Europe/Paris")
TOMORROW = date(2026, 3, 3)
PRICE = 2000


def paris(day, hour):
    return datetime(day.year, day.month, day.day, hour, tzinfo=PARIS)


@pytest.fixture
def ids(db):
    with db.session() as s:
        tenant = b.tenant(s)
        venue = b.venue(s, tenant, hours="every day 08:00-20:00")
        court = b.resource(s, venue, capacity=1, price=PRICE)
        rival = b.tenant(s)
        rival_venue = b.venue(s, rival)
        rival_court = b.resource(s, rival_venue)
        return dict(tenant=tenant.id, venue=venue.id, court=court.id, rival=rival.id,
                    rival_venue=rival_venue.id, rival_court=rival_court.id,
                    customer=b.user(s).id, manager=b.user(s).id)


def service_call(db, ids, method, *args, now=NOW, **fields):
    """``PromotionService.<method>(tenant, *args, **fields)`` in a transaction
    of its own; returns the row's id (or the result)."""
    with db.session() as s:
        service = PromotionService(s, now)
        tenant = s.get(Tenant, ids["tenant"])
        result = getattr(service, method)(tenant, *args, **fields)
        return getattr(result, "id", result)


def make_offer(db, ids, **fields):
    values = dict(name="Off-peak", kind="off_peak", percent=20)
    values.update(fields)
    return service_call(db, ids, "create_offer", ids["manager"], **values)


def make_code(db, ids, **fields):
    values = dict(code="spring", percent=25)
    values.update(fields)
    return service_call(db, ids, "create_code", ids["manager"], **values)


def act(db, ids, method, model, row_id, now=NOW):
    with db.session() as s:
        service = PromotionService(s, now)
        row = s.get(model, row_id)
        getattr(service, method)(s.get(Tenant, ids["tenant"]), row, ids["manager"])


def load(db, model, row_id):
    with db.session() as s:
        row = s.get(model, row_id)
        s.expunge(row)
        return row


def refused(db, ids, maker, **fields):
    with pytest.raises(InvalidFields) as caught:
        maker(db, ids, **fields)
    return caught.value.errors


def actions(db, target_type):
    with db.session() as s:
        return s.scalars(select(AuditLog.action).where(AuditLog.target_type == target_type)
                         .order_by(AuditLog.id)).all()


def book(db, ids, start, code=None, customer="customer"):
    with db.session() as s:
        booking, _ = BookingService(s, NOW).book(BookingRequest(
            s.get(Tenant, ids["tenant"]), s.get(Resource, ids["court"]),
            s.get(User, ids[customer]), start, actor_id=ids[customer], code=code))
        return booking.id


class TestOfferRules:
    @pytest.mark.parametrize("fields, field", [
        ({"name": " "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"kind": "flash_sale"}, "kind"),
        ({"percent": None}, "percent"),                      # neither
        ({"amount": 500}, "percent"),                        # both
        ({"percent": 0}, "percent"),
        ({"percent": 101}, "percent"),
        ({"percent": None, "amount": 0}, "amount"),
        ({"kind": "last_minute"}, "hours_before"),
        ({"kind": "last_minute", "hours_before": 0}, "hours_before"),
        ({"kind": "early_bird"}, "days_ahead"),
        ({"kind": "early_bird", "days_ahead": 0}, "days_ahead"),
        ({"hours_before": 3}, "hours_before"),               # not a last-minute offer
        ({"days_ahead": 3}, "days_ahead"),                   # not an early-bird offer
        ({"weekdays": [7]}, "weekdays"),
        ({"weekdays": [-1]}, "weekdays"),
        ({"from_minute": 1440, "to_minute": 60}, "from_minute"),
        ({"from_minute": 60, "to_minute": -1}, "to_minute"),
        ({"from_minute": 60}, "to_minute"),
        ({"to_minute": 60}, "from_minute"),
        ({"from_minute": 60, "to_minute": 60}, "to_minute"),
        ({"valid_from": date(2026, 4, 2), "valid_until": date(2026, 4, 1)}, "valid_until"),
    ])
    def test_offer_refused_naming_the_field(self, db, ids, fields, field):
        assert field in refused(db, ids, make_offer, **fields)

    def test_offer_at_a_venue_of_another_tenant_refused(self, db, ids):
        assert "venue_id" in refused(db, ids, make_offer, venue_id=ids["rival_venue"])

    def test_offer_on_a_resource_of_another_tenant_refused(self, db, ids):
        assert "resource_id" in refused(db, ids, make_offer, resource_id=ids["rival_court"])

    def test_every_bad_field_is_named_at_once(self, db, ids):
        errors = refused(db, ids, make_offer, name="", percent=0, weekdays=[9])
        assert set(errors) == {"name", "percent", "weekdays"}

    def test_refused_offer_writes_nothing(self, db, ids):
        refused(db, ids, make_offer, percent=0)
        with db.session() as s:
            assert s.scalars(select(Offer)).all() == []
        assert actions(db, "offer") == []

    def test_valid_offer_is_created_live_and_audited(self, db, ids):
        offer = load(db, Offer, make_offer(db, ids, kind="last_minute", hours_before=4,
                                           weekdays=[4, 0, 0], resource_id=ids["court"]))
        assert (status_of(offer), offer.weekdays, offer.hours_before) == ("live", [0, 4], 4)
        assert actions(db, "offer") == ["offer.created"]


class TestCodeRules:
    @pytest.mark.parametrize("fields, field", [
        ({"code": "A"}, "code"),
        ({"code": "X" * 41}, "code"),
        ({"code": "SPRING SALE"}, "code"),
        ({"code": "ÉTÉ"}, "code"),
        ({"percent": None}, "percent"),
        ({"percent": 120}, "percent"),
        ({"percent": None, "amount": -5}, "amount"),
        ({"max_uses": 0}, "max_uses"),
        ({"max_uses_per_customer": 0}, "max_uses_per_customer"),
        ({"min_seats": 0}, "min_seats"),
        ({"min_amount": -1}, "min_amount"),
        ({"weekdays": [7]}, "weekdays"),
        ({"from_minute": 2000, "to_minute": 60}, "from_minute"),
        ({"valid_from": NOW + timedelta(days=2), "valid_until": NOW}, "valid_until"),
    ])
    def test_code_refused_naming_the_field(self, db, ids, fields, field):
        assert field in refused(db, ids, make_code, **fields)

    def test_code_for_venues_of_another_tenant_refused(self, db, ids):
        assert "venue_ids" in refused(db, ids, make_code, venue_ids=[ids["rival_venue"]])

    def test_code_for_resources_of_another_tenant_refused(self, db, ids):
        assert "resource_ids" in refused(db, ids, make_code, resource_ids=[ids["rival_court"]])

    def test_code_is_kept_upper_case(self, db, ids):
        assert load(db, PromoCode, make_code(db, ids, code="  Spring_26 ")).code == "SPRING_26"

    def test_same_code_twice_in_a_business_is_a_conflict(self, db, ids):
        make_code(db, ids, code="SPRING")
        with pytest.raises(Conflict) as caught:
            make_code(db, ids, code="spring")
        assert caught.value.field == "code" and "SPRING" in str(caught.value)

    def test_same_code_in_another_business_is_fine(self, db, ids):
        make_code(db, ids, code="SPRING")
        make_code(db, {**ids, "tenant": ids["rival"]}, code="SPRING")


class TestLifecycle:
    def test_pause_and_resume_offer(self, db, ids):
        offer_id = make_offer(db, ids)
        act(db, ids, "pause_offer", Offer, offer_id)
        assert status_of(load(db, Offer, offer_id)) == "paused"
        act(db, ids, "resume_offer", Offer, offer_id)
        assert status_of(load(db, Offer, offer_id)) == "live"
        assert actions(db, "offer") == ["offer.created", "offer.paused", "offer.resumed"]

    def test_pausing_a_paused_offer_changes_nothing(self, db, ids):
        offer_id = make_offer(db, ids)
        act(db, ids, "pause_offer", Offer, offer_id)
        act(db, ids, "pause_offer", Offer, offer_id)
        assert actions(db, "offer") == ["offer.created", "offer.paused"]

    def test_end_offer_sets_ended_at(self, db, ids):
        offer_id = make_offer(db, ids)
        act(db, ids, "end_offer", Offer, offer_id)
        offer = load(db, Offer, offer_id)
        assert (status_of(offer), offer.ended_at) == ("ended", NOW)

    def test_ended_offer_cannot_resume(self, db, ids):
        offer_id = make_offer(db, ids)
        act(db, ids, "end_offer", Offer, offer_id)
        with pytest.raises(Conflict):
            act(db, ids, "resume_offer", Offer, offer_id)
        assert status_of(load(db, Offer, offer_id)) == "ended"

    def test_ended_code_cannot_resume(self, db, ids):
        code_id = make_code(db, ids)
        act(db, ids, "pause_code", PromoCode, code_id)
        act(db, ids, "end_code", PromoCode, code_id)
        with pytest.raises(Conflict):
            act(db, ids, "resume_code", PromoCode, code_id)
        assert actions(db, "promo_code") == ["promo_code.created", "promo_code.paused",
                                             "promo_code.ended"]

    def test_paused_offer_no_longer_discounts_a_new_booking(self, db, ids):
        offer_id = make_offer(db, ids)
        discounted = load(db, Booking, book(db, ids, paris(TOMORROW, 10)))
        act(db, ids, "pause_offer", Offer, offer_id)
        full = load(db, Booking, book(db, ids, paris(TOMORROW, 11)))
        assert (discounted.price, full.price) == (1600, PRICE)

    def test_resumed_offer_discounts_again(self, db, ids):
        offer_id = make_offer(db, ids)
        act(db, ids, "pause_offer", Offer, offer_id)
        act(db, ids, "resume_offer", Offer, offer_id)
        assert load(db, Booking, book(db, ids, paris(TOMORROW, 10))).price == 1600


class TestReport:
    @pytest.fixture
    def fixture(self, db, ids):
        """Two bookings priced by an off-peak offer (08:00-12:00), one by a
        code that beats it, one with the offer then cancelled, one outside
        every promotion."""
        offer_id = make_offer(db, ids, from_minute=8 * 60, to_minute=12 * 60)
        code_id = make_code(db, ids, code="SPRING", percent=50)
        book(db, ids, paris(TOMORROW, 9))
        book(db, ids, paris(TOMORROW, 10))
        book(db, ids, paris(TOMORROW, 11), code="spring")
        cancelled = book(db, ids, paris(TOMORROW, 8))
        book(db, ids, paris(TOMORROW, 15))
        with db.session() as s:
            BookingService(s, NOW).cancel(s.get(Tenant, ids["tenant"]),
                                          s.get(Booking, cancelled), by_staff=True)
        return offer_id, code_id

    def report(self, db, ids, first=NOW.date(), last=NOW.date()):
        with db.session() as s:
            return PromotionService(s, NOW).report(s.get(Tenant, ids["tenant"]), first, last)

    def test_offer_uses_discount_and_revenue(self, db, ids, fixture):
        [offer] = self.report(db, ids).offers
        assert (offer.id, offer.uses, offer.discount, offer.revenue) == (fixture[0], 2, 800,
                                                                           3200)

    def test_code_uses_discount_and_revenue(self, db, ids, fixture):
        [code] = self.report(db, ids).codes
        assert (code.id, code.label, code.uses, code.discount, code.revenue) == (
            fixture[1], "SPRING", 1, 1000, 1000)

    def test_bookings_made_outside_the_period_are_not_counted(self, db, ids, fixture):
        day = NOW.date() - timedelta(days=1)
        report = self.report(db, ids, day, day)
        assert [(r.uses, r.discount, r.revenue) for r in report.offers + report.codes] == [
            (0, 0, 0), (0, 0, 0)]

    def test_ended_promotions_stay_in_the_report(self, db, ids, fixture):
        act(db, ids, "end_offer", Offer, fixture[0])
        [offer] = self.report(db, ids).offers
        assert (offer.status, offer.uses) == ("ended", 2)

    def test_other_tenants_bookings_are_not_counted(self, db, ids, fixture):
        rival = {**ids, "tenant": ids["rival"]}
        make_offer(db, rival)
        with db.session() as s:
            report = PromotionService(s, NOW).report(s.get(Tenant, ids["rival"]), NOW.date(),
                                                     NOW.date())
        assert [(r.uses, r.revenue) for r in report.offers] == [(0, 0)]

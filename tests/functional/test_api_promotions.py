"""The promotions API: offers and codes created, listed, paused, resumed
and ended by owners and managers; the report; errors in the API's shape."""

from datetime import datetime

import pytest
from sqlalchemy import func, select

from booking.models import AuditLog, Offer, PromoCode, Resource, Tenant, User
from booking.services.booking import BookingRequest, BookingService
from booking.services.promotions import PromotionService

from ..conftest import NOW
from .api import TOMORROW, at, bearer, book, post_json

OFFER = {"name": "Off-peak mornings", "kind": "off_peak", "percent": 20,
         "from_minute": 480, "to_minute": 720, "weekdays": [0, 1, 2, 3, 4]}
CODE = {"code": "spring", "percent": 25, "max_uses": 10}


def url(world, *parts):
    return "/".join([f"/api/v1/t/{world.slug}", *map(str, parts)])


def create(testapp, world, what, body, who="manager", status=201):
    return post_json(testapp, url(world, what), body, who, world, status)


def rival_offer(world):
    with world.db.session() as s:
        rival = s.scalar(select(Tenant).where(Tenant.slug == world.other_slug))
        return PromotionService(s, NOW).create_offer(rival, None, name="Theirs",
                                                     kind="off_peak", percent=10).id


def book_with_code(world, start, code):
    """A customer's court booking priced with ``code`` by the booking service
    (the API's booking endpoint is not where codes are typed here)."""
    with world.db.session() as s:
        BookingService(s, NOW).book(BookingRequest(
            s.get(Tenant, world.tenant_id), s.get(Resource, world.court_id),
            s.get(User, world.user_ids["customer"]), datetime.fromisoformat(start),
            code=code))


def count(world, model):
    with world.db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


class TestOffers:
    def test_manager_creates_an_offer(self, testapp, world):
        offer = create(testapp, world, "offers", OFFER).json
        assert {k: offer[k] for k in ("name", "kind", "percent", "status", "weekdays")} == {
            "name": "Off-peak mornings", "kind": "off_peak", "percent": 20, "status": "live",
            "weekdays": [0, 1, 2, 3, 4]}
        assert offer["currency"] == "EUR" and isinstance(offer["id"], int)

    def test_owner_creates_an_offer(self, testapp, world):
        create(testapp, world, "offers", OFFER, who="owner")

    def test_offers_are_listed(self, testapp, world):
        created = create(testapp, world, "offers", OFFER).json
        listed = testapp.get(url(world, "offers"), headers=bearer(world, "manager")).json
        assert listed == {"offers": [created]}

    def test_pause_resume_end(self, testapp, world):
        offer_id = create(testapp, world, "offers", OFFER).json["id"]
        statuses = [post_json(testapp, url(world, "offers", offer_id, action), {}, "manager",
                              world, 200).json["status"]
                    for action in ("pause", "resume", "end")]
        assert statuses == ["paused", "live", "ended"]

    def test_ended_offer_cannot_resume(self, testapp, world):
        offer_id = create(testapp, world, "offers", OFFER).json["id"]
        post_json(testapp, url(world, "offers", offer_id, "end"), {}, "manager", world, 200)
        error = post_json(testapp, url(world, "offers", offer_id, "resume"), {}, "manager",
                          world, 409).json["error"]
        assert (error["code"], error["field"]) == ("conflict", "status")
        assert "ended" in error["message"]

    @pytest.mark.parametrize("changes, field, words", [
        ({"percent": 0}, "percent", "between 1 and 100"),
        ({"percent": "20"}, "percent", "must be an integer"),
        ({"amount": 500}, "percent", "not both"),
        ({"kind": "last_minute"}, "hours_before", "required for a last-minute"),
        ({"kind": "early_bird"}, "days_ahead", "required for an early-bird"),
        ({"to_minute": 1440}, "to_minute", "0 to 1439"),
        ({"weekdays": [8]}, "weekdays", "0 (Monday) to 6"),
        ({"weekdays": "mon"}, "weekdays", "list"),
        ({"valid_from": "2026-05-01", "valid_until": "2026-04-01"}, "valid_until", "before"),
        ({"stacks": "yes"}, "stacks", "true or false"),
        ({"colour": "red"}, "colour", "not a field"),
    ])
    def test_bad_offer_is_400_naming_the_field(self, testapp, world, changes, field, words):
        error = create(testapp, world, "offers", {**OFFER, **changes}, status=400).json["error"]
        assert (error["code"], error["field"]) == ("invalid", field)
        assert words in error["message"]
        assert count(world, Offer) == count(world, AuditLog) == 0

    def test_venue_of_another_tenant_is_400(self, testapp, world):
        body = {**OFFER, "venue_id": world.rival_venue_id}
        error = create(testapp, world, "offers", body, status=400).json["error"]
        assert error["field"] == "venue_id"

    def test_offer_of_another_tenant_is_404(self, testapp, world):
        offer_id = rival_offer(world)
        post_json(testapp, url(world, "offers", offer_id, "pause"), {}, "manager", world, 404)

    def test_staff_is_refused(self, testapp, world):
        create(testapp, world, "offers", OFFER, who="staff", status=403)
        testapp.get(url(world, "offers"), headers=bearer(world, "staff"), status=403)

    def test_customer_finds_nothing(self, testapp, world):
        create(testapp, world, "offers", OFFER, who="customer", status=404)

    def test_anonymous_is_asked_to_sign_in(self, testapp, world):
        testapp.get(url(world, "offers"), status=401)

    def test_api_is_not_served_below_the_staff_area(self, testapp, world):
        testapp.get(f"/api/v1/t/{world.slug}/manage/offers", headers=bearer(world, "manager"),
                    status=404)


class TestCodes:
    def test_manager_creates_a_code_upper_case(self, testapp, world):
        code = create(testapp, world, "codes", CODE).json
        assert (code["code"], code["status"], code["uses"], code["max_uses"]) == (
            "SPRING", "live", 0, 10)

    def test_code_instants_round_trip(self, testapp, world):
        body = {**CODE, "valid_from": "2026-03-01T00:00:00+01:00",
                "valid_until": "2026-04-01T00:00:00+02:00"}
        code = create(testapp, world, "codes", body).json
        assert (code["valid_from"], code["valid_until"]) == ("2026-02-28T23:00:00+00:00",
                                                             "2026-03-31T22:00:00+00:00")

    def test_duplicate_code_is_409(self, testapp, world):
        create(testapp, world, "codes", CODE)
        error = create(testapp, world, "codes", {**CODE, "code": "Spring"},
                       status=409).json["error"]
        assert (error["code"], error["field"]) == ("conflict", "code")
        assert error["message"] == "the code SPRING already exists in this business"
        assert count(world, PromoCode) == 1

    @pytest.mark.parametrize("changes, field", [
        ({"code": "A"}, "code"),
        ({"code": "NO SPACES"}, "code"),
        ({"max_uses": 0}, "max_uses"),
        ({"venue_ids": [1, "2"]}, "venue_ids"),
        ({"valid_from": "2026-03-01"}, "valid_from"),
        ({"first_booking_only": 1}, "first_booking_only"),
    ])
    def test_bad_code_is_400_naming_the_field(self, testapp, world, changes, field):
        error = create(testapp, world, "codes", {**CODE, **changes}, status=400).json["error"]
        assert error["field"] == field
        assert count(world, PromoCode) == 0

    def test_pause_resume_end(self, testapp, world):
        code_id = create(testapp, world, "codes", CODE).json["id"]
        statuses = [post_json(testapp, url(world, "codes", code_id, action), {}, "owner",
                              world, 200).json["status"]
                    for action in ("pause", "resume", "end")]
        assert statuses == ["paused", "live", "ended"]

    def test_ended_code_cannot_be_paused(self, testapp, world):
        code_id = create(testapp, world, "codes", CODE).json["id"]
        post_json(testapp, url(world, "codes", code_id, "end"), {}, "manager", world, 200)
        post_json(testapp, url(world, "codes", code_id, "pause"), {}, "manager", world, 409)

    def test_staff_is_refused(self, testapp, world):
        create(testapp, world, "codes", CODE, who="staff", status=403)

    def test_other_tenant_owner_finds_nothing(self, testapp, world):
        code_id = create(testapp, world, "codes", CODE).json["id"]
        post_json(testapp, url(world, "codes", code_id, "end"), {}, "other_tenant_owner",
                  world, 404)


class TestReport:
    def test_report_counts_offer_and_code(self, testapp, world):
        offer_id = create(testapp, world, "offers", {**OFFER, "percent": 10}).json["id"]
        code_id = create(testapp, world, "codes", {**CODE, "percent": 50}).json["id"]
        book(testapp, world, start=at(TOMORROW, 9))
        book_with_code(world, at(TOMORROW, 10), "spring")
        report = testapp.get(url(world, "promotions", "report"),
                             headers=bearer(world, "manager")).json
        assert (report["from"], report["to"], report["currency"]) == (
            "2026-02-01", "2026-03-02", "EUR")
        assert report["offers"] == [{"id": offer_id, "name": "Off-peak mornings",
                                     "status": "live", "uses": 1, "discount": 200,
                                     "revenue": 1800}]
        assert report["codes"] == [{"id": code_id, "code": "SPRING", "status": "live",
                                    "uses": 1, "discount": 1000, "revenue": 1000}]

    def test_report_period_backwards_is_400(self, testapp, world):
        error = testapp.get(url(world, "promotions", "report"),
                            {"from": "2026-03-02", "to": "2026-03-01"},
                            headers=bearer(world, "manager"), status=400).json["error"]
        assert error["field"] == "to"

    def test_report_refused_to_staff(self, testapp, world):
        testapp.get(url(world, "promotions", "report"), headers=bearer(world, "staff"),
                    status=403)

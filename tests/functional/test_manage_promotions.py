"""The staff area's promotions through their real forms: offers and codes
created, paused, resumed and ended; every bad field shown at once; the
report; owners and managers only."""

from datetime import date, datetime

import pytest
from sqlalchemy import select

from booking.models import AuditLog, Offer, PromoCode, Resource, Tenant, User
from booking.services.booking import BookingRequest, BookingService
from booking.services.promotions import PromotionService

from ..conftest import NOW
from .api import TOMORROW, at
from .site import form_by_action, sign_in


def manage(world, *parts):
    return "/".join([f"/t/{world.slug}/manage", *map(str, parts)])


@pytest.fixture
def manager(testapp, world):
    sign_in(testapp, world.emails["manager"])
    return testapp


def offer_form(page):
    return page.forms["offer-form"]


def fill(form, **values):
    for name, value in values.items():
        form[name] = value
    return form


def rows(page, kind):
    return {row[f"data-{kind}"]: row for row in page.html.select(f"tr[data-{kind}]")}


def statuses(page, kind):
    return [row.select_one(".status").get_text(strip=True) for row in rows(page, kind).values()]


def create_offer(app, world, **values):
    page = app.get(manage(world, "offers", ""))
    form = fill(offer_form(page), **{"name": "Mornings", "kind": "off_peak", "percent": "20",
                                     **values})
    return form.submit(status=303).follow()


def create_code(app, world, **values):
    page = app.get(manage(world, "codes", ""))
    form = fill(page.forms["code-form"], **{"code": "spring", "percent": "25", **values})
    return form.submit(status=303).follow()


def press(page, kind, row_id, action, status=303):
    """Press the ``action`` button of a row."""
    form = form_by_action(page, f"/{row_id}/{action}")
    response = form.submit(status=status)
    return response.follow() if status == 303 else response


def only(world, model):
    with world.db.session() as s:
        row = s.scalars(select(model)).one()
        s.expunge(row)
        return row


class TestOffers:
    def test_manager_creates_an_offer_from_the_form(self, manager, world):
        page = create_offer(manager, world, from_time="08:00", to_time="12:00")
        offer = only(world, Offer)
        assert (offer.name, offer.percent, offer.from_minute, offer.to_minute) == (
            "Mornings", 20, 480, 720)
        assert "The offer Mornings is live." in page.text
        assert statuses(page, "offer") == ["Live"]

    def test_weekdays_and_scope_from_the_form(self, manager, world):
        page = manager.get(manage(world, "offers", ""))
        form = fill(offer_form(page), name="Court days", kind="early_bird", days_ahead="7",
                    amount="5.00", resource_id=str(world.court_id))
        for box in form.fields["weekdays"]:
            if box._value in ("0", "5"):
                box.checked = True
        form.submit(status=303)
        offer = only(world, Offer)
        assert (offer.kind, offer.days_ahead, offer.amount, offer.weekdays,
                offer.resource_id) == ("early_bird", 7, 500, [0, 5], world.court_id)

    def test_every_bad_field_is_shown_and_nothing_saved(self, manager, world):
        page = manager.get(manage(world, "offers", ""))
        form = fill(offer_form(page), name="", kind="last_minute", percent="0",
                    from_time="25:00", valid_from="2026-05-02", valid_until="2026-05-01")
        page = form.submit(status=400)
        shown = {item.select_one("a")["href"] for item in page.html.select(".error-summary li")}
        assert shown == {"#name", "#percent", "#hours_before", "#from_time", "#valid_until"}
        assert page.forms["offer-form"]["percent"].value == "0"
        with world.db.session() as s:
            assert s.scalars(select(Offer)).all() == []

    def test_rule_errors_are_shown_when_the_text_is_well_formed(self, manager, world):
        page = manager.get(manage(world, "offers", ""))
        form = fill(offer_form(page), name="Spring", kind="off_peak", percent="20",
                    valid_from="2026-05-02", valid_until="2026-05-01")
        page = form.submit(status=400)
        assert page.html.select_one("#valid_until-error").get_text(strip=True) == \
            "must not be before the start of the validity"

    def test_pause_resume_end(self, manager, world):
        page = create_offer(manager, world)
        offer_id = only(world, Offer).id
        page = press(page, "offer", offer_id, "pause")
        assert statuses(page, "offer") == ["Paused"]
        page = press(page, "offer", offer_id, "resume")
        assert statuses(page, "offer") == ["Live"]
        page = press(page, "offer", offer_id, "end")
        assert statuses(page, "offer") == ["Ended"]
        assert rows(page, "offer")[str(offer_id)].select("form") == []
        with world.db.session() as s:
            assert s.scalars(select(AuditLog.action).where(AuditLog.target_type == "offer")
                             .order_by(AuditLog.id)).all() == [
                "offer.created", "offer.paused", "offer.resumed", "offer.ended"]

    def test_ended_offer_cannot_resume(self, manager, world):
        page = create_offer(manager, world)
        offer_id = only(world, Offer).id
        page = press(page, "offer", offer_id, "end")
        token = offer_form(page)["csrf_token"].value
        refused = manager.post(manage(world, "offers", offer_id, "resume"),
                               {"csrf_token": token}, status=409)
        assert "an ended promotion cannot be paused or resumed" in refused.text
        assert only(world, Offer).ended_at == NOW

    def test_offer_of_another_tenant_is_404(self, manager, world):
        with world.db.session() as s:
            rival = s.scalar(select(Tenant).where(Tenant.slug == world.other_slug))
            offer_id = PromotionService(s, NOW).create_offer(rival, None, name="Theirs",
                                                             kind="off_peak", percent=5).id
        page = manager.get(manage(world, "offers", ""))
        token = offer_form(page)["csrf_token"].value
        manager.post(manage(world, "offers", offer_id, "pause"), {"csrf_token": token},
                     status=404)

    @pytest.mark.parametrize("who", ["staff", "other_venue_staff"])
    def test_staff_is_refused(self, testapp, world, who):
        sign_in(testapp, world.emails[who])
        testapp.get(manage(world, "offers", ""), status=403)
        testapp.get(manage(world, "codes", ""), status=403)
        testapp.get(manage(world, "promotions", "report"), status=403)

    def test_staff_navigation_has_no_promotions(self, testapp, world):
        sign_in(testapp, world.emails["staff"])
        nav = testapp.get(manage(world, "")).html.select_one("nav.staff-nav").get_text()
        assert "Offers" not in nav and "Promo codes" not in nav

    def test_pages_are_not_served_outside_the_staff_area(self, manager, world):
        manager.get(f"/t/{world.slug}/offers/", status=404)

    def test_manager_navigation_links_the_pages(self, manager, world):
        nav = manager.get(manage(world, "")).html.select_one("nav.staff-nav")
        links = {a["href"] for a in nav.select("a")}
        assert {manage(world, "offers", ""), manage(world, "codes", ""),
                manage(world, "promotions", "report")} <= {
            link.replace("http://booking.test", "") for link in links}


class TestCodes:
    def test_manager_creates_a_code(self, manager, world):
        page = create_code(manager, world, max_uses="10", valid_from="2026-03-01",
                           valid_until="2026-03-31")
        code = only(world, PromoCode)
        assert (code.code, code.percent, code.max_uses) == ("SPRING", 25, 10)
        assert code.valid_from == datetime.fromisoformat("2026-02-28T23:00:00+00:00")
        assert code.valid_until == datetime.fromisoformat("2026-03-31T22:00:00+00:00")
        assert rows(page, "code")[str(code.id)].select_one(".uses").get_text(strip=True) == \
            "0 of 10"

    def test_duplicate_code_is_409_on_the_form(self, manager, world):
        create_code(manager, world)
        page = manager.get(manage(world, "codes", ""))
        page = fill(page.forms["code-form"], code="Spring", percent="10").submit(status=409)
        assert "the code SPRING already exists in this business" in page.text
        with world.db.session() as s:
            assert len(s.scalars(select(PromoCode)).all()) == 1

    def test_bad_code_text_is_400(self, manager, world):
        page = manager.get(manage(world, "codes", ""))
        page = fill(page.forms["code-form"], code="NO SPACES", percent="10").submit(status=400)
        assert page.html.select_one("#code-error") is not None

    def test_pause_resume_end(self, manager, world):
        page = create_code(manager, world)
        code_id = only(world, PromoCode).id
        page = press(page, "code", code_id, "pause")
        page = press(page, "code", code_id, "resume")
        page = press(page, "code", code_id, "end")
        assert statuses(page, "code") == ["Ended"]


class TestReport:
    def test_default_period_is_the_last_30_days(self, manager, world):
        page = manager.get(manage(world, "promotions", "report"))
        form = page.forms["report-form"]
        assert (form["from"].value, form["to"].value) == ("2026-02-01", "2026-03-02")

    def test_numbers_per_offer_and_code(self, manager, world):
        create_offer(manager, world, percent="10")
        create_code(manager, world, percent="50")
        with world.db.session() as s:
            service = BookingService(s, NOW)
            tenant, court = s.get(Tenant, world.tenant_id), s.get(Resource, world.court_id)
            customer = s.get(User, world.user_ids["customer"])
            for hour, code in ((9, None), (10, "SPRING"), (11, None)):
                booking, _ = service.book(BookingRequest(
                    tenant, court, customer, datetime.fromisoformat(at(TOMORROW, hour)),
                    code=code))
            service.cancel(tenant, booking, by_staff=True)  # the 11:00 one is not counted
        page = manager.get(manage(world, "promotions", "report"))
        [offer] = page.html.select("table.report-offers tbody tr")
        [code] = page.html.select("table.report-codes tbody tr")
        cells = [[row.select_one(f".{c}").get_text(strip=True) for c in ("uses", "discount",
                                                                         "revenue")]
                 for row in (offer, code)]
        assert cells == [["1", "€2.00", "€18.00"], ["1", "€10.00", "€10.00"]]

    def test_backwards_period_is_400(self, manager, world):
        page = manager.get(manage(world, "promotions", "report"),
                           {"from": "2026-03-02", "to": "2026-03-01"}, status=400)
        assert page.html.select_one("#to-error") is not None

    def test_period_outside_the_bookings_shows_zero(self, manager, world):
        create_offer(manager, world)
        page = manager.get(manage(world, "promotions", "report"),
                           {"from": date(2026, 1, 1).isoformat(), "to": "2026-01-31"})
        assert page.html.select_one("table.report-offers .uses").get_text(strip=True) == "0"


def test_pages_speak_french(manager, world):
    page = manager.get(manage(world, "offers", ""), headers={"Accept-Language": "fr"})
    assert "Aucune offre pour l’instant." in page.text and "Créer l’offre" in page.text

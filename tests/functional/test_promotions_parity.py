"""Parity of the promotions' two surfaces: the same offer or code typed on
the staff page and sent to the API is the same row with the same audit
row, and the same wrong input is refused on the same field with the same
words."""

from sqlalchemy import select

from booking.models import AuditLog, Offer, PromoCode
from booking.services.promotions import code_details, offer_details

from .api import post_json
from .site import sign_in

OFFER_PAGE = {"name": "Court mornings", "kind": "last_minute", "percent": "15",
              "hours_before": "6", "from_time": "07:30", "to_time": "11:00",
              "valid_from": "2026-03-10", "valid_until": "2026-06-30", "stacks": True}
OFFER_API = {"name": "Court mornings", "kind": "last_minute", "percent": 15, "hours_before": 6,
             "from_minute": 450, "to_minute": 660, "weekdays": [1, 3],
             "valid_from": "2026-03-10", "valid_until": "2026-06-30", "stacks": True}
CODE_PAGE = {"percent": "", "amount": "7.50", "valid_from": "2026-03-10",
             "valid_until": "2026-03-31", "max_uses": "100", "max_uses_per_customer": "2",
             "min_seats": "2", "min_amount": "30.00", "first_booking_only": True}
CODE_API = {"amount": 750, "valid_from": "2026-03-10T00:00:00+01:00",
            "valid_until": "2026-04-01T00:00:00+02:00", "max_uses": 100,
            "max_uses_per_customer": 2, "min_seats": 2, "min_amount": 3000,
            "weekdays": [1, 3], "first_booking_only": True}


def manage(world, what):
    return f"/t/{world.slug}/manage/{what}/"


def submit(testapp, world, what, form_id, values, ticks, status=303):
    form = testapp.get(manage(world, what)).forms[form_id]
    for name, value in values.items():
        form[name] = value
    for name, chosen in ticks.items():
        for box in form.fields[name]:
            box.checked = box._value in chosen
    return form.submit(status=status)


def created(world, model, describe):
    """Each row's terms and the details of its audit row (but the code's
    text, which two codes of one business cannot share), in order."""
    with world.db.session() as s:
        rows = s.scalars(select(model).order_by(model.id)).all()
        audits = {row.target_id: row for row in s.scalars(
            select(AuditLog).where(AuditLog.action.endswith(".created")))}
        return [(describe(row), audits[row.id].actor_id,
                 {**audits[row.id].details, "code": None}) for row in rows]


def test_offer_made_on_the_page_and_through_the_api_is_the_same(testapp, world):
    sign_in(testapp, world.emails["manager"])
    submit(testapp, world, "offers", "offer-form",
           {**OFFER_PAGE, "resource_id": str(world.court_id)}, {"weekdays": {"1", "3"}})
    post_json(testapp, f"/api/v1/t/{world.slug}/offers",
              {**OFFER_API, "resource_id": world.court_id}, "manager", world, 201)
    page, api = created(world, Offer, offer_details)
    assert page == api
    assert page[0]["resource_id"] == world.court_id


def test_code_made_on_the_page_and_through_the_api_is_the_same(testapp, world):
    sign_in(testapp, world.emails["manager"])
    submit(testapp, world, "codes", "code-form", {**CODE_PAGE, "code": "page-code"},
           {"weekdays": {"1", "3"}, "venue_ids": {str(world.venue_id)}})
    post_json(testapp, f"/api/v1/t/{world.slug}/codes",
              {**CODE_API, "code": "api-code", "venue_ids": [world.venue_id]}, "manager",
              world, 201)

    def without_code(code):
        return {**code_details(code), "code": None}

    page, api = created(world, PromoCode, without_code)
    assert page == api
    assert page[0]["venue_ids"] == [world.venue_id]


def test_same_rule_refused_with_the_same_words_on_both(testapp, world):
    sign_in(testapp, world.emails["manager"])
    page = submit(testapp, world, "offers", "offer-form",
                  {**OFFER_PAGE, "hours_before": ""}, {}, status=400)
    shown = page.html.select_one("#hours_before-error").get_text(strip=True)
    error = post_json(testapp, f"/api/v1/t/{world.slug}/offers",
                      {**OFFER_API, "hours_before": None}, "manager", world, 400).json["error"]
    assert (error["field"], error["message"]) == ("hours_before", shown)

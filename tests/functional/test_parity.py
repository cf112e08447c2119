"""Parity: an action that several surfaces offer gives the same result on
each of them. One table lists the shared actions and the surfaces that
offer them; every action × surface × payment mode is a case, taken on its
own booking and compared with the same action taken on the row's first
surface: the booking's state, its payment and refund rows, the emails
queued about it and its audit rows must be the same."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from booking.models import AuditLog, Booking, OutboxMessage, Payment, Refund, Tenant

from .. import builders as b
from . import payments
from .api import IN_A_WEEK, PARIS, book, post_json
from .payments import confirm, paid_booking, review
from .site import form_by_action, sign_in

#: The fixtures of the site under ``booking.payments = stripe``.
fake_stripe, stripe_apps, stripe, payapp = (
    payments.fake_stripe, payments.stripe_apps, payments.stripe, payments.payapp)

#: Each shared action, and the surfaces that offer it (the first is the
#: reference the others are compared with).
SURFACES = {
    "book": ("site", "api"),
    "cancel": ("site", "api"),                      # by the customer
    "cancel by staff": ("staff", "api"),            # the refund the policy gives
    "cancel by staff, refunding nothing": ("staff", "api"),
    # A manager closing the venue over the booking cancels it as the desk does.
    "cancel by a manager, refunding all": ("staff", "api", "closure"),
    "move": ("site", "api"),                        # by the customer
    "move by staff": ("staff", "api"),
}
#: The refund each staff cancellation chooses, and who makes it.
STAFF_CANCELS = {
    "cancel by staff": ("policy", "staff"),
    "cancel by staff, refunding nothing": ("none", "staff"),
    "cancel by a manager, refunding all": ("full", "manager"),
}
#: A manager's cancellation gives the closure's reason.
REASON = "Flooding"
MODES = ("onsite", "stripe")
CASES = [(action, surface, mode)
         for action, surfaces in SURFACES.items() for surface in surfaces[1:]
         for mode in MODES]

#: The reference case is taken at 10:00, the compared one at 14:00; a move
#: goes two hours later.
HOURS = {"reference": 10, "compared": 14}
MOVE = timedelta(hours=2)


def start_at(hour):
    return datetime(IN_A_WEEK.year, IN_A_WEEK.month, IN_A_WEEK.day, hour, tzinfo=PARIS)


def booking_id_at(world, start):
    with world.db.session() as s:
        return s.scalar(select(Booking.id).where(Booking.starts_at == start))


def made_booking(app, stripe, world, mode, start):
    """A customer's court booking at ``start``, made on the site (paid
    online under ``stripe``); the app is signed out afterwards."""
    if mode == "stripe":
        paid_booking(app, stripe, world, start=start.isoformat())
    else:
        confirm(review(app, world, start=start.isoformat()))
    app.reset()
    return booking_id_at(world, start)


def site_page(world, booking_id):
    return f"/t/{world.slug}/bookings/{booking_id}/"


def desk_page(world, booking_id):
    return f"/t/{world.slug}/manage/bookings/{booking_id}/"


def api_url(world, booking_id, action):
    return f"/api/v1/t/{world.slug}/bookings/{booking_id}/{action}"


def take(action, surface, app, world, start, booking_id):
    """Take ``action`` on ``surface``: on the booking ``booking_id``, or a
    new booking at ``start``."""
    new_start = start + MOVE
    if (action, surface) == ("book", "site"):
        confirm(review(app, world, start=start.isoformat()))
    elif (action, surface) == ("book", "api"):
        book(app, world, start=start.isoformat())
    elif (action, surface) == ("cancel", "site"):
        sign_in(app, world.emails["customer"])
        form_by_action(app.get(site_page(world, booking_id)), "/cancel").submit(status=303)
    elif action == "cancel" and surface == "api":
        post_json(app, api_url(world, booking_id, "cancel"), {}, "customer", world, 200)
    elif action in STAFF_CANCELS and surface == "staff":
        refund, who = STAFF_CANCELS[action]
        sign_in(app, world.emails[who])
        form = form_by_action(app.get(desk_page(world, booking_id)), "/cancel")
        if "refund" in form.fields:
            form["refund"] = refund
        form["reason"] = REASON if who == "manager" else ""
        form.submit(status=303)
    elif action in STAFF_CANCELS and surface == "api":
        refund, who = STAFF_CANCELS[action]
        post_json(app, api_url(world, booking_id, "cancel"),
                  {"refund": refund, "reason": REASON if who == "manager" else ""}, who,
                  world, 200)
    elif surface == "closure":
        sign_in(app, world.emails["manager"])
        page = app.get(f"/t/{world.slug}/manage/venues/{world.venue_id}/closures/")
        form = form_by_action(page, "/closures/")
        form["scope"], form["reason"] = "venue", REASON
        form["starts_at"] = start.strftime("%Y-%m-%dT%H:%M")
        form["ends_at"] = (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
        [decision] = [f for f in form.submit(status=200).forms.values()
                      if "decision" in f.fields]
        decision.submit("decision", value="cancel", status=303)
    elif (action, surface) == ("move", "site"):
        sign_in(app, world.emails["customer"])
        page = app.get(site_page(world, booking_id) + "reschedule",
                       {"from": IN_A_WEEK.isoformat()})
        [form] = [f for f in page.forms.values() if f.action.endswith("/reschedule")
                  and "start" in f.fields
                  and datetime.fromisoformat(f["start"].value) == new_start]
        form.submit(status=303)
    elif (action, surface) == ("move", "api"):
        post_json(app, api_url(world, booking_id, "reschedule"),
                  {"start": new_start.isoformat()}, "customer", world, 200)
    elif (action, surface) == ("move by staff", "staff"):
        sign_in(app, world.emails["staff"])
        page = app.get(desk_page(world, booking_id))
        token = page.html.select_one("input[name=csrf_token]")["value"]
        app.post(desk_page(world, booking_id) + "move", {
            "csrf_token": token, "when": new_start.strftime("%Y-%m-%dT%H:%M"),
            "resource": str(world.court_id)}, status=303)
    elif (action, surface) == ("move by staff", "api"):
        post_json(app, api_url(world, booking_id, "reschedule"),
                  {"start": new_start.isoformat(), "resource_id": world.court_id}, "staff",
                  world, 200)
    else:
        raise AssertionError(f"no way to take {action!r} on {surface!r}")
    app.reset()


def outcome(world, booking_id, start):
    """What an action left, without ids and instants: the booking (its
    start as an offset from ``start``), its payments and refunds, the kinds
    and recipients of its emails, and its audit actions with their actors."""
    with world.db.session() as s:
        booking = s.get(Booking, booking_id)
        payments_ = s.scalars(select(Payment).where(Payment.booking_id == booking_id)
                              .order_by(Payment.id)).all()
        refunds = s.scalars(select(Refund).where(Refund.payment_id.in_(
            [p.id for p in payments_])).order_by(Refund.id)).all()
        emails = s.execute(select(OutboxMessage.kind, OutboxMessage.recipient)
                           .where(OutboxMessage.booking_id == booking_id)).all()
        audit = s.execute(select(AuditLog.action, AuditLog.actor_id)
                          .where(AuditLog.target_type == "booking",
                                 AuditLog.target_id == booking_id)
                          .order_by(AuditLog.id)).all()
        return {
            "booking": {
                "status": booking.status, "payment_status": booking.payment_status,
                "price": booking.price, "seats": booking.seats,
                "resource_id": booking.resource_id, "moved_by": booking.starts_at - start,
                "held": booking.hold_expires_at is not None, "sequence": booking.sequence,
                "cancel_reason": booking.cancel_reason,
            },
            "payments": [(p.provider, p.status, p.amount, p.refunded_amount,
                          p.checkout_url is not None) for p in payments_],
            "refunds": [(r.amount, r.status, r.reason) for r in refunds],
            "emails": sorted(tuple(row) for row in emails),
            "audit": [tuple(row) for row in audit],
        }


def run_case(action, surface, app, stripe, world, mode, hour):
    start = start_at(hour)
    booking_id = None if action == "book" else made_booking(app, stripe, world, mode, start)
    take(action, surface, app, world, start, booking_id)
    return outcome(world, booking_id or booking_id_at(world, start), start)


@pytest.mark.parametrize("action, surface, mode", CASES)
def test_surface_gives_the_same_outcome_as_the_others(request, world, stripe, action, surface,
                                                      mode):
    app = request.getfixturevalue("payapp" if mode == "stripe" else "testapp")
    payments.set_refund_policy(world, "partial", 50)
    reference = SURFACES[action][0]
    expected = run_case(action, reference, app, stripe, world, mode, HOURS["reference"])
    got = run_case(action, surface, app, stripe, world, mode, HOURS["compared"])
    assert got == expected


def test_paid_cancellation_refunds_on_every_customer_surface(world, payapp, stripe):
    """The table's premise, checked once: under ``stripe`` a paid booking
    cancelled by its customer is refunded (what the policy gives)."""
    payments.set_refund_policy(world, "full")
    got = run_case("cancel", "api", payapp, stripe, world, "stripe", HOURS["compared"])
    assert got["booking"]["payment_status"] == "refunded"
    assert [refund[:2] for refund in got["refunds"]] == [(2000, "succeeded")]


def test_code_gives_the_same_breakdown_on_the_site_and_in_the_api(world, testapp):
    """Issue 21: one pricing service. The same code (typed in another case
    on each surface) on the same kind of slot makes the same breakdown."""
    with world.db.session() as s:
        tenant = s.get(Tenant, world.tenant_id)
        b.offer(s, tenant, name="Early", percent=10, stacks=True, from_minute=9 * 60,
                to_minute=11 * 60)
        b.promo_code(s, tenant, code="SPRING20")
        b.gift_voucher(s, tenant, code="GIFT-ABCD-1234", balance=800)
    site_start, api_start = start_at(10), start_at(10) + timedelta(days=1)
    page = review(testapp, world, start=site_start.isoformat())
    form = form_by_action(page.click("Change"), "/book")
    form["code"], form["voucher"] = "spring20", "gift-abcd-1234"
    confirm(form.submit(status=303).follow())
    testapp.reset()
    with world.db.session() as s:  # the first voucher is spent: a second one, as full
        b.gift_voucher(s, s.get(Tenant, world.tenant_id), code="GIFT-WXYZ-1234", balance=800)
    body = book(testapp, world, start=api_start.isoformat(), code="Spring20",
                voucher="giftwxyz1234").json
    with world.db.session() as s:
        site = s.scalar(select(Booking.price_breakdown).where(Booking.starts_at == site_start))
    assert site["lines"] and [line["kind"] for line in site["lines"]] == ["offer", "code",
                                                                           "voucher"]
    without_refs = [{k: v for k, v in line.items() if k != "ref"} for line in site["lines"]]
    assert {**site, "lines": without_refs} == body["price_breakdown"]

"""The payment service against a Stripe-shaped server, on both databases:
checkout with retries, webhook events in any order and any number of times,
payments after the hold expired, refunds per policy. After each scenario
the invariants hold (see :func:`payment_violations`)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from booking.adapters.payments import ProviderEvent, ProviderUnavailable
from booking.adapters.payments.stripe import StripeProvider
from booking.models import (
    Booking,
    BookingStatus,
    OutboxMessage,
    Payment,
    PaymentEvent,
    PaymentState,
    PaymentStatus,
    PromoCode,
    Refund,
    Resource,
    Tenant,
    User,
    Voucher,
)
from booking.services.booking import BookingRequest, BookingService
from booking.services.errors import Conflict, ValidationError
from booking.services.notifications import Notifier
from booking.services.payments import PaymentService
from booking.services.pricing import voucher_digest

from .. import builders as b
from ..conftest import NOW
from ..fakes.payment_provider import running

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 3, 3, 10, tzinfo=PARIS)
LATE = NOW + timedelta(minutes=20)  # after the 15 minutes of hold
URLS = {"success_url": "http://app.test/ok", "cancel_url": "http://app.test/cancel"}


def payment_violations(session):
    """Rows that break the payment invariants: a confirmed priced booking
    without a succeeded payment; a succeeded payment whose booking does not
    hold its slot (held or expired) unless fully refunded."""
    unpaid = session.execute(text(
        "SELECT b.id FROM bookings b WHERE b.status = 'confirmed' AND b.price > 0 "
        "AND b.payment_status <> 'due_at_venue' AND NOT EXISTS (SELECT 1 FROM payments p "
        "WHERE p.booking_id = b.id AND p.status IN ('succeeded', 'refunded'))")).all()
    slotless = session.execute(text(
        "SELECT p.id FROM payments p JOIN bookings b ON b.id = p.booking_id "
        "WHERE p.status = 'succeeded' AND b.status IN ('held', 'expired')")).all()
    refunded_wrong = session.execute(text(
        "SELECT p.id FROM payments p WHERE p.refunded_amount <> (SELECT COALESCE(SUM(r.amount), "
        "0) FROM refunds r WHERE r.payment_id = p.id AND r.status <> 'failed')")).all()
    return [("confirmed unpaid", r.id) for r in unpaid] + \
        [("paid without slot", r.id) for r in slotless] + \
        [("refunds do not add up", r.id) for r in refunded_wrong]


@pytest.fixture(scope="module")
def fake():
    with running() as server:
        yield server


@pytest.fixture
def provider(fake):
    fake.reset()
    return StripeProvider(fake.url, api_key=fake.api_key, webhook_secret=fake.webhook_secret,
                          timeout=0.5, retries=2)


@pytest.fixture
def ids(db):
    with db.session() as s:
        tenant = b.tenant(s, hold_minutes=15, currency="EUR")
        venue = b.venue(s, tenant, hours="every day 08:00-20:00")
        court = b.resource(s, venue, capacity=1, price=2000)
        ids = dict(tenant=tenant.id, court=court.id, customer=b.user(s).id, other=b.user(s).id,
                   staff=b.user(s).id)
    yield ids
    with db.session() as s:
        assert payment_violations(s) == []


def service(s, provider, now=NOW):
    notifier = Notifier(s, now)
    return PaymentService(s, now, provider, notifier, BookingService(s, now, notifier))


def hold(db, ids, customer="customer", now=NOW):
    with db.session() as s:
        booking, _ = BookingService(s, now).book(BookingRequest(
            s.get(Tenant, ids["tenant"]), s.get(Resource, ids["court"]),
            s.get(User, ids[customer]), START, hold_for_payment=True))
        return booking.id


def checkout(db, ids, provider, booking_id=None, now=NOW):
    booking_id = booking_id or hold(db, ids)
    with db.session() as s:
        payment = service(s, provider, now).start_checkout(s.get(Booking, booking_id), **URLS)
        return booking_id, payment.provider_ref


def event(kind, ref, event_id="evt_1", amount=2000, status=None):
    return ProviderEvent(event_id, kind, ref, amount, int(NOW.timestamp()), status=status)


def handle(db, provider, evt, now=NOW):
    with db.session() as s:
        return service(s, provider, now).handle_event(evt)


def paid(db, ids, provider, fake, now=NOW):
    booking_id, ref = checkout(db, ids, provider)
    fake.pay(ref, deliver=False)
    assert handle(db, provider, event("checkout.completed", ref), now) in ("confirmed",
                                                                          "refunded")
    return booking_id


def row(db, model, **where):
    with db.session() as s:
        found = s.scalars(select(model).filter_by(**where)).all()
        s.expunge_all()
        return found


def outbox_kinds(db, booking_id):
    with db.session() as s:
        return s.scalars(select(OutboxMessage.kind).where(OutboxMessage.booking_id == booking_id)
                         .order_by(OutboxMessage.id)).all()


def set_policy(db, ids, policy, percent=100):
    with db.session() as s:
        tenant = s.get(Tenant, ids["tenant"])
        tenant.refund_policy, tenant.refund_percent = policy, percent


# -- checkout ------------------------------------------------------------------

def test_checkout_creates_a_pending_payment_for_the_price_in_the_tenant_currency(db, ids,
                                                                                 provider, fake):
    booking_id, ref = checkout(db, ids, provider)
    [payment] = row(db, Payment, booking_id=booking_id)
    assert (payment.status, payment.amount, payment.currency) == ("pending", 2000, "EUR")
    assert payment.idempotency_key == f"booking-{booking_id}-checkout-1"
    assert payment.checkout_url == f"{fake.url}/pay/{ref}"
    assert row(db, Booking, id=booking_id)[0].payment_status == PaymentStatus.PENDING
    [call] = fake.api_calls("/v1/checkout/sessions")
    assert call.headers["Idempotency-Key"] == payment.idempotency_key
    assert call.form["line_items[0][price_data][unit_amount]"] == "2000"
    assert call.form["line_items[0][price_data][currency]"] == "eur"


def test_a_second_checkout_of_the_same_booking_reuses_the_session(db, ids, provider, fake):
    booking_id, ref = checkout(db, ids, provider)
    assert checkout(db, ids, provider, booking_id) == (booking_id, ref)
    assert len(fake.api_calls("/v1/checkout/sessions")) == 1


@pytest.mark.parametrize("fault", ["timeout", 500])
def test_provider_faults_are_retried_with_the_same_key_then_unavailable(db, ids, provider,
                                                                        fake, fault):
    booking_id = hold(db, ids)
    fake.fail(fault, times=3)
    with pytest.raises(ProviderUnavailable):
        checkout(db, ids, provider, booking_id)
    calls = fake.api_calls("/v1/checkout/sessions")
    assert len(calls) == 3  # the first try and two retries
    assert {call.headers["Idempotency-Key"] for call in calls} == {
        f"booking-{booking_id}-checkout-1"}
    assert len(fake.sessions) == (1 if fault == "timeout" else 0)


def test_unavailable_keeps_the_error_and_the_retry_reuses_the_key(db, ids, provider, fake):
    booking_id = hold(db, ids)
    fake.fail("timeout", times=3)
    with db.session() as s:  # the caller commits the attempt, last_error included
        with pytest.raises(ProviderUnavailable):
            service(s, provider).start_checkout(s.get(Booking, booking_id), **URLS)
    [payment] = row(db, Payment, booking_id=booking_id)
    assert "unavailable after 3 attempt(s)" in payment.last_error
    checkout(db, ids, provider, booking_id)
    [payment] = row(db, Payment, booking_id=booking_id)
    assert payment.checkout_url and payment.last_error == ""
    assert {c.headers["Idempotency-Key"] for c in fake.api_calls()} == {payment.idempotency_key}
    assert len(fake.sessions) == 1  # one session: never a second charge


def test_a_booking_waiting_for_its_payment_cannot_be_confirmed_by_staff(db, ids, provider):
    booking_id, _ = checkout(db, ids, provider)
    with db.session() as s, pytest.raises(Conflict, match="waits for its online payment"):
        BookingService(s, NOW).confirm(s.get(Tenant, ids["tenant"]), s.get(Booking, booking_id),
                                       ids["staff"])


# -- webhook events --------------------------------------------------------------

def test_completed_payment_confirms_the_held_booking(db, ids, provider, fake):
    booking_id, ref = checkout(db, ids, provider)
    assert handle(db, provider, event("checkout.completed", ref)) == "confirmed"
    [booking] = row(db, Booking, id=booking_id)
    assert (booking.status, booking.payment_status) == ("confirmed", "paid")
    assert row(db, Payment, booking_id=booking_id)[0].status == PaymentState.SUCCEEDED
    assert outbox_kinds(db, booking_id) == ["booking.confirmed"]


def test_the_same_event_twice_has_one_effect(db, ids, provider):
    booking_id, ref = checkout(db, ids, provider)
    assert handle(db, provider, event("checkout.completed", ref)) == "confirmed"
    assert handle(db, provider, event("checkout.completed", ref)) == "duplicate"
    assert len(row(db, PaymentEvent, event_id="evt_1")) == 1
    assert outbox_kinds(db, booking_id) == ["booking.confirmed"]


def test_expired_after_completed_changes_nothing(db, ids, provider):
    booking_id, ref = checkout(db, ids, provider)
    handle(db, provider, event("checkout.completed", ref))
    assert handle(db, provider, event("checkout.expired", ref, "evt_2")) == "ignored"
    assert row(db, Booking, id=booking_id)[0].status == BookingStatus.CONFIRMED
    assert row(db, Payment, booking_id=booking_id)[0].status == PaymentState.SUCCEEDED


def test_expired_checkout_fails_the_payment_and_releases_the_hold(db, ids, provider):
    booking_id, ref = checkout(db, ids, provider)
    assert handle(db, provider, event("checkout.expired", ref)) == "released"
    assert row(db, Booking, id=booking_id)[0].status == BookingStatus.EXPIRED
    assert row(db, Payment, booking_id=booking_id)[0].status == PaymentState.FAILED
    assert outbox_kinds(db, booking_id) == ["hold.expired"]


def test_completed_after_expired_confirms_while_the_slot_is_free(db, ids, provider):
    booking_id, ref = checkout(db, ids, provider)
    handle(db, provider, event("checkout.expired", ref))
    assert handle(db, provider, event("checkout.completed", ref, "evt_2")) == "confirmed"
    assert row(db, Booking, id=booking_id)[0].status == BookingStatus.CONFIRMED


def test_payment_after_the_hold_expired_confirms_when_the_slot_is_still_free(db, ids,
                                                                              provider):
    booking_id, ref = checkout(db, ids, provider)
    assert handle(db, provider, event("checkout.completed", ref), LATE) == "confirmed"
    [booking] = row(db, Booking, id=booking_id)
    assert (booking.status, booking.payment_status) == ("confirmed", "paid")


def test_payment_after_the_slot_was_taken_is_refunded_automatically(db, ids, provider, fake):
    booking_id, ref = checkout(db, ids, provider)
    fake.pay(ref, deliver=False)
    taker = hold(db, ids, customer="other", now=LATE)  # the expired hold freed the slot
    assert handle(db, provider, event("checkout.completed", ref), LATE) == "refunded"
    [booking] = row(db, Booking, id=booking_id)
    assert (booking.status, booking.payment_status) == ("cancelled", "refunded")
    assert "refunded in full" in booking.cancel_reason
    [payment] = row(db, Payment, booking_id=booking_id)
    assert (payment.status, payment.refunded_amount) == ("refunded", 2000)
    [refund] = row(db, Refund, payment_id=payment.id)
    assert (refund.amount, refund.status, refund.provider_ref) == (
        2000, "succeeded", next(iter(fake.refunds)))
    assert outbox_kinds(db, booking_id)[-2:] == ["booking.cancelled", "payment.refunded"]
    assert row(db, Booking, id=taker)[0].status == BookingStatus.HELD
    [call] = fake.api_calls("/v1/refunds")
    assert call.headers["Idempotency-Key"] == refund.idempotency_key
    assert call.form == {"payment_intent": fake.sessions[ref]["payment_intent"],
                         "amount": "2000", "metadata[checkout]": ref}


def test_payment_for_a_booking_cancelled_meanwhile_is_refunded(db, ids, provider, fake):
    booking_id, ref = checkout(db, ids, provider)
    fake.pay(ref, deliver=False)
    with db.session() as s:
        BookingService(s, NOW).cancel(s.get(Tenant, ids["tenant"]), s.get(Booking, booking_id),
                                      actor_id=ids["customer"], reason="changed my mind")
    assert handle(db, provider, event("checkout.completed", ref)) == "refunded"
    [payment] = row(db, Payment, booking_id=booking_id)
    assert (payment.status, payment.refunded_amount) == ("refunded", 2000)
    assert "payment.refunded" in outbox_kinds(db, booking_id)


def test_provider_down_during_an_automatic_refund_changes_nothing_until_redelivery(
        db, ids, provider, fake):
    booking_id, ref = checkout(db, ids, provider)
    fake.pay(ref, deliver=False)
    hold(db, ids, customer="other", now=LATE)
    fake.fail(500, times=3)
    with pytest.raises(ProviderUnavailable):
        handle(db, provider, event("checkout.completed", ref), LATE)
    assert row(db, Payment, booking_id=booking_id)[0].status == PaymentState.PENDING
    assert row(db, PaymentEvent) == []
    assert handle(db, provider, event("checkout.completed", ref), LATE) == "refunded"
    assert len(fake.refunds) == 1


def test_completed_for_an_unknown_session_is_recorded_and_refused(db, ids, provider, caplog):
    assert handle(db, provider, event("checkout.completed", "cs_nobody")) == "unknown"
    [recorded] = row(db, PaymentEvent, event_id="evt_1")
    assert recorded.payment_id is None
    assert "unknown checkout or refund cs_nobody" in caplog.text


# -- refunds -----------------------------------------------------------------------

def test_staff_refund_part_then_the_rest(db, ids, provider, fake):
    booking_id = paid(db, ids, provider, fake)
    with db.session() as s:
        first = service(s, provider).refund(s.get(Booking, booking_id), 500,
                                            actor_id=ids["staff"], reason="late start")
        assert first.idempotency_key.endswith("-refund-1-500")
    [payment] = row(db, Payment, booking_id=booking_id)
    assert (payment.status, payment.refunded_amount) == ("succeeded", 500)
    assert row(db, Booking, id=booking_id)[0].payment_status == PaymentStatus.PAID
    with db.session() as s:
        service(s, provider).refund(s.get(Booking, booking_id), 1500, actor_id=ids["staff"],
                                    reason="closed")
    [payment] = row(db, Payment, booking_id=booking_id)
    assert (payment.status, payment.refunded_amount) == ("refunded", 2000)
    assert row(db, Booking, id=booking_id)[0].payment_status == PaymentStatus.REFUNDED
    assert outbox_kinds(db, booking_id).count("payment.refunded") == 2
    assert len(fake.refunds) == 2


def test_refund_of_more_than_what_is_left_is_refused(db, ids, provider, fake):
    booking_id = paid(db, ids, provider, fake)
    with db.session() as s:
        service(s, provider).refund(s.get(Booking, booking_id), 1500, actor_id=None, reason="")
    with db.session() as s, pytest.raises(ValidationError, match="more than what is left"):
        service(s, provider).refund(s.get(Booking, booking_id), 501, actor_id=None, reason="")
    assert len(fake.refunds) == 1


def test_refund_without_an_online_payment_is_refused(db, ids, provider):
    booking_id, _ = checkout(db, ids, provider)
    with db.session() as s, pytest.raises(Conflict, match="no online payment"):
        service(s, provider).refund(s.get(Booking, booking_id), 100, actor_id=None, reason="")


@pytest.mark.parametrize("policy, percent, expected", [
    ("full", 100, 2000), ("partial", 33, 660), ("partial", 100, 2000), ("none", 100, None),
])
def test_refund_for_cancellation_follows_the_tenant_policy(db, ids, provider, fake, policy,
                                                           percent, expected):
    set_policy(db, ids, policy, percent)
    booking_id = paid(db, ids, provider, fake)
    with db.session() as s:
        refund = service(s, provider).refund_for_cancellation(s.get(Booking, booking_id),
                                                              actor_id=ids["customer"])
        assert (refund.amount if refund else None) == expected
    assert [r["amount"] for r in fake.refunds.values()] == ([expected] if expected else [])


def test_partial_refund_rounds_down_to_minor_units(db, ids, provider, fake):
    with db.session() as s:
        s.get(Resource, ids["court"]).price = 1999
    set_policy(db, ids, "partial", 50)
    booking_id = paid(db, ids, provider, fake)
    with db.session() as s:
        refund = service(s, provider).refund_for_cancellation(s.get(Booking, booking_id),
                                                              actor_id=None)
        assert refund.amount == 999


def test_failed_refund_event_gives_the_amount_back_to_the_payment(db, ids, provider, fake):
    booking_id = paid(db, ids, provider, fake)
    with db.session() as s:
        refund = service(s, provider).refund(s.get(Booking, booking_id), 2000, actor_id=None,
                                             reason="")
        ref = refund.provider_ref
    assert handle(db, provider, event("refund.updated", ref, "evt_9", status="failed")) == \
        "refund_updated"
    [payment] = row(db, Payment, booking_id=booking_id)
    assert (payment.status, payment.refunded_amount) == ("succeeded", 0)
    assert row(db, Refund, provider_ref=ref)[0].status == "failed"
    assert row(db, Booking, id=booking_id)[0].payment_status == PaymentStatus.PAID


def test_audit_rows_never_hold_the_secrets(db, ids, provider, fake):
    paid(db, ids, provider, fake)
    with db.session() as s:
        details = " ".join(str(d) for d in s.scalars(text("SELECT details FROM audit_log")))
    assert fake.api_key not in details and fake.webhook_secret not in details


def test_a_replaced_checkout_paid_after_the_price_changed_is_refunded(db, ids, provider, fake):
    """The customer paid an old checkout after the booking's price changed:
    that money goes back, and the booking still waits for its payment."""
    booking_id, old_ref = checkout(db, ids, provider)
    with db.session() as s:
        s.get(Booking, booking_id).price = 3000  # e.g. moved to a dearer court
    _, new_ref = checkout(db, ids, provider, booking_id)
    assert new_ref != old_ref
    fake.pay(old_ref, deliver=False)
    assert handle(db, provider, event("checkout.completed", old_ref)) == "refunded"
    [booking] = row(db, Booking, id=booking_id)
    assert (booking.status, booking.payment_status) == ("held", PaymentStatus.PENDING)
    [refund] = row(db, Refund)
    assert refund.amount == 2000


def test_a_second_paid_checkout_is_refunded_in_full(db, ids, provider, fake):
    booking_id = paid(db, ids, provider, fake)
    with db.session() as s:  # a stray second attempt for the same booking
        s.add(Payment(tenant_id=ids["tenant"], booking_id=booking_id, provider="stripe",
                      provider_ref="cs_stray", amount=2000, currency="EUR",
                      idempotency_key=f"booking-{booking_id}-checkout-9", status="pending",
                      created_at=NOW, updated_at=NOW))
    fake.sessions["cs_stray"] = dict(next(iter(fake.sessions.values())), id="cs_stray")
    assert handle(db, provider, event("checkout.completed", "cs_stray", "evt_2")) == "refunded"
    [booking] = row(db, Booking, id=booking_id)
    assert (booking.status, booking.payment_status) == ("confirmed", PaymentStatus.PAID)
    assert [r.amount for r in row(db, Refund)] == [2000]


def test_a_closed_business_takes_no_payment(db, ids, provider, fake):
    booking_id = hold(db, ids)
    with db.session() as s:
        s.get(Tenant, ids["tenant"]).status = "suspended"
    with pytest.raises(Conflict, match="closed"):
        checkout(db, ids, provider, booking_id)
    assert fake.api_calls("/v1/checkout/sessions") == []


def hold_with_code(db, ids, customer="customer", now=NOW, **request):
    """A hold of the court with the code HALF (50 %, one use)."""
    with db.session() as s:
        if not s.scalar(select(PromoCode.id)):
            s.add(PromoCode(tenant_id=ids["tenant"], code="HALF", percent=50, max_uses=1,
                            created_at=NOW))
            s.flush()
        booking, _ = BookingService(s, now).book(BookingRequest(
            s.get(Tenant, ids["tenant"]), s.get(Resource, ids["court"]),
            s.get(User, ids[customer]), START, hold_for_payment=True, code="half", **request))
        return booking.id


def code_uses(db):
    with db.session() as s:
        return s.scalar(select(PromoCode.uses))


def test_an_expired_checkout_gives_the_code_use_back(db, ids, provider):
    booking_id, ref = checkout(db, ids, provider, hold_with_code(db, ids))
    assert code_uses(db) == 1
    assert handle(db, provider, event("checkout.expired", ref, amount=1000)) == "released"
    assert code_uses(db) == 0


def test_a_late_payment_refused_for_its_voucher_gives_the_code_use_back(db, ids, provider,
                                                                         fake):
    with db.session() as s:
        s.add(Voucher(tenant_id=ids["tenant"], digest=voucher_digest("GIFT-LATE"), hint="LATE",
                      currency="EUR", initial=500, balance=500, created_at=NOW))
    booking_id = hold_with_code(db, ids, voucher="gift-late")
    booking_id, ref = checkout(db, ids, provider, booking_id)
    fake.pay(ref, deliver=False)
    with db.session() as s:  # the hold runs out: the use and the 5.00 go back
        assert BookingService(s, LATE).expire_stale_holds() == 1
        s.scalar(select(Voucher)).balance = 0  # and someone spends the voucher meanwhile
    assert code_uses(db) == 0
    assert handle(db, provider, event("checkout.completed", ref, amount=500), LATE) == \
        "refunded"
    assert row(db, Booking, id=booking_id)[0].status == BookingStatus.CANCELLED
    assert code_uses(db) == 0

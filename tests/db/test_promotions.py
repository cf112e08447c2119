"""Promotions through the booking service, on both databases: the price a
booking gets and keeps, codes refused for what they are, uses counted and
given back, vouchers spent and refunded, moves under the tenant's rule."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from booking.models import (Booking, CodeUse, Offer, OfferKind, PromoCode, Resource, Tenant,
                            User, Voucher, VoucherEntry)
from booking.services.booking import BookingRequest, BookingService
from booking.services.errors import Conflict
from booking.services.pricing import CodeRefused, VoucherRefused, voucher_digest

from .. import builders as b
from ..conftest import NOW

PARIS = ZoneInfo("Europe/Paris")
TOMORROW = date(2026, 3, 3)  # a Tuesday
PRICE = 2000


def paris(day, hour, minute=0):
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def ids(db):
    with db.session() as s:
        tenant = b.tenant(s, hold_minutes=15)
        venue = b.venue(s, tenant, hours="every day 08:00-20:00")
        court = b.resource(s, venue, capacity=1, price=PRICE)
        other = b.resource(s, venue, capacity=1, price=3000)
        return dict(tenant=tenant.id, venue=venue.id, court=court.id, other_court=other.id,
                    customer=b.user(s).id, other=b.user(s).id)


def add(db, row):
    with db.session() as s:
        s.add(row)
        s.flush()
        return row.id


def offer(db, ids, **fields):
    values = dict(tenant_id=ids["tenant"], name="Off-peak", kind=OfferKind.OFF_PEAK,
                  percent=20, created_at=NOW)
    values.update(fields)
    return add(db, Offer(**values))


def code(db, ids, text="SPRING", **fields):
    values = dict(tenant_id=ids["tenant"], code=text, percent=25, created_at=NOW)
    values.update(fields)
    return add(db, PromoCode(**values))


def voucher(db, ids, balance=5000, secret="GIFT-0000-0000-0001", **fields):
    values = dict(tenant_id=ids["tenant"], digest=voucher_digest(secret), hint=secret[-4:],
                  currency="EUR", initial=balance, balance=balance, created_at=NOW)
    values.update(fields)
    return add(db, Voucher(**values))


def book(db, ids, start, customer="customer", now=NOW, resource="court", **kw):
    with db.session() as s:
        booking, _ = BookingService(s, now).book(BookingRequest(
            s.get(Tenant, ids["tenant"]), s.get(Resource, ids[resource]),
            s.get(User, ids[customer]), start, actor_id=ids[customer], **kw))
        return booking.id


def load(db, model, row_id):
    with db.session() as s:
        row = s.get(model, row_id)
        s.expunge(row)
        return row


def cancel(db, ids, booking_id, now=NOW):
    with db.session() as s:
        BookingService(s, now).cancel(s.get(Tenant, ids["tenant"]), s.get(Booking, booking_id),
                                      by_staff=True)


def move(db, ids, booking_id, start, resource="court"):
    with db.session() as s:
        BookingService(s, NOW).reschedule(s.get(Tenant, ids["tenant"]),
                                          s.get(Booking, booking_id),
                                          s.get(Resource, ids[resource]), start, by_staff=True)


def set_tenant(db, ids, **values):
    with db.session() as s:
        tenant = s.get(Tenant, ids["tenant"])
        for name, value in values.items():
            setattr(tenant, name, value)


def lines(booking):
    return [(line["kind"], line["amount"]) for line in booking.price_breakdown["lines"]]


class TestPriceKept:
    def test_booking_without_promotions_stores_its_base_as_the_breakdown(self, db, ids):
        booking = load(db, Booking, book(db, ids, paris(TOMORROW, 10)))
        assert booking.price == PRICE
        assert booking.price_breakdown == {"base": PRICE, "currency": "EUR", "total": PRICE,
                                           "lines": []}

    def test_off_peak_offer_prices_the_slots_in_its_window(self, db, ids):
        offer(db, ids, from_minute=8 * 60, to_minute=12 * 60)
        inside = load(db, Booking, book(db, ids, paris(TOMORROW, 10)))
        outside = load(db, Booking, book(db, ids, paris(TOMORROW, 14)))
        assert (inside.price, lines(inside)) == (1600, [("offer", 400)])
        assert (outside.price, lines(outside)) == (PRICE, [])

    def test_a_later_change_of_the_offer_does_not_rewrite_the_booking(self, db, ids):
        offer_id = offer(db, ids)
        booking_id = book(db, ids, paris(TOMORROW, 10))
        with db.session() as s:
            s.get(Offer, offer_id).percent = 50
            s.get(Resource, ids["court"]).price = 9999
        assert load(db, Booking, booking_id).price == 1600

    def test_code_is_typed_in_any_case(self, db, ids):
        code(db, ids)
        booking = load(db, Booking, book(db, ids, paris(TOMORROW, 10), code=" spring "))
        assert (booking.price, lines(booking)) == (1500, [("code", 500)])


class TestCodeRefused:
    @pytest.mark.parametrize("fields, text, reason", [
        ({}, "NOPE", "unknown"),
        ({"valid_until": NOW}, "SPRING", "expired"),
        ({"valid_from": NOW + timedelta(days=1)}, "SPRING", "not_yet"),
        ({"max_uses": 1, "uses": 1}, "SPRING", "used_up"),
        ({"min_seats": 2}, "SPRING", "min_seats"),
        ({"min_amount": 5000}, "SPRING", "min_amount"),
        ({"weekdays": [0]}, "SPRING", "time"),
        ({"from_minute": 18 * 60, "to_minute": 20 * 60}, "SPRING", "time"),
        ({"paused": True}, "SPRING", "ended"),
    ])
    def test_refusal_names_the_reason_and_books_nothing(self, db, ids, fields, text, reason):
        code(db, ids, **fields)
        with pytest.raises(CodeRefused) as refused:
            book(db, ids, paris(TOMORROW, 10), code=text)
        assert refused.value.reason == reason and refused.value.field == "code"
        with db.session() as s:
            assert s.scalar(select(func.count()).select_from(Booking)) == 0

    def test_code_for_another_resource_is_out_of_scope(self, db, ids):
        code(db, ids, resource_ids=[ids["other_court"]])
        with pytest.raises(CodeRefused, match="does not apply to"):
            book(db, ids, paris(TOMORROW, 10), code="SPRING")

    def test_code_of_another_tenant_does_not_exist_here(self, db, ids):
        with db.session() as s:
            rival = b.tenant(s).id
        add(db, PromoCode(tenant_id=rival, code="SPRING", percent=50, created_at=NOW))
        with pytest.raises(CodeRefused, match="no such code"):
            book(db, ids, paris(TOMORROW, 10), code="SPRING")

    def test_uses_per_customer_are_counted(self, db, ids):
        code(db, ids, max_uses_per_customer=1)
        book(db, ids, paris(TOMORROW, 10), code="SPRING")
        with pytest.raises(CodeRefused) as refused:
            book(db, ids, paris(TOMORROW, 11), code="SPRING")
        assert refused.value.reason == "customer_limit"
        assert book(db, ids, paris(TOMORROW, 11), customer="other", code="SPRING")

    def test_a_guest_booking_with_an_accounts_address_counts_as_that_customer(self, db, ids):
        code(db, ids, max_uses_per_customer=1, first_booking_only=True)
        book(db, ids, paris(TOMORROW, 10), code="SPRING")
        with db.session() as s:
            email = s.get(User, ids["customer"]).email
        with pytest.raises(CodeRefused) as refused:
            with db.session() as s:
                BookingService(s, NOW).book(BookingRequest(
                    s.get(Tenant, ids["tenant"]), s.get(Resource, ids["court"]), None,
                    paris(TOMORROW, 11), code="SPRING", contact=("Me", "", email.upper())))
        assert refused.value.reason in ("customer_limit", "first_booking")

    def test_first_booking_only(self, db, ids):
        code(db, ids, first_booking_only=True)
        book(db, ids, paris(TOMORROW, 9))
        with pytest.raises(CodeRefused, match="first booking"):
            book(db, ids, paris(TOMORROW, 10), code="SPRING")
        assert book(db, ids, paris(TOMORROW, 10), customer="other", code="SPRING")


class TestUses:
    def test_a_use_is_counted_with_its_discount(self, db, ids):
        code_id = code(db, ids, max_uses=5)
        booking_id = book(db, ids, paris(TOMORROW, 10), code="SPRING")
        assert load(db, PromoCode, code_id).uses == 1
        with db.session() as s:
            use = s.scalar(select(CodeUse))
            assert (use.booking_id, use.discount, use.customer_key) == (
                booking_id, 500, f"user:{ids['customer']}")

    def test_cancelling_gives_the_use_back_when_the_tenant_says_so(self, db, ids):
        code_id = code(db, ids, max_uses=1)
        cancel(db, ids, book(db, ids, paris(TOMORROW, 10), code="SPRING"))
        assert load(db, PromoCode, code_id).uses == 0
        assert book(db, ids, paris(TOMORROW, 11), customer="other", code="SPRING")

    def test_cancelling_keeps_the_use_when_the_tenant_says_so(self, db, ids):
        set_tenant(db, ids, release_code_on_cancel=False)
        code_id = code(db, ids, max_uses=1)
        cancel(db, ids, book(db, ids, paris(TOMORROW, 10), code="SPRING"))
        assert load(db, PromoCode, code_id).uses == 1
        with pytest.raises(CodeRefused, match="used up"):
            book(db, ids, paris(TOMORROW, 11), customer="other", code="SPRING")

    def test_an_expired_hold_gives_the_use_back(self, db, ids):
        code_id = code(db, ids, max_uses=1)
        book(db, ids, paris(TOMORROW, 10), code="SPRING", hold_for_payment=True)
        later = NOW + timedelta(minutes=16)
        with db.session() as s:
            assert BookingService(s, later).expire_stale_holds() == 1
        assert load(db, PromoCode, code_id).uses == 0

    def test_an_expired_hold_confirmed_late_takes_its_use_again(self, db, ids):
        code_id = code(db, ids, max_uses=1)
        booking_id = book(db, ids, paris(TOMORROW, 10), code="SPRING", hold_for_payment=True)
        later = NOW + timedelta(minutes=16)
        with db.session() as s:
            BookingService(s, later).confirm(s.get(Tenant, ids["tenant"]),
                                             s.get(Booking, booking_id), None)
        assert load(db, PromoCode, code_id).uses == 1
        assert load(db, Booking, booking_id).price == 1500


class TestVouchers:
    def test_a_voucher_pays_part_and_keeps_the_rest(self, db, ids):
        voucher_id = voucher(db, ids, balance=1200)
        booking = load(db, Booking, book(db, ids, paris(TOMORROW, 10),
                                         voucher="gift-0000-0000-0001"))
        assert (booking.price, booking.voucher_amount) == (800, 1200)
        assert lines(booking) == [("voucher", 1200)]
        assert load(db, Voucher, voucher_id).balance == 0

    def test_a_voucher_is_spent_across_bookings(self, db, ids):
        voucher_id = voucher(db, ids, balance=5000)
        book(db, ids, paris(TOMORROW, 10), voucher="GIFT-0000-0000-0001")
        book(db, ids, paris(TOMORROW, 11), voucher="GIFT-0000-0000-0001")
        third = load(db, Booking, book(db, ids, paris(TOMORROW, 12),
                                       voucher="GIFT-0000-0000-0001"))
        assert (third.price, third.voucher_amount) == (1000, 1000)
        assert load(db, Voucher, voucher_id).balance == 0
        with db.session() as s:
            assert sorted(s.scalars(select(VoucherEntry.amount)).all()) == [-2000, -2000, -1000]

    def test_cancelling_puts_the_amount_back_on_the_voucher(self, db, ids):
        voucher_id = voucher(db, ids, balance=1200)
        cancel(db, ids, book(db, ids, paris(TOMORROW, 10), voucher="GIFT-0000-0000-0001"))
        assert load(db, Voucher, voucher_id).balance == 1200
        with db.session() as s:
            assert s.execute(select(VoucherEntry.kind, VoucherEntry.amount)
                             .order_by(VoucherEntry.id)).all() == [("spent", -1200),
                                                                   ("refunded", 1200)]

    @pytest.mark.parametrize("fields, reason", [
        ({"expires_at": NOW}, "expired"), ({"voided_at": NOW}, "voided"),
        ({"balance": 0}, "empty"), ({"currency": "GBP"}, "currency"),
    ])
    def test_an_unusable_voucher_is_refused(self, db, ids, fields, reason):
        voucher(db, ids, **fields)
        with pytest.raises(VoucherRefused) as refused:
            book(db, ids, paris(TOMORROW, 10), voucher="GIFT-0000-0000-0001")
        assert refused.value.reason == reason


class TestMoves:
    def test_keep_moves_in_time_at_the_original_price(self, db, ids):
        offer_id = offer(db, ids, from_minute=8 * 60, to_minute=12 * 60)
        booking_id = book(db, ids, paris(TOMORROW, 10))
        with db.session() as s:  # the offer is paused and raised since
            row = s.get(Offer, offer_id)
            row.paused, row.percent = True, 50
        move(db, ids, booking_id, paris(TOMORROW, 11))
        assert load(db, Booking, booking_id).price == 1600

    def test_keep_prices_afresh_a_discount_that_does_not_take_in_the_new_time(self, db, ids):
        offer(db, ids, from_minute=8 * 60, to_minute=12 * 60)
        booking_id = book(db, ids, paris(TOMORROW, 10))
        move(db, ids, booking_id, paris(TOMORROW, 15))
        booking = load(db, Booking, booking_id)
        assert (booking.price, lines(booking)) == (PRICE, [])

    def test_reprice_prices_the_new_slot(self, db, ids):
        set_tenant(db, ids, move_pricing="reprice")
        offer(db, ids, from_minute=8 * 60, to_minute=12 * 60)
        booking_id = book(db, ids, paris(TOMORROW, 10))
        move(db, ids, booking_id, paris(TOMORROW, 15))
        booking = load(db, Booking, booking_id)
        assert (booking.price, lines(booking)) == (PRICE, [])

    def test_reprice_keeps_a_code_that_still_applies(self, db, ids):
        set_tenant(db, ids, move_pricing="reprice")
        code_id = code(db, ids, max_uses=1)
        booking_id = book(db, ids, paris(TOMORROW, 10), code="SPRING")
        move(db, ids, booking_id, paris(TOMORROW, 15))
        assert load(db, Booking, booking_id).price == 1500
        assert load(db, PromoCode, code_id).uses == 1

    def test_reprice_gives_back_a_code_that_no_longer_applies(self, db, ids):
        set_tenant(db, ids, move_pricing="reprice")
        code_id = code(db, ids, from_minute=8 * 60, to_minute=12 * 60)
        booking_id = book(db, ids, paris(TOMORROW, 10), code="SPRING")
        move(db, ids, booking_id, paris(TOMORROW, 15))
        assert load(db, Booking, booking_id).price == PRICE
        assert load(db, PromoCode, code_id).uses == 0

    def test_another_resource_is_priced_by_its_own_base(self, db, ids):
        booking_id = book(db, ids, paris(TOMORROW, 10))
        move(db, ids, booking_id, paris(TOMORROW, 10), resource="other_court")
        assert load(db, Booking, booking_id).price == 3000

    def test_reprice_returns_what_the_voucher_paid_beyond_the_new_price(self, db, ids):
        set_tenant(db, ids, move_pricing="reprice")
        voucher_id = voucher(db, ids, balance=2000)
        booking_id = book(db, ids, paris(TOMORROW, 10), voucher="GIFT-0000-0000-0001")
        offer(db, ids, from_minute=14 * 60, to_minute=16 * 60, percent=50)
        move(db, ids, booking_id, paris(TOMORROW, 15))
        booking = load(db, Booking, booking_id)
        assert (booking.price, booking.voucher_amount) == (0, 1000)
        assert load(db, Voucher, voucher_id).balance == 1000

    def test_a_booking_settled_free_online_moves_only_at_its_price(self, db, ids):
        voucher(db, ids, balance=PRICE)
        booking_id = book(db, ids, paris(TOMORROW, 10), voucher="GIFT-0000-0000-0001")
        with db.session() as s, pytest.raises(Conflict, match="same price"):
            BookingService(s, NOW).reschedule(
                s.get(Tenant, ids["tenant"]), s.get(Booking, booking_id),
                s.get(Resource, ids["other_court"]), paris(TOMORROW, 10), paid_online=True)
        assert load(db, Booking, booking_id).price == 0

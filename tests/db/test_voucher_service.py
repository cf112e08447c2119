"""Vouchers with a balance, on both databases: issued with a code shown
once (only its digest and last characters kept), spent partly across
bookings, refused once expired or void, given back on cancellation, and a
ledger whose sum is the balance."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from booking.models import AuditLog, Voucher, VoucherEntry
from booking.services.booking import BookingRequest, BookingService
from booking.services.pricing import VoucherRefused, voucher_digest
from booking.services.throttle import TooManyAttempts
from booking.services.vouchers import VoucherService, end_of_day, hint_of, new_code

from .. import builders as b
from ..conftest import NOW

START = NOW.replace(hour=9) + timedelta(days=7)  # 10:00 in Paris, a week ahead
CODE_SHAPE = re.compile(r"^[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}$")


@pytest.fixture
def s(db):
    with db.session() as session:
        yield session


@pytest.fixture
def place(s):
    tenant = b.tenant(s, currency="EUR", cancellation_window_minutes=60)
    venue = b.venue(s, tenant, hours="every day 08:00-20:00")
    court = b.resource(s, venue, capacity=1, price=1000)
    return tenant, court, b.user(s), b.member(s, tenant, "owner")


def book(s, tenant, court, customer, code, hour=0):
    booking, _ = BookingService(s, NOW).book(BookingRequest(
        tenant, court, customer, START + timedelta(hours=hour), voucher=code))
    return booking


def ledger_sum(s, voucher_id):
    return s.scalar(select(func.sum(VoucherEntry.amount))
                    .where(VoucherEntry.voucher_id == voucher_id))


def test_code_shape_and_hint():
    code = new_code()
    assert CODE_SHAPE.match(code)
    assert hint_of(code) == code[-4:]
    assert new_code() != code


def test_issue_keeps_only_digest_and_hint(s, place):
    tenant, _court, _customer, owner = place
    voucher, code = VoucherService(s, NOW).issue(tenant, owner.id, 5000, label="For Ann")
    assert CODE_SHAPE.match(code)
    row = s.get(Voucher, voucher.id)
    assert (row.digest, row.hint, row.balance, row.initial) == (
        voucher_digest(code), code[-4:], 5000, 5000)
    stored = [str(value) for value in vars(row).values()]
    assert not any(code in value or code.replace("-", "") in value for value in stored)
    lines = VoucherService(s, NOW).ledger(tenant, voucher.id)
    assert [(line.entry.kind, line.entry.amount) for line in lines] == [("issued", 5000)]
    audit = s.scalar(select(AuditLog).where(AuditLog.action == "voucher.issued"))
    assert audit.target_id == voucher.id and audit.actor_id == owner.id
    assert code not in str(audit.details)


@pytest.mark.parametrize("amount", [0, -5, 1_000_001, "10", 10.5, True])
def test_issue_refuses_bad_amounts(s, place, amount):
    tenant, _court, _customer, owner = place
    with pytest.raises(Exception) as caught:
        VoucherService(s, NOW).issue(tenant, owner.id, amount)
    assert caught.value.field == "amount"


def test_issue_refuses_a_past_expiry(s, place):
    tenant, _court, _customer, owner = place
    with pytest.raises(Exception) as caught:
        VoucherService(s, NOW).issue(tenant, owner.id, 1000, expires_at=NOW)
    assert caught.value.field == "expires_at"


def test_partial_spend_across_several_bookings(s, place):
    tenant, court, customer, owner = place
    voucher, code = VoucherService(s, NOW).issue(tenant, owner.id, 2500)
    first = book(s, tenant, court, customer, code, 0)
    second = book(s, tenant, court, customer, code.lower().replace("-", " "), 1)
    third = book(s, tenant, court, customer, code, 2)
    assert [(x.voucher_amount, x.price) for x in (first, second, third)] == [
        (1000, 0), (1000, 0), (500, 500)]
    s.refresh(voucher)
    assert voucher.balance == 0
    assert ledger_sum(s, voucher.id) == 0
    lines = VoucherService(s, NOW).ledger(tenant, voucher.id)
    assert [(line.entry.kind, line.entry.amount, line.reference) for line in lines] == [
        ("issued", 2500, None), ("spent", -1000, first.reference),
        ("spent", -1000, second.reference), ("spent", -500, third.reference)]
    with pytest.raises(VoucherRefused) as caught:
        book(s, tenant, court, customer, code, 3)
    assert caught.value.reason == "empty"


def test_expired_voucher_is_refused(s, place):
    tenant, court, customer, owner = place
    _voucher, code = VoucherService(s, NOW).issue(
        tenant, owner.id, 2500, expires_at=NOW + timedelta(days=1))
    with pytest.raises(VoucherRefused) as caught:
        BookingService(s, NOW + timedelta(days=1)).book(BookingRequest(
            tenant, court, customer, START, voucher=code))
    assert caught.value.reason == "expired"
    assert book(s, tenant, court, customer, code).voucher_amount == 1000  # the day before


def test_voided_voucher_is_refused_and_its_balance_gone(s, place):
    tenant, court, customer, owner = place
    service = VoucherService(s, NOW)
    voucher, code = service.issue(tenant, owner.id, 2500)
    book(s, tenant, court, customer, code)
    service.void(tenant, voucher.id, owner.id)
    assert (voucher.balance, voucher.voided_at) == (0, NOW)
    assert ledger_sum(s, voucher.id) == 0
    assert [line.entry.kind for line in service.ledger(tenant, voucher.id)] == [
        "issued", "spent", "voided"]
    assert service.listing(voucher).status == "voided"
    with pytest.raises(VoucherRefused) as caught:
        book(s, tenant, court, customer, code, 1)
    assert caught.value.reason == "voided"
    with pytest.raises(Exception) as again:
        service.void(tenant, voucher.id, owner.id)
    assert again.value.status == 409


def test_cancellation_puts_the_amount_back(s, place):
    tenant, court, customer, owner = place
    voucher, code = VoucherService(s, NOW).issue(tenant, owner.id, 1500)
    booking = book(s, tenant, court, customer, code)
    s.refresh(voucher)
    assert voucher.balance == 500
    BookingService(s, NOW).cancel(tenant, booking, actor_id=customer.id)
    s.refresh(voucher)
    assert voucher.balance == 1500
    lines = VoucherService(s, NOW).ledger(tenant, voucher.id)
    assert [(line.entry.kind, line.entry.amount, line.reference) for line in lines] == [
        ("issued", 1500, None), ("spent", -1000, booking.reference),
        ("refunded", 1000, booking.reference)]
    assert ledger_sum(s, voucher.id) == voucher.balance


def test_another_tenants_voucher_names_nothing(s, place):
    tenant, court, customer, owner = place
    other = b.tenant(s, currency="EUR")
    _voucher, code = VoucherService(s, NOW).issue(other, None, 1500)
    with pytest.raises(VoucherRefused) as caught:
        book(s, tenant, court, customer, code)
    assert caught.value.reason == "unknown"
    with pytest.raises(Exception) as lookup:
        VoucherService(s, NOW).voucher(tenant, _voucher.id)
    assert lookup.value.field == "voucher_id"


def test_listing_statuses(s, place):
    tenant, _court, _customer, owner = place
    service = VoucherService(s, NOW)
    active, _ = service.issue(tenant, owner.id, 1000)
    expiring, _ = service.issue(tenant, owner.id, 1000, expires_at=NOW + timedelta(hours=1))
    later = VoucherService(s, NOW + timedelta(hours=2))
    assert {row.voucher.id: row.status for row in later.vouchers(tenant)} == {
        active.id: "active", expiring.id: "expired"}


def test_balance_check_counts_wrong_codes(s, place):
    tenant, _court, _customer, owner = place
    service = VoucherService(s, NOW)
    voucher, code = service.issue(tenant, owner.id, 1200)
    found = service.balance_of(tenant, code, "203.0.113.9")
    assert (found.voucher.id, found.status) == (voucher.id, "active")
    for _ in range(10):
        assert service.balance_of(tenant, "AAAA-BBBB-CCCC-DDDD", "203.0.113.9").voucher is None
    with pytest.raises(TooManyAttempts):
        service.balance_of(tenant, code, "203.0.113.9")
    assert service.balance_of(tenant, code, "198.51.100.7").voucher.id == voucher.id


def test_end_of_day_is_local_midnight(place):
    tenant = place[0]
    assert end_of_day(tenant, START.date()).isoformat() == "2026-03-09T23:00:00+00:00"

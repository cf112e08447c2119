"""The pricing rules without a database: rounding, time windows (DST days
included), which offer applies, how an offer and a code combine, the
breakdown as stored."""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from booking.models import OfferKind
from booking.services.pricing import (
    Line,
    Quote,
    best_offer,
    combine,
    discount_of,
    in_window,
    normalize_code,
    offer_applies,
    percent_of,
    voucher_digest,
)

PARIS = "Europe/Paris"
NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


def resource(price=2000, resource_id=1, venue_id=10, zone=PARIS):
    venue = SimpleNamespace(id=venue_id, time_zone=zone, tenant=SimpleNamespace(time_zone=zone))
    return SimpleNamespace(id=resource_id, venue_id=venue_id, venue=venue, price=price)


def offer(offer_id=1, kind=OfferKind.OFF_PEAK, percent=20, amount=None, **fields):
    values = dict(id=offer_id, name=f"offer {offer_id}", kind=kind, percent=percent,
                  amount=amount, weekdays=[], from_minute=None, to_minute=None, paused=False,
                  ended_at=None, venue_id=None, resource_id=None, valid_from=None,
                  valid_until=None, hours_before=None, days_ahead=None, stacks=False)
    values.update(fields)
    return SimpleNamespace(**values)


def code(percent=None, amount=None, text="SPRING", code_id=7):
    return SimpleNamespace(id=code_id, code=text, percent=percent, amount=amount)


def paris(day, hour, minute=0):
    from zoneinfo import ZoneInfo

    return datetime.combine(day, datetime.min.time(), ZoneInfo(PARIS)).replace(
        hour=hour, minute=minute).astimezone(UTC)


class TestRounding:
    def test_percent_is_rounded_half_up_to_the_minor_unit(self):
        assert percent_of(1250, 15) == 188  # 187.5
        assert percent_of(1249, 15) == 187  # 187.35

    def test_whole_percent_needs_no_rounding(self):
        assert percent_of(2000, 20) == 400

    def test_a_hundred_percent_takes_all(self):
        assert discount_of(offer(percent=100), 1999) == 1999

    def test_fixed_amount_never_takes_the_price_below_zero(self):
        assert discount_of(offer(percent=None, amount=5000), 2000) == 2000

    def test_fixed_amount_is_taken_whole(self):
        assert discount_of(offer(percent=None, amount=500), 2000) == 500


class TestTimeWindow:
    def test_weekdays_are_the_local_weekday(self):
        # 00:30 on Monday in Paris is still Sunday in UTC: Monday is what counts.
        monday_early = paris(date(2026, 3, 23), 0, 30)
        assert monday_early.weekday() == 6
        assert offer_applies(offer(weekdays=[0]), resource(), monday_early, NOW)
        assert not offer_applies(offer(weekdays=[6]), resource(), monday_early, NOW)

    def test_window_includes_its_start_and_excludes_its_end(self):
        window = offer(from_minute=7 * 60, to_minute=9 * 60)
        assert in_window(window, datetime(2026, 3, 23, 7, 0))
        assert in_window(window, datetime(2026, 3, 23, 8, 59))
        assert not in_window(window, datetime(2026, 3, 23, 9, 0))

    def test_window_over_midnight(self):
        night = offer(from_minute=22 * 60, to_minute=2 * 60)
        assert in_window(night, datetime(2026, 3, 23, 23, 0))
        assert in_window(night, datetime(2026, 3, 23, 1, 0))
        assert not in_window(night, datetime(2026, 3, 23, 12, 0))

    @pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25)],
                             ids=["spring-forward", "fall-back"])
    def test_window_is_wall_clock_time_on_dst_days(self, day):
        morning = offer(from_minute=7 * 60, to_minute=9 * 60)
        court = resource()
        assert offer_applies(morning, court, paris(day, 8), NOW)
        assert not offer_applies(morning, court, paris(day, 9), NOW)
        assert not offer_applies(morning, court, paris(day, 6), NOW)

    def test_utc_hour_is_not_what_counts(self):
        # 08:00 in Paris in summer is 06:00 UTC: in a 07:00–09:00 window all the same.
        morning = offer(from_minute=7 * 60, to_minute=9 * 60)
        assert offer_applies(morning, resource(), paris(date(2026, 7, 1), 8), NOW)


class TestWhichOffer:
    def test_off_peak_applies_on_its_weekdays_only(self):
        monday = offer(weekdays=[0])
        assert offer_applies(monday, resource(), paris(date(2026, 3, 23), 10), NOW)
        assert not offer_applies(monday, resource(), paris(date(2026, 3, 24), 10), NOW)

    def test_last_minute_applies_within_its_hours(self):
        soon = offer(kind=OfferKind.LAST_MINUTE, hours_before=3)
        assert offer_applies(soon, resource(), NOW + timedelta(hours=3), NOW)
        assert not offer_applies(soon, resource(), NOW + timedelta(hours=3, minutes=1), NOW)

    def test_early_bird_applies_far_enough_ahead(self):
        early = offer(kind=OfferKind.EARLY_BIRD, days_ahead=14)
        assert offer_applies(early, resource(), NOW + timedelta(days=14), NOW)
        assert not offer_applies(early, resource(), NOW + timedelta(days=13, hours=23), NOW)

    def test_validity_dates_are_the_slots_local_date_both_included(self):
        april = offer(valid_from=date(2026, 4, 1), valid_until=date(2026, 4, 30))
        assert offer_applies(april, resource(), paris(date(2026, 4, 1), 0), NOW)
        assert offer_applies(april, resource(), paris(date(2026, 4, 30), 23), NOW)
        assert not offer_applies(april, resource(), paris(date(2026, 3, 31), 23), NOW)
        assert not offer_applies(april, resource(), paris(date(2026, 5, 1), 0), NOW)

    def test_scope_to_a_venue_or_a_resource(self):
        start = paris(date(2026, 3, 23), 10)
        assert offer_applies(offer(venue_id=10), resource(venue_id=10), start, NOW)
        assert not offer_applies(offer(venue_id=11), resource(venue_id=10), start, NOW)
        assert not offer_applies(offer(resource_id=2), resource(resource_id=1), start, NOW)

    def test_paused_and_ended_offers_apply_nowhere(self):
        start = paris(date(2026, 3, 23), 10)
        assert not offer_applies(offer(paused=True), resource(), start, NOW)
        assert not offer_applies(offer(ended_at=NOW), resource(), start, NOW)

    def test_the_offer_taking_most_off_wins(self):
        offers = [offer(1, percent=10), offer(2, percent=None, amount=500), offer(3, percent=20)]
        best, discount = best_offer(offers, resource(price=2000), paris(date(2026, 3, 23), 10),
                                    NOW, 2000)
        assert (best.id, discount) == (2, 500)

    def test_on_a_tie_the_older_offer_wins(self):
        offers = [offer(1, percent=25), offer(2, percent=None, amount=500)]
        best, _discount = best_offer(offers, resource(), paris(date(2026, 3, 23), 10), NOW, 2000)
        assert best.id == 1

    def test_no_offer_no_discount(self):
        assert best_offer([], resource(), NOW, NOW, 2000) == (None, 0)


class TestCombining:
    def test_the_better_of_offer_and_code_applies_alone(self):
        quote = combine(Quote(2000, "EUR"), offer(percent=20), 400, code(percent=25))
        assert [(line.kind, line.amount) for line in quote.lines] == [("code", 500)]
        assert quote.total == 1500

    def test_an_offer_better_than_the_code_keeps_the_offer(self):
        quote = combine(Quote(2000, "EUR"), offer(percent=30), 600, code(percent=10))
        assert [(line.kind, line.amount) for line in quote.lines] == [("offer", 600)]

    def test_a_stacking_offer_adds_the_code_to_what_it_left(self):
        quote = combine(Quote(2000, "EUR"), offer(percent=20, stacks=True), 400,
                        code(percent=10))
        assert [(line.kind, line.amount) for line in quote.lines] == [("offer", 400),
                                                                      ("code", 160)]
        assert quote.total == 1440

    def test_code_alone(self):
        quote = combine(Quote(2000, "EUR"), None, 0, code(percent=None, amount=300))
        assert quote.total == 1700 and quote.discount == 300

    def test_voucher_pays_what_is_left_and_is_no_discount(self):
        quote = combine(Quote(2000, "EUR"), offer(percent=20), 400, None)
        quote = quote.with_line(Line("voucher", "QRST", 1000, 3))
        assert (quote.total, quote.discount) == (600, 400)


class TestBreakdown:
    def test_breakdown_round_trips_through_json(self):
        quote = Quote(2000, "EUR", (Line("offer", "Off-peak", 400, 1), Line("code", "X", 100, 2)))
        stored = SimpleNamespace(price=quote.total, currency="EUR",
                                 price_breakdown=quote.as_json())
        assert Quote.of_booking(stored) == quote
        assert quote.as_json()["total"] == 1500

    def test_a_booking_made_before_breakdowns_is_its_price(self):
        old = SimpleNamespace(price=2500, currency="EUR", price_breakdown=None)
        assert Quote.of_booking(old) == Quote(2500, "EUR")

    def test_zero_lines_are_not_kept(self):
        assert Quote(0, "EUR").with_line(Line("offer", "x", 0)).lines == ()


def test_codes_are_typed_in_any_case():
    assert normalize_code("  spring-26 ") == "SPRING-26"


def test_voucher_digest_ignores_case_spaces_and_dashes():
    assert voucher_digest("abcd-efgh jkLM") == voucher_digest("ABCDEFGHJKLM")

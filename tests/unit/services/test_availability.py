"""Slot expansion from weekly wall-clock hours, DST days included."""

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.services.slots import (Occupancy, candidate_slots, day_slots, expand_slots,
                                    local_instant)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
ALL_DAY = {weekday: [(0, 1440)] for weekday in range(7)}


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def walls(slots, zone):
    return [start.astimezone(zone).strftime("%H:%M") for start, _ in slots]


def hourly(zone, day, hours=ALL_DAY, minutes=60):
    return expand_slots(hours, zone, minutes, day, day)


class TestLocalInstant:
    def test_local_instant_none_in_spring_gap(self):
        assert local_instant(date(2026, 3, 29), 2 * 60 + 30, PARIS) is None

    def test_local_instant_first_occurrence_in_autumn_overlap(self):
        assert local_instant(date(2026, 10, 25), 2 * 60 + 30, PARIS) == utc(2026, 10, 25, 0, 30)

    def test_local_instant_ordinary_day(self):
        assert local_instant(date(2026, 6, 1), 9 * 60, PARIS) == utc(2026, 6, 1, 7, 0)


class TestParisDst:
    def test_spring_day_has_no_slot_in_the_gap(self):
        slots = hourly(PARIS, date(2026, 3, 29))
        assert "02:00" not in walls(slots, PARIS)
        assert len(slots) == 23

    def test_spring_day_offsets_change_at_three(self):
        slots = dict((s.astimezone(PARIS).strftime("%H:%M"), s) for s, _ in hourly(PARIS, date(2026, 3, 29)))
        assert slots["01:00"] == utc(2026, 3, 29, 0, 0)
        assert slots["03:00"] == utc(2026, 3, 29, 1, 0)

    def test_spring_gap_half_hour_slots_skip_both(self):
        slots = walls(hourly(PARIS, date(2026, 3, 29), minutes=30), PARIS)
        assert "02:00" not in slots and "02:30" not in slots
        assert "01:30" in slots and "03:00" in slots

    def test_autumn_day_offers_the_repeated_hour_once(self):
        slots = hourly(PARIS, date(2026, 10, 25))
        starts = [start for start, _ in slots]
        assert len(starts) == len(set(starts)) == 24
        assert walls(slots, PARIS).count("02:00") == 1

    def test_autumn_repeated_hour_is_its_first_occurrence(self):
        slots = hourly(PARIS, date(2026, 10, 25))
        two = [s for s, _ in slots if s.astimezone(PARIS).strftime("%H:%M") == "02:00"]
        assert two == [utc(2026, 10, 25, 0, 0)]
        assert two[0].astimezone(PARIS).utcoffset() == timedelta(hours=2)

    def test_autumn_slots_never_overlap(self):
        slots = hourly(PARIS, date(2026, 10, 25))
        for (_, end), (next_start, _) in zip(slots, slots[1:]):
            assert end <= next_start

    def test_slot_lasts_its_length_in_real_time_across_the_change(self):
        slots = hourly(PARIS, date(2026, 3, 29))
        assert all(end - start == timedelta(hours=1) for start, end in slots)

    def test_daytime_hours_unaffected_by_spring_change(self):
        hours = {6: [(8 * 60, 20 * 60)]}  # Sunday 08:00-20:00
        slots = expand_slots(hours, PARIS, 60, date(2026, 3, 28), date(2026, 3, 29))
        assert len(slots) == 12
        assert slots[0][0] == utc(2026, 3, 29, 6, 0)  # 08:00 CEST

    def test_week_spanning_the_change_keeps_wall_times(self):
        hours = {weekday: [(9 * 60, 10 * 60)] for weekday in range(7)}
        slots = expand_slots(hours, PARIS, 60, date(2026, 3, 27), date(2026, 3, 31))
        assert walls(slots, PARIS) == ["09:00"] * 5
        assert [s.hour for s, _ in slots] == [8, 8, 7, 7, 7]


class TestNewYorkDst:
    def test_spring_day_has_no_slot_at_two(self):
        slots = hourly(NEW_YORK, date(2026, 3, 8))
        assert "02:00" not in walls(slots, NEW_YORK)
        assert len(slots) == 23

    def test_autumn_day_offers_one_am_once(self):
        slots = hourly(NEW_YORK, date(2026, 11, 1))
        assert walls(slots, NEW_YORK).count("01:00") == 1
        assert len({s for s, _ in slots}) == len(slots) == 24

    def test_autumn_one_am_is_daylight_time(self):
        slots = hourly(NEW_YORK, date(2026, 11, 1))
        one = [s for s, _ in slots if s.astimezone(NEW_YORK).strftime("%H:%M") == "01:00"]
        assert one == [utc(2026, 11, 1, 5, 0)]  # 01:00 EDT (-04:00)

    def test_spring_offsets(self):
        slots = dict((s.astimezone(NEW_YORK).strftime("%H:%M"), s) for s, _ in hourly(NEW_YORK, date(2026, 3, 8)))
        assert slots["01:00"] == utc(2026, 3, 8, 6, 0)
        assert slots["03:00"] == utc(2026, 3, 8, 7, 0)


class TestGrid:
    def test_slots_must_end_by_closing(self):
        hours = {0: [(9 * 60, 11 * 60 + 30)]}
        slots = expand_slots(hours, PARIS, 60, date(2026, 6, 1), date(2026, 6, 1))
        assert walls(slots, PARIS) == ["09:00", "10:00"]

    def test_buffers_space_slots_and_fit_inside_hours(self):
        hours = {0: [(9 * 60, 13 * 60)]}
        slots = expand_slots(hours, PARIS, 45, date(2026, 6, 1), date(2026, 6, 1), before=0, after=15)
        assert walls(slots, PARIS) == ["09:00", "10:00", "11:00", "12:00"]

    def test_buffer_before_delays_first_slot(self):
        hours = {0: [(9 * 60, 12 * 60)]}
        slots = expand_slots(hours, PARIS, 50, date(2026, 6, 1), date(2026, 6, 1), before=10)
        assert walls(slots, PARIS) == ["09:10", "10:10", "11:10"]

    def test_two_ranges_in_a_day(self):
        hours = {0: [(9 * 60, 11 * 60), (14 * 60, 16 * 60)]}
        slots = expand_slots(hours, PARIS, 60, date(2026, 6, 1), date(2026, 6, 1))
        assert walls(slots, PARIS) == ["09:00", "10:00", "14:00", "15:00"]

    def test_closed_weekday_has_no_slots(self):
        hours = {0: [(9 * 60, 11 * 60)]}
        assert expand_slots(hours, PARIS, 60, date(2026, 6, 2), date(2026, 6, 7)) == []

    def test_closing_at_midnight(self):
        hours = {0: [(22 * 60, 1440)]}
        slots = expand_slots(hours, PARIS, 60, date(2026, 6, 1), date(2026, 6, 1))
        assert walls(slots, PARIS) == ["22:00", "23:00"]


class TestOccupancy:
    def test_sums_overlapping_seats(self):
        rows = [(utc(2026, 6, 1, 9), utc(2026, 6, 1, 10), 2), (utc(2026, 6, 1, 9, 30), utc(2026, 6, 1, 10, 30), 3)]
        assert Occupancy(rows).seats(utc(2026, 6, 1, 9, 45), utc(2026, 6, 1, 10)) == 5

    def test_touching_periods_do_not_overlap(self):
        rows = [(utc(2026, 6, 1, 9), utc(2026, 6, 1, 10), 1)]
        assert Occupancy(rows).seats(utc(2026, 6, 1, 10), utc(2026, 6, 1, 11)) == 0

    @pytest.mark.parametrize("hour, expected", [(8, 0), (9, 1), (12, 1), (13, 0)])
    def test_long_block_found_from_any_overlap(self, hour, expected):
        rows = [(utc(2026, 6, 1, 9), utc(2026, 6, 1, 13), 1)]
        assert Occupancy(rows).seats(utc(2026, 6, 1, hour), utc(2026, 6, 1, hour, 59)) == expected

    @pytest.mark.parametrize("seed", range(20))
    def test_seats_of_many_spans_in_one_pass_equal_each_asked_alone(self, seed):
        rng = random.Random(seed)
        day = utc(2026, 6, 1)
        rows = []
        for _ in range(rng.randrange(0, 30)):
            start = day + timedelta(minutes=15 * rng.randrange(0, 200))
            rows.append((start, start + timedelta(minutes=15 * rng.randrange(1, 96)),
                         rng.randrange(1, 4)))
        length = timedelta(minutes=15 * rng.randrange(1, 12))
        spans = sorted({day + timedelta(minutes=15 * rng.randrange(-100, 300))
                        for _ in range(60)})
        spans = [(start, start + length) for start in spans]
        taken = Occupancy(rows)
        assert list(taken.seats_each(spans)) == [taken.seats(*span) for span in spans]


class TestCandidateSlots:
    @pytest.mark.parametrize("zone", [PARIS, NEW_YORK, ZoneInfo("Australia/Lord_Howe")])
    def test_a_day_at_a_time_equal_the_whole_range_expanded_at_once(self, zone):
        hours = {0: [(0, 1440)], 2: [(8 * 60, 12 * 60), (14 * 60, 20 * 60)], 6: [(0, 3 * 60)]}
        first, last = date(2026, 1, 1), date(2026, 12, 31)
        assert candidate_slots(hours, zone, 45, first, last, 30, 15) == \
            expand_slots(hours, zone, 45, first, last, 30, 15)

    def test_resources_of_the_same_hours_share_each_day(self):
        hours = {0: [(9 * 60, 12 * 60)]}
        monday = date(2026, 6, 1)
        day_slots.cache_clear()
        candidate_slots(hours, PARIS, 60, monday, monday + timedelta(days=6), 0, 15)
        candidate_slots(hours, PARIS, 60, monday, monday + timedelta(days=6), 0, 15)
        assert day_slots.cache_info().hits == 1 and day_slots.cache_info().misses == 1


class TestClosingAcrossDst:
    def test_slot_never_ends_after_closing_on_spring_day(self):
        hours = {6: [(0, 3 * 60)]}  # Sunday 00:00-03:00
        slots = expand_slots(hours, PARIS, 90, date(2026, 3, 29), date(2026, 3, 29))
        assert walls(slots, PARIS) == ["00:00"]

    def test_slot_ending_at_closing_on_autumn_day_is_kept(self):
        hours = {6: [(0, 3 * 60)]}
        slots = expand_slots(hours, PARIS, 60, date(2026, 10, 25), date(2026, 10, 25))
        assert walls(slots, PARIS) == ["00:00", "01:00", "02:00"]


def wall_by_wall(hours, zone, minutes, day):
    """``expand_slots`` for one day the slow way: every wall time resolved
    through the zone (what the arithmetic of a steady day must equal)."""
    slots = []
    for opens, closes in hours.get(day.weekday(), ()):
        end_of_range = datetime.combine(day, datetime.min.time(), tzinfo=zone) + \
            timedelta(minutes=closes)
        for minute in range(opens, closes - minutes + 1, minutes):
            start = local_instant(day, minute, zone)
            if start is None or start + timedelta(minutes=minutes) > end_of_range.astimezone(UTC):
                continue
            slots.append((start, start + timedelta(minutes=minutes)))
    return sorted(set(slots))


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/New_York", "Australia/Lord_Howe",
                                  "Asia/Kolkata", "America/Santiago", "Pacific/Chatham"])
def test_every_day_of_a_year_expands_as_wall_time_by_wall_time(zone):
    zone = ZoneInfo(zone)
    hours = {weekday: [(0, 1440)] for weekday in range(7)}
    day = date(2026, 1, 1)
    while day.year == 2026:
        assert hourly(zone, day, hours, 30) == wall_by_wall(hours, zone, 30, day), day
        day += timedelta(days=1)

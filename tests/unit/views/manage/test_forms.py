"""The staff area's schedule forms: opening-hours text, prices and local times."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from booking.services.schedule import day_text, week_texts
from booking.views.manage.forms import (
    parse_day,
    parse_local,
    parse_price,
    parse_resource,
    parse_week,
)

PARIS = ZoneInfo("Europe/Paris")


def message(exc_info):
    return exc_info.value.args[0].interpolate()


class TestParseDay:
    def test_parse_day_two_ranges(self):
        assert parse_day("09:00-12:00, 14:00-18:00") == [(540, 720), (840, 1080)]

    def test_parse_day_empty_is_closed(self):
        assert parse_day("   ") == []

    def test_parse_day_accepts_single_digit_hours_en_dash_and_semicolons(self):
        assert parse_day("9:00 – 12:30; 13:00-14:00") == [(540, 750), (780, 840)]

    def test_parse_day_midnight_end(self):
        assert parse_day("18:00-24:00") == [(1080, 1440)]

    def test_parse_day_whole_day(self):
        assert parse_day("00:00-24:00") == [(0, 1440)]

    @pytest.mark.parametrize("text, expected", [
        ("9-12", "is not a range like 09:00-12:00"),
        ("09:00", "is not a range like 09:00-12:00"),
        ("09:00-", "is not a range like 09:00-12:00"),
        ("09:00-12:00-13:00", "is not a range like 09:00-12:00"),
        ("nine to five", "is not a range like 09:00-12:00"),
        ("09:60-12:00", "is not a time of day"),
        ("25:00-26:00", "is not a time of day"),
        ("09:00-24:30", "is not a time of day"),
    ])
    def test_parse_day_refuses_bad_format(self, text, expected):
        with pytest.raises(ValueError) as exc_info:
            parse_day(text)
        assert expected in message(exc_info)

    def test_parse_day_refuses_closing_before_opening(self):
        with pytest.raises(ValueError) as exc_info:
            parse_day("18:00-09:00")
        assert message(exc_info) == "“18:00-09:00” closes before it opens (or when it opens)"

    def test_parse_day_refuses_empty_range(self):
        with pytest.raises(ValueError) as exc_info:
            parse_day("09:00-09:00")
        assert "closes before it opens" in message(exc_info)

    def test_parse_day_refuses_opening_at_24(self):
        with pytest.raises(ValueError) as exc_info:
            parse_day("24:00-24:00")
        assert "opens at 24:00" in message(exc_info)

    def test_parse_day_refuses_overlap(self):
        with pytest.raises(ValueError) as exc_info:
            parse_day("09:00-12:00, 11:00-14:00")
        assert message(exc_info) == "“11:00-14:00” overlaps “09:00-12:00”"

    def test_parse_day_refuses_touching_ranges(self):
        with pytest.raises(ValueError) as exc_info:
            parse_day("09:00-12:00, 12:00-14:00")
        assert "write them as one range" in message(exc_info)

    def test_parse_day_refuses_ranges_out_of_order(self):
        with pytest.raises(ValueError) as exc_info:
            parse_day("14:00-18:00, 09:00-12:00")
        assert "list the ranges in order" in message(exc_info)

    def test_parse_day_refuses_too_many_ranges(self):
        text = ", ".join(f"{h:02d}:00-{h:02d}:30" for h in range(13))
        with pytest.raises(ValueError):
            parse_day(text)

    def test_day_text_round_trips(self):
        text = "09:00-12:00, 14:00-24:00"
        assert day_text(parse_day(text)) == text


class TestParseWeek:
    def test_parse_week_keeps_open_days_only(self):
        hours, errors = parse_week({"monday": "09:00-12:00", "sunday": "", "friday": "10:00-11:00"})
        assert errors == {} and hours == {0: [(540, 720)], 4: [(600, 660)]}

    def test_parse_week_names_each_bad_weekday(self):
        _hours, errors = parse_week({"tuesday": "12:00-09:00", "saturday": "x"})
        assert sorted(errors) == ["saturday", "tuesday"]

    def test_week_texts_for_every_weekday(self):
        texts = week_texts({0: [(540, 720)]})
        assert texts["monday"] == "09:00-12:00" and texts["sunday"] == ""


class TestParsePrice:
    @pytest.mark.parametrize("text, minor", [("20", 2000), ("20.5", 2050), ("20,50", 2050),
                                             ("0", 0), ("0.07", 7), (" 12.00 ", 1200)])
    def test_parse_price_in_major_units(self, text, minor):
        assert parse_price(text) == minor

    @pytest.mark.parametrize("text, expected", [("20.005", "has more than 2 decimal places"),
                                                ("-1", "must not be negative"),
                                                ("20 €", "must be an amount like 20.00"),
                                                ("1e3", "must be an amount like 20.00"),
                                                ("999999999", "is too large")])
    def test_parse_price_refuses(self, text, expected):
        with pytest.raises(ValueError) as exc_info:
            parse_price(text)
        assert message(exc_info) == expected


class TestParseResource:
    FORM = {"name": "Court 2", "kind": "court", "description": "", "capacity": "1",
            "slot_minutes": "60", "buffer_before_minutes": "0", "buffer_after_minutes": "15",
            "min_notice_minutes": "60", "max_advance_days": "90", "price": "20.00"}

    def test_parse_resource_clean_values(self):
        values, errors = parse_resource(self.FORM)
        assert errors == {}
        assert values["price"] == 2000 and values["buffer_after_minutes"] == 15

    def test_parse_resource_slot_must_divide_the_day(self):
        _values, errors = parse_resource({**self.FORM, "slot_minutes": "7"})
        assert "does not divide the day" in errors["slot_minutes"].interpolate()

    def test_parse_resource_slot_and_buffers_fit_a_day(self):
        _values, errors = parse_resource({**self.FORM, "slot_minutes": "720",
                                          "buffer_before_minutes": "720",
                                          "buffer_after_minutes": "1"})
        assert "fit in one day" in errors["buffer_after_minutes"].interpolate()

    @pytest.mark.parametrize("field, value", [("capacity", "0"), ("slot_minutes", "4"),
                                              ("buffer_before_minutes", "-5"),
                                              ("min_notice_minutes", "-1"),
                                              ("max_advance_days", "731"),
                                              ("capacity", "1.5"), ("kind", "spaceship"),
                                              ("name", " ")])
    def test_parse_resource_refuses_out_of_range(self, field, value):
        _values, errors = parse_resource({**self.FORM, field: value})
        assert list(errors) == [field]


class TestParseLocal:
    def test_parse_local_is_wall_time_in_the_zone(self):
        assert parse_local("2026-03-10T09:00", PARIS) == datetime(2026, 3, 10, 8, tzinfo=UTC)

    def test_parse_local_refuses_the_spring_gap(self):
        with pytest.raises(ValueError) as exc_info:
            parse_local("2026-03-29T02:30", PARIS)
        assert "does not exist in Europe/Paris" in message(exc_info)

    def test_parse_local_autumn_overlap_is_first_occurrence(self):
        assert parse_local("2026-10-25T02:30", PARIS) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)

    @pytest.mark.parametrize("text", ["2026-03-10", "tomorrow", "2026-03-10T09:00+01:00",
                                      "1999-03-10T09:00"])
    def test_parse_local_refuses_other_text(self, text):
        with pytest.raises(ValueError):
            parse_local(text, PARIS)

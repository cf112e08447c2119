"""The rows of the staff day grid: the day's existing wall times on the
step, each occurrence once, placed by instants."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from booking.services.slots import row_instants
from booking.services.staff_calendar import grid_row


def walls(instants, zone):
    return [i.astimezone(zone).strftime("%H:%M%z") for i in instants]


def test_a_steady_day_has_a_row_per_step_from_midnight():
    zone = ZoneInfo("Europe/Paris")
    instants, changes = row_instants(date(2026, 3, 3), zone, 60)
    assert not changes and len(instants) == 24
    assert instants[0] == datetime(2026, 3, 2, 23, tzinfo=UTC)
    assert all(b - a == timedelta(hours=1) for a, b in zip(instants, instants[1:]))


def test_spring_forward_skips_the_missing_hour():
    zone = ZoneInfo("Europe/Paris")
    instants, changes = row_instants(date(2026, 3, 29), zone, 60)
    assert changes and len(instants) == 23
    assert walls(instants, zone)[:4] == ["00:00+0100", "01:00+0100", "03:00+0200", "04:00+0200"]


def test_fall_back_has_both_occurrences_of_the_repeated_hour():
    zone = ZoneInfo("Australia/Sydney")
    instants, _ = row_instants(date(2026, 4, 5), zone, 60)
    assert len(instants) == 25
    assert walls(instants, zone)[1:5] == ["01:00+1100", "02:00+1100", "02:00+1000", "03:00+1000"]
    rows = [grid_row(i, date(2026, 4, 5), zone, True) for i in instants[2:4]]
    assert [(r.minute, r.key, r.offset) for r in rows] == [(120, "0120", "AEDT"),
                                                           (120, "0120b", "AEST")]


def test_half_hour_shift():
    zone = ZoneInfo("Australia/Lord_Howe")
    back, _ = row_instants(date(2026, 4, 5), zone, 30)
    assert walls(back, zone)[2:6] == ["01:00+1100", "01:30+1100", "01:30+1030", "02:00+1030"]
    assert len(back) == 49
    forward, _ = row_instants(date(2026, 10, 4), zone, 30)
    assert walls(forward, zone)[3:6] == ["01:30+1030", "02:30+1100", "03:00+1100"]
    assert len(forward) == 47


def test_a_day_whose_midnight_is_skipped_starts_at_its_first_instant():
    zone = ZoneInfo("America/Santiago")
    instants, changes = row_instants(date(2026, 9, 6), zone, 60)
    assert changes and walls(instants, zone)[0] == "01:00-0300" and len(instants) == 23


def test_a_day_whose_last_hour_repeats_has_it_twice():
    zone = ZoneInfo("America/Santiago")
    instants, _ = row_instants(date(2026, 4, 4), zone, 60)
    assert walls(instants, zone)[-2:] == ["23:00-0300", "23:00-0400"] and len(instants) == 25


def test_havana_skips_midnight_to_one():
    zone = ZoneInfo("America/Havana")
    instants, _ = row_instants(date(2026, 3, 8), zone, 60)
    assert walls(instants, zone)[0] == "01:00-0400" and len(instants) == 23

"""Instants typed by clients: ISO 8601 with an offset, as RFC 3339 allows
them (lowercase ``t`` and ``z`` too)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from booking.views.forms import instant


@pytest.mark.parametrize("text, expected", [
    ("2026-03-03T10:00:00Z", datetime(2026, 3, 3, 10, tzinfo=UTC)),
    ("2026-03-03t10:00:00z", datetime(2026, 3, 3, 10, tzinfo=UTC)),
    ("2026-03-03t10:00:00+01:00", datetime(2026, 3, 3, 10, tzinfo=timezone(timedelta(hours=1)))),
])
def test_instant_accepts_rfc_3339_in_either_case(text, expected):
    assert instant(text) == expected


def test_instant_without_an_offset_is_refused():
    with pytest.raises(ValueError):
        instant("2026-03-03t10:00:00")

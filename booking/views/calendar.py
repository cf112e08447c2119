"""The week of a resource as the pages show it: days in the venue's local
time, each closed (with the reason) or with its free slots; each slot's time
also in the visitor's own zone when that differs."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from ..services import AvailabilityService
from ..services.errors import ValidationError
from ..services.slots import zone_of
from ..i18n import _

#: Set by static/js/app.js from the browser's own time zone.
DAYS_SHOWN = 7
MAX_DAYS_BACK, MAX_DAYS_AHEAD = 366, 2 * 366


@dataclass
class SlotView:
    start: object
    end: object
    seats_left: int
    label: str
    viewer_label: str | None


@dataclass
class DayView:
    day: date
    label: str
    closed: bool = False
    reason: str = ""
    slots: list = field(default_factory=list)


@dataclass
class Week:
    zone: str
    viewer_zone: str | None
    first: date
    previous: date
    next: date
    days: list


def first_day(request, zone):
    """``?from=YYYY-MM-DD`` or today, within a sane distance of today."""
    today = request.now.astimezone(zone).date()
    raw = request.GET.get("from")
    if not raw:
        return today
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(_("must be a date, YYYY-MM-DD"), field="from") from None
    if not today - timedelta(days=MAX_DAYS_BACK) <= day <= today + timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationError(_("is too far from today"), field="from")
    return day


def week_of(request, resource, first=None, exclude_booking=None):
    """The week from ``first``; ``exclude_booking`` (when moving it) does not
    count against the free seats, and its own slot is not offered."""
    service = request.find_service(AvailabilityService)
    zone = zone_of(resource)
    first = first or first_day(request, zone)
    last = first + timedelta(days=DAYS_SHOWN - 1)
    mine = request.viewer_zone
    if mine is not None and mine.key == zone.key:
        mine = None
    fmt = request.format
    days = {first + timedelta(days=n): DayView(first + timedelta(days=n),
                                              fmt.day(first + timedelta(days=n)))
            for n in range(DAYS_SHOWN)}
    for day, reason in service.closed_days(resource, first, last).items():
        days[day].closed, days[day].reason = True, reason
    exclude_id = exclude_booking.id if exclude_booking is not None else None
    for slot in service.slots(resource, first, last, exclude_booking_id=exclude_id):
        if slot.seats_left <= 0:
            continue
        if exclude_booking is not None and slot.start == exclude_booking.starts_at:
            continue
        day = days.get(slot.start.astimezone(zone).date())
        if day is None:
            continue
        day.slots.append(SlotView(
            slot.start, slot.end, slot.seats_left,
            label=fmt.time(slot.start, zone),
            viewer_label=fmt.time(slot.start, mine) if mine else None,
        ))
    return Week(
        zone=zone.key, viewer_zone=mine.key if mine else None, first=first,
        previous=first - timedelta(days=DAYS_SHOWN), next=first + timedelta(days=DAYS_SHOWN),
        days=list(days.values()),
    )

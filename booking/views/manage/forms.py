"""The staff area's schedule forms: a week of opening hours, a resource, a
closure. Each parser returns ``(values, {field: message})`` (or raises
``ValueError`` with the message, for one value) and writes nothing; the
writes are :class:`~booking.services.schedule.ScheduleService`'s."""

import re
from datetime import UTC, datetime

from ...i18n import _
from ...models import ResourceKind
from ...services.schedule import DAY_MINUTES, WEEKDAYS, day_text, price_text
from ..forms import line

MAX_RANGES_PER_DAY = 12
MAX_PRICE = 2**31 - 1  # minor units: the largest integer every database stores

_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_PRICE = re.compile(r"(\d{1,9})(?:[.,](\d*))?")


# -- opening hours -------------------------------------------------------------

def _clock(value, whole):
    match = _CLOCK.fullmatch(value.strip())
    if not match:
        raise ValueError(_("“${range}” is not a range like 09:00-12:00",
                           mapping={"range": whole}))
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(_("“${time}” is not a time of day", mapping={"time": value.strip()}))
    return hours * 60 + minutes


def parse_day(value):
    """One day's ranges, e.g. ``"09:00-12:00, 14:00-18:00"``, as sorted
    ``(opens_minute, closes_minute)`` pairs; empty text is a closed day.
    Raises ``ValueError`` with a message for anything else."""
    ranges = []
    parts = [part.strip() for part in re.split(r"[,;]", value.strip())] if value.strip() else []
    if len(parts) > MAX_RANGES_PER_DAY:
        raise ValueError(_("has more than ${count} ranges", mapping={"count": MAX_RANGES_PER_DAY}))
    for part in parts:
        ends = re.split(r"\s*[-–]\s*", part)
        if len(ends) != 2 or not all(ends):
            raise ValueError(_("“${range}” is not a range like 09:00-12:00",
                               mapping={"range": part}))
        opens, closes = _clock(ends[0], part), _clock(ends[1], part)
        if opens == DAY_MINUTES:
            raise ValueError(_("“${range}” opens at 24:00: write 00:00 of the next day",
                               mapping={"range": part}))
        if closes <= opens:
            raise ValueError(_("“${range}” closes before it opens (or when it opens)",
                               mapping={"range": part}))
        if ranges:
            previous = day_text([ranges[-1]])
            if opens < ranges[-1][0]:
                raise ValueError(_("“${range}” comes before “${previous}”: list the ranges "
                                   "in order", mapping={"range": part, "previous": previous}))
            if opens < ranges[-1][1]:
                raise ValueError(_("“${range}” overlaps “${previous}”",
                                   mapping={"range": part, "previous": previous}))
            if opens == ranges[-1][1]:
                raise ValueError(_("“${range}” starts when “${previous}” ends: write them as "
                                   "one range", mapping={"range": part, "previous": previous}))
        ranges.append((opens, closes))
    return ranges


def parse_week(form):
    """The hours form (one text per weekday) → ``({weekday: ranges},
    {field: message})``. Days left empty are closed."""
    hours, errors = {}, {}
    for weekday, field in enumerate(WEEKDAYS):
        value = form.get(field, "")
        if not isinstance(value, str) or len(value) > 500:
            errors[field] = _("must be at most ${max_length} characters long",
                              mapping={"max_length": 500})
            continue
        try:
            ranges = parse_day(value)
        except ValueError as exc:
            errors[field] = exc.args[0]
            continue
        if ranges:
            hours[weekday] = ranges
    return hours, errors


# -- resources -----------------------------------------------------------------

#: Whole-number fields of a resource and their ranges (the model's checks).
RESOURCE_NUMBERS = {
    "capacity": (1, 100_000),
    "slot_minutes": (5, 720),
    "buffer_before_minutes": (0, DAY_MINUTES),
    "buffer_after_minutes": (0, DAY_MINUTES),
    "min_notice_minutes": (0, 366 * DAY_MINUTES),
    "max_advance_days": (1, 730),
}
RESOURCE_FIELDS = ("name", "kind", "description", *RESOURCE_NUMBERS, "price")
resource_name = line(200, min_length=1)


def _whole_number(value, minimum, maximum):
    digits = value.strip()
    if not re.fullmatch(r"-?\d{1,12}", digits):
        raise ValueError(_("must be a whole number"))
    number = int(digits)
    if number < minimum:
        raise ValueError(_("must be at least ${minimum}", mapping={"minimum": minimum}))
    if number > maximum:
        raise ValueError(_("must be at most ${maximum}", mapping={"maximum": maximum}))
    return number


def parse_price(value):
    """A price in major units ("20", "20.5", "20,50") → minor units."""
    value = value.strip()
    if value.startswith("-"):
        raise ValueError(_("must not be negative"))
    match = _PRICE.fullmatch(value)
    if not match:
        raise ValueError(_("must be an amount like 20.00"))
    cents = match[2] or ""
    if len(cents) > 2:
        raise ValueError(_("has more than 2 decimal places"))
    minor = int(match[1]) * 100 + int(cents.ljust(2, "0"))
    if minor > MAX_PRICE:
        raise ValueError(_("is too large"))
    return minor


def parse_resource(form):
    """The resource form → ``(values, {field: message})``."""
    values, errors = {}, {}
    raw = {field: form.get(field) for field in RESOURCE_FIELDS}
    if any(value is not None and not isinstance(value, str) for value in raw.values()):
        return {}, {"name": _("must be text")}
    raw = {field: value or "" for field, value in raw.items()}
    values["name"] = raw["name"].strip()
    try:
        values["name"] = resource_name(raw["name"])
    except ValueError as exc:
        errors["name"] = exc.args[0]
    if raw["kind"] not in set(ResourceKind):
        errors["kind"] = _("is not one of the kinds offered")
    values["kind"] = raw["kind"]
    values["description"] = raw["description"].strip()
    if len(values["description"]) > 2000 or "\x00" in values["description"]:
        errors["description"] = _("must be at most ${max_length} characters long",
                                  mapping={"max_length": 2000})
    for field, (minimum, maximum) in RESOURCE_NUMBERS.items():
        try:
            values[field] = _whole_number(raw[field], minimum, maximum)
        except ValueError as exc:
            errors[field] = exc.args[0]
    try:
        values["price"] = parse_price(raw["price"])
    except ValueError as exc:
        errors["price"] = exc.args[0]
    slot = values.get("slot_minutes")
    if slot is not None and DAY_MINUTES % slot:
        errors["slot_minutes"] = _(
            "${minutes} minutes does not divide the day: choose a length such as 15, 30, "
            "45, 60, 90 or 120 minutes", mapping={"minutes": slot})
    spans = [values.get(f) for f in ("slot_minutes", "buffer_before_minutes",
                                      "buffer_after_minutes")]
    if None not in spans and sum(spans) > DAY_MINUTES:
        errors["buffer_after_minutes"] = _(
            "the slot and its buffers must fit in one day (${minutes} minutes)",
            mapping={"minutes": DAY_MINUTES})
    return values, errors


def resource_form_values(resource):
    """A resource's fields as the form shows them."""
    values = {field: getattr(resource, field) for field in RESOURCE_FIELDS}
    values["price"] = price_text(resource.price)
    return values


# -- closures ------------------------------------------------------------------

def parse_local(value, zone):
    """A ``datetime-local`` value (``2026-03-10T09:00``) read as wall time
    in ``zone`` → an aware instant. A wall time in a DST gap is refused; one
    that happens twice is its first occurrence."""
    try:
        wall = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(_("must be a date and time, e.g. 2026-03-10T09:00")) from None
    if wall.tzinfo is not None or len(value.strip()) < 16 or not 2000 <= wall.year <= 2200:
        raise ValueError(_("must be a date and time, e.g. 2026-03-10T09:00"))
    instant = wall.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        raise ValueError(_("${time} does not exist in ${zone}: the clocks skip it "
                           "(daylight saving time)",
                           mapping={"time": wall.strftime("%Y-%m-%d %H:%M"), "zone": zone.key}))
    return instant


def parse_closure(form, zone, resources, now):
    """The closure form → ``(values, {field: message})``. ``scope`` is
    ``"venue"`` or the id of one of ``resources``."""
    values, errors = {}, {}
    form = {key: value for key, value in form.items() if isinstance(value, str)}
    scope = form.get("scope", "venue")
    by_id = {str(resource.id): resource for resource in resources}
    if scope != "venue" and scope not in by_id:
        errors["scope"] = _("is not this venue or one of its resources")
    values["scope"], values["resource"] = scope, by_id.get(scope)
    for field in ("starts_at", "ends_at"):
        raw = form.get(field, "")
        if not raw.strip():
            errors[field] = _("is required")
            continue
        try:
            values[field] = parse_local(raw, zone)
        except ValueError as exc:
            errors[field] = exc.args[0]
    if "starts_at" in values and "ends_at" in values:
        if values["ends_at"] <= values["starts_at"]:
            errors["ends_at"] = _("must be after the start")
        elif values["ends_at"] <= now:
            errors["ends_at"] = _("is in the past")
    reason = form.get("reason", "").strip()
    if len(reason) > 200 or "\x00" in reason:
        errors["reason"] = _("must be at most ${max_length} characters long",
                             mapping={"max_length": 200})
    values["reason"] = reason
    return values, errors

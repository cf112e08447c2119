"""Schedules as staff configure them: a venue's resources, its weekly
opening hours (the venue's default and a resource's own) and its closures.

Form input is read here, so that every rule and its message lives in one
place: the parsers return ``(values, {field: message})`` and write nothing.
The writes run in the request's transaction; those that could race with a
booking (a lower capacity, a closure) take the booking guard's lock first.
"""

import re
from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import delete, select, text
from sqlalchemy.orm import selectinload

from ..i18n import _
from ..models import Booking, Closure, OpeningHours, Resource, ResourceKind
from .booking import BookingService, local_text
from .errors import ValidationError
from .slots import zone_of

#: The weekday fields of the hours form; Monday is 0.
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_MINUTES = 24 * 60
MAX_RANGES_PER_DAY = 12
MAX_PRICE = 2**31 - 1  # minor units: the largest integer every database stores
#: ``ACTIVE_STATUS_SQL`` qualified (bookings are read joined to their resource).
ACTIVE_BOOKINGS_SQL = "bookings.status IN ('held', 'confirmed')"

_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_PRICE = re.compile(r"(\d{1,9})(?:[.,](\d*))?")


# -- opening hours -------------------------------------------------------------

def clock_text(minute):
    return f"{minute // 60:02d}:{minute % 60:02d}"


def day_text(ranges):
    """``[(540, 720), (840, 1080)]`` → ``"09:00-12:00, 14:00-18:00"``."""
    return ", ".join(f"{clock_text(opens)}-{clock_text(closes)}" for opens, closes in ranges)


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


def week_texts(hours):
    """``{weekday: ranges}`` → ``{field: text}``, as the form shows it."""
    return {field: day_text(hours.get(weekday, ())) for weekday, field in enumerate(WEEKDAYS)}


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


def price_text(minor):
    return f"{minor // 100}.{minor % 100:02d}"


def parse_resource(form):
    """The resource form → ``(values, {field: message})``."""
    values, errors = {}, {}
    raw = {field: form.get(field) for field in RESOURCE_FIELDS}
    if any(value is not None and not isinstance(value, str) for value in raw.values()):
        return {}, {"name": _("must be text")}
    raw = {field: value or "" for field, value in raw.items()}
    name = raw["name"].strip()
    if not name:
        errors["name"] = _("is required")
    elif len(name) > 200:
        errors["name"] = _("must be at most ${max_length} characters long",
                           mapping={"max_length": 200})
    values["name"] = name
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


class ScheduleService:
    """Reads and writes of a venue's schedule. ``formatter`` (the
    request's) shows instants in messages in the reader's language."""

    def __init__(self, dbsession, now, formatter=None):
        self.dbsession = dbsession
        self.now = now
        self.formatter = formatter
        self.guard = BookingService(dbsession, now)

    def when(self, instant, zone):
        if self.formatter is None:
            return local_text(instant, zone)
        return self.formatter.datetime(instant, zone)

    # -- hours

    def hours(self, venue, resource=None):
        """The rows of one scope (the venue's default, or a resource's own)
        as ``{weekday: ranges}``."""
        owner = (OpeningHours.resource_id.is_(None) if resource is None
                 else OpeningHours.resource_id == resource.id)
        hours = defaultdict(list)
        for row in self.dbsession.scalars(
            select(OpeningHours).where(OpeningHours.tenant_id == venue.tenant_id,
                                       OpeningHours.venue_id == venue.id, owner)
            .order_by(OpeningHours.weekday, OpeningHours.opens_minute)
        ):
            hours[row.weekday].append((row.opens_minute, row.closes_minute))
        return dict(hours)

    def replace_hours(self, venue, resource, hours):
        """Make ``hours`` the rows of the scope; an empty ``hours`` for a
        resource means it follows the venue's again."""
        owner = (OpeningHours.resource_id.is_(None) if resource is None
                 else OpeningHours.resource_id == resource.id)
        self.dbsession.execute(delete(OpeningHours).where(
            OpeningHours.tenant_id == venue.tenant_id, OpeningHours.venue_id == venue.id, owner))
        for weekday, ranges in sorted(hours.items()):
            for opens, closes in ranges:
                self.dbsession.add(OpeningHours(
                    tenant_id=venue.tenant_id, venue_id=venue.id,
                    resource_id=resource.id if resource else None,
                    weekday=weekday, opens_minute=opens, closes_minute=closes))
        self.dbsession.flush()

    # -- resources

    def active_bookings(self, resource_ids, starts_before=None, ends_after=None):
        """Bookings of ``resource_ids`` holding seats now (held with time
        left, or confirmed) whose slot ends after ``ends_after`` (default:
        now) and starts before ``starts_before``."""
        query = (select(Booking).options(selectinload(Booking.customer))
                 .where(Booking.resource_id.in_(resource_ids), text(ACTIVE_BOOKINGS_SQL),
                        Booking.ends_at > (ends_after or self.now))
                 .order_by(Booking.starts_at, Booking.id))
        if starts_before is not None:
            query = query.where(Booking.starts_at < starts_before)
        return [b for b in self.dbsession.scalars(query) if b.holds_seats(self.now)]

    def peak(self, resource):
        """``(seats, instant)``: the most seats of ``resource`` booked at
        one instant from now on, and when; ``(0, None)`` if none."""
        events = []
        for booking in self.active_bookings([resource.id]):
            if booking.block_end > self.now:
                events.append((max(booking.block_start, self.now), booking.seats))
                events.append((booking.block_end, -booking.seats))
        seats, peak, when = 0, 0, None
        for instant, change in sorted(events, key=lambda e: (e[0], e[1])):
            seats += change
            if seats > peak:
                peak, when = seats, instant
        return peak, when

    def save_resource(self, resource, values):
        """Apply ``values`` to ``resource``; return ``{field: [old, new]}``.
        A capacity below the seats already booked is refused, under the
        booking guard's lock so that no booking slips in meanwhile."""
        if resource.id is not None and values["capacity"] < resource.capacity:
            self.guard.lock_resources(resource.id)
            seats, when = self.peak(resource)
            if seats > values["capacity"]:
                raise ValidationError(_(
                    "cannot be lower than ${seats}: ${seats} seats are booked at ${time}",
                    mapping={"seats": seats, "time": self.when(when, zone_of(resource))},
                ), field="capacity")
        changes = {}
        for field, value in values.items():
            old = getattr(resource, field)
            if old != value:
                changes[field] = [old, value]
                setattr(resource, field, value)
        if resource.id is None:
            self.dbsession.add(resource)
        self.dbsession.flush()
        return changes

    # -- closures

    def venue_resource_ids(self, venue):
        return self.dbsession.scalars(select(Resource.id).where(
            Resource.tenant_id == venue.tenant_id, Resource.venue_id == venue.id)).all()

    def covered_bookings(self, venue, resource, starts_at, ends_at):
        """Active bookings of the venue's resources (or of ``resource``)
        whose slot overlaps [starts_at, ends_at), under the booking guard's
        lock: until the transaction ends, none can be added."""
        ids = [resource.id] if resource else self.venue_resource_ids(venue)
        if not ids:
            return []
        self.guard.lock_resources(*ids)
        return self.active_bookings(ids, starts_before=ends_at,
                                    ends_after=max(starts_at, self.now))

    def add_closure(self, tenant, venue, values, cancel, actor_id):
        """Create the closure of ``values`` and cancel the bookings of
        ``cancel`` (as staff, with the closure's reason). Call after
        :meth:`covered_bookings`, in the same transaction."""
        resource = values["resource"]
        closure = Closure(tenant_id=tenant.id, venue_id=venue.id,
                          resource_id=resource.id if resource else None,
                          starts_at=values["starts_at"], ends_at=values["ends_at"],
                          reason=values["reason"])
        self.dbsession.add(closure)
        self.dbsession.flush()
        for booking in cancel:
            self.guard.cancel(tenant, booking, actor_id=actor_id,
                              reason=closure.reason or "closure", by_staff=True)
        return closure

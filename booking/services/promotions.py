"""Promotions as owners and managers run them: automatic offers and promo
codes created, paused, resumed and ended, each change audited; and the
report of what they gave over a period. One service for the staff pages
and the API, so both refuse the same input with the same field messages.

What a promotion takes off a booking is :mod:`booking.services.pricing`'s
business; this service only writes the rows it reads. A paused or ended
promotion stops applying to new bookings at once; bookings already made
keep the price they were given.

The report counts the bookings *made* in the period (their ``created_at``,
the period's days read in the tenant's time zone), neither cancelled nor
expired, from the breakdown each stored when it was priced: per offer and
per code, the bookings with a line of it, what those lines took off, and
what the bookings cost (their ``price``).
"""

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..i18n import _
from ..models import Booking, BookingStatus, Offer, OfferKind, PromoCode, Resource, Venue
from . import audit
from .catalog import tenant_venues
from .errors import Conflict, InvalidFields, ValidationError
from .pricing import normalize_code
from .slots import wall_instant

#: What a staff member may type as a code (after upper-casing).
CODE_TEXT = re.compile(r"^[A-Z0-9_-]{2,40}$")
MAX_NAME = 120
DAY_MINUTES = 24 * 60
#: Bounds that keep every number in an integer column and sensible.
MAX_HOURS_BEFORE = 24 * 30
MAX_DAYS_AHEAD = 730
MAX_AMOUNT = 2**31 - 1
MAX_USES = 2**31 - 1
#: The period a report covers unless told, and the longest it may cover.
DEFAULT_REPORT_DAYS = 30
MAX_REPORT_DAYS = 366
#: Bookings that count in the report.
NOT_COUNTED = (BookingStatus.CANCELLED, BookingStatus.EXPIRED)


def status_of(row):
    """``live``, ``paused`` or ``ended``: an offer's or a code's state."""
    if row.ended_at is not None:
        return "ended"
    return "paused" if row.paused else "live"


@dataclass
class ReportRow:
    """One offer or code over the period: ``uses`` (bookings), ``discount``
    (what it took off them) and ``revenue`` (what they cost), minor units."""

    kind: str  # "offer" or "code"
    id: int
    label: str
    status: str
    uses: int = 0
    discount: int = 0
    revenue: int = 0


@dataclass
class Report:
    start_date: date
    end_date: date
    currency: str
    offers: list
    codes: list


class FieldCheck:
    """Collects ``{field: message}`` so that a form shows every problem at
    once; :meth:`done` raises :class:`InvalidFields` if there is any."""

    def __init__(self, errors=None):
        self.errors = dict(errors or {})

    def fail(self, field, message):
        self.errors.setdefault(field, message)

    def done(self):
        if self.errors:
            raise InvalidFields(self.errors)


def _check_discount(check, percent, amount):
    if (percent is None) == (amount is None):
        check.fail("percent", _("give either a percentage or an amount, not both"))
    elif percent is not None and not 1 <= percent <= 100:
        check.fail("percent", _("must be between 1 and 100"))
    elif amount is not None and not 0 < amount <= MAX_AMOUNT:
        check.fail("amount", _("must be more than zero"))


def _check_window(check, weekdays, from_minute, to_minute):
    if any(day not in range(7) for day in weekdays):
        check.fail("weekdays", _("must be days 0 (Monday) to 6 (Sunday)"))
    for field, minute in (("from_minute", from_minute), ("to_minute", to_minute)):
        if minute is not None and not 0 <= minute < DAY_MINUTES:
            check.fail(field, _("must be a minute of the day, 0 to 1439"))
    if (from_minute is None) != (to_minute is None):
        field = "to_minute" if to_minute is None else "from_minute"
        check.fail(field, _("give both ends of the time window, or neither"))
    elif from_minute is not None and from_minute == to_minute:
        check.fail("to_minute", _("must differ from the start of the window"))


def _check_order(check, first, last, field):
    if first is not None and last is not None and first > last:
        check.fail(field, _("must not be before the start of the validity"))


class PromotionService:
    def __init__(self, dbsession, now):
        self.dbsession = dbsession
        self.now = now

    # -- reading

    def offers(self, tenant):
        """The tenant's offers, oldest first, ended ones included."""
        return self.dbsession.scalars(
            select(Offer).where(Offer.tenant_id == tenant.id).order_by(Offer.id)).all()

    def codes(self, tenant):
        """The tenant's promo codes, oldest first, ended ones included."""
        return self.dbsession.scalars(
            select(PromoCode).where(PromoCode.tenant_id == tenant.id)
            .order_by(PromoCode.id)).all()

    def places(self, tenant):
        """``[(venue, [resources])]``: where an offer or a code may apply,
        venues and resources by name."""
        venues = tenant_venues(self.dbsession, tenant.id)
        resources = defaultdict(list)
        for resource in self.dbsession.scalars(
                select(Resource).where(Resource.tenant_id == tenant.id)
                .order_by(Resource.name, Resource.id)):
            resources[resource.venue_id].append(resource)
        return [(venue, resources[venue.id]) for venue in venues]

    def _venue_ids(self, tenant):
        return set(self.dbsession.scalars(select(Venue.id).where(Venue.tenant_id == tenant.id)))

    def _resource_venues(self, tenant):
        """``{resource id: venue id}`` of the tenant's resources."""
        return dict(self.dbsession.execute(
            select(Resource.id, Resource.venue_id).where(Resource.tenant_id == tenant.id)).all())

    # -- offers

    def create_offer(self, tenant, actor_id, *, name, kind, percent=None, amount=None,
                     venue_id=None, resource_id=None, hours_before=None, days_ahead=None,
                     weekdays=(), from_minute=None, to_minute=None, valid_from=None,
                     valid_until=None, stacks=False, input_errors=None):
        """A new live offer of ``tenant``; :class:`InvalidFields` names every
        field that is wrong, and nothing is written. ``input_errors``: the
        fields a form could not even read (they come first, and the rules
        are still checked on the others, so the form shows every problem)."""
        check = FieldCheck(input_errors)
        name = (name or "").strip()
        if not name:
            check.fail("name", _("is required"))
        elif len(name) > MAX_NAME:
            check.fail("name", _("must be at most ${max_length} characters long",
                                 mapping={"max_length": MAX_NAME}))
        if kind not in set(OfferKind):
            check.fail("kind", _("must be one of ${choices}",
                                 mapping={"choices": ", ".join(OfferKind)}))
        _check_discount(check, percent, amount)
        if kind == OfferKind.LAST_MINUTE:
            if hours_before is None:
                check.fail("hours_before", _("is required for a last-minute offer"))
            elif not 1 <= hours_before <= MAX_HOURS_BEFORE:
                check.fail("hours_before", _("must be between 1 and ${maximum}",
                                             mapping={"maximum": MAX_HOURS_BEFORE}))
        elif hours_before is not None:
            check.fail("hours_before", _("is only for a last-minute offer"))
        if kind == OfferKind.EARLY_BIRD:
            if days_ahead is None:
                check.fail("days_ahead", _("is required for an early-bird offer"))
            elif not 1 <= days_ahead <= MAX_DAYS_AHEAD:
                check.fail("days_ahead", _("must be between 1 and ${maximum}",
                                           mapping={"maximum": MAX_DAYS_AHEAD}))
        elif days_ahead is not None:
            check.fail("days_ahead", _("is only for an early-bird offer"))
        weekdays = sorted(set(weekdays or ()))
        _check_window(check, weekdays, from_minute, to_minute)
        _check_order(check, valid_from, valid_until, "valid_until")
        if venue_id is not None and venue_id not in self._venue_ids(tenant):
            check.fail("venue_id", _("is not a venue of this business"))
        if resource_id is not None:
            venue_of = self._resource_venues(tenant)
            if resource_id not in venue_of:
                check.fail("resource_id", _("is not a resource of this business"))
            elif venue_id is not None and venue_of[resource_id] != venue_id:
                check.fail("resource_id", _("is not a resource of that venue"))
        check.done()
        offer = Offer(tenant_id=tenant.id, name=name, kind=kind, percent=percent,
                      amount=amount, venue_id=venue_id, resource_id=resource_id,
                      hours_before=hours_before, days_ahead=days_ahead, weekdays=weekdays,
                      from_minute=from_minute, to_minute=to_minute, valid_from=valid_from,
                      valid_until=valid_until, stacks=bool(stacks), paused=False,
                      created_at=self.now)
        self.dbsession.add(offer)
        self.dbsession.flush()
        self._audit(tenant, actor_id, "offer.created", offer, **offer_details(offer))
        return offer

    def pause_offer(self, tenant, offer, actor_id):
        return self._set_paused(tenant, offer, True, actor_id)

    def resume_offer(self, tenant, offer, actor_id):
        return self._set_paused(tenant, offer, False, actor_id)

    def end_offer(self, tenant, offer, actor_id):
        return self._end(tenant, offer, actor_id)

    # -- codes

    def create_code(self, tenant, actor_id, *, code, percent=None, amount=None,
                    valid_from=None, valid_until=None, max_uses=None,
                    max_uses_per_customer=None, min_seats=1, min_amount=0, venue_ids=(),
                    resource_ids=(), weekdays=(), from_minute=None, to_minute=None,
                    first_booking_only=False, input_errors=None):
        """A new live promo code of ``tenant``, kept upper-case; the same
        code twice in one business is a :class:`Conflict` (409).
        ``input_errors`` as for :meth:`create_offer`."""
        check = FieldCheck(input_errors)
        text = normalize_code(code)
        if not CODE_TEXT.match(text):
            check.fail("code", _("must be 2 to 40 letters A-Z, digits, '_' or '-'"))
        _check_discount(check, percent, amount)
        _check_order(check, valid_from, valid_until, "valid_until")
        for field, value in (("max_uses", max_uses),
                             ("max_uses_per_customer", max_uses_per_customer)):
            if value is not None and not 1 <= value <= MAX_USES:
                check.fail(field, _("must be at least 1"))
        if min_seats is None or not 1 <= min_seats <= 10_000:
            check.fail("min_seats", _("must be between 1 and ${maximum}",
                                      mapping={"maximum": 10_000}))
        if min_amount is None or not 0 <= min_amount <= MAX_AMOUNT:
            check.fail("min_amount", _("must not be negative"))
        venue_ids = sorted(set(venue_ids or ()))
        resource_ids = sorted(set(resource_ids or ()))
        if set(venue_ids) - self._venue_ids(tenant):
            check.fail("venue_ids", _("must be venues of this business"))
        if set(resource_ids) - set(self._resource_venues(tenant)):
            check.fail("resource_ids", _("must be resources of this business"))
        weekdays = sorted(set(weekdays or ()))
        _check_window(check, weekdays, from_minute, to_minute)
        check.done()
        if self.dbsession.scalar(select(PromoCode.id).where(
                PromoCode.tenant_id == tenant.id, PromoCode.code == text)) is not None:
            raise _duplicate(text)
        row = PromoCode(tenant_id=tenant.id, code=text, percent=percent, amount=amount,
                        valid_from=valid_from, valid_until=valid_until, max_uses=max_uses,
                        max_uses_per_customer=max_uses_per_customer, uses=0,
                        min_seats=min_seats, min_amount=min_amount, venue_ids=venue_ids,
                        resource_ids=resource_ids, weekdays=weekdays, from_minute=from_minute,
                        to_minute=to_minute, first_booking_only=bool(first_booking_only),
                        paused=False, created_at=self.now)
        try:
            with self.dbsession.begin_nested():
                self.dbsession.add(row)
                self.dbsession.flush()
        except IntegrityError:  # the same code, made at the same moment by another request
            raise _duplicate(text) from None
        self._audit(tenant, actor_id, "promo_code.created", row, **code_details(row))
        return row

    def pause_code(self, tenant, code, actor_id):
        return self._set_paused(tenant, code, True, actor_id)

    def resume_code(self, tenant, code, actor_id):
        return self._set_paused(tenant, code, False, actor_id)

    def end_code(self, tenant, code, actor_id):
        return self._end(tenant, code, actor_id)

    # -- pause, resume, end (either kind)

    def _set_paused(self, tenant, row, paused, actor_id):
        """Pause or resume ``row``; already so, nothing changes. An ended
        offer or code is a :class:`Conflict`: ending is for good."""
        if row.ended_at is not None:
            raise Conflict(_("it has ended: an ended promotion cannot be paused or resumed; "
                             "create a new one"), field="status")
        if row.paused != paused:
            row.paused = paused
            self._audit(tenant, actor_id, f"{_kind(row)}.{'paused' if paused else 'resumed'}",
                        row)
        return row

    def _end(self, tenant, row, actor_id):
        """End ``row`` for good; ending it again changes nothing."""
        if row.ended_at is None:
            row.ended_at = self.now
            self._audit(tenant, actor_id, f"{_kind(row)}.ended", row)
        return row

    def _audit(self, tenant, actor_id, action, row, **details):
        audit.record(self.dbsession, tenant.id, actor_id, action, _kind(row), row.id, self.now,
                     **details)

    # -- the report

    def report_period(self, tenant, first=None, last=None):
        """``(first, last)``: the days a report covers, from what was asked
        (either may be None). By default the last 30 days up to today, in
        the tenant's zone; ValidationError for a period backwards or longer
        than a year."""
        today = self.now.astimezone(ZoneInfo(tenant.time_zone)).date()
        last = last or today
        first = first or last - timedelta(days=DEFAULT_REPORT_DAYS - 1)
        if last < first:
            raise ValidationError(_("must not be before 'from'"), field="to")
        if (last - first).days >= MAX_REPORT_DAYS:
            raise ValidationError(_("the range may cover at most ${days} days",
                                    mapping={"days": MAX_REPORT_DAYS}), field="to")
        return first, last

    def report(self, tenant, start_date, end_date):
        """:class:`Report` of the bookings made from ``start_date`` to
        ``end_date`` (both included, days in the tenant's zone)."""
        zone = ZoneInfo(tenant.time_zone)
        start = wall_instant(start_date, 0, zone)
        end = wall_instant(end_date + timedelta(days=1), 0, zone)
        rows = {}
        for kind, label, items in (("offer", "name", self.offers(tenant)),
                                   ("code", "code", self.codes(tenant))):
            for item in items:
                rows[kind, item.id] = ReportRow(kind, item.id, getattr(item, label),
                                                status_of(item))
        bookings = self.dbsession.execute(
            select(Booking.price, Booking.price_breakdown).where(
                Booking.tenant_id == tenant.id, Booking.created_at >= start,
                Booking.created_at < end, Booking.status.not_in(NOT_COUNTED),
                Booking.price_breakdown.is_not(None)))
        for price, breakdown in bookings:
            taken = defaultdict(int)
            for line in (breakdown or {}).get("lines", ()):
                if line.get("kind") in ("offer", "code") and (line["kind"], line.get("ref")) in rows:
                    taken[line["kind"], line["ref"]] += line["amount"]
            for key, discount in taken.items():
                row = rows[key]
                row.uses += 1
                row.discount += discount
                row.revenue += price
        return Report(start_date, end_date, tenant.currency,
                      [row for key, row in rows.items() if key[0] == "offer"],
                      [row for key, row in rows.items() if key[0] == "code"])


def _kind(row):
    return "offer" if isinstance(row, Offer) else "promo_code"


def _duplicate(text):
    return Conflict(_("the code ${code} already exists in this business",
                      mapping={"code": text}), field="code")


def _day(value):
    """A date as ``YYYY-MM-DD``, an instant in UTC (as it is stored)."""
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
    return value.isoformat() if isinstance(value, date) else value


def offer_details(offer):
    """An offer's terms, as its audit row and the API show them."""
    return {"name": offer.name, "kind": offer.kind, "percent": offer.percent,
            "amount": offer.amount, "venue_id": offer.venue_id,
            "resource_id": offer.resource_id, "hours_before": offer.hours_before,
            "days_ahead": offer.days_ahead, "weekdays": list(offer.weekdays or ()),
            "from_minute": offer.from_minute, "to_minute": offer.to_minute,
            "valid_from": _day(offer.valid_from), "valid_until": _day(offer.valid_until),
            "stacks": offer.stacks}


def code_details(code):
    """A code's terms, as its audit row and the API show them."""
    return {"code": code.code, "percent": code.percent, "amount": code.amount,
            "valid_from": _day(code.valid_from), "valid_until": _day(code.valid_until),
            "max_uses": code.max_uses, "max_uses_per_customer": code.max_uses_per_customer,
            "min_seats": code.min_seats, "min_amount": code.min_amount,
            "venue_ids": list(code.venue_ids or ()),
            "resource_ids": list(code.resource_ids or ()),
            "weekdays": list(code.weekdays or ()), "from_minute": code.from_minute,
            "to_minute": code.to_minute, "first_booking_only": code.first_booking_only}

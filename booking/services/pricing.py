"""The price of a booking, in minor units of the tenant's currency: one
place for every surface (the site, the staff area, the API, the emails and
the exports read what it computed).

The rules, in the order they are applied:

1. **Base**: the resource's price × seats.
2. **Automatic offers** (off-peak, last-minute, early-bird) that apply to
   the slot: the one that takes most off wins (on a tie, the older offer).
   Offers never add up.
3. **A promo code**, when one is given, competes with that offer: the one
   that takes more off applies, unless the offer ``stacks``; then the
   code's discount is taken from what the offer left.
4. **A voucher** pays last, up to what is left (never more than its balance).

Rounding: a percentage is taken off rounded half up to the minor unit
(:func:`percent_of`: 15 % of 1,250 is 188, not 187.5); a fixed amount is
taken off whole, never below zero. ``total`` is what the customer pays.

Time windows and weekdays are the slot's start in its venue's time zone
(a 07:00–09:00 window is 07:00–09:00 on the clock, on DST days too);
offers' validity dates are the slot's local date; a code's validity is the
moment the booking is made.

A code use and a voucher's spending are taken under the guard by one
conditional ``UPDATE`` each (:meth:`PricingService.take`), so that
concurrent bookings never pass a code's limit nor a balance below zero.
"""

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import timedelta

from sqlalchemy import func, select, update

from ..i18n import _
from ..models import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    CodeUse,
    Offer,
    OfferKind,
    PaymentStatus,
    PromoCode,
    Voucher,
    VoucherEntry,
    VoucherEntryKind,
    User,
    normalize_email,
)
from .errors import ValidationError
from .slots import zone_of
from .throttle import KeyedLimits, TooManyAttempts

#: Booked (or held) bookings that make a customer's "first booking" taken.
NOT_FIRST = (*ACTIVE_STATUSES, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)

#: What a moved booking's price does (``tenants.move_pricing``).
MOVE_PRICING = ("keep", "reprice")

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,39}$")


def percent_of(amount, percent):
    """``percent`` % of ``amount`` (minor units), rounded half up."""
    return (amount * percent + 50) // 100


def normalize_code(text):
    """Codes are typed in any case, with stray spaces."""
    return (text or "").strip().upper()


def voucher_digest(code):
    """The digest a voucher is found by: its code without case, spaces or dashes."""
    return hashlib.sha256(re.sub(r"[^A-Z0-9]", "", (code or "").upper()).encode()).hexdigest()


def price_of(resource, seats):
    """The base price of ``seats`` on one slot of ``resource``."""
    return resource.price * seats


def payment_status_for(price):
    """Paid at the venue (the embedded default) unless it is free; a
    booking paid online turns ``pending`` when its checkout starts."""
    return PaymentStatus.DUE_AT_VENUE if price else PaymentStatus.NOT_REQUIRED


def discount_of(discounted, amount):
    """What ``discounted`` (an offer or a code) takes off ``amount``."""
    if discounted.percent is not None:
        return min(percent_of(amount, discounted.percent), amount)
    return min(discounted.amount, amount)


def in_window(discounted, local_start):
    """Whether the slot starting at ``local_start`` (wall clock) is on one
    of the weekdays and in the time window of ``discounted``. A window whose
    end is not after its start runs over midnight (22:00–02:00)."""
    if discounted.weekdays and local_start.weekday() not in discounted.weekdays:
        return False
    if discounted.from_minute is None or discounted.to_minute is None:
        return True
    minute = local_start.hour * 60 + local_start.minute
    low, high = discounted.from_minute, discounted.to_minute
    return low <= minute < high if low < high else (minute >= low or minute < high)


def offer_applies(offer, resource, start, now, local=None):
    """Whether automatic ``offer`` applies to the slot of ``resource``
    starting at ``start`` (UTC), booked at ``now``; ``local``: ``start`` on
    the venue's clock, if the caller has it already. The cheap tests first:
    a grid asks this of every slot."""
    if offer.paused or offer.ended_at is not None:
        return False
    return offer_fits(offer, resource, start, now, local)


def offer_fits(offer, resource, start, now, local=None):
    """Whether ``offer``'s rules (kind, scope, dates, window) take in the
    slot, live or not."""
    if offer.kind == OfferKind.LAST_MINUTE and not (
            now <= start <= now + timedelta(hours=offer.hours_before or 0)):
        return False
    if offer.kind == OfferKind.EARLY_BIRD and start - now < timedelta(days=offer.days_ahead or 0):
        return False
    if offer.resource_id is not None and offer.resource_id != resource.id:
        return False
    if offer.venue_id is not None and offer.venue_id != resource.venue_id:
        return False
    if local is None:
        local = start.astimezone(zone_of(resource))
    if offer.valid_from is not None and local.date() < offer.valid_from:
        return False
    if offer.valid_until is not None and local.date() > offer.valid_until:
        return False
    return in_window(offer, local)


def best_offer(offers, resource, start, now, base):
    """``(offer, discount)`` of the offer that takes most off ``base``, or
    ``(None, 0)``. ``offers`` are in the order they were made (a tie goes to
    the older one)."""
    best, best_discount = None, 0
    local = start.astimezone(zone_of(resource)) if offers else None
    for offer in offers:
        if offer_applies(offer, resource, start, now, local):
            discount = discount_of(offer, base)
            if discount > best_discount:
                best, best_discount = offer, discount
    return best, best_discount


def offer_label(discounted, currency, money):
    """``−20%`` or ``−€5.00``: the mark of a discount on the slot grid."""
    if discounted.percent is not None:
        return f"−{discounted.percent}%"
    return f"−{money(discounted.amount, currency)}"


def combine(quote, offer, offer_discount, code):
    """``quote`` (its base alone) with the best ``offer`` (taking
    ``offer_discount`` off) and promo ``code`` as the rules say: the better
    of the two, or both when the offer stacks (the code then takes its part
    of what the offer left)."""
    base = quote.base
    if offer is not None and (code is None or offer.stacks):
        quote = quote.with_line(Line("offer", offer.name, offer_discount, offer.id))
    if code is not None:
        stacked = offer is not None and offer.stacks
        code_discount = discount_of(code, base - offer_discount if stacked else base)
        if stacked or offer is None or code_discount > offer_discount:
            quote = quote.with_line(Line("code", code.code, code_discount, code.id))
        else:
            quote = quote.with_line(Line("offer", offer.name, offer_discount, offer.id))
    return quote


@dataclass(frozen=True)
class Line:
    """One thing taken off the base: ``kind`` is ``offer``, ``code`` or
    ``voucher``; ``label`` names it (the offer's name, the code, the
    voucher's last characters); ``amount`` is positive."""

    kind: str
    label: str
    amount: int
    ref: int | None = None


@dataclass(frozen=True)
class Quote:
    """A price as a breakdown: ``base`` − each line = ``total``."""

    base: int
    currency: str
    lines: tuple[Line, ...] = ()

    @property
    def total(self):
        return self.base - sum(line.amount for line in self.lines)

    @property
    def discount(self):
        """What offers and codes take off (not the voucher, which pays)."""
        return sum(line.amount for line in self.lines if line.kind != "voucher")

    def line(self, kind):
        return next((line for line in self.lines if line.kind == kind), None)

    def without(self, kind):
        return replace(self, lines=tuple(line for line in self.lines if line.kind != kind))

    def with_line(self, line):
        return replace(self, lines=(*self.lines, line)) if line.amount else self

    def as_json(self):
        return {"base": self.base, "currency": self.currency, "total": self.total,
                "lines": [{"kind": line.kind, "label": line.label, "amount": line.amount,
                           "ref": line.ref} for line in self.lines]}

    @classmethod
    def of_booking(cls, booking):
        """The breakdown stored on ``booking`` (its price alone for one made
        before breakdowns were kept)."""
        data = booking.price_breakdown
        if not data:
            return cls(booking.price, booking.currency)
        return cls(data["base"], data["currency"], tuple(
            Line(line["kind"], line["label"], line["amount"], line.get("ref"))
            for line in data["lines"]))


class CodeRefused(ValidationError):
    """A promo code that does not apply; ``reason`` says why."""

    code = "code_refused"

    def __init__(self, message, reason):
        super().__init__(message, field="code", reason=reason)
        self.reason = reason


class VoucherRefused(ValidationError):
    code = "voucher_refused"

    def __init__(self, message, reason):
        super().__init__(message, field="voucher", reason=reason)
        self.reason = reason


class CodeGuesses(KeyedLimits):
    """Codes that name nothing, per client address and per tenant: typing
    codes at random meets a wall long before it finds one."""

    window = timedelta(minutes=15)
    PER_ADDRESS = 10
    PER_TENANT = 200

    def keys(self, tenant_id, address):
        return {f"code-guess:{address}": self.PER_ADDRESS,
                f"code-guess-tenant:{tenant_id}": self.PER_TENANT}

    def message(self, key, minutes):
        return _("Too many wrong codes: try again in ${minutes} minute(s).",
                 mapping={"minutes": minutes})

    def reserve(self, tenant_id, address):
        """Count one attempt on each key *before* the code is looked up,
        atomically (parallel guesses cannot pass the limit), or raise
        :class:`TooManyAttempts` and count none. Returns the keys counted,
        for :meth:`release` when the code turns out to exist."""
        reserved = []
        for key, limit in self.keys(tenant_id, address).items():
            wait = self.counter.reserve(key, limit)
            if wait is not None:
                self.release(reserved)
                raise TooManyAttempts(self.message(key, wait), retry_after=wait * 60)
            reserved.append(key)
        return reserved

    def release(self, keys):
        for key in keys:
            self.counter.release(key)


@dataclass
class Who:
    """Whom "per customer" and "first booking" count: an account, or the
    address a guest booked with."""

    customer_id: int | None = None
    email: str = ""

    @property
    def key(self):
        if self.customer_id is not None:
            return f"user:{self.customer_id}"
        return f"email:{normalize_email(self.email)}" if self.email else None

    @classmethod
    def of_booking(cls, booking):
        return cls(booking.customer_id, booking.contact_email)


@dataclass
class PricingService:
    dbsession: object
    now: object
    _offers: dict = field(default_factory=dict)

    # -- what applies -----------------------------------------------------------

    def offers(self, tenant):
        """The tenant's live automatic offers, oldest first (read once per
        service, that is per request), as plain rows: they are only read."""
        if not tenant.has_offers:
            return []
        if tenant.id not in self._offers:
            self._offers[tenant.id] = self.dbsession.execute(
                select(*Offer.__table__.columns)
                .where(Offer.tenant_id == tenant.id, Offer.paused.is_(False),
                       Offer.ended_at.is_(None))
                .order_by(Offer.id)).all()
        return self._offers[tenant.id]

    def marks(self, tenant, resource, starts, seats=1):
        """``{start: (offer, price)}`` for the slots among ``starts`` an
        offer applies to: the slot grid's "−20% off-peak" marks."""
        offers = [offer for offer in self.offers(tenant)
                  if offer.resource_id in (None, resource.id)
                  and offer.venue_id in (None, resource.venue_id)]
        if not offers:
            return {}
        base = price_of(resource, seats)
        # One base for every slot: each offer's discount is known, so the
        # first offer that applies in (discount desc, age) order is the one
        # best_offer would choose.
        ranked = sorted(((discount_of(offer, base), offer) for offer in offers),
                        key=lambda pair: (-pair[0], pair[1].id))
        ranked = [(discount, offer) for discount, offer in ranked if discount > 0]
        zone = zone_of(resource)
        marks = {}
        for start in starts:
            local = start.astimezone(zone)
            for discount, offer in ranked:
                if offer_fits(offer, resource, start, self.now, local):
                    marks[start] = (offer, base - discount)
                    break
        return marks

    def quote(self, tenant, resource, start, seats, *, code=None, who=None, voucher=None):
        """The :class:`Quote` of ``seats`` on the slot of ``resource`` at
        ``start``, with promo ``code`` (text, as typed) and ``voucher`` (its
        code) if given. Raises :class:`CodeRefused` or
        :class:`VoucherRefused` naming what is wrong."""
        base = price_of(resource, seats)
        offer, offer_discount = best_offer(self.offers(tenant), resource, start, self.now, base)
        code_row = self.find_code(tenant, code) if code else None
        if code_row is not None:
            self.check_code(code_row, tenant, resource, start, seats, base, who or Who())
        quote = combine(Quote(base, tenant.currency), offer, offer_discount, code_row)
        if voucher:
            row = self.find_voucher(tenant, voucher)
            quote = quote.with_line(Line("voucher", row.hint, min(row.balance, quote.total),
                                         row.id))
        return quote

    def find_code(self, tenant, text):
        """The tenant's promo code ``text`` (any case), or CodeRefused."""
        normalized = normalize_code(text)
        row = None
        if CODE_PATTERN.match(normalized):
            row = self.dbsession.scalar(select(PromoCode).where(
                PromoCode.tenant_id == tenant.id, PromoCode.code == normalized))
        if row is None:
            raise CodeRefused(_("there is no such code"), "unknown")
        return row

    def check_code(self, code, tenant, resource, start, seats, base, who):
        """Raise :class:`CodeRefused` unless ``code`` may be used now for this booking."""
        if code.ended_at is not None or code.paused:
            raise CodeRefused(_("this code is no longer valid"), "ended")
        if code.valid_from is not None and self.now < code.valid_from:
            raise CodeRefused(_("this code is not valid yet"), "not_yet")
        if code.valid_until is not None and self.now >= code.valid_until:
            raise CodeRefused(_("this code has expired"), "expired")
        if code.max_uses is not None and code.uses >= code.max_uses:
            raise CodeRefused(_("this code has been used up"), "used_up")
        if seats < code.min_seats:
            raise CodeRefused(_("this code needs at least ${seats} seats",
                                mapping={"seats": code.min_seats}), "min_seats")
        if base < code.min_amount:
            raise CodeRefused(_("this code needs a booking of at least ${amount} (${currency})",
                                mapping={"amount": f"{code.min_amount / 100:.2f}",
                                         "currency": tenant.currency}), "min_amount")
        if code.venue_ids and resource.venue_id not in code.venue_ids:
            raise CodeRefused(_("this code does not apply at this venue"), "venue")
        if code.resource_ids and resource.id not in code.resource_ids:
            raise CodeRefused(_("this code does not apply to ${resource}",
                                mapping={"resource": resource.name}), "resource")
        if not in_window(code, start.astimezone(zone_of(resource))):
            raise CodeRefused(_("this code does not apply on this day or at this time"),
                              "time")
        if code.max_uses_per_customer is not None or code.first_booking_only:
            if who.key is None:
                raise CodeRefused(_("this code is for customers who give their email"),
                                  "anonymous")
            if code.max_uses_per_customer is not None and \
                    self.uses_by(code, who) >= code.max_uses_per_customer:
                raise CodeRefused(_("you have used this code as often as it allows"),
                                  "customer_limit")
            if code.first_booking_only and self.has_booked(tenant, who):
                raise CodeRefused(_("this code is for a first booking only"), "first_booking")

    def identities(self, who):
        """``(account ids, addresses)`` that are one customer: an account
        and its address, or a guest's address and the account it names, so
        that booking as a guest with one's own address counts as oneself."""
        ids, emails = set(), set()
        if who.customer_id is not None:
            ids.add(who.customer_id)
            user = self.dbsession.get(User, who.customer_id)
            if user is not None:
                emails.add(user.email)
        if who.email:
            email = normalize_email(who.email)
            emails.add(email)
            if who.customer_id is None:
                ids.update(self.dbsession.scalars(select(User.id).where(User.email == email)))
        return ids, emails

    def uses_by(self, code, who):
        ids, emails = self.identities(who)
        keys = [f"user:{i}" for i in ids] + [f"email:{e}" for e in emails]
        return self.dbsession.scalar(
            select(func.count()).select_from(CodeUse)
            .where(CodeUse.code_id == code.id, CodeUse.customer_key.in_(keys),
                   CodeUse.released_at.is_(None)))

    def has_booked(self, tenant, who):
        ids, emails = self.identities(who)
        return self.dbsession.scalar(
            select(func.count()).select_from(Booking)
            .where(Booking.tenant_id == tenant.id,
                   Booking.customer_id.in_(ids) | Booking.contact_email.in_(emails),
                   Booking.status.in_(NOT_FIRST))) > 0

    def _booked_before(self, tenant, who, booking):
        """Under the code's row lock: another booking of this customer
        (committed meanwhile) than the one being made."""
        ids, emails = self.identities(who)
        return self.dbsession.scalar(
            select(func.count()).select_from(Booking)
            .where(Booking.tenant_id == tenant.id, Booking.id != booking.id,
                   Booking.customer_id.in_(ids) | Booking.contact_email.in_(emails),
                   Booking.status.in_(NOT_FIRST))) > 0

    def find_voucher(self, tenant, text):
        # Read afresh: a spend earlier in the transaction moved the balance
        # by an UPDATE that the session's copy does not know of.
        row = self.dbsession.scalar(select(Voucher).where(
            Voucher.tenant_id == tenant.id, Voucher.digest == voucher_digest(text))
            .execution_options(populate_existing=True))
        if row is None:
            raise VoucherRefused(_("there is no such voucher"), "unknown")
        if row.voided_at is not None:
            raise VoucherRefused(_("this voucher is no longer valid"), "voided")
        if row.expires_at is not None and self.now >= row.expires_at:
            raise VoucherRefused(_("this voucher has expired"), "expired")
        if row.balance <= 0:
            raise VoucherRefused(_("this voucher has nothing left on it"), "empty")
        if row.currency != tenant.currency:
            raise VoucherRefused(_("this voucher is in another currency"), "currency")
        return row

    def try_code(self, tenant, resource, start, seats, code, who, client_addr, voucher=None):
        """What the booking form and the API call before booking with a
        code: the :class:`Quote`, or the :class:`CodeRefused` (or
        :class:`VoucherRefused`) to show, *returned*, not raised, so that a
        code that names nothing is counted against ``client_addr`` and the
        tenant even though nothing is booked (``TooManyAttempts`` past the
        limit)."""
        guesses = CodeGuesses(self.dbsession, self.now)
        reserved = guesses.reserve(tenant.id, client_addr) if code or voucher else []
        try:
            quote = self.quote(tenant, resource, start, seats, code=code, who=who,
                               voucher=voucher)
        except (CodeRefused, VoucherRefused) as exc:
            if exc.reason != "unknown":  # it exists: no guess
                guesses.release(reserved)
            return exc
        guesses.release(reserved)
        return quote

    # -- under the guard ---------------------------------------------------------

    def take(self, tenant, booking, quote, who, actor_id=None):
        """Take the code use and the voucher amount of ``quote`` for
        ``booking`` (just written with the quote, its resource locked): one
        conditional UPDATE each, so a code's last use and a voucher's last
        cent go to one booking only. Raises CodeRefused/VoucherRefused (the
        caller's transaction then writes nothing)."""
        code_line, voucher_line = quote.line("code"), quote.line("voucher")
        if code_line is not None:
            self._take_use(code_line.ref)
            code = self.dbsession.get(PromoCode, code_line.ref)
            # The UPDATE holds the code's row: other bookings with it wait here.
            if code.max_uses_per_customer is not None and \
                    self.uses_by(code, who) >= code.max_uses_per_customer:
                raise CodeRefused(_("you have used this code as often as it allows"),
                                  "customer_limit")
            if code.first_booking_only and self._booked_before(tenant, who, booking):
                raise CodeRefused(_("this code is for a first booking only"), "first_booking")
            self.dbsession.add(CodeUse(tenant_id=tenant.id, code_id=code.id,
                                       booking_id=booking.id, customer_key=who.key or "",
                                       discount=code_line.amount, created_at=self.now))
        if voucher_line is not None:
            booking.voucher_amount = 0  # written with the quote's; taken now
            self.spend(booking, voucher_line.ref, voucher_line.amount, actor_id)

    def spend(self, booking, voucher_id, amount, actor_id=None):
        """``booking`` pays ``amount`` with voucher ``voucher_id``, if its
        balance has it (one conditional UPDATE), else VoucherRefused."""
        taken = self.dbsession.execute(
            update(Voucher)
            .where(Voucher.id == voucher_id, Voucher.balance >= amount,
                   Voucher.voided_at.is_(None))
            .values(balance=Voucher.balance - amount)
            .execution_options(synchronize_session=False)).rowcount
        if not taken:
            raise VoucherRefused(_("this voucher no longer has that much on it"), "empty")
        self.dbsession.add(VoucherEntry(
            tenant_id=booking.tenant_id, voucher_id=voucher_id, booking_id=booking.id,
            kind=VoucherEntryKind.SPENT, amount=-amount, actor_id=actor_id, created_at=self.now))
        booking.voucher_id = voucher_id
        booking.voucher_amount = (booking.voucher_amount or 0) + amount

    def give_back(self, tenant, booking, actor_id=None):
        """A cancelled ``booking`` returns what its voucher paid to the
        voucher, and its code use when the tenant says so. Returns
        ``(code released, amount back on the voucher)``."""
        released = False
        if tenant.release_code_on_cancel:
            use = self.dbsession.scalar(select(CodeUse).where(
                CodeUse.tenant_id == tenant.id, CodeUse.booking_id == booking.id,
                CodeUse.released_at.is_(None)))
            if use is not None:
                self._release(use)
                released = True
        back = self.refund_to_voucher(booking, booking.voucher_amount, actor_id)
        return released, back

    def give_back_expired(self, booking_ids):
        """Holds that ran out never became bookings: their code uses and
        voucher amounts go back, whatever the tenant's cancellation rule."""
        uses = self.dbsession.scalars(select(CodeUse).where(
            CodeUse.booking_id.in_(booking_ids), CodeUse.released_at.is_(None))).all()
        for use in uses:
            self._release(use)
        with_vouchers = self.dbsession.scalars(select(Booking).where(
            Booking.id.in_(booking_ids), Booking.voucher_amount > 0)).all()
        for booking in with_vouchers:
            self.refund_to_voucher(booking, booking.voucher_amount)

    def take_again(self, booking, actor_id=None):
        """A hold that ran out is confirmed after all (paid late, or by
        staff): it takes back the code use and the voucher amount its
        expiry gave back, if they are still there (else CodeRefused or
        VoucherRefused, and nothing is taken)."""
        quote = Quote.of_booking(booking)
        code_line, voucher_line = quote.line("code"), quote.line("voucher")
        if code_line is not None:
            use = self.dbsession.scalar(select(CodeUse).where(CodeUse.booking_id == booking.id))
            if use is not None and use.released_at is not None:
                self._take_use(code_line.ref)
                use.released_at = None
        missing = (voucher_line.amount if voucher_line else 0) - booking.voucher_amount
        if missing > 0:
            self.spend(booking, booking.voucher_id, missing, actor_id)

    def _take_use(self, code_id):
        taken = self.dbsession.execute(
            update(PromoCode)
            .where(PromoCode.id == code_id,
                   (PromoCode.max_uses.is_(None)) | (PromoCode.uses < PromoCode.max_uses))
            .values(uses=PromoCode.uses + 1)
            .execution_options(synchronize_session=False)).rowcount
        if not taken:
            raise CodeRefused(_("this code has been used up"), "used_up")

    def _release(self, use):
        use.released_at = self.now
        self.dbsession.execute(
            update(PromoCode).where(PromoCode.id == use.code_id, PromoCode.uses > 0)
            .values(uses=PromoCode.uses - 1).execution_options(synchronize_session=False))

    def refund_to_voucher(self, booking, amount, actor_id=None):
        """Put ``amount`` of what ``booking`` paid with its voucher back on it."""
        if not amount or booking.voucher_id is None:
            return 0
        self.dbsession.execute(
            update(Voucher).where(Voucher.id == booking.voucher_id)
            .values(balance=Voucher.balance + amount)
            .execution_options(synchronize_session=False))
        self.dbsession.add(VoucherEntry(
            tenant_id=booking.tenant_id, voucher_id=booking.voucher_id, booking_id=booking.id,
            kind=VoucherEntryKind.REFUNDED, amount=amount, actor_id=actor_id,
            created_at=self.now))
        booking.voucher_amount -= amount
        return amount

    def reprice(self, tenant, booking, resource, start, actor_id=None):
        """The price of ``booking`` moved to ``start`` on ``resource``. The
        tenant's rule ``keep`` keeps the breakdown on the same resource
        while its discounts would take in the new slot;
        ``reprice``, or a move to another resource, quotes the new slot
        afresh: with the same code when it still applies (else its use is
        given back) and the voucher paying no more than before (any excess
        goes back on it). Returns the :class:`Quote`."""
        old = Quote.of_booking(booking)
        if tenant.move_pricing != "reprice" and resource.id == booking.resource_id \
                and self._discounts_fit(old, resource, start, booking.seats):
            return old
        base = price_of(resource, booking.seats)
        offer, offer_discount = best_offer(self.offers(tenant), resource, start, self.now, base)
        code_line = old.line("code")
        code = self.dbsession.get(PromoCode, code_line.ref) if code_line else None
        if code is not None and not self._still_applies(code, resource, start, booking.seats,
                                                         base):
            code = None
        quote = combine(Quote(base, tenant.currency), offer, offer_discount, code)
        if code_line is not None and quote.line("code") is None:
            self._release_use(tenant, booking)
        if booking.voucher_amount:
            keep = min(booking.voucher_amount, quote.total)
            self.refund_to_voucher(booking, booking.voucher_amount - keep, actor_id)
            voucher_line = old.line("voucher")
            quote = quote.with_line(Line("voucher", voucher_line.label if voucher_line else "",
                                         keep, booking.voucher_id))
        return quote

    def _discounts_fit(self, quote, resource, start, seats):
        """Whether the offer and code of ``quote`` would take in the new
        slot: ``keep`` keeps a discount only where it is one."""
        offer_line, code_line = quote.line("offer"), quote.line("code")
        if offer_line is not None:
            offer = self.dbsession.get(Offer, offer_line.ref)
            if offer is None or not offer_fits(offer, resource, start, self.now):
                return False
        if code_line is not None:
            code = self.dbsession.get(PromoCode, code_line.ref)
            if code is None or not self._still_applies(code, resource, start, seats, quote.base):
                return False
        return True

    @staticmethod
    def _still_applies(code, resource, start, seats, base):
        """Whether a moved booking's code applies to its new slot (its own
        use is not counted against it, nor its validity dates: it was
        valid when the booking was made)."""
        return ((not code.venue_ids or resource.venue_id in code.venue_ids)
                and (not code.resource_ids or resource.id in code.resource_ids)
                and in_window(code, start.astimezone(zone_of(resource)))
                and seats >= code.min_seats and base >= code.min_amount)

    def _release_use(self, tenant, booking):
        use = self.dbsession.scalar(select(CodeUse).where(
            CodeUse.tenant_id == tenant.id, CodeUse.booking_id == booking.id,
            CodeUse.released_at.is_(None)))
        if use is not None:
            self._release(use)


"""Vouchers (gift cards): a balance spent across bookings until it expires.

Staff issue them (:meth:`VoucherService.issue`); customers buy them online
when the site takes payments online (:meth:`VoucherService.start_purchase`,
then the provider's signed webhook → :meth:`VoucherService.order_event`).
Either way the code is a bearer secret: 16 characters of an unambiguous
alphabet in four groups (``ABCD-EFGH-JKLM-NPQR``, 80 bits), of which only
the digest (:func:`~booking.services.pricing.voucher_digest`) and the last
four characters are kept. The issuer sees it once; a buyer gets it once, by
email, in a message the outbox blanks as soon as it is sent.

The balance moves only through one conditional ``UPDATE`` at a time
(spending, in :meth:`PricingService.spend`, refuses to go below zero), and
every move has its line in the ledger, whose sum is the balance.
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select, update

from ..adapters.payments import CHECKOUT_COMPLETED, CHECKOUT_EXPIRED, NotCollectingOnline
from ..i18n import Formatter, _, as_zone, language_or_default
from ..models import (
    Booking,
    Tenant,
    Voucher,
    VoucherEntry,
    VoucherEntryKind,
    VoucherOrder,
    VoucherOrderState,
)
from . import audit
from .booking import REFERENCE_ALPHABET
from .checkouts import open_checkout
from .errors import Conflict, PolicyViolation, ValidationError
from .notifications import Recipient
from .pricing import CodeGuesses, voucher_digest
from .tenants import is_open
from .text import one_line_problem

log = logging.getLogger(__name__)

CODE_GROUPS, GROUP_LENGTH = 4, 4
HINT_LENGTH = 4
#: What staff may put on one voucher, in minor units.
MAX_ISSUED = 1_000_000
#: What a customer may buy online, in minor units of the tenant's currency:
#: a free amount between these, with a few amounts offered as shortcuts.
MIN_PURCHASE, MAX_PURCHASE = 1_000, 50_000
SUGGESTED_PURCHASES = (2_500, 5_000, 10_000)
#: How long a voucher bought online lasts.
PURCHASE_VALIDITY = timedelta(days=365)
#: The provider wants a checkout to last at least 30 minutes.
CHECKOUT_TIME = timedelta(hours=1)
MAX_LABEL = 200


def new_code():
    """A fresh voucher code, ``ABCD-EFGH-JKLM-NPQR``."""
    return "-".join("".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(GROUP_LENGTH))
                    for _ in range(CODE_GROUPS))


def hint_of(code):
    """The last characters of ``code``, which tell vouchers apart."""
    return "".join(ch for ch in code.upper() if ch.isalnum())[-HINT_LENGTH:]


def status_of(voucher, now):
    """``voided``, ``expired``, ``spent`` or ``active``."""
    if voucher.voided_at is not None:
        return "voided"
    if voucher.expires_at is not None and now >= voucher.expires_at:
        return "expired"
    if voucher.balance <= 0:
        return "spent"
    return "active"


STATUS_LABELS = {"active": _("active"), "spent": _("spent"), "expired": _("expired"),
                 "voided": _("voided")}
KIND_LABELS = {VoucherEntryKind.ISSUED: _("issued"), VoucherEntryKind.SPENT: _("spent"),
               VoucherEntryKind.REFUNDED: _("refunded"), VoucherEntryKind.VOIDED: _("voided")}


def end_of_day(tenant, day):
    """The instant ``day`` ends on the tenant's clock: a voucher "valid until
    31 December" is valid all that day."""
    zone = as_zone(tenant.time_zone)
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Listing:
    voucher: Voucher
    status: str

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class LedgerLine:
    entry: VoucherEntry
    #: The reference of the booking it paid (or was given back by), if any.
    reference: str | None

    @property
    def kind_label(self):
        return KIND_LABELS.get(self.entry.kind, self.entry.kind)


@dataclass(frozen=True)
class BalanceCheck:
    """What a customer checking a code learns: the voucher (None when the
    code names none) and its status."""

    voucher: Voucher | None
    status: str | None = None


class VoucherService:
    def __init__(self, dbsession, now, provider=None, notifier=None):
        self.dbsession = dbsession
        self.now = now
        self.provider = provider
        self.notifier = notifier

    # -- staff ---------------------------------------------------------------

    def issue(self, tenant, actor_id, amount, expires_at=None, label="", bought_by=None):
        """A new voucher of ``amount`` minor units: ``(voucher, code)``. The
        code is returned this once and kept nowhere."""
        self._check_amount(amount, 1, MAX_ISSUED)
        if expires_at is not None and expires_at <= self.now:
            raise ValidationError(_("must be in the future"), field="expires_at")
        label = (label or "").strip()
        problem = one_line_problem(label)
        if problem:
            raise ValidationError(problem, field="label")
        if len(label) > MAX_LABEL:
            raise ValidationError(_("must be at most ${max_length} characters long",
                                    mapping={"max_length": MAX_LABEL}), field="label")
        if not is_open(tenant) and bought_by is None:
            # A voucher paid for is issued even if the business closed
            # since the checkout began: the buyer has paid for it.
            raise PolicyViolation(_("this business is closed: it issues no vouchers"))
        code = new_code()
        while self.dbsession.scalar(select(Voucher.id).where(
                Voucher.tenant_id == tenant.id, Voucher.digest == voucher_digest(code))):
            code = new_code()  # 80 bits: never seen, but never a duplicate either
        voucher = Voucher(
            tenant_id=tenant.id, digest=voucher_digest(code), hint=hint_of(code),
            currency=tenant.currency, initial=amount, balance=amount, expires_at=expires_at,
            label=label, issued_by=actor_id, bought_by=bought_by, created_at=self.now)
        self.dbsession.add(voucher)
        self.dbsession.flush()
        self._entry(voucher, VoucherEntryKind.ISSUED, amount, actor_id)
        self.audit(tenant, actor_id, "voucher.issued", voucher.id, amount=amount,
                   currency=voucher.currency, hint=voucher.hint, bought=bought_by is not None,
                   expires_at=expires_at.isoformat() if expires_at else None)
        return voucher, code

    def void(self, tenant, voucher_id, actor_id):
        """Voucher ``voucher_id`` is no longer usable: its balance goes to
        zero with a ``voided`` line. A booking it already paid keeps it."""
        voucher = self.voucher(tenant, voucher_id, lock=True)
        if voucher.voided_at is not None:
            raise Conflict(_("this voucher is already void"), field="status")
        left = voucher.balance
        self.dbsession.execute(
            update(Voucher).where(Voucher.id == voucher.id)
            .values(balance=0, voided_at=self.now)
            .execution_options(synchronize_session=False))
        self._entry(voucher, VoucherEntryKind.VOIDED, -left, actor_id)
        self.audit(tenant, actor_id, "voucher.voided", voucher.id, balance=left)
        self.dbsession.refresh(voucher)
        return voucher

    def vouchers(self, tenant, limit=500):
        """The tenant's vouchers, newest first, with their status."""
        rows = self.dbsession.scalars(
            select(Voucher).where(Voucher.tenant_id == tenant.id)
            .order_by(Voucher.id.desc()).limit(limit)).all()
        return [Listing(row, status_of(row, self.now)) for row in rows]

    def voucher(self, tenant, voucher_id, lock=False):
        """The tenant's voucher ``voucher_id`` (read afresh), or a 409."""
        query = select(Voucher).where(Voucher.tenant_id == tenant.id, Voucher.id == voucher_id)
        if lock:
            query = query.with_for_update()
        voucher = self.dbsession.scalar(query.execution_options(populate_existing=True))
        if voucher is None:
            raise ValidationError(_("does not name a voucher of this business"),
                                  field="voucher_id")
        return voucher

    def listing(self, voucher):
        return Listing(voucher, status_of(voucher, self.now))

    def ledger(self, tenant, voucher_id):
        """The lines of the voucher's ledger, oldest first, with the
        references of their bookings."""
        rows = self.dbsession.execute(
            select(VoucherEntry, Booking.reference)
            .outerjoin(Booking, Booking.id == VoucherEntry.booking_id)
            .where(VoucherEntry.tenant_id == tenant.id, VoucherEntry.voucher_id == voucher_id)
            .order_by(VoucherEntry.id)).all()
        return [LedgerLine(entry, reference) for entry, reference in rows]

    # -- customers -------------------------------------------------------------

    def balance_of(self, tenant, code, client_addr):
        """What a customer checking ``code`` sees. A code that names nothing
        counts as a guess against ``client_addr`` and the tenant, like a
        wrong promo code (``TooManyAttempts`` past the limit); the result is
        returned, not raised, so that the guess is kept."""
        guesses = CodeGuesses(self.dbsession, self.now)
        reserved = guesses.reserve(tenant.id, client_addr)
        voucher = self.dbsession.scalar(select(Voucher).where(
            Voucher.tenant_id == tenant.id, Voucher.digest == voucher_digest(code)))
        if voucher is None:
            return BalanceCheck(None)
        guesses.release(reserved)
        return BalanceCheck(voucher, status_of(voucher, self.now))

    @property
    def sells_online(self):
        return self.provider is not None and self.provider.collects_online

    def start_purchase(self, tenant, buyer, amount, *, label, key, success_url, cancel_url):
        """The pending :class:`VoucherOrder` of ``buyer`` (a user) for a
        voucher of ``amount``, with its provider checkout URL. ``key`` (the
        form's) makes a double submit one order; after
        ``ProviderUnavailable`` the same key tries the same checkout again."""
        if not self.sells_online:
            raise NotCollectingOnline("vouchers are sold at the venue")
        if not is_open(tenant):
            raise PolicyViolation(_("this business is closed: it sells no vouchers"))
        self._check_amount(amount, MIN_PURCHASE, MAX_PURCHASE)
        label = (label or "").strip()
        if one_line_problem(label) or len(label) > MAX_LABEL:
            raise ValidationError(one_line_problem(label) or _(
                "must be at most ${max_length} characters long",
                mapping={"max_length": MAX_LABEL}), field="label")
        idempotency_key = f"voucher-order-{key}"
        order = self.dbsession.scalar(select(VoucherOrder).where(
            VoucherOrder.idempotency_key == idempotency_key))
        if order is not None:
            if order.tenant_id != tenant.id or order.buyer_id != buyer.id or \
                    order.amount != amount:
                raise Conflict(_("this form was already sent for another voucher: reload "
                                 "the page"), field="key")
            if order.checkout_url or order.status != VoucherOrderState.PENDING:
                return order
        else:
            order = VoucherOrder(
                tenant_id=tenant.id, amount=amount, currency=tenant.currency,
                buyer_id=buyer.id, buyer_email=buyer.email,
                locale=language_or_default(buyer.locale), label=label,
                provider=self.provider.name, idempotency_key=idempotency_key,
                status=VoucherOrderState.PENDING, created_at=self.now, updated_at=self.now)
            self.dbsession.add(order)
            self.dbsession.flush()
        open_checkout(self.dbsession, self.now, order, lambda: self.provider.create_checkout(
            amount=amount, currency=tenant.currency, idempotency_key=idempotency_key,
            description=f"{tenant.name}: gift voucher", success_url=success_url,
            cancel_url=cancel_url, metadata={"voucher_order_id": str(order.id)},
            expires_at=self.now + CHECKOUT_TIME))
        self.audit(tenant, buyer.id, "voucher.order_started", order.id, target="voucher_order",
                   amount=amount, currency=order.currency)
        return order

    # -- the provider's webhook (called by PaymentService.handle_event) -----------

    def locked_order(self, provider_name, provider_ref):
        """The order of checkout ``provider_ref``, locked, or None."""
        if not provider_ref:
            return None
        return self.dbsession.scalar(
            select(VoucherOrder).where(VoucherOrder.provider == provider_name,
                                       VoucherOrder.provider_ref == provider_ref)
            .with_for_update().execution_options(populate_existing=True))

    def order_event(self, order, event):
        """Apply a verified checkout event to ``order`` (locked): paid, it
        issues the voucher and emails its code to the buyer, once;
        expired, the order failed."""
        if event.type == CHECKOUT_COMPLETED:
            if order.status == VoucherOrderState.PAID:
                return "ignored"
            if event.amount is not None and event.amount != order.amount:
                log.error("%s: voucher checkout %s paid %s, expected %s", order.provider,
                          order.provider_ref, event.amount, order.amount)
            tenant = self.dbsession.get(Tenant, order.tenant_id)
            voucher, code = self.issue(tenant, None, order.amount,
                                       expires_at=self.now + PURCHASE_VALIDITY,
                                       label=order.label, bought_by=order.buyer_id)
            order.status = VoucherOrderState.PAID
            order.voucher_id = voucher.id
            order.last_error = ""
            order.updated_at = self.now
            self.dbsession.flush()
            self.email_code(tenant, order, voucher, code)
            return "voucher_issued"
        if event.type == CHECKOUT_EXPIRED and order.status == VoucherOrderState.PENDING:
            order.status = VoucherOrderState.FAILED
            order.last_error = "the checkout expired unpaid"
            order.updated_at = self.now
            self.dbsession.flush()
            return "order_failed"
        return "ignored"

    def email_code(self, tenant, order, voucher, code):
        """The code, to the buyer, in their language: a secret, blanked
        from the outbox once sent."""
        locale = language_or_default(order.locale)
        fmt = Formatter(locale)
        amount = fmt.money(voucher.initial, voucher.currency)
        base = self.notifier.public_url
        return self.notifier.send(
            "voucher.purchased", Recipient(order.buyer_email, "", locale),
            _("Your gift voucher of ${amount} for ${tenant}"),
            f"voucher-order:{order.id}:code",
            {"tenant_name": tenant.name, "code": code, "amount": amount,
             "expires": fmt.date(voucher.expires_at.astimezone(as_zone(tenant.time_zone))
                                 .date(), "long"),
             "label": order.label, "tenant_url": f"{base}/t/{tenant.slug}/",
             "vouchers_url": f"{base}/t/{tenant.slug}/vouchers/"},
            mapping={"amount": amount, "tenant": tenant.name}, tenant_id=tenant.id,
            carries_secret=True)

    # -- helpers ---------------------------------------------------------------

    @staticmethod
    def _check_amount(amount, minimum, maximum):
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise ValidationError(_("must be an integer"), field="amount")
        if not minimum <= amount <= maximum:
            raise ValidationError(_("must be between ${minimum} and ${maximum} (minor units)",
                                    mapping={"minimum": minimum, "maximum": maximum}),
                                  field="amount", minimum=minimum, maximum=maximum)

    def _entry(self, voucher, kind, amount, actor_id, booking_id=None):
        self.dbsession.add(VoucherEntry(
            tenant_id=voucher.tenant_id, voucher_id=voucher.id, booking_id=booking_id,
            kind=kind, amount=amount, actor_id=actor_id, created_at=self.now))
        self.dbsession.flush()

    def audit(self, tenant, actor_id, action, target_id, target="voucher", **details):
        audit.record(self.dbsession, tenant.id, actor_id, action, target, target_id,
                     self.now, **details)

"""Personal data: what a person or a business may take away or erase, and
how long a business keeps it. One method per use case:

=====================================  ========================================
use case                               method
=====================================  ========================================
a person downloads their data          :meth:`PrivacyService.export_account`
a person erases their account          :meth:`PrivacyService.erase_account`
a business exports one customer        :meth:`PrivacyService.export_customer`
a business erases one customer         :meth:`PrivacyService.erase_customer`
retention (the worker)                 :meth:`PrivacyService.apply_retention`
=====================================  ========================================

Bookings are never deleted: they are the businesses' records (money,
occupancy). Erasure *anonymises* them: the contact name, phone and note
are blanked and ``anonymised_at`` set. An erased account keeps its row (the
bookings point to it) with placeholders: no name, no phone, an address at
``erased.invalid`` (RFC 2606: never deliverable), no usable password.
The audit log records who erased what, never the personal data itself.
"""

import secrets
from datetime import timedelta

from sqlalchemy import delete, false, func, select, update

from ..i18n import _
from ..models import (
    ACTIVE_STATUSES,
    ApiToken,
    AuditLog,
    Booking,
    CalendarFeed,
    Membership,
    OutboxMessage,
    Payment,
    Refund,
    Role,
    SecurityEvent,
    Tenant,
    User,
    UserSession,
    UserToken,
)
from ..passwords import UNUSABLE_PASSWORD, verify_password
from . import audit
from .security_log import Event, SecurityLog
from .errors import PolicyViolation, ValidationError
from .policy import cancellation_deadline
from .marketing import ERASURE, consent_records, withdraw_consents
from .mfa import forget_factors
from .team import owner_ids
from .user_tokens import end_sessions

ERASED_DOMAIN = "erased.invalid"
#: What an anonymised booking's contact fields become.
ANONYMOUS = {"contact_name": "", "contact_phone": "", "contact_email": "", "note": ""}


def _instant(value):
    return value.isoformat() if value is not None else None


class PrivacyService:
    def __init__(self, dbsession, now, actions=None):
        self.dbsession = dbsession
        self.now = now
        #: :class:`~booking.services.actions.BookingActions`: an erased
        #: account's future bookings are cancelled through it, refund included.
        self.actions = actions

    # -- a person's own data ---------------------------------------------------

    def export_account(self, user):
        """Everything the platform keeps about ``user``, as JSON-ready data:
        no password hash, no token digest, no other person's data."""
        bookings = self._bookings(Booking.customer_id == user.id)
        return {
            "exported_at": _instant(self.now),
            "profile": {
                "name": user.name, "email": user.email, "phone": user.phone,
                "language": user.locale, "created_at": _instant(user.created_at),
            },
            "memberships": [
                {"business": tenant.slug, "role": membership.role}
                for membership, tenant in self.dbsession.execute(
                    select(Membership, Tenant).join(Tenant, Tenant.id == Membership.tenant_id)
                    .where(Membership.user_id == user.id).order_by(Tenant.slug))
            ],
            "bookings": bookings,
            "offer_consents": consent_records(self.dbsession, user.id),
            "emails": self._emails(OutboxMessage.recipient == user.email),
            "api_tokens": [
                {"created_at": _instant(token.created_at),
                 "last_used_at": _instant(token.last_used_at),
                 "expires_at": _instant(token.expires_at),
                 "revoked_at": _instant(token.revoked_at)}
                for token in self.dbsession.scalars(
                    select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
            ],
            "sessions": [
                {"device": row.device, "created_at": _instant(row.created_at),
                 "last_seen_at": _instant(row.last_seen_at), "ended_at": _instant(row.ended_at)}
                for row in self.dbsession.scalars(
                    select(UserSession).where(UserSession.user_id == user.id)
                    .order_by(UserSession.id))
            ],
            "security_events": [
                {"event": row.event, "at": _instant(row.at), "client_address": row.client_addr,
                 "details": row.details}
                for row in self.dbsession.scalars(
                    select(SecurityEvent).where(SecurityEvent.user_id == user.id)
                    .order_by(SecurityEvent.id))
            ],
            "activity": [
                {"action": row.action, "at": _instant(row.at), "target": row.target_type}
                for row in self.dbsession.scalars(
                    select(AuditLog).where(AuditLog.actor_id == user.id)
                    .order_by(AuditLog.at, AuditLog.id))
            ],
        }

    def erase_account(self, user, password):
        """Erase ``user``'s account, who confirmed with ``password``.

        Refused (nothing changed) while they are the only owner of a
        business, or while a future booking of theirs can no longer be
        cancelled by them. Their future bookings are cancelled with the
        refund the business's policy gives; all their bookings are
        anonymised; their memberships, sessions, tokens and feeds end; the
        account keeps only placeholders and cannot sign in."""
        ok, _unused = verify_password(password or "", user.password_hash)
        if not ok:
            raise ValidationError(_("is not your current password"), field="password")
        self._check_not_sole_owner(user)
        future = self._future_bookings(user)
        for booking, tenant in future:
            if self.now > cancellation_deadline(booking, tenant):
                raise PolicyViolation(_(
                    "booking ${reference} can no longer be cancelled: erase your account "
                    "after it has taken place", mapping={"reference": booking.reference}))
        for booking, tenant in future:
            self.actions.cancel(tenant, booking, actor_id=user.id, reason="account erased")

        tenant_ids = self.dbsession.scalars(
            select(Booking.tenant_id).where(Booking.customer_id == user.id).distinct()).all()
        count = self._anonymise(Booking.customer_id == user.id)
        self._forget_emails(OutboxMessage.recipient == user.email)
        withdraw_consents(self.dbsession, self.now, user.id, ERASURE)
        self.dbsession.execute(
            update(CalendarFeed)
            .where(CalendarFeed.created_by == user.id, CalendarFeed.revoked_at.is_(None))
            .values(revoked_at=self.now).execution_options(synchronize_session=False))
        self.dbsession.execute(delete(Membership).where(Membership.user_id == user.id)
                               .execution_options(synchronize_session=False))
        self.dbsession.execute(
            update(UserToken).where(UserToken.user_id == user.id, UserToken.used_at.is_(None))
            .values(used_at=self.now).execution_options(synchronize_session=False))
        end_sessions(self.dbsession, user, self.now)
        forget_factors(self.dbsession, user)
        # Their security history stays (when, what), without where from.
        self.dbsession.execute(
            update(SecurityEvent).where(SecurityEvent.user_id == user.id).values(client_addr="")
            .execution_options(synchronize_session=False))
        self.dbsession.execute(
            update(UserSession).where(UserSession.user_id == user.id).values(device="")
            .execution_options(synchronize_session=False))
        SecurityLog(self.dbsession, self.now).record(Event.ACCOUNT_ERASED, user_id=user.id)
        user.email = f"erased-{user.id}-{secrets.token_hex(6)}@{ERASED_DOMAIN}"
        user.name = user.phone = ""
        user.password_hash = UNUSABLE_PASSWORD
        user.erased_at = self.now
        self.dbsession.flush()
        for tenant_id in tenant_ids:
            audit.record(self.dbsession, tenant_id, user.id, "customer.erased", "user", user.id,
                         self.now, by="customer", bookings=count.get(tenant_id, 0),
                         cancelled=sum(1 for _b, t in future if t.id == tenant_id))

    def _check_not_sole_owner(self, user):
        owned = self.dbsession.execute(
            select(Tenant, Membership.id).join(Membership, Membership.tenant_id == Tenant.id)
            .where(Membership.user_id == user.id, Membership.role == Role.OWNER,
                   Membership.pending.is_(False))).all()
        for tenant, membership_id in owned:
            if owner_ids(self.dbsession, tenant) == [membership_id]:
                raise PolicyViolation(_(
                    "you are the only owner of ${business}: give it another owner, or delete "
                    "the business, before erasing your account", mapping={"business": tenant.name}))

    def _future_bookings(self, user):
        return self.dbsession.execute(
            select(Booking, Tenant).join(Tenant, Tenant.id == Booking.tenant_id)
            .where(Booking.customer_id == user.id, Booking.status.in_(ACTIVE_STATUSES),
                   Booking.starts_at > self.now)
            .order_by(Booking.starts_at)).all()

    # -- a business's customer -------------------------------------------------

    def export_customer(self, tenant, booking):
        """What ``tenant`` keeps about the customer of its ``booking``:
        their bookings with it (their contact fields as the business knows
        them), its payments and refunds, and the emails it sent them."""
        mine, customer = self._customer_of(tenant, booking)
        return {
            "exported_at": _instant(self.now),
            "business": tenant.slug,
            "customer": customer,
            "bookings": self._bookings(mine),
            "offer_consents": (consent_records(self.dbsession, customer["id"], tenant.id)
                               if customer["id"] is not None else []),
            "emails": self._emails(self._emails_to(tenant, customer["email"])),
        }

    def erase_customer(self, tenant, booking, actor_id):
        """Anonymise ``tenant``'s bookings of the customer of its
        ``booking`` and blank the emails it sent them. The person's account
        is theirs, not the business's: it stays. Returns how many bookings
        were anonymised."""
        mine, customer = self._customer_of(tenant, booking)
        count = self._anonymise(mine).get(tenant.id, 0)
        self._forget_emails(self._emails_to(tenant, customer["email"]))
        if customer["id"] is not None:  # no more offers from this business
            withdraw_consents(self.dbsession, self.now, customer["id"], ERASURE, tenant.id)
        audit.record(self.dbsession, tenant.id, actor_id, "customer.erased", "booking",
                     booking.id, self.now, by="business", bookings=count)
        return count

    def _customer_of(self, tenant, booking):
        """The bookings with ``tenant`` of ``booking``'s customer, and who
        they are: the account's, or for a walk-in without an account the
        booking alone with the address it was given (maybe none)."""
        if booking.customer_id is None:
            return (Booking.id == booking.id), {"id": None, "email": booking.contact_email}
        user = self.dbsession.get(User, booking.customer_id)
        mine = (Booking.customer_id == user.id) & (Booking.tenant_id == tenant.id)
        return mine, {"id": user.id, "email": user.email}

    @staticmethod
    def _emails_to(tenant, address):
        if not address:
            return false()
        return (OutboxMessage.tenant_id == tenant.id) & (OutboxMessage.recipient == address)

    # -- retention -------------------------------------------------------------

    def apply_retention(self):
        """Anonymise the bookings that ended more than their tenant's
        ``personal_data_days`` ago (tenants without one keep them).
        Returns how many were anonymised."""
        total = 0
        for tenant_id, days in self.dbsession.execute(
                select(Tenant.id, Tenant.personal_data_days)
                .where(Tenant.personal_data_days.is_not(None))):
            ended = (Booking.tenant_id == tenant_id) \
                & (Booking.ends_at <= self.now - timedelta(days=days))
            count = self._anonymise(ended).get(tenant_id, 0)
            if count:
                audit.record(self.dbsession, tenant_id, None, "bookings.anonymised", "tenant",
                             tenant_id, self.now, reason="retention", days=days, bookings=count)
            total += count
        return total

    # -- shared ----------------------------------------------------------------

    def _anonymise(self, condition):
        """Blank the contact fields of the bookings ``condition`` selects,
        not anonymised yet, and the bodies of their emails. Returns
        ``{tenant_id: count}``."""
        found = self.dbsession.execute(
            select(Booking.tenant_id, func.count()).where(condition, Booking.anonymised_at.is_(None))
            .group_by(Booking.tenant_id)).all()
        if found:
            self.dbsession.execute(
                update(Booking).where(condition, Booking.anonymised_at.is_(None))
                .values(**ANONYMOUS, anonymised_at=self.now)
                .execution_options(synchronize_session="fetch"))
            # Their emails named the customer too.
            self._forget_emails(OutboxMessage.booking_id.in_(
                select(Booking.id).where(condition, Booking.anonymised_at == self.now)))
        return dict(found)

    def _forget_emails(self, condition):
        """Blank the bodies of the emails ``condition`` selects (those still
        to be sent are blanked once sent)."""
        self.dbsession.execute(
            update(OutboxMessage).where(condition, OutboxMessage.redacted_at.is_(None),
                                        OutboxMessage.sent_at.is_not(None)
                                        | OutboxMessage.failed_at.is_not(None))
            .values(body_text="", body_html="", attachments=[], redacted_at=self.now)
            .execution_options(synchronize_session=False))
        self.dbsession.execute(
            update(OutboxMessage).where(condition, OutboxMessage.sent_at.is_(None),
                                        OutboxMessage.failed_at.is_(None))
            .values(carries_secret=True).execution_options(synchronize_session=False))

    def _bookings(self, condition):
        rows = self.dbsession.execute(
            select(Booking, Tenant).join(Tenant, Tenant.id == Booking.tenant_id)
            .where(condition).order_by(Booking.starts_at, Booking.id)).all()
        payments = self._payments([booking.id for booking, _tenant in rows])
        return [{
            "business": tenant.slug, "business_name": tenant.name,
            "reference": booking.reference,
            "venue": booking.resource.venue.name, "resource": booking.resource.name,
            "starts_at": _instant(booking.starts_at), "ends_at": _instant(booking.ends_at),
            "seats": booking.seats, "status": booking.status_at(self.now),
            "price": booking.price, "currency": booking.currency,
            "payment_status": booking.payment_status,
            "contact_name": booking.contact_name, "contact_phone": booking.contact_phone,
            "contact_email": booking.contact_email,
            "note": booking.note, "cancel_reason": booking.cancel_reason,
            "created_at": _instant(booking.created_at),
            "anonymised_at": _instant(booking.anonymised_at),
            "payments": payments.get(booking.id, []),
        } for booking, tenant in rows]

    def _payments(self, booking_ids):
        if not booking_ids:
            return {}
        found = {}
        refunds = {}
        for refund in self.dbsession.scalars(
                select(Refund).join(Payment, Payment.id == Refund.payment_id)
                .where(Payment.booking_id.in_(booking_ids)).order_by(Refund.id)):
            refunds.setdefault(refund.payment_id, []).append({
                "amount": refund.amount, "status": refund.status, "reason": refund.reason,
                "created_at": _instant(refund.created_at)})
        for payment in self.dbsession.scalars(
                select(Payment).where(Payment.booking_id.in_(booking_ids)).order_by(Payment.id)):
            found.setdefault(payment.booking_id, []).append({
                "provider": payment.provider, "amount": payment.amount,
                "currency": payment.currency, "status": payment.status,
                "refunded_amount": payment.refunded_amount,
                "created_at": _instant(payment.created_at),
                "refunds": refunds.get(payment.id, [])})
        return found

    def _emails(self, condition):
        """The emails as a list of what was sent when: no bodies (they may
        hold links with secrets)."""
        return [{"kind": message.kind, "subject": message.subject,
                 "created_at": _instant(message.created_at),
                 "sent_at": _instant(message.sent_at)}
                for message in self.dbsession.scalars(
                    select(OutboxMessage).where(condition).order_by(OutboxMessage.id))]

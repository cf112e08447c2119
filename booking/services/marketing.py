"""Offer emails: customers agree, per business, to receive its offers; its
owners and managers write one, preview it and send it to those who agreed.

- Consent is given (never by default) on the booking form or in My account,
  and kept with its moment, its exact wording in the language shown, and
  where it was given (:class:`~booking.models.MarketingConsent`). Withdrawing
  keeps the record and marks it withdrawn.
- A mailing goes to the :meth:`MarketingService.audience`: customers whose
  consent is live, whose address is confirmed and whose account is not
  erased; with a venue or resource, only those who booked there.
- Each recipient gets the email in their own language, through the outbox,
  with a secret unsubscribe link of their own (only its digest is kept):
  in the text, and as ``List-Unsubscribe`` with ``List-Unsubscribe-Post``
  (RFC 8058 one-click), so a mail provider can unsubscribe them by a POST.
- A business sends at most ``booking.offer_mailings_per_day`` mailings a
  day and at most ``booking.offer_max_recipients`` recipients a mailing;
  one whose owner has not confirmed their address sends none.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import exists, select, update

from ..i18n import _, language_or_default, localizer_for
from ..models import (Booking, BookingStatus, MarketingConsent, OfferMailing, OfferRecipient,
                      Resource, Tenant, User, Venue)
from ..security import TOKEN_BYTES, token_digest
from . import audit
from .errors import Conflict, PolicyViolation, ValidationError
from .notifications import DEFAULT_PUBLIC_URL, environment
from .outbox import enqueue
from .throttle import TooManyAttempts, WindowCounter

KIND = "offer"
#: The bookings that make a customer one "who booked there".
BOOKED = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
DAY = timedelta(days=1)
ONE_CLICK = "List-Unsubscribe=One-Click"
#: Where a consent is given or withdrawn.
BOOKING_FORM, ACCOUNT, LINK, ONE_CLICK_POST, ERASURE = (
    "booking-form", "account", "link", "one-click", "erasure")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Preview:
    email: Rendered
    recipients: int


@dataclass(frozen=True)
class BusinessChoice:
    """A business the customer booked with (or agreed to hear from), and
    their current consent to its offers (``None``: none live)."""
    tenant: Tenant
    consent: MarketingConsent | None


def recipient_by_secret(dbsession, secret):
    """The :class:`OfferRecipient` whose unsubscribe link holds ``secret``,
    or ``None``."""
    if not secret or len(secret) > 100:
        return None
    return dbsession.scalar(
        select(OfferRecipient).where(OfferRecipient.digest == token_digest(secret)))


def withdraw_consents(dbsession, now, user_id, how, tenant_id=None):
    """Withdraw the live consents of ``user_id`` (to ``tenant_id``'s offers
    only, if given); returns how many."""
    condition = MarketingConsent.user_id == user_id
    if tenant_id is not None:
        condition &= MarketingConsent.tenant_id == tenant_id
    return dbsession.execute(
        update(MarketingConsent)
        .where(condition, MarketingConsent.withdrawn_at.is_(None))
        .values(withdrawn_at=now, withdrawn_how=how)
        .execution_options(synchronize_session=False)).rowcount


def consent_records(dbsession, user_id, tenant_id=None):
    """Every consent of ``user_id`` (to ``tenant_id``, if given), live or
    withdrawn, oldest first, as JSON-ready data (a privacy export)."""
    query = (select(MarketingConsent, Tenant.slug)
             .join(Tenant, Tenant.id == MarketingConsent.tenant_id)
             .where(MarketingConsent.user_id == user_id)
             .order_by(MarketingConsent.given_at, MarketingConsent.id))
    if tenant_id is not None:
        query = query.where(MarketingConsent.tenant_id == tenant_id)
    return [
        {"business": slug, "given_at": consent.given_at.isoformat(), "wording": consent.wording,
         "language": consent.locale, "how": consent.how,
         "withdrawn_at": consent.withdrawn_at.isoformat() if consent.withdrawn_at else None,
         "withdrawn_how": consent.withdrawn_how or None}
        for consent, slug in dbsession.execute(query)
    ]


class MarketingService:
    def __init__(self, dbsession, now, public_url=DEFAULT_PUBLIC_URL, per_day=2,
                 max_recipients=2000, reload_templates=False):
        self.dbsession = dbsession
        self.now = now
        self.public_url = public_url.rstrip("/")
        self.per_day = per_day
        self.max_recipients = max_recipients
        self.reload_templates = reload_templates

    # -- consent ---------------------------------------------------------------

    @staticmethod
    def wording(tenant, locale):
        """The sentence a customer agrees to, in ``locale``: what the form
        shows and what is stored."""
        return localizer_for(language_or_default(locale)).translate(_(
            "Send me offers from ${business} by email", mapping={"business": tenant.name}))

    def live_consent(self, tenant, user):
        return self.dbsession.scalar(
            select(MarketingConsent).where(MarketingConsent.tenant_id == tenant.id,
                                           MarketingConsent.user_id == user.id,
                                           MarketingConsent.withdrawn_at.is_(None)))

    def opt_in(self, tenant, user, wording, how, locale=None):
        """``user`` agrees to ``tenant``'s offers, having read ``wording``.
        Returns the live consent: the one they had, or a new one."""
        consent = self.live_consent(tenant, user)
        if consent is not None:
            return consent
        consent = MarketingConsent(
            tenant_id=tenant.id, user_id=user.id, given_at=self.now, wording=wording,
            locale=language_or_default(locale or user.locale), how=how)
        self.dbsession.add(consent)
        self.dbsession.flush()
        return consent

    def agree_on_booking(self, booking, locale):
        """The customer of ``booking`` ticked "send me offers" on the
        booking form, shown in ``locale``. A booking without an account (an
        address that had one, typed by a guest) agrees to nothing."""
        if booking.customer is None:
            return None
        tenant = self.dbsession.get(Tenant, booking.tenant_id)
        return self.opt_in(tenant, booking.customer, self.wording(tenant, locale), BOOKING_FORM,
                           locale)

    def opt_out(self, tenant, user, how=ACCOUNT):
        """Withdraw ``user``'s consent to ``tenant``'s offers. Returns
        whether there was one to withdraw."""
        return withdraw_consents(self.dbsession, self.now, user.id, how, tenant.id) > 0

    def business_of(self, recipient):
        """The business whose offer ``recipient`` received."""
        return self.dbsession.get(Tenant, recipient.tenant_id)

    def unsubscribe(self, recipient, how=LINK):
        """The recipient of an offer follows its unsubscribe link: no more
        offers from its business. Idempotent. Returns the business."""
        tenant = self.business_of(recipient)
        withdrawn = withdraw_consents(self.dbsession, self.now, recipient.user_id, how,
                                      recipient.tenant_id)
        if withdrawn:
            audit.record(self.dbsession, tenant.id, recipient.user_id, "offers.unsubscribed",
                         "user", recipient.user_id, self.now, how=how)
        return tenant

    def unsubscribe_by_token(self, secret, how=LINK):
        """:meth:`unsubscribe` the recipient of ``secret``'s link; the
        business, or ``None`` for an unknown secret."""
        recipient = recipient_by_secret(self.dbsession, secret)
        return None if recipient is None else self.unsubscribe(recipient, how)

    def consents_of(self, user):
        """``[BusinessChoice]``: the businesses ``user`` booked with or
        agreed to hear from, by name, each with their live consent."""
        booked = select(Booking.tenant_id).where(Booking.customer_id == user.id)
        agreed = select(MarketingConsent.tenant_id).where(MarketingConsent.user_id == user.id)
        tenants = self.dbsession.scalars(
            select(Tenant).where(Tenant.id.in_(booked.union(agreed)))
            .order_by(Tenant.name, Tenant.id)).all()
        live = {consent.tenant_id: consent for consent in self.dbsession.scalars(
            select(MarketingConsent).where(MarketingConsent.user_id == user.id,
                                           MarketingConsent.withdrawn_at.is_(None)))}
        return [BusinessChoice(tenant, live.get(tenant.id)) for tenant in tenants]

    def choose(self, user, tenant_id, agree, locale):
        """``user`` agrees (or no longer) to the offers of the business
        ``tenant_id``, one of :meth:`consents_of`. Returns the business, or
        ``None`` when it is not one of theirs."""
        for choice in self.consents_of(user):
            if choice.tenant.id == tenant_id:
                if agree:
                    self.opt_in(choice.tenant, user, self.wording(choice.tenant, locale),
                                ACCOUNT, locale)
                else:
                    self.opt_out(choice.tenant, user, ACCOUNT)
                return choice.tenant
        return None

    # -- mailings ----------------------------------------------------------------

    def audience(self, tenant, venue=None, resource=None):
        """The customers an offer of ``tenant`` may go to, by id: a live
        consent, a confirmed address, an account not erased; with ``venue``
        or ``resource``, only those who booked there."""
        query = (
            select(User)
            .join(MarketingConsent, MarketingConsent.user_id == User.id)
            .where(MarketingConsent.tenant_id == tenant.id,
                   MarketingConsent.withdrawn_at.is_(None),
                   User.email_confirmed_at.is_not(None), User.erased_at.is_(None))
            .order_by(User.id))
        if venue is not None or resource is not None:
            booked = select(Booking.id).where(Booking.tenant_id == tenant.id,
                                              Booking.customer_id == User.id,
                                              Booking.status.in_(BOOKED))
            if resource is not None:
                booked = booked.where(Booking.resource_id == resource.id)
            else:
                booked = booked.join(Resource, Resource.id == Booking.resource_id).where(
                    Resource.venue_id == venue.id)
            query = query.where(exists(booked))
        return self.dbsession.scalars(query).all()

    def audience_choices(self, tenant):
        """``[(value, label)]`` of the audiences an offer of ``tenant`` may
        have: everyone who agreed, those who booked at a venue, those who
        booked a resource. :meth:`audience_target` reads a value back."""
        choices = [("all", _("Everyone who asked for offers"))]
        venues = self.dbsession.scalars(
            select(Venue).where(Venue.tenant_id == tenant.id).order_by(Venue.name, Venue.id))
        for venue in venues:
            choices.append((f"venue:{venue.id}", _("Who booked at ${venue}",
                                                   mapping={"venue": venue.name})))
            for resource in self.dbsession.scalars(
                    select(Resource).where(Resource.tenant_id == tenant.id,
                                           Resource.venue_id == venue.id)
                    .order_by(Resource.name, Resource.id)):
                choices.append((f"resource:{resource.id}", _(
                    "Who booked ${resource} (${venue})",
                    mapping={"resource": resource.name, "venue": venue.name})))
        return choices

    def audience_target(self, tenant, value):
        """``(venue, resource)`` of an audience of :meth:`audience_choices`
        (``"all"``, ``"venue:<id>"``, ``"resource:<id>"``), ``tenant``'s
        own; :class:`ValidationError` (field ``audience``) otherwise."""
        if value == "all":
            return None, None
        kind, _sep, number = (value or "").partition(":")
        model = {"venue": Venue, "resource": Resource}.get(kind)
        row = None
        if model is not None and number.isascii() and number.isdigit() and len(number) < 10:
            row = self.dbsession.scalar(
                select(model).where(model.id == int(number), model.tenant_id == tenant.id))
        if row is None:
            raise ValidationError(_("choose one of the audiences offered"), field="audience")
        return (row, None) if kind == "venue" else (None, row)

    def render(self, tenant, subject, body, locale, unsubscribe_link, name=""):
        """The offer as a customer reading ``locale`` gets it."""
        locale = language_or_default(locale)
        env = environment(locale, self.reload_templates)
        values = {"subject": subject, "lang": locale, "name": name, "site": self.public_url,
                  "tenant_name": tenant.name, "offer": body,
                  "unsubscribe_link": unsubscribe_link}
        return Rendered(subject, env.get_template("offer.txt.jinja2").render(values),
                        env.get_template("offer.html.jinja2").render(values))

    def preview(self, tenant, subject, body, locale, venue=None, resource=None):
        """The offer in ``locale`` (its unsubscribe link a sample) and how
        many customers it would go to now."""
        link = f"{self.public_url}/unsubscribe/…"
        return Preview(self.render(tenant, subject, body, locale, link),
                       len(self.audience(tenant, venue, resource)))

    def send(self, tenant, actor, subject, body, venue=None, resource=None):
        """Queue the offer to each customer of the :meth:`audience`, in
        their language, with their own unsubscribe link. Returns the
        :class:`OfferMailing`. Refused, nothing queued: a business not
        verified (403), nobody to send to or too many (409), the day's
        mailings spent (429)."""
        if not tenant.verified:
            raise PolicyViolation(_(
                "Your business can send offers once its owner has confirmed their email "
                "address."))
        users = self.audience(tenant, venue, resource)
        if not users:
            raise Conflict(_("Nobody has agreed to receive these offers yet: nothing was sent."))
        if len(users) > self.max_recipients:
            raise Conflict(_(
                "This offer would go to ${count} customers; a mailing may go to at most "
                "${limit}. Choose a venue or a resource.",
                mapping={"count": len(users), "limit": self.max_recipients}))
        wait = WindowCounter(self.dbsession, self.now, DAY).reserve(
            f"offers:tenant:{tenant.id}", self.per_day)
        if wait is not None:
            raise TooManyAttempts(_(
                "Your business has sent its ${limit} offer mailing(s) for today: try again "
                "in ${minutes} minute(s).", mapping={"limit": self.per_day, "minutes": wait}),
                retry_after=wait * 60)
        mailing = OfferMailing(
            tenant_id=tenant.id, subject=subject, body=body,
            venue_id=venue.id if venue is not None else None,
            resource_id=resource.id if resource is not None else None,
            created_by=actor.id, created_at=self.now, sent_at=self.now, recipients=len(users))
        self.dbsession.add(mailing)
        self.dbsession.flush()
        for user in users:
            self.queue(tenant, mailing, user)
        audit.record(self.dbsession, tenant.id, actor.id, "offers.sent", "offer_mailing",
                     mailing.id, self.now, recipients=len(users))
        return mailing

    def queue(self, tenant, mailing, user):
        secret = secrets.token_urlsafe(TOKEN_BYTES)
        self.dbsession.add(OfferRecipient(tenant_id=tenant.id, mailing_id=mailing.id,
                                          user_id=user.id, digest=token_digest(secret)))
        link = f"{self.public_url}/unsubscribe/{secret}"
        email = self.render(tenant, mailing.subject, mailing.body, user.locale, link, user.name)
        # The link is a secret: the worker blanks the body and headers once sent.
        enqueue(self.dbsession, kind=KIND, dedupe_key=f"offer:{mailing.id}:user:{user.id}",
                recipient=user.email, subject=email.subject, body_text=email.text,
                body_html=email.html, now=self.now, tenant_id=tenant.id,
                locale=language_or_default(user.locale), carries_secret=True,
                headers={"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": ONE_CLICK})

    def mailings(self, tenant, limit=50):
        """The business's mailings, newest first."""
        return self.dbsession.scalars(
            select(OfferMailing).where(OfferMailing.tenant_id == tenant.id)
            .order_by(OfferMailing.created_at.desc(), OfferMailing.id.desc())
            .limit(limit)).all()

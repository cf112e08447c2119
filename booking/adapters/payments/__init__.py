"""Payments: the :class:`PaymentProvider` interface, what it answers
(:class:`Checkout`, :class:`ProviderEvent`) and :func:`provider_from_settings`,
which picks the implementation named by ``booking.payments``: ``onsite``
(the embedded default: the customer pays at the venue, so a booking is
confirmed at once and nothing is collected online) or ``stripe`` (a
Stripe-compatible API: hosted checkout sessions, refunds, signed webhooks).

:func:`includeme` registers that provider with ``pyramid_services`` under
:class:`PaymentProvider`: views and services get it with
``request.find_service(PaymentProvider)`` (or from a
:class:`booking.services.Work` outside a request).

Card data never passes through the app: the customer types it on the
provider's hosted page; the app only learns the outcome from a signed webhook.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass


class ProviderUnavailable(Exception):
    """The provider could not answer: timeout, connection error or 5xx, after
    the bounded retries. Safe to try again with the same idempotency key."""


class ProviderRefused(Exception):
    """The provider refused the request (4xx): retrying will not help."""


class BadSignature(Exception):
    """A webhook whose signature is missing, wrong, or outside the timestamp
    tolerance (5 minutes). Nothing in it may be trusted."""


class NotCollectingOnline(Exception):
    """The provider collects nothing online (``onsite``): there is no
    checkout to create and nothing to refund through it."""


#: Event types of :class:`ProviderEvent`, whatever the provider calls them.
CHECKOUT_COMPLETED = "checkout.completed"   # the customer paid
CHECKOUT_EXPIRED = "checkout.expired"       # the checkout ended without payment
REFUND_UPDATED = "refund.updated"           # a refund on the payment changed
IGNORED = "ignored"                         # a type the app does not act upon


@dataclass(frozen=True)
class Checkout:
    #: The provider's id of the checkout (stored as ``Payment.provider_ref``).
    provider_ref: str
    #: The provider's hosted page the customer is sent to.
    url: str


@dataclass(frozen=True)
class ProviderEvent:
    """A verified webhook event. ``provider_ref`` names the checkout it is
    about (a refund's id for ``refund.updated``); ``amount`` is in minor
    units (paid, or refunded)."""

    id: str
    type: str
    provider_ref: str | None
    amount: int | None
    created: int
    #: A refund's state at the provider (``pending``, ``succeeded``, ``failed``…).
    status: str | None = None


class PaymentProvider(ABC):
    """Creates checkouts and refunds at a provider and reads its webhooks.
    Implementations are shared by all threads of a process: thread-safe."""

    name = ""
    #: False when the customer pays at the venue (nothing collected online).
    collects_online = False

    @abstractmethod
    def create_checkout(self, *, amount, currency, idempotency_key, description,
                        success_url, cancel_url, metadata, expires_at=None):
        """A hosted checkout for ``amount`` minor units of ``currency``.
        Raise :class:`ProviderUnavailable` (retry with the same key) or
        :class:`ProviderRefused`."""

    @abstractmethod
    def refund(self, *, provider_ref, amount, idempotency_key):
        """Give back ``amount`` minor units of the checkout ``provider_ref``;
        returns the refund's provider id."""

    @abstractmethod
    def parse_webhook(self, body, headers, now):
        """The :class:`ProviderEvent` in ``body`` (the raw bytes) once its
        signature in ``headers`` is verified at ``now``; else
        :class:`BadSignature`."""


def provider_from_settings(settings):
    """The provider ``booking.payments`` names, configured from
    ``booking.payments.url``, ``.api_key``, ``.webhook_secret``, ``.timeout``
    and ``.retries`` (parsed by :mod:`booking.settings`)."""
    if settings.get("booking.payments", "onsite") == "onsite":
        from .onsite import OnsiteProvider

        return OnsiteProvider()

    from .stripe import StripeProvider

    return StripeProvider(
        settings["booking.payments.url"],
        api_key=settings["booking.payments.api_key"],
        webhook_secret=settings["booking.payments.webhook_secret"],
        timeout=float(settings.get("booking.payments.timeout", 10)),
        retries=int(settings.get("booking.payments.retries", 2)),
    )


def includeme(config):
    """One provider per process (implementations are thread-safe), found as
    ``find_service(PaymentProvider)``."""
    config.include("booking.services.lookup")  # pyramid_services
    config.register_service(provider_from_settings(config.get_settings()), PaymentProvider)

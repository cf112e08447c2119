"""Domain errors. Services raise them; ``booking.views.errors`` turns them
into a 4xx (a JSON error for the API, a page for the site)."""


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message, field=None, **extra):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra

    def __str__(self):
        # A TranslationString shows its English text with the values filled in.
        interpolate = getattr(self.message, "interpolate", None)
        return interpolate() if interpolate else str(self.message)


class ValidationError(DomainError):
    """Input that cannot be right whatever the state of the world."""

    status = 400
    code = "invalid"


class InvalidFields(ValidationError):
    """Several fields wrong at once: ``errors`` is ``{field: message}``
    (a form shows them all); the error itself names the first, as the API
    answers it."""

    def __init__(self, errors):
        field, message = next(iter(errors.items()))
        super().__init__(message, field=field)
        self.errors = dict(errors)


class PayloadTooLarge(DomainError):
    """Input larger than any the domain accepts (a JSON body over the limit)."""

    status = 413
    code = "too_large"


class Conflict(DomainError):
    """The request is valid but the state of the world refuses it: the slot
    is taken, the booking was already cancelled."""

    status = 409
    code = "conflict"


class PolicyViolation(DomainError):
    """A rule of the tenant forbids it (e.g. the cancellation window closed)."""

    status = 403
    code = "forbidden"


class PaymentNotStarted(DomainError):
    """The provider could not start a checkout: nothing was charged.
    ``retry`` tells whether the same request may work later (the provider
    was unreachable) or not (it refused)."""

    status = 503
    code = "payment_unavailable"

    def __init__(self, message, retry, **extra):
        super().__init__(message, **extra)
        self.retry = retry


class RefundNotMade(DomainError):
    """The provider could not be reached to refund (``retry``: 503), or
    refused to (502): the change that called for the refund is refused as a
    whole, so nothing changed."""

    status = 503
    code = "provider_unavailable"

    def __init__(self, message, retry, **extra):
        super().__init__(message, **extra)
        self.retry = retry
        if not retry:
            self.status, self.code = 502, "refund_refused"

"""Parse, validate and coerce the application's settings.

Every setting the app reads is parsed here once, at start-up, so a bad value
stops the process with the key named instead of failing on some later request.
Secrets may come from the environment instead of the INI file:
``BOOKING_DATABASE_URL`` (fills ``sqlalchemy.url``), ``BOOKING_SECRET``
(fills ``booking.secret``), ``BOOKING_SMTP_PASSWORD`` (fills
``booking.mail.password``), ``BOOKING_PAYMENTS_API_KEY`` and
``BOOKING_PAYMENTS_WEBHOOK_SECRET`` (the payment provider's),
``BOOKING_PUBLIC_URL`` (fills ``booking.public_url``) and
``BOOKING_DATA_KEYS`` (fills ``booking.data_keys``, the keys of the data
encrypted at rest).
"""

import os
from datetime import datetime
from urllib.parse import urlsplit

from pyramid.settings import asbool

from .clock import FrozenClock
from .crypto import Keyring, KeyringError

#: The secret shipped in development.ini. Refused wherever secrets are required.
DEVELOPMENT_SECRET = "development-secret-not-for-production"
#: The data key id of development.ini. Refused wherever data keys are required.
DEVELOPMENT_KEY_ID = "dev"
MIN_SECRET_LENGTH = 32
ENVIRONMENT_OVERRIDES = {
    "BOOKING_DATABASE_URL": "sqlalchemy.url",
    "BOOKING_SECRET": "booking.secret",
    "BOOKING_SMTP_PASSWORD": "booking.mail.password",
    "BOOKING_PAYMENTS_API_KEY": "booking.payments.api_key",
    "BOOKING_PAYMENTS_WEBHOOK_SECRET": "booking.payments.webhook_secret",
    "BOOKING_PUBLIC_URL": "booking.public_url",
    "BOOKING_DATA_KEYS": "booking.data_keys",
}
MAILERS = ("folder", "smtp")
MAIL_SECURITY = ("none", "starttls", "ssl")
GEOCODERS = ("offline", "nominatim")
PAYMENT_PROVIDERS = ("onsite", "stripe")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


def _int(settings, key, default, minimum=None, maximum=None):
    raw = settings.get(key, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"{key} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise SettingsError(f"{key} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{key} must be at most {maximum}, got {value}")
    return value


def _choice(settings, key, default, choices):
    value = (settings.get(key) or default).strip().lower()
    if value not in choices:
        raise SettingsError(f"{key} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _clock(settings):
    """``booking.clock``: a clock object (tests), ``system`` (the default),
    or an ISO 8601 instant with its offset for a clock frozen there."""
    raw = settings.get("booking.clock")
    if not isinstance(raw, str):
        return raw
    if raw.strip() in ("", "system"):
        return None
    try:
        instant = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise SettingsError(
            f"booking.clock must be 'system' or an ISO 8601 instant, got {raw!r}") from None
    if instant.tzinfo is None:
        raise SettingsError(f"booking.clock needs a UTC offset, got {raw!r}")
    return FrozenClock(instant)


def _mail_settings(settings):
    """``booking.mail`` chooses the adapter; ``booking.mail.*`` configures it;
    ``booking.worker.*`` tunes the outbox worker."""
    settings["booking.mail"] = _choice(settings, "booking.mail", "folder", MAILERS)
    settings["booking.mail.sender"] = (
        settings.get("booking.mail.sender") or "Booking <no-reply@booking.invalid>").strip()
    if "@" not in settings["booking.mail.sender"]:
        raise SettingsError("booking.mail.sender must be an email address, got "
                            f"{settings['booking.mail.sender']!r}")
    settings["booking.mail.folder"] = os.path.abspath(
        (settings.get("booking.mail.folder") or os.path.join("var", "mail")).strip())
    security = _choice(settings, "booking.mail.security", "none", MAIL_SECURITY)
    settings["booking.mail.security"] = security
    settings["booking.mail.host"] = (settings.get("booking.mail.host") or "localhost").strip()
    default_port = {"none": 25, "starttls": 587, "ssl": 465}[security]
    settings["booking.mail.port"] = _int(settings, "booking.mail.port", default_port,
                                         minimum=1, maximum=65535)
    settings["booking.mail.username"] = (settings.get("booking.mail.username") or "").strip()
    settings["booking.mail.password"] = settings.get("booking.mail.password") or ""
    settings["booking.mail.timeout"] = _int(settings, "booking.mail.timeout", 30, minimum=1)

    settings["booking.worker.interval"] = _int(
        settings, "booking.worker.interval", 10, minimum=1)
    settings["booking.worker.batch"] = _int(
        settings, "booking.worker.batch", 50, minimum=1, maximum=1000)
    # A worker stops using its batch 2 × the mail timeout before the lease
    # runs out: the lease must leave time to send.
    settings["booking.worker.lease_seconds"] = _int(
        settings, "booking.worker.lease_seconds", 600,
        minimum=max(60, 4 * settings["booking.mail.timeout"]))
    settings["booking.worker.max_attempts"] = _int(
        settings, "booking.worker.max_attempts", 8, minimum=1, maximum=100)
    settings["booking.worker.backoff_base_seconds"] = _int(
        settings, "booking.worker.backoff_base_seconds", 60, minimum=1)
    settings["booking.worker.backoff_max_seconds"] = _int(
        settings, "booking.worker.backoff_max_seconds", 6 * 3600,
        minimum=settings["booking.worker.backoff_base_seconds"])


def _maps_settings(settings):
    """``booking.maps`` chooses the geocoder; ``nominatim`` needs a
    User-Agent that identifies the deployment (the provider's policy)."""
    settings["booking.maps"] = _choice(settings, "booking.maps", "offline", GEOCODERS)
    url = (settings.get("booking.maps.url") or "https://nominatim.openstreetmap.org").strip()
    if not url.startswith(("http://", "https://")):
        raise SettingsError(f"booking.maps.url must be an http(s) URL, got {url!r}")
    settings["booking.maps.url"] = url.rstrip("/")
    settings["booking.maps.user_agent"] = (settings.get("booking.maps.user_agent") or "").strip()
    if settings["booking.maps"] == "nominatim" and not settings["booking.maps.user_agent"]:
        raise SettingsError(
            "booking.maps.user_agent is required with booking.maps = nominatim: name the "
            "application and a contact, e.g. 'booking-example/1.0 (admin@example.com)'")
    raw = settings.get("booking.maps.timeout", 5)
    try:
        timeout = float(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"booking.maps.timeout must be a number of seconds, got {raw!r}") \
            from None
    if not 0 < timeout <= 60:
        raise SettingsError(f"booking.maps.timeout must be between 0 and 60 seconds, got {raw!r}")
    settings["booking.maps.timeout"] = timeout
    settings["booking.maps.cache_days"] = _int(settings, "booking.maps.cache_days", 30,
                                               minimum=1, maximum=3650)


def _payments_settings(settings):
    """``booking.payments`` chooses the provider: ``onsite`` (pay at the
    venue) or ``stripe`` (a Stripe-compatible API at ``booking.payments.url``;
    the API key and webhook secret are required, best from the environment)."""
    settings["booking.payments"] = _choice(settings, "booking.payments", "onsite",
                                           PAYMENT_PROVIDERS)
    url = (settings.get("booking.payments.url") or "https://api.stripe.com").strip()
    if not url.startswith(("http://", "https://")):
        raise SettingsError(f"booking.payments.url must be an http(s) URL, got {url!r}")
    settings["booking.payments.url"] = url.rstrip("/")
    for key in ("booking.payments.api_key", "booking.payments.webhook_secret"):
        settings[key] = (settings.get(key) or "").strip()
        if settings["booking.payments"] == "stripe" and not settings[key]:
            raise SettingsError(f"{key} is required with booking.payments = stripe")
    raw = settings.get("booking.payments.timeout", 10)
    try:
        timeout = float(raw)
    except (TypeError, ValueError):
        timeout = 0
    if not 0 < timeout <= 60:
        raise SettingsError(
            f"booking.payments.timeout must be between 0 and 60 seconds, got {raw!r}")
    settings["booking.payments.timeout"] = timeout
    settings["booking.payments.retries"] = _int(settings, "booking.payments.retries", 2,
                                                minimum=0, maximum=5)


def _public_url(settings):
    """``booking.public_url``: the site's address, which every emailed link
    starts with (a request's Host header is never trusted for that). With
    ``booking.require_public_url`` (production.ini) the app does not start
    without one."""
    settings["booking.require_public_url"] = asbool(
        settings.get("booking.require_public_url", False))
    url = (settings.get("booking.public_url") or "").strip().rstrip("/")
    if not url:
        if settings["booking.require_public_url"]:
            raise SettingsError(
                "booking.public_url is missing: export BOOKING_PUBLIC_URL with the site's "
                "address, as customers reach it (for example https://booking.example.com); "
                "every link in an email starts with it")
        settings.pop("booking.public_url", None)
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query \
            or parts.fragment:
        raise SettingsError(
            f"booking.public_url must be an http(s) address such as "
            f"https://booking.example.com, not {url!r}")
    settings["booking.public_url"] = url


def _data_keys(settings, environ):
    """``booking.data_keys``: the keys of the data encrypted at rest
    (:class:`booking.crypto.Keyring`), ``"k2:<base64>,k1:<base64>"``, the
    first encrypting. With ``booking.require_data_keys`` (production.ini)
    they must come from ``BOOKING_DATA_KEYS``, and the development key is
    refused. Without keys, writing an encrypted column fails."""
    settings["booking.require_data_keys"] = asbool(
        settings.get("booking.require_data_keys", False))
    raw = settings.get("booking.data_keys")
    if isinstance(raw, Keyring):
        return
    if settings["booking.require_data_keys"] and not environ.get("BOOKING_DATA_KEYS"):
        raise SettingsError(
            "booking.data_keys is missing: export BOOKING_DATA_KEYS with the keys of the data "
            "encrypted at rest (make one with: booking-keys generate), and keep them safe: "
            "without them the encrypted data is lost")
    if not (raw or "").strip():
        settings["booking.data_keys"] = None
        return
    try:
        keyring = Keyring.parse(raw)
    except KeyringError as exc:
        raise SettingsError(f"booking.data_keys: {exc}") from None
    if settings["booking.require_data_keys"] and DEVELOPMENT_KEY_ID in keyring.keys:
        raise SettingsError(
            f"booking.data_keys holds the development key {DEVELOPMENT_KEY_ID!r}: make keys "
            "of your own with booking-keys generate")
    settings["booking.data_keys"] = keyring


def parse_settings(settings, environ=None):
    """Return a new settings dict with environment overrides applied and
    every ``booking.*`` value coerced; raise :class:`SettingsError`."""
    environ = os.environ if environ is None else environ
    settings = dict(settings)
    for variable, key in ENVIRONMENT_OVERRIDES.items():
        if environ.get(variable):
            settings[key] = environ[variable]

    if not (settings.get("sqlalchemy.url") or "").strip():
        raise SettingsError(
            "sqlalchemy.url is not set: set it in the INI file or export "
            "BOOKING_DATABASE_URL"
        )

    settings["booking.require_secret"] = asbool(settings.get("booking.require_secret", False))
    secret = (settings.get("booking.secret") or "").strip()
    if settings["booking.require_secret"]:
        if not secret:
            raise SettingsError(
                "booking.secret is missing: export BOOKING_SECRET with at least "
                f"{MIN_SECRET_LENGTH} random characters "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if secret == DEVELOPMENT_SECRET or secret.lower() in {"changeme", "change-me", "secret"}:
            raise SettingsError(
                "booking.secret is the default development secret: export BOOKING_SECRET "
                "with a value of your own"
            )
        if len(secret) < MIN_SECRET_LENGTH:
            raise SettingsError(
                f"booking.secret is too short ({len(secret)} characters): use at least "
                f"{MIN_SECRET_LENGTH}"
            )
    elif not secret:
        secret = DEVELOPMENT_SECRET
    settings["booking.secret"] = secret

    _public_url(settings)
    _data_keys(settings, environ)
    settings["booking.secure_cookies"] = asbool(settings.get("booking.secure_cookies", False))
    settings["booking.gc_freeze"] = asbool(settings.get("booking.gc_freeze", False))
    settings["booking.max_body_bytes"] = _int(
        settings, "booking.max_body_bytes", 1024 * 1024, minimum=1024
    )
    settings["booking.sqlite_busy_timeout_ms"] = _int(
        settings, "booking.sqlite_busy_timeout_ms", 30000, minimum=0
    )
    settings["booking.pg_lock_timeout_ms"] = _int(
        settings, "booking.pg_lock_timeout_ms", 5000, minimum=0
    )
    settings["retry.attempts"] = _int(settings, "retry.attempts", 3, minimum=1, maximum=10)
    settings["booking.clock"] = _clock(settings)
    # Days between an owner's request to delete their business and its purge.
    settings["booking.tenant_deletion_grace_days"] = _int(
        settings, "booking.tenant_deletion_grace_days", 30, minimum=0, maximum=3650)
    # Days an API token works after it is issued.
    settings["booking.api_token_lifetime_days"] = _int(
        settings, "booking.api_token_lifetime_days", 30, minimum=1, maximum=3650)
    # Privacy: days after sending before an email's body is blanked (a
    # body with a secret link is blanked at once).
    settings["booking.outbox_retention_days"] = _int(
        settings, "booking.outbox_retention_days", 30, minimum=0, maximum=3650)
    # Offer emails: mailings a business may send a day, recipients a mailing.
    settings["booking.offer_mailings_per_day"] = _int(
        settings, "booking.offer_mailings_per_day", 2, minimum=0, maximum=1000)
    settings["booking.offer_max_recipients"] = _int(
        settings, "booking.offer_max_recipients", 2000, minimum=1, maximum=1_000_000)
    _mail_settings(settings)
    _maps_settings(settings)
    _payments_settings(settings)
    return settings

"""Parse, validate and coerce the application's settings.

Every setting the app reads is parsed here once, at start-up, so a bad value
stops the process with the key named instead of failing on some later request.
Two secrets may come from the environment instead of the INI file:
``BOOKING_DATABASE_URL`` (fills ``sqlalchemy.url``) and ``BOOKING_SECRET``
(fills ``booking.secret``).
"""

import os

from pyramid.settings import asbool

#: The secret shipped in development.ini. Refused wherever secrets are required.
DEVELOPMENT_SECRET = "development-secret-not-for-production"
MIN_SECRET_LENGTH = 32
ENVIRONMENT_OVERRIDES = {
    "BOOKING_DATABASE_URL": "sqlalchemy.url",
    "BOOKING_SECRET": "booking.secret",
}


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

    settings["booking.secure_cookies"] = asbool(settings.get("booking.secure_cookies", False))
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
    return settings

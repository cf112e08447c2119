"""Helpers for the two-step sign-in: a user's authenticator app set up in
the database, codes of the app at the app's clock, the second step driven
through the site's forms."""

from datetime import timedelta

import pyotp

from booking.models import User
from booking.services.mfa import MfaService

from ..conftest import SHARED_CLOCK
from .site import sign_in


def enrol_totp(db, user_id):
    """Turn on ``user_id``'s authenticator app; its secret and recovery codes."""
    with db.session() as s:
        mfa = MfaService(s, SHARED_CLOCK.now())
        user = s.get(User, user_id)
        secret = mfa.start_totp(user).secret
        codes = mfa.confirm_totp(user, code(secret))
    # The code above is used: the next one must be of a later step.
    SHARED_CLOCK.advance(timedelta(seconds=30))
    return secret, codes


def code(secret, steps=0):
    """The app's code now, or ``steps`` time steps away."""
    return pyotp.TOTP(secret).at(SHARED_CLOCK.now() + timedelta(seconds=30 * steps))


def second_step(testapp, value, status=303):
    form = testapp.get("/two-step").forms["two-step-form"]
    form["code"] = value
    return form.submit(status=status)


def sign_in_with_code(testapp, email, secret):
    """Both steps; the clock moves on a step afterwards, so that the next
    sign-in has a fresh code."""
    response = sign_in(testapp, email)
    assert response.location.endswith("/two-step")
    response = second_step(testapp, code(secret))
    SHARED_CLOCK.advance(timedelta(seconds=30))
    return response

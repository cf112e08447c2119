"""Signing in: one path for the site and the API."""

from sqlalchemy import select

from ..models import User, normalize_email
from ..passwords import burn_verification, verify_password
from .throttle import LoginThrottle


def authenticate(dbsession, now, email, password, address):
    """The user whose email and password these are, or ``None``. Refuses
    (``TooManyAttempts``) while the account or the address is throttled,
    and upgrades an outdated password hash on success."""
    email = normalize_email(email)
    throttle = LoginThrottle(dbsession, now)
    throttle.check(email, address)
    user = dbsession.scalar(select(User).where(User.email == email))
    if user is None:
        burn_verification(password)
        ok = False
    else:
        ok, new_hash = verify_password(password, user.password_hash)
        if ok and new_hash:
            user.password_hash = new_hash
    if not ok:
        throttle.record_failure(email, address)
        return None
    throttle.record_success(email)
    return user

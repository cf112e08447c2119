"""Accounts: signing in and registering, one path for the site and the API."""

import re

from sqlalchemy import select

from ..i18n import DEFAULT_LANGUAGE, _, language_or_default
from ..models import User, normalize_email
from ..passwords import (burn_verification, hash_password, password_problem, personal_words,
                         verify_password)
from .errors import DomainError
from .mfa import has_second_factor
from .security_log import Event, SecurityLog
from .text import one_line_problem
from .throttle import SignInThrottle, TooManyAttempts

EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def authenticate(dbsession, now, email, password, address, known_device=None, via="site"):
    """The user whose email and password these are, or ``None``. The
    attempt is reserved with the throttle before the password is checked,
    and refused (``TooManyAttempts``) while its keys are spent.
    ``known_device(user)`` is this browser's id if ``user`` signed in from
    it before (its attempts are counted apart from strangers'), else
    ``None``. Upgrades an outdated password hash on success. Each outcome
    goes to the security log (``via`` says through what: ``site``, ``api``)."""
    email = normalize_email(email)
    security_log = SecurityLog(dbsession, now)
    user = dbsession.scalar(select(User).where(User.email == email))
    throttle = SignInThrottle(dbsession, now)
    device = known_device(user) if known_device and user is not None else None
    try:
        attempt = throttle.reserve(email, address, device)
    except TooManyAttempts:
        security_log.record(Event.SIGN_IN_THROTTLED, user_id=user and user.id,
                            client_addr=address, email=None if user else email, via=via)
        raise
    if user is None or not user.password_hash:
        # Unknown email, or an account without a password yet (a walk-in
        # customer, an invited member): the same cost as a real check.
        burn_verification(password)
        ok = False
    else:
        ok, new_hash = verify_password(password, user.password_hash)
        if ok and new_hash:
            user.password_hash = new_hash
    if not ok:
        throttle.failed(attempt)
        security_log.record(Event.SIGN_IN_FAILED, user_id=user and user.id, client_addr=address,
                            email=None if user else email, via=via)
        return None
    throttle.succeeded(attempt)
    if user.email_confirmed_at is None:
        # Only who knows the password learns the account exists.
        raise AddressNotConfirmed(_(
            "Confirm your email address first: follow the link we emailed you. No email? "
            "Register again with this address and we send a new link."))
    # With a second factor the sign-in is logged once the second step is
    # passed (MfaService.signed_in), or never.
    event = Event.PASSWORD_ACCEPTED if has_second_factor(dbsession, user) else Event.SIGN_IN
    security_log.record(event, user_id=user.id, client_addr=address, via=via)
    return user


class AddressNotConfirmed(DomainError):
    status = 403
    code = "address_not_confirmed"


def registration_problems(dbsession, name, email, password, phone=""):
    """``{field: message}`` for a new account; empty when all is well."""
    problems = {}
    if not name or not name.strip():
        problems["name"] = _("is required")
    elif len(name) > 200:
        problems["name"] = _("must be at most ${max_length} characters long",
                             mapping={"max_length": 200})
    email = normalize_email(email or "")
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        problems["email"] = _("is not an email address")
    problem = password_problem(password or "", personal_words(email, name))
    if problem:
        problems["password"] = problem
    if len(phone or "") > 40:
        problems["phone"] = _("must be at most ${max_length} characters long",
                              mapping={"max_length": 40})
    for field, value in (("name", name), ("email", email), ("phone", phone)):
        if value and "\x00" in value:
            problems[field] = _("must not contain NUL characters")
        elif value and (problem := one_line_problem(value.strip())):
            problems[field] = problem
    return problems


def register(dbsession, now, name, email, password, phone="", locale=DEFAULT_LANGUAGE):
    """Create the account (the caller checked :func:`registration_problems`
    and that no account has ``email``), its address unconfirmed; ``locale``
    is the language their emails will be in."""
    user = User(email=email, name=name.strip(), phone=(phone or "").strip(),
                password_hash=hash_password(password), created_at=now,
                locale=language_or_default(locale))
    dbsession.add(user)
    dbsession.flush()
    SecurityLog(dbsession, now).record(Event.ACCOUNT_CREATED, user_id=user.id)
    return user

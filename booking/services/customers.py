"""Customers that staff book for: a walk-in or a caller is found by email,
or given an account without a password (``UNUSABLE_PASSWORD``) until its
owner sets one through a password-reset link."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..i18n import _
from ..models import User, normalize_email
from ..passwords import UNUSABLE_PASSWORD
from .accounts import EMAIL_PATTERN
from .errors import ValidationError
from .text import one_line_problem

MAX_NAME, MAX_PHONE, MAX_EMAIL = 200, 40, 254


def _text(value, field, max_length):
    value = (value or "").strip()
    if len(value) > max_length:
        raise ValidationError(_("must be at most ${max_length} characters long",
                                mapping={"max_length": max_length}), field=field)
    if "\x00" in value:
        raise ValidationError(_("must not contain NUL characters"), field=field)
    problem = one_line_problem(value)
    if problem:
        raise ValidationError(problem, field=field)
    return value


def customer_email(email):
    """``email`` normalized, or a ValidationError naming the field."""
    email = normalize_email(_text(email, "email", MAX_EMAIL))
    if not EMAIL_PATTERN.match(email):
        raise ValidationError(_("is not an email address"), field="email")
    return email


def find_or_create_customer(dbsession, email, name, phone, now):
    """The user with this email, or a new one with ``name`` and ``phone``
    and no password yet (they may set one through "forgot your password").
    Returns ``(user, created)``. An existing user's name and phone are kept:
    they are theirs to change."""
    email = customer_email(email)
    name = _text(name, "name", MAX_NAME)
    phone = _text(phone, "phone", MAX_PHONE)
    query = select(User).where(User.email == email)
    user = dbsession.scalar(query)
    if user is not None:
        return user, False
    user = User(email=email, name=name, phone=phone, password_hash=UNUSABLE_PASSWORD,
                created_at=now)
    try:
        with dbsession.begin_nested():  # another desk may create the same customer
            dbsession.add(user)
    except IntegrityError:
        return dbsession.scalar(query), False
    return user, True

"""Customers that staff book for: a walk-in or a caller, named by what the
desk types (a name, a phone number, an address), with no account."""

from ..i18n import _
from ..models import normalize_email
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


def walk_in_contact(email, name, phone):
    """``(name, phone, email)`` of a walk-in, cleaned: any of them may be
    empty, not all."""
    email = customer_email(email) if (email or "").strip() else ""
    name = _text(name, "name", MAX_NAME)
    phone = _text(phone, "phone", MAX_PHONE)
    if not (email or name or phone):
        raise ValidationError(_("give the customer's name, phone number or email address"),
                              field="name")
    return name, phone, email

"""The staff area's promotion forms: an offer, a promo code. Each parser
turns the posted text into the typed fields
:class:`~booking.services.promotions.PromotionService` takes, as
``(values, {field: message})``; the rules themselves (a percentage or an
amount, a window's ends, the venues of the business) are the service's, so
the form and the API refuse the same things with the same words.

Amounts are typed in major units (``5.00``); times of day as ``HH:MM``;
a code's validity as local days of the tenant, ``valid_until`` included.
"""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from ...i18n import _
from ...services.catalog import clock_text
from ...services.slots import wall_instant
from ..forms import day, integer, optional, parse_form
from .forms import parse_price

_TIME = re.compile(r"(\d{1,2}):(\d{2})")
#: The form's names of the fields whose service names differ.
FORM_NAMES = {"from_minute": "from_time", "to_minute": "to_time"}


def time_of_day(value):
    """``"07:30"`` → 450."""
    match = _TIME.fullmatch(value.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(_("must be a time of day, e.g. 07:30"))
    return int(match[1]) * 60 + int(match[2])


def whole(value):
    return integer(from_text=True)(value.strip())


def money(value):
    return parse_price(value)


def _checked_ints(form, name, errors):
    """The values of a group of checkboxes, as integers."""
    chosen = []
    for value in form.getall(name) if hasattr(form, "getall") else form.get(name, []):
        if not isinstance(value, str) or not value.strip().isdigit() or len(value) > 9:
            errors[name] = _("is not one of the choices offered")
            return []
        chosen.append(int(value))
    return chosen


def _checkbox(form, name):
    return form.get(name) == "on"


def _window(form, values, errors):
    values["weekdays"] = _checked_ints(form, "weekdays", errors)
    times, time_errors = parse_form(form, {"from_time": optional(time_of_day),
                                           "to_time": optional(time_of_day)})
    errors.update(time_errors)
    values["from_minute"], values["to_minute"] = times.get("from_time"), times.get("to_time")


def parse_offer(form):
    """The offer form → ``(fields for create_offer, {field: message})``."""
    values, errors = parse_form(form, {
        "name": optional(str, default=""),
        "kind": optional(str, default=""),
        "percent": optional(whole),
        "amount": optional(money),
        "venue_id": optional(whole),
        "resource_id": optional(whole),
        "hours_before": optional(whole),
        "days_ahead": optional(whole),
        "valid_from": optional(day),
        "valid_until": optional(day),
    })
    _window(form, values, errors)
    values["stacks"] = _checkbox(form, "stacks")
    return values, errors


def parse_code(form, time_zone):
    """The code form → ``(fields for create_code, {field: message})``; its
    days become instants: ``valid_from`` at the start of its day,
    ``valid_until`` at the end of its day, in ``time_zone``."""
    values, errors = parse_form(form, {
        "code": optional(str, default=""),
        "percent": optional(whole),
        "amount": optional(money),
        "valid_from": optional(day),
        "valid_until": optional(day),
        "max_uses": optional(whole),
        "max_uses_per_customer": optional(whole),
        "min_seats": optional(whole, default=1),
        "min_amount": optional(money, default=0),
    })
    zone = ZoneInfo(time_zone)
    if values.get("valid_from") is not None:
        values["valid_from"] = wall_instant(values["valid_from"], 0, zone)
    if values.get("valid_until") is not None:
        values["valid_until"] = wall_instant(values["valid_until"] + timedelta(days=1), 0, zone)
    values["venue_ids"] = _checked_ints(form, "venue_ids", errors)
    values["resource_ids"] = _checked_ints(form, "resource_ids", errors)
    _window(form, values, errors)
    values["first_booking_only"] = _checkbox(form, "first_booking_only")
    return values, errors


def service_names(errors):
    """The form's ``{field: message}`` under the service's names."""
    names = {form: field for field, form in FORM_NAMES.items()}
    return {names.get(field, field): message for field, message in errors.items()}


def form_errors(errors):
    """The service's ``{field: message}`` under the form's names."""
    return {FORM_NAMES.get(field, field): message for field, message in errors.items()}


def typed(form):
    """What the visitor typed, to show the form again: text fields as
    they were, checkbox groups as sets of their values."""
    shown = {name: value for name, value in form.items() if isinstance(value, str)}
    for group in ("weekdays", "venue_ids", "resource_ids"):
        shown[group] = set(form.getall(group)) if hasattr(form, "getall") else set()
    return shown


def discount_text(row, currency, format_money):
    """``20 %`` or ``€5.00`` (via the request's money format)."""
    if row.percent is not None:
        return f"{row.percent} %"
    return format_money(row.amount, currency)


def window_text(row):
    """``08:00–12:00`` or an empty string."""
    if row.from_minute is None:
        return ""
    return f"{clock_text(row.from_minute)}–{clock_text(row.to_minute)}"


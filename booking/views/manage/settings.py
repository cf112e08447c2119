"""``/t/{slug}/manage/settings``: the tenant's name, time zone, currency,
booking policy, refund policy and how long customers' contact details
are kept. Owners and managers change them; every
change is audited with its old and new values."""

from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision, list_currencies
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config, view_defaults

from ...i18n import _
from ...resources.manage import ManageContext
from ...security import Permission
from ...services.business import SETTINGS, BusinessService
from ...services.policy import REFUND_POLICIES
from ...services.pricing import MOVE_PRICING
from ...services.slots import valid_time_zone
from ..forms import Field, integer, line, parse_form
from . import ManageView

MAX_REMINDERS = 5
MAX_REMINDER_HOURS = 720
MAX_WINDOW_HOURS = 8760


def hours_to_minutes(text, minimum, maximum):
    """Hours (``"24"``, ``"1.5"``) as whole minutes, within the bounds."""
    try:
        hours = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(_("must be a number of hours")) from None
    if not hours.is_finite():
        raise ValueError(_("must be a number of hours"))
    if hours < minimum or hours > maximum:
        raise ValueError(_("must be between ${minimum} and ${maximum} hours",
                           mapping={"minimum": minimum, "maximum": maximum}))
    minutes = hours * 60
    if minutes != minutes.to_integral_value():
        raise ValueError(_("must be a whole number of minutes"))
    return int(minutes)


def cancellation_window(value):
    return hours_to_minutes(value, 0, MAX_WINDOW_HOURS)


def reminder_offsets(value):
    """``"24, 2"`` → ``[1440, 120]``: deduplicated, latest first."""
    parts = [part for part in value.split(",") if part.strip()]
    minutes = sorted({hours_to_minutes(part, 1, MAX_REMINDER_HOURS) for part in parts},
                     reverse=True)
    if len(minutes) > MAX_REMINDERS:
        raise ValueError(_("must list at most ${count} reminders",
                           mapping={"count": MAX_REMINDERS}))
    return minutes


def time_zone_name(value):
    value = value.strip()
    if not valid_time_zone(value):
        raise ValueError(_("is not a known IANA time zone, e.g. Europe/Paris"))
    return value


def currency(value):
    value = value.strip().upper()
    if len(value) != 3 or not value.isascii() or value not in list_currencies():
        raise ValueError(_("is not an ISO 4217 currency code, e.g. EUR"))
    if get_currency_precision(value) != 2:
        # Prices are stored in hundredths everywhere (see docs/decisions.md).
        raise ValueError(_("must be a currency with cents (two decimals), e.g. EUR or USD"))
    return value


def move_pricing(value):
    value = value.strip().lower()
    if value not in MOVE_PRICING:
        raise ValueError(_("must be one of ${choices}",
                           mapping={"choices": ", ".join(MOVE_PRICING)}))
    return value


def refund_policy(value):
    value = value.strip().lower()
    if value not in REFUND_POLICIES:
        raise ValueError(_("must be one of ${choices}",
                           mapping={"choices": ", ".join(REFUND_POLICIES)}))
    return value


FIELDS = {
    "name": Field(line(200, min_length=1)),
    "time_zone": Field(time_zone_name),
    "currency": Field(currency),
    "cancellation_window_minutes": Field(cancellation_window),
    "hold_minutes": Field(integer(minimum=1, maximum=1440, from_text=True)),
    "reminder_offsets": Field(reminder_offsets, required=False, default=()),
    "refund_policy": Field(refund_policy),
    "move_pricing": Field(move_pricing),
    #: Empty: keep the customers' contact details of past bookings.
    "personal_data_days": Field(integer(minimum=1, maximum=36500, from_text=True),
                                required=False, default=None),
}
#: Read only with a partial refund policy; the other policies keep the
#: tenant's percent unchanged (it is used again if partial comes back).
REFUND_PERCENT = Field(integer(minimum=0, maximum=100, from_text=True))


def parse_settings(data, tenant):
    """The form's clean values and ``{field: message}``."""
    clean, errors = parse_form(data, FIELDS)
    if clean.get("refund_policy") == "partial":
        percent, problems = parse_form(data, {"refund_percent": REFUND_PERCENT})
        clean.update(percent)
        errors.update(problems)
    else:
        clean["refund_percent"] = tenant.refund_percent
    clean["require_mfa"] = data.get("require_mfa") == "on"  # a checkbox
    clean["release_code_on_cancel"] = data.get("release_code_on_cancel") == "on"
    return clean, errors


def hours_text(minutes):
    hours = Decimal(minutes) / 60
    return str(hours.quantize(Decimal(1)) if hours == hours.to_integral_value()
               else hours.normalize())


def form_values(tenant):
    """The tenant's settings as the form shows them."""
    return {
        "name": tenant.name, "time_zone": tenant.time_zone, "currency": tenant.currency,
        "cancellation_window_minutes": hours_text(tenant.cancellation_window_minutes),
        "hold_minutes": str(tenant.hold_minutes),
        "reminder_offsets": ", ".join(hours_text(m) for m in tenant.reminder_offsets or []),
        "refund_policy": tenant.refund_policy, "refund_percent": str(tenant.refund_percent),
        "personal_data_days": ("" if tenant.personal_data_days is None
                               else str(tenant.personal_data_days)),
        "require_mfa": tenant.require_mfa,
        "move_pricing": tenant.move_pricing,
        "release_code_on_cancel": tenant.release_code_on_cancel,
    }


@view_defaults(context=ManageContext, name="settings", permission=Permission.ADMIN)
class SettingsViews(ManageView):
    def form(self, values, errors=None, status=200):
        return self.page("manage/settings.jinja2", status=status, values=values,
                         errors=errors or {})

    @view_config(request_method="GET")
    def show(self):
        return self.form(form_values(self.tenant))

    @view_config(request_method="POST")
    def save(self):
        request, tenant = self.request, self.tenant
        clean, errors = parse_settings(request.POST, tenant)
        if errors:
            values = {key: request.POST.get(key, "") for key in SETTINGS}
            return self.form(values, errors, status=400)
        clean["reminder_offsets"] = list(clean["reminder_offsets"])
        request.find_service(BusinessService).save_settings(tenant, clean, self.user.id)
        request.session.flash(request.translate(_("The settings are saved.")))
        return HTTPSeeOther(self.url("settings"))

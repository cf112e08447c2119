"""``/signup``: a business signs up. A signed-in user becomes the owner as
themselves and lands on the staff dashboard's setup checklist. A visitor
makes their account in the same form and is told to check their email,
whether or not the address had an account (see
:meth:`SignupService.sign_up_visitor`): they sign in by confirming it."""

from zoneinfo import available_timezones

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.view import view_config, view_defaults

from ..i18n import LANGUAGES, _
from ..resources import SignupContext
from ..security import Permission
from ..services.onboarding import SlugTaken, TooManySignups, suggest_slug
from ..services.registration import SignupService
from ..services.throttle import TooManyAttempts
from .auth import form_text


DEFAULT_ZONE = "UTC"
DEFAULT_CURRENCY = "EUR"
#: Offered first in the currency list; any ISO 4217 code with cents is accepted.
COMMON_CURRENCIES = ("EUR", "USD", "GBP", "CHF", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN")
#: The form's fields and their lengths: the business's, then the owner's.
BUSINESS_FIELDS = {"name": 200, "slug": 100, "time_zone": 64, "currency": 10, "locale": 10}
OWNER_FIELDS = {"owner_name": 200, "email": 254, "password": 1024}


@view_defaults(context=SignupContext, permission=Permission.VIEW)
class SignupView:
    def __init__(self, context, request):
        self.context = context
        self.request = request
        self.user = request.identity.user if request.identity is not None else None

    def form(self, values, errors=None, status=200, message=None, sent=False):
        response = render_to_response("signup/form.jinja2", {
            "values": values, "errors": errors or {}, "message": message, "user": self.user,
            "sent": sent,
            "languages": LANGUAGES, "zones": sorted(available_timezones()),
            "currencies": COMMON_CURRENCIES,
        }, request=self.request)
        response.status_int = status
        return response

    @view_config(request_method="GET")
    def show(self):
        zone = self.request.viewer_zone
        return self.form({
            "name": "", "slug": "", "owner_name": "", "email": "",
            "time_zone": zone.key if zone is not None else DEFAULT_ZONE,
            "currency": DEFAULT_CURRENCY, "locale": self.request.locale_name,
        })

    @view_config(request_method="POST")
    def submit(self):
        request = self.request
        fields = BUSINESS_FIELDS if self.user else {**BUSINESS_FIELDS, **OWNER_FIELDS}
        values = {key: form_text(request, key, limit) for key, limit in fields.items()}
        password = values.pop("password", "")
        values = {key: value.strip() for key, value in values.items()}
        values["slug"] = values["slug"].lower()
        values["currency"] = values["currency"].upper()
        signup = request.find_service(SignupService)
        try:
            signup.check_allowed(request.client_addr)
        except TooManySignups as exc:
            response = self.form(values, status=429, message=exc.message)
            response.headers["Retry-After"] = str(exc.extra["retry_after"])
            return response
        errors = signup.problems(values, password if self.user is None else None)
        if not values["slug"]:
            # Suggest one, the visitor confirms it by sending the form again.
            values["slug"] = suggest_slug(values["name"])
            errors["slug"] = _("is required: we suggest one made of the name")
        if errors:
            return self.form(values, errors, status=400)
        try:
            if self.user is None:
                signup.sign_up_visitor(values, password, request.client_addr)
                return self.form(values, sent=True)
            tenant = signup.sign_up(values, request.client_addr, self.user)
        except SlugTaken as exc:
            return self.form(values, {"slug": exc.message}, status=409)
        except TooManyAttempts as exc:
            response = self.form(values, status=429, message=exc.message)
            response.headers["Retry-After"] = str(exc.extra["retry_after"])
            return response
        request.session.flash(request.translate(_(
            "Welcome! ${business} is ready: follow the checklist to take your first bookings.",
            mapping={"business": tenant.name})))
        return HTTPSeeOther(request.resource_url(request.root, "t", tenant.slug, "manage", ""))

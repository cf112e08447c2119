"""My account → Two-step sign-in: set up an authenticator app (a QR code
and the secret as text, confirmed with a code), recovery codes (shown once),
passkeys (add, name, remove); turn the app off."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.response import Response
from pyramid.view import view_config, view_defaults

from ..i18n import _
from ..resources import AccountContext
from ..second_factor import mark_passed
from ..security import Permission
from ..services.errors import ValidationError
from ..services.mfa import MfaService
from ..services.passkeys import PasskeyRefused, PasskeyService
from ..services.throttle import TooManyAttempts
from .auth import form_text, safe_next
from .forms import integer
from .two_step import (
    json_answer,
    json_error,
    keep_challenge,
    posted_credential,
    relying_party,
    take_challenge,
)


@view_defaults(context=AccountContext, permission=Permission.VIEW)
class TwoStepSettings:
    def __init__(self, context, request):
        self.context = context
        self.request = request
        self.user = request.identity.user
        self.mfa = request.find_service(MfaService)
        self.next_url = safe_next(request, request.params.get("next")) \
            if request.params.get("next") else None

    def url(self, *elements):
        query = {"next": self.next_url} if self.next_url else None
        return self.request.resource_url(self.context, *elements, query=query)

    def page(self, status=200, **data):
        request = self.request
        data = {"factors": self.mfa.factors(self.user), "enrolment": self.mfa.enrolment(self.user),
                "passkeys": request.find_service(PasskeyService).passkeys(self.user),
                "next": self.next_url, "errors": {}, "recovery_codes": None, **data}
        response = render_to_response("account/two_step_settings.jinja2", data, request=request)
        response.status_int = status
        return response

    def done(self, message):
        self.request.session.flash(self.request.translate(message))
        return HTTPSeeOther(self.url("two-step"))

    @view_config(name="two-step", request_method="GET")
    def show(self):
        # A first passkey's recovery codes, kept for this one page.
        return self.page(recovery_codes=self.request.session.pop("new_recovery_codes", None))

    @view_config(name="totp-start", request_method="POST")
    def start(self):
        try:
            self.mfa.start_totp(self.user)
        except ValidationError as exc:
            return self.page(status=400, errors={"totp": exc.message})
        return HTTPSeeOther(self.url("two-step") + "#totp")

    @view_config(name="totp-confirm", request_method="POST")
    def confirm(self):
        try:
            codes = self.mfa.confirm_totp(self.user, form_text(self.request, "code", 64))
        except TooManyAttempts as exc:
            return self.page(status=429, errors={"code": exc.message})
        except ValidationError as exc:
            return self.page(status=400, errors={"code": exc.message})
        mark_passed(self.request)  # they just proved they hold it
        self.request.session.flash(self.request.translate(
            _("Two-step sign-in is on: from now on you sign in with a code of your app.")))
        return self.page(recovery_codes=codes) if codes else self.done(
            _("Your app is set up."))

    @view_config(name="totp-disable", request_method="POST")
    def disable(self):
        request = self.request
        try:
            self.mfa.disable_totp(self.user, password=form_text(request, "password", 1024),
                                  code=form_text(request, "code", 64))
        except TooManyAttempts as exc:
            return self.page(status=429, errors={"disable": exc.message})
        except ValidationError as exc:
            return self.page(status=400, errors={"disable": exc.message})
        return self.done(_("The authenticator app is turned off."))

    @view_config(name="recovery-codes", request_method="POST")
    def regenerate(self):
        if not self.mfa.has_second_factor(self.user):
            return self.page(status=400, errors={"recovery": _(
                "Recovery codes come with two-step sign-in: set up an app or a passkey first.")})
        return self.page(recovery_codes=self.mfa.new_recovery_codes(self.user))

    @view_config(name="passkey-options", request_method="POST")
    def passkey_options(self):
        options, challenge = self.request.find_service(PasskeyService).registration_options(
            self.user, relying_party(self.request))
        keep_challenge(self.request, "register", challenge)
        return Response(options, charset="utf-8", content_type="application/json")

    @view_config(name="passkey-add", request_method="POST")
    def passkey_add(self):
        request = self.request
        challenge = take_challenge(request, "register")
        body = posted_credential(request)
        if challenge is None or body is None or not isinstance(body.get("credential"), dict):
            return json_error(request, 400, "expired", _("The passkey request expired: try again."))
        name = body.get("name") if isinstance(body.get("name"), str) else ""
        try:
            codes = request.find_service(PasskeyService).register(
                self.user, relying_party(request), body["credential"], challenge, name)
        except PasskeyRefused as exc:
            return json_error(request, 400, exc.code, exc.message)
        mark_passed(request)
        request.session.flash(request.translate(_("Your passkey is added.")))
        if codes:
            # Shown once, on the page the script opens next.
            request.session["new_recovery_codes"] = codes
        return json_answer(201, next=self.url("two-step"))

    @view_config(name="passkey-remove", request_method="POST")
    def passkey_remove(self):
        try:
            passkey_id = integer(minimum=1, from_text=True)(self.request.POST.get("passkey", ""))
        except ValueError:
            passkey_id = 0
        if not self.request.find_service(PasskeyService).remove(self.user, passkey_id):
            return self.page(status=404, errors={"passkeys": _("No such passkey of yours.")})
        return self.done(_("The passkey is removed."))

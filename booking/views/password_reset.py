"""Forgotten passwords: ``/account/forgot`` asks for a link by email,
``/reset/{secret}`` sets a new password with it and signs in. A used,
expired or unknown link is not found (the tree answers 404)."""

from pyramid.httpexceptions import HTTPNotFound
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config, view_defaults

from ..i18n import _
from ..passwords import new_password_problems, personal_words
from ..resources import AccountContext, PasswordResetContext
from ..security import Permission
from ..services.errors import ValidationError
from ..services.password_reset import PasswordResetService
from ..services.throttle import TooManyAttempts
from .auth import form_text, password_accepted

def no_secret_leaks(response):
    """A page whose URL holds a secret: not cached, not sent as a referrer."""
    response.cache_control.no_store = True
    response.headers["Referrer-Policy"] = "no-referrer"


def service(request):
    return request.find_service(PasswordResetService)


@view_config(context=AccountContext, name="forgot", renderer="account/forgot.jinja2",
             permission=NO_PERMISSION_REQUIRED)
def forgot(context, request):
    email, errors, error, sent = "", {}, None, None
    if request.method == "POST":
        email = form_text(request, "email", 255).strip()
        try:
            service(request).request_reset(email, request.client_addr)
        except ValidationError as exc:
            errors[exc.field] = exc.message
            request.response.status_int = 400
        except TooManyAttempts as exc:
            request.tm.doom()
            error = exc.message
            request.response.status_int = 429
            request.response.headers["Retry-After"] = str(exc.extra["retry_after"])
        else:
            sent = _("If an account exists for ${email}, we have sent it a link to choose a "
                     "new password. The link works once, for one hour.",
                     mapping={"email": email})
    return {"email": email, "errors": errors, "error": error, "sent": sent}


@view_defaults(context=PasswordResetContext, renderer="account/reset.jinja2",
               permission=Permission.VIEW)
class ResetViews:
    def __init__(self, context, request):
        self.context = context
        self.request = request
        no_secret_leaks(request.response)

    @view_config(request_method="GET")
    def show(self):
        return {"user": self.context.token.user, "errors": {}}

    @view_config(request_method="POST")
    def reset(self):
        request = self.request
        password = form_text(request, "password", 1025)
        confirm = form_text(request, "confirm", 1025)
        user = self.context.token.user
        errors = new_password_problems(password, confirm, personal_words(user.email, user.name))
        if errors:
            request.response.status_int = 400
            return {"user": self.context.token.user, "errors": errors}
        user = service(request).reset(self.context.token, password)
        if user is None:  # the same link, used at the same moment by another request
            raise HTTPNotFound()
        response = password_accepted(request, user, request.resource_url(request.root, "account", ""),
                                     welcome=_("Your new password is set. You are signed in."))
        no_secret_leaks(response)
        return response

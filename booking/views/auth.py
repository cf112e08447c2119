"""Sign in and out of the site (session cookie)."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED, forget, remember
from pyramid.view import view_config

from ..i18n import _
from ..resources import Root
from ..services.accounts import AddressNotConfirmed
from ..services.registration import AccountService
from ..services.errors import ValidationError
from ..services.throttle import TooManyAttempts


def safe_next(request, value):
    """Only redirect within this site, to a path without control characters."""
    if (
        isinstance(value, str)
        and value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and value.isascii()
        and value.isprintable()
    ):
        return value
    return request.resource_url(request.root)


def form_text(request, name, limit):
    """A text field of the posted form ('' when absent); a file is refused."""
    value = request.POST.get(name, "")
    if not isinstance(value, str):
        raise ValidationError(_("must be text"), field=name)
    if "\x00" in value:
        raise ValidationError(_("must not contain NUL characters"), field=name)
    return value[:limit]


def sign_in(request, user):
    return remember(request, user.id, epoch=user.session_epoch)


@view_config(context=Root, name="login", renderer="account/login.jinja2",
             permission=NO_PERMISSION_REQUIRED)
def login(context, request):
    next_url = safe_next(request, request.params.get("next"))
    email = ""
    error = None
    if request.method == "POST":
        email = form_text(request, "email", 254)
        password = form_text(request, "password", 1024)
        try:
            user = request.find_service(AccountService).authenticate(email, password,
                                                                     request.client_addr)
        except TooManyAttempts as exc:
            user, error = None, exc.message
            request.response.status_int = 429
            request.response.headers["Retry-After"] = str(exc.extra["retry_after"])
        except AddressNotConfirmed as exc:  # told only to who knows the password
            user, error = None, exc.message
            request.response.status_int = exc.status
        else:
            if user is not None:
                return HTTPSeeOther(next_url, headers=sign_in(request, user))
            error = _("The email or the password is wrong.")
            request.response.status_int = 400
    return {"next": next_url, "email": email, "error": error}


@view_config(context=Root, name="logout", request_method="POST",
             permission=NO_PERMISSION_REQUIRED)
def logout(context, request):
    headers = forget(request)
    return HTTPSeeOther(request.resource_url(request.root), headers=headers)

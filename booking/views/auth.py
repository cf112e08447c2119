"""Sign in and out of the site (session cookie)."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED, forget, remember
from pyramid.view import view_config

from ..i18n import _
from ..resources import Root
from ..services import devices
from ..second_factor import mark_passed, start_pending
from ..services.mfa import MfaService
from ..services.accounts import AddressNotConfirmed
from ..services.registration import AccountService
from ..services.errors import ValidationError
from ..services.sessions import SessionService
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


def sign_in(request, user, second_factor=False):
    """Open a session for ``user`` in this browser (a ``user_sessions``
    row, whose secret the signed cookie carries), and mark the browser as
    one of their known devices. ``second_factor``: they passed a second
    step, which the staff areas that require one look for."""
    remember_device(request, user)
    secret = request.find_service(SessionService).start(user, request.user_agent)
    headers = remember(request, user.id, session=secret)
    if second_factor:
        mark_passed(request)
    return headers


def needs_second_step(request, user):
    return request.find_service(MfaService).has_second_factor(user)


def password_accepted(request, user, next_url, welcome=None):
    """The answer to a right password (or a proof of the address, such as a
    reset or confirmation link): a session for ``user`` and a redirect to
    ``next_url`` with the ``welcome`` flash, or, when they have a second
    factor, the second step first. Every way of signing in with a password
    ends here, so none of them skips the second step."""
    if needs_second_step(request, user):
        start_pending(request, user, next_url)  # not signed in yet
        return HTTPSeeOther(request.resource_url(request.root, "two-step"))
    headers = sign_in(request, user)
    if welcome is not None:
        request.session.flash(request.translate(welcome))
    return HTTPSeeOther(next_url, headers=headers)


def known_device_cookie(request):
    return request.cookies.get(devices.COOKIE)


def remember_device(request, user):
    """Mark this browser as a known device of ``user`` (an HttpOnly cookie
    on whatever response the request ends with)."""
    value = request.find_service(AccountService).remember_device(user, known_device_cookie(request))
    secure = request.registry.settings["booking.secure_cookies"]

    def set_cookie(request, response):
        response.set_cookie(devices.COOKIE, value, max_age=devices.MAX_AGE, path="/",
                            httponly=True, secure=secure, samesite="Lax")
    request.add_response_callback(set_cookie)


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
            user = request.find_service(AccountService).authenticate(
                email, password, request.client_addr, known_device_cookie(request))
        except TooManyAttempts as exc:
            user, error = None, exc.message
            request.response.status_int = 429
            request.response.headers["Retry-After"] = str(exc.extra["retry_after"])
        except AddressNotConfirmed as exc:  # told only to who knows the password
            user, error = None, exc.message
            request.response.status_int = exc.status
        else:
            if user is not None:
                return password_accepted(request, user, next_url)
            error = _("The email or the password is wrong.")
            request.response.status_int = 400
    return {"next": next_url, "email": email, "error": error}


@view_config(context=Root, name="logout", request_method="POST",
             permission=NO_PERMISSION_REQUIRED)
def logout(context, request):
    identity = request.identity
    if identity is not None and identity.session_id is not None:
        request.find_service(SessionService).sign_out(identity.user.id, identity.session_id,
                                                      request.client_addr)
    headers = forget(request)
    return HTTPSeeOther(request.resource_url(request.root), headers=headers)

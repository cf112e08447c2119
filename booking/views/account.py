"""A visitor's account: register, profile, password, language."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from ..i18n import LANGUAGES, LOCALE_COOKIE, _
from ..resources import AccountContext, Root
from ..second_factor import passed
from ..security import Permission
from ..services.registration import AccountService
from .auth import form_text, safe_next, sign_in
from .forms import Field, line, optional, parse_form

PROFILE_FIELDS = {"name": Field(line(200, min_length=1)), "phone": optional(line(40), default="")}


@view_config(context=Root, name="register", renderer="account/register.jinja2",
             permission=NO_PERMISSION_REQUIRED)
def register_view(context, request):
    next_url = safe_next(request, request.params.get("next"))
    values = {"name": "", "email": "", "phone": ""}
    errors = {}
    if request.method == "POST":
        values = {"name": form_text(request, "name", 200), "email": form_text(request, "email", 254),
                  "phone": form_text(request, "phone", 40)}
        password = form_text(request, "password", 1024)
        accounts = request.find_service(AccountService)
        errors = accounts.registration_problems(values["name"], values["email"], password,
                                                values["phone"])
        if not errors:
            user = accounts.register(values["name"], values["email"], password, values["phone"],
                                     locale=request.locale_name)
            sign_in(request, user)
            request.session.flash(request.translate(_("Welcome! Your account is ready.")))
            return HTTPSeeOther(next_url)
        request.response.status_int = 400
    return {"values": values, "errors": errors, "next": next_url}


@view_config(context=AccountContext, renderer="account/profile.jinja2",
             permission=Permission.VIEW)
def profile(context, request):
    user = request.identity.user
    values = {"name": user.name, "phone": user.phone}
    errors = {}
    if request.method == "POST":
        values = {key: form_text(request, key, 1000).strip() for key in PROFILE_FIELDS}
        clean, errors = parse_form(values, PROFILE_FIELDS)
        if not errors:
            user.name, user.phone = clean["name"], clean["phone"]
            request.session.flash(request.translate(_("Your details are saved.")))
            return HTTPSeeOther(request.resource_url(context))
        request.response.status_int = 400
    return {"user": user, "values": values, "errors": errors}


@view_config(context=AccountContext, name="password", renderer="account/password.jinja2",
             permission=Permission.VIEW)
def change_password(context, request):
    errors = {}
    if request.method == "POST":
        user = request.identity.user
        current = form_text(request, "current", 1024)
        new = form_text(request, "new", 1024)
        confirm = form_text(request, "confirm", 1024)
        errors = request.find_service(AccountService).change_password(user, current, new,
                                                                      confirm, request.client_addr)
        if not errors:  # every session has ended: this browser gets a new one
            sign_in(request, user, second_factor=passed(request))
            request.session.flash(request.translate(_("Your password is changed.")))
            return HTTPSeeOther(request.resource_url(context))
        request.response.status_int = 400
    return {"errors": errors}


@view_config(context=Root, name="language", request_method="POST",
             permission=NO_PERMISSION_REQUIRED)
def choose_language(context, request):
    language = request.POST.get("language")
    response = HTTPSeeOther(safe_next(request, request.POST.get("next")))
    if language in LANGUAGES:
        if request.identity is not None:  # their emails follow the site's language
            request.identity.user.locale = language
        response.set_cookie(LOCALE_COOKIE, language, max_age=365 * 24 * 3600,
                            samesite="Lax", httponly=True,
                            secure=request.registry.settings["booking.secure_cookies"])
    return response

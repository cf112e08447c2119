"""A visitor's account: register, profile, password, language."""

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from ..i18n import LANGUAGES, LOCALE_COOKIE, _
from ..resources import AccountContext, Root
from ..second_factor import passed
from ..security import Permission
from ..services.errors import ValidationError
from ..services.registration import AccountService
from ..services.team import TeamService
from ..services.throttle import TooManyAttempts
from .auth import form_text, safe_next, sign_in
from .forms import Field, integer, line, optional, parse_form

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
            try:
                # The same answer whether or not the address has an account.
                accounts.register(values["name"], values["email"], password,
                                  request.client_addr, values["phone"],
                                  locale=request.locale_name)
            except TooManyAttempts as exc:
                request.response.status_int = 429
                request.response.headers["Retry-After"] = str(exc.extra["retry_after"])
                return {"values": values, "errors": {}, "next": next_url,
                        "message": exc.message}
            return {"values": values, "errors": {}, "next": next_url, "sent": True}
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
    return {"user": user, "values": values, "errors": errors,
            "invitations": request.find_service(TeamService).invitations_of(user)}


@view_config(context=AccountContext, name="invitation", request_method="POST",
             permission=Permission.VIEW)
def answer_invitation(context, request):
    """Accept or decline an invitation to a team (``membership``, ``answer``)."""
    answer = request.POST.get("answer")
    if answer not in ("accept", "decline"):
        raise ValidationError(_("must be accept or decline"), field="answer")
    clean, errors = parse_form(request.POST, {
        "membership": Field(integer(minimum=1, from_text=True)),
        "answer": Field(str),
    })
    if errors:
        field, message = next(iter(errors.items()))
        raise ValidationError(message, field=field)
    accept = answer == "accept"
    tenant = request.find_service(TeamService).answer_invitation(
        request.identity.user, clean["membership"], accept)
    if tenant is None:
        raise HTTPNotFound()
    if accept:
        request.session.flash(request.translate(_(
            "You have joined the team of ${business}.", mapping={"business": tenant.name})))
        return HTTPSeeOther(request.resource_url(request.root, "t", tenant.slug, "manage", ""))
    request.session.flash(request.translate(_(
        "You have declined the invitation of ${business}.", mapping={"business": tenant.name})))
    return HTTPSeeOther(request.resource_url(context))


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

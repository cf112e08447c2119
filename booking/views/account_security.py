"""``/account/security``: the signed-in user's browsers and API tokens.
Each can be ended; "sign out everywhere" ends them all, this browser too."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import forget
from pyramid.view import view_config

from ..i18n import _
from ..resources import AccountContext
from ..security import Permission
from ..services.api_tokens import ApiTokenService
from ..services.sessions import SessionService
from .forms import Field, integer, parse_form

ROW_ID = {"id": Field(integer(minimum=1, from_text=True))}


def row_id(request):
    """The ``id`` of the posted form, or ``None`` when it is not one."""
    clean, errors = parse_form(request.POST, ROW_ID)
    return None if errors else clean["id"]


def back(request, context, message):
    request.session.flash(request.translate(message))
    return HTTPSeeOther(request.resource_url(context, "security"))


@view_config(context=AccountContext, name="security", request_method="GET",
             renderer="account/security.jinja2", permission=Permission.VIEW)
def security_page(context, request):
    identity = request.identity
    return {
        "sessions": request.find_service(SessionService).live_sessions(identity.user),
        "current_session": identity.session_id,
        "tokens": request.find_service(ApiTokenService).tokens_of(identity.user),
    }


@view_config(context=AccountContext, name="end-session", request_method="POST",
             permission=Permission.VIEW)
def end_session(context, request):
    identity = request.identity
    session_id = row_id(request)
    if session_id is None or not request.find_service(SessionService).end(
            identity.user, session_id, request.client_addr):
        return back(request, context, _("That session had already ended."))
    if session_id == identity.session_id:  # they ended this browser's own
        return HTTPSeeOther(request.resource_url(request.root), headers=forget(request))
    return back(request, context, _("The session is ended: that browser is signed out."))


@view_config(context=AccountContext, name="sign-out-everywhere", request_method="POST",
             permission=Permission.VIEW)
def sign_out_everywhere(context, request):
    identity = request.identity
    request.find_service(SessionService).sign_out_everywhere(identity.user, request.client_addr)
    headers = forget(request)
    request.session.flash(request.translate(
        _("You are signed out everywhere, and your API tokens are revoked.")))
    return HTTPSeeOther(request.resource_url(request.root, "login"), headers=headers)


@view_config(context=AccountContext, name="revoke-token", request_method="POST",
             permission=Permission.VIEW)
def revoke_token(context, request):
    identity = request.identity
    token_id = row_id(request)
    if token_id is None or not request.find_service(ApiTokenService).revoke(
            identity.user.id, token_id, request.client_addr):
        return back(request, context, _("That token was already revoked."))
    return back(request, context, _("The token is revoked."))


@view_config(context=AccountContext, name="revoke-tokens", request_method="POST",
             permission=Permission.VIEW)
def revoke_tokens(context, request):
    identity = request.identity
    request.find_service(ApiTokenService).revoke_all(identity.user, request.client_addr)
    return back(request, context, _("Every API token of yours is revoked."))

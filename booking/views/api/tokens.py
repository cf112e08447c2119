"""Bearer tokens: sign in with email and password (the token and when it
expires), revoke the token in use."""

from pyramid.httpexceptions import HTTPNoContent
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config
from ...i18n import _
from ...resources import TokenCollection
from ...services.api_tokens import ApiTokenService
from ...services.mfa import SecondStepRefused, SecondStepRequired
from ..errors import error_response
from ..forms import Field, json_body, parse, string


@view_config(context=TokenCollection, route_name="api", request_method="POST", renderer="json",
             permission=NO_PERMISSION_REQUIRED, require_csrf=False)
def create_token(context, request):
    data = parse(json_body(request), {
        "email": Field(string(254, min_length=1)),
        "password": Field(string(1024, min_length=1, strip=False)),
        "otp": Field(string(64), required=False, default=""),
    })
    try:
        issued = request.find_service(ApiTokenService).sign_in(
            data["email"], data["password"], request.client_addr, otp=data["otp"])
    except (SecondStepRequired, SecondStepRefused) as exc:
        # Answered, not raised: the failure counted by the throttle is kept.
        return error_response(request, exc.status, exc.code, exc.message, exc.field)
    if issued is None:
        return error_response(request, 401, "invalid_credentials", _("The email or the password is wrong."))
    request.response.status_int = 201
    return {"token": issued.secret, "expires_at": issued.expires_at.isoformat()}


@view_config(context=TokenCollection, name="current", route_name="api", request_method="DELETE",
             permission=NO_PERMISSION_REQUIRED)
def revoke_token(context, request):
    identity = request.identity
    if identity is None or identity.method != "token":
        return error_response(request, 401, "unauthorized",
                              _("Send the token to revoke as 'Authorization: Bearer <token>'."))
    request.find_service(ApiTokenService).revoke(identity.user.id, identity.token_id,
                                                 request.client_addr)
    return HTTPNoContent()

"""Bearer tokens: sign in with email and password, revoke the token in use."""

from pyramid.httpexceptions import HTTPNoContent
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config
from sqlalchemy import update

from ...i18n import _
from ...models import ApiToken
from ...services.accounts import authenticate
from ...resources import TokenCollection
from ...security import new_api_token
from ..errors import error_response
from ..forms import Field, json_body, parse, string


@view_config(context=TokenCollection, route_name="api", request_method="POST", renderer="json",
             permission=NO_PERMISSION_REQUIRED, require_csrf=False)
def create_token(context, request):
    data = parse(json_body(request), {
        "email": Field(string(254, min_length=1)),
        "password": Field(string(1024, min_length=1, strip=False)),
    })
    user = authenticate(request.dbsession, request.now, data["email"], data["password"],
                        request.client_addr)
    if user is None:
        return error_response(request, 401, "invalid_credentials", _("The email or the password is wrong."))
    token = new_api_token(request.dbsession, user, request.now)
    request.response.status_int = 201
    return {"token": token}


@view_config(context=TokenCollection, name="current", route_name="api", request_method="DELETE",
             permission=NO_PERMISSION_REQUIRED)
def revoke_token(context, request):
    identity = request.identity
    if identity is None or identity.method != "token":
        return error_response(request, 401, "unauthorized",
                              _("Send the token to revoke as 'Authorization: Bearer <token>'."))
    request.dbsession.execute(
        update(ApiToken).where(ApiToken.id == identity.token_id).values(revoked_at=request.now)
    )
    return HTTPNoContent()

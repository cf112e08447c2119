"""A person's own data, from My account: download it (JSON) or erase the
account. The rules are :class:`~booking.services.privacy.PrivacyService`'s."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.response import Response
from pyramid.security import forget
from pyramid.view import view_config

from ..i18n import _
from ..resources import AccountContext
from ..security import Permission
from ..services.errors import DomainError
from ..services.privacy import PrivacyService
from .auth import form_text


@view_config(context=AccountContext, name="data", request_method="GET",
             permission=Permission.VIEW)
def download_my_data(context, request):
    data = request.find_service(PrivacyService).export_account(request.identity.user)
    return Response(json_body=data, charset="utf-8",
                    content_disposition='attachment; filename="my-booking-data.json"')


@view_config(context=AccountContext, name="erase", renderer="account/erase.jinja2",
             permission=Permission.VIEW)
def erase_my_account(context, request):
    errors, message = {}, None
    if request.method == "POST":
        try:
            request.find_service(PrivacyService).erase_account(
                request.identity.user, form_text(request, "password", 1024))
        except DomainError as exc:
            request.response.status_int = exc.status
            if exc.field:
                errors[exc.field] = exc.message
            else:
                message = exc.message
        else:
            response = HTTPSeeOther(request.resource_url(request.root), headers=forget(request))
            request.session.flash(request.translate(_("Your account is erased.")))
            return response
    return {"errors": errors, "message": message}

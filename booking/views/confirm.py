"""``/confirm/{secret}``: a new account confirms its address. The page asks
for one click (a mail scanner that opens the link confirms nothing); then
the person is signed in, on their business's dashboard if they own one.
A used, expired or unknown link is not found (the tree answers 404)."""

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config, view_defaults

from ..i18n import _
from ..resources import EmailConfirmationContext
from ..security import Permission
from ..services.registration import AccountService
from ..services.team import TeamService
from .auth import password_accepted
from .password_reset import no_secret_leaks


@view_defaults(context=EmailConfirmationContext, renderer="account/confirm.jinja2",
               permission=Permission.VIEW)
class ConfirmationViews:
    def __init__(self, context, request):
        self.context = context
        self.request = request
        no_secret_leaks(request.response)

    @view_config(request_method="GET")
    def show(self):
        return {"user": self.context.token.user}

    @view_config(request_method="POST")
    def confirm(self):
        request = self.request
        user = request.find_service(AccountService).confirm_address(self.context.token)
        if user is None:  # the same link, used at the same moment by another request
            raise HTTPNotFound()
        teams = request.find_service(TeamService).teams_of(user, pending=False)
        if teams:
            url = request.resource_url(request.root, "t", teams[0][0].slug, "manage", "")
        else:
            url = request.resource_url(request.root, "account", "")
        response = password_accepted(request, user, url,
                                     welcome=_("Thank you: your address is confirmed."))
        no_secret_leaks(response)
        return response

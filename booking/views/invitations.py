"""``/invitations/{secret}``: an invited member chooses their name and
password, and lands in the staff area. The link works once; the tree
answers 404 for a used, expired or unknown one."""

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config, view_defaults
from ..i18n import _
from ..passwords import new_password_problems, personal_words
from ..resources import InvitationContext
from ..security import Permission
from ..services.team import TeamService
from .auth import form_text, password_accepted
from .forms import line

NAME_LIMIT = 200
member_name = line(NAME_LIMIT, min_length=1)


@view_defaults(context=InvitationContext, renderer="account/invitation.jinja2",
               permission=Permission.VIEW)
class InvitationViews:
    def __init__(self, context, request):
        self.context = context
        self.request = request
        self.user = context.token.user

    @property
    def team(self):
        return self.request.find_service(TeamService)

    def teams(self):
        """``[(tenant, membership)]``: the invitations the user accepts here."""
        return self.team.invitations_of(self.user)

    def data(self, name, errors):
        return {"user": self.user, "teams": self.teams(), "name": name, "errors": errors}

    @view_config(request_method="GET")
    def show(self):
        return self.data(self.user.name, {})

    @view_config(request_method="POST")
    def accept(self):
        request = self.request
        name = form_text(request, "name", NAME_LIMIT + 1).strip()
        password = form_text(request, "password", 1025)
        confirm = form_text(request, "confirm", 1025)
        errors = new_password_problems(password, confirm,
                                       personal_words(self.user.email, name or self.user.name))
        try:
            name = member_name(name)
        except ValueError as exc:
            errors["name"] = exc.args[0]
        if errors:
            request.response.status_int = 400
            return self.data(name, errors)
        return self.welcome(name, password)

    def welcome(self, name, password):
        request, user = self.request, self.user
        teams = self.team.accept_invitation(self.context.token, name, password)
        if teams is None:  # the same link, used at the same moment by another request
            raise HTTPNotFound()
        if teams:
            url = request.resource_url(request.root, "t", teams[0][0].slug, "manage", "")
        else:  # removed from every team since the invitation
            url = request.resource_url(request.root)
        return password_accepted(request, user, url, welcome=_("Welcome! Your password is set."))

"""``/invitations/{secret}``: an invited member chooses their name and
password, and lands in the staff area. The link works once; the tree
answers 404 for a used, expired or unknown one."""

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config, view_defaults
from sqlalchemy import select, update

from ..i18n import _
from ..models import Membership, Tenant, UserToken
from ..passwords import hash_password, new_password_problems
from ..resources import InvitationContext
from ..security import Permission
from ..services import audit
from .auth import form_text, sign_in

NAME_LIMIT = 200


@view_defaults(context=InvitationContext, renderer="account/invitation.jinja2",
               permission=Permission.VIEW)
class InvitationViews:
    def __init__(self, context, request):
        self.context = context
        self.request = request
        self.user = context.token.user

    def teams(self):
        """``[(tenant, membership)]`` of the invited user, by tenant name."""
        return self.request.dbsession.execute(
            select(Tenant, Membership)
            .join(Membership, Membership.tenant_id == Tenant.id)
            .where(Membership.user_id == self.user.id)
            .order_by(Tenant.name, Tenant.id)
        ).all()

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
        errors = new_password_problems(password, confirm)
        if not name:
            errors["name"] = _("is required")
        elif len(name) > NAME_LIMIT:
            errors["name"] = _("must be at most ${max_length} characters long",
                               mapping={"max_length": NAME_LIMIT})
        if errors:
            request.response.status_int = 400
            return self.data(name, errors)
        return self.welcome(name, password)

    def welcome(self, name, password):
        request, user, token = self.request, self.user, self.context.token
        claimed = request.dbsession.execute(
            update(UserToken)
            .where(UserToken.id == token.id, UserToken.used_at.is_(None))
            .values(used_at=request.now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:  # the same link, used at the same moment by another request
            raise HTTPNotFound()
        user.name = name
        user.password_hash = hash_password(password)
        user.session_epoch += 1
        teams = self.teams()
        for tenant, membership in teams:
            audit.record(request.dbsession, tenant.id, user.id, "membership.accepted",
                         "membership", membership.id, request.now)
        sign_in(request, user)
        request.session.flash(request.translate(_("Welcome! Your password is set.")))
        if not teams:  # removed from every team since the invitation
            return HTTPSeeOther(request.resource_url(request.root))
        return HTTPSeeOther(request.resource_url(request.root, "t", teams[0][0].slug, "manage", ""))

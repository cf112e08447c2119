"""``/t/{slug}/manage/people/``: the team. Managers see it; owners invite,
change roles and remove. An invitation goes to the invitee by email; its
link is never shown here. The membership to change comes from the form and
is looked up within the tenant, so another tenant's id is not found."""

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config, view_defaults

from ...i18n import _
from ...models import Role
from ...resources.manage import People
from ...security import Permission
from ...services.accounts import EMAIL_PATTERN
from ...services.errors import Conflict, PolicyViolation, ValidationError
from ...services.security_log import Event, SecurityLog
from ...services.team import TeamService
from ..forms import Field, integer, optional, parse_form
from . import ManageView

ROLE_LABELS = {Role.OWNER: _("Owner"), Role.MANAGER: _("Manager"), Role.STAFF: _("Staff")}
EVENT_LABELS = {Event.SIGN_IN: _("Signed in"), Event.SIGN_IN_FAILED: _("Wrong password"),
                Event.SIGN_IN_THROTTLED: _("Refused: too many attempts"),
                Event.PASSWORD_ACCEPTED: _("Password accepted, second step due")}


def email_address(value):
    value = value.strip()
    if len(value) > 254 or not EMAIL_PATTERN.match(value):
        raise ValueError(_("is not an email address"))
    return value


def role(value):
    if value not in tuple(Role):
        raise ValueError(_("must be owner, manager or staff"))
    return Role(value)


SCOPE_FIELDS = {
    "role": Field(role),
    "venue_id": optional(integer(minimum=1, from_text=True)),
}


@view_defaults(context=People)
class PeopleViews(ManageView):
    @property
    def team(self):
        return self.request.find_service(TeamService)

    def list_page(self, status=200, **data):
        members = self.team.members(self.tenant)
        data.setdefault("values", {"email": "", "role": Role.STAFF, "venue_id": None})
        data.setdefault("errors", {})
        return self.page(
            "manage/people/list.jinja2", status=status, members=members,
            can_change=self.request.has_permission(Permission.ADMIN, self.context),
            role_labels=ROLE_LABELS, **data,
        )

    def refuse(self, status, **data):
        """Show the list again with a message; nothing of the attempt is kept."""
        self.request.tm.doom()
        return self.list_page(status=status, **data)

    def target(self):
        """The membership named by the form's ``membership_id``, in this tenant."""
        clean, errors = parse_form(self.request.POST, {
            "membership_id": Field(integer(minimum=1, from_text=True)),
        })
        membership = None if errors else self.team.membership(self.tenant,
                                                              clean["membership_id"])
        if membership is None:
            raise HTTPNotFound()
        return membership

    def after_change(self, membership, message):
        request = self.request
        request.session.flash(request.translate(message))
        if membership.user_id == self.user.id:  # they may no longer see this page
            return HTTPSeeOther(request.resource_url(self.context.tenant_context))
        return HTTPSeeOther(request.resource_url(self.context))

    @view_config(request_method="GET", permission=Permission.VIEW)
    def show(self):
        return self.list_page()

    @view_config(name="history", request_method="GET", permission=Permission.VIEW)
    def history(self):
        """A member's recent sign-ins, failures and refusals."""
        clean, errors = parse_form(self.request.GET, {
            "membership_id": Field(integer(minimum=1, from_text=True)),
        })
        found = None if errors else self.request.find_service(SecurityLog).member_sign_ins(
            self.tenant, clean["membership_id"])
        if found is None:
            raise HTTPNotFound()
        member, events = found
        return self.page("manage/people/history.jinja2", member=member, events=events,
                         event_labels=EVENT_LABELS)

    @view_config(name="invite", request_method="POST", permission=Permission.ADMIN)
    def invite(self):
        request = self.request
        clean, errors = parse_form(request.POST, {"email": Field(email_address), **SCOPE_FIELDS})
        values = {key: request.POST.get(key, "") for key in ("email", "role", "venue_id")}
        if errors:
            return self.list_page(status=400, values=values, errors=errors)
        try:
            self.team.invite(self.tenant, clean["email"], clean["role"], clean["venue_id"],
                             self.user)
        except ValidationError as exc:
            return self.refuse(400, values=values, errors={exc.field: exc.message})
        except Conflict as exc:
            return self.refuse(409, values=values, message=exc.message)
        except PolicyViolation as exc:
            return self.refuse(403, values=values, message=exc.message)
        # The same words for every address: nothing tells whether it has an account.
        request.session.flash(request.translate(_(
            "We emailed an invitation to ${email}: they join the team once they accept it.",
            mapping={"email": clean["email"]})))
        return HTTPSeeOther(request.resource_url(self.context))

    @view_config(name="role", request_method="POST", permission=Permission.ADMIN)
    def change_role(self):
        membership = self.target()
        clean, errors = parse_form(self.request.POST, SCOPE_FIELDS)
        if errors:
            return self.list_page(status=400, row_errors={membership.id: errors})
        try:
            self.team.change_role(self.tenant, membership, clean["role"], clean["venue_id"],
                                  self.user.id)
        except ValidationError as exc:
            return self.refuse(400, row_errors={membership.id: {exc.field: exc.message}})
        except Conflict as exc:
            return self.refuse(409, message=exc.message)
        return self.after_change(membership, _("The role is changed."))

    @view_config(name="remove", request_method="POST", permission=Permission.ADMIN)
    def remove(self):
        membership = self.target()
        try:
            self.team.remove(self.tenant, membership, self.user.id)
        except Conflict as exc:
            return self.refuse(409, message=exc.message)
        return self.after_change(membership, _("The member is removed from the team."))

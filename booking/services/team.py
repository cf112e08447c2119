"""A tenant's team: members, invitations, roles.

Every change is audited (target ``membership``). A tenant always keeps at
least one owner: the owners' memberships are locked (PostgreSQL
``FOR UPDATE``; on SQLite the writing transaction already holds the
database's write lock) before they are counted, so two owners demoting
each other at the same moment cannot both succeed.

An invitation is a pending membership (no role until accepted) emailed to
the invitee, never shown to the inviter: a person without a password gets a
single-use link to set one (which accepts it), anyone else a link to My
account, where they accept or decline. The inviter sees "invited" either
way, so nothing tells whether the address has an account. Only a business
whose owner's address is confirmed (``tenant.verified``) invites. A member
who loses a venue (removed, or scoped to another one) loses the calendar
feeds they made of it.
"""

from datetime import timedelta

from sqlalchemy import select

from ..i18n import _
from ..models import CalendarFeed, Membership, Role, Tenant, TokenPurpose, User, Venue
from ..models import normalize_email
from ..passwords import UNUSABLE_PASSWORD, has_password
from . import audit
from .errors import Conflict, PolicyViolation, ValidationError
from .user_tokens import claim_token, issue_token

INVITATION_LIFETIME = timedelta(days=7)



def owner_ids(dbsession, tenant):
    """The membership ids of ``tenant``'s owners (who accepted: an owner
    invited is not one yet), locked until the transaction ends so that two
    owners leaving at once cannot both pass a check of the other."""
    query = (select(Membership.id)
             .where(Membership.tenant_id == tenant.id, Membership.role == Role.OWNER,
                    Membership.pending.is_(False))
             .order_by(Membership.id))
    if dbsession.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return dbsession.scalars(query).all()

class TeamService:
    """``notifier`` sends the invitations (built with the settings, so
    that its links name the site's public address)."""

    def __init__(self, dbsession, now, notifier):
        self.dbsession = dbsession
        self.now = now
        self.notifier = notifier

    # -- reading -------------------------------------------------------------

    def members(self, tenant):
        """``[(membership, user, venue name or None)]``, owners first, then by name."""
        order = {Role.OWNER: 0, Role.MANAGER: 1, Role.STAFF: 2}
        rows = self.dbsession.execute(
            select(Membership, User, Venue.name)
            .join(User, User.id == Membership.user_id)
            .outerjoin(Venue, Venue.id == Membership.venue_id)
            .where(Membership.tenant_id == tenant.id)
            .order_by(User.name, User.email)
        ).all()
        return sorted(rows, key=lambda row: order.get(row[0].role, 3))

    def teams_of(self, user, pending=None):
        """``[(tenant, membership)]`` of ``user``, by tenant name: all, or
        only the invitations still to answer (``pending=True``) or only the
        accepted ones (``pending=False``)."""
        query = (select(Tenant, Membership)
                 .join(Membership, Membership.tenant_id == Tenant.id)
                 .where(Membership.user_id == user.id)
                 .order_by(Tenant.name, Tenant.id))
        if pending is not None:
            query = query.where(Membership.pending.is_(pending))
        return self.dbsession.execute(query).all()

    def membership(self, tenant, membership_id):
        """The tenant's membership ``membership_id``, or ``None``."""
        return self.dbsession.scalar(
            select(Membership).where(Membership.id == membership_id,
                                     Membership.tenant_id == tenant.id)
        )

    # -- changing ------------------------------------------------------------

    def invite(self, tenant, email, role, venue_id, inviter):
        """Invite ``email``: a pending membership and an email (see the
        module). Returns the membership. Refused (``PolicyViolation``) while
        the business's owner has not confirmed their address."""
        if not tenant.verified:
            raise PolicyViolation(_("Confirm your email address before inviting anyone: follow "
                                    "the link we emailed you."), field="email")
        self.check_scope(tenant, role, venue_id)
        email = normalize_email(email)
        user = self.dbsession.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, name="", password_hash=UNUSABLE_PASSWORD,
                        created_at=self.now, locale=inviter.locale)
            self.dbsession.add(user)
            self.dbsession.flush()
        elif self.dbsession.scalar(select(Membership.id).where(
                Membership.tenant_id == tenant.id, Membership.user_id == user.id)):
            raise Conflict(_("${email} is already a member of this team, or invited",
                             mapping={"email": email}), field="email")
        membership = Membership(tenant_id=tenant.id, user_id=user.id, role=role,
                                venue_id=venue_id, pending=True)
        self.dbsession.add(membership)
        self.dbsession.flush()
        notifier = self.notifier
        one_time = not has_password(user)
        if one_time:
            link = f"{notifier.public_url}/invitations/{self.new_invitation(user)}"
        else:
            link = f"{notifier.public_url}/account/"
        notifier.staff_invitation(user, tenant, link, inviter, membership.id, one_time)
        self.audit(tenant, inviter.id, "membership.invited", membership.id, email=email,
                   role=role, venue_id=venue_id)
        return membership

    def accept_invitation(self, token, name, password):
        """The invited user of ``token`` sets their name and password, which
        accepts the invitations the page showed them: the link is used up,
        their other sessions end, and each team records the acceptance.
        Returns their ``[(tenant, membership)]``, or ``None`` when the link
        was used meanwhile (by another request at the same moment): then
        nothing is changed."""
        user = claim_token(self.dbsession, token, self.now, password)
        if user is None:
            return None
        user.name = name
        for tenant, membership in self.teams_of(user, pending=True):
            self.answer(tenant, membership, accept=True)
        return self.teams_of(user)

    def invitations_of(self, user):
        """``[(tenant, membership)]``: the invitations ``user`` has to answer."""
        return self.teams_of(user, pending=True)

    def answer_invitation(self, user, membership_id, accept):
        """``user`` accepts (or declines: it is removed) their pending
        invitation ``membership_id``. Returns its tenant, or ``None`` when
        there is no such invitation."""
        for tenant, membership in self.teams_of(user, pending=True):
            if membership.id == membership_id:
                self.answer(tenant, membership, accept)
                return tenant
        return None

    def answer(self, tenant, membership, accept):
        if accept:
            membership.pending = False
            self.audit(tenant, membership.user_id, "membership.accepted", membership.id)
        else:
            self.audit(tenant, membership.user_id, "membership.declined", membership.id)
            self.dbsession.delete(membership)
        self.dbsession.flush()

    def new_invitation(self, user):
        """A fresh invitation secret for ``user``; earlier unused ones stop working."""
        return issue_token(self.dbsession, user, TokenPurpose.INVITATION, self.now, INVITATION_LIFETIME)

    def change_role(self, tenant, membership, role, venue_id, actor_id):
        self.check_scope(tenant, role, venue_id)
        if membership.role == Role.OWNER and role != Role.OWNER:
            self.keep_an_owner(tenant, membership, _(
                "The last owner cannot be demoted: make someone else an owner first."))
        old = {"role": membership.role, "venue_id": membership.venue_id}
        membership.role, membership.venue_id = role, venue_id
        self.dbsession.flush()
        self.audit(tenant, actor_id, "membership.role_changed", membership.id, old=old,
                   new={"role": role, "venue_id": venue_id})
        self.revoke_feeds(tenant, membership.user_id, venue_id, actor_id,
                          "membership.role_changed")

    def remove(self, tenant, membership, actor_id):
        if membership.role == Role.OWNER:
            self.keep_an_owner(tenant, membership, _(
                "The last owner cannot be removed: make someone else an owner first."))
        self.audit(tenant, actor_id, "membership.removed", membership.id,
                   user_id=membership.user_id, role=membership.role,
                   venue_id=membership.venue_id)
        user_id = membership.user_id
        self.dbsession.delete(membership)
        self.dbsession.flush()
        self.revoke_feeds(tenant, user_id, None, actor_id, "membership.removed", removed=True)

    def revoke_feeds(self, tenant, user_id, venue_id, actor_id, cause, removed=False):
        """Revoke the active feeds ``user_id`` made of venues they no longer
        cover: every venue when ``removed``, else all but ``venue_id`` when
        they are scoped to it (tenant-wide roles cover every venue)."""
        if not removed and venue_id is None:
            return
        query = select(CalendarFeed).where(
            CalendarFeed.tenant_id == tenant.id, CalendarFeed.created_by == user_id,
            CalendarFeed.revoked_at.is_(None))
        if not removed:
            query = query.where(CalendarFeed.venue_id != venue_id)
        for feed in self.dbsession.scalars(query.order_by(CalendarFeed.id)):
            feed.revoked_at = self.now
            audit.record(self.dbsession, tenant.id, actor_id, "calendar_feed.revoked",
                         "calendar_feed", feed.id, self.now, venue_id=feed.venue_id,
                         user_id=user_id, cause=cause)
        self.dbsession.flush()

    # -- rules ---------------------------------------------------------------

    def check_scope(self, tenant, role, venue_id):
        if role not in tuple(Role):
            raise ValidationError(_("must be owner, manager or staff"), field="role")
        if venue_id is None:
            return
        if role != Role.STAFF:
            raise ValidationError(_("only staff can be limited to one venue"), field="venue_id")
        if self.dbsession.scalar(select(Venue.id).where(
                Venue.id == venue_id, Venue.tenant_id == tenant.id)) is None:
            raise ValidationError(_("is not a venue of this business"), field="venue_id")

    def keep_an_owner(self, tenant, membership, message):
        """Refuse (``Conflict``) if ``membership`` is the tenant's only owner.
        The owners' rows stay locked until the transaction ends."""
        owners = owner_ids(self.dbsession, tenant)
        if owners == [membership.id] or not owners:
            raise Conflict(message, field="role")

    def audit(self, tenant, actor_id, action, membership_id, **details):
        audit.record(self.dbsession, tenant.id, actor_id, action, "membership",
                     membership_id, self.now, **details)

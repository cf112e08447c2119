"""A tenant's team: members, invitations, roles.

Every change is audited (target ``membership``). A tenant always keeps at
least one owner: the owners' memberships are locked (PostgreSQL
``FOR UPDATE``; on SQLite the writing transaction already holds the
database's write lock) before they are counted, so two owners demoting
each other at the same moment cannot both succeed.
"""

import secrets
from datetime import timedelta

from sqlalchemy import func, select

from ..i18n import _
from ..models import Membership, Role, TokenPurpose, User, UserToken, Venue, normalize_email
from ..passwords import hash_password
from ..security import TOKEN_BYTES, token_digest
from . import audit
from .errors import Conflict, ValidationError

INVITATION_LIFETIME = timedelta(days=7)


def unusable_password_hash():
    """The hash of a secret nobody knows: the account cannot sign in until
    its owner sets a password through the invitation link."""
    return hash_password(secrets.token_urlsafe(TOKEN_BYTES))


class TeamService:
    def __init__(self, dbsession, now):
        self.dbsession = dbsession
        self.now = now

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

    def awaiting_password(self, user_ids):
        """Those of ``user_ids`` who were invited and never set a password."""
        if not user_ids:
            return set()
        used = func.count(UserToken.used_at)
        return set(self.dbsession.scalars(
            select(UserToken.user_id)
            .where(UserToken.user_id.in_(user_ids),
                   UserToken.purpose == TokenPurpose.INVITATION)
            .group_by(UserToken.user_id)
            .having(used == 0)
        ))

    def membership(self, tenant, membership_id):
        """The tenant's membership ``membership_id``, or ``None``."""
        return self.dbsession.scalar(
            select(Membership).where(Membership.id == membership_id,
                                     Membership.tenant_id == tenant.id)
        )

    # -- changing ------------------------------------------------------------

    def invite(self, tenant, email, role, venue_id, actor_id):
        """Make ``email`` a member. Returns ``(membership, secret)``: the
        secret of an invitation link when the person has no password yet
        (a new account, or one invited before that never accepted), else
        ``None``."""
        self.check_scope(tenant, role, venue_id)
        email = normalize_email(email)
        user = self.dbsession.scalar(select(User).where(User.email == email))
        secret = None
        if user is None:
            user = User(email=email, name="", password_hash=unusable_password_hash(),
                        created_at=self.now)
            self.dbsession.add(user)
            self.dbsession.flush()
            secret = self.new_invitation(user)
        elif self.dbsession.scalar(select(Membership.id).where(
                Membership.tenant_id == tenant.id, Membership.user_id == user.id)):
            raise Conflict(_("${email} is already a member of this team",
                             mapping={"email": email}), field="email")
        elif user.id in self.awaiting_password([user.id]):
            secret = self.new_invitation(user)
        membership = Membership(tenant_id=tenant.id, user_id=user.id, role=role,
                                venue_id=venue_id)
        self.dbsession.add(membership)
        self.dbsession.flush()
        self.audit(tenant, actor_id, "membership.invited", membership.id, email=email,
                   role=role, venue_id=venue_id, invitation=secret is not None)
        return membership, secret

    def new_invitation(self, user):
        secret = secrets.token_urlsafe(TOKEN_BYTES)
        self.dbsession.add(UserToken(
            user_id=user.id, purpose=TokenPurpose.INVITATION, digest=token_digest(secret),
            created_at=self.now, expires_at=self.now + INVITATION_LIFETIME,
        ))
        return secret

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

    def remove(self, tenant, membership, actor_id):
        if membership.role == Role.OWNER:
            self.keep_an_owner(tenant, membership, _(
                "The last owner cannot be removed: make someone else an owner first."))
        self.audit(tenant, actor_id, "membership.removed", membership.id,
                   user_id=membership.user_id, role=membership.role,
                   venue_id=membership.venue_id)
        self.dbsession.delete(membership)
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
        query = (select(Membership.id)
                 .where(Membership.tenant_id == tenant.id, Membership.role == Role.OWNER)
                 .order_by(Membership.id))
        if self.dbsession.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        owners = self.dbsession.scalars(query).all()
        if owners == [membership.id] or not owners:
            raise Conflict(message, field="role")

    def audit(self, tenant, actor_id, action, membership_id, **details):
        audit.record(self.dbsession, tenant.id, actor_id, action, "membership",
                     membership_id, self.now, **details)

"""Who is asking, and what they may do.

Identity comes from the signed session cookie (HTML site) or from a bearer
token (JSON API). Principals are computed from the user's attributes once per
request; the ``__acl__`` of the context (``booking.resources``) decides,
through Pyramid's ``ACLHelper``.
"""

import hashlib
import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from pyramid.authorization import ACLHelper, Authenticated, Everyone
from pyramid.csrf import SessionCSRFStoragePolicy
from pyramid.request import RequestLocalCache
from pyramid.session import SignedCookieSessionFactory
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from .models import ApiToken, Role, User


class Permission(StrEnum):
    """The verbs views are protected by. Use these, never bare strings."""

    VIEW = "view"  # see the thing
    BOOK = "book"  # create a booking on it
    CANCEL = "cancel"  # cancel or reschedule a booking
    MANAGE = "manage"  # staff work: bookings, check-in, calendars
    ADMIN = "admin"  # change configuration: resources, schedules, settings, people


#: Given to views that forget to declare a permission; no ACL grants it, so
#: such a view is closed to everybody.
UNDECLARED_PERMISSION = "undeclared-permission"

#: The platform administrators' principal (``users.is_platform_admin``): a
#: principal of its own, granted only by the ``/admin/`` context's ACL and
#: never a tenant role.
PLATFORM_ADMIN = "platform:admin"

SESSION_COOKIE = "booking_session"
TOKEN_BYTES = 32

#: The user of an API token (by its digest, unless revoked) with their
#: memberships. Every API request runs it: built once, the digest bound
#: per call (building a statement costs SQLAlchemy more than running it).
TOKEN_USER = (
    select(User, ApiToken.id)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.digest == bindparam("digest"), ApiToken.revoked_at.is_(None))
    .options(joinedload(User.memberships))
)


def owner(tenant_id):
    return f"tenant:{tenant_id}:{Role.OWNER}"


def manager(tenant_id):
    return f"tenant:{tenant_id}:{Role.MANAGER}"


def staff(tenant_id):
    return f"tenant:{tenant_id}:{Role.STAFF}"


def member(tenant_id):
    return f"tenant:{tenant_id}:member"


def venue_staff(venue_id):
    return f"venue:{venue_id}:staff"


def user_principal(user_id):
    return f"user:{user_id}"


@dataclass(frozen=True)
class Identity:
    user: User
    memberships: tuple = ()
    #: ``"session"`` or ``"token"``: how the request proved who it is.
    method: str = "session"
    token_id: int | None = None
    principals: frozenset = field(default=frozenset())


def principals_for(user, memberships):
    """The principals of ``user``: their id, :data:`PLATFORM_ADMIN` for
    platform administrators, and for each membership the tenant role, or
    (for venue-scoped staff) the venue's staff principal."""
    principals = {Everyone, Authenticated, user_principal(user.id)}
    if user.is_platform_admin:
        principals.add(PLATFORM_ADMIN)
    for membership in memberships:
        principals.add(member(membership.tenant_id))
        if membership.venue_id is not None:
            principals.add(venue_staff(membership.venue_id))
        else:
            principals.add(f"tenant:{membership.tenant_id}:{membership.role}")
    return frozenset(principals)


def token_digest(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_api_token(dbsession, user, now):
    """Create a token for ``user``; return the secret (shown once)."""
    secret = secrets.token_urlsafe(TOKEN_BYTES)
    dbsession.add(ApiToken(user_id=user.id, digest=token_digest(secret), created_at=now))
    return secret


def bearer_token(request):
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


class SecurityPolicy:
    def __init__(self):
        self.helper = ACLHelper()
        self._identity = RequestLocalCache(self._load_identity)

    def _load_identity(self, request):
        token = bearer_token(request)
        if token is not None:
            row = request.dbsession.execute(
                TOKEN_USER, {"digest": token_digest(token)}
            ).unique().first()
            if row is None:
                return None
            user, token_id = row
            method = "token"
        else:
            user_id = request.session.get("user_id")
            if user_id is None:
                return None
            user = request.dbsession.get(User, user_id, options=[joinedload(User.memberships)])
            token_id, method = None, "session"
            if user is None or request.session.get("epoch") != user.session_epoch:
                return None
        # An invitation not accepted yet (``pending``) grants nothing.
        memberships = tuple(m for m in user.memberships if not m.pending)
        return Identity(
            user=user,
            memberships=memberships,
            method=method,
            token_id=token_id,
            principals=principals_for(user, memberships),
        )

    def identity(self, request):
        return self._identity.get_or_create(request)

    def authenticated_userid(self, request):
        identity = self.identity(request)
        return None if identity is None else identity.user.id

    def effective_principals(self, request):
        identity = self.identity(request)
        return identity.principals if identity is not None else frozenset({Everyone})

    def permits(self, request, context, permission):
        return self.helper.permits(context, self.effective_principals(request), permission)

    def remember(self, request, userid, epoch=0, **kw):
        """Sign in: a fresh session (and CSRF token), so no fixation.
        ``epoch`` is the user's ``session_epoch``: a password change bumps
        it and so ends every other session."""
        request.session.invalidate()
        request.session["user_id"] = userid
        request.session["epoch"] = epoch
        request.session.new_csrf_token()
        self._identity.clear(request)
        return []

    def forget(self, request, **kw):
        request.session.invalidate()
        self._identity.clear(request)
        return []


def csrf_required(request):
    """CSRF protects ambient authority, which only cookies carry. An API
    request that authenticates with a bearer token, or carries no session
    cookie at all, has none to abuse. Every HTML form is checked."""
    if request.path_info.startswith("/api/"):
        if bearer_token(request) is not None:
            return False
        return SESSION_COOKIE in request.cookies
    return True


def includeme(config):
    settings = config.get_settings()
    config.set_session_factory(
        SignedCookieSessionFactory(
            settings["booking.secret"],
            cookie_name=SESSION_COOKIE,
            httponly=True,
            samesite="Lax",
            secure=settings["booking.secure_cookies"],
            timeout=7 * 24 * 3600,
            reissue_time=3600,
        )
    )
    config.set_security_policy(SecurityPolicy())
    config.set_csrf_storage_policy(SessionCSRFStoragePolicy())
    config.set_default_csrf_options(require_csrf=True, callback=csrf_required)
    config.set_default_permission(UNDECLARED_PERMISSION)

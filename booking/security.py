"""Who is asking, and what they may do.

Identity comes from the signed session cookie (HTML site) or from a bearer
token (JSON API). Principals are computed from the user's attributes once per
request; the ``__acl__`` of the context (``booking.resources``) decides,
through Pyramid's ``ACLHelper``.
"""

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from pyramid.authorization import ACLHelper, Authenticated, Everyone
from pyramid.csrf import SessionCSRFStoragePolicy
from pyramid.request import RequestLocalCache
from pyramid.session import SignedCookieSessionFactory
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from .models import ApiToken, Role, User, UserSession


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
#: A session unused this long ends (the cookie's timeout, and the row's).
SESSION_IDLE = timedelta(days=7)
#: A session's ``last_seen_at`` and a token's ``last_used_at`` move at most
#: this often: a request that reads pays no write.
TOUCH_INTERVAL = timedelta(minutes=5)
DEFAULT_TOKEN_LIFETIME = timedelta(days=30)

#: The user of a live session (by its digest) with their memberships, and
#: the row's id and last use: ONE query, which every page request runs.
SESSION_USER = (
    select(User, UserSession.id, UserSession.last_seen_at)
    .join(UserSession, UserSession.user_id == User.id)
    .where(UserSession.digest == bindparam("digest"), UserSession.ended_at.is_(None),
           UserSession.last_seen_at > bindparam("idle_since"))
    .options(joinedload(User.memberships))
)
#: The user of an API token (by its digest, unless revoked or expired) with
#: their memberships. Every API request runs it: built once, the digest
#: bound per call (building a statement costs SQLAlchemy more than running it).
TOKEN_USER = (
    select(User, ApiToken.id, ApiToken.last_used_at)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.digest == bindparam("digest"), ApiToken.revoked_at.is_(None),
           ApiToken.expires_at > bindparam("now"))
    .options(joinedload(User.memberships))
)
TOUCH_SESSION = (
    update(UserSession).where(UserSession.id == bindparam("row_id"))
    .values(last_seen_at=bindparam("now")).execution_options(synchronize_session=False)
)
TOUCH_TOKEN = (
    update(ApiToken).where(ApiToken.id == bindparam("row_id"))
    .values(last_used_at=bindparam("now")).execution_options(synchronize_session=False)
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
    #: The ``user_sessions`` row of a cookie session.
    session_id: int | None = None
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


def new_api_token(dbsession, user, now, lifetime=DEFAULT_TOKEN_LIFETIME):
    """Create a token for ``user``, valid for ``lifetime``; return the
    secret (shown once) and the row."""
    secret = secrets.token_urlsafe(TOKEN_BYTES)
    row = ApiToken(user_id=user.id, digest=token_digest(secret), created_at=now,
                   expires_at=now + lifetime)
    dbsession.add(row)
    return secret, row


def new_session(dbsession, user, now, device=""):
    """Open a ``user_sessions`` row for ``user``; return the secret the
    signed cookie carries."""
    secret = secrets.token_urlsafe(TOKEN_BYTES)
    dbsession.add(UserSession(user_id=user.id, digest=token_digest(secret), created_at=now,
                              last_seen_at=now, device=device[:100]))
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
            found = request.dbsession.execute(
                TOKEN_USER, {"digest": token_digest(token), "now": request.now}
            ).unique().first()
            touch, method = TOUCH_TOKEN, "token"
        else:
            secret = request.session.get("session")
            if secret is None:
                return None
            found = request.dbsession.execute(
                SESSION_USER,
                {"digest": token_digest(secret), "idle_since": request.now - SESSION_IDLE},
            ).unique().first()
            touch, method = TOUCH_SESSION, "session"
        if found is None:
            return None
        user, row_id, last_use = found
        if last_use is None or last_use <= request.now - TOUCH_INTERVAL:
            request.dbsession.execute(touch, {"row_id": row_id, "now": request.now})
        # An invitation not accepted yet (``pending``) grants nothing.
        memberships = tuple(m for m in user.memberships if not m.pending)
        return Identity(
            user=user,
            memberships=memberships,
            method=method,
            token_id=row_id if method == "token" else None,
            session_id=row_id if method == "session" else None,
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

    def remember(self, request, userid, session=None, **kw):
        """Sign in: a fresh cookie session (and CSRF token), so no fixation.
        ``session`` is the secret of the ``user_sessions`` row opened for
        it (:func:`new_session`): the row decides whether it is live."""
        request.session.invalidate()
        request.session["user_id"] = userid
        request.session["session"] = session
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
            timeout=int(SESSION_IDLE.total_seconds()),
            reissue_time=3600,
        )
    )
    config.set_security_policy(SecurityPolicy())
    config.set_csrf_storage_policy(SessionCSRFStoragePolicy())
    config.set_default_csrf_options(require_csrf=True, callback=csrf_required)
    config.set_default_permission(UNDECLARED_PERMISSION)

"""Single-use secrets emailed to a user (invitations, password resets):
only their SHA-256 digest is stored."""

import secrets

from sqlalchemy import select, update

from ..models import ApiToken, Membership, Role, Tenant, TokenPurpose, UserSession, UserToken
from ..passwords import hash_password
from ..security import TOKEN_BYTES, token_digest
from .security_log import Event, SecurityLog


def issue_token(dbsession, user, purpose, now, lifetime):
    """A fresh secret of ``purpose`` for ``user``, usable for ``lifetime``;
    their earlier unused ones of that purpose stop working."""
    dbsession.execute(
        update(UserToken)
        .where(UserToken.user_id == user.id, UserToken.purpose == purpose,
               UserToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    secret = secrets.token_urlsafe(TOKEN_BYTES)
    dbsession.add(UserToken(user_id=user.id, purpose=purpose, digest=token_digest(secret),
                            created_at=now, expires_at=now + lifetime))
    dbsession.flush()
    return secret


def use_up(dbsession, token, now):
    """Use ``token`` up, if no other request has and it has not expired.
    Returns its user (whose address the emailed link proves: it is
    confirmed), or ``None`` when the token was not claimed."""
    claimed = dbsession.execute(
        update(UserToken)
        .where(UserToken.id == token.id, UserToken.used_at.is_(None),
               UserToken.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return None
    user = token.user
    confirm_address(dbsession, user, now)
    return user


def claim_token(dbsession, token, now, password):
    """Use ``token`` up (:func:`use_up`) and set ``password`` (already
    checked) on its user, ending their other sessions. Returns the user, or
    ``None`` when the token was not claimed (nothing is changed then)."""
    user = use_up(dbsession, token, now)
    if user is None:
        return None
    user.password_hash = hash_password(password)
    ended = end_sessions(dbsession, user, now)
    event = (Event.RESET_COMPLETED if token.purpose == TokenPurpose.PASSWORD_RESET
             else Event.PASSWORD_SET)
    SecurityLog(dbsession, now).record(event, user_id=user.id, **ended)
    return user


def confirm_address(dbsession, user, now):
    """``user`` has shown the address is theirs: it is confirmed, and the
    businesses they own are verified (listed, and free to invite and mail)."""
    if user.email_confirmed_at is not None:
        return
    user.email_confirmed_at = now
    owned = select(Membership.tenant_id).where(Membership.user_id == user.id,
                                               Membership.role == Role.OWNER,
                                               Membership.pending.is_(False))
    for tenant in dbsession.scalars(select(Tenant).where(Tenant.id.in_(owned),
                                                         Tenant.verified.is_(False))):
        tenant.verified = True


def end_sessions(dbsession, user, now):
    """End every session of ``user``: their signed-in browsers (their
    ``user_sessions`` rows) and their API tokens. A password change or
    reset does this, so a stolen cookie or token stops working; so does
    "sign out everywhere". The session epoch moves on, so the browsers
    the throttle knew as theirs are strangers again. Returns how many of
    each ended."""
    user.session_epoch += 1
    sessions = dbsession.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    tokens = dbsession.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return {"sessions_ended": sessions, "tokens_revoked": tokens}

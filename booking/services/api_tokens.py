"""Bearer tokens of the JSON API: issued for an email and a password, valid
for ``booking.api_token_lifetime_days``, listed and revoked in My account
or by their holder. Only the secret's SHA-256 digest is stored."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from ..models import ApiToken
from ..security import DEFAULT_TOKEN_LIFETIME, new_api_token
from .accounts import authenticate
from .security_log import Event, SecurityLog


@dataclass(frozen=True)
class IssuedToken:
    secret: str  # shown once
    expires_at: datetime


def token_lifetime(settings):
    """The lifetime of new tokens, from ``booking.api_token_lifetime_days``."""
    return timedelta(days=settings["booking.api_token_lifetime_days"])
from .mfa import MfaService


class ApiTokenService:
    def __init__(self, dbsession, now, lifetime=DEFAULT_TOKEN_LIFETIME):
        self.dbsession = dbsession
        self.now = now
        self.lifetime = lifetime
        self.security_log = SecurityLog(dbsession, now)

    def sign_in(self, email, password, client_addr, otp=None):
        """A new :class:`IssuedToken` for the user of ``email`` and
        ``password``, or ``None`` when they are wrong. Throttled like any
        sign-in (``TooManyAttempts``). A user with a second factor must also
        send ``otp``, a code of their app or a recovery code
        (``SecondStepRequired``, ``SecondStepRefused``)."""
        user = authenticate(self.dbsession, self.now, email, password, client_addr, via="api")
        if user is None:
            return None
        MfaService(self.dbsession, self.now).check_api_sign_in(user, otp, client_addr)
        secret, row = new_api_token(self.dbsession, user, self.now, self.lifetime)
        self.dbsession.flush()
        self.security_log.record(Event.API_TOKEN_CREATED, user_id=user.id,
                                 client_addr=client_addr, token_id=row.id)
        return IssuedToken(secret, row.expires_at)

    def tokens_of(self, user):
        """``user``'s tokens that still work, newest first."""
        return self.dbsession.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
                   ApiToken.expires_at > self.now)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        ).all()

    def revoke(self, user_id, token_id, client_addr):
        """Token ``token_id`` of ``user_id`` stops working. False when it is
        not theirs or was revoked already."""
        revoked = self.dbsession.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.user_id == user_id,
                   ApiToken.revoked_at.is_(None))
            .values(revoked_at=self.now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if revoked:
            self.security_log.record(Event.API_TOKEN_REVOKED, user_id=user_id,
                                     client_addr=client_addr, token_id=token_id)
        return bool(revoked)

    def revoke_all(self, user, client_addr):
        """Every token of ``user`` stops working; returns how many did."""
        revoked = self.dbsession.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=self.now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if revoked:
            self.security_log.record(Event.API_TOKEN_REVOKED, user_id=user.id,
                                     client_addr=client_addr, tokens_revoked=revoked)
        return revoked

"""Bearer tokens of the JSON API: issued for an email and a password,
revoked by their holder. Only the secret's SHA-256 digest is stored."""

from sqlalchemy import update

from ..models import ApiToken
from ..security import new_api_token
from .accounts import authenticate
from .mfa import MfaService


class ApiTokenService:
    def __init__(self, dbsession, now):
        self.dbsession = dbsession
        self.now = now

    def sign_in(self, email, password, client_addr, otp=None):
        """A new token's secret (shown once) for the user of ``email`` and
        ``password``, or ``None`` when they are wrong. Throttled like any
        sign-in (``TooManyAttempts``). A user with a second factor must also
        send ``otp``, a code of their app or a recovery code
        (``SecondStepRequired``, ``SecondStepRefused``)."""
        user = authenticate(self.dbsession, self.now, email, password, client_addr)
        if user is None:
            return None
        MfaService(self.dbsession, self.now).check_api_sign_in(user, otp)
        return new_api_token(self.dbsession, user, self.now)

    def revoke(self, token_id):
        """The token ``token_id`` stops working."""
        self.dbsession.execute(
            update(ApiToken).where(ApiToken.id == token_id).values(revoked_at=self.now))

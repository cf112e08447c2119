"""Sign-in throttling: after too many failures in a window, an account (or
a client address) must wait. Counted in the database, so every app process
and thread shares one count."""

from datetime import timedelta

from sqlalchemy import delete, func, select

from ..models import LoginFailure
from ..i18n import _
from .errors import DomainError

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"


class LoginThrottle:
    def __init__(self, dbsession, now):
        self.dbsession = dbsession
        self.now = now

    @staticmethod
    def keys(email, address):
        return {f"account:{email}": MAX_FAILURES_PER_ACCOUNT,
                f"address:{address}": MAX_FAILURES_PER_ADDRESS}

    def check(self, email, address):
        """Raise :class:`TooManyAttempts` if either key is over its limit."""
        since = self.now - WINDOW
        for key, limit in self.keys(email, address).items():
            count, oldest = self.dbsession.execute(
                select(func.count(), func.min(LoginFailure.at))
                .where(LoginFailure.key == key, LoginFailure.at > since)
            ).one()
            if count >= limit:
                wait = max(1, int((oldest + WINDOW - self.now).total_seconds() // 60) + 1)
                message = (
                    _("Too many failed sign-ins for this account: try again in ${minutes} "
                      "minute(s).", mapping={"minutes": wait})
                    if key.startswith("account:") else
                    _("Too many failed sign-ins from your address: try again in ${minutes} "
                      "minute(s).", mapping={"minutes": wait})
                )
                raise TooManyAttempts(
                    message,
                    retry_after=wait * 60,
                )

    def record_failure(self, email, address):
        keys = list(self.keys(email, address))
        self.dbsession.execute(
            delete(LoginFailure).where(LoginFailure.key.in_(keys),
                                       LoginFailure.at <= self.now - WINDOW)
        )
        self.dbsession.add_all(LoginFailure(key=key, at=self.now) for key in keys)

    def record_success(self, email):
        self.dbsession.execute(delete(LoginFailure).where(LoginFailure.key == f"account:{email}"))

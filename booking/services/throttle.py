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


class WindowCounter:
    """Events counted per key over a sliding ``window``, in the
    ``login_failures`` table: every throttle (sign-ins, resets, sign-ups)
    shares one table, told apart by the keys' prefixes."""

    def __init__(self, dbsession, now, window):
        self.dbsession = dbsession
        self.now = now
        self.window = window

    def minutes_to_wait(self, key, limit):
        """How long ``key`` must wait, in whole minutes, when it reached
        ``limit`` events in the window; else ``None``."""
        count, oldest = self.dbsession.execute(
            select(func.count(), func.min(LoginFailure.at))
            .where(LoginFailure.key == key, LoginFailure.at > self.now - self.window)
        ).one()
        if count < limit:
            return None
        return max(1, int((oldest + self.window - self.now).total_seconds() // 60) + 1)

    def record(self, *keys):
        """Count one event for each of ``keys``; forget their old ones."""
        self.dbsession.execute(
            delete(LoginFailure).where(LoginFailure.key.in_(keys),
                                       LoginFailure.at <= self.now - self.window)
        )
        self.dbsession.add_all(LoginFailure(key=key, at=self.now) for key in keys)

    def clear(self, key):
        self.dbsession.execute(delete(LoginFailure).where(LoginFailure.key == key))


class LoginThrottle:
    def __init__(self, dbsession, now):
        self.counter = WindowCounter(dbsession, now, WINDOW)

    @staticmethod
    def keys(email, address):
        return {f"account:{email}": MAX_FAILURES_PER_ACCOUNT,
                f"address:{address}": MAX_FAILURES_PER_ADDRESS}

    def check(self, email, address):
        """Raise :class:`TooManyAttempts` if either key is over its limit."""
        for key, limit in self.keys(email, address).items():
            wait = self.counter.minutes_to_wait(key, limit)
            if wait is not None:
                message = (
                    _("Too many failed sign-ins for this account: try again in ${minutes} "
                      "minute(s).", mapping={"minutes": wait})
                    if key.startswith("account:") else
                    _("Too many failed sign-ins from your address: try again in ${minutes} "
                      "minute(s).", mapping={"minutes": wait})
                )
                raise TooManyAttempts(message, retry_after=wait * 60)

    def record_failure(self, email, address):
        self.counter.record(*self.keys(email, address))

    def record_success(self, email):
        self.counter.clear(f"account:{email}")

"""Throttles: attempts counted per key in a window, in the database, so that
every app process and thread shares one count.

Each key has one row in ``throttle_counters``, changed by a single
``INSERT … ON CONFLICT DO UPDATE … RETURNING``: concurrent attempts each get
their own count, on SQLite and on PostgreSQL alike. An attempt whose outcome
costs something to learn (a password checked, a code verified) is *reserved*
before it is evaluated (:meth:`WindowCounter.reserve`), so that at most
``limit`` are evaluated in a window however many arrive at once.

Sign-ins (:class:`SignInThrottle`) are keyed so that nobody can lock a user
out: a browser the account has signed in from before (a *known device*) has
a count of its own; other attempts are counted per account and client
address, per client address (generously: an office shares one), and for the
account as a whole, which only delays strangers.
"""

from datetime import timedelta

from sqlalchemy import case, delete, select, update

from ..i18n import _
from ..models import ThrottleCounter, insert_for
from .errors import DomainError

WINDOW = timedelta(minutes=15)
#: Wrong passwords for one account from one client address (or one known
#: device) before that pair must wait for the window to end.
MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS = 5
#: Wrong passwords from one client address, whatever the accounts: generous,
#: since an office or a campus signs in from one address.
MAX_FAILURES_PER_ADDRESS = 50
#: Wrong passwords for one account from devices it never signed in from,
#: whatever their addresses; past it, strangers wait (a delay for a new
#: device), while the account's known devices still sign in.
MAX_FAILURES_PER_ACCOUNT = 10


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"


def _minutes(seconds):
    return max(1, -(-int(seconds) // 60))


class WindowCounter:
    """Events counted per key over a ``window`` that starts at a key's first
    event and ends ``window`` later; the next event after it starts a new
    one. Every throttle (sign-ins, resets, sign-ups, address searches)
    shares the ``throttle_counters`` table, told apart by the keys' prefixes."""

    def __init__(self, dbsession, now, window):
        self.dbsession = dbsession
        self.now = now
        self.window = window

    def _wait(self, window_start):
        """Whole minutes until the window that began at ``window_start`` ends."""
        return _minutes((window_start + self.window - self.now).total_seconds())

    def minutes_to_wait(self, key, limit):
        """How long ``key`` must wait, in whole minutes, when it reached
        ``limit`` events in its window; else ``None``. Counts nothing: to
        check and count at once, :meth:`reserve`."""
        row = self.dbsession.execute(
            select(ThrottleCounter.count, ThrottleCounter.window_start)
            .where(ThrottleCounter.key == key)).one_or_none()
        if row is None or row.window_start <= self.now - self.window or row.count < limit:
            return None
        return self._wait(row.window_start)

    def _count(self, key, limit=None):
        """Count one event for ``key`` in one statement; return the row's
        ``(count, window_start)``. With ``limit``, the count stops at
        ``limit + 1``: a refused attempt is not counted twice."""
        table = ThrottleCounter
        stale = table.window_start <= self.now - self.window
        grown = table.count + 1 if limit is None else case(
            (table.count < limit, table.count + 1), else_=limit + 1)
        stmt = insert_for(self.dbsession, table).values(key=key, count=1, window_start=self.now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.key],
            set_={"count": case((stale, 1), else_=grown),
                  "window_start": case((stale, self.now), else_=table.window_start)},
        ).returning(table.count, table.window_start)
        return self.dbsession.execute(stmt).one()

    def reserve(self, key, limit):
        """Check and count one attempt for ``key`` atomically: ``None`` when
        it is one of the first ``limit`` of the window (go ahead), else the
        minutes to wait (it is not counted). On PostgreSQL the key's row
        stays locked until the transaction ends, so attempts of one key
        queue behind one another."""
        count, window_start = self._count(key, limit)
        if count <= limit:
            return None
        return self._wait(window_start)

    def release(self, key):
        """Give back an attempt :meth:`reserve` counted for ``key``."""
        self.dbsession.execute(
            update(ThrottleCounter).where(ThrottleCounter.key == key, ThrottleCounter.count > 0)
            .values(count=ThrottleCounter.count - 1))

    def record(self, *keys):
        """Count one event for each of ``keys``."""
        for key in sorted(set(keys)):  # one order: two transactions never wait on each other
            self._count(key)

    def clear(self, key):
        self.dbsession.execute(delete(ThrottleCounter).where(ThrottleCounter.key == key))

    def clear_prefix(self, prefix):
        """Forget every key that begins with ``prefix``."""
        self.dbsession.execute(
            delete(ThrottleCounter).where(ThrottleCounter.key.startswith(prefix, autoescape=True)))


class KeyedLimits:
    """Events (emails asked for, attempts) counted on several keys at once
    over one :attr:`window`, each key with its limit: :meth:`check` before
    the event, :meth:`record` after. Subclasses name the keys and the words."""

    window = timedelta(hours=1)

    def __init__(self, dbsession, now):
        self.counter = WindowCounter(dbsession, now, self.window)

    def keys(self, *who):
        """``{key: limit}`` of the event of ``who``."""
        raise NotImplementedError

    def message(self, key, minutes):
        raise NotImplementedError

    def check(self, *who):
        """Raise :class:`TooManyAttempts` if any key is over its limit."""
        for key, limit in self.keys(*who).items():
            wait = self.counter.minutes_to_wait(key, limit)
            if wait is not None:
                raise TooManyAttempts(self.message(key, wait), retry_after=wait * 60)

    def record(self, *who):
        self.counter.record(*self.keys(*who))


def forget_stale_counters(dbsession, now, age=timedelta(days=1)):
    """Delete the counters whose window began more than ``age`` ago (longer
    than any throttle's window): keys seen once do not pile up."""
    return dbsession.execute(
        delete(ThrottleCounter).where(ThrottleCounter.window_start < now - age)).rowcount


class SignInAttempt:
    """The keys one sign-in attempt reserved, to settle once the password
    is checked: :meth:`SignInThrottle.succeeded` or
    :meth:`SignInThrottle.failed`."""

    def __init__(self, email, keys):
        self.email = email
        self.keys = keys


class SignInThrottle:
    """Password (or code) attempts for an account, reserved before they are
    evaluated. ``device`` is the id of a browser the account signed in from
    before, already verified by the caller
    (:class:`~booking.services.devices.KnownDevices`), or ``None``.

    Usage::

        attempt = throttle.reserve(email, client_addr, device)  # TooManyAttempts
        if ok: throttle.succeeded(attempt)
        else:  throttle.failed(attempt)
    """

    def __init__(self, dbsession, now, scope="signin"):
        self.counter = WindowCounter(dbsession, now, WINDOW)
        self.scope = scope

    def limits(self, email, address, device=None):
        """``[(key, limit, message)]`` in the order they are reserved."""
        scope = self.scope
        if device is not None:
            return [(f"{scope}:device:{email}|{device}", MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS,
                     self.account_message)]
        return [
            (f"{scope}:pair:{email}|{address}", MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS,
             self.account_message),
            (f"{scope}:address:{address}", MAX_FAILURES_PER_ADDRESS, self.address_message),
            (f"{scope}:account:{email}", MAX_FAILURES_PER_ACCOUNT, self.strangers_message),
        ]

    @staticmethod
    def account_message(minutes):
        return _("Too many failed sign-ins for this account: try again in ${minutes} "
                 "minute(s).", mapping={"minutes": minutes})

    @staticmethod
    def address_message(minutes):
        return _("Too many failed sign-ins from your address: try again in ${minutes} "
                 "minute(s).", mapping={"minutes": minutes})

    @staticmethod
    def strangers_message(minutes):
        return _("This account has had many failed sign-ins from other devices: try again "
                 "in ${minutes} minute(s), or from a browser you have signed in with before.",
                 mapping={"minutes": minutes})

    def reserve(self, email, address, device=None):
        """Reserve one attempt on each of the keys, or raise
        :class:`TooManyAttempts` (with ``retry_after`` in seconds) and
        reserve none."""
        reserved = []
        for key, limit, message in self.limits(email, address, device):
            wait = self.counter.reserve(key, limit)
            if wait is not None:
                for taken in reserved:
                    self.counter.release(taken)
                raise TooManyAttempts(message(wait), retry_after=wait * 60)
            reserved.append(key)
        return SignInAttempt(email, reserved)

    def failed(self, attempt):
        """A wrong password: the reserved attempts stay counted."""

    def succeeded(self, attempt):
        """The right password: its pair (or device) starts afresh, and the
        attempt does not count against the address or the account."""
        first, *others = attempt.keys
        self.counter.clear(first)
        for key in others:
            self.counter.release(key)

    def forget_account(self, email):
        """Every count of ``email`` starts afresh (a new password was set)."""
        self.counter.clear_prefix(f"{self.scope}:pair:{email}|")
        self.counter.clear_prefix(f"{self.scope}:device:{email}|")
        self.counter.clear(f"{self.scope}:account:{email}")

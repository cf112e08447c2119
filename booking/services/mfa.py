"""Two-step sign-in: an authenticator app (TOTP, RFC 6238, with ``pyotp``)
and one-time recovery codes; passkeys are in :mod:`.passkeys`.

A TOTP code is accepted one time step (30 s) early or late, and never
twice: the step of the last code accepted is kept, and a code of that step
or an earlier one is refused, also when two requests race (the step is
written by one conditional ``UPDATE``). Recovery codes are long random
secrets kept as SHA-256 digests, each used once; a new set replaces the old.
Wrong second steps are throttled per account."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
import segno
from sqlalchemy import delete, exists, func, select, update

from ..i18n import _
from ..models import ApiToken, Passkey, RecoveryCode, TotpFactor, User
from ..passwords import verify_password
from .errors import ValidationError
from .throttle import TooManyAttempts, WindowCounter
from .security_log import Event, SecurityLog

ISSUER = "Booking"
STEP_SECONDS = 30
#: Codes of the step before and after the server's are accepted.
DRIFT_STEPS = 1
RECOVERY_CODES = 10
#: 16 characters of base32: 80 random bits per code.
RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
RECOVERY_LENGTH = 16
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_SECOND_STEP_FAILURES = 5


class SecondStepRequired(ValidationError):
    """The API token endpoint was not sent the ``otp`` its user needs."""

    status = 401
    code = "otp_required"


class SecondStepRefused(ValidationError):
    status = 401
    code = "invalid_otp"


def recovery_digest(code):
    """The digest of a recovery code as typed: case, spaces and dashes aside."""
    normal = "".join(code.split()).replace("-", "").lower()
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def new_recovery_code():
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, RECOVERY_LENGTH, 4))


def qr_svg(uri):
    """The QR code of ``uri`` as inline SVG markup (no script, no style)."""
    return segno.make(uri, error="m").svg_inline(scale=4, light="#fff")


@dataclass(frozen=True)
class Enrolment:
    """An authenticator app being set up: its secret, as text and as a QR code."""

    secret: str
    uri: str

    @property
    def qr_svg(self):
        return qr_svg(self.uri)


@dataclass(frozen=True)
class Factors:
    totp: bool
    passkeys: int
    recovery_codes_left: int

    @property
    def any(self):
        return self.totp or self.passkeys > 0


def has_second_factor(dbsession, user):
    """Whether ``user`` signs in in two steps (an app or a passkey)."""
    return dbsession.scalar(select(
        exists().where(TotpFactor.user_id == user.id, TotpFactor.confirmed_at.is_not(None))
        | exists().where(Passkey.user_id == user.id)))


def may_sign_in(user):
    """Whether ``user``'s account opens at all: not erased, address confirmed."""
    return user is not None and user.erased_at is None and user.email_confirmed_at is not None


def forget_factors(dbsession, user):
    """Remove every second factor of ``user`` (an erased account)."""
    for model in (TotpFactor, RecoveryCode, Passkey):
        dbsession.execute(delete(model).where(model.user_id == user.id)
                          .execution_options(synchronize_session=False))


class SecondStepThrottle:
    """Wrong codes per account: after :data:`MAX_SECOND_STEP_FAILURES` in
    the window, the account waits (the password step is counted apart)."""

    def __init__(self, dbsession, now):
        self.counter = WindowCounter(dbsession, now, THROTTLE_WINDOW)

    @staticmethod
    def key(user):
        return f"second-step:{user.id}"

    def reserve(self, user):
        """Count one attempt before the code is checked, atomically (so
        concurrent guesses cannot pass the limit), or raise
        :class:`TooManyAttempts` when the window's attempts are spent."""
        wait = self.counter.reserve(self.key(user), MAX_SECOND_STEP_FAILURES)
        if wait is not None:
            SecurityLog(self.counter.dbsession, self.counter.now).record(
                Event.SECOND_STEP_THROTTLED, user_id=user.id)
            raise TooManyAttempts(
                _("Too many wrong codes: try again in ${minutes} minute(s).",
                  mapping={"minutes": wait}), retry_after=wait * 60)

    def succeeded(self, user):
        self.counter.clear(self.key(user))


class MfaService:
    def __init__(self, dbsession, now):
        self.dbsession = dbsession
        self.now = now
        self.throttle = SecondStepThrottle(dbsession, now)
        self.security_log = SecurityLog(dbsession, now)

    # -- what a user has

    def user(self, user_id):
        """The user of a pending sign-in, while their account may sign in."""
        user = self.dbsession.get(User, user_id)
        return user if may_sign_in(user) else None

    def _totp(self, user, confirmed=True):
        query = select(TotpFactor).where(TotpFactor.user_id == user.id)
        if confirmed:
            query = query.where(TotpFactor.confirmed_at.is_not(None))
        return self.dbsession.scalar(query)

    def factors(self, user):
        passkeys = self.dbsession.scalar(
            select(func.count()).select_from(Passkey).where(Passkey.user_id == user.id))
        codes = self.dbsession.scalar(
            select(func.count()).select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))
        return Factors(totp=self._totp(user) is not None, passkeys=passkeys,
                       recovery_codes_left=codes)

    def has_second_factor(self, user):
        """Whether ``user`` signs in in two steps (an app or a passkey)."""
        return has_second_factor(self.dbsession, user)

    def signed_in(self, user, kind, client_addr, via="site"):
        """``user`` passed the second step (``kind``: ``totp``,
        ``recovery_code``, ``passkey``) of a sign-in: now it is one."""
        self.security_log.record(Event.SIGN_IN, user_id=user.id, client_addr=client_addr,
                                 via=via, second_factor=kind)

    # -- the authenticator app

    def start_totp(self, user):
        """A new secret for ``user``'s app, not active until confirmed; an
        earlier unconfirmed one is replaced. Refused while one is active."""
        if self._totp(user) is not None:
            raise ValidationError(_("Two-step sign-in with an app is already on."))
        self.dbsession.execute(delete(TotpFactor).where(TotpFactor.user_id == user.id))
        secret = pyotp.random_base32()
        self.dbsession.add(TotpFactor(user_id=user.id, secret=secret, created_at=self.now))
        self.dbsession.flush()
        return self.enrolment(user)

    def enrolment(self, user):
        """The app being set up, or ``None``."""
        factor = self._totp(user, confirmed=False)
        if factor is None or factor.confirmed_at is not None:
            return None
        uri = pyotp.TOTP(factor.secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
        return Enrolment(factor.secret, uri)

    def confirm_totp(self, user, code):
        """Turn the app on with a current ``code``; the new recovery codes
        (shown once) when it is the user's first second factor, else ``[]``."""
        factor = self._totp(user, confirmed=False)
        if factor is None or factor.confirmed_at is not None:
            raise ValidationError(_("Start the set-up again: there is no app to confirm."),
                                  field="code")
        first = not self.has_second_factor(user)
        self.throttle.reserve(user)
        if not self._accept_totp(factor, code):
            raise ValidationError(_("This code is not right: check the time on your device "
                                    "and try the current code."), field="code")
        self.throttle.succeeded(user)
        factor.confirmed_at = self.now
        self.security_log.record(Event.MFA_ENABLED, user_id=user.id, factor="totp")
        return self.first_factor_added(user) if first else []

    def first_factor_added(self, user):
        """``user`` now signs in in two steps: their API tokens, given for a
        password alone, are revoked (a token passes the staff areas that
        require a second step); returns their new recovery codes."""
        revoked = self.dbsession.execute(
            update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=self.now).execution_options(synchronize_session=False)).rowcount
        if revoked:
            self.security_log.record(Event.API_TOKEN_REVOKED, user_id=user.id, count=revoked,
                                     reason="second factor added")
        return self.new_recovery_codes(user)

    def _matching_step(self, secret, code):
        code = "".join((code or "").split())
        if not (len(code) == 6 and code.isascii() and code.isdigit()):
            return None
        totp = pyotp.TOTP(secret)
        current = int(self.now.timestamp()) // STEP_SECONDS
        for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
            if hmac.compare_digest(totp.generate_otp(step), code):
                return step
        return None

    def _accept_totp(self, factor, code):
        """Whether ``code`` is right for ``factor`` and of a later step than
        the last accepted (recorded then, by one conditional update)."""
        step = self._matching_step(factor.secret, code)
        if step is None:
            return False
        claimed = self.dbsession.execute(
            update(TotpFactor)
            .where(TotpFactor.id == factor.id,
                   (TotpFactor.last_step.is_(None)) | (TotpFactor.last_step < step))
            .values(last_step=step)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed:
            self.dbsession.expire(factor, ["last_step"])
        return bool(claimed)

    def disable_totp(self, user, password="", code=""):
        """Turn the app off, proven by the password or a code (of the app or
        a recovery code). Without a passkey left, the recovery codes go too."""
        ok, _unused = verify_password(password, user.password_hash) if password else (False, None)
        if not ok and not (code and self.verify(user, code)):
            raise ValidationError(_("Give your password or a current code."), field="password")
        self.dbsession.execute(delete(TotpFactor).where(TotpFactor.user_id == user.id))
        if not self.has_second_factor(user):
            self.dbsession.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        self.security_log.record(Event.MFA_DISABLED, user_id=user.id, factor="totp")

    # -- recovery codes

    def new_recovery_codes(self, user):
        """Ten new codes (shown once); the earlier ones stop working."""
        self.dbsession.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
        self.dbsession.add_all(RecoveryCode(user_id=user.id, digest=recovery_digest(code),
                                            created_at=self.now) for code in codes)
        self.dbsession.flush()
        return codes

    def _use_recovery_code(self, user, code):
        return bool(self.dbsession.execute(
            update(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None),
                   RecoveryCode.digest == recovery_digest(code))
            .values(used_at=self.now)
            .execution_options(synchronize_session=False)
        ).rowcount)

    # -- the second step

    def verify(self, user, code):
        """``"totp"`` or ``"recovery_code"`` when ``code`` is a right code of
        ``user``'s app or one of their unused recovery codes (used up now),
        else ``None``. Throttled (``TooManyAttempts``)."""
        self.throttle.reserve(user)
        code = (code or "").strip()[:64]
        kind = None
        factor = self._totp(user)
        if factor is not None and self._accept_totp(factor, code):
            kind = "totp"
        elif len(code) > 6 and self._use_recovery_code(user, code):
            kind = "recovery_code"
        if kind is None:
            self.security_log.record(Event.SECOND_STEP_FAILED, user_id=user.id)
        else:
            self.throttle.succeeded(user)
            if kind == "recovery_code":
                self.security_log.record(Event.RECOVERY_CODE_USED, user_id=user.id)
        return kind

    def check_api_sign_in(self, user, otp, client_addr=None):
        """The second step of an API sign-in (``POST /api/v1/tokens``): a
        user with a second factor must send ``otp``, a code of their app or
        a recovery code. Raises :class:`SecondStepRequired` or
        :class:`SecondStepRefused`."""
        if not self.has_second_factor(user):
            return None
        if not otp:
            raise SecondStepRequired(
                _("This account signs in in two steps: send 'otp', a code of the "
                  "authenticator app or a recovery code."), field="otp")
        kind = self.verify(user, otp)
        if kind is None:
            raise SecondStepRefused(_("The code is wrong or was used already."), field="otp")
        self.signed_in(user, kind, client_addr, via="api")
        return kind

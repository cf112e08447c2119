"""Password hashing through passlib's ``CryptContext``.

argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane); bcrypt is kept as a
deprecated scheme so that older hashes still verify and are upgraded on the
next sign-in. One hash costs tens of milliseconds: never on a hot path.
"""

import functools

from passlib.context import CryptContext

from .i18n import _

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
#: The password hash of an account with no password yet (a walk-in customer,
#: an invited member): nothing verifies against it, and signing in costs the
#: same as for a wrong password. Its owner sets one through an emailed link.
UNUSABLE_PASSWORD = ""

password_context = CryptContext(
    schemes=["argon2", "bcrypt"],
    deprecated=["bcrypt"],
    argon2__type="ID",
    argon2__memory_cost=19 * 1024,
    argon2__time_cost=2,
    argon2__parallelism=1,
)


def password_problem(password):
    """Why ``password`` is not acceptable, or ``None``."""
    if not isinstance(password, str):
        return _("must be a string")
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("must be at least ${min_length} characters long",
                 mapping={"min_length": MIN_PASSWORD_LENGTH})
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("must be at most ${max_length} characters long",
                 mapping={"max_length": MAX_PASSWORD_LENGTH})
    return None


def has_password(user):
    """Whether ``user`` has chosen a password (and so can sign in)."""
    return user.password_hash != UNUSABLE_PASSWORD


def hash_password(password):
    return password_context.hash(password)


def verify_password(password, password_hash):
    """Return ``(ok, new_hash)``; ``new_hash`` is set when the stored hash
    uses outdated parameters and should be replaced."""
    if not password_hash or len(password) > MAX_PASSWORD_LENGTH:
        return False, None
    return password_context.verify_and_update(password, password_hash)


@functools.cache
def _dummy_hash():
    return hash_password("dummy-password-for-timing")


def burn_verification(password):
    """Verify against a throwaway hash, so that a sign-in for an unknown email
    costs as much as one for a known email (no account enumeration by timing)."""
    password_context.verify(password[:MAX_PASSWORD_LENGTH], _dummy_hash())


def new_password_problems(password, confirm):
    """``{field: message}`` for a new password typed twice; empty when fine."""
    problem = password_problem(password)
    if problem:
        return {"password": problem}
    if password != confirm:
        return {"confirm": _("does not match the password")}
    return {}

"""Password hashing through passlib's ``CryptContext``.

argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane); bcrypt is kept as a
deprecated scheme so that older hashes still verify and are upgraded on the
next sign-in. One hash costs tens of milliseconds: never on a hot path.
"""

import functools
import re
import threading

from passlib.context import CryptContext
from zxcvbn import zxcvbn

from .i18n import _

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
#: zxcvbn's score (0-4) a new password must reach: 3 is "safely
#: unguessable" (about 10^8 guesses or more), out of reach of online guessing
#: and costly offline against argon2id.
MIN_STRENGTH = 3
#: zxcvbn refuses longer input (its cost grows with the length): a longer
#: password is judged by its first characters, a lower bound of its strength.
STRENGTH_CHECKED_LENGTH = 72
#: Words every account of this site has in common.
SITE_WORDS = ("booking",)
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


def password_problem(password, user_inputs=()):
    """Why ``password`` is not acceptable, or ``None``. ``user_inputs`` are
    what an attacker would try first for this account (its email, its
    name): see :func:`personal_words`."""
    if not isinstance(password, str):
        return _("must be a string")
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("must be at least ${min_length} characters long",
                 mapping={"min_length": MIN_PASSWORD_LENGTH})
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("must be at most ${max_length} characters long",
                 mapping={"max_length": MAX_PASSWORD_LENGTH})
    return strength_problem(password, user_inputs)


def personal_words(email="", name=""):
    """The words of ``email`` and ``name`` a guesser would try: the whole
    address, its parts, the name and its parts."""
    email, name = (email or "").lower(), (name or "").lower()
    local, _at, domain = email.partition("@")
    local_parts, name_parts = re.split(r"[^\w]+", local), re.split(r"[^\w]+", name)
    words = [email, local, *local_parts, "".join(local_parts), domain.split(".")[0],
             name, *name_parts, "".join(name_parts)]
    return [word for word in dict.fromkeys(words) if len(word) >= 3]


#: zxcvbn keeps the user inputs of a call in a module-level dictionary: two
#: threads checking at once would see each other's. One check at a time
#: (a few milliseconds each).
_zxcvbn_lock = threading.Lock()

#: The weakness of a password, by the pattern of its longest guessable part.
WEAKNESSES = {
    "user_inputs": _("is too easy to guess: it contains your name or your email address."),
    "passwords": _("is too easy to guess: it is, or looks like, a common password."),
    "names": _("is too easy to guess: names are among the first guesses. Add a few "
               "uncommon words."),
    "words": _("is too easy to guess: a word or two alone is not enough. Add a few "
               "uncommon words."),
    "spatial": _("is too easy to guess: keyboard patterns like \"qwerty\" are tried first."),
    "repeat": _("is too easy to guess: it repeats characters or words."),
    "sequence": _("is too easy to guess: sequences like \"abc\" or \"6543\" are tried "
                  "first."),
    "date": _("is too easy to guess: dates and years are tried first."),
}
GENERIC_WEAKNESS = _("is too easy to guess: make it longer, with a few uncommon words.")


def _weakness(sequence):
    if any(match.get("dictionary_name") == "user_inputs" for match in sequence):
        return WEAKNESSES["user_inputs"]
    if not sequence:
        return GENERIC_WEAKNESS
    longest = max(sequence, key=lambda match: len(match["token"]))
    pattern = longest["pattern"]
    if pattern == "dictionary":
        name = longest["dictionary_name"]
        key = ("passwords" if name == "passwords" else
               "names" if name in ("surnames", "male_names", "female_names") else "words")
        return WEAKNESSES[key]
    if pattern == "regex":
        pattern = "date"
    return WEAKNESSES.get(pattern, GENERIC_WEAKNESS)


def strength_problem(password, user_inputs=()):
    """Why ``password`` is too easy to guess (zxcvbn's estimate, with
    ``user_inputs`` and the site's words as a guesser's first tries), or
    ``None``."""
    checked = password[:STRENGTH_CHECKED_LENGTH]
    inputs = [*user_inputs, *SITE_WORDS]
    with _zxcvbn_lock:
        result = zxcvbn(checked, user_inputs=inputs, max_length=STRENGTH_CHECKED_LENGTH)
    if result["score"] >= MIN_STRENGTH:
        return None
    return _weakness(result["sequence"])


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


def new_password_problems(password, confirm, user_inputs=()):
    """``{field: message}`` for a new password typed twice; empty when fine."""
    problem = password_problem(password, user_inputs)
    if problem:
        return {"password": problem}
    if password != confirm:
        return {"confirm": _("does not match the password")}
    return {}

"""A business joins: the checks of its sign-up, the sign-up itself (the
tenant, its owner's membership, and the owner's account when new: all or
nothing), and the throttle that keeps one address from creating many."""

import re
import unicodedata
from datetime import timedelta

from babel.numbers import get_currency_precision, list_currencies
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..i18n import LANGUAGES, _
from ..models import Membership, Role, Tenant, User, normalize_email
from ..passwords import UNUSABLE_PASSWORD
from . import audit
from .errors import Conflict, DomainError
from .slots import valid_time_zone
from .text import one_line_problem
from .throttle import WindowCounter

SLUG_MIN, SLUG_MAX = 3, 40
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
#: First path segments of the site and the API, and words kept for the
#: platform: never a business's slug.
RESERVED_SLUGS = frozenset({
    "about", "account", "admin", "api", "app", "assets", "billing", "blog", "booking",
    "bookings", "contact", "docs", "feeds", "help", "invitations", "language", "login",
    "logout", "manage", "media", "near", "new", "payments", "privacy", "register", "reset",
    "root", "settings", "signup", "static", "status", "support", "system", "t", "terms",
    "tokens", "www",
})

#: Sign-ups allowed per client address and window.
SIGNUPS_PER_ADDRESS = 5
SIGNUP_WINDOW = timedelta(hours=1)


class TooManySignups(DomainError):
    status = 429
    code = "too_many_signups"


def suggest_slug(name):
    """A slug made of the name: ``"Café de la Gare"`` → ``cafe-de-la-gare``."""
    ascii_name = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-")


def slug_problem(dbsession, slug):
    """Why ``slug`` cannot be a new business's address, or ``None``."""
    if not SLUG_MIN <= len(slug) <= SLUG_MAX:
        return _("must be ${min} to ${max} characters long",
                 mapping={"min": SLUG_MIN, "max": SLUG_MAX})
    if not SLUG_PATTERN.match(slug):
        return _("may contain only lowercase letters, digits and dashes, and must not start "
                 "or end with a dash")
    if slug in RESERVED_SLUGS:
        return _("is reserved: choose another address")
    if slug_taken(dbsession, slug):
        return _("is already taken: choose another address")
    return None


def slug_taken(dbsession, slug):
    """A tenant has it (a tenant whose deletion is pending keeps it until
    it is purged)."""
    return dbsession.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None


def currency_problem(code):
    if len(code) != 3 or not code.isascii() or code not in list_currencies():
        return _("is not an ISO 4217 currency code, e.g. EUR")
    if get_currency_precision(code) != 2:
        # Prices are stored in hundredths everywhere (see docs/decisions.md).
        return _("must be a currency with cents (two decimals), e.g. EUR or USD")
    return None


def business_problems(dbsession, values):
    """``{field: message}`` for the business fields of a sign-up: ``name``,
    ``slug``, ``time_zone``, ``currency``, ``locale``."""
    problems = {}
    name = values.get("name", "").strip()
    if not name:
        problems["name"] = _("is required")
    elif len(name) > 200:
        problems["name"] = _("must be at most ${max_length} characters long",
                             mapping={"max_length": 200})
    elif problem := one_line_problem(name):
        problems["name"] = problem
    problem = slug_problem(dbsession, values.get("slug", ""))
    if problem:
        problems["slug"] = problem
    if not valid_time_zone(values.get("time_zone", "")):
        problems["time_zone"] = _("is not a known IANA time zone, e.g. Europe/Paris")
    problem = currency_problem(values.get("currency", ""))
    if problem:
        problems["currency"] = problem
    if values.get("locale") not in LANGUAGES:
        problems["locale"] = _("must be one of ${choices}",
                               mapping={"choices": ", ".join(LANGUAGES)})
    return problems


class SlugTaken(Conflict):
    """Another sign-up took the slug between our check and our insert."""


def create_tenant(dbsession, now, owner, name, slug, time_zone, currency, locale="en",
                  verified=True):
    """The tenant and its owner's membership. ``owner`` is a ``User`` (new
    ones unflushed or flushed); ``verified`` is False for a business whose
    owner has still to confirm their address. Everything happens in a savepoint: if the
    slug was taken meanwhile (a unique violation), nothing of it stays,
    not even a new owner's account, and :class:`SlugTaken` is raised."""
    savepoint = dbsession.begin_nested()
    try:
        dbsession.add(owner)
        dbsession.flush()
        tenant = Tenant(slug=slug, name=name.strip(), time_zone=time_zone, currency=currency,
                        locale=locale, created_at=now, verified=verified)
        dbsession.add(tenant)
        dbsession.flush()
        add_owner(dbsession, tenant, owner)
        dbsession.flush()
    except IntegrityError:
        savepoint.rollback()  # a new owner, added inside it, is forgotten too
        raise SlugTaken(_("was taken by another business a moment ago: choose another "
                          "address"), field="slug") from None
    savepoint.commit()
    audit.record(dbsession, tenant.id, owner.id, "tenant.created", "tenant", tenant.id, now,
                 slug=slug)
    return tenant


def add_owner(dbsession, tenant, owner):
    dbsession.add(Membership(tenant_id=tenant.id, user_id=owner.id, role=Role.OWNER))


def owner_for_email(dbsession, now, email, name="", locale="en"):
    """The user of ``email``, or a new one without a usable password (they
    choose it with "forgot password"); and whether it is new."""
    email = normalize_email(email)
    user = dbsession.scalar(select(User).where(User.email == email))
    if user is not None:
        return user, False
    return User(email=email, name=name or email.split("@")[0], password_hash=UNUSABLE_PASSWORD,
                created_at=now, locale=locale), True


class SignupThrottle:
    """Sign-ups per client address, counted under ``signup-address:<address>``."""

    def __init__(self, dbsession, now):
        self.counter = WindowCounter(dbsession, now, SIGNUP_WINDOW)

    @staticmethod
    def key(address):
        return f"signup-address:{address}"

    def check(self, address):
        wait = self.counter.minutes_to_wait(self.key(address), SIGNUPS_PER_ADDRESS)
        if wait is not None:
            raise TooManySignups(
                _("Too many businesses were signed up from your address: try again in "
                  "${minutes} minute(s).", mapping={"minutes": wait}),
                retry_after=wait * 60)

    def record(self, address):
        self.counter.record(self.key(address))

"""People and businesses joining: a person's account (sign in, register,
change the password) and a business signing up with its owner.

The rules are those of :mod:`booking.services.accounts` and
:mod:`booking.services.onboarding`; these services give the views one
object each, found with ``request.find_service``."""

from ..i18n import _
from ..models import User, normalize_email
from ..passwords import hash_password, password_problem, personal_words, verify_password
from . import accounts, onboarding
from .security_log import Event, SecurityLog
from .confirmation import AccountMailThrottle, AddressConfirmations
from .user_tokens import end_sessions


class AccountService:
    """``notifier`` sends the confirmation links and the "someone tried"
    warnings (see :mod:`booking.services.confirmation`)."""

    def __init__(self, dbsession, now, devices=None, notifier=None):
        self.dbsession = dbsession
        self.now = now
        self.devices = devices
        self.confirmations = AddressConfirmations(dbsession, now, notifier)

    def authenticate(self, email, password, client_addr, device_cookie=None):
        """The user of ``email`` and ``password``, or ``None``; refuses
        (``TooManyAttempts``) while throttled. ``device_cookie`` is the
        browser's known-device cookie: an account's own browser is
        throttled apart from strangers guessing its password."""
        def known_device(user):
            return self.devices.recognise(device_cookie, user) if self.devices else None
        return accounts.authenticate(self.dbsession, self.now, email, password, client_addr,
                                     known_device)

    def remember_device(self, user, device_cookie=None):
        """The known-device cookie's new value once ``user`` signed in from
        this browser."""
        return self.devices.remember(device_cookie, user)

    def registration_problems(self, name, email, password, phone=""):
        return accounts.registration_problems(self.dbsession, name, email, password, phone)

    def register(self, name, email, password, client_addr, phone="", locale=None,
                 send_link=True):
        """Register ``email`` (the caller checked :meth:`registration_problems`)
        without telling whether it had an account: a new address gets an
        unconfirmed account (and, with ``send_link``, its confirmation link),
        a known one an email saying someone tried. Raises ``TooManyAttempts``
        while the address or the client must wait. Returns the new user, or
        ``None``: never show the visitor which."""
        throttle = AccountMailThrottle(self.dbsession, self.now)
        throttle.check(email, client_addr)
        throttle.record(email, client_addr)
        existing = self.confirmations.account_of(email)
        if existing is not None:
            hash_password(password)  # the same work, so the same time, as a new account
            self.confirmations.tell_existing(existing)
            return None
        extra = {} if locale is None else {"locale": locale}
        user = accounts.register(self.dbsession, self.now, name, normalize_email(email),
                                 password, phone, **extra)
        if send_link:
            self.confirmations.send_link(user)
        return user

    def confirmation_link(self, user):
        """A fresh link that confirms ``user``'s address (a secret: email it only)."""
        return self.confirmations.link(user)

    def confirm_address(self, token):
        """Follow a confirmation link: the user, or ``None`` if used meanwhile."""
        return self.confirmations.confirm(token)

    def change_password(self, user, current, new, confirm, client_addr=None):
        """``{field: message}``; when empty, ``new`` is ``user``'s password
        and every session of theirs ends (the caller signs the browser in
        again)."""
        errors = {}
        ok, _unused = verify_password(current, user.password_hash)
        if not ok:
            errors["current"] = _("is not your current password")
        problem = password_problem(new, personal_words(user.email, user.name))
        if problem:
            errors["new"] = problem
        elif new != confirm:
            errors["confirm"] = _("does not match the new password")
        if not errors:
            user.password_hash = hash_password(new)
            ended = end_sessions(self.dbsession, user, self.now)
            SecurityLog(self.dbsession, self.now).record(
                Event.PASSWORD_CHANGED, user_id=user.id, client_addr=client_addr, **ended)
        return errors


class SignupService:
    """A business signs up: its checks, the tenant and its owner (an
    account made on the way for a visitor), and the per-address count.

    A visitor's sign-up answers the same whether or not their address has
    an account: a new one gets the business, owned by a new unconfirmed
    account, and the link that confirms it; a known one only an email
    saying someone tried (sign in first, then sign the business up). The
    business is not listed, invites nobody and sends few emails until its
    owner's address is confirmed."""

    def __init__(self, dbsession, now, notifier=None):
        self.dbsession = dbsession
        self.now = now
        self.throttle = onboarding.SignupThrottle(dbsession, now)
        self.confirmations = AddressConfirmations(dbsession, now, notifier)

    def check_allowed(self, client_addr):
        """Raise ``TooManySignups`` while ``client_addr`` must wait."""
        self.throttle.check(client_addr)

    def problems(self, values, password=None):
        """``{field: message}`` of the form's ``values``; with ``password``
        (a visitor, not a signed-in user) the owner's account is checked too."""
        errors = onboarding.business_problems(self.dbsession, values)
        if password is not None:
            problems = accounts.registration_problems(self.dbsession, values["owner_name"],
                                                      values["email"], password)
            errors.update({"owner_name" if key == "name" else key: message
                           for key, message in problems.items()})
        return errors

    def sign_up(self, values, client_addr, owner):
        """The tenant of ``values`` owned by signed-in ``owner``, counted for
        ``client_addr`` (verified when their address is confirmed). Raises
        ``SlugTaken`` (nothing kept) when the slug was taken meanwhile."""
        tenant = self.create(values, owner)
        self.throttle.record(client_addr)
        return tenant

    def sign_up_visitor(self, values, password, client_addr):
        """A visitor's sign-up (see the class): raises ``TooManyAttempts``
        while their address or client must wait, ``SlugTaken`` as
        :meth:`sign_up`. Returns nothing, whichever happened."""
        throttle = AccountMailThrottle(self.dbsession, self.now)
        throttle.check(values["email"], client_addr)
        throttle.record(values["email"], client_addr)
        self.throttle.record(client_addr)
        existing = self.confirmations.account_of(values["email"])
        if existing is not None:
            hash_password(password)  # the same work as a new owner's account
            self.confirmations.tell_existing(existing)
            return
        owner = User(email=normalize_email(values["email"]), name=values["owner_name"],
                     password_hash=hash_password(password), created_at=self.now,
                     locale=values["locale"])
        self.create(values, owner)
        self.confirmations.send_link(owner)

    def create(self, values, owner):
        return onboarding.create_tenant(self.dbsession, self.now, owner, values["name"],
                                        values["slug"], values["time_zone"],
                                        values["currency"], values["locale"],
                                        verified=owner.email_confirmed_at is not None)

    def create_for_email(self, values, email):
        """The tenant of ``values`` created for the platform (``booking-tenant
        create``), owned by the account of ``email``, or by a new one
        without a usable password (its owner chooses one with "forgot
        password"); counted for no address. Raises ``SlugTaken`` as
        :meth:`sign_up`. Returns ``(tenant, owner, whether the owner is new)``."""
        owner, new = onboarding.owner_for_email(self.dbsession, self.now, email,
                                                locale=values["locale"])
        tenant = onboarding.create_tenant(self.dbsession, self.now, owner, values["name"],
                                          values["slug"], values["time_zone"],
                                          values["currency"], values["locale"])
        return tenant, owner, new

"""Passkeys (WebAuthn, with the ``webauthn`` package): registered by a
signed-in user, used as the second step of a sign-in or to sign in without
a password (a discoverable credential, with user verification).

The challenge of each ceremony is made here and kept by the caller (the
session) until the browser answers, once; the relying party (its id, the
origin the browser must report) comes from the request's site."""

from dataclasses import dataclass

from sqlalchemy import delete, select
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ..i18n import _
from ..models import Passkey, RecoveryCode, User
from .errors import ValidationError
from .mfa import MfaService, may_sign_in
from .security_log import Event, SecurityLog

MAX_PASSKEYS = 20
TRANSPORTS = {transport.value for transport in AuthenticatorTransport}


@dataclass(frozen=True)
class RelyingParty:
    """This site as WebAuthn knows it: ``id`` a host name, ``origin`` the
    scheme, host and port pages are served from."""

    id: str
    name: str
    origin: str


class PasskeyRefused(ValidationError):
    status = 400
    code = "passkey_refused"


def user_handle(user_id):
    return str(user_id).encode("ascii")


class PasskeyService:
    def __init__(self, dbsession, now):
        self.dbsession = dbsession
        self.now = now

    def passkeys(self, user):
        return self.dbsession.scalars(
            select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.created_at,
                                                                     Passkey.id)).all()

    def registration_options(self, user, rp):
        """``(options as JSON, challenge)`` to create a passkey for ``user``."""
        options = generate_registration_options(
            rp_id=rp.id, rp_name=rp.name, user_id=user_handle(user.id), user_name=user.email,
            user_display_name=user.name or user.email,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.REQUIRED),
            exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
                                 for p in self.passkeys(user)],
        )
        return options_to_json(options), options.challenge

    def register(self, user, rp, credential, challenge, name):
        """Keep the passkey the browser created (``credential``, its JSON)
        under ``name``. Returns the new recovery codes when it is the user's
        first second factor, else ``[]``."""
        name = " ".join((name or "").split())[:100] or _("Passkey")
        if len(self.passkeys(user)) >= MAX_PASSKEYS:
            raise PasskeyRefused(_("You have too many passkeys: remove one first."))
        try:
            verified = verify_registration_response(
                credential=credential, expected_challenge=challenge, expected_rp_id=rp.id,
                expected_origin=rp.origin, require_user_verification=True)
        except (WebAuthnException, ValueError, TypeError, KeyError):
            raise PasskeyRefused(_("The passkey could not be verified: try again.")) from None
        credential_id = bytes_to_base64url(verified.credential_id)
        if self.dbsession.scalar(select(Passkey.id).where(Passkey.credential_id == credential_id)):
            raise PasskeyRefused(_("This passkey is registered already."))
        mfa = MfaService(self.dbsession, self.now)
        first = not mfa.has_second_factor(user)
        transports = credential.get("response", {}).get("transports", []) \
            if isinstance(credential, dict) else []
        self.dbsession.add(Passkey(
            user_id=user.id, credential_id=credential_id,
            public_key=verified.credential_public_key, sign_count=verified.sign_count,
            transports=[t for t in transports if t in TRANSPORTS][:8], name=str(name),
            created_at=self.now))
        self.dbsession.flush()
        SecurityLog(self.dbsession, self.now).record(Event.MFA_ENABLED, user_id=user.id,
                                                     factor="passkey")
        return mfa.first_factor_added(user) if first else []

    def remove(self, user, passkey_id):
        """Forget one of ``user``'s passkeys; without a second factor left,
        their recovery codes go too. ``False`` when it is not theirs."""
        removed = self.dbsession.execute(
            delete(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user.id)
            .execution_options(synchronize_session=False)).rowcount
        if removed and not MfaService(self.dbsession, self.now).has_second_factor(user):
            self.dbsession.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        if removed:
            SecurityLog(self.dbsession, self.now).record(Event.MFA_DISABLED, user_id=user.id,
                                                         factor="passkey")
        return bool(removed)

    def authentication_options(self, rp, user=None):
        """``(options as JSON, challenge)`` to sign in with a passkey: of
        ``user`` (the second step), or any discoverable one (no password)."""
        allow = None
        if user is not None:
            allow = [PublicKeyCredentialDescriptor(
                id=base64url_to_bytes(p.credential_id),
                transports=[AuthenticatorTransport(t) for t in p.transports or []])
                for p in self.passkeys(user)]
        options = generate_authentication_options(
            rp_id=rp.id, allow_credentials=allow,
            user_verification=UserVerificationRequirement.REQUIRED)
        return options_to_json(options), options.challenge

    def authenticate(self, rp, credential, challenge, user=None):
        """The user whose passkey signed ``challenge`` (``credential``, the
        browser's JSON answer), with user verification; ``user`` given, it
        must be one of theirs. A signature counter that did not grow is
        refused (a cloned authenticator). Raises :class:`PasskeyRefused`."""
        refused = PasskeyRefused(_("This passkey was not accepted."))
        if not isinstance(credential, dict) or not isinstance(credential.get("id"), str):
            raise refused
        passkey = self.dbsession.scalar(
            select(Passkey).where(Passkey.credential_id == credential["id"][:1400]))
        if passkey is None or (user is not None and passkey.user_id != user.id):
            raise refused
        handle = credential.get("response", {}).get("userHandle")
        if user is None and handle is not None and handle != bytes_to_base64url(
                user_handle(passkey.user_id)):
            raise refused
        try:
            verified = verify_authentication_response(
                credential=credential, expected_challenge=challenge, expected_rp_id=rp.id,
                expected_origin=rp.origin, credential_public_key=passkey.public_key,
                credential_current_sign_count=passkey.sign_count,
                require_user_verification=True)
        except (WebAuthnException, ValueError, TypeError, KeyError):
            raise refused from None
        owner = self.dbsession.get(User, passkey.user_id)
        if not may_sign_in(owner):
            raise refused
        passkey.sign_count = verified.new_sign_count
        passkey.last_used_at = self.now
        SecurityLog(self.dbsession, self.now).record(Event.PASSKEY_USED, user_id=passkey.user_id,
                                                     password_less=user is None)
        return owner

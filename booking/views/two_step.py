"""The second step of a sign-in (a code of the authenticator app, a
recovery code, or a passkey), the same step asked again of a signed-in
user where an area requires it, and signing in with a passkey alone.

The passkey ceremonies speak JSON with ``static/js/passkeys.js``; their
challenge waits in the session, for a few minutes and one answer."""

import json
from urllib.parse import urlsplit

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

from ..i18n import _
from ..resources import Root
from ..second_factor import end_pending, mark_passed, passed, pending_sign_in
from ..services.mfa import MfaService
from ..services.passkeys import PasskeyRefused, PasskeyService, RelyingParty
from ..services.throttle import TooManyAttempts
from .auth import form_text, safe_next, sign_in

CHALLENGE = "webauthn_challenge"
CHALLENGE_SECONDS = 5 * 60
MAX_CREDENTIAL_BYTES = 64 * 1024


def relying_party(request):
    """This site for WebAuthn: the host of ``booking.public_url`` when it is
    set, else the request's; the origin pages are served from."""
    public_url = request.registry.settings.get("booking.public_url")
    parts = urlsplit(public_url or request.host_url)
    return RelyingParty(id=parts.hostname, name=request.translate(_("Booking")),
                        origin=f"{parts.scheme}://{parts.netloc}")


def keep_challenge(request, purpose, challenge):
    request.session[CHALLENGE] = {"purpose": purpose, "challenge": bytes_to_base64url(challenge),
                                  "expires": request.now.timestamp() + CHALLENGE_SECONDS}


def take_challenge(request, purpose):
    """The challenge of ``purpose`` made for this session, once; ``None``
    when there is none, it was for something else, or it expired."""
    kept = request.session.pop(CHALLENGE, None)
    if (not isinstance(kept, dict) or kept.get("purpose") != purpose
            or kept.get("expires", 0) <= request.now.timestamp()):
        return None
    return base64url_to_bytes(kept["challenge"])


def json_answer(status, **body):
    return Response(json_body=body, status=status, charset="utf-8",
                    content_type="application/json")


def json_error(request, status, code, message):
    return json_answer(status, error={"code": code, "message": request.translate(message)})


def posted_credential(request):
    """The browser's answer to a ceremony (a JSON object), or ``None``."""
    if len(request.body) > MAX_CREDENTIAL_BYTES:
        return None
    try:
        credential = json.loads(request.body)
    except ValueError:
        return None
    return credential if isinstance(credential, dict) else None


def who_steps_up(request):
    """``(user, next URL, pending)``: the user of the pending sign-in, or the
    signed-in user asked for a second step; ``(None, …)`` when neither."""
    mfa = request.find_service(MfaService)
    pending = pending_sign_in(request)
    if pending is not None:
        user_id, next_url = pending
        return mfa.user(user_id), next_url, True
    next_url = safe_next(request, request.params.get("next"))
    identity = request.identity
    if identity is not None and identity.method == "session" and not passed(request):
        return identity.user, next_url, False
    return None, next_url, False


def finish(request, user, is_pending, kind):
    """The second step (``kind``) is passed: sign the pending user in, or
    mark the signed-in user's session."""
    if is_pending:
        end_pending(request)
        request.find_service(MfaService).signed_in(user, kind, request.client_addr)
        return sign_in(request, user, second_factor=True)
    mark_passed(request)
    request.session.new_csrf_token()
    return []


@view_config(context=Root, name="two-step", renderer="account/two_step.jinja2",
             permission=NO_PERMISSION_REQUIRED)
def second_step(context, request):
    user, next_url, is_pending = who_steps_up(request)
    if user is None:
        if request.identity is not None:
            return HTTPSeeOther(next_url)
        request.session.flash(request.translate(
            _("The sign-in took too long: give your email and password again.")))
        return HTTPSeeOther(request.resource_url(request.root, "login",
                                                 query={"next": next_url}))
    mfa = request.find_service(MfaService)
    error = None
    if request.method == "POST":
        try:
            kind = mfa.verify(user, form_text(request, "code", 64))
        except TooManyAttempts as exc:
            kind, error = None, exc.message
            request.response.status_int = 429
            request.response.headers["Retry-After"] = str(exc.extra["retry_after"])
        else:
            if kind is not None:
                headers = finish(request, user, is_pending, kind)
                if kind == "recovery_code":
                    request.session.flash(request.translate(_(
                        "You used a recovery code: it works no more. ${count} left.",
                        mapping={"count": mfa.factors(user).recovery_codes_left})))
                return HTTPSeeOther(next_url, headers=headers)
            error = _("This code is not right, or was used already.")
            request.response.status_int = 400
    factors = mfa.factors(user)
    return {"next": next_url, "error": error, "factors": factors}


@view_config(context=Root, name="passkey-options", request_method="POST",
             permission=NO_PERMISSION_REQUIRED)
def passkey_options(context, request):
    """Options to sign in with a passkey: the second step of the pending
    sign-in (or of a signed-in user), else a sign-in without password."""
    user, _next, _pending = who_steps_up(request)
    options, challenge = request.find_service(PasskeyService).authentication_options(
        relying_party(request), user=user)
    keep_challenge(request, "sign-in", challenge)
    return Response(options, charset="utf-8", content_type="application/json")


@view_config(context=Root, name="passkey-sign-in", request_method="POST",
             permission=NO_PERMISSION_REQUIRED)
def passkey_sign_in(context, request):
    user, next_url, is_pending = who_steps_up(request)
    challenge = take_challenge(request, "sign-in")
    credential = posted_credential(request)
    if challenge is None or credential is None:
        return json_error(request, 400, "expired",
                          _("The passkey request expired: try again."))
    try:
        signed = request.find_service(PasskeyService).authenticate(
            relying_party(request), credential, challenge, user=user)
    except PasskeyRefused as exc:
        return json_error(request, 400, exc.code, exc.message)
    if user is None:  # no password given: the passkey is both steps
        request.find_service(MfaService).signed_in(signed, "passkey", request.client_addr,
                                                   via="passkey")
        sign_in(request, signed, second_factor=True)
    else:
        finish(request, user, is_pending, "passkey")
    return json_answer(200, next=next_url)

"""Two-step sign-in as the session keeps it, and the one place where the
places that need it are guarded.

- A user with a second factor who gave the right password is not signed in
  yet: the session holds a *pending* sign-in (their id, an expiry, where to
  go next) until the second step (:func:`start_pending`, :func:`pending_user_id`).
- A session that passed a second step (or signed in with a passkey) is
  marked (:data:`PASSED`).
- Contexts whose ``second_factor_required`` is true (the platform's
  ``/admin/``; the staff area of a tenant that requires it) are opened only
  by a session marked so: a view deriver, run after the permission check,
  sends the others to the second step, or to set up a second factor first.
"""

from datetime import timedelta

from pyramid.httpexceptions import HTTPSeeOther

from .i18n import _

PENDING = "mfa_pending"
PASSED = "mfa_passed"
PENDING_LIFETIME = timedelta(minutes=5)


def start_pending(request, user, next_url):
    """Remember that ``user`` gave their password; the second step is due
    within :data:`PENDING_LIFETIME`. A fresh session, so no fixation."""
    request.session.invalidate()
    request.session[PENDING] = {
        "user_id": user.id,
        "expires": (request.now + PENDING_LIFETIME).timestamp(),
        "next": next_url,
    }
    request.session.new_csrf_token()


def pending_sign_in(request):
    """``(user id, next URL)`` of the pending sign-in, or ``None`` when there
    is none or it expired."""
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict) or pending.get("expires", 0) <= request.now.timestamp():
        return None
    return pending["user_id"], pending["next"]


def end_pending(request):
    request.session.pop(PENDING, None)


def passed(request):
    """Whether this session passed a second step."""
    return bool(request.session.get(PASSED))


def mark_passed(request):
    request.session[PASSED] = True


def second_factor_gate(view, info):
    """Let a request through to a view of a context that requires a second
    factor only from a session that passed one."""

    def gated(context, request):
        if not getattr(context, "second_factor_required", False):
            return view(context, request)
        identity = request.identity
        if identity is None:
            return view(context, request)
        from .services.mfa import MfaService

        has_factor = request.find_service(MfaService).has_second_factor(identity.user)
        if identity.method == "token":
            # The token was given for a code when the user had a factor.
            if has_factor:
                return view(context, request)
            from .views.errors import error_response

            return error_response(request, 403, "second_factor_required",
                                  _("Set up two-step sign-in in My account first."))
        if passed(request):
            return view(context, request)
        next_url = request.path_qs
        if has_factor:
            return HTTPSeeOther(request.resource_url(request.root, "two-step",
                                                     query={"next": next_url}))
        request.session.flash(request.translate(
            _("This area needs two-step sign-in: set it up to continue.")))
        return HTTPSeeOther(request.resource_url(request.root, "account", "two-step",
                                                 query={"next": next_url}))

    return gated


def includeme(config):
    # Under the permission check: who may not see the area gets its 404.
    config.add_view_deriver(second_factor_gate)

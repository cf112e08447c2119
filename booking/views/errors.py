"""Every error, in the shape its client expects: ``{"error": {"code",
"message", "field"?}}`` under ``/api/``, a page elsewhere."""

import logging

from pyramid.csrf import get_csrf_token
from pyramid.exceptions import BadCSRFToken
from pyramid.httpexceptions import HTTPException, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.response import Response
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config
from pyramid_retry import mark_error_retryable
from sqlalchemy.exc import DBAPIError

from ..i18n import _
from ..models import is_transient_error
from ..security import Permission
from ..services.errors import DomainError

log = logging.getLogger(__name__)


def is_api(request):
    # The raw WSGI path: it need not be valid UTF-8 (see not_utf8).
    return request.environ.get("PATH_INFO", "").startswith("/api/")


def error_response(request, status, code, message, field=None, **extra):
    message = request.localizer.translate(message)
    if is_api(request):
        error = {"code": code, "message": message}
        if field is not None:
            error["field"] = field
        error.update(extra)
        return Response(json_body={"error": error}, status=status, charset="utf-8",
                        content_type="application/json")
    response = render_to_response(
        "errors/error.jinja2",
        {"status": status, "code": code, "message": message, "field": field},
        request=request,
    )
    response.status_int = status
    return response


@notfound_view_config()
def not_found(exc, request):
    return error_response(request, 404, "not_found", _("Nothing here: the address names nothing you can see."))


def denial_status(request, context):
    """How a denied request is answered: a user who may not even *see* the
    context is told it is not found (404), so that ids of other people's
    bookings reveal nothing; an anonymous visitor of something that needs a
    sign-in is asked to sign in (401); otherwise 403."""
    signed_in = request.authenticated_userid is not None
    if not request.has_permission(Permission.VIEW, context) and (
        signed_in or not getattr(context, "requires_sign_in", False)
    ):
        return 404
    return 403 if signed_in else 401


@forbidden_view_config()
def forbidden(exc, request):
    status = denial_status(request, request.context)
    if status == 404:
        return not_found(exc, request)
    if status == 401:
        if is_api(request):
            response = error_response(
                request, 401, "unauthorized",
                _("Sign in first: send 'Authorization: Bearer <token>' (POST /api/v1/tokens)."),
            )
            response.headers["WWW-Authenticate"] = 'Bearer realm="booking"'
            return response
        return HTTPSeeOther(request.resource_url(request.root, "login",
                                                 query={"next": request.path_qs}))
    explain = getattr(request.context, "denial_reason", None)
    reason = explain(getattr(exc.result, "permission", None)) if explain else None
    return error_response(request, 403, "forbidden", reason or _("You may not do that here."))


@exception_view_config(BadCSRFToken)
def bad_csrf(exc, request):
    # A new token, so that the page the user goes back to works.
    get_csrf_token(request)
    return error_response(
        request, 400, "csrf",
        _("The form was stale or did not come from this site (CSRF check failed): reload and "
          "try again."),
    )


@exception_view_config(UnicodeDecodeError)
def not_utf8(exc, request):
    """Pyramid decodes paths and query strings as UTF-8 on demand."""
    return error_response(request, 400, "invalid",
                          _("The address or its query string is not valid UTF-8."))


@exception_view_config(DomainError)
def domain_error(exc, request):
    extra = dict(exc.extra)
    retry_after = extra.pop("retry_after", None)
    response = error_response(request, exc.status, exc.code, exc.message, exc.field, **extra)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


@exception_view_config(DBAPIError)
def database_error(exc, request):
    """Transient errors (lock timeouts, deadlocks, a busy SQLite) are marked
    retryable: pyramid_retry replays the request and this response is thrown
    away. When the attempts are spent the client gets a clear 503."""
    if not is_transient_error(exc):
        raise exc
    mark_error_retryable(exc)
    log.warning("transient database error (attempt %s): %s",
                request.environ.get("retry.attempt"), exc.orig)
    response = error_response(
        request, 503, "unavailable",
        _("The service is busy right now and nothing was saved: please try again in a moment."),
    )
    response.headers["Retry-After"] = "1"
    return response


@exception_view_config(HTTPException)
def http_exception(exc, request):
    if exc.status_int < 400:
        return exc
    return error_response(request, exc.status_int, exc.title.lower().replace(" ", "_"),
                          exc.detail or _(exc.explanation))

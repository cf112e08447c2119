"""``POST /api/v1/payments/<provider>/webhook``: the payment provider's
signed events. No session and no CSRF token: the signature authorizes.

A bad or stale signature is a 400 and changes nothing. A verified event is
applied once (:meth:`PaymentService.handle_event`) and answered 200, also
when it was seen before or is not ours, so the provider stops resending it.
When the provider cannot be reached for an automatic refund, the whole
transaction is rolled back and the 503 makes the provider deliver the event
again later; a busy database is replayed by pyramid_retry.
"""

import logging

from pyramid.view import view_config

from ...adapters.payments import BadSignature, ProviderRefused, ProviderUnavailable
from ...i18n import _
from ...resources import PaymentProviderContext
from ...security import Permission
from ...services.payments import PaymentService
from ..errors import error_response

log = logging.getLogger(__name__)


@view_config(context=PaymentProviderContext, name="webhook", route_name="api",
             request_method="POST", renderer="json", permission=Permission.VIEW,
             require_csrf=False)
def webhook(context, request):
    service = request.find_service(PaymentService)
    if context.__name__ != service.provider.name:
        return error_response(request, 404, "not_found",
                              _("This site takes no payments through ${provider}.",
                                mapping={"provider": context.__name__}))
    body = request.body
    if len(body) > request.environ.get("booking.max_body_bytes", 1024 * 1024):
        return error_response(request, 413, "too_large", _("The request body is too large."))
    try:
        event = service.provider.parse_webhook(body, request.headers, request.now)
    except BadSignature as exc:
        log.warning("%s webhook refused: %s", context.__name__, exc)
        request.tm.doom()
        return error_response(request, 400, "bad_signature",
                              _("The webhook's signature is missing, wrong or too old."))
    try:
        result = service.handle_event(event)
    except (ProviderUnavailable, ProviderRefused) as exc:
        log.error("%s webhook %s not applied, the provider will resend it: %s",
                  context.__name__, event.id, exc)
        request.tm.doom()
        response = error_response(request, 503, "unavailable",
                                  _("The payment provider could not be reached: send the "
                                    "event again later."))
        response.headers["Retry-After"] = "60"
        return response
    log.info("%s webhook %s (%s): %s", context.__name__, event.id, event.type, result)
    return {"received": True, "result": result}

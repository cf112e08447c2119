"""Refuse request bodies that are too large or cannot be parsed, before
anything else reads them."""

import json

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


class BodySizeLimit:
    """WSGI middleware: a body over ``limit`` bytes is answered with 413
    before Pyramid (or pyramid_retry, which buffers bodies) touches it.
    Bodies without a Content-Length are cut at ``limit + 1`` bytes, which
    the JSON parser then reports as too large."""

    def __init__(self, app, limit):
        self.app = app
        self.limit = limit

    def __call__(self, environ, start_response):
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > self.limit:
            return self._too_large(environ, start_response)
        environ["booking.max_body_bytes"] = self.limit
        return self.app(environ, start_response)

    def _too_large(self, environ, start_response):
        message = f"the request body is larger than {self.limit} bytes"
        if environ.get("PATH_INFO", "").startswith("/api/"):
            body = json.dumps({"error": {"code": "too_large", "message": message}}).encode()
            content_type = "application/json"
        else:
            body = f"413 Payload Too Large: {message}\n".encode()
            content_type = "text/plain; charset=utf-8"
        start_response(
            "413 Payload Too Large",
            [("Content-Type", content_type), ("Content-Length", str(len(body))),
             ("Connection", "close")],
        )
        return [body]


def form_body_tween_factory(handler, registry):
    """A form body that cannot be parsed (say, multipart without a
    boundary) is a 400, not an error deep inside the CSRF check."""
    from .i18n import _
    from .services.errors import ValidationError
    from .views.errors import domain_error

    def form_body_tween(request):
        if request.method == "POST" and request.content_type in FORM_TYPES:
            try:
                request.POST
            except ValueError:
                return domain_error(
                    ValidationError(_("the form could not be read"), field="body"), request)
        return handler(request)

    return form_body_tween


def includeme(config):
    config.add_tween("booking.limits.form_body_tween_factory")

"""Refuse oversized request bodies before anything reads them."""

import json


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

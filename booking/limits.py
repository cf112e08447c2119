"""Refuse request bodies that are too large or cannot be parsed, before
anything else reads them."""

import json

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
#: Methods whose bodies nobody reads (the CSRF check reads the others').
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


class InputLimits:
    """WSGI middleware, in front of everything else:

    - a body over ``limit`` bytes is answered with 413 before Pyramid (or
      pyramid_retry, which buffers bodies) touches it. Bodies without a
      Content-Length are cut at ``limit + 1`` bytes, which the JSON parser
      then reports as too large;
    - a NUL character in the path names nothing (404), and in the query
      string it is bad input (400), before any of it reaches the database
      (PostgreSQL refuses NUL in text: that was a 500).

    ``app`` stays reachable as an attribute (tests read its registry)."""

    def __init__(self, app, limit):
        self.app = app
        self.limit = limit

    def __call__(self, environ, start_response):
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > self.limit:
            # waitress has read the body already.
            return refuse(environ, start_response, "413 Payload Too Large", "too_large",
                          f"the request body is larger than {self.limit} bytes")
        if "\x00" in environ.get("PATH_INFO", ""):
            return refuse(environ, start_response, "404 Not Found", "not_found",
                          "the address names nothing")
        query = environ.get("QUERY_STRING", "")
        if "\x00" in query or "%00" in query:
            return refuse(environ, start_response, "400 Bad Request", "invalid",
                          "the query string contains a NUL character")
        environ["booking.max_body_bytes"] = self.limit
        return self.app(environ, start_response)


def refuse(environ, start_response, status, code, message):
    """A plain refusal in the client's shape: JSON under ``/api/``. It sets
    no hop-by-hop header such as ``Connection: close``: those are the
    server's, and waitress refuses one from the app (an AssertionError that
    turned a 413 into a 500)."""
    if environ.get("PATH_INFO", "").startswith("/api/"):
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        content_type = "application/json"
    else:
        body = f"{status}: {message}\n".encode()
        content_type = "text/plain; charset=utf-8"
    start_response(status, [("Content-Type", content_type),
                            ("Content-Length", str(len(body)))])
    return [body]


def form_body_tween_factory(handler, registry):
    """A form body that cannot be parsed (say, multipart without a
    boundary) is a 400, not an error deep inside the CSRF check."""
    from .i18n import _
    from .services.errors import ValidationError
    from .views.errors import domain_error

    def form_body_tween(request):
        if request.method not in SAFE_METHODS and request.content_type in FORM_TYPES:
            try:
                request.POST
            except ValueError:
                return domain_error(
                    ValidationError(_("the form could not be read"), field="body"), request)
        return handler(request)

    return form_body_tween


def includeme(config):
    # Under pyramid_tm: its error page reads the session (the signed-in
    # user), which outside the request's transaction began a transaction
    # nobody ended (on SQLite, the write lock held for good).
    config.add_tween("booking.limits.form_body_tween_factory",
                     under="pyramid_tm.tm_tween_factory")

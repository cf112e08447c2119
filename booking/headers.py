"""Security headers on every response: a strict Content-Security-Policy (no
inline scripts or styles, nothing from other origins), no MIME sniffing, no
framing, a conservative Referrer-Policy; ``Cache-Control: no-store`` on every
response that does not say otherwise (pages show who is signed in, the API
and the exports carry personal data and tokens; only static files and the
calendar feeds choose a cache of their own); and, with ``booking.hsts``
(production), Strict-Transport-Security."""

from pyramid.settings import asbool

#: A year, as browsers' preload lists ask.
HSTS = "max-age=31536000; includeSubDomains"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'self'; object-src 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(self)",
}


def security_headers_tween_factory(handler, registry):
    headers = dict(SECURITY_HEADERS)
    headers["Cache-Control"] = "no-store"
    if asbool(registry.settings.get("booking.hsts", False)):
        headers["Strict-Transport-Security"] = HSTS

    def security_headers_tween(request):
        response = handler(request)
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    return security_headers_tween


def includeme(config):
    config.add_tween("booking.headers.security_headers_tween_factory")

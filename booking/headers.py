"""Security headers on every response: a strict Content-Security-Policy (no
inline scripts or styles, nothing from other origins), no MIME sniffing, no
framing, a conservative Referrer-Policy."""

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
    def security_headers_tween(request):
        response = handler(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return security_headers_tween


def includeme(config):
    config.add_tween("booking.headers.security_headers_tween_factory")

"""Paying for a booking online: the customer is sent to the provider's
hosted checkout (card data never reaches us) and comes back to the
booking's page, which waits for the provider's signed webhook — the only
thing that confirms a paid booking.

When the provider cannot be reached the customer is told plainly that
nothing was charged, and the held booking keeps its pending payment, so
"try again" reuses the same idempotency key while the hold lasts.

The site's Content-Security-Policy allows forms to post to ourselves only,
and browsers apply that to the redirects a form submission follows too: the
pages whose forms lead to the checkout also allow the provider's checkout
origins in ``form-action``.
"""

from urllib.parse import urlsplit

from pyramid.httpexceptions import HTTPSeeOther

from ..headers import SECURITY_HEADERS
from ..services.actions import BookingActions
from ..services.errors import PaymentNotStarted
from ..services.policy import refund_share

#: Where Stripe serves its hosted checkout pages (its API is elsewhere).
STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"


def payment_terms(request, tenant):
    """What the review page says about paying and refunds."""
    return {"online": request.find_service(BookingActions).collects_online,
            "refund_share": refund_share(tenant)}


def send_to_checkout(request, booking, url, page):
    """Send the customer of held ``booking`` to the provider's checkout; the
    provider returns them to the booking's page at ``url``. ``page`` renders
    that page (``page(template, status, **data)``) when the payment cannot
    start."""
    try:
        payment = request.find_service(BookingActions).start_checkout(booking, url)
    except PaymentNotStarted as exc:
        # Unreachable: the held booking and its pending payment are kept on
        # purpose (a retry reuses the idempotency key while the hold lasts).
        # Refused: retrying will not help; the hold runs out by itself.
        return page("booking/payment.jinja2", 503 if exc.retry else 502,
                    state="unavailable" if exc.retry else "refused")
    return HTTPSeeOther(payment.checkout_url)


def payment_state(request, booking):
    """Which payment panel a held booking's page shows, if any."""
    if not request.find_service(BookingActions).awaits_online_payment(booking):
        return None
    return "waiting" if request.GET.get("paid") == "1" else "unpaid"


def checkout_origins(request):
    """The origins the provider's checkout pages may be served from: its
    API's (a Stripe-compatible provider, the test fake) and Stripe's."""
    url = urlsplit(request.registry.settings["booking.payments.url"])
    return sorted({f"{url.scheme}://{url.netloc}", STRIPE_CHECKOUT_ORIGIN})


def allow_checkout_forms(request, response):
    """Let the forms of ``response`` be redirected to the checkout."""
    policy = SECURITY_HEADERS["Content-Security-Policy"]
    allowed = " ".join(["'self'", *checkout_origins(request)])
    response.headers["Content-Security-Policy"] = policy.replace(
        "form-action 'self'", f"form-action {allowed}")
    return response

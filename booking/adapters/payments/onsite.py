"""Pay at the venue: the embedded default. Nothing is collected online, so a
booking is confirmed at once with its payment "due at venue"; the flow never
asks this provider for a checkout or a refund, and no webhook is genuine."""

from . import BadSignature, NotCollectingOnline, PaymentProvider


class OnsiteProvider(PaymentProvider):
    name = "onsite"
    collects_online = False

    def create_checkout(self, **kwargs):
        raise NotCollectingOnline("booking.payments = onsite: customers pay at the venue, "
                                  "there is no online checkout")

    def refund(self, **kwargs):
        raise NotCollectingOnline("booking.payments = onsite: nothing was paid online, "
                                  "so nothing can be refunded online")

    def parse_webhook(self, body, headers, now):
        raise BadSignature("booking.payments = onsite accepts no webhooks")

"""The one source of "now".

ACLs (the cancellation window), services (minimum notice, hold expiry) and
tests must agree on the current instant, so nothing calls ``datetime.now``
directly: the app holds a clock and each request reads it once
(``request.now``).
"""

from datetime import UTC, datetime


class SystemClock:
    """The real time, always timezone-aware UTC."""

    def now(self):
        return datetime.now(UTC)


class FrozenClock:
    """A clock that stays where it is put; tests move it explicitly."""

    def __init__(self, instant):
        if instant.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self.instant = instant.astimezone(UTC)

    def now(self):
        return self.instant

    def advance(self, delta):
        self.instant += delta


def _request_now(request):
    return request.registry["booking.clock"].now()


def includeme(config):
    clock = config.get_settings().get("booking.clock") or SystemClock()
    config.registry["booking.clock"] = clock
    config.add_request_method(_request_now, "now", reify=True)

"""Known devices: a browser an account has signed in from before carries a
signed claim of it (the ``known_device`` cookie, HttpOnly), so that the
sign-in throttle counts its attempts apart from strangers': guessing an
account's password elsewhere cannot stop its owner signing in from there.

A claim is ``<id>.<signature>``, the HMAC-SHA256 of the account's id, its
session epoch and the random ``<id>`` under the app's secret: it names no
one, cannot be forged, and a password change or a reset (which bumps the
epoch) forgets every device. The cookie holds the claims of the last few
accounts signed in from the browser, separated by ``~``.
"""

import base64
import hashlib
import hmac
import secrets

COOKIE = "known_device"
#: A year: the owner of an account they use once a year is still known.
MAX_AGE = 365 * 24 * 3600
#: Claims kept in one browser's cookie (accounts signed in from it).
MAX_CLAIMS = 5
ID_BYTES = 12


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class KnownDevices:
    def __init__(self, secret):
        self.key = hashlib.sha256(b"known-device\0" + secret.encode("utf-8")).digest()

    def _signature(self, user, device_id):
        message = f"{user.id}\0{user.session_epoch}\0{device_id}".encode("ascii")
        return _b64(hmac.new(self.key, message, hashlib.sha256).digest()[:18])

    @staticmethod
    def _claims(cookie):
        if not isinstance(cookie, str) or len(cookie) > 1000:
            return []
        return [claim.split(".", 1) for claim in cookie.split("~") if claim.count(".") == 1]

    def recognise(self, cookie, user):
        """The id of this browser if ``cookie`` holds a valid claim for
        ``user``, else ``None``."""
        if user is None:
            return None
        for device_id, signature in self._claims(cookie):
            if device_id.isascii() and hmac.compare_digest(
                    signature.encode("ascii", "replace"),
                    self._signature(user, device_id).encode("ascii")):
                return device_id
        return None

    def remember(self, cookie, user):
        """The cookie's new value once ``user`` signed in from this browser:
        its claim first, then the other accounts' (at most ``MAX_CLAIMS``)."""
        device_id = self.recognise(cookie, user)
        others = [f"{i}.{s}" for i, s in self._claims(cookie) if i != device_id]
        if device_id is None:
            device_id = _b64(secrets.token_bytes(ID_BYTES))
        claim = f"{device_id}.{self._signature(user, device_id)}"
        return "~".join([claim, *others][:MAX_CLAIMS])

"""Encryption at rest: AES-256-GCM with keys named by id, several at once.

A :class:`Keyring` holds the data keys of ``BOOKING_DATA_KEYS``
(``"k2:<base64>,k1:<base64>"``): the first encrypts, every one decrypts, so
a key can be added in front, the data re-encrypted (``booking-keys
rotate``), and the old key then dropped. A stored value reads::

    enc:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>

with a random 96-bit nonce. The associated data binds the value to its
place (``"users.phone"``), its format version and its key id, so a value
copied into another column, or relabelled with another key id, does not
decrypt. A value without the prefix is legacy plaintext, written before the
column was encrypted: it reads as it is until ``booking-keys rotate``
encrypts it.
"""

import base64
import binascii
import os
import re
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
PREFIX = f"enc:{VERSION}:"
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
KEY_BYTES = 32
NONCE_BYTES = 12


class KeyringError(ValueError):
    """The keys are missing or malformed, or a value cannot be decrypted
    with them; the message says which."""


def _b64decode(text):
    """Base64, standard or URL-safe, padded or not; strict about the rest."""
    padded = text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4)
    return base64.b64decode(padded.encode("ascii"), validate=True)


def generate_key(key_id):
    """A new ``<id>:<base64>`` entry for ``BOOKING_DATA_KEYS``."""
    if not KEY_ID.match(key_id):
        raise KeyringError(f"a key id is 1 to 16 letters, digits, - or _, not {key_id!r}")
    return f"{key_id}:{base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"


class Keyring:
    """Named AES-256 keys; ``current`` encrypts."""

    def __init__(self, keys):
        if not keys:
            raise KeyringError("no data key given")
        self.keys = dict(keys)
        if len(self.keys) != len(keys):
            raise KeyringError("a data key id is given twice")
        self.current = keys[0][0]
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys}

    @classmethod
    def parse(cls, text):
        """``"k2:<base64>,k1:<base64>"``: the first key encrypts."""
        keys = []
        for entry in (part.strip() for part in (text or "").split(",")):
            if not entry:
                continue
            key_id, sep, encoded = entry.partition(":")
            if not sep or not KEY_ID.match(key_id):
                raise KeyringError(
                    "each data key reads <id>:<base64 of 32 bytes>, the id 1 to 16 letters, "
                    f"digits, - or _; got an entry starting {entry[:8]!r}")
            try:
                key = _b64decode(encoded.strip())
            except (binascii.Error, ValueError):
                raise KeyringError(f"data key {key_id!r} is not valid base64") from None
            if len(key) != KEY_BYTES:
                raise KeyringError(
                    f"data key {key_id!r} has {len(key)} bytes; AES-256 needs {KEY_BYTES} "
                    "(generate one with: booking-keys generate)")
            keys.append((key_id, key))
        return cls(keys)

    @staticmethod
    def _associated_data(place, key_id):
        return f"booking|{VERSION}|{key_id}|{place}".encode()

    def encrypt(self, plaintext, place):
        """``plaintext`` (str) encrypted under the current key for ``place``
        (``"table.column"``)."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.current].encrypt(
            nonce, plaintext.encode("utf-8"), self._associated_data(place, self.current))
        token = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
        return f"{PREFIX}{self.current}:{token}"

    def decrypt(self, stored, place):
        """The plaintext of ``stored``; legacy plaintext is returned as is."""
        key_id = key_id_of(stored)
        if key_id is None:
            return stored
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise KeyringError(
                f"a value of {place} is encrypted with data key {key_id!r}, which "
                "BOOKING_DATA_KEYS no longer holds: put it back and run booking-keys rotate")
        try:
            raw = _b64decode(stored[len(PREFIX) + len(key_id) + 1:])
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                  self._associated_data(place, key_id)).decode("utf-8")
        except (InvalidTag, binascii.Error, ValueError):
            raise KeyringError(
                f"a value of {place} does not decrypt with data key {key_id!r}: it was "
                "altered, or moved from another column") from None

    def is_current(self, stored):
        return key_id_of(stored) == self.current


def key_id_of(stored):
    """The key id of an encrypted value; ``None`` for legacy plaintext."""
    if not stored.startswith(PREFIX):
        return None
    key_id, sep, _rest = stored[len(PREFIX):].partition(":")
    return key_id if sep and KEY_ID.match(key_id) else None


def keyring_of(dialect):
    """The keyring :func:`booking.models.get_engine` gave the engine of
    ``dialect`` (``None``: no keys configured)."""
    return getattr(dialect, "booking_keyring", None)


def attach(engine, keyring):
    """Give ``engine`` its keyring: its encrypted columns use it."""
    engine.dialect.booking_keyring = keyring

"""A real SMTP server (aiosmtpd) on a free loopback port, in a thread of the
test process, keeping what it receives as parsed :mod:`email` messages."""

import contextlib
import re
import socket
import ssl
import subprocess
import threading
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port():
    """A port nobody listens on (aiosmtpd's Controller cannot take port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


OUTBOX_ID = re.compile(rb"^X-Booking-Outbox-Id: (\d+)\r?$", re.MULTILINE)


class Inbox:
    """The aiosmtpd handler: accepts every message (or refuses recipients
    listed in ``refuse``) and keeps it. Messages are kept as bytes and
    parsed when read, so the server stays cheap under load."""

    def __init__(self, refuse=(), refusal="550 5.1.1 mailbox unavailable"):
        self.refusal = refusal  # may name the ``{address}``, as Postfix's does
        self.raw = []
        self.envelopes = []
        self.peers = []  # the client's (host, port): one per connection
        self.refuse = set(refuse)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refusal.format(address=address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.peers.append(session.peer)
            self.raw.append(envelope.original_content)
        return "250 2.0.0 queued"

    @property
    def messages(self):
        with self.lock:
            raw = list(self.raw)
        return [message_from_bytes(data, policy=policy.default) for data in raw]

    def count(self):
        return len(self.raw)

    def outbox_ids(self):
        """The ``X-Booking-Outbox-Id`` of every message received, in order."""
        with self.lock:
            raw = list(self.raw)
        return [int(OUTBOX_ID.search(data).group(1)) for data in raw]


class Credentials:
    def __init__(self, username, password):
        self.username, self.password = username.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login, auth_data.password) == (self.username, self.password)
        return AuthResult(success=ok, handled=False)


@contextlib.contextmanager
def smtp_server(refuse=(), tls=None, implicit_tls=False, credentials=None, refusal=None):
    """Yield the running server: ``.host``, ``.port``, ``.inbox``.

    ``tls`` is a server :class:`ssl.SSLContext`: offered through STARTTLS,
    or from the first byte with ``implicit_tls``. ``credentials``
    ``(username, password)`` makes AUTH LOGIN/PLAIN required (over TLS)."""
    inbox = Inbox(refuse, **({} if refusal is None else {"refusal": refusal}))
    options = {}
    if tls is not None and implicit_tls:
        options["ssl_context"] = tls
    elif tls is not None:
        options["tls_context"] = tls
    if credentials:
        options.update(authenticator=Credentials(*credentials), auth_required=True,
                       auth_require_tls=tls is not None)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(),
                            server_hostname="localhost", **options)
    controller.start()
    try:
        yield SimpleServer(controller.hostname, controller.port, inbox)
    finally:
        controller.stop()


class SimpleServer:
    def __init__(self, host, port, inbox):
        self.host, self.port, self.inbox = host, port, inbox

    @property
    def messages(self):
        return self.inbox.messages


def self_signed(directory):
    """A certificate for 127.0.0.1 made with the openssl command; returns
    (server context, client context that trusts it)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


@pytest.fixture
def smtp():
    """A running SMTP server that accepts everything."""
    with smtp_server() as server:
        yield server

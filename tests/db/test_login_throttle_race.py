"""The sign-in throttle under real concurrency: every attempt is reserved
before its password is evaluated, so no more than the limit are evaluated
however many arrive at once.

A real server (waitress, 16 threads) on a loopback port; each attempt is a
client thread with its own HTTP connection (and so its own database
transaction on the server). A barrier releases them together.
"""

import collections
import threading

import pytest

from booking.services import accounts
from booking.services.throttle import MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS

from .. import builders as b
from ..servers import serve
from .test_concurrency import race

SERVER_THREADS = 16
ATTEMPTS = 30


@pytest.fixture
def server(app):
    with serve(app, threads=SERVER_THREADS) as url:
        yield url


@pytest.fixture
def evaluations(monkeypatch):
    """How many times a password was checked against the account's hash."""
    counted = collections.Counter()
    lock = threading.Lock()
    verify = accounts.verify_password

    def counting_verify(password, password_hash):
        with lock:
            counted["verify"] += 1
        return verify(password, password_hash)

    monkeypatch.setattr(accounts, "verify_password", counting_verify)
    return counted


def wrong_token_request(server, email):
    def call(http):
        return http.post(f"{server}/api/v1/tokens",
                         json={"email": email, "password": "wrong-password-guess"},
                         timeout=60).status_code
    return call


def test_concurrent_wrong_passwords_evaluated_at_most_the_limit(db, server, evaluations):
    with db.session() as s:
        email = b.user(s).email
    statuses, _seconds = race([wrong_token_request(server, email)] * ATTEMPTS)
    assert evaluations["verify"] == MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS
    assert collections.Counter(statuses) == {
        401: MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS,
        429: ATTEMPTS - MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS,
    }

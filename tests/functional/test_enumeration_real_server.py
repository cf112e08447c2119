"""Probing which addresses have accounts, through waitress on a loopback
port: registering and signing a business up answer alike for every address,
and one client gets 429 (with Retry-After) once it passes the limit."""

import re

import pytest
import requests

from booking.services.confirmation import MAX_PER_CLIENT

from ..servers import serve


@pytest.fixture
def server(app):
    with serve(app) as url:
        yield url


def post_form(session, url, fields):
    page = session.get(url, timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return session.post(url, data={"csrf_token": token, **fields}, timeout=30,
                        allow_redirects=False)


def test_thirty_registrations_from_one_client_get_429_after_the_limit(server, world):
    session = requests.Session()
    responses = [post_form(session, server + "/register", {
        "name": "Probe", "password": "probing-addresses",
        "email": world.emails["customer"] if n == 1 else f"probe{n}@example.test"})
        for n in range(30)]
    assert [r.status_code for r in responses] == (
        [200] * MAX_PER_CLIENT + [429] * (30 - MAX_PER_CLIENT))
    assert int(responses[-1].headers["Retry-After"]) > 0
    # Known and unknown addresses got the same page, but for the address itself.
    first, second = (r.text.replace(email, "EMAIL") for r, email in
                     ((responses[0], "probe0@example.test"),
                      (responses[1], world.emails["customer"])))
    assert first == second

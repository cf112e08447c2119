"""Input refused at the edge, seen through waitress on a loopback port (what
WebTest cannot show: a 413 that waitress turned into a 500)."""

import json

import pytest
import requests

from ..servers import serve

#: Just over the default limit of 1 MiB.
BIG = 1_048_599


@pytest.fixture
def server(app):
    with serve(app) as url:
        yield url


@pytest.mark.parametrize("path, content_type", [
    ("/api/v1/t/club/bookings", "application/json"),
    ("/login", "application/x-www-form-urlencoded"),
    ("/api/v1/payments/stripe/webhook", "application/json"),
])
def test_body_over_the_limit_is_413_through_waitress(server, world, path, content_type):
    response = requests.post(server + path, data=b"x" * BIG, timeout=30,
                             headers={"Content-Type": content_type})
    assert response.status_code == 413
    assert "larger than" in response.text


def test_413_is_json_under_the_api(server, world):
    response = requests.post(server + "/api/v1/t/club/bookings", data=b"{" + b" " * BIG,
                             headers={"Content-Type": "application/json"}, timeout=30)
    assert response.json()["error"]["code"] == "too_large"


@pytest.mark.parametrize("path", ["/t/%00/", "/t/club%00/", "/t/club/venues/%00/",
                                  "/api/v1/t/%00"])
def test_nul_in_a_path_segment_is_404(server, world, path):
    response = requests.get(server + path, timeout=30)
    assert response.status_code == 404


def test_nul_under_the_api_is_a_json_404(server, world):
    response = requests.get(server + "/api/v1/t/club%00", timeout=30)
    assert json.loads(response.text)["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/t/club/?from=%00", "/near?address=a%00b"])
def test_nul_in_the_query_string_is_400(server, world, path):
    response = requests.get(server + path, timeout=30)
    assert response.status_code == 400

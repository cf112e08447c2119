"""Failed sign-ins are throttled per account and per client address."""

from booking.services.throttle import (
    MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS as MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS, WINDOW)

from .. import builders as b


def try_token(testapp, email, password, status, address="192.0.2.1"):
    return testapp.post_json("/api/v1/tokens", {"email": email, "password": password},
                             status=status, extra_environ={"REMOTE_ADDR": address})


def test_account_locked_after_failures(testapp, world):
    email = world.emails["customer"]
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        try_token(testapp, email, "wrong-password-1", 401)
    response = try_token(testapp, email, b.PASSWORD, 429)
    assert response.json["error"]["code"] == "too_many_attempts"
    assert "this account" in response.json["error"]["message"]
    assert int(response.headers["Retry-After"]) > 0


def test_account_lock_ends_after_the_window(testapp, world, clock):
    email = world.emails["customer"]
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        try_token(testapp, email, "wrong-password-1", 401)
    clock.advance(WINDOW)
    try_token(testapp, email, b.PASSWORD, 201)


def test_success_resets_the_account_count(testapp, world):
    email = world.emails["customer"]
    for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
        try_token(testapp, email, "wrong-password-1", 401)
    try_token(testapp, email, b.PASSWORD, 201)
    for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
        try_token(testapp, email, "wrong-password-1", 401)
    try_token(testapp, email, b.PASSWORD, 201)


def test_address_throttled_across_accounts(testapp, world):
    for n in range(MAX_FAILURES_PER_ADDRESS):
        try_token(testapp, f"guess{n}@example.test", "wrong-password-1", 401, address="198.51.100.7")
    response = try_token(testapp, world.emails["customer"], b.PASSWORD, 429, address="198.51.100.7")
    assert "your address" in response.json["error"]["message"]
    try_token(testapp, world.emails["customer"], b.PASSWORD, 201, address="198.51.100.8")


def test_html_login_throttled_with_clear_message(testapp, world):
    email = world.emails["owner"]
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        form = testapp.get("/login").forms["login-form"]
        form["email"], form["password"] = email, "wrong-password-1"
        form.submit(status=400)
    form = testapp.get("/login").forms["login-form"]
    form["email"], form["password"] = email, b.PASSWORD
    response = form.submit(status=429)
    assert "Too many failed sign-ins for this account" in response.text

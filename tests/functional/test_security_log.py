"""The security log: every sign-in, failure, refusal, sign-out, password
and token event is a ``security_events`` row and a ``booking.security``
log line, and neither carries an email address or a secret."""

import json
import logging

import pytest
import webtest
from sqlalchemy import select

from booking.models import SecurityEvent, User
from booking.services.password_reset import PasswordResetService
from booking.services.security_log import Event, mask_email
from booking.services.mfa import MAX_SECOND_STEP_FAILURES
from booking.services.throttle import MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS

from .. import builders as b
from ..conftest import NOW
from .api import post_json
from .mfa import code, enrol_totp, second_step
from .site import form_by_action, sign_in

CLIENT = "203.0.113.7"
UNKNOWN = "nobody-here@example.test"


@pytest.fixture
def testapp(app):
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "booking.test",
                                               "REMOTE_ADDR": CLIENT})


@pytest.fixture
def security_lines(caplog):
    caplog.set_level(logging.INFO, logger="booking.security")
    return lambda: [record.getMessage() for record in caplog.records
                    if record.name == "booking.security"]


def recorded(world):
    with world.db.session() as s:
        return s.execute(select(SecurityEvent.event, SecurityEvent.user_id,
                                SecurityEvent.client_addr, SecurityEvent.details,
                                SecurityEvent.at).order_by(SecurityEvent.id)).all()


def the_event(world, event):
    rows = [row for row in recorded(world) if row.event == event]
    assert len(rows) == 1, f"{event}: {recorded(world)}"
    return rows[0]


def assert_no_addresses(world, lines, *extra):
    """Neither the rows nor the log lines hold an address (or ``extra``)."""
    stored = json.dumps([list(row.details.values()) for row in recorded(world)])
    for text in [*lines, stored]:
        for secret in (*world.emails.values(), UNKNOWN, *extra):
            assert secret not in text


def logged(lines, event, user_id):
    return [line for line in lines if line.startswith(f"{event} user={user_id} ")]


def wrong_sign_in(testapp, email, status=400):
    form = testapp.get("/login").forms["login-form"]
    form["email"], form["password"] = email, "wrong-password-123"
    return form.submit(status=status)


def test_sign_in_is_recorded_and_logged(testapp, world, security_lines):
    sign_in(testapp, world.emails["owner"])
    row = the_event(world, Event.SIGN_IN)
    assert (row.user_id, row.client_addr, row.at, row.details) == (
        world.user_ids["owner"], CLIENT, NOW, {"via": "site"})
    assert logged(security_lines(), "sign-in", world.user_ids["owner"])
    assert_no_addresses(world, security_lines(), b.PASSWORD)


def test_failed_sign_in_of_an_account_is_recorded(testapp, world, security_lines):
    wrong_sign_in(testapp, world.emails["staff"])
    row = the_event(world, Event.SIGN_IN_FAILED)
    assert (row.user_id, row.client_addr) == (world.user_ids["staff"], CLIENT)
    assert logged(security_lines(), "sign-in-failed", world.user_ids["staff"])
    assert_no_addresses(world, security_lines(), "wrong-password-123")


def test_failed_sign_in_of_an_unknown_address_keeps_it_masked(testapp, world, security_lines):
    wrong_sign_in(testapp, UNKNOWN)
    row = the_event(world, Event.SIGN_IN_FAILED)
    assert row.user_id is None and row.details["account"] == "n***@example.test"
    assert logged(security_lines(), "sign-in-failed", "-")
    assert not any("example.test" in line for line in security_lines())
    assert_no_addresses(world, security_lines())


def test_throttled_sign_in_is_recorded(testapp, world, security_lines):
    for _attempt in range(MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS):
        wrong_sign_in(testapp, world.emails["customer"])
    wrong_sign_in(testapp, world.emails["customer"], status=429)
    row = the_event(world, Event.SIGN_IN_THROTTLED)
    assert (row.user_id, row.client_addr) == (world.user_ids["customer"], CLIENT)
    assert logged(security_lines(), "sign-in-throttled", world.user_ids["customer"])
    assert_no_addresses(world, security_lines())


def test_sign_out_is_recorded(testapp, world, security_lines):
    sign_in(testapp, world.emails["customer"])
    form_by_action(testapp.get("/account/"), "/logout").submit(status=303)
    row = the_event(world, Event.SIGN_OUT)
    assert row.user_id == world.user_ids["customer"] and "session_id" in row.details
    assert logged(security_lines(), "sign-out", world.user_ids["customer"])
    assert_no_addresses(world, security_lines())


def test_sign_out_everywhere_is_recorded(testapp, world, security_lines):
    sign_in(testapp, world.emails["customer"])
    form_by_action(testapp.get("/account/security"), "/sign-out-everywhere").submit(status=303)
    row = the_event(world, Event.SIGN_OUT_EVERYWHERE)
    assert row.details == {"sessions_ended": 1, "tokens_revoked": 1}
    assert logged(security_lines(), "sign-out-everywhere", world.user_ids["customer"])
    assert_no_addresses(world, security_lines())


def test_ended_session_is_recorded(app, testapp, world, security_lines):
    sign_in(testapp, world.emails["customer"])
    form_by_action(testapp.get("/account/security"), "/end-session").submit(status=303)
    assert the_event(world, Event.SESSION_ENDED).user_id == world.user_ids["customer"]
    assert logged(security_lines(), "session-ended", world.user_ids["customer"])


def test_new_account_is_recorded(testapp, world, security_lines):
    form = form_by_action(testapp.get("/register"), "/register")
    form["name"], form["email"], form["password"] = "Ada", "ada@example.test", b.PASSWORD
    form.submit(status=200)  # "check your email"
    with world.db.session() as s:
        ada = s.scalar(select(User.id).where(User.email == "ada@example.test"))
    assert the_event(world, Event.ACCOUNT_CREATED).user_id == ada
    assert logged(security_lines(), "account-created", ada)
    assert_no_addresses(world, security_lines(), "ada@example.test")


def test_password_change_is_recorded(testapp, world, security_lines):
    sign_in(testapp, world.emails["customer"])
    form = form_by_action(testapp.get("/account/password"), "/account/password")
    form["current"], form["new"], form["confirm"] = (b.PASSWORD, "a-brand-new-password",
                                                     "a-brand-new-password")
    form.submit(status=303)
    row = the_event(world, Event.PASSWORD_CHANGED)
    assert (row.user_id, row.client_addr) == (world.user_ids["customer"], CLIENT)
    assert row.details == {"sessions_ended": 1, "tokens_revoked": 1}
    assert_no_addresses(world, security_lines(), "a-brand-new-password", b.PASSWORD)


@pytest.mark.parametrize("who", ["customer", None])
def test_reset_request_is_recorded_whether_or_not_the_account_exists(testapp, world,
                                                                      security_lines, who):
    form = testapp.get("/account/forgot").forms["forgot-form"]
    form["email"] = world.emails[who] if who else UNKNOWN
    form.submit(status=200)
    row = the_event(world, Event.RESET_REQUESTED)
    assert row.user_id == (world.user_ids[who] if who else None)
    assert row.client_addr == CLIENT
    assert_no_addresses(world, security_lines())


def test_completed_reset_is_recorded(testapp, world, security_lines):
    with world.db.session() as s:
        secret = PasswordResetService(s, NOW).new_token(s.get(User, world.user_ids["customer"]))
    path = f"/reset/{secret}"
    form = form_by_action(testapp.get(path), path + "/")
    form["password"] = form["confirm"] = "a-brand-new-password"
    form.submit(status=303)
    row = the_event(world, Event.RESET_COMPLETED)
    assert row.user_id == world.user_ids["customer"] and row.details["tokens_revoked"] == 1
    assert_no_addresses(world, security_lines(), secret, "a-brand-new-password")


def test_token_creation_and_revocation_are_recorded(testapp, world, security_lines):
    token = post_json(testapp, "/api/v1/tokens", {"email": world.emails["manager"],
                                                  "password": b.PASSWORD}, status=201).json["token"]
    testapp.delete("/api/v1/tokens/current", headers={"Authorization": f"Bearer {token}"},
                   status=204)
    created = the_event(world, Event.API_TOKEN_CREATED)
    revoked = the_event(world, Event.API_TOKEN_REVOKED)
    assert created.user_id == revoked.user_id == world.user_ids["manager"]
    assert created.details["token_id"] == revoked.details["token_id"]
    assert the_event(world, Event.SIGN_IN).details == {"via": "api"}
    assert logged(security_lines(), "api-token-created", world.user_ids["manager"])
    assert_no_addresses(world, security_lines(), token)


@pytest.mark.parametrize("email, masked", [
    ("jane@example.com", "j***@example.com"), ("x@y.test", "x***@y.test"), ("", "***"),
])
def test_mask_email(email, masked):
    assert mask_email(email) == masked


# -- second factors -------------------------------------------------------------


def test_enabling_an_authenticator_app_is_recorded(world, security_lines):
    enrol_totp(world.db, world.user_ids["customer"])
    row = the_event(world, Event.MFA_ENABLED)
    assert row.user_id == world.user_ids["customer"] and row.details == {"factor": "totp"}
    assert logged(security_lines(), "mfa-enabled", world.user_ids["customer"])


def test_wrong_second_step_code_is_recorded(testapp, world, security_lines):
    enrol_totp(world.db, world.user_ids["customer"])
    sign_in(testapp, world.emails["customer"])
    second_step(testapp, "000000", status=400)
    assert the_event(world, Event.SECOND_STEP_FAILED).user_id == world.user_ids["customer"]
    assert_no_addresses(world, security_lines())


def test_recovery_code_use_is_recorded(testapp, world, security_lines):
    _secret, codes = enrol_totp(world.db, world.user_ids["customer"])
    sign_in(testapp, world.emails["customer"])
    second_step(testapp, codes[0])
    assert the_event(world, Event.RECOVERY_CODE_USED).user_id == world.user_ids["customer"]
    assert codes[0] not in json.dumps(security_lines())


def test_second_step_throttle_is_recorded(testapp, world, security_lines):
    enrol_totp(world.db, world.user_ids["customer"])
    sign_in(testapp, world.emails["customer"])
    for _attempt in range(MAX_SECOND_STEP_FAILURES):
        second_step(testapp, "000000", status=400)
    second_step(testapp, "000000", status=429)
    assert the_event(world, Event.SECOND_STEP_THROTTLED).user_id == world.user_ids["customer"]


def test_password_alone_of_a_two_step_account_is_no_sign_in(testapp, world, security_lines):
    enrol_totp(world.db, world.user_ids["customer"])
    sign_in(testapp, world.emails["customer"])
    row = the_event(world, Event.PASSWORD_ACCEPTED)
    assert (row.user_id, row.client_addr) == (world.user_ids["customer"], CLIENT)
    assert [r for r in recorded(world) if r.event == Event.SIGN_IN] == []


def test_sign_in_is_recorded_once_the_second_step_is_passed(testapp, world, security_lines):
    secret, _codes = enrol_totp(world.db, world.user_ids["customer"])
    sign_in(testapp, world.emails["customer"])
    second_step(testapp, code(secret))
    row = the_event(world, Event.SIGN_IN)
    assert (row.user_id, row.client_addr) == (world.user_ids["customer"], CLIENT)
    assert row.details == {"via": "site", "second_factor": "totp"}
    assert logged(security_lines(), "sign-in", world.user_ids["customer"])


def test_api_sign_in_with_a_code_is_recorded_as_two_steps(testapp, world):
    secret, _codes = enrol_totp(world.db, world.user_ids["customer"])
    post_json(testapp, "/api/v1/tokens", {"email": world.emails["customer"],
                                          "password": b.PASSWORD, "otp": code(secret)},
              status=201)
    assert the_event(world, Event.SIGN_IN).details == {"via": "api", "second_factor": "totp"}

"""Passkeys as the server sees them (the browser side is tested in
tests/browser): ceremonies need a fresh challenge of this session, used
once; a passkey is removed only by its owner; on both databases."""

import json

from sqlalchemy import select

from booking.models import Passkey

from .site import form_by_action, sign_in


def csrf_header(testapp, path="/login"):
    page = testapp.get(path)
    return {"X-CSRF-Token": page.html.select_one("input[name=csrf_token]")["value"]}


def test_sign_in_options_ask_for_user_verification(testapp, world):
    headers = csrf_header(testapp)
    options = testapp.post("/passkey-options", "{}", headers=headers,
                           content_type="application/json").json
    assert options["rpId"] == "booking.test"
    assert options["userVerification"] == "required"
    assert options.get("allowCredentials", []) == []  # discoverable: any passkey


def test_sign_in_without_a_challenge_is_refused(testapp, world):
    headers = csrf_header(testapp)
    response = testapp.post("/passkey-sign-in", json.dumps({"id": "x"}), headers=headers,
                            content_type="application/json", status=400)
    assert response.json["error"]["code"] == "expired"
    testapp.get("/account/", status=303)


def test_a_challenge_is_used_once(testapp, world):
    headers = csrf_header(testapp)
    testapp.post("/passkey-options", "{}", headers=headers, content_type="application/json")
    forged = {"id": "bm9wZQ", "rawId": "bm9wZQ", "type": "public-key",
              "response": {"clientDataJSON": "e30", "authenticatorData": "AA",
                           "signature": "AA"}}
    first = testapp.post("/passkey-sign-in", json.dumps(forged), headers=headers,
                         content_type="application/json", status=400)
    assert first.json["error"]["code"] == "passkey_refused"
    again = testapp.post("/passkey-sign-in", json.dumps(forged), headers=headers,
                         content_type="application/json", status=400)
    assert again.json["error"]["code"] == "expired"


def test_sign_in_options_need_the_csrf_token(testapp, world):
    testapp.get("/login")
    testapp.post("/passkey-options", "{}", content_type="application/json", status=400)


def test_registration_options_name_the_user_and_require_a_resident_key(testapp, world):
    sign_in(testapp, world.emails["customer"])
    headers = csrf_header(testapp, "/account/two-step")
    options = testapp.post("/account/passkey-options", "{}", headers=headers,
                           content_type="application/json").json
    assert options["rp"]["id"] == "booking.test"
    assert options["user"]["name"] == world.emails["customer"]
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"


def test_registration_with_a_forged_answer_is_refused(testapp, world):
    sign_in(testapp, world.emails["customer"])
    headers = csrf_header(testapp, "/account/two-step")
    testapp.post("/account/passkey-options", "{}", headers=headers,
                 content_type="application/json")
    body = {"name": "Mine", "credential": {"id": "bm9wZQ", "rawId": "bm9wZQ",
                                           "type": "public-key", "response": {}}}
    response = testapp.post("/account/passkey-add", json.dumps(body), headers=headers,
                            content_type="application/json", status=400)
    assert response.json["error"]["code"] == "passkey_refused"
    with world.db.session() as s:
        assert s.scalar(select(Passkey)) is None


def add_passkey(db, user_id, name="Phone"):
    from ..conftest import NOW

    with db.session() as s:
        passkey = Passkey(user_id=user_id, credential_id=f"cred-{user_id}-{name}",
                          public_key=b"key", sign_count=0, transports=["internal"], name=name,
                          created_at=NOW)
        s.add(passkey)
        s.flush()
        return passkey.id


def test_a_user_with_a_passkey_is_asked_for_the_second_step(testapp, world):
    add_passkey(world.db, world.user_ids["customer"])
    assert sign_in(testapp, world.emails["customer"]).location.endswith("/two-step")
    page = testapp.get("/two-step")
    assert page.html.select_one("[data-passkey-sign-in]") is not None


def test_owner_removes_their_passkey(testapp, world):
    sign_in(testapp, world.emails["manager"])
    add_passkey(world.db, world.user_ids["manager"], name="Old key")
    page = testapp.get("/account/two-step")
    assert "Old key" in page.text
    form_by_action(page, "/account/passkey-remove").submit(status=303)
    with world.db.session() as s:
        assert s.scalar(select(Passkey)) is None


def test_someone_elses_passkey_cannot_be_removed(testapp, world):
    other = add_passkey(world.db, world.user_ids["owner"])
    sign_in(testapp, world.emails["customer"])
    page = testapp.get("/account/two-step")
    testapp.post("/account/passkey-remove", {"passkey": str(other),
                 "csrf_token": page.html.select_one("input[name=csrf_token]")["value"]},
                 status=404)
    with world.db.session() as s:
        assert s.get(Passkey, other) is not None

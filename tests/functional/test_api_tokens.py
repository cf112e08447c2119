from sqlalchemy import select

from booking.models import ApiToken
from booking.security import token_digest

from .. import builders as b
from .api import post_json


def test_token_created_for_right_password(testapp, world):
    response = post_json(testapp, "/api/v1/tokens",
                         {"email": world.emails["customer"], "password": b.PASSWORD}, status=201)
    token = response.json["token"]
    assert len(token) >= 40
    me = testapp.get(f"/api/v1/t/{world.slug}/bookings", headers={"Authorization": f"Bearer {token}"})
    assert me.json == {"bookings": []}


def test_token_stored_only_as_digest(testapp, world):
    token = post_json(testapp, "/api/v1/tokens",
                      {"email": world.emails["customer"], "password": b.PASSWORD}).json["token"]
    with world.db.session() as s:
        digests = s.scalars(select(ApiToken.digest)).all()
    assert token_digest(token) in digests
    assert token not in digests


def test_token_email_is_case_insensitive(testapp, world):
    post_json(testapp, "/api/v1/tokens",
              {"email": world.emails["customer"].upper(), "password": b.PASSWORD}, status=201)


def test_token_refused_for_wrong_password(testapp, world):
    response = post_json(testapp, "/api/v1/tokens",
                         {"email": world.emails["customer"], "password": "wrong-password-123"},
                         status=401)
    assert response.json["error"]["code"] == "invalid_credentials"


def test_token_refused_for_unknown_email(testapp, world):
    response = post_json(testapp, "/api/v1/tokens",
                         {"email": "nobody@example.test", "password": b.PASSWORD}, status=401)
    assert response.json["error"]["message"] == "The email or the password is wrong."


def test_token_requires_both_fields(testapp, world):
    response = post_json(testapp, "/api/v1/tokens", {"email": world.emails["customer"]}, status=400)
    assert response.json["error"]["field"] == "password"


def test_revoked_token_no_longer_authenticates(testapp, world):
    headers = {"Authorization": f"Bearer {world.tokens['customer']}"}
    testapp.delete("/api/v1/tokens/current", headers=headers, status=204)
    response = testapp.get(f"/api/v1/t/{world.slug}/bookings", headers=headers, status=401)
    assert response.json["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_is_unauthorized(testapp, world):
    testapp.get(f"/api/v1/t/{world.slug}/bookings",
                headers={"Authorization": "Bearer not-a-token"}, status=401)


def test_token_refused_until_the_address_is_confirmed(testapp, world):
    with world.db.session() as s:
        b.user(s, email="new@example.test", email_confirmed_at=None)
    response = post_json(testapp, "/api/v1/tokens",
                         {"email": "new@example.test", "password": b.PASSWORD}, status=403)
    assert response.json["error"]["code"] == "address_not_confirmed"

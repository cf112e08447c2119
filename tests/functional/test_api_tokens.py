from datetime import datetime, timedelta

import webtest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from booking import main
from booking.models import ApiToken
from booking.security import token_digest

from .. import builders as b
from ..conftest import NOW, app_settings
from .api import post_json
from .site import form_by_action, sign_in


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


def issue(testapp, world, who="customer"):
    return post_json(testapp, "/api/v1/tokens",
                     {"email": world.emails[who], "password": b.PASSWORD}, status=201).json


def use(testapp, world, token, status=200):
    return testapp.get(f"/api/v1/t/{world.slug}/bookings",
                       headers={"Authorization": f"Bearer {token}"}, status=status)


def last_used(world, token):
    with world.db.session() as s:
        return s.scalar(select(ApiToken.last_used_at)
                        .where(ApiToken.digest == token_digest(token)))


def test_token_response_states_when_it_expires(testapp, world):
    issued = issue(testapp, world)
    assert datetime.fromisoformat(issued["expires_at"]) == NOW + timedelta(days=30)


def test_token_works_until_it_expires(testapp, world, clock):
    token = issue(testapp, world)["token"]
    clock.instant = NOW + timedelta(days=30) - timedelta(seconds=1)
    use(testapp, world, token)


def test_expired_token_is_unauthorized(testapp, world, clock):
    token = issue(testapp, world)["token"]
    clock.instant = NOW + timedelta(days=30)
    response = use(testapp, world, token, status=401)
    assert response.json["error"]["code"] == "unauthorized"


def test_token_lifetime_follows_the_setting(db, clock, world):
    testapp = webtest.TestApp(main({}, **app_settings(db, **{
        "booking.api_token_lifetime_days": "2"})), extra_environ={"HTTP_HOST": "booking.test"})
    issued = issue(testapp, world)
    assert datetime.fromisoformat(issued["expires_at"]) == NOW + timedelta(days=2)
    clock.instant = NOW + timedelta(days=2)
    use(testapp, world, issued["token"], status=401)


def test_first_use_of_a_token_is_recorded(testapp, world):
    token = issue(testapp, world)["token"]
    assert last_used(world, token) is None
    use(testapp, world, token)
    assert last_used(world, token) == NOW


def test_token_use_is_recorded_at_most_every_five_minutes(testapp, world, clock):
    token = issue(testapp, world)["token"]
    use(testapp, world, token)
    clock.instant = NOW + timedelta(minutes=4)
    use(testapp, world, token)
    assert last_used(world, token) == NOW
    clock.instant = NOW + timedelta(minutes=5)
    use(testapp, world, token)
    assert last_used(world, token) == NOW + timedelta(minutes=5)


def test_reading_with_a_recently_used_token_writes_nothing(testapp, world, clock):
    token = issue(testapp, world)["token"]
    use(testapp, world, token)
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement.split()[0].upper())

    clock.instant = NOW + timedelta(minutes=1)
    event.listen(Engine, "before_cursor_execute", record)
    try:
        use(testapp, world, token)
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert "SELECT" in statements and not {"UPDATE", "INSERT", "DELETE"} & set(statements)


class TestMyTokens:
    """My account → Security: the user's tokens, each revocable."""

    def page(self, testapp, world):
        sign_in(testapp, world.emails["customer"])
        return testapp.get("/account/security")

    def test_list_shows_created_last_used_and_expiry(self, testapp, world, clock):
        token = issue(testapp, world)["token"]
        clock.instant = NOW + timedelta(hours=1)
        use(testapp, world, token)
        rows = self.page(testapp, world).html.select("table.tokens tbody tr")
        assert len(rows) == 2  # the world's token and this one
        newest = [cell.text.strip().replace("\u202f", " ") for cell in rows[0].select("th, td")][:3]
        assert newest == ["Mar 2, 2026, 9:00 AM UTC", "Mar 2, 2026, 10:00 AM UTC",
                          "Apr 1, 2026, 9:00 AM UTC"]

    def test_list_leaves_out_revoked_expired_and_other_users_tokens(self, testapp, world,
                                                                    clock):
        testapp.delete("/api/v1/tokens/current",
                       headers={"Authorization": f"Bearer {world.tokens['customer']}"},
                       status=204)
        issue(testapp, world, "other_customer")
        assert self.page(testapp, world).html.select("table.tokens tbody tr") == []

    def test_revoke_one_token(self, testapp, world):
        kept = issue(testapp, world)["token"]
        page = self.page(testapp, world)
        [form] = [form for form in page.forms.values() if form.action.endswith("/revoke-token")
                  and self.token_id(world, world.tokens["customer"]) == int(form["id"].value)]
        assert "The token is revoked." in form.submit(status=303).follow().text
        use(testapp, world, world.tokens["customer"], status=401)
        use(testapp, world, kept)

    def test_revoke_every_token(self, testapp, world):
        second = issue(testapp, world)["token"]
        form_by_action(self.page(testapp, world), "/revoke-tokens").submit(status=303)
        use(testapp, world, world.tokens["customer"], status=401)
        use(testapp, world, second, status=401)
        use(testapp, world, world.tokens["other_customer"])

    def test_another_users_token_cannot_be_revoked(self, testapp, world):
        form = form_by_action(self.page(testapp, world), "/revoke-token")
        form["id"].force_value(str(self.token_id(world, world.tokens["other_customer"])))
        assert "already revoked" in form.submit(status=303).follow().text
        use(testapp, world, world.tokens["other_customer"])

    @staticmethod
    def token_id(world, token):
        with world.db.session() as s:
            return s.scalar(select(ApiToken.id).where(ApiToken.digest == token_digest(token)))


def test_token_refused_until_the_address_is_confirmed(testapp, world):
    with world.db.session() as s:
        b.user(s, email="new@example.test", email_confirmed_at=None)
    response = post_json(testapp, "/api/v1/tokens",
                         {"email": "new@example.test", "password": b.PASSWORD}, status=403)
    assert response.json["error"]["code"] == "address_not_confirmed"

"""``booking-tenant`` and ``booking-admin``, run in-process through their
``main(argv)`` against the test databases, with an INI file of their own."""

import pytest
from sqlalchemy import select

from booking.models import Membership, Tenant, User
from booking.passwords import UNUSABLE_PASSWORD
from booking.scripts import admin, tenant

INI = """\
[app:main]
use = call:booking:main
sqlalchemy.url = {url}
booking.secret = test-secret-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
booking.clock = 2026-03-02T09:00:00+00:00
"""


@pytest.fixture
def ini(db, tmp_path):
    path = tmp_path / "test.ini"
    path.write_text(INI.format(url=db.url.replace("%", "%%")))
    return str(path)


def run(module, ini, *args):
    return module.main([module.__name__, ini, *args])


def create(ini, slug="new-shop", email="owner@new.test", *extra):
    return run(tenant, ini, "create", "--slug", slug, "--name", "New Shop", "--owner-email",
               email, *extra)


def row(db, slug):
    with db.session_factory() as s:
        found = s.scalar(select(Tenant).where(Tenant.slug == slug))
        owners = [] if found is None else s.execute(
            select(User.email, User.password_hash, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.tenant_id == found.id)).all()
        return found, owners


def test_create_makes_the_tenant_and_a_passwordless_owner(ini, db, capsys):
    assert create(ini, "new-shop", "owner@new.test", "--time-zone", "Europe/Berlin",
                  "--currency", "chf") == 0
    found, owners = row(db, "new-shop")
    assert (found.name, found.time_zone, found.currency) == ("New Shop", "Europe/Berlin", "CHF")
    assert owners == [("owner@new.test", UNUSABLE_PASSWORD, "owner")]
    assert "Forgot your password?" in capsys.readouterr().out


def test_create_reuses_an_existing_account(ini, world):
    assert create(ini, "second", world.emails["customer"]) == 0
    _found, owners = row(world.db, "second")
    assert [(email, role) for email, _hash, role in owners] == [(world.emails["customer"], "owner")]
    assert owners[0][1] != UNUSABLE_PASSWORD


@pytest.mark.parametrize("args, message", [
    (("--slug", "admin"), "--slug: is reserved"),
    (("--slug", "Bad Slug"), "--slug: may contain only"),
    (("--time-zone", "Nowhere/Land"), "--time-zone: is not a known IANA time zone"),
    (("--currency", "JPY"), "--currency: must be a currency with cents"),
    (("--owner-email", "nobody"), "--owner-email: is not an email address"),
])
def test_create_refuses_bad_input_with_status_2(ini, db, capsys, args, message):
    base = {"--slug": "ok-shop", "--name": "Shop", "--owner-email": "o@shop.test"}
    base.update(dict(zip(args[::2], args[1::2])))
    argv = [part for pair in base.items() for part in pair]
    assert run(tenant, ini, "create", *argv) == 2
    assert message in capsys.readouterr().err
    with db.session_factory() as s:
        assert s.scalars(select(Tenant)).all() == [] and s.scalars(select(User)).all() == []


def test_create_refuses_a_taken_slug(ini, world, capsys):
    assert create(ini, world.slug) == 2
    assert "--slug: is already taken" in capsys.readouterr().err


def test_suspend_and_reactivate(ini, world):
    assert run(tenant, ini, "suspend", world.slug) == 0
    assert row(world.db, world.slug)[0].status == "suspended"
    assert run(tenant, ini, "reactivate", world.slug) == 0
    assert row(world.db, world.slug)[0].status == "active"


def test_suspend_unknown_tenant_fails_with_status_1(ini, db, capsys):
    assert run(tenant, ini, "suspend", "nope") == 1
    assert "no tenant 'nope'" in capsys.readouterr().err


def test_suspend_twice_fails_with_status_1(ini, world, capsys):
    run(tenant, ini, "suspend", world.slug)
    assert run(tenant, ini, "suspend", world.slug) == 1
    assert "already suspended" in capsys.readouterr().err


def test_list_prints_a_table(ini, world, capsys):
    assert run(tenant, ini, "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["SLUG", "NAME", "STATUS", "ZONE", "CURRENCY", "VENUES",
                                "RESOURCES", "BOOKINGS/30D"]
    club = next(line for line in lines if line.startswith(world.slug + " "))
    assert club.split()[-3:] == ["2", "3", "0"] and "active" in club


def test_unknown_command_exits_with_status_2(ini, db):
    with pytest.raises(SystemExit) as exc:
        run(tenant, ini, "explode")
    assert exc.value.code == 2


def test_admin_grant_and_revoke(ini, world):
    email = world.emails["customer"]
    assert run(admin, ini, "grant", email.upper()) == 0
    with world.db.session_factory() as s:
        assert s.scalar(select(User.is_platform_admin).where(User.email == email))
    assert run(admin, ini, "revoke", email) == 0
    with world.db.session_factory() as s:
        assert not s.scalar(select(User.is_platform_admin).where(User.email == email))


def test_admin_grant_unknown_user_fails_with_status_1(ini, db, capsys):
    assert run(admin, ini, "grant", "ghost@example.test") == 1
    assert "no user with the email ghost@example.test" in capsys.readouterr().err

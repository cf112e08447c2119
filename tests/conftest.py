import os
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import webtest

from booking import main
from booking.clock import FrozenClock
from booking.models import Role

from . import builders as b
from .database import PG_ADMIN_URL, postgresql_available, postgresql_database, sqlite_database

#: In CI a missing PostgreSQL fails the run instead of skipping its tests.
REQUIRE_POSTGRESQL = (
    os.environ.get("CI") == "true" or os.environ.get("BOOKING_REQUIRE_POSTGRESQL") == "1"
)

#: Tests run at a fixed instant: Monday 2 March 2026, 09:00 UTC (10:00 in Paris).
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SHARED_CLOCK = FrozenClock(NOW)


@pytest.fixture(scope="session")
def sqlite_db(tmp_path_factory):
    with sqlite_database(tmp_path_factory.mktemp("sqlite")) as database:
        yield database


@pytest.fixture(scope="session")
def postgresql_db():
    if not postgresql_available():
        message = f"PostgreSQL is not reachable at {PG_ADMIN_URL}"
        if REQUIRE_POSTGRESQL:
            pytest.fail(f"{message}, and it is required here", pytrace=False)
        pytest.skip(message)
    with postgresql_database() as database:
        yield database


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request):
    """A migrated, empty database of each kind; emptied again afterwards."""
    database = request.getfixturevalue(f"{request.param}_db")
    yield database
    database.clean()


@pytest.fixture
def clock():
    """The app's clock, set back to ``NOW`` for each test."""
    SHARED_CLOCK.instant = NOW
    return SHARED_CLOCK


def app_settings(database, **extra):
    return {
        **database.settings,
        "booking.secret": "test-secret-" + "x" * 40,
        "booking.clock": SHARED_CLOCK,
        **extra,
    }


@pytest.fixture(scope="session")
def apps():
    """One WSGI app per database, built on first use."""
    return {}


@pytest.fixture
def app(db, clock, apps):
    if db.backend not in apps:
        apps[db.backend] = main({}, **app_settings(db))
    return apps[db.backend]


@pytest.fixture
def testapp(app):
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "booking.test"})


@pytest.fixture
def world(db):
    """A tenant with two venues, an exclusive court and a class of 10, and a
    user of every kind that the authorization rules tell apart."""
    with db.session() as s:
        tenant = b.tenant(s, slug="club", time_zone="Europe/Paris")
        venue = b.venue(s, tenant, name="Centre", hours="every day 08:00-20:00")
        other_venue = b.venue(s, tenant, name="Annexe", hours="every day 08:00-20:00")
        court = b.resource(s, venue, name="Court", capacity=1, price=2000)
        yoga = b.resource(s, venue, name="Yoga", capacity=10, price=1000, kind="class")
        annexe_room = b.resource(s, other_venue, name="Annexe room", capacity=1)
        other_tenant = b.tenant(s, slug="rival", time_zone="America/New_York")
        rival_venue = b.venue(s, other_tenant, name="Rival venue")
        rival_court = b.resource(s, rival_venue, name="Rival court")
        users = {
            "owner": b.member(s, tenant, Role.OWNER),
            "manager": b.member(s, tenant, Role.MANAGER),
            "staff": b.member(s, tenant, Role.STAFF, venue=venue),
            "other_venue_staff": b.member(s, tenant, Role.STAFF, venue=other_venue),
            "customer": b.user(s),
            "other_customer": b.user(s),
            "other_tenant_owner": b.member(s, other_tenant, Role.OWNER),
        }
        tokens = {name: b.token(s, user) for name, user in users.items()}
        return SimpleNamespace(
            db=db,
            tenant_id=tenant.id, slug=tenant.slug,
            venue_id=venue.id, other_venue_id=other_venue.id,
            court_id=court.id, yoga_id=yoga.id, annexe_room_id=annexe_room.id,
            other_slug=other_tenant.slug, rival_venue_id=rival_venue.id,
            rival_court_id=rival_court.id,
            user_ids={name: user.id for name, user in users.items()},
            emails={name: user.email for name, user in users.items()},
            tokens=tokens,
        )


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def pytest_sessionfinish(session, exitstatus):
    """In CI a skipped test is a failed run: nothing may silently not run."""
    if not REQUIRE_POSTGRESQL:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and exitstatus == 0:
        reporter.write_line(f"{skipped} test(s) skipped: skips fail the run in CI", red=True)
        session.exitstatus = 1

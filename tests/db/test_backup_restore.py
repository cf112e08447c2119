"""The restore drill, on both databases: bookings made through the services,
a backup by ``booking-backup``, more bookings, a restore by
``booking-restore`` into a new database, and every row of every table as it
was at the backup; on PostgreSQL the exclusion constraint that refuses a
double booking is back, and refuses one. Then the scripts' refusals and
errors."""

import contextlib
import os
import re
import stat
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import func, inspect, make_url, select, text
from sqlalchemy.exc import IntegrityError

from booking.adapters.payments import ProviderEvent
from booking.adapters.payments.stripe import StripeProvider
from booking.models import Booking, Resource, Role, Tenant, User, is_exclusion_violation
from booking.models.meta import Base
from booking.scripts import backup, initialize_db, restore
from booking.services.booking import BookingRequest, BookingService
from booking.services.notifications import Notifier
from booking.services.payments import PaymentService

from .. import builders as b
from ..conftest import NOW
from ..database import ALEMBIC_DIR, Database, alembic_config, empty_postgresql_database, migrate
from ..fakes.payment_provider import running

PARIS = ZoneInfo("Europe/Paris")
WEDNESDAY = datetime(2026, 3, 4, tzinfo=PARIS)
URLS = {"success_url": "http://app.test/ok", "cancel_url": "http://app.test/cancel"}
INI = """\
[app:main]
use = egg:booking
sqlalchemy.url = {url}

[alembic]
script_location = {alembic}
"""


@pytest.fixture(autouse=True)
def no_database_from_the_environment(monkeypatch):
    monkeypatch.delenv("BOOKING_DATABASE_URL", raising=False)


@pytest.fixture(scope="module")
def stripe():
    with running() as server:
        yield server


@pytest.fixture
def fake(stripe):
    stripe.reset()
    return stripe


def write_ini(folder, name, url):
    path = Path(folder) / name
    path.write_text(INI.format(url=url.replace("%", "%%"), alembic=ALEMBIC_DIR))
    return str(path)


@contextlib.contextmanager
def new_database(backend, folder):
    """The URL of a database yet without tables: a new SQLite file, or a
    new PostgreSQL database (dropped afterwards)."""
    if backend == "sqlite":
        yield f"sqlite:///{folder}/restored/booking.sqlite"
    else:
        with empty_postgresql_database() as url:
            yield url


def every_row(engine):
    """Every row of every table of the models (and the schema's revision),
    ordered by primary key."""
    with engine.connect() as connection:
        rows = {table.name: [tuple(row) for row in connection.execute(
                    select(table).order_by(*table.primary_key.columns))]
                for table in Base.metadata.sorted_tables}
        rows["alembic_version"] = connection.execute(
            text("SELECT version_num FROM alembic_version")).scalars().all()
    return rows


def at(hour):
    return WEDNESDAY.replace(hour=hour)


def services(s, fake=None):
    notifier = Notifier(s, NOW)
    bookings = BookingService(s, NOW, notifier)
    if fake is None:
        return bookings
    provider = StripeProvider(fake.url, api_key=fake.api_key,
                              webhook_secret=fake.webhook_secret, timeout=0.5, retries=2)
    return bookings, PaymentService(s, NOW, provider, notifier, bookings)


def book(database, ids, resource, customer, hour, tenant="club", **kw):
    with database.session() as s:
        customer_row = s.get(User, ids[customer])
        booking, _ = services(s).book(BookingRequest(
            s.get(Tenant, ids[tenant]), s.get(Resource, ids[resource]), customer_row, at(hour),
            actor_id=customer_row.id, **kw))
        return booking.id


def cancel(database, ids, booking_id):
    with database.session() as s:
        services(s).cancel(s.get(Tenant, ids["club"]), s.get(Booking, booking_id),
                           actor_id=ids["owner"], reason="rain", by_staff=True)


def pay(database, ids, fake, customer, hour):
    """A booking held for payment, paid through the Stripe-shaped fake."""
    booking_id = book(database, ids, "court", customer, hour, hold_for_payment=True)
    with database.session() as s:
        _, payments = services(s, fake)
        reference = payments.start_checkout(s.get(Booking, booking_id), **URLS).provider_ref
    fake.pay(reference, deliver=False)
    with database.session() as s:
        _, payments = services(s, fake)
        payments.handle_event(ProviderEvent(f"evt_{booking_id}", "checkout.completed", reference,
                                            2000, int(NOW.timestamp())))
    return booking_id


def business(database, fake):
    """Two tenants with venues, resources, staff, customers and bookings:
    confirmed, for several seats, cancelled, paid online."""
    with database.session() as s:
        club = b.tenant(s, slug="club", hold_minutes=15)
        centre = b.venue(s, club, name="Centre", hours="every day 08:00-20:00")
        court = b.resource(s, centre, name="Court", capacity=1, price=2000)
        yoga = b.resource(s, centre, name="Yoga", capacity=10, price=1000, kind="class")
        owner = b.member(s, club, Role.OWNER)
        b.member(s, club, Role.STAFF, venue=centre)
        b.token(s, owner)
        harbor = b.tenant(s, slug="harbor", time_zone="America/New_York")
        pier = b.resource(s, b.venue(s, harbor, name="Pier 9"), name="Pier room", capacity=1)
        ids = dict(club=club.id, harbor=harbor.id, court=court.id, yoga=yoga.id, pier=pier.id,
                   owner=owner.id, **{name: b.user(s, name=name.title()).id
                                      for name in ("ann", "bob", "cara", "dan")})
    ids["court_booking"] = book(database, ids, "court", "ann", 10)
    book(database, ids, "yoga", "bob", 10, seats=2)
    cancel(database, ids, book(database, ids, "court", "bob", 12))
    book(database, ids, "pier", "cara", 17, tenant="harbor")  # 11:00 there
    ids["paid_booking"] = pay(database, ids, fake, "cara", 14)
    return ids


def book_more(database, ids):
    """After the backup: a new booking, and a cancellation."""
    book(database, ids, "court", "dan", 16)
    cancel(database, ids, ids["court_booking"])


@contextlib.contextmanager
def drill_on(database, folder, fake):
    ids = business(database, fake)
    backup_file = Path(folder) / "drill.backup"
    source_ini = write_ini(folder, "source.ini", database.url)
    assert backup.main(["booking-backup", source_ini, "--output", str(backup_file)]) == 0
    at_backup = every_row(database.engine)
    book_more(database, ids)
    with new_database(database.backend, folder) as url:
        ini = write_ini(folder, "restored.ini", url)
        assert restore.main(["booking-restore", ini, str(backup_file)]) == 0
        restored = Database(database.backend, url)
        try:
            yield SimpleNamespace(ids=ids, at_backup=at_backup, file=backup_file, ini=ini,
                                  source_ini=source_ini, restored=restored)
        finally:
            restored.dispose()


@pytest.fixture
def drill(db, tmp_path, fake):
    with drill_on(db, tmp_path, fake) as result:
        yield result


@pytest.fixture
def pg_drill(postgresql_db, tmp_path, fake):
    try:
        with drill_on(postgresql_db, tmp_path, fake) as result:
            yield result
    finally:
        postgresql_db.clean()


class TestRestoreDrill:
    def test_restore_brings_back_every_row_as_at_the_backup(self, db, drill):
        filled = {name for name, rows in drill.at_backup.items() if rows}
        assert filled >= {"tenants", "venues", "opening_hours", "resources", "users",
                          "memberships", "api_tokens", "bookings", "payments",
                          "payment_events", "outbox", "audit_log", "alembic_version"}
        assert every_row(drill.restored.engine) == drill.at_backup
        assert every_row(db.engine) != drill.at_backup  # booked more after the backup
        with drill.restored.session() as s:
            statuses = set(s.scalars(select(Booking.status)))
        assert statuses == {"confirmed", "cancelled"}

    def test_restored_database_takes_new_bookings(self, drill):
        last_id = max(row[0] for row in drill.at_backup["bookings"])
        new_id = book(drill.restored, drill.ids, "court", "dan", 16)
        assert new_id > last_id

    def test_restored_postgresql_refuses_an_overlapping_booking(self, pg_drill):
        table = Booking.__table__
        columns = ", ".join(column.name for column in table.columns
                            if column.name not in ("id", "reference", "idempotency_key"))
        overlapping_copy = text(
            f"INSERT INTO bookings ({columns}, reference) "
            f"SELECT {columns}, 'OVERLAP1' FROM bookings WHERE id = :id")
        with pytest.raises(IntegrityError) as error:
            with pg_drill.restored.engine.begin() as connection:
                connection.execute(overlapping_copy, {"id": pg_drill.ids["court_booking"]})
        assert is_exclusion_violation(error.value)
        assert "ex_bookings_exclusive_no_overlap" in str(error.value)

    def test_restore_with_force_replaces_the_tables(self, drill, capsys):
        book(drill.restored, drill.ids, "court", "dan", 18)
        with drill.restored.engine.begin() as connection:
            connection.execute(text("CREATE TABLE leftover (id integer PRIMARY KEY)"))
        assert restore.main(["booking-restore", drill.ini, str(drill.file), "--force"]) == 0
        assert every_row(drill.restored.engine) == drill.at_backup
        with drill.restored.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == set(drill.at_backup)
        assert "newest revision" in capsys.readouterr().out


def test_restore_refuses_a_database_that_holds_tables(db, tmp_path, capsys):
    ini = write_ini(tmp_path, "app.ini", db.url)
    with db.session() as s:
        b.tenant(s, slug="kept")
    backup_file = tmp_path / "one.backup"
    assert backup.main(["booking-backup", ini, "--output", str(backup_file)]) == 0
    with db.session() as s:
        b.tenant(s, slug="after")

    assert restore.main(["booking-restore", ini, str(backup_file)]) == 1
    assert "pass --force" in capsys.readouterr().err
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Tenant)) == 2


def test_restore_with_force_of_a_damaged_backup_leaves_the_database_as_it_was(db, tmp_path,
                                                                            capsys):
    ini = write_ini(tmp_path, "app.ini", db.url)
    with db.session() as s:
        b.tenant(s, slug="kept")
    backup_file = tmp_path / "whole.backup"
    assert backup.main(["booking-backup", ini, "--output", str(backup_file)]) == 0
    damaged = tmp_path / "damaged.backup"
    damaged.write_bytes(backup_file.read_bytes()[:-4096])
    before = every_row(db.engine)

    assert restore.main(["booking-restore", ini, str(damaged), "--force"]) == 1
    assert re.search(r"damaged|pg_restore failed", capsys.readouterr().err)
    assert every_row(db.engine) == before


def test_restore_of_an_older_backup_says_to_migrate_it(db, tmp_path, capsys):
    source_ini = write_ini(tmp_path, "source.ini", db.url)
    backup_file = tmp_path / "old.backup"
    with db.engine.connect() as connection:
        command.downgrade(alembic_config(connection), "-1")
    try:
        assert backup.main(["booking-backup", source_ini, "--output", str(backup_file)]) == 0
    finally:
        migrate(db.engine)
    with new_database(db.backend, tmp_path) as url:
        ini = write_ini(tmp_path, "restored.ini", url)
        assert restore.main(["booking-restore", ini, str(backup_file)]) == 0
        assert re.search(r"older than this version's \w+: run 'booking-initdb ",
                         capsys.readouterr().out)
        initialize_db.main(["booking-initdb", ini])
        assert restore.newest_revision(ini) == restore.schema_revision(make_url(url))


def test_backup_holds_what_was_committed_while_a_writer_is_busy(db, tmp_path):
    """A running server's open transaction (SQLite: WAL, holding the write
    lock) neither blocks the backup nor gets into it half-done."""
    ini = write_ini(tmp_path, "app.ini", db.url)
    backup_file = tmp_path / "busy.backup"
    with db.session() as s:
        b.tenant(s, slug="committed")
    with db.session() as s:
        b.tenant(s, slug="uncommitted")
        assert backup.main(["booking-backup", ini, "--output", str(backup_file)]) == 0
    with new_database(db.backend, tmp_path) as url:
        restored_ini = write_ini(tmp_path, "restored.ini", url)
        assert restore.main(["booking-restore", restored_ini, str(backup_file)]) == 0
        restored = Database(db.backend, url)
        try:
            with restored.session() as s:
                assert s.scalars(select(Tenant.slug)).all() == ["committed"]
        finally:
            restored.dispose()


class TestBackup:
    def test_backup_file_is_readable_by_its_owner_only(self, db, tmp_path):
        """The console script, run with a umask that would let anyone read."""
        ini = write_ini(tmp_path, "app.ini", db.url)
        script = Path(sys.executable).with_name("booking-backup")
        done = subprocess.run([str(script), ini, "--output", str(tmp_path / "x.backup")],
                              capture_output=True, text=True, check=False,
                              preexec_fn=lambda: os.umask(0))
        assert done.returncode == 0, done.stderr
        path = tmp_path / "x.backup"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert done.stdout == f"backup written: {path} ({path.stat().st_size:,} bytes)\n"

    def test_backup_goes_to_backups_next_to_the_ini_by_default(self, db, tmp_path, capsys):
        ini = write_ini(tmp_path, "app.ini", db.url)
        assert backup.main(["booking-backup", ini]) == 0
        (written,) = (tmp_path / "backups").iterdir()
        assert re.fullmatch(r"booking-\d{8}T\d{6}Z\.(dump|sqlite)", written.name)
        assert str(written) in capsys.readouterr().out

    def test_backup_never_overwrites_a_file(self, db, tmp_path, capsys):
        ini = write_ini(tmp_path, "app.ini", db.url)
        existing = tmp_path / "existing.backup"
        existing.write_text("keep me")
        assert backup.main(["booking-backup", ini, "--output", str(existing)]) == 1
        assert "already exists" in capsys.readouterr().err
        assert existing.read_text() == "keep me"

    def test_backup_fails_clearly_without_its_database(self, db, tmp_path, capsys):
        missing = make_url(db.url)
        missing = missing.set(database=f"{missing.database}-missing")
        ini = write_ini(tmp_path, "app.ini", missing.render_as_string(hide_password=False))
        assert backup.main(["booking-backup", ini, "--output", str(tmp_path / "x")]) == 1
        assert re.search(r"no SQLite database at|does not exist", capsys.readouterr().err)
        assert [path.name for path in tmp_path.iterdir()] == ["app.ini"]  # nor a partial file

    def test_backup_fails_clearly_on_a_path_it_cannot_write(self, db, tmp_path, capsys):
        ini = write_ini(tmp_path, "app.ini", db.url)
        (tmp_path / "a-file").write_text("")
        output = tmp_path / "a-file" / "x.backup"
        assert backup.main(["booking-backup", ini, "--output", str(output)]) == 1
        assert f"cannot write to {tmp_path / 'a-file'}" in capsys.readouterr().err

    def test_backup_fails_clearly_without_pg_dump(self, postgresql_db, tmp_path, monkeypatch,
                                                  capsys):
        ini = write_ini(tmp_path, "app.ini", postgresql_db.url)
        monkeypatch.setenv("PATH", str(tmp_path / "empty"))
        assert backup.main(["booking-backup", ini, "--output", str(tmp_path / "x")]) == 1
        assert "pg_dump not found on PATH" in capsys.readouterr().err

    def test_password_is_never_printed(self, postgresql_db, tmp_path, capsys):
        url = make_url(postgresql_db.url)
        url = url.set(password=url.password or "s3cret-never-shown")  # trust ignores it
        ini = write_ini(tmp_path, "app.ini", url.render_as_string(hide_password=False))
        missing = url.set(database=f"{url.database}_missing")
        bad_ini = write_ini(tmp_path, "bad.ini", missing.render_as_string(hide_password=False))
        assert backup.main(["booking-backup", ini, "--output", str(tmp_path / "x")]) == 0
        assert backup.main(["booking-backup", bad_ini, "--output", str(tmp_path / "y")]) == 1
        assert restore.main(["booking-restore", bad_ini, str(tmp_path / "x")]) == 1
        printed = capsys.readouterr()
        assert "does not exist" in printed.err
        assert url.password not in printed.out + printed.err


def test_restore_refuses_a_backup_of_the_other_database(db, tmp_path, capsys):
    ini = write_ini(tmp_path, "app.ini", db.url)
    other = tmp_path / "other.backup"
    other.write_bytes(backup.SQLITE_MAGIC if db.backend == "postgresql" else b"PGDMP\x01")
    assert restore.main(["booking-restore", ini, str(other)]) == 2
    assert "is a backup of a" in capsys.readouterr().err


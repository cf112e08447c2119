"""How ``booking-backup`` reads its database and names its file, without a
database."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import make_url

from booking.scripts.backup import BackupError, database_url, libpq, output_path

NOW = datetime(2026, 3, 2, 9, 30, 5, tzinfo=UTC)
INI = """\
[app:main]
use = egg:booking
sqlalchemy.url = {url}
"""


def write_ini(tmp_path, url):
    path = tmp_path / "app.ini"
    path.write_text(INI.format(url=url))
    return str(path)


def test_libpq_url_leaves_the_password_to_the_environment():
    url = make_url("postgresql+psycopg://booking:p%40ss@db.internal:5433/booking?sslmode=require")
    dbname, environ = libpq(url)
    assert dbname == "postgresql://booking@db.internal:5433/booking?sslmode=require"
    assert environ["PGPASSWORD"] == "p@ss"


def test_sqlite_url_fills_here_from_the_ini(tmp_path):
    ini = write_ini(tmp_path, "sqlite:///%(here)s/var/booking.sqlite")
    assert database_url(ini, environ={}).database == f"{tmp_path}/var/booking.sqlite"


def test_environment_database_url_wins_over_the_ini(tmp_path):
    ini = write_ini(tmp_path, "sqlite:///%(here)s/var/booking.sqlite")
    url = database_url(ini, environ={"BOOKING_DATABASE_URL": "postgresql+psycopg://h/booking"})
    assert (url.get_backend_name(), url.database) == ("postgresql", "booking")


def test_missing_database_url_is_bad_input(tmp_path):
    ini = write_ini(tmp_path, "")
    with pytest.raises(BackupError, match="sqlalchemy.url is not set") as error:
        database_url(ini, environ={})
    assert error.value.status == 2


def test_default_output_is_a_utc_name_in_backups_next_to_the_ini(tmp_path):
    ini = write_ini(tmp_path, "sqlite:///x.sqlite")
    path = output_path(ini, make_url("sqlite:///x.sqlite"), None, NOW)
    assert path == tmp_path / "backups" / "booking-20260302T093005Z.sqlite"


def test_output_ending_with_a_slash_is_a_folder(tmp_path):
    url = make_url("postgresql+psycopg://h/booking")
    path = output_path("app.ini", url, f"{tmp_path}/new/", NOW)
    assert path == tmp_path / "new" / "booking-20260302T093005Z.dump"

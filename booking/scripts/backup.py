"""``booking-backup <ini> [--output PATH]``: a consistent backup of the
database the INI file names (``sqlalchemy.url``, or ``BOOKING_DATABASE_URL``).

- PostgreSQL: ``pg_dump --format=custom``, one snapshot of the whole
  database while the app keeps running; restore it with ``booking-restore``
  (``pg_restore``).
- SQLite: SQLite's online backup API (``sqlite3.Connection.backup``), which
  copies one consistent state even while the server writes (WAL mode); the
  copy is a plain single-file database.

The file goes to ``--output`` (a file, or a folder for the default name),
else to ``backups/`` next to the INI file, named ``booking-<UTC time>``
with ``.dump`` (PostgreSQL) or ``.sqlite``. It is written under a temporary
name and renamed once complete, readable by its owner only (0600); an
existing file is never overwritten. The connection's password reaches
``pg_dump`` through its environment (``PGPASSWORD``), never its arguments,
and is never printed.

Exit status: 0 written (the path and size are printed), 1 failed (no
database, ``pg_dump`` missing or failing, a path that cannot be written),
2 bad arguments or configuration. Errors go to stderr, one line each.
"""

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from pyramid.paster import get_appsettings, setup_logging
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from ..settings import ENVIRONMENT_OVERRIDES
from .initialize_db import ini_path

OK, FAILED, BAD_INPUT = 0, 1, 2
#: The first bytes of each kind of backup file.
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
SUFFIXES = {"postgresql": ".dump", "sqlite": ".sqlite"}


class BackupError(Exception):
    """The backup or restore cannot go on; the message says why, for the
    operator (it never holds a password). ``status`` is the exit status."""

    def __init__(self, message, status=FAILED):
        super().__init__(message)
        self.status = status


def read_config(config_uri):
    """Check that the INI file exists, and set up logging from it."""
    if not Path(ini_path(config_uri)).is_file():
        raise BackupError(f"no configuration file {ini_path(config_uri)}", BAD_INPUT)
    setup_logging(config_uri)


def database_url(config_uri, environ=None):
    """The database URL of ``config_uri`` (``%(here)s`` filled), the
    environment's ``BOOKING_DATABASE_URL`` first, as the app reads it."""
    environ = os.environ if environ is None else environ
    try:
        settings = get_appsettings(config_uri)
    except LookupError as exc:
        raise BackupError(f"cannot read {config_uri}: {exc}", BAD_INPUT) from None
    raw = settings.get("sqlalchemy.url") or ""
    for variable, key in ENVIRONMENT_OVERRIDES.items():
        if key == "sqlalchemy.url" and environ.get(variable):
            raw = environ[variable]
    if not raw.strip():
        raise BackupError("sqlalchemy.url is not set: set it in the INI file or export "
                          "BOOKING_DATABASE_URL", BAD_INPUT)
    try:
        url = make_url(raw.strip())
    except ArgumentError:
        raise BackupError("sqlalchemy.url is not a database URL", BAD_INPUT) from None
    if url.get_backend_name() not in SUFFIXES:
        raise BackupError(f"backups support PostgreSQL and SQLite, not {url.get_backend_name()}",
                          BAD_INPUT)
    return url


def describe(url):
    """The database, for messages: no password."""
    if url.get_backend_name() == "sqlite":
        return f"SQLite database {sqlite_path(url)}"
    return f"PostgreSQL database {url.database!r} on {url.host or 'the local socket'}"


def sqlite_path(url):
    if url.database in (None, "", ":memory:"):
        raise BackupError("an in-memory SQLite database cannot be backed up or restored",
                          BAD_INPUT)
    return Path(url.database).resolve()


def libpq(url):
    """``url`` as libpq takes it (for ``pg_dump``/``pg_restore``'s
    ``--dbname``) without its password, and the environment that carries
    the password (``PGPASSWORD``), so that no process list shows it."""
    environ = dict(os.environ)
    if url.password is not None:
        environ["PGPASSWORD"] = str(url.password)
    plain = URL.create("postgresql", username=url.username, host=url.host, port=url.port,
                       database=url.database, query=url.query)
    return plain.render_as_string(hide_password=False), environ


def client_program(name):
    """The path of a PostgreSQL client program, or a clear error."""
    program = shutil.which(name)
    if program is None:
        raise BackupError(f"{name} not found on PATH: install the PostgreSQL client programs "
                          "(Debian: apt install postgresql-client), of the server's major "
                          "version or newer")
    return program


def run_client(args, environ, stdout=subprocess.DEVNULL):
    """Run ``pg_dump``/``pg_restore``; raise :class:`BackupError` with its
    own error lines when it fails."""
    done = subprocess.run(args, env=environ, stdout=stdout, stderr=subprocess.PIPE, check=False)
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
        raise BackupError(f"{Path(args[0]).name} failed: {detail}")


def default_name(url, now):
    return f"booking-{now:%Y%m%dT%H%M%SZ}{SUFFIXES[url.get_backend_name()]}"


def output_path(config_uri, url, output, now):
    """Where the backup goes: ``output`` (a folder, existing or ending with
    ``/``, takes the default name),
    else ``backups/`` next to the INI file."""
    if output is None:
        folder = Path(ini_path(config_uri)).resolve().parent / "backups"
        return folder / default_name(url, now)
    path = Path(output).expanduser().resolve()
    if path.is_dir() or output.endswith(("/", os.sep)):
        return path / default_name(url, now)
    return path


def private_file(path):
    """Create ``path``, empty, readable and writable by its owner only."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(descriptor, 0o600)  # whatever the umask
    return os.fdopen(descriptor, "wb")


def dump_postgresql(url, target):
    pg_dump = client_program("pg_dump")
    dbname, environ = libpq(url)
    with private_file(target) as file:
        run_client([pg_dump, "--format=custom", "--no-password", f"--dbname={dbname}"],
                   environ, stdout=file)


def copy_sqlite(source_path, target):
    """The backup API copies every page of one read snapshot in one step:
    writers (WAL) go on and are not in the copy. The copy leaves WAL mode,
    so that it is a single self-contained file."""
    if not source_path.is_file():
        raise BackupError(f"no SQLite database at {source_path}")
    private_file(target).close()
    try:
        source = sqlite3.connect(f"{source_path.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {source_path}: {exc}") from None
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")
        check = copy.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the copy of {source_path} fails its check: {check}")
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"cannot copy {source_path}: {exc}") from None
    finally:
        copy.close()
        source.close()


def backup(config_uri, output=None, now=None):
    """Write the backup; return its path."""
    url = database_url(config_uri)
    now = now or datetime.now(UTC)
    target = output_path(config_uri, url, output, now)
    if target.exists():
        raise BackupError(f"{target} already exists: choose another --output")
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        partial.unlink(missing_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot write to {target.parent}: {exc.strerror}") from None
    try:
        if url.get_backend_name() == "postgresql":
            dump_postgresql(url, partial)
        else:
            copy_sqlite(sqlite_path(url), partial)
        partial.replace(target)
    except OSError as exc:
        raise BackupError(f"cannot write {target}: {exc.strerror}") from None
    finally:
        partial.unlink(missing_ok=True)
    return target


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="booking-backup",
        description="Write a consistent backup of the database the INI file names "
                    "(PostgreSQL: pg_dump's custom format; SQLite: a copy by the online "
                    "backup API).")
    parser.add_argument("config_uri", help="the INI file, e.g. production.ini")
    parser.add_argument("--output", metavar="PATH",
                        help="the backup file, or a folder for the default name "
                             "(default: backups/booking-<UTC time>.dump|.sqlite next to the INI)")
    return parser.parse_args(argv[1:])


def main(argv=sys.argv):
    args = parse_args(argv)
    try:
        read_config(args.config_uri)
        path = backup(args.config_uri, args.output)
    except BackupError as exc:
        print(f"booking-backup: {exc}", file=sys.stderr)
        return exc.status
    size = path.stat().st_size
    print(f"backup written: {path} ({size:,} bytes)")
    return OK


if __name__ == "__main__":
    sys.exit(main())

"""``booking-restore <ini> <backup-file> [--force]``: restore a backup of
``booking-backup`` into the database the INI file names.

The database must hold no tables (a new SQLite file, or a PostgreSQL
database made with ``createdb``), unless ``--force``: then its tables are
replaced by the backup's. Stop the app and the worker first.

- PostgreSQL: ``pg_restore --no-owner --no-comments --exit-on-error
  --single-transaction`` (a failed restore writes nothing). Under
  ``--force`` the archive is read through first, then every table of the
  database is dropped (a newer schema's too, which ``pg_restore --clean``
  would leave), then it is restored.
- SQLite: the online backup API copies the backup into the database file.

Afterwards it reads the schema's Alembic revision and says whether it is
this version's newest; an older backup must be migrated with
``booking-initdb <ini>`` before the app starts.

Exit status: 0 restored, 1 refused or failed (tables present without
``--force``, no such database, a damaged backup, ``pg_restore`` missing or
failing, a restored database without a schema revision), 2 bad arguments
(no backup file, a backup of the other kind of database).
"""

import argparse
import os
import sqlite3
import sys
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from .backup import (
    BAD_INPUT,
    FAILED,
    OK,
    PG_DUMP_MAGIC,
    SQLITE_MAGIC,
    BackupError,
    client_program,
    database_url,
    describe,
    libpq,
    private_file,
    read_config,
    run_client,
    sqlite_path,
)
from .initialize_db import alembic_config_for


def backup_kind(path):
    """``postgresql`` or ``sqlite``, from the file's first bytes."""
    try:
        with open(path, "rb") as file:
            start = file.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise BackupError(f"no backup file {path}", BAD_INPUT) from None
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}", BAD_INPUT) from None
    if start.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    if start == SQLITE_MAGIC:
        return "sqlite"
    raise BackupError(f"{path} is not a backup of booking-backup (neither a pg_dump custom "
                      "archive nor a SQLite database)", BAD_INPUT)


def engine_for(url):
    return create_engine(url, poolclass=NullPool)


def existing_tables(url):
    """The tables the database holds (none for a SQLite file yet to be)."""
    if url.get_backend_name() == "sqlite" and not sqlite_path(url).exists():
        return []
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            return inspect(connection).get_table_names()
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0]
        hint = ""
        if "does not exist" in reason:
            hint = f": create it first (createdb {url.database})"
        raise BackupError(f"cannot open the {describe(url)}: {reason}{hint}") from None
    finally:
        engine.dispose()


def drop_tables(url, tables):
    """Drop every table of the database (``--force`` on PostgreSQL), so that
    tables of a newer schema cannot stay beside the backup's."""
    engine = engine_for(url)
    try:
        with engine.begin() as connection:
            quote = connection.dialect.identifier_preparer.quote
            connection.execute(text(f"DROP TABLE {', '.join(map(quote, tables))} CASCADE"))
    finally:
        engine.dispose()


def check_archive(path):
    """The archive reads to its end, data included (before a ``--force``
    drops anything): ``pg_restore`` writes it as SQL, to nowhere."""
    run_client([client_program("pg_restore"), f"--file={os.devnull}", str(path)], None)


def restore_postgresql(url, path):
    """One transaction: a failed restore writes nothing. Without owners
    (the URL's user owns what it creates) and without comments (the only
    one is the ``btree_gist`` extension's, which only its owner may set)."""
    dbname, environ = libpq(url)
    run_client([client_program("pg_restore"), "--no-owner", "--no-comments", "--exit-on-error",
                "--single-transaction", "--no-password", f"--dbname={dbname}", str(path)],
               environ)


def restore_sqlite(url, path):
    """Check the backup, then copy its pages into the database file in one
    transaction of the target (a new file is readable by its owner only)."""
    target = sqlite_path(url)
    source = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        try:
            check = source.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            check = str(exc)
        if check != "ok":
            raise BackupError(f"{path} is damaged ({check}): nothing restored")
        if not target.exists():
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                private_file(target).close()
            except OSError as exc:
                raise BackupError(f"cannot create {target}: {exc.strerror}") from None
        database = sqlite3.connect(target, timeout=30)
        try:
            source.backup(database)
        except sqlite3.Error as exc:
            raise BackupError(f"cannot restore into {target}: {exc}") from None
        finally:
            database.close()
    finally:
        source.close()


def restore(config_uri, path, force=False):
    """Restore ``path``; return the schema's revision and the newest one."""
    url = database_url(config_uri)
    kind = backup_kind(path)
    if kind != url.get_backend_name():
        raise BackupError(f"{path} is a backup of a {kind} database, but {config_uri} names "
                          f"a {describe(url)}", BAD_INPUT)
    tables = existing_tables(url)
    if tables and not force:
        raise BackupError(f"the {describe(url)} already holds {len(tables)} tables: restore "
                          "into a new, empty database, or pass --force to replace them")
    if kind == "postgresql":
        if tables:
            check_archive(path)
            drop_tables(url, tables)
        restore_postgresql(url, path)
    else:
        restore_sqlite(url, path)
    return schema_revision(url), newest_revision(config_uri)


def schema_revision(url):
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def newest_revision(config_uri):
    try:
        return ScriptDirectory.from_config(alembic_config_for(config_uri)).get_current_head()
    except CommandError:
        return None


def schema_report(config_uri, revision, newest):
    """What the operator must know of the restored schema, and whether it
    is ready for the app."""
    if revision is None:
        return ("the restored database has no schema revision (alembic_version): is the "
                "backup a Booking database?")
    if newest is None:
        return f"schema at revision {revision} (the migrations were not found to compare)"
    if revision == newest:
        return f"schema at the newest revision ({revision}): ready"
    known = ScriptDirectory.from_config(alembic_config_for(config_uri))
    if revision not in {script.revision for script in known.walk_revisions()}:
        return (f"the restored schema is at revision {revision}, unknown to this version "
                f"of Booking (newest {newest}): run the version that wrote the backup")
    return (f"the restored schema is at revision {revision}, older than this version's "
            f"{newest}: run 'booking-initdb {config_uri}' (alembic upgrade head) before "
            "starting the app")


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="booking-restore",
        description="Restore a backup of booking-backup into the database the INI file "
                    "names (which must be empty, unless --force).")
    parser.add_argument("config_uri", help="the INI file, e.g. production.ini")
    parser.add_argument("backup", help="the backup file (.dump or .sqlite)")
    parser.add_argument("--force", action="store_true",
                        help="replace the tables of a database that holds some")
    return parser.parse_args(argv[1:])


def main(argv=sys.argv):
    args = parse_args(argv)
    try:
        read_config(args.config_uri)
        revision, newest = restore(args.config_uri, args.backup, force=args.force)
    except BackupError as exc:
        print(f"booking-restore: {exc}", file=sys.stderr)
        return exc.status
    print(f"restored {args.backup} into the {describe(database_url(args.config_uri))}")
    print(schema_report(args.config_uri, revision, newest))
    return OK if revision is not None else FAILED


if __name__ == "__main__":
    sys.exit(main())

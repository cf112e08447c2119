"""``booking-initdb <ini> [--demo]``: migrate the database to the newest
schema (safe to run again) and, with ``--demo``, load the demo tenants."""

import argparse
import sys
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from pyramid.paster import bootstrap, get_appsettings, setup_logging
from sqlalchemy.engine import make_url

from ..services import unit_of_work
from ..settings import SettingsError, parse_settings
from .load_demo import load_demo


def ini_path(config_uri):
    return config_uri.split("#", 1)[0]


def installed_migrations():
    """The migration scripts an installed wheel carries (``booking/migrations``),
    or None in a checkout, whose INI files name its top-level ``alembic/``."""
    location = resources.files("booking") / "migrations"
    return Path(str(location)) if (location / "env.py").is_file() else None


def alembic_config_for(config_uri):
    """Alembic's configuration from the app's own INI file, with the scripts
    shipped in the package when there are (they match the installed code,
    wherever the INI file lives); else the INI's ``script_location``."""
    alembic_config = Config(ini_path(config_uri))
    location = installed_migrations()
    if location is not None:
        alembic_config.set_main_option("script_location", str(location).replace("%", "%%"))
    return alembic_config


def migrate(config_uri, settings):
    """``alembic upgrade head`` with the app's own INI file."""
    url = make_url(settings["sqlalchemy.url"])
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    alembic_config = alembic_config_for(config_uri)
    alembic_config.attributes["configure_logging"] = False
    command.upgrade(alembic_config, "head")


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="booking-initdb",
        description="Migrate the database to the newest schema; optionally load demo data.",
    )
    parser.add_argument("config_uri", help="the INI file, e.g. development.ini")
    parser.add_argument("--demo", action="store_true",
                        help="load the demo tenants 'demo' and 'harbor' (skipped if present)")
    return parser.parse_args(argv[1:])


def main(argv=sys.argv):
    args = parse_args(argv)
    setup_logging(args.config_uri)
    try:
        settings = parse_settings(get_appsettings(args.config_uri))
    except SettingsError as exc:
        raise SystemExit(f"booking-initdb: configuration error: {exc}") from None
    migrate(args.config_uri, settings)
    print("database migrated to the newest schema")
    if args.demo:
        with bootstrap(args.config_uri) as env, unit_of_work(env["registry"]) as work:
            loaded = load_demo(work)
        for slug in loaded:
            print(f"demo tenant '{slug}' loaded")
        if not loaded:
            print("demo tenants already present: nothing loaded")

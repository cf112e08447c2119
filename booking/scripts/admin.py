"""``booking-admin <ini> grant|revoke EMAIL``: make a user a platform
administrator (``/admin/``), or no longer one. The user must have an
account. Exit status: 0 done, 1 refused (no such user), 2 bad arguments.
One unit of work, through ``PlatformService``."""

import argparse
import sys

from ..models import normalize_email
from ..services import unit_of_work
from ..services.platform import PlatformService
from .tenant import OK, REFUSED, app_registry, fail


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="booking-admin",
                                     description="Grant or revoke platform administration.")
    parser.add_argument("config_uri", help="the INI file, e.g. development.ini")
    parser.add_argument("command", choices=("grant", "revoke"))
    parser.add_argument("email", help="the user's email")
    return parser.parse_args(argv[1:])


def main(argv=sys.argv):
    args = parse_args(argv)
    email = normalize_email(args.email)
    grant = args.command == "grant"
    with app_registry(args.config_uri) as registry, unit_of_work(registry) as work:
        platform = work.find_service(PlatformService)
        user = platform.user(email)
        if user is None:
            return fail("booking-admin", f"no user with the email {email}", REFUSED)
        if not platform.set_platform_admin(user, grant):
            print(f"{email} {'is already' if grant else 'was not'} a platform administrator")
            return OK
    print(f"{email} {'is now' if grant else 'is no longer'} a platform administrator")
    return OK


if __name__ == "__main__":
    sys.exit(main())

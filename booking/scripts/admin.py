"""``booking-admin <ini> grant|revoke EMAIL``: make a user a platform
administrator (``/admin/``), or no longer one. The user must have an
account. Exit status: 0 done, 1 refused (no such user), 2 bad arguments."""

import argparse
import sys

from sqlalchemy import select

from ..models import User, normalize_email
from .tenant import OK, REFUSED, fail, unit_of_work


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
    with unit_of_work(args.config_uri) as (dbsession, _now):
        user = dbsession.scalar(select(User).where(User.email == email))
        if user is None:
            return fail("booking-admin", f"no user with the email {email}", REFUSED)
        if user.is_platform_admin == grant:
            print(f"{email} {'is already' if grant else 'was not'} a platform administrator")
            return OK
        # Principals are computed on every request: this applies at once.
        user.is_platform_admin = grant
    print(f"{email} {'is now' if grant else 'is no longer'} a platform administrator")
    return OK


if __name__ == "__main__":
    sys.exit(main())

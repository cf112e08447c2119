"""``booking-tenant <ini> create|suspend|reactivate|list``: run the
platform's tenants without the web UI.

- ``create --slug S --name N --owner-email E [--time-zone Z] [--currency C]
  [--language L]``: a tenant and its owner's membership; an owner who has
  no account yet gets one without a password (they choose it with "forgot
  password" on the sign-in page);
- ``suspend SLUG`` / ``reactivate SLUG``: close or reopen a tenant (audited,
  the actor being the system);
- ``list``: every tenant with its status and size, as a table.

Exit status: 0 done, 1 refused (unknown tenant, already suspended…),
2 bad arguments or input. Errors go to stderr, one line each.

Each command is one unit of work (:func:`booking.services.unit_of_work`)
whose services come from the registered factories: the same
``PlatformService`` and ``SignupService`` as ``/admin/`` and the sign-up.
"""

import argparse
import contextlib
import sys

from pyramid.paster import bootstrap, setup_logging

from ..services import tenants, unit_of_work
from ..services.accounts import EMAIL_PATTERN
from ..services.errors import DomainError
from ..services.platform import PlatformService
from ..services.registration import SignupService

OK, REFUSED, BAD_INPUT = 0, 1, 2


def text(message):
    """A message (maybe a ``TranslationString``) in English, values filled in."""
    interpolate = getattr(message, "interpolate", None)
    return interpolate() if interpolate else str(message)


def fail(prog, message, status):
    print(f"{prog}: {text(message)}", file=sys.stderr)
    return status


@contextlib.contextmanager
def app_registry(config_uri):
    """The registry of the app of ``config_uri``, for
    :func:`~booking.services.unit_of_work`; its connections are closed
    when the block ends."""
    setup_logging(config_uri)
    with bootstrap(config_uri) as env:
        registry = env["registry"]
        try:
            yield registry
        finally:
            registry["dbsession_factory"].kw["bind"].dispose()


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="booking-tenant",
                                     description="Create, suspend, reactivate and list tenants.")
    parser.add_argument("config_uri", help="the INI file, e.g. development.ini")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    create = commands.add_parser("create", help="create a tenant and its owner")
    create.add_argument("--slug", required=True, help="the web address: /t/<slug>/")
    create.add_argument("--name", required=True, help="the business's name")
    create.add_argument("--owner-email", required=True, help="the owner (created if new)")
    create.add_argument("--time-zone", default="UTC", help="IANA zone (default: UTC)")
    create.add_argument("--currency", default="EUR", help="ISO 4217 code (default: EUR)")
    create.add_argument("--language", default="en", help="en or fr (default: en)")
    for name, help_text in (("suspend", "close a tenant: public 404, staff read-only"),
                            ("reactivate", "open a suspended tenant again")):
        commands.add_parser(name, help=help_text).add_argument("slug")
    commands.add_parser("list", help="every tenant, with its status and size")
    return parser.parse_args(argv[1:])


def create(args):
    values = {"name": args.name.strip(), "slug": args.slug.strip(),
              "time_zone": args.time_zone.strip(), "currency": args.currency.strip().upper(),
              "locale": args.language.strip()}
    email = args.owner_email.strip().lower()
    with app_registry(args.config_uri) as registry, unit_of_work(registry) as work:
        signup = work.find_service(SignupService)
        problems = signup.problems(values)
        if not EMAIL_PATTERN.match(email) or len(email) > 254:
            problems["owner-email"] = "is not an email address"
        if problems:
            for field, message in sorted(problems.items()):
                print(f"booking-tenant: --{field.replace('_', '-')}: {text(message)}",
                      file=sys.stderr)
            return BAD_INPUT
        tenant, owner, new = signup.create_for_email(values, email)
        print(f"tenant '{tenant.slug}' created, owned by {owner.email}"
              + (" (a new account: they set their password with 'Forgot your password?')"
                 if new else ""))
    return OK


def change_status(args, action, done):
    """``action``: the name of a ``PlatformService`` method taking
    ``(tenant, actor_id)``; the actor is the system (``None``)."""
    with app_registry(args.config_uri) as registry, unit_of_work(registry) as work:
        platform = work.find_service(PlatformService)
        tenant = platform.tenant(args.slug)
        if tenant is None:
            return fail("booking-tenant", f"no tenant '{args.slug}'", REFUSED)
        getattr(platform, action)(tenant, None)
        print(f"tenant '{tenant.slug}' {done}")
    return OK


def list_tenants(args):
    with app_registry(args.config_uri) as registry, unit_of_work(registry) as work:
        platform = work.find_service(PlatformService)
        rows, _total = platform.tenants(limit=None)
        rows = sorted(rows, key=lambda tenant: tenant.slug)
        sizes = platform.sizes([t.id for t in rows])
        table = [("SLUG", "NAME", "STATUS", "ZONE", "CURRENCY", "VENUES", "RESOURCES",
                  f"BOOKINGS/{tenants.RECENT_DAYS}D")]
        for tenant in rows:
            status = tenant.status + (" (deletion requested)" if tenant.deletion_requested_at
                                      else "")
            size = sizes[tenant.id]
            table.append((tenant.slug, tenant.name, status, tenant.time_zone, tenant.currency,
                          str(size["venues"]), str(size["resources"]), str(size["bookings"])))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return OK


def main(argv=sys.argv):
    args = parse_args(argv)
    try:
        if args.command == "create":
            return create(args)
        if args.command == "suspend":
            return change_status(args, "suspend", "suspended")
        if args.command == "reactivate":
            return change_status(args, "reactivate", "reactivated")
        return list_tenants(args)
    except DomainError as exc:
        return fail("booking-tenant", exc, REFUSED)


if __name__ == "__main__":
    sys.exit(main())

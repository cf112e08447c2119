"""``booking-keys``: the keys of the data encrypted at rest.

- ``booking-keys generate [--id ID]`` prints a new key entry
  (``<id>:<base64>``) to put first in ``BOOKING_DATA_KEYS``;
- ``booking-keys rotate <ini> [--batch-size N]`` re-encrypts, under the
  first key, every encrypted value that is under another key or still
  plaintext: in batches, each committed, so an interrupted run is simply
  run again (it continues; a finished one changes nothing);
- ``booking-keys status <ini>`` counts each encrypted column's values by
  key id (``plaintext``: not encrypted yet). Once no value is under an old
  key, that key may be removed from ``BOOKING_DATA_KEYS``.

Exit status: 0 done, 1 failed (a value no key decrypts, no keys), 2 bad arguments.
"""

import argparse
import sys
from datetime import UTC, datetime

from ..crypto import KeyringError, generate_key
from ..services.data_keys import rotate, status
from .tenant import OK, REFUSED, app_registry, fail


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="booking-keys",
                                     description="Keys of the data encrypted at rest.")
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate", help="print a new key entry")
    generate.add_argument("--id", default=None,
                          help="the key id (default: k<YYYYMMDD>, today's date)")
    rotating = commands.add_parser("rotate", help="re-encrypt under the first key")
    rotating.add_argument("config_uri", help="the INI file, e.g. production.ini")
    rotating.add_argument("--batch-size", type=int, default=500, metavar="N",
                          help="values per committed transaction (default 500)")
    counting = commands.add_parser("status", help="count values by key id")
    counting.add_argument("config_uri", help="the INI file, e.g. production.ini")
    args = parser.parse_args(argv[1:])
    if args.command == "rotate" and not 1 <= args.batch_size <= 100000:
        parser.error("--batch-size must be between 1 and 100000")
    return args


def main(argv=sys.argv):
    args = parse_args(argv)
    if args.command == "generate":
        key_id = args.id or datetime.now(UTC).strftime("k%Y%m%d")
        try:
            print(generate_key(key_id))
        except KeyringError as exc:
            return fail("booking-keys", str(exc), 2)
        return OK
    with app_registry(args.config_uri) as registry:
        factory = registry["dbsession_factory"]
        try:
            if args.command == "rotate":
                total = rotate(factory, args.batch_size, report=lambda line: print(line, flush=True))
                print(f"done: {total} value(s) re-encrypted")
            else:
                for place, counts in status(factory).items():
                    listed = ", ".join(f"{key} {count}" for key, count in sorted(counts.items()))
                    print(f"{place}: {listed or 'no rows'}")
        except (KeyringError, RuntimeError) as exc:
            return fail("booking-keys", str(exc), REFUSED)
    return OK


if __name__ == "__main__":
    sys.exit(main())

"""``booking-worker <ini> [--once] [--interval SECONDS] [--batch N]``: send
the outbox, queue due reminders and expire stale holds.

Without ``--once`` it runs a pass every ``--interval`` seconds (default
``booking.worker.interval``); with ``--once`` it runs one pass and exits
(for cron; status 1 if the pass failed). SIGTERM or SIGINT: the message being sent is finished and
recorded, the rest of the batch is given back, and the worker exits with
status 0. Each pass prints one progress line. Several workers may run at
once (on PostgreSQL they never take the same message); see
:mod:`booking.services.delivery` for the delivery guarantee.
"""

import argparse
import logging
import signal
import sys
import threading

from pyramid.paster import bootstrap, setup_logging

from ..services.delivery import Delivery, DeliveryPolicy

log = logging.getLogger(__name__)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="booking-worker",
        description="Send due outbox emails, queue reminders and expire stale holds.",
    )
    parser.add_argument("config_uri", help="the INI file, e.g. development.ini")
    parser.add_argument("--once", action="store_true", help="run one pass, then exit")
    parser.add_argument("--interval", type=float, metavar="SECONDS",
                        help="pause between passes (default: booking.worker.interval)")
    parser.add_argument("--batch", type=int, metavar="N",
                        help="messages claimed at a time (default: booking.worker.batch)")
    args = parser.parse_args(argv[1:])
    if args.interval is not None and args.interval <= 0:
        parser.error("--interval must be positive")
    if args.batch is not None and not 1 <= args.batch <= 1000:
        parser.error("--batch must be between 1 and 1000")
    return args


class Stopper:
    """Turns SIGTERM/SIGINT into a flag read between messages, and wakes the
    pause between passes."""

    def __init__(self):
        self.event = threading.Event()

    def install(self):
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self.handle)

    def handle(self, signum, frame):
        log.info("%s received: finishing the current message", signal.Signals(signum).name)
        self.event.set()

    def __call__(self):
        return self.event.is_set()

    def sleep(self, seconds):
        self.event.wait(seconds)


def main(argv=sys.argv):
    args = parse_args(argv)
    setup_logging(args.config_uri)
    stopper = Stopper()
    stopper.install()
    with bootstrap(args.config_uri) as env:
        # The app's registry: the worker's services and adapters come from
        # the factories the views use, with the same settings.
        registry = env["registry"]
        settings = registry.settings
        delivery = Delivery(registry, DeliveryPolicy.from_settings(settings, batch=args.batch),
                            should_stop=stopper)
        interval = args.interval or settings["booking.worker.interval"]
        while True:
            try:
                report = delivery.run_pass()
            except Exception:
                # The database or the mail system is away: say so, and try
                # again after the pause (cron runs us again with --once).
                log.exception("worker pass failed")
                if args.once:
                    return 1
            else:
                print(report.line(), flush=True)
            if args.once or stopper():
                break
            stopper.sleep(interval)
            if stopper():
                break
    return 0


if __name__ == "__main__":
    sys.exit(main())

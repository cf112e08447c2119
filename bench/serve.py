"""``python -m bench.serve <database-url> <threads>``: serve the app with
waitress on a free loopback port, print the port, serve until killed."""

import logging
import sys

from waitress.server import create_server

from booking import main
from booking.clock import FrozenClock

from .common import NOW


def run(url, threads):
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    app = main({}, **{
        "sqlalchemy.url": url, "sqlalchemy.pool_size": str(threads + 4),
        "booking.secret": "bench-" + "s" * 40, "booking.clock": FrozenClock(NOW),
    })
    server = create_server(app, host="127.0.0.1", port=0, threads=threads,
                           connection_limit=1000)
    print(server.effective_port, flush=True)
    server.run()


if __name__ == "__main__":
    run(sys.argv[1], int(sys.argv[2]))
